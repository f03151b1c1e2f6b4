"""Export an ir.Program as a Promela model for SPIN, step for step.

`to_promela(program)` writes a model whose reachable state graph is the one
mkverify's reference explorer builds from machine.py: pan's depth-first
search with `-DNOREDUCE` (no partial-order reduction) and `-c0` stores exactly
as many states as `mkverify check --engine python` reports, and reports
errors exactly when mkverify reports violations. It is a second, independent
implementation of the semantics, for cross-checking the explorer against a
mature model checker (docs/promela.md, tests/test_promela.py).

Encoding
--------
State (every variable below is part of SPIN's state vector):

- `mem[NC]`: machine.py's memory, cell for cell, same indices and initial
  values (addresses are cell index + BASE, as in machine.py).
- per host thread `t`: `sp[t]` frames; frame `k` is `t*D + k` in `fr_fn`
  (function), `fr_pc` (pc) and `fr_lb` (where its locals start in `lv`).
  Locals are stacked: a callee's locals follow its caller's, so `lv` holds
  `LS` cells per thread (the deepest call chain's locals). A frame's return
  destination is not stored: it is the `dst` of the call instruction before
  the caller's pc. Frames above `sp[t]` and locals above the top frame are 0.
- `en[t]` (bit 0: the visible instruction can run, bit 1: a kzalloc may
  return NULL) and `dead` (the state violates a state property): functions of
  the rest of the state, recomputed after every step, so they add no state.
- scratch variables `x*` used inside a step, and the constant-0 `V_*`
  assertion markers: 0 in every stored state. SPIN drops variables that are
  never read from the state vector; every state variable above is read once
  at the end of each step so that it never drops one of those.

Steps: one process per (host thread, choice): `active [NT*NO] proctype step`,
process `_pid` is thread `_pid / NO` taking choice `_pid % NO`: choices
`0..NE-1` start entry point/argument tuple number k of
`Machine.entry_choices` on an idle thread, choice `NE` runs the thread's
visible instruction, choice `NE+1` runs a kzalloc that returns NULL. A
process is `do :: atomic { guard -> d_step; ...; d_step } od`, always at its
`end:` loop head between steps, so a step is one SPIN transition and the
processes' control state never splits states; pan's depth-first search does
not store the states inside an atomic sequence (its breadth-first search
does: do not compile with -DBFS). The step is an interpreter over the model's
instructions: the instructions are grouped (by function, then pc range) into
d_steps of at most about BUDGET statements, because SPIN allows about 2,000
in one d_step (dstep.c, MAXDSTEP); each such chunk loops while the running
thread's top frame stays inside it. The interpreter executes the visible
instruction, then every silent one up to the next visible one, folding
visible accesses to thread-private objects when the model is exported with
`reduce_private` (machine.py's `_Exec.private_access`); then come d_steps for
machine.py's `finish`: dead locals zeroed (and a caller's return destination
while its callee runs), freed slots nothing points to reclaimed, `en` and
`dead` recomputed from the state checks.

Violations: every check is an `assert` on a `V_<check>` marker (so pan's
message names the check), preceded by a `printf` with the source location;
each started entry point and each executed visible instruction also prints
(`spin -t` replays a trail as an mkverify-like trace). A fatal violation
(machine.py's `_Stop`) asserts and then sets the whole state back to the
initial state: that state is already stored, so the step adds no state, as
the fatal step adds none in mkverify. A state property violation (CPU
executing freed memory, deadlock, and at quiescent states dangling pointers,
leaks and invariants) asserts and sets `dead`, which disables every step:
the state is stored, not expanded. Warnings (WARN_ON, lock held at return,
illegal transition, freeing an object still on a list or locked) assert and
the step goes on. Run pan with `-c0` so that it counts all errors and still
explores the whole graph.

Not preserved
-------------
- Values are 32-bit: `long`/`unsigned long` values are held as their low 32
  bits, so results differ from mkverify's once a 64-bit value leaves the
  32-bit range (comparisons treat unsigned 32-bit and 64-bit values with the
  high bit set as large); unsigned division/modulo of values >= 2^31 is done
  signed, and reference counts beyond 2^31 wrap. Compile pan with -fwrapv.
- Bounds that make mkverify's run incomplete: a full IDR (idr_capacity) and a
  local loop that never ends are reported as assertions (`V_bound`,
  `V_runtime_error`) and treated as fatal steps, where mkverify stops the run
  (verdict "incomplete"); `bounds.depth` and `bounds.max_states` are not
  exported (use pan's -m and memory limits).
- Traces, finding deduplication, the lifecycle coverage table and notes are
  mkverify's; SPIN reports each failing assertion on each transition.

What cannot be exported raises UsageError (more than 31 CPUs: cpumasks are
ints; more than 255 SPIN processes) or IRError (IR no engine accepts).
"""
from __future__ import annotations

from .. import core, ir, kernel
from ..diag import IRError, UsageError, NOWHERE
from ..ir import IntT, PtrT, ArrayT
from ..machine import Machine, FREE, LIVE, FREED, RUNNING, SILENT_BUDGET

MIN32 = "(-2147483647-1)"
#: SPIN runs at most 255 processes
MAX_PROCS = 255
#: statements per d_step: SPIN's dstep.c allows 2048 labels (one per statement) in one d_step
BUDGET = 1200
DSTEP_MAX = 2000
CHECKS = ("use-after-free", "null-dereference", "out-of-bounds", "double-free", "invalid-free",
          "get-after-release", "refcount-underflow", "deadlock", "lock-imbalance", "assertion",
          "dangling-reference", "leak", "invariant", "illegal-transition", "rcu-usage", "sleep-in-atomic",
          "pending-on-free",
          "bound", "runtime-error", "internal")


def to_promela(program: ir.Program, reduce_private: bool = True) -> str:
    """The Promela text of `program` (see the module docstring)."""
    return _Gen(program, reduce_private).text()


# ---------------------------------------------------------------- text helpers


def _r32(v: int) -> int:
    """The 32-bit two's complement pattern of v, as a signed int."""
    return ((v + 2**31) % 2**32) - 2**31


def _lit(v: int) -> str:
    v = _r32(v)
    if v == -2**31:
        return MIN32
    return f"({v})" if v < 0 else str(v)


def _init_lit(v: int) -> str:
    """An array initializer element: Promela accepts no sign there, so negatives go as their unsigned pattern."""
    return str(_r32(v) % 2**32)


def _vname(check: str) -> str:
    return "V_" + check.replace("-", "_")


def _ind(text: str, n: int = 3) -> str:
    pad = " " * n
    return "\n".join(pad + line if line else line for line in text.split("\n"))


def _seq(stmts) -> str:
    """Statements joined by `;`; a comment goes before the statement after it, with no separator."""
    out, pending = [], []
    for s in stmts:
        if not s:
            continue
        if s.startswith("/*") and s.endswith("*/") and "\n" not in s:
            pending.append(s)
            continue
        out.append("\n".join(pending + [s]))
        pending = []
    if not out:
        return "\n".join(pending + ["skip"])
    text = ";\n".join(out)
    return text + ("\n" + "\n".join(pending) if pending else "")


def _if(opts, els=None) -> str:
    """`if :: guard -> stmts ... :: else -> els fi`; els None: an else that does nothing."""
    out = ["if"]
    for guard, stmts in opts:
        out.append(f":: {guard} ->")
        out.append(_ind(_seq(stmts)))
    out.append(":: else ->")
    out.append(_ind(_seq(els if els is not None else ["skip"])))
    out.append("fi")
    return "\n".join(out)


def _loop(var: str, n, body) -> str:
    """`for var in 0..n-1: body` as a Promela do-loop."""
    return "\n".join([f"{var} = 0;", "do", f":: {var} >= {n} -> break", ":: else ->",
                      _ind(_seq(list(body) + [f"{var}++"])), "od"])


def _comment(text: str) -> str:
    return "/* " + text.replace("*/", "* /").replace("\n", " ") + " */"


def _cstr(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in " .,:;_-+=<>()[]&|!/'" else "?" for ch in text)


def _wrap(v: str, t) -> str:
    """machine.wrap on the 32-bit representation."""
    if not isinstance(t, IntT):
        return v
    b = t.bits
    if b == 1:
        return f"(({v}) != 0 -> 1 : 0)"
    if b >= 32:
        return v
    mask = (1 << b) - 1
    if not t.signed:
        return f"(({v}) & {mask})"
    half = 1 << (b - 1)
    return f"(((({v}) & {mask}) ^ {half}) - {half})"


