"""The z3 engine: bounded model checking of the machine, and k-induction.

The machine of machine.py, unrolled k steps deep as z3 constraints. A state is
a vector of bit-vectors: one per memory cell, and per host CPU a control
point (idle, or a call path and a pc stopped at a visible instruction: the
call graph is acyclic, so these are finitely many) and the locals of each
frame. One step of thread t at control point c is written by symbolically
executing machine.py's step from c: control is concrete, data is symbolic,
and each branch whose condition data decides splits the step into paths,
each with its condition, its effect on every cell and local, and the
violations it raises. The transition relation of a depth picks a thread, a
label and so one path.

Violations are searched depth by depth, each depth with one solver query per
new finding (its key must differ from every key already found), so each
finding's trace is a shortest one, as in the explicit engines. A found path
is replayed with machine.py, which renders the trace and must raise the same
violation: the two semantics are checked against each other on every
finding. With no finding, the verdict is `ok` when no execution lasts k
steps, else `incomplete` ("bounded to depth k"); each spec invariant is then
tried by k-induction and reported "proved" when the induction step holds.

The engine explores the machine without reductions (no private-object
folding, no atomic sections, no symmetry): its traces are as long as those of
`mkverify check --no-reduce-private --no-atomic-sections`.
"""
from __future__ import annotations

import itertools
import time

import z3

from .. import core, ir, kernel
from ..diag import SourceLoc, UsageError
from ..ir import ArrayT, IntT, PtrT
from ..core import CELL_CLASSES, SHAPE_FIELDS
from ..machine import FREE, FREED, LIVE, RUNNING, Machine, ModelRuntimeError
from ..result import Finding, ModelResult, Stats
from .reference import describe, exhausted_notes, sort_findings

#: silent instructions one path of one step may run before the encoding gives up (a local loop)
PATH_BUDGET = 20_000
#: paths one step of one thread at one control point may split into
MAX_PATHS = 4096
DEFAULT_DEPTH = 10
#: solver time allowed to the completeness query and to each k-induction query (no answer: not proved)
COMPLETE_TIMEOUT_MS = 10_000
INDUCTION_TIMEOUT_MS = 10_000
#: wall-clock seconds all k-induction attempts of a run may start within
INDUCTION_BUDGET_S = 60


class _Stop(Exception):
    """A fatal violation ends the path."""


class _Interrupted(Exception):
    """The run was asked to stop (a deadline or a signal, mkverify/limits.py) while building terms."""


class _Blocked(Exception):
    """The path is a lock held by another CPU: the step is not enabled."""


class _ProbeDone(Exception):
    """A probe (_lock_wait) reached the first effect of a primitive."""


class _Waits(Exception):
    """A probe reached an await_ whose condition may fail."""

    def __init__(self, blocked, owner):
        self.blocked = blocked
        self.owner = owner


class _Infeasible(Exception):
    """The path's condition cannot hold (the forks before it exclude it)."""


class _Bound(Exception):
    """The path exceeds the IDR capacity: the explicit engines stop there (incomplete)."""


class _Rec:
    """A violation a path raises: its condition (within the path), check id and key."""
    __slots__ = ("cond", "check", "static", "sym", "fatal")

    def __init__(self, cond, check, static, sym, fatal):
        self.cond = cond          # a z3 Bool
        self.check = check        # the check id
        self.static = static      # the concrete part of machine.py's key
        self.sym = sym            # z3 terms completing the key (may be empty)
        self.fatal = fatal


class _Path:
    """One outcome of one step: the condition under which it is taken, and what it does."""
    __slots__ = ("cond", "kind", "recs", "mem", "ctl", "locs")

    def __init__(self, cond, kind, recs, mem, ctl, locs):
        self.cond = cond          # z3 Bool over the state before the step
        self.kind = kind          # "normal" | "fatal" | "blocked" | "bound"
        self.recs = recs          # [_Rec]
        self.mem = mem            # cell terms after the step (None unless normal)
        self.ctl = ctl            # the thread's control point after the step
        self.locs = locs          # the thread's local terms after the step, per level


