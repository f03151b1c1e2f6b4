"""The IR: the one contract between the front end and every engine.

A `Program` is a typed program over a simulated machine. Memory is a flat
array of cells; every scalar (int, enum, bool, pointer, and each kernel
primitive such as a kref or a mutex) is one cell, so a pointer is a cell
address and `&obj->field` is address arithmetic. Functions are lists of
instructions with explicit jump targets.

Granularity (what one step of a thread is) is fixed here, not in an engine:
an instruction is *visible* when it touches shared memory or the machine
(`Load`, `Store`, `Prim`); every other instruction is *silent* (it reads and
writes only the thread's own locals). A step executes exactly one visible
instruction and then every silent one up to the next visible instruction, so
interleavings happen at every shared-memory access and lock operation and
nowhere else. Expressions never touch memory, except `Deref`, which only
invariants may use.

Nodes are frozen, slotted dataclasses, one comment line each, every node with
a `loc`. Nothing but the front end builds IR; passes read it.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from . import kernel
from .diag import IRError, SourceLoc, NOWHERE

# ---------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class IntT:
    """An integer of `bits` width; `enum` names the C enum it came from."""
    bits: int = 32
    signed: bool = True
    enum: str | None = None


@dataclass(frozen=True, slots=True)
class PtrT:
    """A pointer; `target` is the pointee type (VoidT for void *)."""
    target: Any


@dataclass(frozen=True, slots=True)
class StructT:
    """A struct, by name; its layout is in `Program.structs`."""
    name: str


@dataclass(frozen=True, slots=True)
class ArrayT:
    """A fixed-size array of `n` elements."""
    elem: Any
    n: int


@dataclass(frozen=True, slots=True)
class OpaqueT:
    """A kernel primitive the machine gives meaning to (see OPAQUE_KINDS)."""
    kind: str


@dataclass(frozen=True, slots=True)
class VoidT:
    """void: the return type of procedures and the target of void *."""


@dataclass(frozen=True, slots=True)
class FuncT:
    """A function used as a value: only as a kref release callback."""
    name: str


#: Kernel primitives, each one cell wide except the IDR (2 cells per entry).
OPAQUE_KINDS = ("kref", "refcount", "atomic", "mutex", "spinlock", "list_head", "cpumask", "idr", "rcu_head", "rwsem", "rwlock", "completion", "xarray", "waitq", "work", "timer", "kobject", "ktype")

INT = IntT(32, True)
UINT = IntT(32, False)
LONG = IntT(64, True)
ULONG = IntT(64, False)
BOOL = IntT(1, False)


def int_range(t: IntT) -> tuple[int, int]:
    """The values an integer type holds (a 1-bit integer is a bool: 0 and 1)."""
    if t.bits == 1:
        return 0, 1
    if t.signed:
        return -(1 << (t.bits - 1)), (1 << (t.bits - 1)) - 1
    return 0, (1 << t.bits) - 1


def type_str(t) -> str:
    """C-like text of a type, for messages and the printer."""
    if isinstance(t, IntT):
        if t.enum:
            return f"enum {t.enum}"
        if t.bits == 1:
            return "bool"
        base = {8: "char", 16: "short", 32: "int", 64: "long"}.get(t.bits, f"int{t.bits}")
        return base if t.signed else f"unsigned {base}"
    if isinstance(t, PtrT):
        return f"{type_str(t.target)} *"
    if isinstance(t, StructT):
        return f"struct {t.name}"
    if isinstance(t, ArrayT):
        return f"{type_str(t.elem)}[{t.n}]"
    if isinstance(t, OpaqueT):
        return {"kref": "struct kref", "refcount": "refcount_t", "atomic": "atomic_t",
                "mutex": "struct mutex", "spinlock": "spinlock_t", "list_head": "struct list_head",
                "cpumask": "struct cpumask", "idr": "struct idr", "rcu_head": "struct rcu_head",
                "rwsem": "struct rw_semaphore", "rwlock": "rwlock_t",
                "completion": "struct completion", "xarray": "struct xarray",
                "waitq": "wait_queue_head_t", "work": "struct work_struct",
                "timer": "struct timer_list", "kobject": "struct kobject", "ktype": "struct kobj_type"}.get(t.kind, f"<opaque {t.kind}>")
    if isinstance(t, VoidT):
        return "void"
    if isinstance(t, FuncT):
        return f"function {t.name}"
    return repr(t)


# ---------------------------------------------------------------- expressions
# Pure expressions over the thread's locals and constants.


@dataclass(frozen=True, slots=True)
class Const:
    """An integer constant (NULL is Const(0) of a pointer type)."""
    value: int
    type: Any
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Var:
    """Local variable number `index` of the current frame."""
    index: int
    type: Any
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class GlobalAddr:
    """The address of global variable `name`."""
    name: str
    type: Any  # PtrT to the global's type
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class FieldAddr:
    """`&base->field`: pointer arithmetic, no memory access."""
    base: Any
    struct: str
    field: str
    type: Any
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class IndexAddr:
    """`&base[index]` for base a pointer to ArrayT; out-of-bounds is a finding."""
    base: Any
    index: Any
    type: Any
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class ContainerOf:
    """`container_of(ptr, struct, field)`: ptr minus the field's offset."""
    ptr: Any
    struct: str
    field: str
    type: Any
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Bin:
    """A binary operator (C semantics at `type`'s width; && and || are strict here)."""
    op: str
    left: Any
    right: Any
    type: Any
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Un:
    """A unary operator: '-', '~', '!'."""
    op: str
    operand: Any
    type: Any
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Cast:
    """Conversion to an integer type (wraps) or between pointer types."""
    operand: Any
    type: Any
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Deref:
    """`*addr`, read in one go: allowed only in invariants, which are not steps."""
    addr: Any
    type: Any
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Query:
    """A side-effect-free primitive read in an invariant (kref_read, cpu_executes, ...)."""
    name: str
    args: tuple
    type: Any
    loc: SourceLoc = NOWHERE


