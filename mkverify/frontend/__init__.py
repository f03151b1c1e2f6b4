"""The front end: model files (a C subset) + a spec -> a validated ir.Program.

Nothing else in mkverify reads source text. `load(path)` finds the model's
files and its spec (see `find_spec`), preprocesses the C with the prelude,
parses it with pycparser, lowers it (lower.py) and resolves the spec's names
against the model's types.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re
import tomllib

from pycparser import c_parser, c_ast
from pycparser.c_lexer import CLexer

from .. import core, ir
from ..diag import FrontendError, SpecError, UsageError, SourceLoc, did_you_mean
from ..spec import Spec, load_spec, display_path
from .cpp import preprocess, PRELUDE
from .lower import Builder, FunctionLowerer

# A hand-written model is a few hundred lines; pycparser needs about 6 s a MiB, so a
# bigger file is generated code, and would look like a hang before any message.
MAX_SOURCE_BYTES = 1024 * 1024


@dataclass
class Model:
    """A model on disk: its C files, its spec, and its expectation directive."""
    path: Path
    files: list
    spec: Spec
    display: str


def model_files(path: Path) -> list[Path]:
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.c") if p.is_file())
        if not files:
            raise UsageError(SourceLoc(display_path(path)), "no model here: the directory has no .c files",
                             "a model is a .c file or a directory of .c files")
        return files
    if path.is_file():
        return [path]
    raise UsageError(SourceLoc(display_path(path)), "no such file or directory")


def find_spec(path: Path) -> Path:
    """The spec of a model: `x.toml` beside `x.c`, `spec.toml` in a model directory,
    or a spec in an enclosing `specs/` directory whose `model` key names it."""
    path = Path(path).resolve()
    if path.is_file() and path.with_suffix(".toml").is_file():
        return path.with_suffix(".toml")
    if path.is_dir() and (path / "spec.toml").is_file():
        return path / "spec.toml"
    for anc in path.parents:
        specs = anc / "specs"
        if specs.is_dir():
            for s in sorted(specs.glob("*.toml")):
                try:
                    model = tomllib.loads(s.read_text(encoding="utf-8")).get("model")
                except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
                    continue
                if isinstance(model, str) and (s.parent / model).resolve() == path:
                    return s
    raise UsageError(SourceLoc(display_path(path)), "no spec found for this model",
                     "put x.toml beside x.c, spec.toml in the model directory, or a spec in specs/ "
                     "with model = \"<path to the model>\"")


def open_model(path: Path, spec_path: Path | None = None) -> Model:
    path = Path(path)
    if path.suffix == ".toml":
        spec = load_spec(path)
        if spec.model is None:
            raise SpecError(spec.loc(), "this spec does not name its model", 'add model = "../models/<name>"')
        mpath = spec.model
        if not mpath.exists():
            raise SpecError(spec.model_loc or spec.loc("model"),
                            f"the spec's model '{display_path(mpath)}' does not exist",
                            "model is a path relative to the spec file")
    else:
        mpath = path
        if not path.exists():
            raise UsageError(SourceLoc(display_path(path)), "no such file or directory")
        spec = load_spec(spec_path or find_spec(path))
    return Model(mpath, model_files(mpath), spec, display_path(mpath))


def expectation(files: list[Path]) -> dict:
    """The leading `// mkverify: key = value` lines of a model's files, as TOML."""
    lines = []
    for f in files:
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            s = line.strip()
            if s.startswith("// mkverify:"):
                lines.append(s[len("// mkverify:"):].strip())
            elif s and not s.startswith("//") and not s.startswith("/*") and not s.startswith("*"):
                break
    return tomllib.loads("\n".join(lines)) if lines else {}