class Encoding:
    """The machine of one program as z3 terms."""

    def __init__(self, program: ir.Program):
        self.p = program
        self.m = m = Machine(program, reduce_private=False, atomic=False)
        self.stop = None  # set by BMC: building the step's terms takes seconds on a big model, and polls it
        self.bound_msgs: dict = {}  # the messages of the model bounds (kernel.py's k.bound) a path can hit
        bits = [32]
        for f in program.functions:
            bits += [v.type.bits for v in f.locals if isinstance(v.type, IntT)]
        for s in program.structs:
            bits += [fl.type.bits for fl in s.fields if isinstance(fl.type, IntT)]
        for g in program.globals:
            bits += [g.type.bits for _ in [0] if isinstance(g.type, IntT)]
        self.W = max(max(bits), (m.base + m.ncells).bit_length() + 1) + 2
        self._contexts()
        self.mem_cells = [j for j in range(m.ncells) if m.owner[j] != -2]
        self.slot_of_cell = {}
        for sid, s in enumerate(m.slots):
            for k in range(s.size):
                self.slot_of_cell[s.base - m.base + k] = sid
        # the addressable cells as runs [lo, hi) of indices: globals, then each object
        self.runs = []
        for j in self.mem_cells:
            if self.runs and self.runs[-1][1] == j:
                self.runs[-1][1] = j + 1
            else:
                self.runs.append([j, j + 1])

    def is_mem_cell(self, i):
        """Is cell index i addressable (a global's or an object's cell, not a machine cell)?"""
        return z3.Or([z3.And(i >= lo, i < hi) for lo, hi in self.runs] or [z3.BoolVal(False)])

    # ------------------------------------------------------------ values

    def bv(self, v: int):
        return z3.BitVecVal(v, self.W)

    def wrap(self, v, t):
        if isinstance(t, IntT):
            if t.bits == 1:
                return z3.If(v != 0, self.bv(1), self.bv(0))
            if t.bits >= self.W:
                return v
            low = z3.Extract(t.bits - 1, 0, v)
            ext = self.W - t.bits
            return z3.simplify(z3.SignExt(ext, low) if t.signed else z3.ZeroExt(ext, low))
        return v

    # ------------------------------------------------------------ control points

    def _contexts(self):
        """Control points: 0 is idle; then one per (call path, function, pc of a visible instruction)."""
        m = self.m
        self.cps: list = [None]       # cp -> (path, fi, pc)
        self.cp_of: dict = {}
        self.maxdepth = 1
        seen = set()
        stack = [((), m.fidx[name]) for name in m.roots()]
        while stack:
            path, fi = stack.pop()
            if (path, fi) in seen:
                continue
            seen.add((path, fi))
            self.maxdepth = max(self.maxdepth, len(path) + 1)
            for pc, ins in enumerate(m.funcs[fi].body):
                if isinstance(ins, ir.VISIBLE):
                    self.cp_of[(path, fi, pc)] = len(self.cps)
                    self.cps.append((path, fi, pc))
                if isinstance(ins, ir.Call):
                    stack.append((path + ((fi, pc),), m.fidx[ins.func]))
                elif isinstance(ins, ir.Prim) and core.calls_aux(ins.name):
                    stack.append((path + ((fi, pc),), m.fidx[ins.aux]))
        self.level_locs = [0] * self.maxdepth
        for path, fi in seen:
            lvl = len(path)
            self.level_locs[lvl] = max(self.level_locs[lvl], len(m.funcs[fi].locals))
        # per level and local: the control points where a frame has it, and where it is a pointer
        self.ptr_cps = {}
        self.local_users = {}
        for cp in range(1, len(self.cps)):
            for lvl, (fi, _, _, _) in enumerate(self.frames_of(cp)):
                for j in range(len(m.funcs[fi].locals)):
                    self.local_users.setdefault((lvl, j), []).append(cp)
                for j in m.ptr_locals[fi]:
                    self.ptr_cps.setdefault((lvl, j), []).append(cp)

    def frames_of(self, cp: int):
        """machine.py's frames (fi, pc, None, dst) of control point cp, outermost first."""
        path, fi, pc = self.cps[cp]
        m = self.m
        out = []
        dst = -1
        for pfi, ppc in path:
            out.append((pfi, ppc + 1, None, dst))
            ins = m.funcs[pfi].body[ppc]
            dst = ins.dst if isinstance(ins, ir.Call) else -1
        out.append((fi, pc, None, dst))
        return out

    def cp_of_frames(self, frames) -> int:
        path = tuple((f[0], f[1] - 1) for f in frames[:-1])
        return self.cp_of[(path, frames[-1][0], frames[-1][1])]

    # ------------------------------------------------------------ states

    def state_vars(self, name: str):
        m = self.m
        mem = [z3.BitVec(f"{name}.m{j}", self.W) for j in range(m.ncells)]
        ctl = [z3.BitVec(f"{name}.c{t}", self.W) for t in range(m.nthreads)]
        locs = [[[z3.BitVec(f"{name}.l{t}.{lvl}.{j}", self.W) for j in range(n)]
                 for lvl, n in enumerate(self.level_locs)] for t in range(m.nthreads)]
        return (mem, ctl, locs)

    def initial(self):
        m = self.m
        return ([self.bv(v) for v in m.init_mem], [self.bv(0)] * m.nthreads,
                [[[self.bv(0)] * n for n in self.level_locs] for _ in range(m.nthreads)])

    def well_formed(self, s):
        """What every reachable state satisfies that the encoding itself does not force (for induction)."""
        m = self.m
        mem, ctl, locs = s
        out = [z3.ULT(c, self.bv(len(self.cps))) for c in ctl]
        for sl in m.slots:
            out.append(z3.ULE(mem[sl.status], self.bv(2)))
            # kfree zeroes an object, a store to a dead one stops the step, kzalloc writes none of its cells
            dead = mem[sl.status] != LIVE
            out += [z3.Implies(dead, mem[sl.base - m.base + k] == 0) for k in range(sl.size)]
        for c in range(m.ncpu):
            out.append(z3.ULE(mem[m.cpu_state[c]], self.bv(2)))
        # locals of frames a thread does not have are zero (the encoding keeps them so)
        for t in range(m.nthreads):
            for lvl, row in enumerate(locs[t]):
                for j, v in enumerate(row):
                    users = self.local_users.get((lvl, j), [])
                    out.append(z3.Or(v == 0, z3.Or([z3.And(ctl[t] >= lo, ctl[t] <= hi) for lo, hi in _runs(users)]
                                                   or [z3.BoolVal(False)])))
        return out

    # ------------------------------------------------------------ regions

    def in_slot(self, addr, sid):
        s = self.m.slots[sid]
        return z3.And(addr >= self.bv(s.base), addr < self.bv(s.base + s.size))

    def cell_live(self, mem, j):
        o = self.m.owner[j]
        if o < 0:
            return z3.BoolVal(True)
        return mem[self.m.slots[o].status] == LIVE

    def read(self, mem, i):
        """mem[i] for a symbolic cell index i (known to be a global or slot cell)."""
        i = z3.simplify(i)
        if z3.is_bv_value(i):
            return mem[i.as_signed_long()]
        out = self.bv(0)
        for j in self.mem_cells:
            out = z3.If(i == j, mem[j], out)
        return out

    def write(self, mem, i, v):
        i = z3.simplify(i)
        if z3.is_bv_value(i):
            mem[i.as_signed_long()] = v
            return
        for j in self.mem_cells:
            mem[j] = z3.If(i == j, v, mem[j])

    # ------------------------------------------------------------ one step, as paths

    def step_paths(self, s, t: int, cp: int, label):
        """Every path of thread t's step from control point cp with `label` in symbolic state s."""
        out = []
        decisions: list = []
        while True:
            self.poll()
            x = _SymExec(self, s, t, decisions)
            kind = "normal"
            try:
                if cp == 0:
                    x.start(label)
                else:
                    x.frames = [[fi, pc, list(s[2][t][lvl][:len(self.m.funcs[fi].locals)]), dst]
                                for lvl, (fi, pc, _, dst) in enumerate(self.frames_of(cp))]
                    x.visible(label)
                x.run_silent()
            except _Stop:
                kind = "fatal"
            except _Blocked:
                kind = "blocked"
            except _Bound:
                kind = "bound"
            except _Infeasible:
                kind = "blocked"
            cond = z3.And(x.pathcond) if x.pathcond else z3.BoolVal(True)
            if kind == "normal":
                ctl, locs = x.finish()
                out.append(_Path(cond, kind, x.recs, x.mem, ctl, locs))
            else:
                out.append(_Path(cond, kind, x.recs if kind == "fatal" else [], None, None, None))
            if len(out) > MAX_PATHS:
                raise UsageError(self.m.funcs[self.cps[cp][1]].loc if cp else SourceLoc("<spec>"),
                                 f"a step splits into more than {MAX_PATHS} paths: too many for the z3 engine",
                                 "use --engine native")
            # next decision sequence: flip the last False to True, drop what follows
            while decisions and decisions[-1]:
                decisions.pop()
            if not decisions:
                return out
            decisions[-1] = True

    def labels(self, s, t, cp):
        """(label, enabled condition) of thread t at control point cp."""
        m = self.m
        if cp == 0:
            if t < m.nhost:
                return [(("entry", k), z3.BoolVal(True)) for k in range(m.nhost_choices)]
            return [(("entry", k), self.worker_may_start(s[0], k)) for k in m.choice_item]
        _, fi, pc = self.cps[cp]
        ins = m.funcs[fi].body[pc]
        if isinstance(ins, ir.Prim) and core.chooses(ins.name):  # a blocked path of choice 0 has no step
            return [(("run", 0), z3.BoolVal(True)), (("run", 1), z3.BoolVal(True))]
        if isinstance(ins, ir.Prim) and core.allocates(ins.name):
            free = z3.Or([s[0][m.slots[k].status] == FREE for k in m.pool_slots[ins.aux]] or [z3.BoolVal(False)])
            fail = z3.BoolVal(True) if m.p.bounds.alloc_can_fail else z3.Not(free)
            return [(("run", 0), free), (("run", 1), fail)]
        return [(("run", 0), z3.BoolVal(True))]

    def worker_may_start(self, mem, k):
        """machine.py's worker_may_start: the item of choice k is pending, and no worker runs it."""
        m = self.m
        j = m.choice_item[k]
        return z3.And((mem[j] & kernel.DEFERRED_PENDING) != 0,
                      *[mem[r] != self.bv(m.base + j) for r in m.shape.worker_runs])

    def label_code(self, label) -> int:
        what, k = label
        return k if what == "entry" else len(self.m.entry_choices) + k

    def _flat(self, s) -> list:
        mem, ctl, locs = s
        return list(mem) + list(ctl) + [v for lt in locs for row in lt for v in row]

    def poll(self) -> None:
        if self.stop is not None and self.stop():
            raise _Interrupted

    def _subst(self, s, extra=()):
        """A function that rewrites a term over the placeholder state (and thr, lab) to one over s."""
        pairs = [(a, b) for a, b in zip(self._flat(self._p), self._flat(s)) if not a.eq(b)] + list(extra)
        return lambda term: z3.substitute(term, *pairs) if pairs else term

    def transition(self, s, thr, lab, name: str):
        """The successor state of s under (thr, lab) as fresh variables with their definitions, the
        condition that the step is enabled and normal, and the step's violations as (cond, _Rec). The
        symbolic execution runs once, over placeholder variables; each depth substitutes its own."""
        if getattr(self, "_tmpl", None) is None:
            self._p = self.state_vars("_p")
            self._thr = z3.BitVec("_thr", self.W)
            self._lab = z3.BitVec("_lab", self.W)
            self._tmpl = self._transition(self._p, self._thr, self._lab)
            self._state_tmpl = self._state_recs(self._p)
        rhs, normal, recs, bound = self._tmpl
        sub = self._subst(s, [(self._thr, thr), (self._lab, lab)])
        nxt = self.state_vars(name)
        defs = []
        for k, (a, b) in enumerate(zip(self._flat(nxt), rhs)):
            if not k & 63:
                self.poll()
            defs.append(a == sub(b))
        recs = [(sub(c), _Rec(r.cond, r.check, r.static, tuple(sub(x) for x in r.sym), r.fatal)) for c, r in recs]
        return nxt, defs, sub(normal), recs, sub(bound)

    def _transition(self, s, thr, lab):
        """The right-hand sides of the successor's components (in _flat order), and the rest, over s."""
        m = self.m
        mem, ctl, locs = s
        new_ctl, new_locs = [], []
        enabled_normal = []
        recs = []
        bound = []
        mem_upd = {j: [] for j in range(m.ncells)}
        for t in range(m.nthreads):
            ctl_upd, loc_upd = [], {}
            for cp in range(len(self.cps)):
                at = ctl[t] == cp
                for label, en in self.labels(s, t, cp):
                    sel = z3.And(thr == t, at, lab == self.label_code(label))
                    for p in self.step_paths(s, t, cp, label):
                        g = z3.And(sel, en, p.cond)
                        for r in p.recs:
                            recs.append((z3.And(g, r.cond), r))
                        if p.kind == "bound":
                            bound.append(g)
                        if p.kind != "normal":
                            continue
                        enabled_normal.append(g)
                        for j in range(m.ncells):
                            if not p.mem[j].eq(mem[j]):
                                mem_upd[j].append((g, p.mem[j]))
                        ctl_upd.append((g, self.bv(p.ctl)))
                        for lvl, row in enumerate(p.locs):
                            for j, v in enumerate(row):
                                if not v.eq(locs[t][lvl][j]):
                                    loc_upd.setdefault((lvl, j), []).append((g, v))
            new_ctl.append(_ite(ctl_upd, ctl[t]))
            new_locs.append([[_ite(loc_upd.get((lvl, j), []), v) for j, v in enumerate(row)]
                             for lvl, row in enumerate(locs[t])])
        new_mem = [_ite(mem_upd[j], mem[j]) for j in range(m.ncells)]
        self._reclaim(new_mem, new_ctl, new_locs)
        rhs = self._flat((new_mem, new_ctl, new_locs))
        normal = z3.Or(enabled_normal) if enabled_normal else z3.BoolVal(False)
        return rhs, normal, recs, z3.Or(bound) if bound else z3.BoolVal(False)

    def _reclaim(self, mem, ctl, locs):
        """machine.py's _reclaim on the state after a step (it depends on nothing else): a freed slot that
        no live pointer cell and no pointer local of any thread points into returns to the free list."""
        m, bv = self.m, self.bv
        held = [(z3.And(mem[j] != 0, self.cell_live(mem, j)), mem[j]) for j in m.ptr_cells]
        for u in range(m.nthreads):
            for (lvl, j), cps in self.ptr_cps.items():
                at = z3.Or([z3.And(ctl[u] >= lo, ctl[u] <= hi) for lo, hi in _runs(cps)])
                held.append((z3.And(at, locs[u][lvl][j] != 0), locs[u][lvl][j]))
        for sid, sl in enumerate(m.slots):
            pointed = z3.Or([z3.And(c, self.in_slot(v, sid)) for c, v in held] or [z3.BoolVal(False)])
            back = z3.And(mem[sl.status] == FREED, z3.Not(pointed))
            mem[sl.site] = z3.If(back, bv(0), mem[sl.site])
            mem[sl.status] = z3.If(back, bv(FREE), mem[sl.status])

    # ------------------------------------------------------------ state checks

    def state_recs(self, s) -> list:
        """machine.py's check_state as _Recs over s (built once over the placeholder state)."""
        if getattr(self, "_tmpl", None) is None:
            self.transition(s, z3.BitVec("_t0", self.W), z3.BitVec("_l0", self.W), "_unused")
        sub = self._subst(s)
        return [_Rec(z3.simplify(sub(r.cond)), r.check, r.static, tuple(sub(x) for x in r.sym), r.fatal)
                for r in self._state_tmpl]

    def _state_recs(self, s) -> list:
        m = self.m
        mem, ctl, locs = s
        out = []
        for c in range(m.ncpu):
            for sid, sl in enumerate(m.slots):
                cond = z3.And(mem[m.cpu_state[c]] == RUNNING, self.in_slot(mem[m.cpu_image[c]], sid),
                              mem[sl.status] == FREED)
                out.append(_Rec(cond, "dangling-reference", ("cpu-executes-freed", sl.struct), (mem[sl.site],),
                                False))
        out.extend(self._deadlocks(s))
        quiet = z3.And([c == 0 for c in ctl])
        for sid, sl in enumerate(m.slots):
            refs = [z3.And(mem[j] != 0, self.cell_live(mem, j), self.in_slot(mem[j], sid))
                    for j in m.ptr_cells if m.cells[j].kind != "cpu-image"]
            cond = z3.And(quiet, mem[sl.status] == FREED, z3.Or(refs) if refs else z3.BoolVal(False))
            out.append(_Rec(cond, "dangling-reference", ("dangling", sl.struct), (mem[sl.site],), False))
        reached = self._reached(mem)
        for sid, sl in enumerate(m.slots):
            cond = z3.And(quiet, mem[sl.status] == LIVE, z3.Not(reached[sid]))
            out.append(_Rec(cond, "leak", ("leak", sl.struct), (mem[sl.site],), False))
        for inv in self.p.invariants:
            fails = [z3.And(mem[m.slots[sid].status] == LIVE, self.inv_fails(inv, m.slots[sid].base, mem))
                     for sid in m.pool_slots.get(inv.struct, ())]
            cond = z3.Or(fails) if fails else z3.BoolVal(False)
            if not inv.always:  # at rest: every thread idle and no deferred item pending (machine.py quiescent)
                cond = z3.And(quiet, *[z3.Not(z3.And((mem[j] & kernel.DEFERRED_PENDING) != 0, self.cell_live(mem, j)))
                                       for j in m.shape.deferred], cond)
            out.append(_Rec(cond, "invariant", ("invariant", inv.name), (), False))
        return out

    def clean(self, s):
        return z3.Not(z3.Or([r.cond for r in self.state_recs(s)] or [z3.BoolVal(False)]))

    def _reached(self, mem):
        """Per slot: reachable from globals, running CPUs and lists (machine.py _leaks), as a fixpoint."""
        m = self.m
        # a live object with a pending deferred item is reached (machine.py pending_slots)
        reached = [z3.Or([z3.And(mem[m.slots[sid].status] == LIVE, (mem[j] & kernel.DEFERRED_PENDING) != 0)
                          for j in m.deferred_of.get(sid, ())] or [z3.BoolVal(False)])
                   for sid in range(len(m.slots))]
        target = {}
        for j in m.ptr_cells:
            v = mem[j]
            target[j] = [z3.And(v != 0, self.in_slot(v, sid), mem[m.slots[sid].status] == LIVE)
                         for sid in range(len(m.slots))]
        is_global = lambda v: z3.Or([z3.And(v >= m.base + j, v < m.base + j + 1) for j in range(m.ncells)
                                     if m.owner[j] == -1] or [z3.BoolVal(False)])
        glob = {j: is_global(mem[j]) for j in m.list_cells}
        for _ in range(len(m.slots)):
            new = list(reached)
            for j in m.ptr_cells:
                o = m.owner[j]
                src = z3.BoolVal(True) if o < 0 else reached[o]
                for sid in range(len(m.slots)):
                    new[sid] = z3.Or(new[sid], z3.And(src, target[j][sid]))
                if o >= 0 and m.cells[j].kind == "list_head":
                    hit = z3.And(mem[j] != 0, self.cell_live(mem, j), z3.Not(src),
                                 z3.Or(glob[j], *[z3.And(target[j][sid], reached[sid])
                                                  for sid in range(len(m.slots))]))
                    new[o] = z3.Or(new[o], hit)
            reached = [z3.simplify(r) for r in new]
        return reached

    def _lock_wait(self, s, t, cp):
        """[(blocked condition, owner term, instruction)] of thread t at cp: one per path of its primitive
        that ends at an await_ (kernel.py) that does not hold; [] when it cannot wait."""
        m = self.m
        _, fi, pc = self.cps[cp]
        ins = m.funcs[fi].body[pc]
        if not (isinstance(ins, ir.Prim) and core.may_block(ins.name)):
            return []
        frames = self.frames_of(cp)
        lv = s[2][t][len(frames) - 1][:len(m.funcs[fi].locals)]
        out = []
        decisions: list = []
        while True:
            x = _SymExec(self, s, t, decisions)
            x.frames = [[fi, pc, list(lv), -1]]
            try:
                args = [x.ev(a) for a in ins.args]
                kernel.PRIMS[ins.name].fn(_Symbolic(x, ins, 0, probe=True), *args)
            except _Waits as w:
                out.append((z3.And(x.pathcond + [w.blocked]) if x.pathcond else w.blocked, w.owner, ins))
            except (_ProbeDone, _Stop, _Bound, _Infeasible):
                pass
            while decisions and decisions[-1]:
                decisions.pop()
            if not decisions:
                return out
            decisions[-1] = True

    def _deadlocks(self, s):
        m = self.m
        mem, ctl, locs = s
        waits = {}
        for t in range(m.nthreads):
            for cp in range(1, len(self.cps)):
                for w in self._lock_wait(s, t, cp):
                    waits.setdefault(t, []).append((cp,) + w)
        out = []
        cycles = []
        for n in range(2, m.nthreads + 1):
            for perm in itertools.permutations(sorted(waits), n):
                if perm[0] != min(perm):
                    continue
                cycles.append(perm)
        conds = {}
        for cyc in cycles:
            alts = []
            for choice in itertools.product(*[waits[t] for t in cyc]):
                parts = []
                for k, (t, (cp, blocked, owner, ins)) in enumerate(zip(cyc, choice)):
                    nxt = cyc[(k + 1) % len(cyc)]
                    parts += [ctl[t] == cp, blocked, owner == nxt + 1]
                locs = tuple(sorted((c[3].loc.file, c[3].loc.line, c[3].loc.col) for c in choice))
                alts.append((z3.And(parts), locs))
            conds[cyc] = alts
        for cyc in cycles:
            # machine.py reports the cycle met first from the smallest waiting thread
            earlier = [z3.Or([a for a, _ in conds[c]]) for c in cycles if min(c) < min(cyc)]
            for cond, locs in conds[cyc]:
                out.append(_Rec(z3.And(cond, z3.Not(z3.Or(earlier)) if earlier else z3.BoolVal(True)),
                                "deadlock", ("deadlock", locs), (), False))
        # no cycle, but every thread waits at a primitive that cannot give up (machine.py's _deadlocks)
        any_cycle = z3.Or([a for c in cycles for a, _ in conds[c]]) if cycles else z3.BoolVal(False)
        per_thread = []
        for t in range(m.nthreads):
            points = {}
            for cp, blocked, owner, ins in waits.get(t, []):
                if not core.chooses(ins.name):
                    points.setdefault(cp, (ins, []))[1].append(blocked)
            alts = [(z3.And(ctl[t] == cp, z3.Or(bs)), ins) for cp, (ins, bs) in points.items()]
            if t >= m.nhost:  # an idle worker with nothing to start
                alts.append((z3.And(ctl[t] == 0, *[z3.Not(self.worker_may_start(mem, k)) for k in m.choice_item]),
                             None))
            per_thread.append(alts)
        if all(per_thread):
            for combo in itertools.product(*per_thread):
                waiting = [ins for _, ins in combo if ins is not None]
                if not waiting:
                    continue
                locs = tuple(sorted((ins.loc.file, ins.loc.line, ins.loc.col) for ins in waiting))
                out.append(_Rec(z3.And([c for c, _ in combo] + [z3.Not(any_cycle)]), "deadlock", ("deadlock", locs),
                                (), False))
        return out

    def inv_fails(self, inv, base, mem):
        ev = _Eval(self, [self.bv(base)], mem, None, inv=True)
        v = ev.eval(inv.expr)
        return z3.Or(ev.fault, v == 0)