EXPR_NODES = (Const, Var, GlobalAddr, FieldAddr, IndexAddr, ContainerOf, Bin, Un, Cast, Deref, Query)

#: the operators of Bin and Un (validate refuses others; the engines know exactly these)
BIN_OPS = frozenset(["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^", "==", "!=", "<", "<=", ">", ">=",
                     "&&", "||"])
UN_OPS = frozenset(["-", "~", "!"])

# ---------------------------------------------------------------- instructions


@dataclass(frozen=True, slots=True)
class Set:
    """Silent: local `dst` = expr."""
    dst: int
    expr: Any
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Load:
    """Visible: local `dst` = *addr (one shared read)."""
    dst: int
    addr: Any
    type: Any
    text: str = ""
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Store:
    """Visible: *addr = value (one shared write)."""
    addr: Any
    value: Any
    type: Any
    text: str = ""
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Call:
    """Silent: call model function `func`; its return value goes to local `dst` (-1: none)."""
    dst: int
    func: str
    args: tuple
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Prim:
    """Visible: a kernel primitive (see PRIMS); result to local `dst` (-1: none)."""
    dst: int
    name: str
    args: tuple
    aux: Any = None  # kzalloc: struct name; kref_put: release function name
    text: str = ""
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Branch:
    """Silent: go to `then` if cond != 0 else `other`."""
    cond: Any
    then: int
    other: int
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Jump:
    """Silent: go to `target`."""
    target: int
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Ret:
    """Silent: return `value` (None for void)."""
    value: Any
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Check:
    """Silent: BUG_ON / WARN_ON (`kind`) fires when cond != 0; BUG_ON stops the thread."""
    kind: str
    cond: Any
    text: str = ""
    loc: SourceLoc = NOWHERE


INSTR_NODES = (Set, Load, Store, Call, Prim, Branch, Jump, Ret, Check)
VISIBLE = (Load, Store, Prim)

#: what a spec may ask for (spec.py) and validate() holds every program to: [bounds] keys, pool slots,
#: array elements and values per argument domain. Beyond them a state no longer fits in memory.
BOUND_RANGES = {"cpus": (1, 64), "host_cpus": (1, 64), "workers": (1, 8), "idr_capacity": (1, 64), "depth": (0, 10**6),
                "max_states": (0, 10**10)}
POOL_RANGE = (0, 64)
ARRAY_RANGE = (1, 4096)
MAX_DOMAIN = 4096

#: an argument kind of PRIMS: any pointer (an opaque kind's name means a pointer to it, "int" an integer)
ANY_PTR = "any pointer"
_VOIDP = PtrT(VoidT())

#: primitive name -> (argument kinds, result type or None): the signatures of kernel.py's definitions, where each
#: primitive's meaning is. Each is one visible step. kzalloc's struct and kref_put's release function are in
#: the Prim's aux. The front end (frontend/lower.py) checks the C arguments against these kinds, and
#: validate() the IR's.
_RESULT_TYPES = {None: None, kernel.INT: INT, kernel.UINT: UINT, kernel.BOOL: BOOL, kernel._VOIDP: _VOIDP}
PRIMS: dict[str, tuple[tuple[str, ...], Any]] = {name: (d.args, _RESULT_TYPES[d.result])
                                                 for name, d in kernel.PRIMS.items()}


def prim_arg_fits(kind: str, t) -> bool:
    """Whether a value of type t may be passed where PRIMS names `kind` (a void * fits any pointer)."""
    if kind == "int":
        return isinstance(t, IntT)
    if kind == ANY_PTR:
        return isinstance(t, PtrT)
    if kind == "int_ptr":  # the address of an integer (xa_alloc's id)
        return isinstance(t, PtrT) and isinstance(t.target, (IntT, VoidT))
    if kind == "deferred":  # a work item, timer or rcu_head (what a worker runs)
        return isinstance(t, PtrT) and t.target in (OpaqueT("work"), OpaqueT("timer"), OpaqueT("rcu_head"), VoidT())
    if kind == "ptr":  # the address of a pointer (rcu_dereference's)
        return isinstance(t, PtrT) and isinstance(t.target, (PtrT, VoidT))
    return isinstance(t, PtrT) and (t.target == OpaqueT(kind) or isinstance(t.target, VoidT))