def _ubig(t) -> bool:
    """An unsigned type whose values may have the 32-bit pattern's sign bit set."""
    return isinstance(t, IntT) and not t.signed and t.bits >= 32


# ---------------------------------------------------------------- expressions


class _Ctx:
    """How to compile expressions at one place: where locals are, what a fault does."""

    def __init__(self, gen: "_Gen", lb: str, fault, self_addr: int | None = None, loc=NOWHERE):
        self.g = gen
        self.lb = lb
        self._fault = fault          # (check, loc) -> list of statements (which must leave the code path)
        self.self_addr = self_addr   # invariants: the object (local 0)
        self.loc = loc
        self.n = 0

    def fault(self, check: str, loc=None):
        return self._fault(check, loc or self.loc)

    def temp(self) -> str:
        k = self.n
        self.n += 1
        self.g.ntemp = max(self.g.ntemp, self.n)
        return f"xe[{k}]"

    # (statements, value, constant or None)
    def ex(self, e):
        g = self.g
        m = g.m
        k = type(e)
        if k is ir.Const:
            return [], _lit(e.value), e.value
        if k is ir.Var:
            if self.self_addr is not None:
                if e.index != 0:
                    raise IRError(e.loc, "an invariant may only use its own object (local 0)")
                return [], str(self.self_addr), self.self_addr
            return [], f"lv[{self.lb} + {e.index}]", None
        if k is ir.GlobalAddr:
            if e.name not in m.gaddr:
                raise IRError(e.loc, f"address of undefined global {e.name}")
            a = m.gaddr[e.name]
            return [], str(a), a
        if k in (ir.FieldAddr, ir.ContainerOf):
            pre, v, c = self.ex(e.base if k is ir.FieldAddr else e.ptr)
            off = ir.field_offset(e.struct, e.field, g.p)
            if k is ir.ContainerOf:
                off = -off
            if c is not None:
                return pre, _lit(c + off), c + off
            return pre, f"({v} + {off})" if off >= 0 else f"({v} - {-off})", None
        if k is ir.IndexAddr:
            at = e.base.type.target if isinstance(e.base.type, PtrT) else None
            if not isinstance(at, ArrayT):
                raise IRError(e.loc, "index of something that is not an array")
            bp, bv, _ = self.ex(e.base)
            ip, iv, _ = self.ex(e.index)
            t = self.temp()
            size = ir.sizeof(at.elem, g.p)
            pre = bp + ip + [f"{t} = {iv}",
                             _if([(f"{t} < 0 || {t} >= {at.n}", self.fault("out-of-bounds", e.loc))])]
            return pre, f"({bv} + {t} * {size})", None
        if k is ir.Bin:
            return self._bin(e)
        if k is ir.Un:
            pre, a, c = self.ex(e.operand)
            if e.op == "!":
                return pre, f"(({a}) == 0 -> 1 : 0)", None
            if e.op == "-":
                return pre, _wrap(f"(-({a}))", e.type), None
            if e.op == "~":
                return pre, _wrap(f"(~({a}))", e.type), None
            raise IRError(e.loc, f"unknown unary operator {e.op}")
        if k is ir.Cast:
            pre, a, c = self.ex(e.operand)
            if isinstance(e.type, IntT):
                if c is not None:
                    w = m.wrap(c, e.type)
                    return pre, _lit(w), w
                return pre, _wrap(a, e.type), None
            return pre, a, c
        if k is ir.Deref:
            if self.self_addr is None:
                raise IRError(e.loc, "memory reads inside an expression are only allowed in invariants")
            pre, a, _ = self.ex(e.addr)
            t = self.temp()
            pre = pre + [f"{t} = {a} - {m.base}", g.cell_code(t, self, e.loc)]
            return pre, f"mem[{t}]", None
        if k is ir.Query:
            if self.self_addr is None:
                raise IRError(e.loc, "queries are only allowed in invariants")
            return self._query(e)
        raise IRError(getattr(e, "loc", NOWHERE), f"cannot export expression {k.__name__}")

    def _bin(self, e):
        op = e.op
        lp, a, _ = self.ex(e.left)
        rp, b, rc = self.ex(e.right)
        if op in ("&&", "||"):
            if not rp:
                return lp, f"((({a}) != 0 {op} ({b}) != 0) -> 1 : 0)", None
            t = self.temp()
            guard = f"{t} != 0" if op == "&&" else f"{t} == 0"
            pre = lp + [f"{t} = (({a}) != 0 -> 1 : 0)",
                        _if([(guard, rp + [f"{t} = (({b}) != 0 -> 1 : 0)"])])]
            return pre, t, None
        pre = lp + rp
        if op in ("==", "!=", "<", "<=", ">", ">="):
            lu, ru = _ubig(e.left.type), _ubig(e.right.type)
            if lu and ru:
                x = f"(({a}) ^ {MIN32}) {op} (({b}) ^ {MIN32})"
            elif lu:
                x = {"<": "({a}) >= 0 && ({a}) < ({b})", "<=": "({a}) >= 0 && ({a}) <= ({b})",
                     ">": "({a}) < 0 || ({a}) > ({b})", ">=": "({a}) < 0 || ({a}) >= ({b})",
                     "==": "({a}) >= 0 && ({a}) == ({b})", "!=": "({a}) < 0 || ({a}) != ({b})"}[op]
                x = x.format(a=a, b=b)
            elif ru:
                x = {"<": "({b}) < 0 || ({a}) < ({b})", "<=": "({b}) < 0 || ({a}) <= ({b})",
                     ">": "({b}) >= 0 && ({a}) > ({b})", ">=": "({b}) >= 0 && ({a}) >= ({b})",
                     "==": "({b}) >= 0 && ({a}) == ({b})", "!=": "({b}) < 0 || ({a}) != ({b})"}[op]
                x = x.format(a=a, b=b)
            else:
                x = f"({a}) {op} ({b})"
            return pre, f"(({x}) -> 1 : 0)", None
        if op in ("+", "-", "*", "&", "|", "^"):
            return pre, _wrap(f"(({a}) {op} ({b}))", e.type), None
        if op in ("/", "%"):
            tb = self.temp()
            pre = pre + [f"{tb} = {b}", _if([(f"{tb} == 0", self.fault("assertion", e.loc))])]
            if op == "/":
                v = f"((({a}) == {MIN32} && {tb} == -1) -> {MIN32} : ({a}) / {tb})"
            else:
                v = f"((({a}) == {MIN32} && {tb} == -1) -> 0 : ({a}) % {tb})"
            return pre, _wrap(v, e.type), None
        if op in ("<<", ">>"):
            bits = e.type.bits if isinstance(e.type, IntT) else 32
            if rc is not None:
                s = str(rc % bits)
            else:
                s = self.temp()
                pre = pre + [f"{s} = ((({b}) % {bits}) + {bits}) % {bits}"]
            big = bits > 32
            if op == "<<":
                v = f"(({a}) << {s})"
                if big:
                    v = f"({s} >= 32 -> 0 : {v})"
                return pre, _wrap(v, e.type), None
            t = e.type
            if isinstance(t, IntT) and not t.signed:
                if t.bits < 32:
                    mask = (1 << t.bits) - 1
                    v = f"((({a}) < 0 -> ({a}) & {mask} : ({a})) >> {s})"
                else:
                    v = f"({s} == 0 -> ({a}) : (({a}) >> {s}) & (2147483647 >> ({s} - 1)))"
                    if big:
                        v = f"({s} >= 32 -> 0 : {v})"
            else:
                v = f"(({a}) >> {s})"
                if big:
                    v = f"({s} >= 32 -> ({a}) >> 31 : {v})"
            return pre, _wrap(v, t), None
        raise IRError(e.loc, f"unknown binary operator {op}")

    def _query(self, e):
        """An invariant's query: its micro-program (kernel.py's definition), faults going to this context's."""
        pre = []
        vals = []
        for a in e.args:
            p_, v, _ = self.ex(a)
            t = self.temp()
            pre += p_ + [f"{t} = {v}"]
            vals.append(t)
        res = self.temp()
        return pre + self.g.uops(None, None, e, vals, "xt", query=(self, res)), res, None


# ---------------------------------------------------------------- the model