def _runs(values):
    """Sorted ints as inclusive ranges (lo, hi)."""
    out = []
    for v in sorted(values):
        if out and out[-1][1] == v - 1:
            out[-1][1] = v
        else:
            out.append([v, v])
    return out


def _ite(updates, default):
    out = default
    for g, v in reversed(updates):
        out = z3.If(g, v, out)
    return out


class _Eval:
    """machine.py's eval over z3 terms. In a step (x given) a fault forks the path and stops it; in a
    state check it is collected in `fault` under the condition that the expression is evaluated."""

    def __init__(self, enc: Encoding, lv, mem, x, inv: bool = False):
        self.e = enc
        self.lv = lv
        self.mem = mem
        self.x = x
        self.inv = inv
        self.fault = z3.BoolVal(False)
        self.guard = z3.BoolVal(True)

    def fail(self, cond, check, static):
        if self.x is not None:
            self.x.stop_if(cond, check, static)
        else:
            self.fault = z3.Or(self.fault, z3.And(self.guard, cond))

    def may_fault(self, e) -> bool:
        if isinstance(e, (ir.Deref, ir.Query, ir.IndexAddr)) or (isinstance(e, ir.Bin) and e.op in ("/", "%")):
            return True
        return any(self.may_fault(c) for c in _children(e))

    def eval(self, e):
        enc = self.e
        bv = enc.bv
        k = type(e)
        if k is ir.Var:
            return self.lv[e.index]
        if k is ir.Const:
            return bv(e.value)
        if k is ir.FieldAddr:
            return self.eval(e.base) + ir.field_offset(e.struct, e.field, enc.p)
        if k is ir.Bin:
            op = e.op
            if op in ("&&", "||"):
                a = self.eval(e.left) != 0
                if not self.may_fault(e.right):
                    b = self.eval(e.right) != 0
                elif self.x is not None:
                    if self.x.fork(a if op == "&&" else z3.Not(a)):
                        b = self.eval(e.right) != 0
                    else:
                        return bv(1 if op == "||" else 0)
                else:
                    saved = self.guard
                    self.guard = z3.And(saved, a if op == "&&" else z3.Not(a))
                    b = self.eval(e.right) != 0
                    self.guard = saved
                r = z3.And(a, b) if op == "&&" else z3.Or(a, b)
                return z3.If(r, bv(1), bv(0))
            a = self.eval(e.left)
            b = self.eval(e.right)
            cmp = {"==": lambda: a == b, "!=": lambda: a != b, "<": lambda: a < b, "<=": lambda: a <= b,
                   ">": lambda: a > b, ">=": lambda: a >= b}.get(op)
            if cmp is not None:
                return z3.If(cmp(), bv(1), bv(0))
            if op in ("/", "%"):
                self.fail(b == 0, "assertion", ("div0", e.loc))
                return enc.wrap(a / b if op == "/" else z3.SRem(a, b), e.type)
            if op in ("<<", ">>"):
                n = e.type.bits
                sh = z3.SRem(b, n)
                sh = z3.If(sh < 0, sh + n, sh)
                if op == "<<":
                    return enc.wrap(a << sh, e.type)
                if not e.type.signed:
                    a = z3.If(a < 0, a & ((1 << n) - 1), a)
                return enc.wrap(a >> sh, e.type)
            r = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "&": lambda: a & b,
                 "|": lambda: a | b, "^": lambda: a ^ b}[op]()
            return enc.wrap(r, e.type)
        if k is ir.Un:
            a = self.eval(e.operand)
            if e.op == "!":
                return z3.If(a == 0, bv(1), bv(0))
            if e.op == "-":
                return enc.wrap(-a, e.type)
            return enc.wrap(~a, e.type)
        if k is ir.Cast:
            a = self.eval(e.operand)
            return enc.wrap(a, e.type) if isinstance(e.type, IntT) else a
        if k is ir.GlobalAddr:
            return bv(enc.m.gaddr[e.name])
        if k is ir.IndexAddr:
            base = self.eval(e.base)
            idx = self.eval(e.index)
            at = e.base.type.target if isinstance(e.base.type, PtrT) else None
            if not isinstance(at, ArrayT):
                raise ModelRuntimeError(e.loc, "internal: index of a non-array")
            self.fail(z3.Or(idx < 0, idx >= at.n), "out-of-bounds", ("oob", e.loc))
            return base + idx * ir.sizeof(at.elem, enc.p)
        if k is ir.ContainerOf:
            return self.eval(e.ptr) - ir.field_offset(e.struct, e.field, enc.p)
        if k is ir.Deref:
            return self.deref(self.eval(e.addr))
        if k is ir.Query:
            return self.query(e)
        raise ModelRuntimeError(getattr(e, "loc", None) or SourceLoc("<ir>"),
                                f"internal: cannot evaluate {type(e).__name__}")

    def deref(self, addr):
        """An invariant's read: faults on NULL, wild and machine cells and on objects not live."""
        enc, m, mem = self.e, self.e.m, self.mem
        i = addr - m.base
        bad = z3.Or(addr < m.base, z3.Not(enc.is_mem_cell(i)),
                    *[z3.And(enc.in_slot(addr, sid), mem[sl.status] != LIVE) for sid, sl in enumerate(m.slots)])
        self.fault = z3.Or(self.fault, z3.And(self.guard, bad))
        return enc.read(mem, i)

    def query(self, e):
        """An invariant's query: its kernel.py definition over z3 terms (one expression: queries do not fork)."""
        args = [self.eval(a) for a in e.args]
        q = _SymQuery(self)
        kernel.QUERIES[e.name].fn(q, *args)
        return q.value


