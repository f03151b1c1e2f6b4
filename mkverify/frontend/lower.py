"""Lower a pycparser AST of a model to the IR.

Every memory access becomes its own visible instruction (`Load`/`Store`),
every kernel primitive a `Prim`; everything that touches only the thread's
locals is folded into silent instructions. Anything outside the supported C
subset stops with a FrontendError naming the construct and its place.
"""
from __future__ import annotations

from dataclasses import replace

from pycparser import c_ast, c_generator

from .. import ir, kernel
from ..analysis import WORKER  # the function worker threads run (Builder.worker)
from ..diag import FrontendError, SourceLoc, did_you_mean
from ..ir import (INT, UINT, LONG, BOOL, IntT, PtrT, StructT, ArrayT, OpaqueT, VoidT, FuncT,
                  Const, Var, GlobalAddr, FieldAddr, IndexAddr, ContainerOf, Bin, Un, Cast, Deref, Query,
                  Set, Load, Store, Call, Prim, Branch, Jump, Ret, Check, type_str)

_gen = c_generator.CGenerator()

OPAQUE_MARK = "__mkverify_"
ANY_PTR = ir.ANY_PTR

#: C name -> the IR primitive it lowers to; argument kinds and result type are ir.PRIMS's.
#: kzalloc, kref_put and idr_alloc are special calls.
#: the primitives the front end lowers itself (their C form differs from their IR form)
_SPECIAL_PRIMS = ("kzalloc", "kref_put", "kref_put_mutex", "kref_put_lock", "idr_alloc", "synchronize_rcu",
                  "kfree_rcu", "rcu_dereference_check", "rcu_dereference_protected", "init_work", "timer_setup",
                  "call_rcu", "cancel_work_sync", "timer_delete_sync", "deferred_take", "deferred_done",
                  "kobject_put")
PRIM_SIGS = {kernel.cname(d): (name, list(ir.PRIMS[name][0]), ir.PRIMS[name][1]) for name, d in kernel.PRIMS.items()
             if name not in _SPECIAL_PRIMS}
PRIM_SIGS.update({c: PRIM_SIGS[kernel.cname(kernel.PRIMS[prim])] for c, (prim, _) in kernel.C_ALIASES.items()
                  if kernel.cname(kernel.PRIMS[prim]) in PRIM_SIGS})
SPECIAL_CALLS = {"kzalloc", "kmalloc", "kref_put", "kref_put_mutex", "kref_put_lock", "idr_alloc", "BUG_ON",
                 "WARN_ON", "__mkverify_container_of", "__mkverify_array_size", "synchronize_rcu", "kfree_rcu",
                 "rcu_dereference_check", "rcu_dereference_protected", "__mkverify_list_entry",
                 "__mkverify_wait_event", "INIT_WORK", "timer_setup", "call_rcu", "cancel_work_sync",
                 "timer_delete_sync", "flush_work", "__mkverify_from_timer", "kobject_put"}
QUERY_ONLY = {kernel.cname(d) for name, d in kernel.QUERIES.items() if name not in kernel.PRIMS}
#: C name -> how many parameters its C declaration has (trailing ones past the primitive's are ignored)
C_ARITY = {kernel.cname(d): len([a for a in d.c.split("(", 1)[1].rsplit(")", 1)[0].split(",") if a.strip()
                                 and a.strip() != "void"])
           for d in kernel.PRIMS.values() if "(*" not in d.c}
#: what a model may not define itself: allocation (the machine's pools), the assertions, the front end's builtins
UNREPLACEABLE = {"kzalloc", "kmalloc", "BUG_ON", "WARN_ON", "__mkverify_container_of", "__mkverify_array_size",
                 "__mkverify_list_entry", "__mkverify_wait_event"}


def _loc(node, display) -> SourceLoc:
    c = getattr(node, "coord", None)
    if c is None or not c.file:
        # pycparser gives some nodes (compound literals, designators) no coord: use the first part that has one
        if isinstance(node, c_ast.Node):
            for sub in _walk(node):
                c = getattr(sub, "coord", None)
                if c is not None and c.file:
                    return SourceLoc(display(c.file), c.line or 0, c.column or 0)
        return SourceLoc("<model>")
    return SourceLoc(display(c.file), c.line or 0, c.column or 0)


def _src(node) -> str:
    try:
        return _gen.visit(node)
    except Exception:  # pragma: no cover - rendering is best effort
        return type(node).__name__


def arith(a, b):
    """The usual arithmetic conversions, for the widths the model uses."""
    a = a if isinstance(a, IntT) else INT
    b = b if isinstance(b, IntT) else INT
    bits = max(a.bits, b.bits, 32)
    if a.bits == b.bits == bits:
        signed = a.signed and b.signed
    elif a.bits == bits:
        signed = a.signed
    else:
        signed = b.signed
    return IntT(bits, signed)