#: side-effect-free queries an invariant may use: the signatures of kernel.py's QUERIES
QUERIES: dict[str, tuple[tuple[str, ...], Any]] = {name: (d.args, _RESULT_TYPES[d.result])
                                                   for name, d in kernel.QUERIES.items()}

# ---------------------------------------------------------------- program


@dataclass(frozen=True, slots=True)
class Field:
    """A struct member."""
    name: str
    type: Any
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class StructDef:
    """A struct definition; members in declaration order."""
    name: str
    fields: tuple
    loc: SourceLoc = NOWHERE

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True, slots=True)
class GlobalVar:
    """A global; `init` gives (cell offset, value) pairs, the rest is zero."""
    name: str
    type: Any
    init: tuple = ()
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class LocalVar:
    """A parameter, declared local, or front-end temporary."""
    name: str
    type: Any
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Function:
    """A model function: params are locals 0..nparams-1."""
    name: str
    nparams: int
    locals: tuple
    ret: Any
    body: tuple
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class EntryPoint:
    """Something a host CPU may invoke at any time, with finite argument domains."""
    function: str
    domains: tuple  # one tuple of ints per parameter
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Bounds:
    """The size of the simulated machine."""
    cpus: int = 2
    host_cpus: int = 2            # CPUs 0..host_cpus-1 run host threads and stay online
    pools: tuple = ()             # (struct name, slots) pairs
    idr_capacity: int = 4         # entries an IDR can hold before the bound is hit
    alloc_can_fail: bool = True   # kzalloc may return NULL even with a free slot
    depth: int = 0                # 0: unbounded
    max_states: int = 0           # 0: unbounded
    cpus_online: tuple = ()       # initial online CPUs beyond the host ones
    workers: int = 1              # worker threads that run deferred work (when the model defers any)


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """Allowed transitions of `struct.field`; values are enum constants."""
    struct: str
    field: str
    states: tuple        # (name, value) pairs
    transitions: tuple   # (from value, to value) pairs
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Invariant:
    """`expr` must be non-zero for every live object of `struct` (local 0 = self)."""
    name: str
    struct: str
    expr: Any
    always: bool = False  # False: checked at quiescent states only
    text: str = ""
    loc: SourceLoc = NOWHERE


@dataclass(frozen=True, slots=True)
class Program:
    """A whole model with its bounds and spec: what every engine reads."""
    name: str
    structs: tuple
    enums: tuple          # (constant name, value, enum name) triples
    globals: tuple
    functions: tuple
    entries: tuple
    bounds: Bounds
    lifecycles: tuple = ()
    invariants: tuple = ()

    def struct(self, name: str) -> StructDef | None:
        for s in self.structs:
            if s.name == name:
                return s
        return None

    def function(self, name: str) -> Function | None:
        for f in self.functions:
            if f.name == name:
                return f
        return None


# ---------------------------------------------------------------- layout helpers


def sizeof(t, program: Program) -> int:
    """Size of a type in cells."""
    if isinstance(t, (IntT, PtrT)):
        return 1
    if isinstance(t, OpaqueT):
        return 2 * program.bounds.idr_capacity if t.kind in ("idr", "xarray") else 1
    if isinstance(t, ArrayT):
        return t.n * sizeof(t.elem, program)
    if isinstance(t, StructT):
        sd = program.struct(t.name)
        return sum(sizeof(f.type, program) for f in sd.fields)
    raise IRError(NOWHERE, f"type {type_str(t)} has no size")


def field_offset(struct: str, fname: str, program: Program) -> int:
    off = 0
    for f in program.struct(struct).fields:
        if f.name == fname:
            return off
        off += sizeof(f.type, program)
    raise IRError(NOWHERE, f"struct {struct} has no field {fname}")


# ---------------------------------------------------------------- serial form


def to_json(node) -> Any:
    """The stable serialized form: dataclasses become {"node": Name, ...fields}."""
    if is_dataclass(node):
        out = {"node": type(node).__name__}
        for f in fields(node):
            out[f.name] = to_json(getattr(node, f.name))
        return out
    if isinstance(node, tuple):
        return [to_json(x) for x in node]
    return node


_NODE_TYPES = {cls.__name__: cls for cls in (
    IntT, PtrT, StructT, ArrayT, OpaqueT, VoidT, FuncT, SourceLoc, *EXPR_NODES, *INSTR_NODES,
    Field, StructDef, GlobalVar, LocalVar, Function, EntryPoint, Bounds, Lifecycle, Invariant, Program)}


def from_json(data) -> Any:
    """Inverse of `to_json`."""
    if isinstance(data, dict):
        cls = _NODE_TYPES[data["node"]]
        return cls(**{k: from_json(v) for k, v in data.items() if k != "node"})
    if isinstance(data, list):
        return tuple(from_json(x) for x in data)
    return data


# ---------------------------------------------------------------- printer