def _children(e):
    for name in ("base", "index", "ptr", "left", "right", "operand", "addr"):
        c = getattr(e, name, None)
        if c is not None:
            yield c
    for a in getattr(e, "args", ()) or ():
        yield a


class _SymExec:
    """One path of one step: machine.py's _Exec over z3 terms, with control decided by `decisions`."""

    def __init__(self, enc: Encoding, s, t: int, decisions: list):
        self.enc = enc
        self.m = enc.m
        self.s = s
        self.mem = list(s[0])
        self.t = t
        self.decisions = decisions
        self.depth = 0
        self.pathcond = []
        self.recs = []
        self.frames = []

    # --------------------------------------------------------- path splitting

    def fork(self, cond) -> bool:
        cond = z3.simplify(cond)
        if z3.is_true(cond):
            return True
        if z3.is_false(cond):
            return False
        if self.depth == len(self.decisions):
            self.decisions.append(False)
        take = self.decisions[self.depth]
        self.depth += 1
        self.pathcond.append(cond if take else z3.Not(cond))
        return take

    def stop_if(self, cond, check, static, sym=()):
        if self.fork(cond):
            self.recs.append(_Rec(z3.BoolVal(True), check, static, tuple(sym), True))
            raise _Stop()

    def note_if(self, cond, check, static, sym=()):
        cond = z3.simplify(cond)
        if not z3.is_false(cond):
            self.recs.append(_Rec(cond, check, static, tuple(sym), False))

    def ev(self, e):
        return _Eval(self.enc, self.frames[-1][2], self.mem, self).eval(e)

    def ret_to(self, dst, v):
        if dst >= 0:
            f = self.frames[-1]
            f[2][dst] = self.enc.wrap(v, self.m.funcs[f[0]].locals[dst].type)

    # --------------------------------------------------------- memory

    def cell(self, addr, ins, what=""):
        """The cell index at addr, or a fatal violation (machine.py _Exec.cell, in its order)."""
        m, enc, mem = self.m, self.enc, self.mem
        addr = z3.simplify(addr)
        i = addr - m.base
        self.stop_if(addr < m.base, "null-dereference", ("null", ins.loc))
        slot_hits = [z3.And(enc.in_slot(addr, sid), mem[sl.status] != LIVE) for sid, sl in enumerate(m.slots)]
        self.stop_if(z3.Not(enc.is_mem_cell(i)),
                     "out-of-bounds", ("wild", ins.loc))
        self.stop_if(z3.Or(slot_hits) if slot_hits else z3.BoolVal(False), "use-after-free", ("uaf", ins.loc))
        return i

    def rd(self, i):
        return self.enc.read(self.mem, i)

    def wr(self, i, v):
        self.enc.write(self.mem, i, v)

    # --------------------------------------------------------- the step

    def start(self, label):
        m = self.m
        ei, fi, args = m.entry_choices[label[1]]
        f = m.funcs[fi]
        lv = [self.enc.bv(0)] * len(f.locals)
        for k, a in enumerate(args):
            lv[k] = self.enc.bv(m.wrap(a, f.locals[k].type))
        self.frames.append([fi, 0, lv, -1])
        if ei < 0:  # a worker's start takes its item (__deferred_take) in the same step (machine.py step)
            self.visible(("run", 0))

    def visible(self, label):
        fr = self.frames[-1]
        ins = self.m.funcs[fr[0]].body[fr[1]]
        fr[1] += 1
        if isinstance(ins, ir.Load):
            i = self.cell(self.ev(ins.addr), ins)
            self.ret_to(ins.dst, self.rd(i))
            return
        if isinstance(ins, ir.Store):
            i = self.cell(self.ev(ins.addr), ins)
            v = self.enc.wrap(self.ev(ins.value), ins.type)
            old = self.rd(i)
            self.wr(i, v)
            for j, lc in self.m.lifecycle_cell.items():
                allowed = self.m.lifecycle_allowed[lc]
                bad = z3.And(i == j, old != v, z3.Not(z3.Or([z3.And(old == a, v == b) for a, b in allowed]
                                                            or [z3.BoolVal(False)])))
                self.note_if(bad, "illegal-transition", ("illegal-transition", ins.loc), (old, v))
            return
        self.prim(ins, label[1])

    def prim(self, ins, choice):
        """A kernel primitive: its definition in kernel.py, run over z3 terms."""
        args = [self.ev(a) for a in ins.args]
        kernel.PRIMS[ins.name].fn(_Symbolic(self, ins, choice), *args)

    def alloc(self, ins, choice):
        m, bv = self.m, self.enc.bv
        if choice == 1:
            return bv(0)
        sids = m.pool_slots[ins.aux]
        site = bv(self.site_here())
        res = bv(0)
        taken = z3.BoolVal(False)
        for sid in sids:
            sl = m.slots[sid]
            first = z3.And(z3.Not(taken), self.mem[sl.status] == FREE)
            self.mem[sl.status] = z3.If(first, bv(LIVE), self.mem[sl.status])
            self.mem[sl.site] = z3.If(first, site, self.mem[sl.site])
            res = z3.If(first, bv(sl.base), res)
            taken = z3.Or(taken, first)
        return res

    def site_here(self) -> int:
        return self.m.site_at(self.frames)

    def kfree(self, p, ins):
        m, bv, mem = self.m, self.enc.bv, self.mem
        if self.fork(p == 0):
            return
        bases = [p == sl.base for sl in m.slots]
        self.stop_if(z3.Not(z3.Or(bases)) if bases else z3.BoolVal(True), "invalid-free", ("invalid-free", ins.loc))
        sid = next(k for k, sl in enumerate(m.slots) if k == len(m.slots) - 1 or self.fork(p == sl.base))
        sl = m.slots[sid]
        self.stop_if(mem[sl.status] == FREED, "double-free", ("double-free", ins.loc))
        for k in range(sl.size):
            j = sl.base - m.base + k
            kind = m.cells[j].kind
            if kind == "list_head":
                self.note_if(mem[j] != 0, "dangling-reference", ("freed-on-list", ins.loc))
            if kind in ("mutex", "spinlock"):
                self.note_if(mem[j] != 0, "lock-imbalance", ("freed-locked", ins.loc))
            mem[j] = bv(0)
        mem[sl.status] = bv(FREED)
        mem[sl.site] = bv(self.site_here())

    # --------------------------------------------------------- silent instructions

    def run_silent(self):
        m, enc = self.m, self.enc
        budget = PATH_BUDGET
        while self.frames:
            fr = self.frames[-1]
            fn = m.funcs[fr[0]]
            ins = fn.body[fr[1]]
            k = type(ins)
            budget -= 1
            if budget < 0:
                raise UsageError(ins.loc, f"{fn.name} runs {PATH_BUDGET} instructions without touching shared "
                                          f"memory on one path: the z3 engine cannot unroll that loop",
                                 "bound the loop, or use --engine native")
            if k in (ir.Load, ir.Store, ir.Prim):
                return
            if k is ir.Set:
                fr[2][ins.dst] = enc.wrap(self.ev(ins.expr), fn.locals[ins.dst].type)
                fr[1] += 1
            elif k is ir.Branch:
                fr[1] = ins.then if self.fork(self.ev(ins.cond) != 0) else ins.other
            elif k is ir.Jump:
                fr[1] = ins.target
            elif k is ir.Call:
                args = [self.ev(a) for a in ins.args]
                callee = m.fidx[ins.func]
                f = m.funcs[callee]
                lv = [enc.bv(0)] * len(f.locals)
                for j, a in enumerate(args):
                    lv[j] = enc.wrap(a, f.locals[j].type)
                fr[1] += 1
                self.frames.append([callee, 0, lv, ins.dst])
            elif k is ir.Ret:
                v = self.ev(ins.value) if ins.value is not None else enc.bv(0)
                dst = fr[3]
                self.frames.pop()
                if self.frames:
                    self.ret_to(dst, v)
                else:
                    self.returned(ins)
            elif k is ir.Check:
                cond = self.ev(ins.cond) != 0
                if ins.kind == "BUG_ON":
                    self.stop_if(cond, "assertion", ("assertion", ins.loc))
                else:
                    self.note_if(cond, "assertion", ("assertion", ins.loc))
                fr[1] += 1
            else:
                raise ModelRuntimeError(ins.loc, f"internal: unknown instruction {k.__name__}")

    def returned(self, ins):
        m, enc, mem = self.m, self.enc, self.mem
        for i in m.lock_cells:
            held = z3.And(mem[i] == self.t + 1, enc.cell_live(mem, i))
            if i in m.rw_cells:  # or held for reading (machine.py's returned)
                v = mem[i]
                bit = enc.bv(1 << self.t)
                reading = z3.And(v < 0, ((0 - v) & bit) != 0, enc.cell_live(mem, i))
                self.note_if(z3.Or(held, reading), "lock-imbalance", ("held-at-return", ins.loc, i))
                mem[i] = z3.If(held, enc.bv(m.leaked_owner),
                               z3.If(reading, 0 - (((0 - v) & ~bit) | enc.bv(1 << m.nthreads)), v))
                continue
            self.note_if(held, "lock-imbalance", ("held-at-return", ins.loc, i))
            mem[i] = z3.If(held, enc.bv(m.leaked_owner), mem[i])
        if m.shape.rcu_depth:  # a read-side section left open stays with the task that returned (kernel.py)
            mem[m.shape.rcu_depth[self.t]] = enc.bv(0)

    # --------------------------------------------------------- the new state

    def finish(self):
        """Dead locals zeroed, freed slots nothing points at reclaimed: (control point, locals per level)."""
        m, enc, bv = self.m, self.enc, self.enc.bv
        frames = self.frames
        for fi, pc, lv, dst in frames:
            for j in m.dead[fi][pc]:
                lv[j] = bv(0)
        for k in range(len(frames) - 1):
            dst = frames[k + 1][3]
            if dst >= 0:
                frames[k][2][dst] = bv(0)
        cp = enc.cp_of_frames(frames) if frames else 0
        locs = [[bv(0)] * n for n in enc.level_locs]
        for lvl, (fi, pc, lv, dst) in enumerate(frames):
            locs[lvl][:len(lv)] = [z3.simplify(v) for v in lv]
        self.mem = [z3.simplify(v) for v in self.mem]
        return cp, locs