def _read_checked(f: Path) -> None:
    disp = display_path(f)
    try:
        data = f.read_bytes()
    except OSError as e:
        raise FrontendError(SourceLoc(disp), f"cannot read model file: {e.strerror}")
    if len(data) > MAX_SOURCE_BYTES:
        raise FrontendError(SourceLoc(disp, 1, 1), f"model file is {len(data) // 1024} KiB; the limit is "
                            f"{MAX_SOURCE_BYTES // 1024 // 1024} MiB", "split the model or remove generated code")
    if not data.strip():
        raise FrontendError(SourceLoc(disp, 1, 1), "model file is empty", "a model needs at least its entry functions")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise FrontendError(SourceLoc(disp, line, col), "model file is not valid UTF-8", "save the file as UTF-8")


def _line_directive(loc: SourceLoc, text: str, prefix: str) -> str:
    """Place `text` so that its first character sits at loc's line and column.

    The prefix (our wrapper declaration) goes on a line of its own, also marked
    as loc's line, so errors in the text get exact columns and errors in the
    wrapper still point into the spec."""
    mark = f'#line {loc.line} "{loc.file}"'
    return f'{mark}\n{prefix}\n{mark}\n{" " * max(loc.col - 1, 0)}{text}'


def load(path: Path, spec_path: Path | None = None, overrides: dict | None = None) -> ir.Program:
    model = open_model(path, spec_path)
    return build(model, overrides or {})


def build(model: Model, overrides: dict) -> ir.Program:
    spec = model.spec
    if not spec.entries:  # a spec with only [flags] is enough for `mkverify flags`, not for a model
        raise SpecError(spec.loc("entry"), "the spec declares no entry point",
                        'add an [[entry]] table: function = "my_syscall", args = { id = [1, 2] }')
    for f in model.files:
        _read_checked(f)
    # the spec's C expressions go at the end of the unit, behind #line directives
    appendix = []
    domain_names = {}
    for ei, e in enumerate(spec.entries):
        for pname, values in e.args.items():
            for k, v in enumerate(values):
                if isinstance(v.value, str):
                    name = f"__mkverify_domain_{ei}_{len(domain_names)}"
                    domain_names[(ei, pname, k)] = name
                    prefix = f"static const long long {name} = ("
                    appendix.append(_line_directive(v.loc, v.value, prefix) + ");")
    inv_names = []
    for n, inv in enumerate(spec.invariants):
        name = f"__mkverify_expr_{n}"
        inv_names.append(name)
        prefix = f"static int {name}(struct {inv.struct.value} *self) {{ return ("
        appendix.append(_line_directive(inv.expr.loc, inv.expr.value, prefix) + "); }")
    text = preprocess(model.files, "\n".join(appendix) + "\n", display_path)
    parser = c_parser.CParser()
    try:
        ast = parser.parse(text, str(model.files[0]))
    except c_parser.ParseError as e:
        raise _parse_error(str(e), text, parser, model)
    except AssertionError:
        # pycparser 3 asserts (its scope stack underflows) on a '}' that closes nothing
        raise _parse_error("", text, parser, model)
    except (AttributeError, IndexError, KeyError, TypeError):
        # pycparser 3 trips over some malformed declarations (found by tests/fuzz/fuzz_frontend.py, e.g.
        # 'struct s { struct t u v; }' reads .names of a Struct): a syntax error at the last token it took
        err = _parse_error("the C parser cannot read the declaration that ends here", text, parser, model)
        err.hint = err.hint or "look for a missing ';' or a stray word in this declaration or the one before it"
        raise err
    except (RecursionError, MemoryError):
        # the parser recurses once per level of nesting: name the first bracket past a
        # fixed depth, else the place where it gave up
        deep = _too_deep(text)
        if deep is not None:
            raise FrontendError(deep, f"brackets are nested more than {MAX_BRACKETS} levels deep",
                                "split very deep expressions or statements")
        raise FrontendError(_last_token_loc(parser) or SourceLoc(model.display),
                            "the model is nested too deeply for the C parser",
                            "split very deep expressions or statements")
    _check_nesting(ast)
    user_files = {display_path(f) for f in model.files}
    for ext in ast.ext:
        c = ext.coord
        name = (ext.decl.name if isinstance(ext, c_ast.FuncDef) else getattr(ext, "name", None)) or ""
        file = display_path(c.file) if c is not None else ""
        if file == spec.display and not name.startswith("__mkverify_"):
            # a spec expression such as "1); int z = (2" escaped its wrapper and added to the model
            raise SpecError(SourceLoc(spec.display, c.line or 0, c.column or 0),
                            "a C expression in the spec must be a single expression", "check its parentheses")
        if file in user_files and name.startswith("__mkverify_"):
            raise FrontendError(SourceLoc(file, c.line or 0, c.column or 0),
                                f"'{name}': names starting with __mkverify_ are reserved for mkverify",
                                "rename it")
    b = Builder(ast, display_path, str(PRELUDE))
    try:
        functions = b.build(model.display)
    except RecursionError:
        raise FrontendError(SourceLoc(model.display), "an expression or statement is nested too deeply",
                            "split it into smaller pieces")
    _check_recursion(functions)
    return _resolve(model, b, functions, domain_names, inv_names, overrides)