class _Gen:
    def __init__(self, program: ir.Program, reduce_private: bool):
        p = program
        self.p = p
        self.rp = reduce_private
        b = p.bounds
        if b.cpus > 31:
            raise UsageError(NOWHERE, f"cannot export {b.cpus} CPUs to Promela: cpumasks are 32-bit ints there",
                             "use at most 31 CPUs in the spec's [bounds]")
        self.m = m = Machine(p, reduce_private)
        self.NT = m.nthreads
        self.NE = len(m.entry_choices)
        self.NO = self.NE + 2
        if self.NT * self.NO > MAX_PROCS:
            raise UsageError(NOWHERE, f"cannot export to Promela: {self.NT} threads x {self.NE} entry choices "
                                      f"need {self.NT * self.NO} SPIN processes (at most {MAX_PROCS})",
                             "narrow the argument domains of the entry points or use fewer host_cpus")
        self.NC = m.ncells
        self.NG = m.cpu_state[0]
        for c in range(m.ncpu):
            assert m.cpu_state[c] == self.NG + 2 * c and m.cpu_image[c] == self.NG + 2 * c + 1
        self.NS = len(m.slots)
        self.nloc = [len(f.locals) for f in m.funcs]
        self.D, self.LS = self._depths()
        self.ntemp = 1
        self.nlabel = 0
        self.cap = b.idr_capacity
        self.progs: dict = {}  # primitive -> its micro-program for this model (core.trace)
        self.nregs = 1
        # return points: function index -> [(caller index, pc after the call, dst)]
        self.callers: dict[int, list] = {}
        for fi, f in enumerate(m.funcs):
            for pc, ins in enumerate(f.body):
                if isinstance(ins, ir.Call):
                    self.callers.setdefault(m.fidx[ins.func], []).append((fi, pc + 1, ins.dst))
        # where a frame can stand at the end of a step: at a visible instruction (top) or a return point
        self.stops = []
        for fi, f in enumerate(m.funcs):
            pcs = {pc for pc, ins in enumerate(f.body) if isinstance(ins, ir.VISIBLE)}
            pcs |= {pc + 1 for pc, ins in enumerate(f.body)
                    if isinstance(ins, ir.Call) or isinstance(ins, ir.Prim) and core.calls_aux(ins.name)}
            self.stops.append(sorted(pc for pc in pcs if pc < len(f.body)))

    def _depths(self):
        m = self.m
        memo: dict = {}

        def walk(fi):
            if fi not in memo:
                d, ls = 0, 0
                for ins in m.funcs[fi].body:
                    callee = None
                    if isinstance(ins, ir.Call):
                        callee = m.fidx[ins.func]
                    elif isinstance(ins, ir.Prim) and core.calls_aux(ins.name):
                        callee = m.fidx[ins.aux]
                    if callee is not None:
                        cd, cls = walk(callee)
                        d, ls = max(d, cd), max(ls, cls)
                memo[fi] = (d + 1, ls + self.nloc[fi])
            return memo[fi]
        D, LS = 1, 1
        for _, fi, _ in m.entry_choices:
            d, ls = walk(fi)
            D, LS = max(D, d), max(LS, ls)
        return D, LS

    def label(self, what: str) -> str:
        self.nlabel += 1
        return f"L_{what}_{self.nlabel}"

    # ------------------------------------------------------------ violations

    def report(self, check: str, loc, message: str = "") -> list:
        text = _cstr(f"mkverify: [{check}] {message + ' ' if message else ''}at {loc}")
        return [f'printf("{text}\\n")', f"assert({_vname(check)})"]

    def fatal(self, check: str, loc, message: str = "") -> list:
        """A fatal violation: report, mark the step fatal, leave the chunk (its end label is @END@)."""
        return self.report(check, loc, message) + ["xdone = 2", "goto @END@"]

    def step_ctx(self, loc) -> _Ctx:
        return _Ctx(self, "xb", lambda check, l: self.fatal(check, l), loc=loc)

    def probe_ctx(self, lb: str, target: str) -> _Ctx:
        return _Ctx(self, lb, lambda check, l: [f"goto {target}"])

    # ------------------------------------------------------------ memory helpers

    def in_slot(self, a: str, s) -> str:
        """Address a lies in slot s's object (machine.region_of says 'slot')."""
        return f"{a} >= {s.base} && {a} < {s.base + s.size}"

    def in_region(self, c: str) -> str:
        """Cell index c is a global's or a slot object's cell."""
        parts = [f"({c} >= 0 && {c} < {self.NG})"]
        for s in self.m.slots:
            lo = s.base - self.m.base
            if s.size:
                parts.append(f"({c} >= {lo} && {c} < {lo + s.size})")
        return "(" + " || ".join(parts) + ")"

    def live(self, j: int) -> str:
        """machine._cell_live for a fixed cell."""
        o = self.m.owner[j]
        return "1" if o < 0 else f"mem[{self.m.slots[o].status}] == {LIVE}"

    def cell_code(self, c: str, ctx: _Ctx, loc=None) -> str:
        """`_Exec.cell`: c holds addr - BASE; fault unless it is a global's cell or a live object's."""
        m = self.m
        opts = [(f"{c} < 0", ctx.fault("null-dereference", loc)),
                (f"{c} >= {self.NC}", ctx.fault("out-of-bounds", loc)),
                (f"{c} < {self.NG}", ["skip"])]
        for s in m.slots:
            lo = s.base - m.base
            if s.size:
                opts.append((f"{c} >= {lo} && {c} < {lo + s.size}",
                             [_if([(f"mem[{s.status}] != {LIVE}", ctx.fault("use-after-free", loc))])]))
        return _if(opts, ctx.fault("out-of-bounds", loc))

    def step_cell(self, addr: tuple, var: str, ctx: _Ctx) -> tuple:
        """(statements, cell index expression) for `_Exec.cell` of a compiled address."""
        pre, v, c = addr
        if c is not None:
            kind, _, i = self.m.region_of(c)
            if kind == "global":
                return list(pre), str(i)
        return list(pre) + [f"{var} = {v} - {self.m.base}", self.cell_code(var, ctx)], var

    def scan_mem(self, lo: str, hi: str, flag: str, private_sid: str | None = None,
                 skip_executes: bool = False) -> str:
        """flag = 1 if a live pointer in memory points into [lo, hi) (machine.live_pointers);
        with private_sid, also if a list_head of that slot is on a list (_private_slot)."""
        m = self.m
        parts = []
        for j in m.ptr_cells:
            if skip_executes and m.cells[j].name.endswith(".executes"):
                continue
            live = self.live(j)
            hit = f"(mem[{j}] >= {lo} && mem[{j}] < {hi})"
            o = m.owner[j]
            if private_sid is not None and o >= 0 and m.cells[j].kind == "list_head":
                hit = f"({hit} || (mem[{j}] != 0 && {private_sid} == {o}))"
            parts.append(hit if live == "1" else f"({live} && {hit})")
        if not parts:
            return "skip"
        return _if([("(" + " ||\n    ".join(parts) + ")", [f"{flag} = 1"])])

    def scan_locals(self, lo: str, hi: str, flag: str, skip_thread: str | None) -> str:
        """flag = 1 if a pointer-typed local of a thread (but skip_thread) points into [lo, hi)."""
        m = self.m
        opts = []
        for fi in range(len(m.funcs)):
            js = m.ptr_locals[fi]
            if js:
                cond = " || ".join(f"(lv[xq + {j}] >= {lo} && lv[xq + {j}] < {hi})" for j in js)
                opts.append((f"fr_fn[xk] == {fi}", [_if([(cond, [f"{flag} = 1"])])]))
        if not opts:
            return "skip"
        D = self.D
        valid = f"(xk % {D}) < sp[xk / {D}]"
        if skip_thread is not None:
            valid = f"(xk / {D}) != {skip_thread} && {valid}"
        return _loop("xk", self.NT * D, [_if([(valid, ["xq = fr_lb[xk]", _if(opts)])])])

    def slot_info(self, sid: str) -> str:
        """xst, xlo, xhi of slot number sid (status cell; address range as in _reclaim)."""
        return _if([(f"{sid} == {k}", [f"xst = {s.status}", f"xlo = {s.base}", f"xhi = {s.base + max(s.size, 1)}"])
                    for k, s in enumerate(self.m.slots)])

    def site_code(self, fi: int, pc: int, loc) -> list:
        """xsite = machine's site number of the call path of the running thread (site_here)."""
        m = self.m
        opts = []
        for n, path in enumerate(m.site_paths):
            if n == 0 or path[-1] != (fi, pc):
                continue
            conds = [f"sp[xt] == {len(path)}"]
            for k, (f, p) in enumerate(path[:-1]):
                conds.append(f"fr_fn[xt * {self.D} + {k}] == {f} && fr_pc[xt * {self.D} + {k}] == {p + 1}")
            opts.append((" && ".join(conds), [f"xsite = {n}"]))
        return [_if(opts, self.fatal("internal", loc, "call path without a site number"))]

    # ------------------------------------------------------------ instructions

    def ret_to(self, fi: int, dst: int, v: str) -> list:
        if dst < 0:
            return []
        return [f"lv[xb + {dst}] = {_wrap(v, self.m.funcs[fi].locals[dst].type)}"]

    def push(self, fi: int, callee: int, args: list) -> list:
        """Push a frame for callee above the current frame xf (of function fi); args: values for its params."""
        out = ["xf2 = xf + 1", f"fr_fn[xf2] = {callee}", "fr_pc[xf2] = 0", f"fr_lb[xf2] = xb + {self.nloc[fi]}"]
        for j, v in enumerate(args):
            out.append(f"lv[fr_lb[xf2] + {j}] = {v}")
        out.append("sp[xt] = sp[xt] + 1")
        return out

    def silent(self, fi: int, pc: int, ins) -> list:
        m = self.m
        fn = m.funcs[fi]
        ctx = self.step_ctx(ins.loc)
        k = type(ins)
        if k is ir.Set:
            pre, v, _ = ctx.ex(ins.expr)
            return pre + [f"lv[xb + {ins.dst}] = {_wrap(v, fn.locals[ins.dst].type)}", f"fr_pc[xf] = {pc + 1}"]
        if k is ir.Branch:
            pre, v, _ = ctx.ex(ins.cond)
            return pre + [_if([(f"({v}) != 0", [f"fr_pc[xf] = {ins.then}"])], [f"fr_pc[xf] = {ins.other}"])]
        if k is ir.Jump:
            return [f"fr_pc[xf] = {ins.target}"]
        if k is ir.Check:
            pre, v, _ = ctx.ex(ins.cond)
            msg = f"{ins.text or ins.kind} fired"
            report = self.fatal if ins.kind == "BUG_ON" else self.report
            act = report("assertion", ins.loc, msg)
            return pre + [_if([(f"({v}) != 0", act)]), f"fr_pc[xf] = {pc + 1}"]
        if k is ir.Call:
            callee = m.fidx[ins.func]
            cf = m.funcs[callee]
            pre, vals = [], []
            for j, a in enumerate(ins.args):
                p_, v, _ = ctx.ex(a)
                t = ctx.temp()
                pre += p_ + [f"{t} = {_wrap(v, cf.locals[j].type)}"]
                vals.append(t)
            return pre + [f"fr_pc[xf] = {pc + 1}"] + self.push(fi, callee, vals)
        if k is ir.Ret:
            out = []
            if ins.value is not None:
                pre, v, _ = ctx.ex(ins.value)
                out += pre + [f"xv = {v}"]
            else:
                out.append("xv = 0")
            out += [f"lv[xb + {j}] = 0" for j in range(self.nloc[fi])]
            out += ["fr_fn[xf] = 0", "fr_pc[xf] = 0", "fr_lb[xf] = 0", "sp[xt] = sp[xt] - 1"]
            back = []
            for cfi, rpc, dst in self.callers.get(fi, []):
                if dst >= 0:
                    back.append((f"fr_fn[xf] == {cfi} && fr_pc[xf] == {rpc}", self.ret_to(cfi, dst, "xv")))
            returned = []
            for i in m.lock_cells:
                live = self.live(i)
                cond = f"mem[{i}] == xt + 1" + ("" if live == "1" else f" && {live}")
                arms = [(cond, self.report("lock-imbalance", ins.loc, f"returns to user space with {m.cells[i].name} held")
                         + [f"mem[{i}] = {m.leaked_owner}"])]
                if i in m.rw_cells:  # held for reading: this thread's bit becomes that of a task that returned
                    rcond = f"mem[{i}] < 0 && (((0 - mem[{i}]) >> xt) & 1) != 0" + ("" if live == "1" else f" && {live}")
                    arms.append((rcond, self.report("lock-imbalance", ins.loc,
                                                    f"returns to user space with {m.cells[i].name} held")
                                 + [f"mem[{i}] = 0 - (((0 - mem[{i}]) & ~(1 << xt)) | {1 << m.nthreads})"]))
                returned.append(_if(arms))
            if m.shape.rcu_depth:  # a read-side section left open stays with the task that returned
                returned.append(_if([(f"xt == {t}", [f"mem[{c}] = 0"]) for t, c in enumerate(m.shape.rcu_depth)]))
            out.append(_if([("sp[xt] == 0", returned or ["skip"])],
                           ["xf = xf - 1", "xb = fr_lb[xf]"] + ([_if(back)] if back else [])))
            return out
        raise IRError(ins.loc, f"cannot export instruction {k.__name__}")

    def visible(self, fi: int, pc: int, ins) -> list:
        m = self.m
        fn = m.funcs[fi]
        ctx = self.step_ctx(ins.loc)
        say = _cstr(f"{fn.name}: {ins.text or ir.instr_str(ins, fn)} at {ins.loc}")
        out = [_if([("xfirst == 0 && xpriv == 0", ["xdone = 1", "goto @END@"])]), "xfirst = 0",
               f'printf("mkverify: CPU%d {say}\\n", xt)', f"fr_pc[xf] = {pc + 1}"]
        if isinstance(ins, ir.Load):
            pre, i = self.step_cell(ctx.ex(ins.addr), "xc", ctx)
            return out + pre + self.ret_to(fi, ins.dst, f"mem[{i}]")
        if isinstance(ins, ir.Store):
            pre, i = self.step_cell(ctx.ex(ins.addr), "xc", ctx)
            vp, v, _ = ctx.ex(ins.value)
            out += pre + vp + [f"xv = {_wrap(v, ins.type)}"]
            if not m.p.lifecycles:
                return out + [f"mem[{i}] = xv"]
            out += [f"xold = mem[{i}]", f"mem[{i}] = xv"]
            for lc, spec in enumerate(m.p.lifecycles):
                cells = [j for j, l in m.lifecycle_cell.items() if l == lc]
                if not cells:
                    continue
                at = " || ".join(f"{i} == {j}" for j in cells)
                ok = " || ".join(f"(xold == {a} && xv == {b})" for a, b in sorted(m.lifecycle_allowed[lc]))
                cond = f"({at}) && xold != xv" + (f" && !({ok})" if ok else "")
                out.append(_if([(cond, self.report("illegal-transition", ins.loc,
                                                   f"not a transition of the {spec.struct}.{spec.field} lifecycle"))]))
            return out
        return out + self.prim(fi, pc, ins, ctx)

    def prim(self, fi: int, pc: int, ins: ir.Prim, ctx: _Ctx) -> list:
        """A kernel primitive: its micro-program (core.trace of its kernel.py definition) as Promela."""
        out, vals = self.prim_args(ins, ctx)
        return out + self.uops(fi, pc, ins, vals, "xt")

    def prim_args(self, ins: ir.Prim, ctx: _Ctx) -> tuple:
        """(statements, values) of a primitive's arguments: a constant, or the temporary holding it."""
        out, vals = [], []
        for a in ins.args:
            p_, v, c = ctx.ex(a)
            out += p_
            if c is None:
                t = ctx.temp()
                out.append(f"{t} = {v}")
                v = t
            vals.append(v)
        return out, vals

    def program(self, name: str, query: bool = False):
        """Primitive (or query) `name`'s micro-program for this model."""
        if (name, query) not in self.progs:
            m = self.m
            self.progs[(name, query)] = mp = core.trace(name, m.shape, query)
            self.nregs = max(self.nregs, mp.nregs)
        return self.progs[(name, query)]

    def uops(self, fi, pc, ins, vals: list, me: str, probe: str | None = None, query=None) -> list:
        """Statements for the micro-program of `ins` run by thread `me` with argument values `vals`, over the
        registers xg[] (xr is a Promela keyword). A probe (`probe`: the statements that say the thread waits, @OWNER@ the owner) changes
        nothing: every effect and every fault jumps to @END@, a failing await runs `probe` first. An invariant's
        query (`query`: its expression context and the variable for its value) faults as that context does."""
        m, loc = self.m, ins.loc
        mp = self.program(ins.name, query is not None)
        ops = mp.ops
        leave = ["goto @END@"]
        if query is not None:
            ctx = query[0]
        elif probe is not None:
            ctx = _Ctx(self, "xb", lambda check, l: leave, loc=loc)
        else:
            ctx = _Ctx(self, "xb", lambda check, l: self.fatal(check, l), loc=loc)

        def r(k):
            return f"xg[{k}]"

        def emit(k: int) -> list:
            out = []
            while k < len(ops):
                op, *x = ops[k]
                if op == "end":
                    return out + (leave if probe is not None else [])
                if op == "br":
                    return out + [_if([(f"{r(x[0])} != 0", emit(k + 1) or ["skip"])], emit(x[1]) or ["skip"])]
                if op == "arg":
                    out.append(f"{r(x[0])} = {vals[x[1]]}")
                elif op == "const":
                    out.append(f"{r(x[0])} = {_lit(x[1])}")
                elif op == "me":
                    out.append(f"{r(x[0])} = {me}")
                elif op == "choice":  # a probe asks about the outcome that can wait: choice 0
                    out.append(f"{r(x[0])} = " + ("0" if probe is not None else "(xch == 1 -> 1 : 0)"))
                elif op == "bin":
                    bop = core.BINOPS[x[1]]
                    e = f"{r(x[2])} {bop} {r(x[3])}"
                    compare = bop in ("==", "!=", "<", "<=", ">", ">=")
                    out.append(f"{r(x[0])} = " + (f"({e} -> 1 : 0)" if compare else f"({e})"))
                elif op == "not":
                    out.append(f"{r(x[0])} = ({r(x[1])} == 0 -> 1 : 0)")
                elif op == "bnot":
                    out.append(f"{r(x[0])} = ~{r(x[1])}")
                elif op == "sel":
                    out.append(f"{r(x[0])} = ({r(x[1])} != 0 -> {r(x[2])} : {r(x[3])})")
                elif op == "wrap":
                    out.append(f"{r(x[0])} = {_wrap(r(x[1]), IntT(x[2], bool(x[3])))}")
                elif op == "cell":
                    out += [f"xc = {r(x[1])} - {m.base}", self.cell_code("xc", ctx), f"{r(x[0])} = xc"]
                elif op == "rd":
                    out.append(f"{r(x[0])} = mem[{r(x[1])} + {x[2]}]")
                elif op == "cpucell":
                    out.append(f"{r(x[0])} = {self.NG} + 2 * {r(x[1])} + {x[2]}")
                elif op == "objbase":
                    a = r(x[1])
                    opts = [(self.in_slot(a, s), [_if([(f"mem[{s.status}] != {LIVE}", ctx.fault("use-after-free"))]),
                                                  f"{r(x[0])} = {s.base}"]) for s in m.slots if s.size]
                    opts.append((f"{a} >= {m.base} && {a} < {m.base + self.NG}", [f"{r(x[0])} = {a}"]))
                    out.append(_if(opts, [f"xc2 = {a} - {m.base}", self.cell_code("xc2", ctx)]))
                elif op == "objof":
                    a = r(x[1])
                    opts = [(self.in_slot(a, s), [f"{r(x[0])} = {s.base}"]) for s in m.slots if s.size]
                    out += [f"{r(x[0])} = {a}"] + ([_if(opts, ["skip"])] if opts else [])
                elif op == "live":
                    out.append(f"{r(x[0])} = ({self.live(x[1])} -> 1 : 0)")
                elif op == "result" and query is not None:
                    out.append(f"{query[1]} = {r(x[0])}")
                elif op == "await":
                    if probe is not None:
                        waits = probe.replace("@OWNER@", r(x[2])).split("\n")
                        out.append(_if([(f"{r(x[0])} == 0", waits + leave)]))
                elif probe is not None:  # the first effect: the primitive would run
                    return out + leave
                elif op == "wr":
                    out.append(f"mem[{r(x[0])} + {x[1]}] = {r(x[2])}")
                elif op == "fail":
                    return out + self.fatal(mp.keys[x[0]][0], loc)
                elif op == "warn":
                    out += self.report(mp.keys[x[0]][0], loc)
                elif op == "bound":
                    return out + self.fatal("bound", loc, mp.bounds[x[0]][0])
                elif op == "result":
                    out += self.ret_to(fi, ins.dst, r(x[0]))
                elif op == "call":
                    out += self.push(fi, m.fidx[ins.aux], [r(x[0])])
                elif op == "alloc":
                    out += self.alloc(fi, pc, ins, r(x[0]))
                elif op == "free":
                    out += self.kfree(fi, pc, r(x[0]), loc)
                else:
                    raise IRError(loc, f"internal: micro-operation {op} has no Promela form")
                k += 1
            return out + (leave if probe is not None else [])
        return emit(0)

    def alloc(self, fi: int, pc: int, ins: ir.Prim, dst: str) -> list:
        """The core's alloc: the first free slot of the instruction's pool, or NULL on choice 1."""
        m = self.m
        slots = m.pool_slots[ins.aux]
        opts = []
        for n, sid in enumerate(slots):
            sl = m.slots[sid]
            cond = " && ".join([f"mem[{m.slots[y].status}] != {FREE}" for y in slots[:n]]
                               + [f"mem[{sl.status}] == {FREE}"])
            opts.append((cond, [f"mem[{sl.status}] = {LIVE}", f"mem[{sl.site}] = xsite", f"{dst} = {sl.base}"]))
        return [_if([("xch == 1", [f"{dst} = 0"])],
                    self.site_code(fi, pc, ins.loc) + [_if(opts, self.fatal("internal", ins.loc, "no free slot"))])]

    def kfree(self, fi: int, pc: int, p: str, loc) -> list:
        """The core's free (machine.py _Exec.kfree)."""
        m = self.m
        opts = []
        for s in m.slots:
            if not s.size:
                continue
            body = [_if([(f"mem[{s.status}] == {FREED}", self.fatal("double-free", loc))])]
            for k in range(s.size):
                j = s.base - m.base + k
                kind = m.cells[j].kind
                if kind == "list_head":
                    body.append(_if([(f"mem[{j}] != 0", self.report("dangling-reference", loc,
                                                                     f"{m.cells[j].name} freed while on a list"))]))
                elif kind in ("mutex", "spinlock"):
                    body.append(_if([(f"mem[{j}] != 0", self.report("lock-imbalance", loc,
                                                                     f"{m.cells[j].name} freed while held"))]))
                body.append(f"mem[{j}] = 0")
            body += self.site_code(fi, pc, loc) + [f"mem[{s.status}] = {FREED}", f"mem[{s.site}] = xsite"]
            opts.append((f"{p} == {s.base}", body))
        return [_if([(f"{p} == 0", ["skip"])], [_if(opts, self.fatal("invalid-free", loc))])]

    # ------------------------------------------------------------ phases of a step

    def probe(self, fi, pc, ins):
        """Phase 1: the pointer arguments of a visible instruction that might be private (private_access)."""
        if isinstance(ins, ir.Prim):
            if not kernel.PRIMS[ins.name].private:
                return None
            addrs = [a for a in ins.args if isinstance(a.type, PtrT)]
        elif isinstance(ins, (ir.Load, ir.Store)):
            addrs = [ins.addr]
        else:
            return None
        if not addrs:
            return None
        ctx = self.probe_ctx("xb", "@PROBED@")
        out = []
        for k, a in enumerate(addrs):
            pre, v, _ = ctx.ex(a)
            out += pre + [f"xp[{k}] = {v}"]
        out.append(f"xpn = {len(addrs)}")
        if isinstance(ins, ir.Prim) and core.may_block(ins.name):  # it waits for another thread: not private
            pre, vals = self.prim_args(ins, ctx)
            out += pre + [s.replace("@END@", "@PROBED@") for s in self.uops(fi, pc, ins, vals, "xt", probe="xlk = 1")]
        self.maxp = max(self.maxp, len(addrs))
        return out

    def pending_in_slot(self, sid: str, flag: str) -> str:
        """flag = 1 if a deferred item of slot sid is pending: a worker may start on it (_private_slot)."""
        opts = [(f"{sid} == {k} && ({' || '.join(f'(mem[{j}] & {kernel.DEFERRED_PENDING}) != 0' for j in js)})",
                 [f"{flag} = 1"]) for k, js in sorted(self.m.deferred_of.items())]
        return _if(opts) if opts else "skip"

    def worker_may_start(self, k: int) -> str:
        """machine.py's worker_may_start of choice k, as a Promela expression."""
        m = self.m
        j = m.choice_item[k]
        return " && ".join([f"(mem[{j}] & {kernel.DEFERRED_PENDING}) != 0"] +
                           [f"mem[{r}] != {m.base + j}" for r in m.shape.worker_runs])

    def private_check(self) -> list:
        """xpriv = every address in xp[0..xpn-1] lies in an object only this thread can reach (_private_slot)."""
        m = self.m
        find = _if([(self.in_slot("xa", s), [f"xsid = {k}"]) for k, s in enumerate(m.slots) if s.size])
        body = ["xa = xp[xj]", "xsid = -1", find,
                _if([("xsid < 0", ["xpriv = 0"])],
                    [self.slot_info("xsid"),
                     _if([(f"mem[xst] != {LIVE}", ["xpriv = 0"])],
                         ["xh = 0", self.scan_mem("xlo", "xhi", "xh", private_sid="xsid"),
                          self.scan_locals("xlo", "xhi", "xh", skip_thread="xt"), self.pending_in_slot("xsid", "xh"),
                          _if([("xh != 0", ["xpriv = 0"])])])])]
        lock = _if([("xlk != 0", ["xpriv = 0"])])
        return ["xpriv = 1", _loop("xj", "xpn", [_if([("xpriv != 0", body)])]), lock]


    # ------------------------------------------------------------ d_step chunks

    def units(self, per_instr) -> list:
        """(fi, pc, ins, code) for every instruction per_instr gives code for."""
        out = []
        for fi, f in enumerate(self.m.funcs):
            for pc, ins in enumerate(f.body):
                code = per_instr(fi, pc, ins)
                if code is not None:
                    out.append((fi, pc, ins, code))
        return out

    def pack(self, units, extra=lambda u: 0) -> list:
        """Consecutive units in groups small enough for one d_step each."""
        groups, cur, size = [], [], 0
        for u in units:
            n = _size(_seq(u[3])) + extra(u) + 3
            if cur and size + n > BUDGET:
                groups.append(cur)
                cur, size = [], 0
            cur.append(u)
            size += n
        if cur:
            groups.append(cur)
        return groups

    def guard(self, group, fnx: str, pcx: str, groups) -> str:
        """True when (fnx, pcx) is an instruction of this group."""
        elsewhere = {u[0] for g in groups if g is not group for u in g}
        parts = []
        for fi in dict.fromkeys(u[0] for u in group):
            pcs = [u[1] for u in group if u[0] == fi]
            if fi in elsewhere:
                parts.append(f"({fnx} == {fi} && {pcx} >= {min(pcs)} && {pcx} <= {max(pcs)})")
            else:
                parts.append(f"{fnx} == {fi}")
        return " || ".join(parts)

    def dispatch(self, units, els) -> str:
        """Two-level dispatch on (xfn, xpc) over units."""
        m = self.m
        fopts = []
        for fi in dict.fromkeys(u[0] for u in units):
            f = m.funcs[fi]
            popts = [(f"xpc == {pc}", [_comment(f"{f.name}:{pc}: {ir.instr_str(ins, f)}")] + code)
                     for ufi, pc, ins, code in units if ufi == fi]
            fopts.append((f"xfn == {fi}", [_if(popts, els)]))
        return _if(fopts, els)

    def dstep(self, stmts) -> str:
        """A d_step of stmts; the markers @END@ and @PROBED@ become labels of its own."""
        text = _seq(stmts)
        for marker, what in (("@END@", "end"), ("@PROBED@", "probed")):
            if marker in text:
                text = text.replace(marker, self.label(what))
        if _size(text) > DSTEP_MAX:
            raise UsageError(NOWHERE, f"model {self.p.name} is too large to export: one step needs a d_step of "
                                      f"about {_size(text)} statements, SPIN accepts about {DSTEP_MAX}")
        return "d_step {\n" + _ind(text) + "\n}"

    def dsteps(self, pieces) -> list:
        """Consecutive independent pieces (statement lists) packed into as few d_steps as fit."""
        out, cur, size = [], [], 0
        for piece in pieces:
            n = _size(_seq(piece))
            if cur and size + n > BUDGET:
                out.append(self.dstep(cur))
                cur, size = [], 0
            cur += piece
            size += n
        if cur:
            out.append(self.dstep(cur))
        return out

    # ------------------------------------------------------------ the step

    def interpreter(self) -> str:
        """The loop that runs the thread's instructions until the step ends (atomic level)."""
        m = self.m
        D = self.D
        units = []
        for fi, f in enumerate(m.funcs):
            for pc, ins in enumerate(f.body):
                code = self.visible(fi, pc, ins) if isinstance(ins, ir.VISIBLE) else self.silent(fi, pc, ins)
                probe = self.probe(fi, pc, ins) if self.rp else None
                units.append((fi, pc, ins, code, probe))
        check = _size(_seq(self.private_check())) if self.rp else 0
        groups = self.pack(units, extra=lambda u: _size(_seq(u[4])) + 2 if u[4] else 0)
        top_fn, top_pc = f"fr_fn[xt * {D} + sp[xt] - 1]", f"fr_pc[xt * {D} + sp[xt] - 1]"
        opts = []
        for g in groups:
            inner = [f"xf = xt * {D} + sp[xt] - 1", "xb = fr_lb[xf]", "xfn = fr_fn[xf]", "xpc = fr_pc[xf]", "xbud++",
                     _if([(f"xbud > {SILENT_BUDGET}",
                           self.fatal("runtime-error", self.p.name, "a loop that never touches shared memory"))])]
            probes = [(fi, pc, ins, probe) for fi, pc, ins, _, probe in g if probe]
            if probes and check:
                inner.append(_if([("xfirst == 0", ["xpn = 0", "xlk = 0", self.dispatch(probes, ["skip"]),
                                                   "@PROBED@: skip",
                                                   _if([("xpn > 0", self.private_check())], ["xpriv = 0"])])],
                                 ["xpriv = 0"]))
            else:
                inner.append("xpriv = 0")
            inner.append(self.dispatch([u[:4] for u in g], self.fatal("internal", self.p.name, "no instruction here")))
            gd = self.guard(g, top_fn, top_pc, groups)
            loop = "\n".join(["do", f":: xdone == 0 && sp[xt] > 0 && ({gd}) ->", _ind(_seq(inner)),
                              ":: else -> break", "od"])
            opts.append((f"({gd})", [self.dstep([loop, "@END@: skip"])]))
        internal = self.dstep(self.fatal("internal", self.p.name, "no instruction here") + ["@END@: skip"])
        return "\n".join(["do", ":: xdone != 0 || sp[xt] == 0 -> break", ":: else ->",
                          _ind(_if(opts, [internal])), "od"])

    def zero_unit(self, fi, pc, ins):
        """Dead locals of a frame standing at (fi, pc) (Machine.dead; a caller's return destination)."""
        if pc not in self.stops[fi]:
            return None
        code = [f"lv[xb + {j}] = 0" for j in self.m.dead[fi][pc]]
        prev = self.m.funcs[fi].body[pc - 1] if pc > 0 else None
        if isinstance(prev, ir.Call) and prev.dst >= 0:
            code.append(_if([("xk < sp[xt] - 1", [f"lv[xb + {prev.dst}] = 0"])]))
        return code or None

    def wait_unit(self, fi, pc, ins):
        """en[xu] and xw[xu] for thread xu stopped at (fi, pc) (Machine.enabled, Machine.lock_wait)."""
        m = self.m
        if not isinstance(ins, ir.Prim):
            return None
        if core.chooses(ins.name):  # the failing outcome (choice 1) never waits: en bit 2 always
            if not core.may_block(ins.name):
                return ["en[xu] = 3"]
            ctx = self.probe_ctx("xb", "@END@")
            pre, vals = self.prim_args(ins, ctx)
            return ["en[xu] = 3"] + pre + self.uops(fi, pc, ins, vals, "xu", probe="en[xu] = 2\nxw[xu] = @OWNER@")
        if core.may_block(ins.name):
            ctx = self.probe_ctx("xb", "@END@")
            pre, vals = self.prim_args(ins, ctx)
            return pre + self.uops(fi, pc, ins, vals, "xu", probe="en[xu] = 0\nxw[xu] = @OWNER@")
        if core.allocates(ins.name):
            free = " || ".join(f"mem[{m.slots[s].status}] == {FREE}" for s in m.pool_slots[ins.aux]) or "0"
            fail = 1 if m.p.bounds.alloc_can_fail else 0
            return [f"xh = (({free}) -> 1 : 0)", f"en[xu] = (xh != 0 -> 1 : 0) + ((xh == 0 || {fail}) -> 2 : 0)"]
        return None

    def finish(self) -> list:
        """machine.finish and the checks of the new state, as atomic-level statements."""
        D, NT = self.D, self.NT
        out = []
        # dead locals of the running thread's frames
        groups = self.pack(self.units(self.zero_unit))
        pro = [f"xf = xt * {D} + xk", "xb = fr_lb[xf]", "xfn = fr_fn[xf]", "xpc = fr_pc[xf]"]
        if len(groups) <= 1:
            disp = self.dispatch(groups[0], ["skip"]) if groups else "skip"
            out.append(self.dstep([_loop("xk", "sp[xt]", pro + [disp])]))
        else:
            opts = [(self.guard(g, f"fr_fn[xt * {D} + xk]", f"fr_pc[xt * {D} + xk]", groups),
                     [self.dstep(pro + [self.dispatch(g, ["skip"])])]) for g in groups]
            out.append(_loop("xk", "sp[xt]", [_if(opts)]))
        # reclaim freed slots nothing points to
        if self.NS:
            out.append(self.dstep([_loop("xm", self.NS, [self.slot_info("xm"), _if([(f"mem[xst] == {FREED}", [
                "xh = 0", self.scan_mem("xlo", "xhi", "xh"), self.scan_locals("xlo", "xhi", "xh", None),
                _if([("xh == 0", [f"mem[xst] = {FREE}", "mem[xst + 1] = 0"])])])])])]))
        # what each thread may do next, and who waits for which lock
        groups = self.pack(self.units(self.wait_unit))
        top = [f"xf = xu * {D} + sp[xu] - 1", "xb = fr_lb[xf]", "xfn = fr_fn[xf]", "xpc = fr_pc[xf]"]
        if len(groups) <= 1:
            disp = self.dispatch(groups[0], ["skip"]) if groups else "skip"
            out.append(self.dstep([_loop("xu", NT, ["en[xu] = 0", "xw[xu] = 0",
                                                    _if([("sp[xu] > 0", top + ["en[xu] = 1", disp])]),
                                                    "@END@: skip"])]))
        else:
            out.append(self.dstep([_loop("xu", NT, ["en[xu] = (sp[xu] > 0 -> 1 : 0)", "xw[xu] = 0"])]))
            top_fn, top_pc = f"fr_fn[xu * {D} + sp[xu] - 1]", f"fr_pc[xu * {D} + sp[xu] - 1]"
            opts = [(f"sp[xu] > 0 && ({self.guard(g, top_fn, top_pc, groups)})",
                     [self.dstep(top + [self.dispatch(g, ["skip"]), "@END@: skip"])]) for g in groups]
            out.append(_loop("xu", NT, [_if(opts)]))
        out += self.dsteps(self.checks())
        return out

    def checks(self) -> list:
        """Machine.check_state of the new state, as pieces: set xbad_* flags, report, set dead."""
        m = self.m
        pieces = []
        # a wait-for cycle
        pieces.append([_loop("xu", self.NT, ["xa = xu", _loop("xm", self.NT, [
            _if([(f"xa >= 0 && xa < {self.NT} && xw[xa] != 0", ["xa = xw[xa] - 1"])], ["xa = -1"]),
            _if([("xa == xu", ["xbad_dl = 1"])])])])])
        # every thread waits, and none can give up (Machine._deadlocks)
        nh = m.nhost
        startable = " || ".join(f"({self.worker_may_start(k)})" for k in m.choice_item) or "0"
        pieces.append(["xh = 1", _loop("xu", self.NT, [_if([
            (f"xu < {nh} && (sp[xu] == 0 || en[xu] != 0)", ["xh = 0"]),
            (f"xu >= {nh} && sp[xu] != 0 && en[xu] != 0", ["xh = 0"]),
            (f"xu >= {nh} && sp[xu] == 0 && ({startable})", ["xh = 0"])])]),
                       _if([("xh != 0", ["xbad_dl = 1"])])])
        # a CPU executing freed memory
        for c in range(m.ncpu):
            im = f"mem[{m.cpu_image[c]}]"
            opts = [(self.in_slot(im, s), [_if([(f"mem[{s.status}] == {FREED}", ["xbad_cpu = 1"])])])
                    for s in m.slots if s.size]
            if opts:
                pieces.append([_if([(f"mem[{m.cpu_state[c]}] == {RUNNING}", [_if(opts)])])])
        quiet = " && ".join(f"sp[{t}] == 0" for t in range(self.NT))
        pieces.append([f"xq = (({quiet}) -> 1 : 0)"])
        if self.NS:
            # dangling pointers, at quiescent states
            pieces.append([_if([("xq != 0", [_loop("xm", self.NS, [self.slot_info("xm"), _if([(f"mem[xst] == {FREED}", [
                "xh = 0", self.scan_mem("xlo", "xhi", "xh", skip_executes=True),
                _if([("xh != 0", ["xbad_dang = 1"])])])])])])])])
            pieces.append([_if([("xq != 0", self.leak_check())])])
        # quiescent invariants hold at rest: every thread idle and no deferred item pending (machine.py)
        rest = "".join(f" && !((mem[{j}] & {kernel.DEFERRED_PENDING}) != 0 && {self.live(j)})"
                       for j in m.shape.deferred)
        for inv in m.p.invariants:
            for sid in m.pool_slots.get(inv.struct, ()):
                s = m.slots[sid]
                done = self.label("inv")
                ctx = _Ctx(self, "0", lambda check, l, done=done: [f"goto {done}"], self_addr=s.base)
                pre, v, _ = ctx.ex(inv.expr)
                cond = f"mem[{s.status}] == {LIVE}" + ("" if inv.always else f" && xq != 0{rest}")
                pieces.append([_if([(cond, ["xok = 0"] + pre + [f"xok = (({v}) != 0 -> 1 : 0)", f"{done}: skip",
                                                                _if([("xok == 0", ["xbad_inv = 1"])])])])])
        reports = [("xbad_cpu", "dangling-reference", "a CPU executes freed memory"),
                   ("xbad_dl", "deadlock", "a wait-for cycle of locks"),
                   ("xbad_dang", "dangling-reference", "a pointer to freed memory at a quiescent state"),
                   ("xbad_leak", "leak", "an object no longer reachable"),
                   ("xbad_inv", "invariant", "an invariant fails")]
        last = [_if([(f"{flag} != 0", self.report(check, m.p.name, msg))]) for flag, check, msg in reports]
        last.append("dead = ((" + " || ".join(f"{f} != 0" for f, _, _ in reports) + ") -> 1 : 0)")
        pieces.append(last)
        return pieces

    def leak_check(self) -> list:
        """machine._leaks: reachability from globals, running CPUs, and through lists."""
        m = self.m
        # a live object with a pending deferred item is reached (machine.py pending_slots)
        roots = [_if([(f"mem[{m.slots[sid].status}] == {LIVE} && ({' || '.join(f'(mem[{j}] & {kernel.DEFERRED_PENDING}) != 0' for j in js)})",
                       [f"xreach[{sid}] = 1"])]) for sid, js in sorted(m.deferred_of.items())]
        body = ["xh = 0"]
        for j in m.ptr_cells:
            o = m.owner[j]
            src = "1" if o < 0 else f"xreach[{o}] != 0"
            tgt = _if([(f"{self.in_slot('xa', s)} && mem[{s.status}] == {LIVE}", [f"xm = {k}"])
                       for k, s in enumerate(m.slots) if s.size])
            opts = [(src, [_if([("xm >= 0 && xreach[xm] == 0", ["xreach[xm] = 1", "xh = 1"])])])]
            if o >= 0 and m.cells[j].kind == "list_head":
                glob = f"(xa >= {m.base} && xa < {m.base + self.NG})"
                opts.append((f"!({src}) && {self.live(j)} && ({glob} || (xm >= 0 && xreach[xm] != 0))",
                             [f"xreach[{o}] = 1", "xh = 1"]))
            body.append(_if([(f"mem[{j}] != 0", [f"xa = mem[{j}]", "xm = -1", tgt, _if(opts)])]))
        loop = "\n".join(["xh = 1", "do", ":: xh == 0 -> break", ":: else ->", _ind(_seq(body)), "od"])
        leak = " || ".join(f"(mem[{s.status}] == {LIVE} && xreach[{k}] == 0)" for k, s in enumerate(m.slots))
        return roots + [loop, _if([(leak, ["xbad_leak = 1"])])]

    def reset(self) -> list:
        """Back to the initial state (after a fatal violation: a state already stored)."""
        m = self.m
        out = [_loop("xk", self.NC, ["mem[xk] = 0"])]
        out += [f"mem[{i}] = {_lit(v)}" for i, v in enumerate(m.init_mem) if v]
        out += [_loop("xk", self.NT * self.D, ["fr_fn[xk] = 0", "fr_pc[xk] = 0", "fr_lb[xk] = 0"]),
                _loop("xk", self.NT * self.LS, ["lv[xk] = 0"]),
                _loop("xk", self.NT, ["sp[xk] = 0", "en[xk] = 0"]),
                "dead = 0"]
        return out

    # ------------------------------------------------------------ the whole text

    def text(self) -> str:
        m = self.m
        p = self.p
        D, LS, NT, NE, NO = self.D, self.LS, self.NT, self.NE, self.NO
        self.maxp = 1
        # the step first: generating it sizes the scratch arrays
        starts = []
        for k, (ei, fi, args) in enumerate(m.entry_choices):
            f = m.funcs[fi]
            st = ["sp[xt] = 1", f"xf = xt * {D}", f"fr_fn[xf] = {fi}", "fr_pc[xf] = 0", f"fr_lb[xf] = xt * {LS}"]
            for j, a in enumerate(args):
                st.append(f"lv[xt * {LS} + {j}] = {_lit(m.wrap(a, f.locals[j].type))}")
            if ei < 0:  # a worker's start takes its item (__deferred_take) in the same step (machine.py step)
                st += ["xfirst = 1", "xch = 0"]
            desc = f"{f.name}(" + ", ".join(f"{v.name}={a}" for v, a in zip(f.locals, args)) + ")"
            say = _cstr(f"call {desc}")
            starts.append((f"xo == {k}", [_comment(f"entry choice {k}: {desc}"),
                                          f'printf("mkverify: CPU%d {say}\\n", xt)'] + st))
        setup = self.dstep([f"xt = _pid / {NO}", f"xo = _pid % {NO}",
                            _if(starts, ["xfirst = 1", f"xch = xo - {NE}"])])
        interp = self.interpreter()
        end = _if([("xdone == 2", [self.dstep(self.reset())])], self.finish())

        scalars = ["xt", "xo", "xf", "xf2", "xb", "xfn", "xpc", "xdone", "xfirst", "xch", "xbud", "xpriv", "xpn",
                   "xlk", "xj", "xk", "xq", "xu", "xm", "xa", "xc", "xc2", "xv", "xold", "xres", "xsite", "xst",
                   "xlo", "xhi", "xh", "xsid", "xok", "xn", "xnew",
                   "xbad_dl", "xbad_cpu", "xbad_dang", "xbad_leak", "xbad_inv"]
        arrays = [("xe", self.ntemp), ("xp", self.maxp), ("xw", NT), ("xreach", max(self.NS, 1)),
                  ("xg", self.nregs)]
        # SPIN leaves a variable that is never read out of the state vector (spin -a without -o2):
        # reading each state variable once keeps every one of them in it
        clear = [_comment("read every state variable, so that SPIN never hides one as write-only"),
                 "xk = mem[0] + sp[0] + fr_fn[0] + fr_pc[0] + fr_lb[0] + lv[0] + en[0] + dead"]
        clear += [f"{s} = 0" for s in scalars if s != "xk"]
        for a, n in arrays:
            clear.append(_loop("xk", n, [f"{a}[xk] = 0"]))
        clear.append("xk = 0")
        clear = self.dstep(clear)

        # host threads start choices 0..nhost_choices-1, worker threads the others (machine.py enabled)
        hc = m.nhost_choices
        starts_ok = f"((_pid / {NO}) < {m.nhost} && (_pid % {NO}) < {hc})"
        if m.choice_item:
            starts_ok = "(" + " || ".join([starts_ok] + [f"((_pid / {NO}) >= {m.nhost} && (_pid % {NO}) == {k} && "
                                                         f"{self.worker_may_start(k)})" for k in m.choice_item]) + ")"
        guard = (f"dead == 0 && (((_pid % {NO}) < {NE} && sp[_pid / {NO}] == 0 && {starts_ok}) || "
                 f"((_pid % {NO}) == {NE} && (en[_pid / {NO}] & 1) != 0) || "
                 f"((_pid % {NO}) == {NE + 1} && (en[_pid / {NO}] & 2) != 0))")

        fnt = "byte" if len(m.funcs) < 256 else "short"
        pct = "byte" if max(len(f.body) for f in m.funcs) < 256 else "short"
        lbt = "byte" if NT * LS < 256 else "short"
        out = [_comment(f"Promela export of mkverify model {p.name}"),
               "/*\n"
               " * Generated by `mkverify export --promela` (encoding: mkverify/export/promela.py). One SPIN\n"
               " * transition per mkverify step: an atomic sequence of d_steps, whose inner states pan's\n"
               " * depth-first search does not store. Check it with\n"
               " *   spin -a model.pml && gcc -O2 -fwrapv -DSAFETY -DNOREDUCE -o pan pan.c && ./pan -c0 -m1000000\n"
               " * (raise -m if pan says the search depth is too small; not -DBFS, which stores the inner states).\n"
               " * pan then stores exactly as many states as `mkverify check --engine python` explores, and\n"
               " * reports errors iff mkverify reports violations. Exported with reduce_private "
               f"{'on' if self.rp else 'off'}.\n"
               " */",
               f"/* host threads {NT}, frames per thread {D}, locals per thread {LS}, entry choices {NE} */",
               f"/* memory: {self.NC} cells from address {m.base}; globals in cells 0..{self.NG - 1} */"]
        for i, c in enumerate(m.cells):
            out.append(_comment(f"cell {i}: {c.name} ({c.kind})"))
        out.append("")
        init = ", ".join(_init_lit(v) for v in m.init_mem)
        out += [f"int mem[{self.NC}] = {{ {init} }};",
                f"byte sp[{NT}];",
                f"{fnt} fr_fn[{NT * D}];",
                f"{pct} fr_pc[{NT * D}];",
                f"{lbt} fr_lb[{NT * D}];",
                f"int lv[{NT * LS}];",
                f"byte en[{NT}];",
                "bit dead;",
                "/* scratch: 0 in every stored state */",
                "int " + ", ".join(scalars) + ";"]
        out += [f"int {a}[{n}];" for a, n in arrays]
        out.append("/* assertion markers: always 0, so `assert(V_check)` fails and names the check */")
        out.append("bit " + ", ".join(_vname(c) for c in CHECKS) + ";")
        out.append("")
        for fi, f in enumerate(m.funcs):
            out.append(_comment(f"function {fi}: {f.name}, {len(f.locals)} locals"))
        for k, (ei, fi, args) in enumerate(m.entry_choices):
            out.append(_comment(f"choice {k}: {m.funcs[fi].name}{tuple(args)}"))
        out.append(_comment(f"choice {NE}: run the visible instruction; choice {NE + 1}: kzalloc returns NULL"))
        out += ["",
                f"active [{NT * NO}] proctype step()",
                "{",
                "end:",
                "  do",
                "  :: atomic {",
                _ind(f"{guard} ->", 5),
                _ind(_seq([setup, interp, end, clear]), 5),
                "     }",
                "  od",
                "}"]
        return "\n".join(out) + "\n"


def _size(text: str) -> int:
    """About how many Promela statements a text holds (one per line; comments aside)."""
    return sum(1 for line in text.split("\n") if line.strip() and not line.strip().startswith("/*"))