class Builder:
    """Tables of one translation unit; produces an ir.Program."""

    def __init__(self, ast: c_ast.FileAST, display, prelude_file: str):
        self.display = display
        self.prelude_file = prelude_file
        self.ast = ast
        self.structs: dict[str, ir.StructDef] = {}
        self.opaque: dict[str, str] = {}      # struct tag / typedef name -> opaque kind
        self.typedefs: dict[str, object] = {}
        self.enums: dict[str, tuple[int, str]] = {}
        self.globals: dict[str, ir.GlobalVar] = {}
        self.fdecls: dict[str, tuple] = {}     # name -> (ret, [param types], loc, from prelude)
        self.fdefs: dict[str, c_ast.FuncDef] = {}
        self.functions: list[ir.Function] = []
        self.special: dict[str, object] = {}   # appendix declarations by name
        #: the callbacks of INIT_WORK, timer_setup and call_rcu: name -> (number from 1, item kind)
        self.deferred: dict[str, tuple[int, str]] = {}
        #: the release functions of struct kobj_type initializers: name -> number from 1
        self.kobj_releases: dict[str, int] = {}
        self.release_locs: dict[str, object] = {}
        self._anon = 0

    def loc(self, node) -> SourceLoc:
        return _loc(node, self.display)

    def err(self, node, msg, hint=None):
        raise FrontendError(self.loc(node) if not isinstance(node, SourceLoc) else node, msg, hint)

    def in_prelude(self, node) -> bool:
        c = getattr(node, "coord", None)
        return c is not None and (c.file == self.prelude_file or c.file == kernel.DECLARATIONS_FILE)

    # ------------------------------------------------------------ types

    def ctype(self, node, what="declaration"):
        if isinstance(node, c_ast.TypeDecl):
            return self.ctype(node.type, what)
        if isinstance(node, c_ast.Typename):
            return self.ctype(node.type, what)
        if isinstance(node, c_ast.PtrDecl):
            inner = node.type
            if isinstance(inner, c_ast.FuncDecl):
                self.err(node, "function pointers are not supported (only a kref release callback passed to kref_put)",
                         "call the function directly, or use a flag and an if")
            return PtrT(self.ctype(inner, what))
        if isinstance(node, c_ast.ArrayDecl):
            if node.dim is None:
                self.err(node, "arrays need a constant size")
            n = self.consteval(node.dim)
            if not ir.ARRAY_RANGE[0] <= n <= ir.ARRAY_RANGE[1]:
                self.err(node.dim, f"array size {n} is out of range ({ir.ARRAY_RANGE[0]}..{ir.ARRAY_RANGE[1]})")
            return ArrayT(self.ctype(node.type, what), n)
        if isinstance(node, c_ast.IdentifierType):
            return self.base_type(node)
        if isinstance(node, c_ast.Struct):
            return self.struct_type(node)
        if isinstance(node, c_ast.Union):
            self.err(node, "unions are not supported", "use a struct with the fields the model needs")
        if isinstance(node, c_ast.Enum):
            return self.enum_type(node)
        if isinstance(node, c_ast.FuncDecl):
            self.err(node, "function types are only allowed in function declarations")
        self.err(node, f"unsupported type construct ({type(node).__name__})")

    def base_type(self, node: c_ast.IdentifierType):
        names = [n for n in node.names if n not in ("signed", "const", "volatile")]
        raw = node.names
        if len(names) == 1 and names[0] in self.typedefs:
            return self.typedefs[names[0]]
        if len(names) == 1 and names[0] in self.opaque:
            return OpaqueT(self.opaque[names[0]])
        unsigned = "unsigned" in names
        rest = [n for n in names if n != "unsigned"]
        if "float" in rest or "double" in rest:
            self.err(node, f"floating-point types are not supported ('{' '.join(raw)}')",
                     "use an integer, for example a count in fixed units")
        if rest == ["void"]:
            return VoidT()
        if rest == ["_Bool"]:
            return BOOL
        if rest == ["char"]:
            return IntT(8, not unsigned)
        if rest in (["short"], ["short", "int"]):
            return IntT(16, not unsigned)
        if rest in ([], ["int"]):
            return IntT(32, not unsigned)
        if rest in (["long"], ["long", "int"], ["long", "long"], ["long", "long", "int"]):
            return IntT(64, not unsigned)
        if len(rest) == 1:
            self.err(node, f"unknown type name '{rest[0]}'", did_you_mean(rest[0], list(self.typedefs)))
        self.err(node, f"unsupported type '{' '.join(raw)}'")

    def struct_type(self, node: c_ast.Struct):
        name = node.name
        if node.decls is not None:
            if not name:
                self._anon += 1
                name = f"__anon{self._anon}"
            if len(node.decls) == 1 and node.decls[0].name and node.decls[0].name.startswith(OPAQUE_MARK):
                kind = node.decls[0].name[len(OPAQUE_MARK):]
                self.opaque[name] = kind
                return OpaqueT(kind)
            if name in self.opaque:
                self.err(node, f"struct {name} is a kernel primitive of the prelude; a model cannot redefine it",
                         "rename the struct, or use the prelude's")
            fields = []
            seen = set()
            for d in node.decls:
                if d.name is None:
                    self.err(d, "anonymous struct members are not supported")
                if d.bitsize is not None:
                    self.err(d, "bit-field members are not supported", "use a plain integer field")
                if d.name in seen:
                    self.err(d, f"duplicate member '{d.name}'")
                seen.add(d.name)
                t = self.ctype(d.type)
                if isinstance(t, VoidT):
                    self.err(d, f"member '{d.name}' has type void")
                fields.append(ir.Field(d.name, t, self.loc(d)))
            sd = ir.StructDef(name, tuple(fields), self.loc(node))
            old = self.structs.get(name)
            if old is not None and old.fields != sd.fields:
                self.err(node, f"struct {name} is defined twice, differently (first at {old.loc})")
            self.structs[name] = sd
            return StructT(name)
        if name in self.opaque:
            return OpaqueT(self.opaque[name])
        return StructT(name)

    def enum_type(self, node: c_ast.Enum):
        name = node.name or "anonymous"
        if node.values is not None:
            nxt = 0
            for en in node.values.enumerators:
                if en.value is not None:
                    nxt = self.consteval(en.value)
                if en.name in self.enums and self.enums[en.name] != (nxt, name):
                    self.err(en, f"enumerator {en.name} is defined twice")
                self.enums[en.name] = (nxt, name)
                nxt += 1
        return IntT(32, True, name)

    def consteval(self, node) -> int:
        """An integer constant expression (array sizes, enum values, initializers, domains)."""
        if isinstance(node, c_ast.Constant):
            return self.int_literal(node)
        if isinstance(node, c_ast.ID):
            if node.name in self.enums:
                return self.enums[node.name][0]
            self.err(node, f"'{node.name}' is not a constant", did_you_mean(node.name, list(self.enums)))
        if isinstance(node, c_ast.UnaryOp):
            if node.op == "sizeof":
                self.err(node, "sizeof is only supported as the size argument of kzalloc")
            v = self.consteval(node.expr)
            ops = {"-": lambda x: -x, "+": lambda x: x, "~": lambda x: ~x, "!": lambda x: int(not x)}
            if node.op not in ops:
                self.err(node, f"operator {node.op} is not allowed in a constant")
            return ops[node.op](v)
        if isinstance(node, c_ast.BinaryOp):
            a, b = self.consteval(node.left), self.consteval(node.right)
            try:
                return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
                        "/": lambda: int(a / b), "%": lambda: a - int(a / b) * b,
                        "<<": lambda: a << b, ">>": lambda: a >> b, "&": lambda: a & b, "|": lambda: a | b,
                        "^": lambda: a ^ b, "==": lambda: int(a == b), "!=": lambda: int(a != b),
                        "<": lambda: int(a < b), "<=": lambda: int(a <= b), ">": lambda: int(a > b),
                        ">=": lambda: int(a >= b), "&&": lambda: int(bool(a and b)),
                        "||": lambda: int(bool(a or b))}[node.op]()
            except ZeroDivisionError:
                self.err(node, "division by zero in a constant")
            except (KeyError, ValueError):
                self.err(node, f"operator {node.op} is not allowed in a constant")
        if isinstance(node, c_ast.Cast):
            v = self.consteval(node.expr)
            t = self.ctype(node.to_type)
            return _wrap(v, t) if isinstance(t, IntT) else v
        if isinstance(node, c_ast.TernaryOp):
            return self.consteval(node.iftrue) if self.consteval(node.cond) else self.consteval(node.iffalse)
        self.err(node, f"expected an integer constant, found {_src(node)!r}")

    def int_literal(self, node: c_ast.Constant) -> int:
        v = node.value
        if node.type in ("char", "wchar", "u8char", "char16", "char32"):
            body = v[v.index("'") + 1:-1]
            try:
                chars = body.encode("latin-1", "backslashreplace").decode("unicode_escape")
            except UnicodeDecodeError:
                chars = ""
            if len(chars) != 1:
                self.err(node, f"malformed character constant {v}", "write one character, or its number")
            return ord(chars)
        if node.type == "string":
            self.err(node, "string literals are not supported here")
        if node.type in ("float", "double"):
            self.err(node, "floating-point numbers are not supported")
        text = v.rstrip("uUlL")
        try:
            if text.lower().startswith("0x"):
                n = int(text, 16)
            elif text.lower().startswith("0b"):
                n = int(text, 2)
            elif len(text) > 1 and text.startswith("0"):
                n = int(text, 8)
            else:
                n = int(text)
        except ValueError:
            self.err(node, f"malformed integer constant {v!r}")
        if n >= 1 << 64:
            self.err(node, f"integer constant {v} does not fit in 64 bits")
        return n

    def literal_type(self, node: c_ast.Constant, value: int):
        suffix = node.value.lower()
        unsigned = "u" in suffix[-3:] and not suffix.startswith("0x") or suffix.endswith(("u", "ul", "ull", "lu", "llu"))
        long = suffix.endswith(("l", "lu", "ul", "ll", "ull", "llu"))
        if long or value > 0xFFFFFFFF:
            return IntT(64, not unsigned)
        if unsigned or value > 0x7FFFFFFF:
            return IntT(32, False)
        return INT

    # ------------------------------------------------------------ top level

    def collect(self):
        for ext in self.ast.ext:
            if isinstance(ext, c_ast.Typedef):
                t = self.ctype(ext.type)
                self.typedefs[ext.name] = t
                if isinstance(t, OpaqueT):
                    self.opaque.setdefault(ext.name, t.kind)
            elif isinstance(ext, c_ast.Decl):
                self.top_decl(ext)
            elif isinstance(ext, c_ast.FuncDef):
                d = ext.decl
                if d.name in UNREPLACEABLE or d.name in QUERY_ONLY:
                    self.err(ext, f"'{d.name}' is a kernel primitive of the prelude; a model cannot redefine it",
                             "rename the function, or use the primitive as it is")
                # any other primitive a model defines is replaced by the model's function (a model written
                # before mkverify knew the name keeps its own stub)
                if not isinstance(d.type, c_ast.FuncDecl):
                    # pycparser reads 'static s { ... }' as a definition of s without a parameter list
                    self.err(ext, f"'{d.name}' is defined with a body but no parameter list",
                             f"write {d.name}(void) or {d.name}(parameters)")
                self.func_decl(d, has_body=True)
                if d.name in self.fdefs:
                    self.err(ext, f"function {d.name} is defined twice (first at {self.loc(self.fdefs[d.name])})")
                self.fdefs[d.name] = ext
            elif isinstance(ext, c_ast.Pragma):
                continue
            else:
                self.err(ext, f"unsupported top-level construct ({type(ext).__name__})")

    def top_decl(self, d: c_ast.Decl):
        if isinstance(d.type, c_ast.FuncDecl):
            self.func_decl(d, has_body=False)
            return
        if d.name is None:
            self.ctype(d.type)  # a struct/enum definition on its own
            return
        if "extern" in d.storage and d.init is None:
            self.ctype(d.type)
            if d.name.startswith("__mkverify_"):
                return
        if d.name.startswith("__mkverify_domain_") or d.name.startswith("__mkverify_expr_"):
            self.special[d.name] = d
            return
        t = self.ctype(d.type)
        if isinstance(t, VoidT):
            self.err(d, f"variable '{d.name}' has type void")
        if d.name in self.globals:
            if d.init is not None and self.globals[d.name].init:
                self.err(d, f"global '{d.name}' is defined twice")
        init = self.global_init(t, d.init) if d.init is not None else ()
        if d.name not in self.globals or init:
            self.globals[d.name] = ir.GlobalVar(d.name, t, init, self.loc(d))

    def ktype_init(self, node, base) -> tuple:
        """A struct kobj_type initializer: its `.release = fn` is the release kobject_put calls (the cell
        holds fn's number); the other members (sysfs_ops, default_groups, ...) mean nothing here."""
        for pos, e in enumerate(node.exprs):
            if not isinstance(e, c_ast.NamedInitializer) and pos == 0:  # release is the first member
                e = c_ast.NamedInitializer([c_ast.ID("release")], e, e.coord)
            if isinstance(e, c_ast.NamedInitializer) and len(e.name) == 1 and \
                    isinstance(e.name[0], c_ast.ID) and e.name[0].name == "release":
                fn = e.expr.expr if isinstance(e.expr, c_ast.UnaryOp) and e.expr.op == "&" else e.expr
                if not isinstance(fn, c_ast.ID) or fn.name not in self.fdecls or self.fdecls[fn.name][3]:
                    self.err(e.expr, "a kobj_type's release must name a function of the model, of type "
                                     "void f(struct kobject *)",
                             did_you_mean(fn.name, self.fdecls) if isinstance(fn, c_ast.ID) else None)
                ret, ptypes, dloc, _ = self.fdecls[fn.name]
                if len(ptypes) != 1 or ptypes[0] != PtrT(OpaqueT("kobject")) or not isinstance(ret, VoidT):
                    self.err(e.expr, f"type error: release function {fn.name} must return void and take one "
                                     f"struct kobject * "
                                     f"argument, not ({', '.join(type_str(t) for t in ptypes) or 'void'})",
                             f"define it (at {dloc}) as void {fn.name}(struct kobject *kobj) and find the object "
                             f"with container_of(kobj, struct ..., <member>)")
                num = self.kobj_releases.setdefault(fn.name, len(self.kobj_releases) + 1)
                self.release_locs.setdefault(fn.name, e.expr)
                return ((base, num),)
        return ()

    def global_init(self, t, node, base=0) -> tuple:
        """(cell offset, value) pairs of a constant initializer."""
        out = []
        if isinstance(node, c_ast.InitList):
            if t == OpaqueT("ktype"):
                return self.ktype_init(node, base)
            if isinstance(t, OpaqueT):
                if node.exprs:
                    v = self.consteval(node.exprs[0])
                    if v:
                        out.append((base, v))
                return tuple(out)
            if isinstance(t, ArrayT):
                esz = self._size(t.elem)
                if len(node.exprs) > t.n:
                    self.err(node, f"too many initializers for an array of {t.n}")
                for k, e in enumerate(node.exprs):
                    if isinstance(e, c_ast.NamedInitializer):
                        self.err(e, "designated initializers for arrays ([i] = ...) are not supported",
                                 "list the elements in order")
                    out += self.global_init(t.elem, e, base + k * esz)
                return tuple(out)
            if isinstance(t, StructT):
                sd = self.structs.get(t.name)
                if sd is None:
                    self.err(node, f"struct {t.name} is not defined")
                pos = 0
                for e in node.exprs:
                    if isinstance(e, c_ast.NamedInitializer):
                        if len(e.name) != 1 or not isinstance(e.name[0], c_ast.ID):
                            self.err(e, "only simple designators (.member = ...) are supported")
                        fname = e.name[0].name
                        names = [f.name for f in sd.fields]
                        if fname not in names:
                            self.err(e, f"struct {t.name} has no member '{fname}'", did_you_mean(fname, names))
                        pos = names.index(fname)
                        e = e.expr
                    if pos >= len(sd.fields):
                        self.err(e, f"too many initializers for struct {t.name}")
                    f = sd.fields[pos]
                    out += self.global_init(f.type, e, base + self._offset(t.name, f.name))
                    pos += 1
                return tuple(out)
            if len(node.exprs) == 1:
                return self.global_init(t, node.exprs[0], base)
            self.err(node, "braces around a scalar initializer")
        if isinstance(t, PtrT):
            if isinstance(node, c_ast.Cast) or isinstance(node, c_ast.Constant):
                if self.consteval(node) == 0:
                    return ()
            self.err(node, "pointer globals can only be initialized to NULL", "set the pointer in an init entry point")
        if isinstance(t, IntT):
            v = _wrap(self.consteval(node), t)
            return ((base, v),) if v else ()
        self.err(node, f"cannot initialize a {type_str(t)} this way")

    def _size(self, t) -> int:
        if isinstance(t, (IntT, PtrT)):
            return 1
        if isinstance(t, OpaqueT):
            return -1 if t.kind in ("idr", "xarray") else 1
        if isinstance(t, ArrayT):
            return t.n * self._size(t.elem)
        if isinstance(t, StructT):
            return sum(self._size(f.type) for f in self.structs[t.name].fields)
        return 1

    def _offset(self, struct, field) -> int:
        off = 0
        for f in self.structs[struct].fields:
            if f.name == field:
                return off
            off += self._size(f.type)
        raise KeyError(field)

    def func_decl(self, d: c_ast.Decl, has_body: bool):
        fd = d.type
        ret = self.ctype(fd.type)
        params = []
        if fd.args is not None:
            for p in fd.args.params:
                if isinstance(p, c_ast.EllipsisParam):
                    if self.in_prelude(d):
                        continue
                    self.err(p, f"variadic functions are not supported ({d.name})", "give the function fixed parameters")
                if isinstance(p, c_ast.Typename) and isinstance(p.type, c_ast.TypeDecl) and \
                        isinstance(p.type.type, c_ast.IdentifierType) and p.type.type.names == ["void"]:
                    continue
                if isinstance(p, c_ast.ID):
                    self.err(p, "K&R-style parameter lists are not supported")
                ptype = p.type
                if isinstance(ptype, c_ast.PtrDecl) and isinstance(ptype.type, c_ast.FuncDecl):
                    params.append(FuncT("callback"))
                    if not self.in_prelude(d):
                        self.err(p, "function pointer parameters are not supported",
                                 "only kref_put takes a release callback")
                    continue
                t = self.ctype(ptype)
                if isinstance(t, ArrayT):
                    t = PtrT(t.elem)
                params.append(t)
        self.fdecls.setdefault(d.name, (ret, params, self.loc(d), self.in_prelude(d)))
        if has_body:
            self.fdecls[d.name] = (ret, params, self.loc(d), False)

    # ------------------------------------------------------------ program

    def build(self, name: str) -> list[ir.Function]:
        self.collect()
        for fname, fdef in self.fdefs.items():
            if fname.startswith("__mkverify_expr_"):
                continue
            if self.in_prelude(fdef):
                continue
            self.functions.append(FunctionLowerer(self, fdef).lower())
        if self.deferred:
            self.functions.append(self.worker())
        return self.functions

    def worker(self) -> ir.Function:
        """`__mkverify_worker(item)`, what a worker thread runs on an item it started (machine.py): take it,
        call its callback by number (an RCU callback after its grace period), be done."""
        loc = SourceLoc(kernel.DECLARATIONS_FILE, 1, 1)
        vp = PtrT(VoidT())
        item, fn = Var(0, vp, loc), Var(1, INT, loc)
        body = [Prim(1, "deferred_take", (item,), None, "the worker takes the item", loc)]
        done = None
        calls = []
        for name, (num, kind) in sorted(self.deferred.items(), key=lambda kv: kv[1][0]):
            at = len(body)
            body.append(Branch(Bin("==", fn, Const(num, INT, loc), INT, loc), at + 1, None, loc))
            if kind == "rcu_head":
                body.append(Prim(-1, "synchronize_rcu_wait", (), None, "the grace period of call_rcu", loc))
            body.append(Call(-1, name, (Cast(item, PtrT(OpaqueT(kind)), loc),), loc))
            calls.append(len(body))
            body.append(None)  # the jump to done
        done = len(body)
        body.append(Prim(-1, "deferred_done", (item,), None, "the worker is done with the item", loc))
        body.append(Ret(None, loc))
        out = []
        for k, ins in enumerate(body):
            if ins is None:
                ins = Jump(done, loc)
            elif isinstance(ins, Branch) and ins.other is None:
                nxt = next(j for j in range(k + 1, len(body)) if isinstance(body[j], Branch) or j == done)
                ins = Branch(ins.cond, ins.then, nxt, loc)
            out.append(ins)
        return ir.Function(WORKER, 1, (ir.LocalVar("item", vp, loc), ir.LocalVar("fn", INT, loc)), VoidT(),
                           tuple(out), loc)


