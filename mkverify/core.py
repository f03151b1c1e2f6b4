"""The core: the few operations on the simulated machine every engine implements.

The kernel API (kernel.py) is written once over these operations; an engine
gives them meaning over its value domain:

| operation                  | meaning                                                          |
|----------------------------|------------------------------------------------------------------|
| `cell(addr, kind, what)`   | the cell addr points to: NULL, outside every object or in a freed |
|                            | object is a fatal finding; memory of another kind a model error   |
| `rd(i, off)`, `wr(i, v, off)` | read, write cell i + off                                      |
| `fork(c)`                  | go on down the path where c holds or the one where it does not   |
| `sel(c, a, b)`, `and_`, `or_`, `not_`, `wrap(v, bits, signed)`, operators | values |
| `fail(check, msg, key)`    | a fatal finding: the step has no successor                       |
| `warn(check, msg, key)`    | a finding; the step goes on                                      |
| `await_(c, cell, owner)`   | the step cannot run until c holds (it waits for `cell`'s owner)  |
| `bound(msg, hint)`         | a bound of the model (not a kernel behaviour) is hit: incomplete |
| `result(v)`                | the primitive's value                                            |
| `call_aux(arg)`            | call the model function the instruction names (a release)        |
| `alloc()`, `free(p)`       | take a free slot of the instruction's pool (or NULL), free one   |
| `cpu_cell(cpu, which)`     | CPU cpu's "state" or "image" cell                                |
| `object_base(addr, what)`  | the first address of the object addr points into (checked)       |
| `object_of(addr)`          | the same, unchecked: the object's base, or addr outside objects  |
| `live(j)`                  | is cell j in a global or a live object                           |
| `me()`                     | the running CPU's number                                         |
| `chosen()`                 | 1 on the step that takes the primitive's failing outcome (an     |
|                            | interrupted wait, a timeout), else 0: both are explored; the     |
|                            | failing outcome may not wait                                     |

The reference interpreter (machine.py) is the executable definition of each
operation over integers; engines/bmc.py implements them over z3 terms. The C
enumerator and the Promela export do not run Python: `trace` compiles a
primitive, for one model (its CPU count, IDR capacity and list cells are
known), into a *micro-program*: a tree of micro-operations over registers,
made by running the definition over symbolic registers and taking both sides
of every `fork` (the same path splitting the z3 engine does). The
micro-operations are the rows of OPS below; `_explore.c` (uop) and
export/promela.py each implement exactly these.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import kernel

#: micro-operation -> operand names; registers are r*, the rest immediates. Numbered in this order
#: (U_* in _explore.c), every record is 6 words: the opcode and 5 operands (unused ones are 0).
OPS = {
    "end": (),
    "arg": ("rd", "k"),                       # rd = argument k
    "const": ("rd", "v"),                     # rd = v
    "me": ("rd",),                            # rd = the running CPU
    "bin": ("rd", "op", "ra", "rb"),          # rd = ra op rb, 64-bit (BINOPS)
    "not": ("rd", "ra"),                      # rd = !ra
    "bnot": ("rd", "ra"),                     # rd = ~ra
    "sel": ("rd", "rc", "ra", "rb"),          # rd = rc ? ra : rb
    "wrap": ("rd", "ra", "bits", "signed"),   # rd = ra wrapped to an integer type
    "cell": ("rd", "ra", "klass", "what"),    # rd = cell index of address ra (checks; klass: CELL_CLASS_IDS)
    "rd": ("rd", "ri", "off"),                # rd = mem[ri + off]
    "wr": ("ri", "off", "rv"),                # mem[ri + off] = rv
    "cpucell": ("rd", "rc", "which"),         # rd = cell index of CPU rc's state (0) or image (1)
    "objbase": ("rd", "ra", "what"),          # rd = base of the object ra points into (checks)
    "objof": ("rd", "ra"),                    # rd = base of the object ra is in, else ra (no checks)
    "live": ("rd", "j"),                      # rd = cell j is live
    "br": ("rc", "target"),                   # if !rc goto target
    "fail": ("key", "ra", "rb"),              # fatal finding KEYS[key], with values ra, rb (-1: none)
    "warn": ("key", "ra", "rb"),              # finding, go on
    "await": ("rc", "ri", "ro"),              # blocked unless rc: waits for cell ri, owned by ro
    "bound": ("msg",),                        # a model bound is hit
    "result": ("rv",),                        # the primitive's value
    "call": ("ra",),                          # call the instruction's aux function with ra
    "alloc": ("rd",),                         # rd = a free slot of the instruction's pool, or NULL
    "free": ("ra",),                          # free the object at ra
    "choice": ("rd",),                        # rd = the step's choice: 1 where the primitive fails, else 0
}
OP_IDS = {name: k for k, name in enumerate(OPS)}
BINOPS = ["+", "-", "*", "&", "|", "^", "<<", ">>", "==", "!=", "<", "<=", ">", ">="]
BIN_IDS = {op: k for k, op in enumerate(BINOPS)}
#: words of a micro-operation record: the opcode and its operands (0 where an operation has fewer)
UREC = 1 + max(len(v) for v in OPS.values())
#: the C names of BINOPS (UB_* in _core.h)
BIN_NAMES = ["ADD", "SUB", "MUL", "AND", "OR", "XOR", "SHL", "SHR", "EQ", "NE", "LT", "LE", "GT", "GE"]
#: how the C enumerator is told what a micro-program may do (PF_* in _core.h, a program record's flags)
PROGRAM_FLAGS = ("private", "awaits", "alloc", "free", "call", "query", "choice")

#: the kinds of cell a primitive's pointer argument may point to, by the kind its signature names:
#: classes of cells that hold the same sort of value (a kref and an atomic_t both hold a count)
CELL_CLASSES = {"kref": ("kref", "refcount", "atomic"), "refcount": ("kref", "refcount", "atomic"),
                "atomic": ("kref", "refcount", "atomic"), "mutex": ("mutex", "spinlock"),
                "spinlock": ("mutex", "spinlock"), "list_head": ("list_head",), "cpumask": ("cpumask",),
                "idr": ("idr-key",), "ptr": ("ptr",), "rwsem": ("rwsem",), "rwlock": ("rwlock",),
                "completion": ("completion",), "xarray": ("idr-key",), "int_ptr": ("int",),
                "work": ("work",), "timer": ("timer",), "rcu_head": ("rcu_head",), "kobject": ("kobject",),
                "ktype": ("ktype",),
                # any deferred item (a worker runs each kind alike)
                "deferred": ("work", "timer", "rcu_head"),
                # any lock a CPU can hold (lockdep_assert_held): checked against every kind of the class
                "anylock": ("mutex", "spinlock", "rwsem", "rwlock")}
CLASS_NAMES = {"kref": "a reference count", "refcount": "a reference count", "atomic": "a reference count",
               "mutex": "a lock", "spinlock": "a lock", "list_head": "a list_head", "cpumask": "a cpumask",
               "idr": "an idr", "ptr": "a pointer", "rwsem": "a rw_semaphore", "rwlock": "an rwlock_t",
               "completion": "a completion", "xarray": "an xarray", "int_ptr": "an integer", "int": "an integer",
               "anylock": "a lock", "work": "a work_struct", "timer": "a timer_list",
               "rcu_head": "an rcu_head", "deferred": "a work item, timer or rcu_head", "kobject": "a kobject",
               "ktype": "a kobj_type"}
#: the classes, numbered for the micro-programs (a class is named by its first kind)
CLASS_IDS = {"kref": 0, "mutex": 1, "list_head": 2, "cpumask": 3, "idr-key": 4, "ptr": 5, "rwsem": 6, "rwlock": 7,
             "completion": 8, "int": 9, "anylock": 10, "work": 11, "timer": 12, "rcu_head": 13, "deferred": 14,
             "kobject": 15, "ktype": 16}
CLASS_OF = {kind: CLASS_IDS[kind if kind in ("anylock", "deferred") else classes[0]]
            for kind, classes in CELL_CLASSES.items()}
CLASS_KIND = {CLASS_OF[kind]: kind for kind in ("kref", "mutex", "list_head", "cpumask", "idr", "ptr", "rwsem",
                                                "rwlock", "completion", "int_ptr", "anylock", "work", "timer",
                                                "rcu_head", "deferred", "kobject", "ktype")}


#: what a query (kernel.QUERIES) may not do
_EFFECTS = frozenset({"wr", "fail", "warn", "await", "bound", "call", "alloc", "free"})


@dataclass(frozen=True)
class Shape:
    """What a definition may know of the model it runs in (kernel.py reads these as k.<field>): the machine's
    sizes and the cell indices (not addresses) of the cells some primitives scan or own."""
    ncpu: int
    nhost: int
    idr_capacity: int
    nthreads: int = 0          # threads that run model code (0..nthreads-1): the host CPUs, then the workers
    list_cells: tuple = ()     # every list_head cell
    spin_cells: tuple = ()     # every spinlock cell (might_sleep looks for one this CPU holds)
    base: int = 0              # the address of cell 0 (a cell's address is base + its index)
    rcu_read: tuple = ()       # per thread: its rcu_read_lock cell (empty: the model uses no RCU)
    rcu_depth: tuple = ()      # per thread: its read-side nesting
    rcu_gp: tuple = ()         # per thread: the threads its synchronize_rcu waits for (a bit each)
    rcu_free: tuple = ()       # the kfree_rcu queue: the object of each entry (0: the entry is free)
    rcu_free_wait: tuple = ()  # and the CPUs whose read-side sections the entry waits for
    hotplug: tuple = ()        # the CPU hotplug lock (cpus_read_lock), a rwsem cell (empty: not used)
    deferred: tuple = ()       # every work item, timer and rcu_head cell (empty: the model defers nothing)
    deferred_base: tuple = ()  # and the address of the object each is in (0: a global)
    deferred_wait: tuple = ()  # and, for an rcu_head, the threads whose sections its call_rcu waits for (else -1)
    worker_runs: tuple = ()    # per worker thread (threads nhost..nthreads-1): the item it runs (0: none)
    softirq: tuple = ()        # per thread: 1 while it runs a timer callback, 2 an RCU callback (else 0)


#: the Shape fields _Concrete and the other cores copy
SHAPE_FIELDS = tuple(Shape.__dataclass_fields__)


class TraceError(Exception):
    """A definition in kernel.py breaks a rule of the core (kernel.py's docstring)."""


@dataclass(frozen=True)
class MicroProgram:
    """One primitive compiled for one model."""
    name: str
    ops: tuple          # (op name, operands...) records; `br`/`jmp` targets are record indices
    nregs: int
    keys: tuple         # (check, key head) per `fail`/`warn` key number
    whats: tuple        # the `what` texts of `cell`/`objbase`
    bounds: tuple       # the (message, hint) of each `bound`
    awaits: bool        # it may block
    effects: frozenset  # which of alloc, free, call it uses


class _Undecided(Exception):
    def __init__(self, cond):
        self.cond = cond


class _End(Exception):
    """fail or bound: the path ends."""


class Sym:
    """A register of the micro-program being traced."""
    __slots__ = ("t", "r")

    def __init__(self, t: "_Tracer", r: int):
        self.t = t
        self.r = r

    def __bool__(self):
        raise TraceError("a primitive decided on a value with Python's `if`, `and` or `or`: use k.fork, k.sel, "
                         "k.and_, k.or_")

    __hash__ = object.__hash__

    def _b(self, op, other, swap=False):
        a, b = (other, self) if swap else (self, other)
        return self.t.bin(op, a, b)

    def __add__(self, o): return self._b("+", o)
    def __radd__(self, o): return self._b("+", o, True)
    def __sub__(self, o): return self._b("-", o)
    def __rsub__(self, o): return self._b("-", o, True)
    def __mul__(self, o): return self._b("*", o)
    def __rmul__(self, o): return self._b("*", o, True)
    def __and__(self, o): return self._b("&", o)
    def __rand__(self, o): return self._b("&", o, True)
    def __or__(self, o): return self._b("|", o)
    def __ror__(self, o): return self._b("|", o, True)
    def __xor__(self, o): return self._b("^", o)
    def __rxor__(self, o): return self._b("^", o, True)
    def __lshift__(self, o): return self._b("<<", o)
    def __rlshift__(self, o): return self._b("<<", o, True)
    def __rshift__(self, o): return self._b(">>", o)
    def __rrshift__(self, o): return self._b(">>", o, True)
    def __eq__(self, o): return self._b("==", o)
    def __ne__(self, o): return self._b("!=", o)
    def __lt__(self, o): return self._b("<", o)
    def __le__(self, o): return self._b("<=", o)
    def __gt__(self, o): return self._b(">", o)
    def __ge__(self, o): return self._b(">=", o)
    def __neg__(self): return self.t.bin("-", 0, self)
    def __invert__(self): return self.t.un("bnot", self)


class _Tracer:
    """The core over symbolic registers: one run of a definition along the decisions `prefix`."""

    def __init__(self, shape: Shape, prefix, nargs, query=False):
        self.query = query
        for f in SHAPE_FIELDS:
            setattr(self, f, getattr(shape, f))
        self.prefix = prefix
        self.forks = 0
        self.nregs = 0
        self.ops: list = []
        self.consts: dict = {}
        self.wrote = False
        self.keys: dict = {}
        self.whats: dict = {}
        self.bounds: dict = {}
        self.effects: set = set()
        self.awaits = False
        self.choice_reg = -1   # the register of chosen(), and whether this path took its failing outcome
        self.failing = False
        self.args = [self._new("arg", k) for k in range(nargs)]

    # ------------------------------------------------------------ emitting
    def emit(self, *rec):
        if self.query and rec[0] in _EFFECTS:
            raise TraceError(f"a query may not {rec[0]}: it only reads and gives a result")
        if self.forks >= len(self.prefix):
            self.ops.append(rec)

    def _reg(self) -> int:
        self.nregs += 1
        return self.nregs - 1

    def _new(self, op, *operands) -> Sym:
        r = self._reg()
        self.emit(op, r, *operands)
        return Sym(self, r)

    def reg(self, v) -> int:
        if isinstance(v, Sym):
            return v.r
        if isinstance(v, bool) or isinstance(v, int):
            v = int(v)
            if v not in self.consts:
                self.consts[v] = self._new("const", v).r
            return self.consts[v]
        raise TraceError(f"not a value: {v!r}")

    def bin(self, op, a, b) -> Sym:
        return self._new("bin", BIN_IDS[op], self.reg(a), self.reg(b))

    def un(self, op, a) -> Sym:
        return self._new(op, self.reg(a))

    def _number(self, table: dict, item) -> int:
        return table.setdefault(item, len(table))

    # ------------------------------------------------------------ the core
    def me(self):
        return self._new("me")

    def fork(self, cond) -> bool:
        if isinstance(cond, (bool, int)) and not isinstance(cond, Sym):
            return bool(cond)
        if self.query:
            raise TraceError("a query is one expression: it may not fork (use k.sel)")
        k = self.forks
        if k < len(self.prefix):
            self.forks += 1
            if self.prefix[k] and cond.r == self.choice_reg:
                self.failing = True
            return self.prefix[k]
        raise _Undecided(self.reg(cond))

    def chosen(self):
        self.effects.add("choice")
        s = self._new("choice")
        self.choice_reg = s.r
        return s

    def sel(self, c, a, b):
        if isinstance(c, (bool, int)) and not isinstance(c, Sym):
            return a if c else b
        return self._new("sel", self.reg(c), self.reg(a), self.reg(b))

    def _bools(self, op, cs, absorbing):
        """and_/or_: constants fold; conditions are 0 or 1 (comparisons, live, not_)."""
        syms = []
        for c in cs:
            if isinstance(c, Sym):
                syms.append(c)
            elif bool(c) == absorbing:
                return int(absorbing)
        if not syms:
            return int(not absorbing)
        out = syms[0]
        for c in syms[1:]:
            out = self.bin(op, out, c)
        return out

    def and_(self, *cs):
        return self._bools("&", cs, False)

    def or_(self, *cs):
        return self._bools("|", cs, True)

    def not_(self, c):
        if isinstance(c, (bool, int)) and not isinstance(c, Sym):
            return int(not c)
        return self.un("not", c)

    def wrap(self, v, bits, signed):
        return self._new("wrap", self.reg(v), bits, int(signed))

    def cell(self, addr, kind, what):
        return self._new("cell", self.reg(addr), CLASS_OF[kind], self._number(self.whats, what))

    def rd(self, i, off=0):
        return self._new("rd", self.reg(i), off)

    def wr(self, i, v, off=0):
        self.wrote = True
        self.emit("wr", self.reg(i), off, self.reg(v))

    def cpu_cell(self, cpu, which):
        return self._new("cpucell", self.reg(cpu), {"state": 0, "image": 1}[which])

    def object_base(self, addr, what):
        return self._new("objbase", self.reg(addr), self._number(self.whats, what))

    def live(self, j):
        return self._new("live", j)

    def object_of(self, addr):
        return self._new("objof", self.reg(addr))

    def _finding(self, op, check, key, extra):
        if len(extra) > 2:
            raise TraceError("a finding carries at most two values in its key")
        regs = [self.reg(v) for v in extra] + [-1] * (2 - len(extra))
        self.emit(op, self._number(self.keys, (check, key or check)), *regs)

    def fail(self, check, msg, key=None, extra=()):
        self._finding("fail", check, key, extra)
        raise _End()

    def warn(self, check, msg, key=None, extra=()):
        self._finding("warn", check, key, extra)

    def await_(self, cond, cell, owner):
        if self.wrote:
            raise TraceError("await_ after a write: a blocked step must have done nothing")
        if self.failing:
            raise TraceError("await_ on the failing outcome of chosen(): that outcome is always enabled")
        self.awaits = True
        self.emit("await", self.reg(cond), self.reg(cell), self.reg(owner))

    def bound(self, msg, hint):
        self.emit("bound", self._number(self.bounds, (msg, hint)))
        raise _End()

    def result(self, v):
        self.wrote = True
        self.emit("result", self.reg(v))

    def call_aux(self, arg):
        self.wrote = True
        self.effects.add("call")
        self.emit("call", self.reg(arg))

    def alloc(self):
        self.wrote = True
        self.effects.add("alloc")
        return self._new("alloc")

    def free(self, p):
        self.wrote = True
        self.effects.add("free")
        self.emit("free", self.reg(p))


def trace(name: str, shape: Shape, query: bool = False) -> MicroProgram:
    """The micro-program of primitive `name` (with `query`, of query `name`) for a model of this shape: every
    path of its definition, joined at the forks into a tree."""
    d = (kernel.QUERIES if query else kernel.PRIMS)[name]
    code: list = []
    meta = {"nregs": 0, "keys": {}, "whats": {}, "bounds": {}, "effects": set(), "awaits": False}

    def run(prefix):
        t = _Tracer(shape, prefix, len(d.args), query)
        # the numbering of keys, texts and bounds is shared by all paths
        t.keys, t.whats, t.bounds = meta["keys"], meta["whats"], meta["bounds"]
        cond = None
        try:
            d.fn(t, *t.args)
            t.emit("end")
        except _Undecided as u:
            cond = u.cond
        except _End:
            pass
        meta["nregs"] = max(meta["nregs"], t.nregs)
        meta["effects"] |= t.effects
        meta["awaits"] |= t.awaits
        return t.ops, cond

    def build(prefix):
        if len(prefix) > 64:
            raise TraceError(f"{name}: more than 64 nested forks")
        ops, cond = run(prefix)
        code.extend(list(op) for op in ops)
        if cond is None:
            return
        br = len(code)
        code.append(["br", cond, 0])
        build(prefix + [True])
        code[br][2] = len(code)
        build(prefix + [False])

    build([])
    nregs = _allocate(code)
    inv = lambda table: tuple(k for k, _ in sorted(table.items(), key=lambda kv: kv[1]))
    return MicroProgram(name, tuple(tuple(op) for op in code), nregs, inv(meta["keys"]),
                        inv(meta["whats"]), inv(meta["bounds"]), meta["awaits"], frozenset(meta["effects"]))


_DEFS = frozenset({"rd"})
_USES = frozenset({"ra", "rb", "rc", "ri", "rv", "ro"})


def _allocate(code: list) -> int:
    """Give the registers of `code` (in place) as few numbers as their live ranges allow; returns how many.
    The tracer numbers a register per definition along one path, so sibling subtrees reuse numbers; a use
    reads the nearest definition before it in the code's order (its own path's)."""
    last: dict = {}
    cur: dict = {}
    for k, op in enumerate(code):
        for field, v in zip(OPS[op[0]], op[1:]):
            if field in _USES and v >= 0:
                last[(v, cur[v])] = k
        for field, v in zip(OPS[op[0]], op[1:]):
            if field in _DEFS:
                cur[v] = k
    phys: dict = {}   # virtual register -> (its definition, physical register)
    held: set = set()  # the definitions (virtual register, definition) whose physical register is theirs
    free: list = []
    n = 0
    for k, op in enumerate(code):
        fields = OPS[op[0]]
        for j, (field, v) in enumerate(zip(fields, op[1:]), 1):
            if field in _USES and v >= 0:
                d, p = phys[v]
                op[j] = p
                if last[(v, d)] == k and (v, d) in held:
                    held.discard((v, d))
                    free.append(p)
        for j, (field, v) in enumerate(zip(fields, op[1:]), 1):
            if field in _DEFS:
                if v in phys and (v, phys[v][0]) in held:  # a sibling subtree's definition: its range is over
                    held.discard((v, phys[v][0]))
                    free.append(phys[v][1])
                if free:
                    p = free.pop()
                else:
                    p, n = n, n + 1
                phys[v] = (k, p)
                op[j] = p
                if (v, k) in last:
                    held.add((v, k))
                else:
                    free.append(p)  # never read
    return n


def c_header() -> str:
    """mkverify/_core.h: the core's tables as the C enumerator includes them, generated from this file
    (`python -m mkverify.core > mkverify/_core.h`; tests/test_core.py checks that the file is current)."""
    def enum(prefix, names):
        return "enum {\n" + "".join(f"    {prefix}{n.upper()} = {k},\n" for k, n in enumerate(names)) + \
            f"    {prefix}N = {len(names)}\n}};\n"
    kinds = sorted(CLASS_IDS, key=CLASS_IDS.get)
    return "\n".join([
        "/* Generated by `python -m mkverify.core` from mkverify/core.py: do not edit. */",
        "#ifndef MKVERIFY_CORE_H", "#define MKVERIFY_CORE_H", "",
        "/* micro-operations (core.OPS): a record is UREC words, the opcode and its operands */",
        enum("U_", list(OPS)) + f"#define UREC {UREC}",
        "/* the operators of U_BIN (core.BINOPS) */",
        enum("UB_", BIN_NAMES),
        "/* a micro-program's flags (core.PROGRAM_FLAGS) */",
        "enum {\n" + "".join(f"    PF_{n.upper()} = {1 << k},\n" for k, n in enumerate(PROGRAM_FLAGS)) + "};",
        "",
        "/* the cell classes of U_CELL (core.CLASS_IDS), by the first cell kind of each */",
        f"#define NCLASS {len(kinds)}",
        "/* " + ", ".join(f"{k} {name}" for k, name in enumerate(kinds)) + " */",
        "", "#endif", ""])


_STATIC: dict = {}
#: a small model with one cell of each scanned kind, where every primitive can do all it ever does
_SMALL = Shape(2, 2, 2, 3, list_cells=(10,), spin_cells=(11,), base=100, rcu_read=(0, 1, 2), rcu_depth=(3, 4, 5),
               rcu_gp=(6, 7, 8), rcu_free=(9,), rcu_free_wait=(16,), hotplug=(17,), deferred=(12,),
               deferred_base=(90,), deferred_wait=(21,), worker_runs=(13,), softirq=(18, 19, 20))


def static(name: str) -> MicroProgram:
    """A primitive's micro-program for a small model: what it may do (block, allocate, free, call) does not
    depend on the model's sizes."""
    if name not in _STATIC:
        _STATIC[name] = trace(name, _SMALL)
    return _STATIC[name]


def has_site(name: str) -> bool:
    """Does the primitive allocate or free (its call path is then an allocation or free site)?"""
    return bool(static(name).effects & {"alloc", "free"})


def allocates(name: str) -> bool:
    """Does the primitive take a slot of its instruction's pool (Prim.aux), with a NULL choice?"""
    return "alloc" in static(name).effects


def calls_aux(name: str) -> bool:
    """Does the primitive call the model function its instruction names (Prim.aux)?"""
    return "call" in static(name).effects


def chooses(name: str) -> bool:
    """Has the primitive a failing outcome (chosen()), explored as a step of its own (label choice 1)?"""
    return "choice" in static(name).effects


def may_block(name: str) -> bool:
    """Can the primitive wait (await_)?"""
    return static(name).awaits


if __name__ == "__main__":
    print(c_header(), end="")