def expr_str(e, fn: Function | None = None) -> str:
    """Readable text of an expression."""
    if isinstance(e, Const):
        if isinstance(e.type, PtrT) and e.value == 0:
            return "NULL"
        return str(e.value)
    if isinstance(e, Var):
        if fn is not None and e.index < len(fn.locals):
            return fn.locals[e.index].name
        return f"%{e.index}"
    if isinstance(e, GlobalAddr):
        return f"&{e.name}"
    if isinstance(e, FieldAddr):
        return f"&{expr_str(e.base, fn)}->{e.field}"
    if isinstance(e, IndexAddr):
        return f"&({expr_str(e.base, fn)})[{expr_str(e.index, fn)}]"
    if isinstance(e, ContainerOf):
        return f"container_of({expr_str(e.ptr, fn)}, struct {e.struct}, {e.field})"
    if isinstance(e, Bin):
        return f"({expr_str(e.left, fn)} {e.op} {expr_str(e.right, fn)})"
    if isinstance(e, Un):
        return f"{e.op}{expr_str(e.operand, fn)}"
    if isinstance(e, Cast):
        return f"({type_str(e.type)}){expr_str(e.operand, fn)}"
    if isinstance(e, Deref):
        return f"*{expr_str(e.addr, fn)}"
    if isinstance(e, Query):
        return f"{e.name}({', '.join(expr_str(a, fn) for a in e.args)})"
    return repr(e)


def instr_str(i, fn: Function | None = None) -> str:
    def loc(n):
        return fn.locals[n].name if fn is not None and 0 <= n < len(fn.locals) else f"%{n}"
    if isinstance(i, Set):
        return f"{loc(i.dst)} = {expr_str(i.expr, fn)}"
    if isinstance(i, Load):
        return f"{loc(i.dst)} = load {type_str(i.type)} {expr_str(i.addr, fn)}"
    if isinstance(i, Store):
        return f"store {type_str(i.type)} {expr_str(i.addr, fn)} <- {expr_str(i.value, fn)}"
    if isinstance(i, (Call, Prim)):
        name = i.func if isinstance(i, Call) else i.name
        args = ", ".join(expr_str(a, fn) for a in i.args)
        extra = f" [{i.aux}]" if isinstance(i, Prim) and i.aux else ""
        kind = "call" if isinstance(i, Call) else "prim"
        lhs = f"{loc(i.dst)} = " if i.dst >= 0 else ""
        return f"{lhs}{kind} {name}({args}){extra}"
    if isinstance(i, Branch):
        return f"if {expr_str(i.cond, fn)} goto {i.then} else {i.other}"
    if isinstance(i, Jump):
        return f"goto {i.target}"
    if isinstance(i, Ret):
        return "return" if i.value is None else f"return {expr_str(i.value, fn)}"
    if isinstance(i, Check):
        return f"{i.kind}({expr_str(i.cond, fn)})"
    return repr(i)