def _wrap(v: int, t: IntT) -> int:
    if t.bits == 1:
        return int(v != 0)
    mask = (1 << t.bits) - 1
    v &= mask
    if t.signed and v >> (t.bits - 1):
        v -= 1 << t.bits
    return v


class _Label:
    __slots__ = ("pc",)

    def __init__(self):
        self.pc = None


class FunctionLowerer:
    """Lowers one function body (or one invariant expression, with `invariant=True`)."""

    def __init__(self, b: Builder, fdef: c_ast.FuncDef, invariant: bool = False):
        self.b = b
        self.fdef = fdef
        self.invariant = invariant
        self.name = fdef.decl.name
        self.ret, self.ptypes, _, _ = b.fdecls[self.name]
        self.locals: list[ir.LocalVar] = []
        self.scopes: list[dict] = [{}]
        self.code: list = []
        self.labels: dict[str, _Label] = {}
        self.label_uses: list = []
        self.loops: list = []  # (break label, continue label or None)
        self.tmp = 0

    def err(self, node, msg, hint=None):
        self.b.err(node, msg, hint)

    def loc(self, node):
        return self.b.loc(node)

    # ------------------------------------------------------------ plumbing

    def new_local(self, name, t, node) -> int:
        self.locals.append(ir.LocalVar(name, t, self.loc(node)))
        return len(self.locals) - 1

    def temp(self, t, node) -> int:
        self.tmp += 1
        return self.new_local(f"$t{self.tmp}", t, node)

    def emit(self, ins):
        self.code.append(ins)

    def place(self, label: _Label):
        label.pc = len(self.code)

    def lookup(self, name):
        for s in reversed(self.scopes):
            if name in s:
                return s[name]
        return None

    def lower(self) -> ir.Function:
        decl = self.fdef.decl
        fd = decl.type
        if fd.args is not None:
            params = [p for p in fd.args.params if not _is_void_param(p) and not isinstance(p, c_ast.EllipsisParam)]
            for p, t in zip(params, self.ptypes):
                if getattr(p, "name", None) is None:
                    self.err(p, f"parameter {params.index(p) + 1} of {self.name} has no name",
                             "a function definition names each of its parameters")
                if isinstance(t, (StructT, OpaqueT)):
                    self.err(p, f"parameter '{p.name}' passes a {type_str(t)} by value", "pass a pointer")
                if p.name is None:
                    self.err(p, "unnamed parameter")
                self.scopes[0][p.name] = self.new_local(p.name, t, p)
        nparams = len(self.locals)
        self.stmt(self.fdef.body)
        end = self.loc(self.fdef.body)
        # falling off the end returns (for a non-void function C leaves the value undefined; we return 0)
        self.emit(Ret(None if isinstance(self.ret, VoidT) else Const(0, self.ret, end), end))
        for node, lab in self.label_uses:
            if lab.pc is None:
                self.err(node, f"goto to undefined label '{node.name}'")
        body = tuple(self._resolve(i) for i in self.code)
        return ir.Function(self.name, nparams, tuple(self.locals), self.ret, body, self.loc(decl))

    def new_label(self) -> _Label:
        return _Label()

    def _resolve(self, i):
        if isinstance(i, Branch):
            return replace(i, then=i.then.pc, other=i.other.pc)
        if isinstance(i, Jump):
            return replace(i, target=i.target.pc)
        return i

    # ------------------------------------------------------------ statements

    def stmt(self, node):
        if isinstance(node, _EXPR_STMTS):
            self.effect(node)
            return
        m = getattr(self, "s_" + type(node).__name__, None)
        if m is None:
            self.err(node, f"unsupported statement ({type(node).__name__})")
        m(node)

    def s_Compound(self, node):
        self.scopes.append({})
        for item in node.block_items or []:
            self.stmt(item)
        self.scopes.pop()

    def s_EmptyStatement(self, node):
        pass

    def s_Decl(self, node):
        if isinstance(node.type, c_ast.FuncDecl):
            self.err(node, "function declarations inside a function are not supported")
        if "static" in node.storage:
            self.err(node, f"static local variable '{node.name}' is not supported", "make it a global")
        if node.name is None:
            self.b.ctype(node.type)
            return
        t = self.b.ctype(node.type)
        if isinstance(t, (StructT, ArrayT, OpaqueT)):
            self.err(node, f"local variable '{node.name}' of type {type_str(t)} is not supported",
                     "only int, enum, bool and pointer locals are; allocate the object with kzalloc or use a global")
        if isinstance(t, VoidT):
            self.err(node, f"variable '{node.name}' has type void")
        idx = self.new_local(node.name, t, node)
        self.scopes[-1][node.name] = idx  # in scope from its declarator on: `p = kzalloc(sizeof(*p), ...)`
        if node.init is not None:
            if isinstance(node.init, c_ast.InitList):
                self.err(node.init, "brace initializers are not supported for locals")
            e, et = self.rvalue(node.init)
            self.emit(Set(idx, self.convert(e, et, t, node.init), self.loc(node)))
        else:
            self.emit(Set(idx, Const(0, t), self.loc(node)))

    def s_DeclList(self, node):
        for d in node.decls:
            self.s_Decl(d)

    def s_Typedef(self, node):
        self.b.typedefs[node.name] = self.b.ctype(node.type)

    def s_Return(self, node):
        loc = self.loc(node)
        if node.expr is None:
            if not isinstance(self.ret, VoidT):
                self.err(node, f"'return' with no value in function returning {type_str(self.ret)}")
            self.emit(Ret(None, loc))
            return
        e, t = self.rvalue(node.expr)
        if isinstance(self.ret, VoidT):
            if isinstance(t, VoidT):
                self.emit(Ret(None, loc))
                return
            self.err(node, "'return' with a value in a void function")
        self.emit(Ret(self.convert(e, t, self.ret, node.expr), loc))

    def s_If(self, node):
        then, other, end = self.new_label(), self.new_label(), self.new_label()
        self.cond(node.cond, then, other)
        self.place(then)
        if node.iftrue is not None:
            self.stmt(node.iftrue)
        self.emit(Jump(end, self.loc(node)))
        self.place(other)
        if node.iffalse is not None:
            self.stmt(node.iffalse)
        self.emit(Jump(end, self.loc(node)))
        self.place(end)

    def _check_bounded(self, node, cond, body):
        always = cond is None
        if cond is not None:
            try:
                always = self.b.consteval(cond) != 0
            except FrontendError:
                always = False
        if always and not _can_leave(body):
            self.err(node, "unbounded loop: the condition is always true and nothing leaves the loop",
                     "add a condition, a break, a return or a goto out of the loop")

    def s_While(self, node):
        self._check_bounded(node, node.cond, node.stmt)
        top, body, end = self.new_label(), self.new_label(), self.new_label()
        self.place(top)
        self.cond(node.cond, body, end)
        self.place(body)
        self.loops.append((end, top))
        self.stmt(node.stmt)
        self.loops.pop()
        self.emit(Jump(top, self.loc(node)))
        self.place(end)

    def s_DoWhile(self, node):
        self._check_bounded(node, node.cond, node.stmt)
        top, cont, end = self.new_label(), self.new_label(), self.new_label()
        self.place(top)
        self.loops.append((end, cont))
        self.stmt(node.stmt)
        self.loops.pop()
        self.place(cont)
        self.cond(node.cond, top, end)
        self.place(end)

    def s_For(self, node):
        self._check_bounded(node, node.cond, node.stmt)
        self.scopes.append({})
        if node.init is not None:
            if isinstance(node.init, c_ast.DeclList):
                self.s_DeclList(node.init)
            else:
                self.effect(node.init)
        top, body, cont, end = self.new_label(), self.new_label(), self.new_label(), self.new_label()
        self.place(top)
        if node.cond is not None:
            self.cond(node.cond, body, end)
        self.place(body)
        self.loops.append((end, cont))
        self.stmt(node.stmt)
        self.loops.pop()
        self.place(cont)
        if node.next is not None:
            self.effect(node.next)
        self.emit(Jump(top, self.loc(node)))
        self.place(end)
        self.scopes.pop()

    def s_Break(self, node):
        if not self.loops:
            self.err(node, "'break' outside a loop or switch")
        self.emit(Jump(self.loops[-1][0], self.loc(node)))

    def s_Continue(self, node):
        target = next((c for _, c in reversed(self.loops) if c is not None), None)
        if target is None:
            self.err(node, "'continue' outside a loop")
        self.emit(Jump(target, self.loc(node)))

    def s_Goto(self, node):
        lab = self.labels.setdefault(node.name, self.new_label())
        self.label_uses.append((node, lab))
        self.emit(Jump(lab, self.loc(node)))

    def s_Label(self, node):
        lab = self.labels.setdefault(node.name, self.new_label())
        if lab.pc is not None:
            self.err(node, f"label '{node.name}' is defined twice")
        self.place(lab)
        if node.stmt is not None:
            self.stmt(node.stmt)

    def s_Switch(self, node):
        e, t = self.rvalue(node.cond)
        if not isinstance(t, IntT):
            self.err(node.cond, f"switch on a {type_str(t)}")
        v = self.temp(t, node)
        self.emit(Set(v, e, self.loc(node)))
        items = node.stmt.block_items if isinstance(node.stmt, c_ast.Compound) else [node.stmt]
        items = items or []
        end = self.new_label()
        case_labels = []
        default = None
        for it in items:
            if isinstance(it, c_ast.Case):
                case_labels.append((it, self.new_label()))
            elif isinstance(it, c_ast.Default):
                default = self.new_label()
                case_labels.append((it, default))
            else:
                self.err(it, "statements in a switch must follow a case label")
        seen = {}
        for it, lab in case_labels:
            if isinstance(it, c_ast.Case):
                nxt = self.new_label()
                cv = self.b.consteval(it.expr)
                if cv in seen:
                    self.err(it, f"duplicate case value {cv} (first at {seen[cv]})")
                seen[cv] = self.loc(it)
                self.emit(Branch(Bin("==", Var(v, t), Const(cv, t), INT), lab, nxt, self.loc(it)))
                self.place(nxt)
        self.emit(Jump(default or end, self.loc(node)))
        self.loops.append((end, None))
        for it, lab in case_labels:
            self.place(lab)
            for s in it.stmts or []:
                self.stmt(s)
        self.loops.pop()
        self.emit(Jump(end, self.loc(node)))
        self.place(end)

    def s_Case(self, node):
        self.err(node, "'case' outside a switch")

    def s_Default(self, node):
        self.err(node, "'default' outside a switch")

    def s_Pragma(self, node):
        pass

    def s_FuncDef(self, node):
        self.err(node, "nested functions are not supported")

    def effect(self, node):
        """An expression evaluated for its side effects."""
        if isinstance(node, c_ast.ExprList):
            for e in node.exprs:
                self.effect(e)
            return
        self.rvalue(node, discard=True)

    # ------------------------------------------------------------ conditions

    def cond(self, node, t: _Label, f: _Label):
        """Branch to t when node is non-zero, else to f (short-circuit)."""
        if isinstance(node, c_ast.BinaryOp) and node.op in ("&&", "||"):
            mid = self.new_label()
            if node.op == "&&":
                self.cond(node.left, mid, f)
            else:
                self.cond(node.left, t, mid)
            self.place(mid)
            self.cond(node.right, t, f)
            return
        if isinstance(node, c_ast.UnaryOp) and node.op == "!":
            self.cond(node.expr, f, t)
            return
        e, ty = self.rvalue(node)
        self.emit(Branch(self.truth(e, ty, node), t, f, self.loc(node)))

    def truth(self, e, t, node):
        if isinstance(t, PtrT):
            return Bin("!=", e, Const(0, t), INT, self.loc(node))
        if isinstance(t, IntT):
            return e
        self.err(node, f"a {type_str(t)} cannot be used as a condition")

    # ------------------------------------------------------------ conversions

    def convert(self, e, src, dst, node):
        """Implicit conversion for assignment, argument passing and return."""
        if isinstance(src, VoidT) and not isinstance(dst, VoidT):
            self.err(node, f"type error: a void expression has no value to use as {type_str(dst)}")
        if isinstance(src, FuncT):
            self.err(node, f"type error: function {src.name} used as a value of type {type_str(dst)}",
                     "function pointers are not supported (only a kref release callback passed to kref_put)")
        if isinstance(dst, IntT):
            if isinstance(src, IntT):
                if src.bits == dst.bits and src.signed == dst.signed:
                    return e
                if isinstance(e, Const):
                    return Const(_wrap(e.value, dst), dst, e.loc)
                return Cast(e, dst, self.loc(node))
            if isinstance(src, PtrT) and dst.bits == 1:
                return Bin("!=", e, Const(0, src), BOOL, self.loc(node))
            self.err(node, f"type error: cannot convert {type_str(src)} to {type_str(dst)}",
                     "pointers and integers do not mix in models")
        if isinstance(dst, PtrT):
            if isinstance(src, PtrT):
                if src == dst or isinstance(src.target, VoidT) or isinstance(dst.target, VoidT):
                    return e if src == dst else Cast(e, dst, self.loc(node))
                self.err(node, f"type error: incompatible pointer types: {type_str(src)} assigned to {type_str(dst)}",
                         "cast explicitly if this is really meant")
            if isinstance(src, IntT) and isinstance(e, Const) and e.value == 0:
                return Const(0, dst, e.loc)
            self.err(node, f"type error: cannot convert {type_str(src)} to {type_str(dst)}",
                     "pointers and integers do not mix in models")
        if isinstance(dst, VoidT):
            return e
        self.err(node, f"type error: cannot assign a {type_str(src)} to a {type_str(dst)}",
                 "struct assignment is not supported; copy the fields one by one")

    # ------------------------------------------------------------ lvalues

    def lvalue(self, node):
        """('local', index, type) or ('mem', address expression, type)."""
        loc = self.loc(node)
        if isinstance(node, c_ast.ID):
            idx = self.lookup(node.name)
            if idx is not None:
                return ("local", idx, self.locals[idx].type)
            g = self.b.globals.get(node.name)
            if g is not None:
                return ("mem", GlobalAddr(g.name, PtrT(g.type), loc), g.type)
            self.unknown(node)
        if isinstance(node, c_ast.StructRef):
            if node.type == "->":
                base, bt = self.rvalue(node.name)
                if not isinstance(bt, PtrT):
                    self.err(node, f"type error: '->' applied to a {type_str(bt)}, not a pointer")
                st = bt.target
            else:
                kind, base, st = self.lvalue(node.name)
                if kind != "mem":
                    self.err(node, "'.' on a local is not supported (locals are scalars)")
            if not isinstance(st, StructT):
                self.err(node, f"type error: member access on a {type_str(st)}, not a struct")
            sd = self.b.structs.get(st.name)
            if sd is None:
                self.err(node, f"struct {st.name} is incomplete (declared but never defined)")
            fname = node.field.name
            f = sd.field(fname)
            if f is None:
                self.err(node.field, f"struct {st.name} has no member named '{fname}'",
                         did_you_mean(fname, [x.name for x in sd.fields]))
            return ("mem", FieldAddr(base, st.name, fname, PtrT(f.type), loc), f.type)
        if isinstance(node, c_ast.ArrayRef):
            kind, base, at = self.lvalue(node.name) if not self._is_pointer_expr(node.name) else (None, None, None)
            if kind != "mem" or not isinstance(at, ArrayT):
                self.err(node, "indexing is only supported on arrays (not on pointers or locals)",
                         "declare the table as a global or member array")
            idx, it = self.rvalue(node.subscript)
            if not isinstance(it, IntT):
                self.err(node.subscript, f"type error: array index of type {type_str(it)}")
            return ("mem", IndexAddr(base, idx, PtrT(at.elem), loc), at.elem)
        if isinstance(node, c_ast.UnaryOp) and node.op == "*":
            p, pt = self.rvalue(node.expr)
            if not isinstance(pt, PtrT):
                self.err(node, f"type error: '*' applied to '{_src(node.expr)}' of type {type_str(pt)}, "
                               f"which is not a pointer", f"drop the '*', or declare '{_src(node.expr)}' as a pointer")
            if isinstance(pt.target, VoidT):
                self.err(node, "dereference of a void pointer")
            return ("mem", p, pt.target)
        if isinstance(node, c_ast.CompoundLiteral):
            self.err(node, "compound literals are not supported")
        self.err(node, f"expression is not assignable: {_src(node)}")

    def _is_pointer_expr(self, node):
        if isinstance(node, c_ast.ID):
            idx = self.lookup(node.name)
            return idx is not None and isinstance(self.locals[idx].type, PtrT)
        return False

    def unknown(self, node):
        if node.name in self.b.fdecls:
            self.err(node, f"'{node.name}' is a function, not a variable",
                     "function pointers are not supported (only a kref release callback passed to kref_put)")
        names = [n for s in self.scopes for n in s] + list(self.b.globals) + list(self.b.enums) + list(self.b.fdecls)
        self.err(node, f"unknown identifier '{node.name}'", did_you_mean(node.name, names))

    def read(self, lv, node):
        """The value of an lvalue: a Var, or a Load into a temp (or Deref in invariants)."""
        kind, where, t = lv
        if kind == "local":
            return Var(where, t, self.loc(node)), t
        if isinstance(t, ArrayT):  # an array decays to a pointer to its first element
            return _retype(where, PtrT(t.elem)), PtrT(t.elem)
        if isinstance(t, (StructT, OpaqueT)):
            self.err(node, f"a {type_str(t)} cannot be used as a value", "take its address with &")
        if self.invariant:
            return Deref(where, t, self.loc(node)), t
        tmp = self.temp(t, node)
        self.emit(Load(tmp, where, t, f"read {_src(node)}", self.loc(node)))
        return Var(tmp, t, self.loc(node)), t

    def write(self, lv, value, vt, node, text):
        kind, where, t = lv
        if isinstance(t, (StructT, ArrayT, OpaqueT)):
            self.err(node, f"cannot assign to a {type_str(t)}", "assign its members one by one")
        v = self.convert(value, vt, t, node)
        if kind == "local":
            self.emit(Set(where, v, self.loc(node)))
        else:
            if self.invariant:
                self.err(node, "invariants cannot assign")
            self.emit(Store(where, v, t, text, self.loc(node)))
        return v, t

    # ------------------------------------------------------------ rvalues

    def rvalue(self, node, discard=False):
        """(pure expression, type); loads and calls are emitted as instructions."""
        loc = self.loc(node)
        if isinstance(node, c_ast.Constant):
            v = self.b.int_literal(node)
            return Const(v, self.b.literal_type(node, v), loc), self.b.literal_type(node, v)
        if isinstance(node, c_ast.ID):
            if self.lookup(node.name) is None and node.name not in self.b.globals:
                if node.name in self.b.enums:
                    v, en = self.b.enums[node.name]
                    return Const(v, IntT(32, True, en), loc), IntT(32, True, en)
                if node.name in self.b.fdecls:
                    return Const(0, FuncT(node.name), loc), FuncT(node.name)
                self.unknown(node)
            return self.read(self.lvalue(node), node)
        if isinstance(node, (c_ast.StructRef, c_ast.ArrayRef)):
            return self.read(self.lvalue(node), node)
        if isinstance(node, c_ast.Assignment):
            lv = self.lvalue(node.lvalue)
            text = _src(node)
            if node.op == "=":
                v, vt = self.rvalue(node.rvalue)
                return self.write(lv, v, vt, node, text)
            op = node.op[:-1]
            cur, ct = self.read(lv, node.lvalue)
            rhs, rt = self.rvalue(node.rvalue)
            res, restype = self.binop(op, cur, ct, rhs, rt, node)
            return self.write(lv, res, restype, node, text)
        if isinstance(node, c_ast.UnaryOp):
            return self.unary(node, discard)
        if isinstance(node, c_ast.BinaryOp):
            if node.op in ("&&", "||"):
                return self.logical(node)
            a, at = self.rvalue(node.left)
            b, bt = self.rvalue(node.right)
            return self.binop(node.op, a, at, b, bt, node)
        if isinstance(node, c_ast.TernaryOp):
            return self.ternary(node)
        if isinstance(node, c_ast.Cast):
            return self.cast(node)
        if isinstance(node, c_ast.FuncCall):
            return self.call(node, discard)
        if isinstance(node, c_ast.ExprList):  # the comma operator: left to right, the last one's value
            for e in node.exprs[:-1]:
                self.rvalue(e, discard=True)
            return self.rvalue(node.exprs[-1], discard)
        if isinstance(node, c_ast.CompoundLiteral):
            self.err(node, "compound literals are not supported")
        if isinstance(node, c_ast.Compound):
            self.err(node, "statement expressions ({ ... }) are not supported", "use a helper function")
        if isinstance(node, c_ast.InitList):
            self.err(node, "brace initializers are only supported for globals")
        self.err(node, f"unsupported expression ({type(node).__name__})")

    def unary(self, node, discard):
        loc = self.loc(node)
        op = node.op
        if op == "sizeof":
            self.err(node, "sizeof is only supported as the size argument of kzalloc")
        if op == "&":
            if isinstance(node.expr, c_ast.ID) and node.expr.name in self.b.fdecls and \
                    self.lookup(node.expr.name) is None and node.expr.name not in self.b.globals:
                return Const(0, FuncT(node.expr.name), loc), FuncT(node.expr.name)
            kind, where, t = self.lvalue(node.expr)
            if kind == "local":
                self.err(node, f"taking the address of local '{self.locals[where].name}' is not supported",
                         "make it a global or a field of an object")
            return _retype(where, PtrT(t)), PtrT(t)
        if op == "*":
            return self.read(self.lvalue(node), node)
        if op in ("++", "--", "p++", "p--"):
            lv = self.lvalue(node.expr)
            cur, ct = self.read(lv, node.expr)
            if isinstance(ct, PtrT):
                self.err(node, "pointer arithmetic is not supported")
            res, rt = self.binop("+" if "+" in op else "-", cur, ct, Const(1, INT), INT, node)
            if op.startswith("p") and not discard:
                old = self.temp(ct, node)
                self.emit(Set(old, cur, loc))
                self.write(lv, res, rt, node, _src(node))
                return Var(old, ct, loc), ct
            return self.write(lv, res, rt, node, _src(node))
        if op not in ("!", "-", "~", "+"):
            self.err(node, f"unsupported operator '{op}'")
        e, t = self.rvalue(node.expr)
        if op == "!":
            if isinstance(t, PtrT):
                return Bin("==", e, Const(0, t), INT, loc), INT
            if not isinstance(t, IntT):
                self.err(node, f"type error: '!' on a {type_str(t)}")
            return Un("!", e, INT, loc), INT
        if op in ("-", "~", "+"):
            if not isinstance(t, IntT):
                self.err(node, f"type error: '{op}' on a {type_str(t)}")
            rt = arith(t, t)
            return (e, t) if op == "+" else (Un(op, e, rt, loc), rt)
        self.err(node, f"unsupported operator '{op}'")

    def binop(self, op, a, at, b, bt, node):
        loc = self.loc(node)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            if isinstance(at, PtrT) or isinstance(bt, PtrT):
                if op not in ("==", "!="):
                    self.err(node, "ordering comparisons of pointers are not supported")
                if isinstance(at, IntT) and not (isinstance(a, Const) and a.value == 0) or \
                        isinstance(bt, IntT) and not (isinstance(b, Const) and b.value == 0):
                    self.err(node, "type error: comparison between a pointer and an integer")
                return Bin(op, a, b, INT, loc), INT
            if not isinstance(at, IntT) or not isinstance(bt, IntT):
                self.err(node, f"type error: '{op}' between {type_str(at)} and {type_str(bt)}")
            ct = arith(at, bt)
            return Bin(op, _as(a, at, ct), _as(b, bt, ct), INT, loc), INT
        if isinstance(at, PtrT) or isinstance(bt, PtrT):
            self.err(node, "pointer arithmetic is not supported", "index a global or member array instead")
        if not isinstance(at, IntT) or not isinstance(bt, IntT):
            self.err(node, f"type error: '{op}' between {type_str(at)} and {type_str(bt)}")
        if op in ("<<", ">>"):
            rt = arith(at, at)
            return Bin(op, _as(a, at, rt), b, rt, loc), rt
        if op not in ("+", "-", "*", "/", "%", "&", "|", "^"):
            self.err(node, f"unsupported operator '{op}'")
        rt = arith(at, bt)
        return Bin(op, _as(a, at, rt), _as(b, bt, rt), rt, loc), rt

    def logical(self, node):
        """&& and || as values: pure when both sides are pure, else through branches."""
        mark = len(self.code)
        a, at = self.rvalue(node.left)
        mid = len(self.code)
        b, bt = self.rvalue(node.right)
        if len(self.code) == mid:
            return Bin(node.op, self.truth(a, at, node.left), self.truth(b, bt, node.right), INT, self.loc(node)), INT
        del self.code[mark:]
        res = self.temp(INT, node)
        t, f, end = self.new_label(), self.new_label(), self.new_label()
        self.cond(node, t, f)
        self.place(t)
        self.emit(Set(res, Const(1, INT), self.loc(node)))
        self.emit(Jump(end, self.loc(node)))
        self.place(f)
        self.emit(Set(res, Const(0, INT), self.loc(node)))
        self.emit(Jump(end, self.loc(node)))
        self.place(end)
        return Var(res, INT, self.loc(node)), INT

    def ternary(self, node):
        _, at = self._type_of(node.iftrue)
        _, bt = self._type_of(node.iffalse)
        if isinstance(at, PtrT) or isinstance(bt, PtrT):
            rt = at if isinstance(at, PtrT) else bt
        elif isinstance(at, IntT) and isinstance(bt, IntT):
            rt = arith(at, bt)
        else:
            self.err(node, f"type error: '?:' arms of types {type_str(at)} and {type_str(bt)}")
        res = self.temp(rt, node)
        t, f, end = self.new_label(), self.new_label(), self.new_label()
        self.cond(node.cond, t, f)
        for lab, arm in ((t, node.iftrue), (f, node.iffalse)):
            self.place(lab)
            e, et = self.rvalue(arm)
            self.emit(Set(res, self.convert(e, et, rt, arm), self.loc(arm)))
            self.emit(Jump(end, self.loc(node)))
        self.place(end)
        return Var(res, rt, self.loc(node)), rt

    def cast(self, node):
        loc = self.loc(node)
        to = self.b.ctype(node.to_type)
        inner = node.expr
        if isinstance(inner, c_ast.FuncCall) and isinstance(inner.name, c_ast.ID) and \
                inner.name.name == "__mkverify_container_of":
            return self.container_of(inner, to, node)
        if isinstance(to, VoidT):
            if isinstance(inner, c_ast.Constant):
                return Const(0, INT, loc), VoidT()
            e, t = self.rvalue(inner, discard=True)
            return e, VoidT()
        e, t = self.rvalue(inner)
        if isinstance(to, IntT):
            if isinstance(t, IntT):
                if isinstance(e, Const):
                    return Const(_wrap(e.value, to), to, loc), to
                return Cast(e, to, loc), to
            self.err(node, f"type error: cast of {type_str(t)} to {type_str(to)}", "pointers and integers do not mix in models")
        if isinstance(to, PtrT):
            if isinstance(t, PtrT):
                return Cast(e, to, loc), to
            if isinstance(t, IntT) and isinstance(e, Const) and e.value == 0:
                return Const(0, to, loc), to
            self.err(node, f"type error: cast of {type_str(t)} to {type_str(to)}", "pointers and integers do not mix in models")
        self.err(node, f"unsupported cast to {type_str(to)}")

    def container_of(self, call, to, node):
        args = call.args.exprs if call.args else []
        if not isinstance(to, PtrT) or not isinstance(to.target, StructT) or len(args) != 2 \
                or not isinstance(args[1], c_ast.Constant):
            self.err(node, "malformed container_of")
        member = args[1].value.strip('"')
        sname = to.target.name
        sd = self.b.structs.get(sname)
        if sd is None:
            self.err(node, f"container_of: struct {sname} is not defined")
        f = sd.field(member)
        if f is None:
            self.err(node, f"container_of: struct {sname} has no member '{member}'",
                     did_you_mean(member, [x.name for x in sd.fields]))
        p, pt = self.rvalue(args[0])
        if not isinstance(pt, PtrT) or (pt.target != f.type and not isinstance(pt.target, VoidT)):
            self.err(node, f"type error: container_of: pointer of type {type_str(pt)} does not point to "
                           f"member '{member}' of type {type_str(f.type)}")
        return ContainerOf(p, sname, member, to, self.loc(node)), to

    # ------------------------------------------------------------ calls

    def call(self, node, discard):
        loc = self.loc(node)
        if not isinstance(node.name, c_ast.ID):
            self.err(node, "calls through function pointers are not supported")
        name = node.name.name
        args = list(node.args.exprs) if node.args else []
        if name in ("asm", "__asm__", "__asm"):
            self.err(node, "inline assembly is not supported", "model what the assembly does in C")
        if self.lookup(name) is not None or name in self.b.globals:
            self.err(node, f"'{name}' is a variable, not a function (calls through function pointers are not supported)")
        replaced = name in self.b.fdefs and not self.b.in_prelude(self.b.fdefs[name])  # the model's own
        if name in SPECIAL_CALLS and not replaced:
            return getattr(self, "call_" + name.strip("_"))(node, args, discard)
        if self.invariant:
            if name in ir.QUERIES:
                return self.query(node, name, args)
            self.err(node, f"invariants can only call the queries {', '.join(sorted(ir.QUERIES))}")
        if name in QUERY_ONLY:
            self.err(node, f"{name}() is only available in invariants")
        if name in PRIM_SIGS and not replaced:
            prim, kinds, rt = PRIM_SIGS[name]
            vals = self.prim_args(node, name, args, kinds)
            dst = self.temp(rt, node) if rt is not None else -1
            self.emit(Prim(dst, prim, tuple(vals), None, _src(node), loc))
            return (Var(dst, rt, loc), rt) if rt is not None else (Const(0, INT, loc), VoidT())
        if name not in self.b.fdecls:
            self.err(node, f"unknown function '{name}'", did_you_mean(name, list(self.b.fdecls) + list(PRIM_SIGS)))
        if name not in self.b.fdefs:
            ret, _, dloc, prelude = self.b.fdecls[name]
            self.err(node, f"function '{name}' is declared but has no body in the model, and is not a kernel "
                           f"primitive mkverify knows", did_you_mean(name, PRIM_SIGS) or
                     "define it in the model (a stub that models its effect), or see docs/model-language.md for the prelude")
        ret, ptypes, dloc, _ = self.b.fdecls[name]
        if len(args) != len(ptypes):
            self.err(node, f"{name}() takes {len(ptypes)} arguments, {len(args)} given",
                     f"{name} is defined at {dloc} as {_src(self.b.fdefs[name].decl)}")
        vals = []
        for a, pt in zip(args, ptypes):
            e, t = self.rvalue(a)
            vals.append(self.convert(e, t, pt, a))
        dst = self.temp(ret, node) if not isinstance(ret, VoidT) and not discard else -1
        self.emit(Call(dst, name, tuple(vals), loc))
        if dst < 0:
            return Const(0, INT, loc), ret
        return Var(dst, ret, loc), ret

    def prim_args(self, node, name, args, kinds):
        extra = C_ARITY.get(name, len(kinds)) - len(kinds)
        if extra > 0 and len(args) == len(kinds) + extra:
            args = args[:len(kinds)]  # trailing arguments the machine ignores (gfp flags), not evaluated
        if len(args) != len(kinds):
            self.err(node, f"{name}() takes {len(kinds)} arguments, {len(args)} given")
        vals = []
        for a, k in zip(args, kinds):
            e, t = self.rvalue(a)
            if k == "int":
                if not isinstance(t, IntT):
                    self.err(a, f"type error: {name}() expects an integer here, got {type_str(t)}")
                vals.append(e if t.bits <= 64 else Cast(e, LONG))
            elif k == ANY_PTR:
                if not isinstance(t, PtrT):
                    self.err(a, f"type error: {name}() expects a pointer here, got {type_str(t)}")
                vals.append(e)
            else:
                want = PtrT(OpaqueT(k))
                if not ir.prim_arg_fits(k, t):
                    self.err(a, f"type error: {name}() expects {type_str(want)}, got {type_str(t)}",
                             "pass the address of the member, e.g. &obj->ref")
                vals.append(e)
        return vals

    def query(self, node, name, args):
        kinds, rt = ir.QUERIES[name]
        vals = self.prim_args(node, name, args, list(kinds))
        return Query(name, tuple(vals), rt, self.loc(node)), rt

    def call_kzalloc(self, node, args, discard):
        if self.invariant:
            self.err(node, "invariants cannot allocate")
        if len(args) != 2:
            self.err(node, "kzalloc() takes 2 arguments (size, gfp flags)")
        size = args[0]
        if not (isinstance(size, c_ast.UnaryOp) and size.op == "sizeof"):
            self.err(size, "kzalloc's size must be sizeof(struct T) or sizeof(*ptr)",
                     "mkverify allocates whole objects from a pool per struct type")
        if isinstance(size.expr, c_ast.Typename):
            t = self.b.ctype(size.expr)
        else:
            target = size.expr
            if isinstance(target, c_ast.UnaryOp) and target.op == "*":
                _, pt = self._type_of(target.expr)
                t = pt.target if isinstance(pt, PtrT) else pt
            else:
                _, t = self._type_of(target)
        if not isinstance(t, StructT):
            self.err(size, f"kzalloc of a {type_str(t)}: only structs are allocated", "wrap the data in a struct")
        loc = self.loc(node)
        rt = PtrT(t)
        dst = self.temp(rt, node)
        self.emit(Prim(dst, "kzalloc", (), t.name, _src(node), loc))
        return Var(dst, rt, loc), rt

    call_kmalloc = call_kzalloc

    def _type_of(self, node):
        """Type of an expression without emitting code (for sizeof)."""
        save, saved_locals = self.code, list(self.locals)
        self.code = []
        try:
            e, t = self.rvalue(node)
        finally:
            self.code = save
            self.locals[:] = saved_locals
        return e, t

    def call_kref_put(self, node, args, discard):
        """kref_put(kref, release) and kref_put_mutex/kref_put_lock(kref, release, lock): the release callback
        is the instruction's aux, the other arguments the primitive's."""
        name = node.name.name
        kinds = list(ir.PRIMS[name][0])
        if len(args) != len(kinds) + 1:
            self.err(node, f"{name}() takes {len(kinds) + 1} arguments (kref, release"
                           + (", lock)" if len(kinds) > 1 else ")"))
        vals = self.prim_args(node, name, args[:1] + args[2:], kinds)
        rel = args[1]
        if isinstance(rel, c_ast.UnaryOp) and rel.op == "&":
            rel = rel.expr
        if not isinstance(rel, c_ast.ID) or rel.name not in self.b.fdefs:
            self.err(args[1], "kref_put's release callback must name a function defined in the model",
                     did_you_mean(rel.name, self.b.fdefs) if isinstance(rel, c_ast.ID) else None)
        ret, ptypes, dloc, _ = self.b.fdecls[rel.name]
        if len(ptypes) != 1 or ptypes[0] != PtrT(OpaqueT("kref")):
            self.err(args[1], f"type error: release callback {rel.name} must take one struct kref * argument, "
                              f"not ({', '.join(type_str(t) for t in ptypes) or 'void'})",
                     f"define it (at {dloc}) as void {rel.name}(struct kref *ref) and find the object with "
                     f"container_of(ref, struct ..., <member>)")
        loc = self.loc(node)
        dst = self.temp(INT, node)
        self.emit(Prim(dst, name, tuple(vals), rel.name, _src(node), loc))
        return Var(dst, INT, loc), INT

    call_kref_put_mutex = call_kref_put_lock = call_kref_put

    def call_synchronize_rcu(self, node, args, discard):
        """Two steps: note the read-side sections in progress, then wait until each has ended (kernel.py)."""
        if args:
            self.err(node, "synchronize_rcu() takes no arguments")
        if self.invariant:
            self.err(node, "synchronize_rcu cannot be used in an invariant")
        loc = self.loc(node)
        self.emit(Prim(-1, "synchronize_rcu", (), None, _src(node), loc))
        self.emit(Prim(-1, "synchronize_rcu_wait", (), None, _src(node), loc))
        return Const(0, INT, loc), VoidT()

    def _deferred_fn(self, node, arg, kind, what):
        """The number of the callback `arg` names (a function of the model taking a pointer to `kind`)."""
        fn = arg.expr if isinstance(arg, c_ast.UnaryOp) and arg.op == "&" else arg
        want = f"void f({type_str(OpaqueT(kind))} *)"
        if not isinstance(fn, c_ast.ID) or fn.name not in self.b.fdefs:
            self.err(arg, f"{what}'s callback must name a function defined in the model, of type {want}",
                     did_you_mean(fn.name, self.b.fdefs) if isinstance(fn, c_ast.ID) else None)
        ret, ptypes, dloc, _ = self.b.fdecls[fn.name]
        if len(ptypes) != 1 or ptypes[0] != PtrT(OpaqueT(kind)) or not isinstance(ret, VoidT):
            self.err(arg, f"type error: {what}'s callback {fn.name} must return void and take one "
                          f"{type_str(OpaqueT(kind))} * "
                          f"argument, not ({', '.join(type_str(t) for t in ptypes) or 'void'})",
                     f"define it (at {dloc}) as void {fn.name}({type_str(OpaqueT(kind))} *p) and find the object "
                     f"with container_of" + (" (from_timer)" if kind == "timer" else ""))
        num, k = self.b.deferred.setdefault(fn.name, (len(self.b.deferred) + 1, kind))
        if k != kind:
            self.err(arg, f"{fn.name} is already a {type_str(OpaqueT(k))} callback")
        return num

    def _deferred_init(self, node, args, prim, kind, what, nargs):
        if len(args) != nargs:
            self.err(node, f"{what}() takes {nargs} arguments, {len(args)} given")
        if self.invariant:
            self.err(node, f"{what} cannot be used in an invariant")
        vals = self.prim_args(node, prim, args[:1], [kind])
        num = self._deferred_fn(node, args[1], kind, what)
        loc = self.loc(node)
        self.emit(Prim(-1, prim, (vals[0], Const(num, INT, loc)), None, _src(node), loc))
        return Const(0, INT, loc), VoidT()

    def call_INIT_WORK(self, node, args, discard):
        return self._deferred_init(node, args, "init_work", "work", "INIT_WORK", 2)

    def call_timer_setup(self, node, args, discard):
        """timer_setup(timer, callback, flags): the flags are ignored."""
        return self._deferred_init(node, args, "timer_setup", "timer", "timer_setup", 3)

    def call_call_rcu(self, node, args, discard):
        return self._deferred_init(node, args, "call_rcu", "rcu_head", "call_rcu", 2)

    def _two_steps(self, node, args, first, second, kind, what, rt, extra=()):
        """A call that is two steps: `first` (its result is the call's), then `second` waits (given the
        constants `extra` after the item)."""
        if len(args) != 1:
            self.err(node, f"{what}() takes 1 argument, {len(args)} given")
        if self.invariant:
            self.err(node, f"{what} cannot be used in an invariant")
        vals = self.prim_args(node, first, args, [kind])
        loc = self.loc(node)
        dst = self.temp(rt, node)
        self.emit(Prim(dst, first, tuple(vals), None, _src(node), loc))
        self.emit(Prim(-1, second, tuple(vals) + tuple(Const(c, INT, loc) for c in extra), None, _src(node), loc))
        return Var(dst, rt, loc), rt

    def call_cancel_work_sync(self, node, args, discard):
        """Two steps: no longer pending (the result: it was), then wait until no worker runs it (kernel.py)."""
        return self._two_steps(node, args, "cancel_work_sync", "deferred_sync", "work", "cancel_work_sync", BOOL, (1,))

    def call_timer_delete_sync(self, node, args, discard):
        return self._two_steps(node, args, "timer_delete_sync", "deferred_sync", "timer", "timer_delete_sync", INT,
                               (0,))

    def call_flush_work(self, node, args, discard):
        """Two steps: is it pending or running (the result), then wait until it is neither."""
        return self._two_steps(node, args, "deferred_busy", "deferred_flush", "work", "flush_work", BOOL)

    def call_kobject_put(self, node, args, discard):
        """One step: drop the reference; where it was the last, call its kobj_type's release (by number)
        in the same step, as kref_put calls its release."""
        if len(args) != 1:
            self.err(node, f"kobject_put() takes 1 argument, {len(args)} given")
        if self.invariant:
            self.err(node, "kobject_put cannot be used in an invariant")
        vals = self.prim_args(node, "kobject_put", args, ["kobject"])
        loc = self.loc(node)
        rel = self.temp(INT, node)
        self.emit(Prim(rel, "kobject_put", tuple(vals), None, _src(node), loc))
        obj = self.temp(PtrT(OpaqueT("kobject")), node)
        self.emit(Set(obj, vals[0], loc))
        end = self.new_label()
        for name, num in sorted(self.b.kobj_releases.items(), key=lambda kv: kv[1]):
            if name not in self.b.fdefs:
                self.err(self.b.release_locs[name], f"release function {name} is declared but not defined")
            call, nxt = self.new_label(), self.new_label()
            self.emit(Branch(Bin("==", Var(rel, INT, loc), Const(num, INT, loc), INT, loc), call, nxt, loc))
            self.place(call)
            self.emit(Call(-1, name, (Var(obj, PtrT(OpaqueT("kobject")), loc),), loc))
            self.emit(Jump(end, loc))
            self.place(nxt)
        self.place(end)
        return Const(0, INT, loc), VoidT()

    def call_mkverify_from_timer(self, node, args, discard):
        """from_timer(var, timer, member): container_of(timer, the struct var points to, member)."""
        if len(args) != 3 or not isinstance(args[2], c_ast.Constant):
            self.err(node, "from_timer takes a variable, a timer pointer and a member name")
        start = len(self.code)
        _, vt = self.rvalue(args[0])
        del self.code[start:]  # only its type matters (typeof(*var)): var is not read
        if not isinstance(vt, PtrT) or not isinstance(vt.target, StructT):
            self.err(args[0], f"from_timer: {_src(args[0])} must be a pointer to a struct, not {type_str(vt)}")
        call = c_ast.FuncCall(c_ast.ID("__mkverify_container_of"), c_ast.ExprList([args[1], args[2]]), node.coord)
        return self.container_of(call, vt, node)

    def call_kfree_rcu(self, node, args, discard):
        """kfree_rcu(ptr, rhf) (rhf: the struct's rcu_head member) and the one-argument kfree_rcu(ptr)."""
        if len(args) not in (1, 2):
            self.err(node, f"kfree_rcu() takes 1 or 2 arguments (ptr, rcu_head member), {len(args)} given")
        if self.invariant:
            self.err(node, "kfree_rcu cannot be used in an invariant")
        p, pt = self.rvalue(args[0])
        if not isinstance(pt, PtrT):
            self.err(args[0], f"type error: kfree_rcu() expects a pointer, got {type_str(pt)}")
        if len(args) == 2:
            field = args[1]
            if not isinstance(field, c_ast.ID):
                self.err(field, "kfree_rcu's second argument must name the struct's rcu_head member")
            sd = self.b.structs.get(pt.target.name) if isinstance(pt.target, StructT) else None
            if sd is None:
                self.err(args[0], f"type error: kfree_rcu(ptr, {field.name}) needs a pointer to a struct, got "
                                  f"{type_str(pt)}")
            if sd.field(field.name) is None:
                self.err(field, f"kfree_rcu: struct {sd.name} has no member '{field.name}'",
                         did_you_mean(field.name, [x.name for x in sd.fields]))
        loc = self.loc(node)
        self.emit(Prim(-1, "kfree_rcu", (p,), None, _src(node), loc))
        return Const(0, INT, loc), VoidT()

    def _rcu_pointer(self, node, args, name, nargs):
        """rcu_dereference_check(p, c) / rcu_dereference_protected(p, c): one read of the pointer p (an lvalue
        that is a global or a field), with lockdep-RCU's check; the value has p's type."""
        if len(args) != nargs:
            self.err(node, f"{name}() takes {nargs} arguments")
        if self.invariant:
            self.err(node, f"{name} cannot be used in an invariant")
        _, pt = self._type_of(args[0])
        if not isinstance(pt, PtrT):
            self.err(args[0], f"type error: {name}() reads a pointer, not a {type_str(pt)}")
        addr, at = self.rvalue(c_ast.UnaryOp("&", args[0], args[0].coord))
        if len(args) > 1:
            c, ct = self.rvalue(args[1])
            cond = self.truth(c, ct, args[1])
        else:
            cond = Const(0, INT)
        loc = self.loc(node)
        dst = self.temp(PtrT(VoidT()), node)
        self.emit(Prim(dst, name, (addr, cond), None, _src(node), loc))
        return Cast(Var(dst, PtrT(VoidT()), loc), pt, loc), pt

    def call_rcu_dereference_check(self, node, args, discard):
        return self._rcu_pointer(node, args, "rcu_dereference_check", 2)

    def call_rcu_dereference_protected(self, node, args, discard):
        return self._rcu_pointer(node, args, "rcu_dereference_protected", 2)

    def call_mkverify_wait_event(self, node, args, discard):
        """__mkverify_wait_event(kind, cond), behind wait_event (kind 0), wait_event_interruptible (1) and
        wait_event_timeout (2): look at cond (its reads are steps) until it holds; between two looks, the
        interruptible and timeout forms may give up (__wait_event_gives_up). The value: 0 when cond held (1
        for the timeout form), -ERESTARTSYS or 0 when the wait gave up."""
        if len(args) != 2 or not isinstance(args[0], c_ast.Constant):
            self.err(node, "wait_event must be used through the prelude macros")
        if self.invariant:
            self.err(node, "wait_event cannot be used in an invariant")
        kind = int(args[0].value)
        loc = self.loc(node)
        res = self.temp(INT, node)
        look, held, gave_up, again, end = (self.new_label() for _ in range(5))
        self.place(look)
        c, ct = self.rvalue(args[1])
        self.emit(Branch(self.truth(c, ct, args[1]), held, again, loc))
        self.place(again)
        if kind:
            g = self.temp(INT, node)
            self.emit(Prim(g, "wait_event_gives_up", (), None, _src(node), loc))
            self.emit(Branch(Var(g, INT, loc), gave_up, look, loc))
            self.place(gave_up)
            self.emit(Set(res, Const(-512 if kind == 1 else 0, INT, loc), loc))
            self.emit(Jump(end, loc))
        else:
            self.emit(Jump(look, loc))
        self.place(held)
        self.emit(Set(res, Const(1 if kind == 2 else 0, INT, loc), loc))
        self.emit(Jump(end, loc))
        self.place(end)
        return Var(res, INT, loc), INT

    def call_mkverify_list_entry(self, node, args, discard):
        """__mkverify_list_entry(mode, head, pos, "member"), behind list_for_each_entry and its kin: the entry
        (of pos's type) of the first node on head (mode 0, 2: RCU) or of the node after pos->member (mode 1,
        3: RCU; NULL when pos is NULL), or NULL at the end of the list."""
        if len(args) not in (4, 5) or not isinstance(args[0], c_ast.Constant) or \
                not isinstance(args[3], c_ast.Constant):
            self.err(node, "list iteration must be used through the prelude macros (list_for_each_entry, ...)")
        mode = int(args[0].value)
        member = args[3].value.strip('"')
        loc = self.loc(node)
        _, pt = self._type_of(args[2])
        if not isinstance(pt, PtrT) or not isinstance(pt.target, StructT) or pt.target.name not in self.b.structs:
            self.err(args[2], f"type error: the cursor of a list walk must point to a struct, not a {type_str(pt)}")
        sd = self.b.structs[pt.target.name]
        f = sd.field(member)
        if f is None:
            self.err(args[3], f"struct {sd.name} has no member '{member}'",
                     did_you_mean(member, [x.name for x in sd.fields]))
        if f.type != OpaqueT("list_head"):
            self.err(args[3], f"type error: member '{member}' of struct {sd.name} is a {type_str(f.type)}, not a "
                              f"struct list_head (or hlist_node)")
        rcu = mode >= 2
        walk = "list_for_each_entry" + ("_rcu" if rcu else "")
        text = f"{walk}: {_src(args[2])} = " + (f"first on {_src(args[1])}" if mode % 2 == 0 else
                                                  f"next after {_src(args[2])} on {_src(args[1])}")
        vals = self.prim_args(node, "list_first", [args[1]], ["list_head"])
        cond = Const(0, INT, loc)
        if len(args) == 5:  # list_for_each_entry_rcu's lockdep condition, evaluated at every step
            if not rcu:
                self.err(args[4], "only list_for_each_entry_rcu takes a lockdep condition")
            c, ct = self.rvalue(args[4])
            cond = self.truth(c, ct, args[4])
        res = self.temp(pt, node)
        node_t = PtrT(OpaqueT("list_head"))
        nd = self.temp(PtrT(VoidT()), node)
        end = self.new_label()
        if mode % 2 == 0:
            self.emit(Prim(nd, "list_first_rcu" if rcu else "list_first", tuple(vals) + ((cond,) if rcu else ()),
                           None, text, loc))
        else:
            pos, _ = self.rvalue(args[2])
            go = self.new_label()
            self.emit(Set(res, Const(0, pt, loc), loc))
            self.emit(Branch(Bin("!=", pos, Const(0, pt, loc), INT, loc), go, end, loc))
            self.place(go)
            at = FieldAddr(pos, sd.name, member, node_t, loc)
            self.emit(Prim(nd, "list_next_rcu" if rcu else "list_next", (vals[0], at) + ((cond,) if rcu else ()),
                           None, text, loc))
        some = self.new_label()
        self.emit(Set(res, Const(0, pt, loc), loc))
        self.emit(Branch(Bin("!=", Var(nd, PtrT(VoidT()), loc), Const(0, PtrT(VoidT()), loc), INT, loc), some, end,
                         loc))
        self.place(some)
        self.emit(Set(res, ContainerOf(Cast(Var(nd, PtrT(VoidT()), loc), node_t, loc), sd.name, member, pt, loc), loc))
        self.emit(Jump(end, loc))
        self.place(end)
        return Var(res, pt, loc), pt

    def call_idr_alloc(self, node, args, discard):
        if len(args) != 5:
            self.err(node, f"idr_alloc() takes 5 arguments (idr, ptr, start, end, gfp), {len(args)} given")
        vals = self.prim_args(node, "idr_alloc", args[:4], list(ir.PRIMS["idr_alloc"][0]))
        loc = self.loc(node)
        dst = self.temp(INT, node)
        self.emit(Prim(dst, "idr_alloc", tuple(vals), None, _src(node), loc))
        return Var(dst, INT, loc), INT

    def _check(self, node, args, kind, discard):
        if len(args) != 1:
            self.err(node, f"{kind}() takes 1 argument")
        if self.invariant:
            self.err(node, f"{kind} cannot be used in an invariant")
        e, t = self.rvalue(args[0])
        c = self.truth(e, t, args[0])
        loc = self.loc(node)
        self.emit(Check(kind, c, _src(node), loc))
        if kind == "WARN_ON" and not discard:
            v = self.temp(INT, node)
            self.emit(Set(v, Bin("!=", c, Const(0, INT), INT, loc), loc))
            return Var(v, INT, loc), INT
        return Const(0, INT, loc), VoidT()

    def call_BUG_ON(self, node, args, discard):
        return self._check(node, args, "BUG_ON", discard)

    def call_WARN_ON(self, node, args, discard):
        return self._check(node, args, "WARN_ON", discard)

    def call_mkverify_container_of(self, node, args, discard):
        self.err(node, "container_of must be used through the prelude macro, with a struct type")

    def call_mkverify_array_size(self, node, args, discard):
        if len(args) != 1:
            self.err(node, "ARRAY_SIZE takes one array")
        kind, where, t = self.lvalue(args[0])
        if not isinstance(t, ArrayT):
            self.err(node, f"ARRAY_SIZE of a {type_str(t)}, not an array")
        return Const(t.n, INT, self.loc(node)), INT