_ASM = re.compile(r"\b(asm|__asm__|__asm)\b")
_ATTRIBUTE = re.compile(r"\b(__attribute__|__attribute)\b")


def _parse_error(msg: str, text: str, parser: c_parser.CParser, model: Model) -> FrontendError:
    """A pycparser failure as an error at the user's token, with a plainer message.

    pycparser reports most errors at a token; a few ("At end of input",
    "Invalid expression") carry no position, and an unmatched '}' trips an
    assertion. An unbalanced brace makes the parser fail later, somewhere
    else (the next function, or the spec's expressions behind the model), so
    one that comes before the parser's position, or any when that position is
    not in a model file, is reported instead.
    """
    user_files = {display_path(f) for f in model.files}
    m = re.match(r"^(.*?):(\d+):(\d+): (.*)$", msg, re.S)
    loc = SourceLoc(display_path(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    brace = _unbalanced_brace(text, user_files)
    if brace is not None and (loc is None or loc.file not in user_files or
                              (brace.loc.file == loc.file and brace.loc.line <= loc.line)):
        return brace
    if loc is None:
        loc = _last_token_loc(parser) or SourceLoc(model.display)
        detail = msg.rsplit(": ", 1)[-1].strip() if msg else "unexpected '}'"
    else:
        detail = m.group(4).strip()
    line = _source_line(loc)
    asm = _ASM.search(line)
    if asm:
        return FrontendError(SourceLoc(loc.file, loc.line, asm.start() + 1), "inline assembly is not supported",
                             "model what the assembly does in C")
    attr = _ATTRIBUTE.search(line)
    if attr:
        return FrontendError(SourceLoc(loc.file, loc.line, attr.start() + 1),
                             f"attributes ({attr.group(1)}) are not supported", "remove the attribute")
    token = re.fullmatch(r"before: (.+)", detail)
    if token:
        hint = None
        prev = _previous_line(loc)
        if line[:max(loc.col - 1, 0)].strip() == "" and prev and re.search(r"[\w)\]]$", prev[1]):
            hint = f"is a ';' missing at the end of line {prev[0]}?"
        return FrontendError(loc, f"syntax error before '{token.group(1)}'", hint)
    if detail == "At end of input":
        return FrontendError(loc, "syntax error: the model ends in the middle of a declaration or statement",
                             "check that every '(' and '{' is closed")
    return FrontendError(loc, f"syntax error: {detail[:1].lower() + detail[1:]}")


def _brackets(text: str, kinds: tuple):
    """(token type, loc) of each bracket token of the given kinds in preprocessed text."""
    lexer = _lexer()
    lexer.input(text, "")
    while True:
        tok = lexer.token()
        if tok is None:
            return
        if tok.type in kinds:
            filename = getattr(tok, "filename", None) or getattr(lexer, "filename", "")
            yield tok.type, SourceLoc(display_path(filename), tok.lineno, tok.column)


def _lexer() -> CLexer:
    """pycparser's lexer; its constructor changed between 3.0 and 3.1."""
    def ignore(msg, line, col):
        return None
    try:
        return CLexer(ignore)  # pycparser >= 3.1: CLexer(error_func, *, dialect=...)
    except TypeError:
        return CLexer(ignore, lambda: None, lambda: None, lambda name: False)  # pycparser 3.0


MAX_BRACKETS = 100


def _too_deep(text: str) -> SourceLoc | None:
    """The first bracket nested more than MAX_BRACKETS deep (pycparser recurses per level)."""
    depth = 0
    for kind, loc in _brackets(text, ("LPAREN", "LBRACKET", "LBRACE", "RPAREN", "RBRACKET", "RBRACE")):
        depth += 1 if kind.startswith("L") else -1
        if depth > MAX_BRACKETS:
            return loc
    return None


def _unbalanced_brace(text: str, user_files: set) -> FrontendError | None:
    """The first '}' in a model file that closes nothing, or the first '{' never closed."""
    stack = []
    for kind, loc in _brackets(text, ("LBRACE", "RBRACE")):
        if kind == "LBRACE":
            stack.append(loc)
        elif stack:
            stack.pop()
        elif loc.file in user_files:
            return FrontendError(loc, "syntax error: this '}' has no matching '{'", "remove it, or add the '{' it closes")
    for loc in stack:
        if loc.file in user_files:
            return FrontendError(loc, "syntax error: this '{' is never closed", "add the matching '}'")
    return None


def _last_token_loc(parser: c_parser.CParser) -> SourceLoc | None:
    """Where pycparser stopped: the token it could not use, else the last one it read
    (for errors that carry no position; this reads the parser's private token buffer)."""
    stream = getattr(parser, "_tokens", None)
    buf, i = getattr(stream, "_buffer", None) or [], getattr(stream, "_index", 0)
    toks = [t for t in buf[:i + 1] if t is not None]
    if not toks:
        return None
    return SourceLoc(display_path(parser.clex.filename), toks[-1].lineno, toks[-1].column)


def _file_lines(file: str) -> list[str]:
    try:
        return Path(file).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _source_line(loc: SourceLoc) -> str:
    lines = _file_lines(loc.file)
    return lines[loc.line - 1] if 0 < loc.line <= len(lines) else ""


def _previous_line(loc: SourceLoc) -> tuple[int, str] | None:
    """(number, text) of the last non-blank, non-comment line before loc's."""
    lines = _file_lines(loc.file)
    for n in range(min(loc.line - 1, len(lines)), 0, -1):
        s = lines[n - 1].split("//")[0].rstrip()
        if s.strip() and not s.lstrip().startswith(("#", "*", "/*")):
            return n, s
    return None


MAX_NESTING = 256


def _check_nesting(ast: c_ast.FileAST) -> None:
    """Reject syntax nested more than MAX_NESTING deep (lowering, validation and the
    engines recurse over it), at the node where the limit is passed."""
    stack = [(ext, 0, ext) for ext in ast.ext]
    while stack:
        node, depth, stmt = stack.pop()  # stmt: the innermost enclosing statement, where the error goes
        if depth > MAX_NESTING:
            c = stmt.coord
            loc = SourceLoc(display_path(c.file), c.line or 0, c.column or 0) if c else SourceLoc("<model>")
            raise FrontendError(loc, f"an expression or statement is nested more than {MAX_NESTING} levels deep",
                                "split it into smaller pieces")
        block = isinstance(node, c_ast.Compound)
        stack.extend((child, depth + 1, child if block and child.coord else stmt) for _, child in node.children())


def _check_recursion(functions) -> None:
    """Reject recursion at the call that closes the cycle (the IR validator only knows the function)."""
    calls = {}
    for f in functions:
        edges = calls.setdefault(f.name, {})
        for i in f.body:
            callee = i.func if isinstance(i, ir.Call) else \
                i.aux if isinstance(i, ir.Prim) and core.calls_aux(i.name) else None
            if callee is not None:
                edges.setdefault(callee, i.loc)
    state: dict[str, int] = {}

    def visit(name, path):
        state[name] = 1  # 1: on the current path, 2: done
        for callee, loc in calls.get(name, {}).items():
            if state.get(callee) == 1:
                chain = path + [name]
                cyc = " -> ".join(chain[chain.index(callee):] + [callee])
                raise FrontendError(loc, f"recursion is not supported ({cyc})",
                                    "rewrite the recursion as a bounded loop")
            if state.get(callee) is None and callee in calls:
                visit(callee, path + [name])
        state[name] = 2

    for name in calls:
        if state.get(name) is None:
            visit(name, [])


def _resolve(model: Model, b: Builder, functions, domain_names, inv_names, overrides) -> ir.Program:
    spec = model.spec
    fnames = {f.name: f for f in functions}
    entries = []
    for ei, e in enumerate(spec.entries):
        fname = e.function.value
        f = fnames.get(fname)
        if f is None:
            raise SpecError(e.function.loc, f"entry point '{fname}' is not a function defined in the model",
                            did_you_mean(fname, fnames))
        params = f.locals[:f.nparams]
        pnames = [p.name for p in params]
        for pname in e.args:
            if pname not in pnames:
                raise SpecError(e.arg_locs.get(pname, e.loc),
                                f"'{fname}' has no parameter named '{pname}'",
                                did_you_mean(pname, pnames) or f"its parameters: {', '.join(pnames) or 'none'}")
        domains = []
        for p in params:
            if p.name not in e.args:
                raise SpecError(e.loc, f"entry point '{fname}' gives no domain for parameter '{p.name}'",
                                f"add args = {{ {p.name} = [...] }}")
            vals = []
            for k, v in enumerate(e.args[p.name]):
                if isinstance(v.value, str):
                    d = b.special.get(domain_names[(ei, p.name, k)])
                    if d is None or d.init is None:
                        raise SpecError(v.loc, f"cannot evaluate domain value {v.value!r}")
                    try:
                        val = b.consteval(d.init)
                    except FrontendError as err:
                        raise SpecError(err.loc, err.message, err.hint)
                else:
                    val = v.value
                if isinstance(p.type, ir.PtrT):
                    raise SpecError(v.loc, f"parameter '{p.name}' is a pointer; entry points take integers only")
                t = p.type
                lo, hi = ir.int_range(t)
                if not lo <= val <= hi:
                    raise SpecError(v.loc, f"domain value {val} is out of range for parameter '{p.name}' "
                                           f"of type {ir.type_str(t)} ({lo}..{hi})",
                                    "give values the parameter can hold, or widen its type in the model")
                if val not in vals:
                    vals.append(val)
            domains.append(tuple(vals))
        entries.append(ir.EntryPoint(fname, tuple(domains), e.loc))

    structs = b.structs
    pools = []
    for sname, n in spec.pools.items():
        if sname not in structs:
            raise SpecError(n.loc, f"[bounds.pools] names struct '{sname}', which the model does not define",
                            did_you_mean(sname, structs))
        pools.append((sname, n.value))
    needed = {i.aux: i for f in functions for i in f.body if isinstance(i, ir.Prim) and i.name == "kzalloc"}
    for sname in sorted(needed):
        if sname not in spec.pools:
            raise SpecError(spec.loc("bounds", "pools"), f"the model allocates struct {sname} (at {needed[sname].loc}) "
                            f"but the spec gives it no pool", f"add `{sname} = 2` under [bounds.pools]")
    bv = {k: v.value for k, v in spec.bounds.items()}
    bv.update({k: v for k, v in overrides.items() if v is not None})
    cpus = bv.get("cpus", 2)
    host = bv.get("host_cpus", min(cpus, 2))
    if host > cpus:
        raise UsageError(SourceLoc("<command line>"), f"--cpus {cpus} is fewer than the spec's host_cpus ({host})")
    bounds = ir.Bounds(cpus=cpus, host_cpus=host, pools=tuple(sorted(pools)),
                       idr_capacity=bv.get("idr_capacity", min(max(1, sum(n for _, n in pools)),
                                                              ir.BOUND_RANGES["idr_capacity"][1])),
                       alloc_can_fail=bv.get("alloc_can_fail", True), depth=bv.get("depth", 0),
                       max_states=bv.get("max_states", 0), workers=bv.get("workers", 1),
                       cpus_online=tuple(c for c in bv.get("cpus_online", ()) if c < cpus))

    lifecycles = []
    for lc in spec.lifecycles:
        sd = structs.get(lc.struct.value)
        if sd is None:
            raise SpecError(lc.struct.loc, f"lifecycle names struct '{lc.struct.value}', which the model does not define",
                            did_you_mean(lc.struct.value, structs))
        f = sd.field(lc.field.value)
        if f is None:
            raise SpecError(lc.field.loc, f"struct {sd.name} has no field '{lc.field.value}'",
                            did_you_mean(lc.field.value, [x.name for x in sd.fields]))
        if not isinstance(f.type, ir.IntT):
            raise SpecError(lc.field.loc, f"lifecycle field {sd.name}.{f.name} is a {ir.type_str(f.type)}, not an enum or integer")
        consts = {n: v for n, (v, en) in b.enums.items() if f.type.enum is None or en == f.type.enum}
        states = {}
        trans = []
        for a, c in lc.transitions:
            pair = []
            for s in (a, c):
                if s.value not in consts:
                    names = ", ".join(list(consts)[:8]) + (", ..." if len(consts) > 8 else "")
                    hint = f"{ir.type_str(f.type)} has {names}" if consts else "the model defines no enum constants"
                    close = did_you_mean(s.value, consts)
                    raise SpecError(s.loc, f"lifecycle state '{s.value}' is not a constant of "
                                           f"{ir.type_str(f.type)}", f"{close} {hint}" if close else hint)
                states[s.value] = consts[s.value]
                pair.append(consts[s.value])
            trans.append(tuple(pair))
        lifecycles.append(ir.Lifecycle(sd.name, f.name, tuple(sorted(states.items(), key=lambda x: x[1])),
                                       tuple(dict.fromkeys(trans)), lc.loc))

    invariants = []
    for inv, name in zip(spec.invariants, inv_names):
        if inv.struct.value not in structs:
            raise SpecError(inv.struct.loc, f"invariant ranges over struct '{inv.struct.value}', which the model "
                                            f"does not define", did_you_mean(inv.struct.value, structs))
        fdef = b.fdefs.get(name)
        if fdef is None:
            raise SpecError(inv.expr.loc, "cannot compile the invariant expression")
        fl = FunctionLowerer(b, fdef, invariant=True)
        fn = fl.lower()
        if len(fn.body) != 2 or not isinstance(fn.body[0], ir.Ret) or fn.body[0].value is None:
            raise SpecError(inv.expr.loc, "invariant expressions may use fields, comparisons, && || ! and the "
                                          "queries, but not ?: or calls to model functions")
        invariants.append(ir.Invariant(inv.name, inv.struct.value, fn.body[0].value, inv.always,
                                       inv.expr.value, inv.loc))

    enums = tuple(sorted(((n, v, en) for n, (v, en) in b.enums.items()), key=lambda x: (x[2], x[1], x[0])))
    program = ir.Program(
        name=model.display,
        structs=tuple(structs.values()),
        enums=enums,
        globals=tuple(b.globals.values()),
        functions=tuple(functions),
        entries=tuple(entries),
        bounds=bounds,
        lifecycles=tuple(lifecycles),
        invariants=tuple(invariants),
    )
    return ir.validate(program)