def print_program(p: Program) -> str:
    """`mkverify ir`: the IR as text, stable for a given program."""
    out = [f"; program {p.name}"]
    b = p.bounds
    pools = ", ".join(f"{s}={n}" for s, n in b.pools)
    out.append(f"; bounds: cpus={b.cpus} host_cpus={b.host_cpus} pools[{pools}] idr_capacity={b.idr_capacity}"
               f" alloc_can_fail={str(b.alloc_can_fail).lower()} depth={b.depth}")
    for s in p.structs:
        out.append(f"struct {s.name} {{ " + " ".join(f"{type_str(f.type)} {f.name};" for f in s.fields) + " }")
    for name, value, enum in p.enums:
        out.append(f"const {name} = {value}  ; enum {enum}")
    for g in p.globals:
        init = f" = {{{', '.join(f'[{o}]={v}' for o, v in g.init)}}}" if g.init else ""
        out.append(f"global {type_str(g.type)} {g.name}{init}")
    for f in p.functions:
        params = ", ".join(f"{type_str(v.type)} {v.name}" for v in f.locals[:f.nparams])
        out.append(f"func {type_str(f.ret)} {f.name}({params})  ; {f.loc}")
        for v in f.locals[f.nparams:]:
            out.append(f"    local {type_str(v.type)} {v.name}")
        for n, ins in enumerate(f.body):
            vis = "*" if isinstance(ins, VISIBLE) else " "
            out.append(f"  {vis}{n:3d}: {instr_str(ins, f)}  ; {ins.loc.line}:{ins.loc.col}")
    for e in p.entries:
        doms = "; ".join("{" + ", ".join(map(str, d)) + "}" for d in e.domains)
        out.append(f"entry {e.function}({doms})")
    for lc in p.lifecycles:
        names = dict((v, n) for n, v in lc.states)
        tr = ", ".join(f"{names.get(a, a)}->{names.get(b, b)}" for a, b in lc.transitions)
        out.append(f"lifecycle {lc.struct}.{lc.field}: {tr}")
    for inv in p.invariants:
        when = "always" if inv.always else "quiescent"
        out.append(f"invariant {inv.name} over struct {inv.struct} ({when}): {expr_str(inv.expr)}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- validator


def _walk_expr(e):
    yield e
    for name in ("base", "index", "ptr", "left", "right", "operand", "addr"):
        sub = getattr(e, name, None)
        if sub is not None and isinstance(sub, EXPR_NODES):
            yield from _walk_expr(sub)
    if isinstance(e, Query):
        for a in e.args:
            yield from _walk_expr(a)


def _instr_exprs(i):
    for name in ("expr", "addr", "value", "cond"):
        sub = getattr(i, name, None)
        if sub is not None and isinstance(sub, EXPR_NODES):
            yield sub
    if isinstance(i, (Call, Prim)):
        yield from i.args


_EXPR_CHILDREN = {Bin: ("left", "right"), Un: ("operand",), Cast: ("operand",), FieldAddr: ("base",),
                  IndexAddr: ("base", "index"), ContainerOf: ("ptr",), Deref: ("addr",)}


def validate(p: Program) -> Program:
    """Reject an ill-formed program with an IRError naming the place; return it unchanged."""
    def err(loc, msg, hint=None):
        raise IRError(loc, msg, hint)

    seen = set()
    for s in p.structs:
        if s.name in seen:
            err(s.loc, f"struct {s.name} is defined twice")
        seen.add(s.name)
    def check_type(t, loc, stack=()):
        if isinstance(t, StructT):
            sd = p.struct(t.name)
            if sd is None:
                err(loc, f"struct {t.name} is used but never defined")
            if t.name in stack:
                err(loc, f"struct {t.name} contains itself")
            for f in sd.fields:
                check_type(f.type, f.loc, stack + (t.name,))
        elif isinstance(t, ArrayT):
            if not ARRAY_RANGE[0] <= t.n <= ARRAY_RANGE[1]:
                err(loc, f"array size {t.n} is out of range ({ARRAY_RANGE[0]}..{ARRAY_RANGE[1]})")
            check_type(t.elem, loc, stack)
        elif isinstance(t, PtrT):
            if isinstance(t.target, StructT) and p.struct(t.target.name) is None:
                err(loc, f"pointer to undefined struct {t.target.name}")
        elif isinstance(t, OpaqueT):
            if t.kind not in OPAQUE_KINDS:
                err(loc, f"unknown kernel primitive type {t.kind}")
        elif isinstance(t, IntT):
            if not 1 <= t.bits <= 64:
                err(loc, f"an integer of {t.bits} bits (1 to 64)")
        elif not isinstance(t, (VoidT, FuncT)):
            err(loc, f"not a type: {type(t).__name__}")

    def shape(t):
        """A type as the engines see it (an enum is its integer)."""
        if isinstance(t, IntT):
            return ("int", t.bits, t.signed)
        if isinstance(t, PtrT):
            return ("ptr", shape(t.target))
        return t

    def check_instr_types(i, f):
        """A load or store moves a value of the type its address points to, into or from a local of that
        type; a Set's local has its expression's type (what the front end emits, and machine.py and the
        C enumerator assume)."""
        def local(k):
            return f.locals[k] if 0 <= k < len(f.locals) else None
        if isinstance(i, (Load, Store)):
            check_type(i.type, i.loc)
            if not isinstance(i.addr.type, PtrT) or shape(i.addr.type.target) != shape(i.type):
                err(i.loc, f"a {type(i).__name__.lower()} of {type_str(i.type)} through {type_str(i.addr.type)}")
        if isinstance(i, Store) and shape(i.value.type) != shape(i.type):
            err(i.loc, f"a store of {type_str(i.value.type)} as {type_str(i.type)}")
        if isinstance(i, Load) and local(i.dst) is not None and shape(local(i.dst).type) != shape(i.type):
            err(i.loc, f"a load of {type_str(i.type)} into local %{i.dst} of {type_str(local(i.dst).type)}")
        if isinstance(i, Set) and local(i.dst) is not None and shape(local(i.dst).type) != shape(i.expr.type):
            err(i.loc, f"local %{i.dst} of {type_str(local(i.dst).type)} set to {type_str(i.expr.type)}")
        if isinstance(i, Ret) and i.value is not None and not isinstance(i.value, EXPR_NODES):
            err(i.loc, f"not an expression: {type(i.value).__name__} returned by {f.name}")
        if isinstance(i, Ret) and (i.value is None) != isinstance(f.ret, VoidT) or \
                isinstance(i, Ret) and i.value is not None and shape(i.value.type) != shape(f.ret):
            err(i.loc, f"{f.name} returns {type_str(f.ret)}, here "
                       f"{'nothing' if i.value is None else type_str(i.value.type)}")
        if isinstance(i, Check) and i.kind not in ("BUG_ON", "WARN_ON"):
            err(i.loc, f"unknown check {i.kind}")

    def check_value_types(sub, loc, where):
        """Values are integers and pointers, combined as the front end combines them: arithmetic on
        integers, == and != also on two pointers, casts within each kind, addresses computed from
        pointers to what they point into."""
        def bad(what):
            err(loc, f"{what} in {where}")
        if not isinstance(sub.type, (IntT, PtrT)):
            bad(f"a {type(sub).__name__} of {type_str(sub.type)}, not an integer or a pointer")
        children = [getattr(sub, name) for name in _EXPR_CHILDREN.get(type(sub), ())]
        if isinstance(sub, Query):
            children += list(sub.args)
        for c in children:
            if not isinstance(c, EXPR_NODES):
                bad(f"not an expression: {type(c).__name__} inside a {type(sub).__name__}")
        if isinstance(sub, Bin):
            kinds = {type(sub.left.type), type(sub.right.type)}
            def null(x):  # `p == 0`: the front end keeps the integer zero
                return isinstance(x, Const) and x.value == 0
            pointers = kinds == {PtrT} or kinds == {PtrT, IntT} and (null(sub.left) or null(sub.right))
            if not isinstance(sub.type, IntT) or not (kinds == {IntT} or sub.op in ("==", "!=") and pointers):
                bad(f"{type_str(sub.left.type)} {sub.op} {type_str(sub.right.type)} as {type_str(sub.type)}")
        elif isinstance(sub, Un):
            if not (isinstance(sub.operand.type, IntT) and isinstance(sub.type, IntT)):
                bad(f"{sub.op} of {type_str(sub.operand.type)} as {type_str(sub.type)}")
        elif isinstance(sub, Cast):
            if type(sub.operand.type) is not type(sub.type):
                bad(f"a cast of {type_str(sub.operand.type)} to {type_str(sub.type)}")
        elif isinstance(sub, FieldAddr):
            if sub.base.type != PtrT(StructT(sub.struct)):
                bad(f"&...->{sub.field} of struct {sub.struct} through {type_str(sub.base.type)}")
        elif isinstance(sub, IndexAddr):
            bt = sub.base.type
            if not (isinstance(bt, PtrT) and isinstance(bt.target, ArrayT) and isinstance(sub.index.type, IntT)
                    and shape(sub.type) == shape(PtrT(bt.target.elem))):
                bad(f"&...[{type_str(sub.index.type)}] of {type_str(bt)} as {type_str(sub.type)}")
        elif isinstance(sub, ContainerOf):
            sd = p.struct(sub.struct)
            fits = shape(sub.ptr.type) == shape(PtrT(sd.field(sub.field).type)) or sub.ptr.type == PtrT(VoidT())
            if not fits or sub.type != PtrT(StructT(sub.struct)):
                bad(f"container_of({type_str(sub.ptr.type)}, struct {sub.struct}, {sub.field}) as {type_str(sub.type)}")
        elif isinstance(sub, Deref):
            if not isinstance(sub.addr.type, PtrT) or shape(sub.addr.type.target) != shape(sub.type):
                bad(f"*({type_str(sub.addr.type)}) as {type_str(sub.type)}")

    def check_expr(e, loc, where, local_vars=None):
        """The parts of an expression tree every engine relies on (found by tests/test_ir_fuzz.py): known
        operators, types, and the type of each address and local as declared."""
        for sub in _walk_expr(e):
            if not isinstance(sub, EXPR_NODES):
                err(loc, f"not an expression: {type(sub).__name__} in {where}")
            check_type(sub.type, getattr(sub, "loc", loc) or loc)
            if isinstance(sub, Bin) and sub.op not in BIN_OPS:
                err(loc, f"unknown binary operator {sub.op!r} in {where}")
            if isinstance(sub, Un) and sub.op not in UN_OPS:
                err(loc, f"unknown unary operator {sub.op!r} in {where}")
            if isinstance(sub, Query):
                if sub.name not in QUERIES:
                    err(loc, f"unknown query {sub.name} in {where}")
                kinds = QUERIES[sub.name][0]
                if not isinstance(sub.args, tuple) or not all(isinstance(a, EXPR_NODES) for a in sub.args):
                    err(loc, f"the arguments of {sub.name} in {where} are not expressions")
                if len(sub.args) != len(kinds) or not all(prim_arg_fits(k, a.type) for k, a in zip(kinds, sub.args)):
                    err(loc, f"{sub.name}({', '.join(type_str(a.type) for a in sub.args)}) in {where}: "
                             f"it takes ({', '.join(kinds)})")
            if isinstance(sub, (FieldAddr, ContainerOf)):
                sd = p.struct(sub.struct)
                if sd is None or sd.field(sub.field) is None:
                    err(loc, f"struct {sub.struct} has no field {sub.field}")
                if isinstance(sub, FieldAddr) and shape(sub.type) != shape(PtrT(sd.field(sub.field).type)):
                    err(loc, f"&...->{sub.field} has type {type_str(sub.type)}, the field is "
                             f"{type_str(sd.field(sub.field).type)}")
            if isinstance(sub, GlobalAddr):
                if sub.name not in gnames:
                    err(loc, f"address of undefined global {sub.name}")
                if shape(sub.type) != shape(PtrT(gtypes[sub.name])):
                    err(loc, f"&{sub.name} has type {type_str(sub.type)}, the global is {type_str(gtypes[sub.name])}")
            if isinstance(sub, Var) and local_vars is not None and 0 <= sub.index < len(local_vars) and \
                    shape(sub.type) != shape(local_vars[sub.index].type):
                err(loc, f"local %{sub.index} used as {type_str(sub.type)}, declared "
                         f"{type_str(local_vars[sub.index].type)}")
            check_value_types(sub, loc, where)
    for s in p.structs:
        check_type(StructT(s.name), s.loc)
    for g in p.globals:
        check_type(g.type, g.loc)

    def records(xs, kinds, loc, what):
        """A tuple of fixed-shape tuples (the spec's pairs and triples), element by element."""
        ok = isinstance(xs, tuple) and all(
            isinstance(x, tuple) and len(x) == len(kinds) and
            all(isinstance(v, k) and not (k is int and isinstance(v, bool)) for v, k in zip(x, kinds)) for x in xs)
        if not ok:
            shape = ", ".join(k.__name__ for k in kinds)
            err(loc, f"{what} must be a tuple of ({shape}) tuples, not {xs!r:.80}")

    b = p.bounds
    records(b.pools, (str, int), NOWHERE, "bounds.pools")
    records(tuple((c,) for c in b.cpus_online) if isinstance(b.cpus_online, tuple) else b.cpus_online, (int,),
            NOWHERE, "bounds.cpus_online")
    records(p.enums, (str, int, str), NOWHERE, "the enum constants")
    for e in p.entries:
        for d in e.domains if isinstance(e.domains, tuple) else (None,):
            records(tuple((v,) for v in d) if isinstance(d, tuple) else d, (int,), e.loc,
                    f"a domain of entry point {e.function}")
    for lc in p.lifecycles:
        records(lc.states, (str, int), lc.loc, f"the states of lifecycle {lc.struct}.{lc.field}")
        records(lc.transitions, (int, int), lc.loc, f"the transitions of lifecycle {lc.struct}.{lc.field}")
    for k, (lo, hi) in BOUND_RANGES.items():
        v = getattr(b, k)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            err(NOWHERE, f"bounds.{k} must be an integer in {lo}..{hi}, not {v!r}")
    for c in b.cpus_online:
        if not b.host_cpus <= c < b.cpus:
            err(NOWHERE, f"bounds.cpus_online names CPU {c}, but non-host CPUs are {b.host_cpus}..{b.cpus - 1}")
    if b.host_cpus < 1 or b.cpus < b.host_cpus:
        err(NOWHERE, f"bounds need 1 <= host_cpus <= cpus (got host_cpus={b.host_cpus}, cpus={b.cpus})")
    pools = dict(b.pools)
    for name, n in b.pools:
        if p.struct(name) is None:
            err(NOWHERE, f"pool for undefined struct {name}")
        if not POOL_RANGE[0] <= n <= POOL_RANGE[1]:
            err(NOWHERE, f"pool {name} has {n} slots, not {POOL_RANGE[0]}..{POOL_RANGE[1]}")

    gnames = {g.name for g in p.globals}
    gtypes = {g.name: g.type for g in p.globals}
    funcs = {}
    for f in p.functions:
        if f.name in funcs:
            err(f.loc, f"function {f.name} is defined twice")
        funcs[f.name] = f
    calls: dict[str, set] = {}
    for f in p.functions:
        if not f.body:
            err(f.loc, f"function {f.name} has no body")
        if not isinstance(f.locals, tuple) or not all(isinstance(v, LocalVar) for v in f.locals) or \
                not isinstance(f.nparams, int) or isinstance(f.nparams, bool):
            err(f.loc, f"function {f.name}: locals must be LocalVars and nparams an integer")
        if not 0 <= f.nparams <= len(f.locals):
            err(f.loc, f"function {f.name} has {f.nparams} parameters and {len(f.locals)} locals")
        for v in f.locals:
            check_type(v.type, v.loc or f.loc)
            if not isinstance(v.type, (IntT, PtrT)):
                err(v.loc or f.loc, f"local {v.name} of {f.name} is {type_str(v.type)}: locals hold integers and pointers")
        check_type(f.ret, f.loc)
        if not isinstance(f.body[-1], (Ret, Jump)):
            err(f.body[-1].loc, f"function {f.name} can run off its end")
        n = len(f.body)
        calls[f.name] = set()
        for i in f.body:
            for e in _instr_exprs(i):
                for sub in _walk_expr(e):
                    if isinstance(sub, Var) and not 0 <= sub.index < len(f.locals):
                        err(i.loc, f"local %{sub.index} out of range in {f.name}")
                    if isinstance(sub, (Deref, Query)):
                        err(i.loc, "memory reads inside an expression are only allowed in invariants")
                    if isinstance(sub, GlobalAddr) and sub.name not in gnames:
                        err(i.loc, f"address of undefined global {sub.name}")
                    if isinstance(sub, (FieldAddr, ContainerOf)):
                        sd = p.struct(sub.struct)
                        if sd is None or sd.field(sub.field) is None:
                            err(i.loc, f"struct {sub.struct} has no field {sub.field}")
                check_expr(e, i.loc, f.name, f.locals)
            if isinstance(i, (Set, Load)) and not 0 <= i.dst < len(f.locals) or \
                    isinstance(i, (Call, Prim)) and not -1 <= i.dst < len(f.locals):
                err(i.loc, f"destination %{i.dst} out of range in {f.name}")
            check_instr_types(i, f)
            if isinstance(i, Branch) and not (0 <= i.then < n and 0 <= i.other < n):
                err(i.loc, f"branch target out of range in {f.name}")
            if isinstance(i, Jump) and not 0 <= i.target < n:
                err(i.loc, f"jump target out of range in {f.name}")
            if isinstance(i, Call):
                callee = funcs.get(i.func) or next((g for g in p.functions if g.name == i.func), None)
                if callee is None:
                    err(i.loc, f"call to undefined function {i.func}")
                if len(i.args) != callee.nparams:
                    err(i.loc, f"{i.func} takes {callee.nparams} arguments, {len(i.args)} given")
                for k, (a, param) in enumerate(zip(i.args, callee.locals)):
                    if shape(a.type) != shape(param.type):
                        err(i.loc, f"argument {k + 1} of {i.func} is {type_str(a.type)}, the parameter "
                                   f"{param.name} is {type_str(param.type)}")
                if i.dst >= 0 and (isinstance(callee.ret, VoidT) or shape(callee.ret) != shape(f.locals[i.dst].type)):
                    err(i.loc, f"{i.func} returns {type_str(callee.ret)}, its result goes to local %{i.dst} of "
                               f"{type_str(f.locals[i.dst].type)}")
                calls[f.name].add(i.func)
            if isinstance(i, Prim):
                if i.name not in PRIMS:
                    err(i.loc, f"unknown primitive {i.name}")
                kinds = PRIMS[i.name][0]
                if len(i.args) != len(kinds):
                    err(i.loc, f"{i.name} takes {len(kinds)} arguments, {len(i.args)} given")
                for k, (kind, a) in enumerate(zip(kinds, i.args)):
                    if not prim_arg_fits(kind, a.type):
                        want = "an integer" if kind == "int" else "a pointer" if kind == ANY_PTR else \
                            type_str(PtrT(OpaqueT(kind)))
                        err(i.loc, f"argument {k + 1} of {i.name} is {type_str(a.type)}, not {want}")
                if i.name == "kzalloc" and i.aux not in pools:
                    err(i.loc, f"kzalloc of struct {i.aux}, which has no pool in the bounds",
                        f"add `{i.aux} = 2` under [bounds.pools] in the spec")
                result = PtrT(StructT(i.aux)) if i.name == "kzalloc" else PRIMS[i.name][1]
                if i.dst >= 0 and (result is None or shape(f.locals[i.dst].type) != shape(result)):
                    err(i.loc, f"{i.name} returns {'nothing' if result is None else type_str(result)}, its result "
                               f"goes to local %{i.dst} of {type_str(f.locals[i.dst].type)}")
                if kernel.PRIMS[i.name].aux == "release":
                    rel = next((g for g in p.functions if g.name == i.aux), None)
                    if rel is None or rel.nparams != 1 or not rel.locals:
                        err(i.loc, f"{i.name} release callback {i.aux} must be a model function of one argument")
                    if rel.locals[0].type != PtrT(OpaqueT("kref")):
                        err(i.loc, f"{i.name} release callback {i.aux} takes {type_str(rel.locals[0].type)}, "
                                   f"not struct kref *")
                    calls[f.name].add(i.aux)
    # no recursion: the call graph must be acyclic
    state: dict[str, int] = {}
    def visit(name, path):
        if state.get(name) == 1:
            cyc = " -> ".join(path[path.index(name):] + [name])
            err(funcs[name].loc, f"recursion is not supported ({cyc})", "rewrite the recursion as a bounded loop")
        if state.get(name) == 2:
            return
        state[name] = 1
        for callee in sorted(calls.get(name, ())):
            visit(callee, path + [name])
        state[name] = 2
    for name in sorted(funcs):
        visit(name, [])

    for e in p.entries:
        f = funcs.get(e.function)
        if f is None:
            err(e.loc, f"entry point {e.function} is not a function of the model")
        if len(e.domains) != f.nparams:
            err(e.loc, f"entry point {e.function} takes {f.nparams} arguments, domains give {len(e.domains)}")
        for d in e.domains:
            if not d:
                err(e.loc, f"entry point {e.function} has an empty argument domain")
            if len(d) > MAX_DOMAIN:
                err(e.loc, f"an argument domain of entry point {e.function} has {len(d)} values, at most {MAX_DOMAIN}")
        for d, param in zip(e.domains, f.locals):
            t = param.type
            lo, hi = int_range(t) if isinstance(t, IntT) else (0, 0)  # a pointer parameter: NULL only
            if any(not lo <= v <= hi for v in d):
                err(e.loc, f"a value of {e.function}'s {param.name} domain is outside {type_str(t)}'s {lo}..{hi}")
    for lc in p.lifecycles:
        sd = p.struct(lc.struct)
        if sd is None or sd.field(lc.field) is None or not isinstance(sd.field(lc.field).type, IntT):
            err(lc.loc, f"lifecycle field {lc.struct}.{lc.field} is not an integer field of a defined struct")
    for inv in p.invariants:
        if p.struct(inv.struct) is None:
            err(inv.loc, f"invariant {inv.name} ranges over undefined struct {inv.struct}")
        check_expr(inv.expr, inv.loc, f"invariant {inv.name}", (LocalVar("self", PtrT(StructT(inv.struct))),))
        for sub in _walk_expr(inv.expr):
            if isinstance(sub, Var) and sub.index != 0:
                err(inv.loc, f"local %{sub.index} in invariant {inv.name}, which has only self (%0)")
    return p