_EXPR_STMTS = (c_ast.Assignment, c_ast.UnaryOp, c_ast.FuncCall, c_ast.BinaryOp, c_ast.Cast, c_ast.ID,
               c_ast.Constant, c_ast.TernaryOp, c_ast.StructRef, c_ast.ArrayRef, c_ast.ExprList)


def _as(e, src, dst):
    if src == dst or not isinstance(src, IntT):
        return e
    if src.bits == dst.bits and src.signed == dst.signed:
        return e
    if isinstance(e, Const):
        return Const(_wrap(e.value, dst), dst, e.loc)
    return Cast(e, dst, e.loc if hasattr(e, "loc") else None)


def _retype(e, t):
    """The same address expression, seen at another pointer type."""
    if hasattr(e, "type") and e.type == t:
        return e
    return Cast(e, t, getattr(e, "loc", None))


def _can_leave(node) -> bool:
    """Does a loop body contain a break (at its own level), return or goto?"""
    if node is None:
        return False
    if isinstance(node, (c_ast.Return, c_ast.Goto)):
        return True
    if isinstance(node, c_ast.Break):
        return True
    if isinstance(node, (c_ast.While, c_ast.DoWhile, c_ast.For, c_ast.Switch)):
        # a break inside a nested loop leaves only that loop; returns and gotos still count
        return any(isinstance(n, (c_ast.Return, c_ast.Goto)) for n in _walk(node))
    if isinstance(node, c_ast.FuncCall) and isinstance(node.name, c_ast.ID) and node.name.name == "BUG_ON":
        return False
    return any(_can_leave(c) for _, c in node.children())


def _is_void_param(p) -> bool:
    """The `void` of `f(void)`."""
    return isinstance(p, c_ast.Typename) and isinstance(p.type, c_ast.TypeDecl) and \
        isinstance(p.type.type, c_ast.IdentifierType) and p.type.type.names == ["void"]


def _walk(node):
    yield node
    for _, c in node.children():
        yield from _walk(c)