# ---------------------------------------------------------------- the search


class BMC:
    """Depth by depth: every finding with a shortest trace, then k-induction for the invariants."""

    def __init__(self, program: ir.Program, depth: int = 0, progress=None, induction: bool = True, stop=None):
        self.p = program
        self.stop = stop  # () -> reason to stop early, or None (mkverify/limits.py)
        self.stopped = ""
        self.bound_hit = False
        self.k = depth or program.bounds.depth or DEFAULT_DEPTH
        self.progress = progress
        self.induction = induction
        self.enc = Encoding(program)
        self.enc.stop = stop

    def _stopping(self) -> bool:
        if not self.stopped and self.stop is not None:
            self.stopped = self.stop() or ""
        return bool(self.stopped)

    def run(self) -> ModelResult:
        interruptible = getattr(self.stop, "interruptible", None)
        if interruptible is None:
            return self._run()
        with interruptible(z3.main_ctx().interrupt):  # a long query returns unknown when stopped
            return self._run()

    def _run(self) -> ModelResult:
        enc, m = self.enc, self.enc.m
        t0 = time.monotonic()
        solver = _solver()
        states = [enc.initial()]
        sel = []            # (thr, lab) per step
        found = {}          # full key -> (check, trace labels)
        per_depth = []
        complete_at = None
        init_recs = []
        try:
            self._depths(solver, states, sel, found, per_depth, init_recs, t0)
        except _Interrupted:
            self._stopping()
        bound_hit = self.bound_hit
        try:
            if not found and not bound_hit and not init_recs and not self._stopping() and \
                    self._complete(solver, states) and not self._stopping():
                complete_at = len(per_depth)
        except _Interrupted:
            self._stopping()
        findings = [self._finding(check, path, key) for key, (check, path) in found.items()]
        sort_findings(findings)
        notes, proved = [], []
        incomplete = ""
        if bound_hit:
            incomplete = f"{next(iter(self.enc.bound_msgs), 'a bound of the model was hit')} within the depth bound"
        if self.stopped and not bound_hit:
            incomplete = f"{self.stopped} after {len(per_depth)} of {self.k} depths"
        elif self.stopped:  # the IDR bound's reason says what to raise; the stop goes in a note
            notes.append(f"then {self.stopped} after {len(per_depth)} of {self.k} depths")
        if not findings and complete_at is None and not incomplete:
            incomplete = f"bounded to depth {self.k}: no violation within {self.k} steps"
        if self.induction and complete_at is None and not bound_hit and self.p.invariants and not self.stopped:
            inv_found = {key[1] for key in found if key[0] == "invariant"}
            t_ind = time.monotonic()
            for inv in self.p.invariants:
                if inv.name in inv_found:
                    continue
                if self._stopping():
                    notes.append(f"invariant '{inv.name}': k-induction not tried ({self.stopped})")
                    continue
                if time.monotonic() - t_ind > INDUCTION_BUDGET_S:
                    notes.append(f"invariant '{inv.name}': bounded to depth {self.k} (k-induction not tried: the "
                                 f"{INDUCTION_BUDGET_S} s given to induction were spent)")
                    continue
                try:
                    kk = self._induct(inv, min(self.k, 3))
                except _Interrupted:
                    kk = 0
                if self._stopping():
                    notes.append(f"invariant '{inv.name}': k-induction not finished ({self.stopped})")
                elif kk:
                    proved.append(inv.name)
                    notes.append(f"invariant '{inv.name}': proved for every depth by {kk}-induction")
                else:
                    notes.append(f"invariant '{inv.name}': bounded to depth {self.k} (k-induction up to "
                                 f"{min(self.k, 3)} did not close)")
        if complete_at is not None:
            notes.append(f"no execution visits {complete_at + 1} distinct states after the initial one: every "
                         f"state is within {complete_at} steps, so the bound covers the whole state space")
        notes.extend(exhausted_notes(self.p, m.exhausted))
        verdict = "violations" if findings else ("incomplete" if incomplete else "ok")
        depth = complete_at if complete_at is not None else len(per_depth)
        stats = Stats(0, 0, depth, time.monotonic() - t0, "z3",
                      {"bound": self.k, "seconds_per_depth": per_depth, "proved": proved})
        return ModelResult(self.p.name, verdict, stats, findings, incomplete, notes, [])

    def _depths(self, solver, states, sel, found, per_depth, init_recs, t0) -> None:
        """Depth by depth to self.k: every new finding at each depth (_search), into `found`."""
        enc = self.enc
        init_recs.extend(r for r in enc.state_recs(states[0]) if z3.is_true(z3.simplify(r.cond)))
        for r in init_recs:
            self._record(found, r, None, [])
        for d in range(1, self.k + 1):
            td = time.monotonic()
            if d == 1 and init_recs:
                break   # a violating initial state is a dead end
            if self._stopping():
                break
            prev = states[d - 1]
            thr = z3.BitVec(f"thr{d}", enc.W)
            lab = z3.BitVec(f"lab{d}", enc.W)
            nxt, defs, normal, recs, bound_cond = enc.transition(prev, thr, lab, f"s{d}")
            solver.add(*defs)
            sel.append((thr, lab))
            states.append(nxt)
            # the step's own violations (its last step), then the violations of the state it reaches
            candidates = [(c, r) for c, r in recs] + [(z3.And(normal, r.cond), r) for r in enc.state_recs(nxt)]
            self._search(solver, candidates, found, sel)
            if self._stopping():
                break   # this depth's search may be unfinished: it does not count
            if not z3.is_false(z3.simplify(bound_cond)):
                solver.push()
                solver.add(bound_cond)
                self.bound_hit = self.bound_hit or solver.check() == z3.sat
                solver.pop()
            per_depth.append(round(time.monotonic() - td, 3))
            if self.progress is not None:
                self.progress(len(found), d, self.k, time.monotonic() - t0)
            # later depths: this step is normal and the state it reaches is clean
            solver.add(normal, enc.clean(nxt))

    def _complete(self, solver, states) -> bool:
        """Is every reachable state within len(states) - 1 steps? True when no simple path (states pairwise
        distinct, through clean states) is one step longer: a state farther away would have one."""
        enc = self.enc
        solver.push()
        nxt, defs, normal, _, _ = enc.transition(states[-1], z3.BitVec("thr_end", enc.W), z3.BitVec("lab_end", enc.W),
                                                 "s_end")
        solver.add(*defs)
        solver.add(normal)
        flat = [z3.Concat(*enc._flat(s)) for s in states + [nxt]]
        solver.add(z3.Distinct(*flat))
        solver.set("timeout", COMPLETE_TIMEOUT_MS)
        done = solver.check() == z3.unsat   # unknown (timed out) is not a proof
        solver.set("timeout", 0xFFFFFFFF)
        solver.pop()
        return done

    def _search(self, solver, candidates, found, sel):
        candidates = [(c, r) for c, r in candidates if not z3.is_false(z3.simplify(c))]
        while candidates:
            fresh = []
            for c, r in candidates:
                same = [key for key in found if key[:len(r.static)] == r.static and len(key) == len(r.static) +
                        len(r.sym)]
                block = [z3.Not(z3.And([a == b for a, b in zip(r.sym, key[len(r.static):])]))
                         for key in same] if r.sym else ([z3.BoolVal(False)] if same else [])
                fresh.append(z3.And(c, *block))
            solver.push()
            solver.add(z3.Or(fresh))
            if solver.check() != z3.sat:   # unsat: no other finding here; unknown: stopped (self._stopping)
                solver.pop()
                return
            model = solver.model()
            hit = next(r for f, (c, r) in zip(fresh, candidates) if z3.is_true(model.eval(f, model_completion=True)))
            labels = [(model.eval(a, model_completion=True).as_long(), model.eval(b, model_completion=True).as_long())
                      for a, b in sel]
            self._record(found, hit, model, labels)
            solver.pop()

    def _record(self, found, r, model, labels):
        value = (lambda x: z3.simplify(x)) if model is None else (lambda x: model.eval(x, model_completion=True))
        sym = tuple(value(x).as_signed_long() for x in r.sym)
        key = r.static + sym
        found[key] = (r.check, labels)

    def _label(self, t, code):
        n = len(self.enc.m.entry_choices)
        return (t, ("entry", code)) if code < n else (t, ("run", code - n))

    def _finding(self, check, labels, key) -> Finding:
        """Replay the path with machine.py: it renders the trace and must raise the same violation."""
        m = self.enc.m
        state = m.initial_state()
        trace = []
        last = []
        for n, (t, code) in enumerate(labels, 1):
            lab = self._label(t, code)
            if lab not in m.enabled(state):
                raise ModelRuntimeError(SourceLoc("<z3>"), f"internal: the z3 engine's step {n} ({lab}) is not "
                                                           f"enabled in machine.py")
            trace.append(describe(m, state, lab, n))
            ns, viols, _ = m.step(state, lab)
            last = viols
            state = ns
            if ns is not None and n < len(labels) and m.check_state(ns):
                raise ModelRuntimeError(SourceLoc("<z3>"), "internal: the z3 engine's trace passes a violating state")
        if state is not None:
            last = last + m.check_state(state)
        match = [v for v in last if tuple(v.key) == key]
        if not match:
            raise ModelRuntimeError(SourceLoc("<z3>"), f"internal: machine.py does not raise {key} at the end of "
                                                       f"the z3 engine's trace")
        v = match[0]
        return Finding(v.check, v.message, v.loc, trace)

    # ------------------------------------------------------------ k-induction

    def _induct(self, inv, kmax: int) -> int:
        """The smallest j <= kmax such that j clean steps through states where the invariant holds lead to a
        state where it holds (states distinct), or 0."""
        enc = self.enc
        for j in range(1, kmax + 1):
            solver = _solver()
            solver.set("timeout", INDUCTION_TIMEOUT_MS)
            s = enc.state_vars("u0")
            solver.add(enc.well_formed(s))
            chain = [s]
            for n in range(1, j + 1):
                thr = z3.BitVec(f"ithr{n}", enc.W)
                lab = z3.BitVec(f"ilab{n}", enc.W)
                solver.add(enc.clean(chain[-1]))
                nxt, defs, normal, _, _ = enc.transition(chain[-1], thr, lab, f"u{n}")
                solver.add(*defs, normal, *enc.well_formed(nxt))
                chain.append(nxt)
            flat = [z3.Concat(*(x[0] + x[1] + [v for lv in x[2] for lvl in lv for v in lvl])) for x in chain]
            for a, b in itertools.combinations(flat, 2):
                solver.add(a != b)
            target = next(r for r in enc.state_recs(chain[-1]) if r.static == ("invariant", inv.name))
            solver.add(target.cond)
            if solver.check() == z3.unsat:
                return j
        return 0


def _solver():
    """z3's solver for quantifier-free bit-vectors: on the corpus 10 to 30 times faster per depth than the
    default incremental solver (measured in docs/performance.md)."""
    return z3.SolverFor("QF_BV")


def explore(program: ir.Program, depth: int = 0, progress=None, induction: bool = True,
            stop=None) -> ModelResult:
    """Bounded model checking of `program` to `depth` (else the spec's, else DEFAULT_DEPTH)."""
    return BMC(program, depth, progress, induction, stop).run()


class _Symbolic:
    """The core (core.py) over z3 terms: what kernel.py's definitions run on in this engine. Control is
    concrete: `fork` splits the step into paths (_SymExec.fork). With `probe`, the first effect ends the path
    and a failing await_ raises _Waits (_lock_wait)."""

    def __init__(self, x: _SymExec, ins, choice: int, probe: bool = False):
        self.x, self.ins, self.choice, self.probe = x, ins, choice, probe
        m = x.m
        self.m, self.enc, self.mem = m, x.enc, x.mem  # the step's memory, written in place
        self.bv = x.enc.bv
        for f in SHAPE_FIELDS:
            setattr(self, f, getattr(m.shape, f))

    def _v(self, v):
        if isinstance(v, bool):
            return self.bv(int(v))
        return self.bv(v) if isinstance(v, int) else v

    @staticmethod
    def _b(c):
        return z3.BoolVal(bool(c)) if isinstance(c, (bool, int)) else c

    def _effect(self):
        if self.probe:
            raise _ProbeDone()

    def me(self):
        return self.bv(self.x.t)

    def chosen(self):
        return z3.BoolVal(self.choice == 1)

    def fork(self, c) -> bool:
        return self.x.fork(self._b(c))

    def sel(self, c, a, b):
        return z3.If(self._b(c), self._v(a), self._v(b))

    def and_(self, *cs):
        return z3.And([self._b(c) for c in cs])

    def or_(self, *cs):
        return z3.Or([self._b(c) for c in cs])

    def not_(self, c):
        return z3.Not(self._b(c))

    def wrap(self, v, bits, signed):
        return self.enc.wrap(self._v(v), ir.IntT(bits, signed))

    def cell(self, addr, kind, what):
        x, m, enc = self.x, self.m, self.x.enc
        i = x.cell(self._v(addr), self.ins)
        wrong = [j for j in enc.mem_cells if m.cells[j].kind not in CELL_CLASSES[kind]]
        # memory of another kind: the same model error as the explicit engines (the replay raises it)
        x.stop_if(z3.Or([z3.And(i >= lo, i <= hi) for lo, hi in _runs(wrong)] or [z3.BoolVal(False)]),
                  "model-error", ("kind", self.ins.loc, kind))
        return i

    def rd(self, i, off=0):
        return self.x.rd(self._v(i) + off)

    def wr(self, i, v, off=0):
        self._effect()
        self.x.wr(self._v(i) + off, self._v(v))

    def cpu_cell(self, cpu, which):
        m = self.m
        c = next(k for k in range(m.ncpu) if k == m.ncpu - 1 or self.x.fork(cpu == k))
        return self.bv(m.cpu_state[c] if which == "state" else m.cpu_image[c])

    def object_base(self, addr, what):
        x, m = self.x, self.m
        for sid, sl in enumerate(m.slots):
            if x.fork(x.enc.in_slot(addr, sid)):
                x.cell(addr, self.ins)
                return self.bv(sl.base)
        glob = [addr == m.base + j for j in range(m.ncells) if m.owner[j] == -1]
        if not x.fork(z3.Or(glob) if glob else z3.BoolVal(False)):
            x.cell(addr, self.ins)
            raise _Infeasible()
        return addr

    def live(self, j):
        return self.enc.cell_live(self.mem, j)

    def object_of(self, addr):
        out = addr
        for sid, sl in enumerate(self.m.slots):
            out = z3.If(self.enc.in_slot(addr, sid), self.bv(sl.base), out)
        return out

    def fail(self, check, msg, key=None, extra=()):
        self._effect()
        self.x.stop_if(z3.BoolVal(True), check, (key or check, self.ins.loc), extra)

    def warn(self, check, msg, key=None, extra=()):
        self._effect()
        self.x.note_if(z3.BoolVal(True), check, (key or check, self.ins.loc), extra)

    def await_(self, cond, cell, owner):
        cond = self._b(cond)
        if self.probe:
            raise _Waits(z3.Not(cond), self._v(owner))
        if self.x.fork(z3.Not(cond)):
            raise _Blocked()

    def bound(self, msg, hint):
        self._effect()
        self.x.enc.bound_msgs.setdefault(msg, None)
        raise _Bound()

    def result(self, v):
        self._effect()
        self.x.ret_to(self.ins.dst, self._v(v))

    def call_aux(self, arg):
        self._effect()
        m, bv = self.m, self.bv
        rel = m.fidx[self.ins.aux]
        lv = [bv(0)] * len(m.funcs[rel].locals)
        lv[0] = arg
        self.x.frames.append([rel, 0, lv, -1])

    def alloc(self):
        self._effect()
        return self.x.alloc(self.ins, self.choice)

    def free(self, p):
        self._effect()
        self.x.kfree(p, self.ins)


class _SymQuery(_Symbolic):
    """The core as an invariant's query reads memory, over z3 terms: a read through a NULL, wild or freed
    pointer adds to the expression's fault (_Eval.deref); nothing forks or writes."""

    def __init__(self, ev: _Eval):
        self.ev, self.x, self.ins, self.choice, self.probe = ev, None, None, 0, False
        m = ev.e.m
        self.m, self.bv, self.enc, self.mem = m, ev.e.bv, ev.e, ev.mem
        for f in SHAPE_FIELDS:
            setattr(self, f, getattr(m.shape, f))
        self.value = self.bv(0)

    def fork(self, c):
        raise ModelRuntimeError(SourceLoc("<z3>"), "internal: a query forks")

    def cell(self, addr, kind, what):
        self.ev.deref(self._v(addr))
        return self._v(addr) - self.m.base

    def rd(self, i, off=0):
        i = z3.simplify(self._v(i) + off)
        if z3.is_bv_value(i):
            return self.mem[i.as_signed_long()]
        out = self.bv(0)
        for j in range(self.m.ncells):
            out = z3.If(i == j, self.mem[j], out)
        return out

    def cpu_cell(self, cpu, which):
        cells = self.m.cpu_state if which == "state" else self.m.cpu_image
        if isinstance(cpu, int):
            return self.bv(cells[cpu])
        out = self.bv(cells[0])
        for c in range(1, self.m.ncpu):
            out = z3.If(cpu == c, self.bv(cells[c]), out)
        return out

    def result(self, v):
        self.value = self._v(v)
