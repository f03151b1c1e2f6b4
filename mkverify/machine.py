"""The simulated machine: what each IR step does to a state. This file *is*
the semantics; every engine is checked against it.

State
-----
`(mem, threads)`:
- `mem`, a tuple of ints, one cell per scalar. Addresses start at `base`
  (addresses below it are the NULL page, so `&NULL->field` faults). In order:
  globals; per CPU a state cell (0 offline, 1 online, 2 running a spawned
  image) and an image cell (address of the object it executes); per pool slot
  a status cell (0 free, 1 live, 2 freed), a site cell (index into `sites`:
  the call path that allocated it while live, the call path that freed it
  while freed) and the object's cells. Sites are whole call paths, numbered
  statically, so the same kfree reached from two entry points is two sites
  and two findings. Status, site and CPU cells are not addressable.
- `threads`, one per host CPU: `()` when idle (between entry points), else a
  tuple of frames `(function index, pc, locals, return destination)`, the
  innermost last, stopped at a visible instruction.

Steps
-----
An idle thread may start any entry point with any arguments from its
domains. A running thread executes its visible instruction (one shared read
or write, or one primitive), then every silent instruction up to the next
visible one or its return to idle. After each step dead locals are zeroed and
a freed slot that nothing points at any more returns to the free list, so a
freed object stays poisoned exactly while something can still reach it.

Private objects
---------------
With `reduce_private` (the default), an access to an object that only the
running thread can reach — no pointer to it in memory or in another
thread's locals, not on a list, e.g. an object just allocated and not yet
published — is executed as part of the step, like local computation: no
other thread can observe or affect it before the thread publishes a pointer,
which is itself a visible step. Allocation and free stay visible (other
threads' allocations depend on the pool). The verdicts are the same with and
without it (tests/test_reductions.py); traces are shorter by the folded steps.

Checks
------
Violations found while executing a step are *fatal* (the step has no
successor: the kernel would oops or corrupt memory) or warnings (the step
completes and exploration goes on: WARN_ON, lock held at return, illegal
transition, freeing an object still on a list). State properties — a CPU
executing freed memory, a wait-for cycle, and at quiescent states (every
thread idle) dangling pointers, leaks and invariants — are checked on each
new state; a state that violates one is reported and is a dead end (its
successors are not explored), as in SPIN and TLC: what lies behind a bug is
found once that bug is fixed.
"""
from __future__ import annotations

from dataclasses import dataclass
import itertools

from . import core, ir, kernel
from .core import CELL_CLASSES, CLASS_NAMES
from .analysis import WORKER, atomic_movers, dead_locals
from .diag import MkverifyError, SourceLoc, NOWHERE
from .ir import IntT, PtrT, StructT, ArrayT, OpaqueT
from .vacuity import Holds

#: the cell kinds worker threads run (WORKER: the function they start in, the front end's __mkverify_worker)
DEFERRED_KINDS = ("work", "timer", "rcu_head")

FREE, LIVE, FREED = 0, 1, 2
OFFLINE, ONLINE, RUNNING = kernel.OFFLINE, kernel.ONLINE, kernel.RUNNING
SILENT_BUDGET = 100_000
INT_MAX = kernel.INT_MAX
ENOSPC, EBUSY, EINVAL = kernel.ENOSPC, kernel.EBUSY, kernel.EINVAL


class ModelRuntimeError(MkverifyError):
    """The model does something the machine cannot give meaning to (e.g. a local-only infinite loop)."""


LOCK_KINDS = CELL_CLASSES["mutex"]


def kind_error(loc, cell, want: str) -> ModelRuntimeError:
    """A primitive applied to a cell of another kind (every engine raises this one)."""
    return ModelRuntimeError(loc, f"{cell.name} (of type {ir.type_str(cell.type)}) is used as {CLASS_NAMES[want]}: "
                                  f"a pointer converted from another type points at it",
                             "check the conversions on the way here: a void * (idr_find's result) turned into "
                             "the wrong struct pointer, or a container_of of the wrong struct")


@dataclass(frozen=True, slots=True)
class Violation:
    """A check that failed during a step or in a state."""
    check: str
    message: str
    loc: SourceLoc
    fatal: bool
    key: tuple  # what makes two violations the same finding


class _Stop(Exception):
    """A fatal violation ends the step."""

    def __init__(self, v: Violation):
        self.v = v


class _Blocked(Exception):
    """The visible instruction cannot execute now: it awaits a condition (a lock held by another thread)."""

    def __init__(self, cell=None, owner=None):
        self.cell = cell
        self.owner = owner


class _ProbeDone(Exception):
    """A probe (Machine.wait_of) reached the first effect of a primitive: the step would run."""


class BoundHit(Exception):
    """The model exceeded a bound that is not a kernel behaviour (IDR capacity): the run is incomplete."""

    def __init__(self, message: str, loc: SourceLoc, hint: str = ""):
        self.message = message
        self.loc = loc
        self.hint = hint


@dataclass
class Cell:
    name: str            # how a person names it: "kimage[0].mk_instance", "cpu2.state"
    kind: str            # "int", "ptr", an opaque kind, "idr-key", "idr-ptr", "status", "site", "cpu-state", "cpu-image"
    type: object         # the IR type for int/ptr cells
    owner: int           # -1 global, -2 machine (not addressable), k >= 0 pool slot k
    lifecycle: int = -1  # index into program.lifecycles when this is a spec'd state field


@dataclass
class Slot:
    struct: str
    index: int
    base: int            # address of the object's first cell
    status: int          # mem index of the status cell
    site: int            # mem index of the site cell
    size: int


class Machine:
    """Executable semantics of an ir.Program."""

    def __init__(self, program: ir.Program, reduce_private: bool = True, atomic: bool = False):
        self.p = program
        self.reduce_private = reduce_private
        self.atomic = atomic
        self.exhausted: set = set()  # structs whose pool was found full at a kzalloc (for the notes)
        b = program.bounds
        self.ncpu = b.cpus
        self.nhost = b.host_cpus
        self.funcs = list(program.functions)
        self.fidx = {f.name: k for k, f in enumerate(self.funcs)}
        #: worker threads (after the host ones) run deferred work: present when the front end made the worker
        self.worker_fn = self.fidx.get(WORKER)
        self.nworkers = b.workers if self.worker_fn is not None else 0
        self.nthreads = self.nhost + self.nworkers
        self.leaked_owner = self.nthreads + 1  # lock owner value: held by a task that returned to user space
        self.dead = [dead_locals(f) for f in self.funcs]
        self.ptr_locals = [tuple(k for k, v in enumerate(f.locals) if isinstance(v.type, PtrT)) for f in self.funcs]
        self._layout()
        self._number_sites()
        #: per function, per pc: a left mover the step may go on through (atomic sections, analysis.py)
        self.movers = atomic_movers(program, self.gaddr, self.fidx) if atomic else None
        self.entry_choices = []
        for ei, e in enumerate(program.entries):
            for args in itertools.product(*e.domains):
                self.entry_choices.append((ei, self.fidx[e.function], args))
        #: the callbacks the worker function calls, by number (its `fn == k` branches, then the call)
        self.deferred_fns: dict[int, str] = {}
        if self.worker_fn is not None:
            num = None
            for ins in self.funcs[self.worker_fn].body:
                if isinstance(ins, ir.Branch) and isinstance(ins.cond, ir.Bin) and isinstance(ins.cond.right, ir.Const):
                    num = ins.cond.right.value
                elif isinstance(ins, ir.Call) and num is not None:
                    self.deferred_fns[num] = ins.func
        #: host threads start choices 0..nhost_choices-1; worker threads the rest, one per deferred item cell
        #: (ei -1), each only while its item is pending and no worker runs it (worker_may_start)
        self.nhost_choices = len(self.entry_choices)
        self.choice_item = {}
        if self.nworkers:
            for j in self.shape.deferred:
                self.choice_item[len(self.entry_choices)] = j
                self.entry_choices.append((-1, self.worker_fn, (self.base + j,)))
        self.lifecycle_allowed = [set(lc.transitions) for lc in program.lifecycles]
        self.enum_names: dict[str, dict[int, str]] = {}
        for name, value, enum in program.enums:
            self.enum_names.setdefault(enum, {}).setdefault(value, name)

    # ------------------------------------------------------------ allocation and free sites

    def _number_sites(self):
        """Every call path from an entry point to a kzalloc or kfree, in a fixed order.
        The call graph is acyclic (the validator rejects recursion), so there are finitely many."""
        paths = set()

        def walk(fi, prefix):
            for pc, ins in enumerate(self.funcs[fi].body):
                here = prefix + ((fi, pc),)
                if isinstance(ins, ir.Prim) and core.has_site(ins.name):
                    paths.add(here)
                elif isinstance(ins, ir.Call):
                    walk(self.fidx[ins.func], here)
                elif isinstance(ins, ir.Prim) and core.calls_aux(ins.name):
                    walk(self.fidx[ins.aux], here)

        for fname in self.roots():
            walk(self.fidx[fname], ())
        key = lambda path: tuple((self.funcs[fi].name, pc) for fi, pc in path)
        self.site_paths: list[tuple] = [()] + sorted(paths, key=key)
        self.site_of = {path: n for n, path in enumerate(self.site_paths)}
        self.sites: list[SourceLoc] = [NOWHERE] + [self.funcs[p[-1][0]].body[p[-1][1]].loc
                                                   for p in self.site_paths[1:]]

    def roots(self) -> list[str]:
        """The functions a thread starts in: the entry points, and the worker function."""
        return list(dict.fromkeys([e.function for e in self.p.entries] + ([WORKER] if WORKER in self.fidx else [])))

    def site_at(self, frames) -> int:
        """The site of the kzalloc/kfree a thread with these frames is executing (each frame's pc is past
        its instruction): its whole call path."""
        path = tuple((f[0], f[1] - 1) for f in frames)
        site = self.site_of.get(path)
        if site is None:
            raise ModelRuntimeError(NOWHERE, f"internal: call path {path} was not numbered")
        return site

    def site_text(self, site: int) -> str:
        """`file:line:col (entry:line > caller:line > function)`: each caller with the line of its call."""
        if site <= 0:
            return str(NOWHERE)
        path = self.site_paths[site]
        chain = [f"{self.funcs[fi].name}:{self.funcs[fi].body[pc].loc.line}" for fi, pc in path[:-1]]
        chain.append(self.funcs[path[-1][0]].name)
        return f"{self.sites[site]} ({' > '.join(chain)})"

    # ------------------------------------------------------------ layout

    def _layout(self):
        p = self.p
        sizes = [ir.sizeof(ir.StructT(s.name), p) for s in p.structs] or [1]
        self.base = max(sizes) + 1  # the NULL page
        cells: list[Cell] = []
        self.gaddr: dict[str, int] = {}
        init: dict[int, int] = {}

        def add(name, t, owner, lifecycle_of=None):
            """Append the cells of one value of type t; returns nothing."""
            if isinstance(t, (IntT, PtrT)):
                lc = -1
                if lifecycle_of is not None:
                    lc = lifecycle_of
                cells.append(Cell(name, "ptr" if isinstance(t, PtrT) else "int", t, owner, lc))
            elif isinstance(t, OpaqueT):
                if t.kind in ("idr", "xarray"):  # the same entries
                    for k in range(p.bounds.idr_capacity):
                        cells.append(Cell(f"{name}[{k}].id", "idr-key", ir.INT, owner))
                        cells.append(Cell(f"{name}[{k}].ptr", "idr-ptr", PtrT(ir.VoidT()), owner))
                else:
                    cells.append(Cell(name, t.kind, t, owner))
            elif isinstance(t, ArrayT):
                for k in range(t.n):
                    add(f"{name}[{k}]", t.elem, owner)
            elif isinstance(t, StructT):
                sd = p.struct(t.name)
                for f in sd.fields:
                    lc = None
                    for li, lcs in enumerate(p.lifecycles):
                        if lcs.struct == t.name and lcs.field == f.name:
                            lc = li
                    add(f"{name}.{f.name}", f.type, owner, lc)
        for g in p.globals:
            self.gaddr[g.name] = self.base + len(cells)
            start = len(cells)
            add(g.name, g.type, -1)
            for off, v in g.init:
                init[start + off] = v
        self.cpu_state = []
        self.cpu_image = []
        host_online = set(range(self.nhost)) | set(p.bounds.cpus_online)
        for c in range(self.ncpu):
            self.cpu_state.append(len(cells))
            cells.append(Cell(f"cpu{c}.state", "cpu-state", None, -2))
            if c in host_online:
                init[len(cells) - 1] = ONLINE
            self.cpu_image.append(len(cells))
            cells.append(Cell(f"cpu{c}.executes", "cpu-image", PtrT(ir.VoidT()), -2))
        used = {ins.name for f in p.functions for ins in f.body if isinstance(ins, ir.Prim)}
        rcu = {f: [] for f in ("rcu_read", "rcu_depth", "rcu_gp", "rcu_free", "rcu_free_wait")}
        if used & kernel.RCU_USERS:
            # RCU's state of each host CPU (kernel.py): three arrays, indexed by the CPU
            for field, name, kind, t in (("rcu_read", "rcu_read_lock({})", "mutex", OpaqueT("mutex")),
                                         ("rcu_depth", "rcu_read_depth({})", "int", ir.INT),
                                         ("rcu_gp", "synchronize_rcu({}).waits_for", "int", ir.INT)):
                for c in range(self.nthreads):
                    rcu[field].append(len(cells))
                    cells.append(Cell(name.format(self.thread_name(c)), kind, t, -2))
            for q in range(sum(n for _, n in p.bounds.pools)):  # kfree_rcu's queue: one entry per object at most
                rcu["rcu_free"].append(len(cells))
                cells.append(Cell(f"kfree_rcu[{q}].object", "ptr", PtrT(ir.VoidT()), -2))
                rcu["rcu_free_wait"].append(len(cells))
                cells.append(Cell(f"kfree_rcu[{q}].waits_for", "int", ir.INT, -2))
        workers = {"worker_runs": [], "softirq": []}
        if self.nworkers:
            for w in range(self.nworkers):  # the item each worker runs (an address, not a reference)
                workers["worker_runs"].append(len(cells))
                cells.append(Cell(f"{self.thread_name(self.nhost + w)}.runs", "int", ir.INT, -2))
            for c in range(self.nthreads):  # 1 in a timer callback, 2 in an RCU callback
                workers["softirq"].append(len(cells))
                cells.append(Cell(f"in_softirq({self.thread_name(c)})", "int", ir.INT, -2))
        hotplug = []
        if used & kernel.HOTPLUG_USERS:
            hotplug.append(len(cells))  # the CPU hotplug lock (cpus_read_lock), a rw_semaphore
            cells.append(Cell("cpu_hotplug_lock", "rwsem", OpaqueT("rwsem"), -2))
        self.slots: list[Slot] = []
        self.pool_slots: dict[str, list[int]] = {}
        for sname, n in p.bounds.pools:
            size = ir.sizeof(StructT(sname), p)
            self.pool_slots[sname] = []
            for k in range(n):
                sid = len(self.slots)
                st = len(cells)
                cells.append(Cell(f"{sname}[{k}]", "status", None, -2))
                cells.append(Cell(f"{sname}[{k}]", "site", None, -2))
                base = self.base + len(cells)
                add(f"{sname}[{k}]", StructT(sname), sid)
                self.slots.append(Slot(sname, k, base, st, st + 1, size))
                self.pool_slots[sname].append(sid)
        deferred_wait = {}
        if self.nworkers and rcu["rcu_read"]:  # per rcu_head: the sections its call_rcu's grace period waits for
            for j, c in list(enumerate(cells)):
                if c.kind == "rcu_head":
                    deferred_wait[j] = len(cells)
                    cells.append(Cell(f"call_rcu({c.name}).waits_for", "int", ir.INT, -2))
        self.global_at = {a: n for n, a in self.gaddr.items()}
        self.cells = cells
        self.ncells = len(cells)
        self.init_mem = tuple(init.get(i, 0) for i in range(len(cells)))
        self.owner = [c.owner for c in cells]
        self.ptr_cells = tuple(i for i, c in enumerate(cells) if c.kind in ("ptr", "idr-ptr", "cpu-image", "list_head"))
        self.list_cells = tuple(i for i, c in enumerate(cells) if c.kind == "list_head")
        # a writer holds an rw cell as an owner holds a lock (the cell holds its number + 1)
        self.lock_cells = tuple(i for i, c in enumerate(cells) if c.kind in ("mutex", "spinlock", "rwsem", "rwlock"))
        self.rw_cells = tuple(i for i, c in enumerate(cells) if c.kind in ("rwsem", "rwlock"))
        self.lifecycle_cell = {i: c.lifecycle for i, c in enumerate(cells) if c.lifecycle >= 0}
        #: what kernel.py's definitions know of this model (core.Shape)
        deferred = tuple(i for i, c in enumerate(cells) if c.kind in DEFERRED_KINDS) if self.nworkers else ()
        self.deferred_of = {}  # slot id -> its deferred item cells
        for j in deferred:
            if self.owner[j] >= 0:
                self.deferred_of.setdefault(self.owner[j], []).append(j)
        self.shape = core.Shape(self.ncpu, self.nhost, p.bounds.idr_capacity, self.nthreads, self.list_cells,
                                tuple(i for i, c in enumerate(cells) if c.kind in ("spinlock", "rwlock")), self.base,
                                **{f: tuple(v) for f, v in rcu.items()}, hotplug=tuple(hotplug), deferred=deferred,
                                deferred_base=tuple(self.slots[self.owner[j]].base if self.owner[j] >= 0 else 0
                                                    for j in deferred),
                                deferred_wait=tuple(deferred_wait.get(j, -1) for j in deferred) if deferred_wait else (),
                                **{f: tuple(v) for f, v in workers.items()})
        #: host threads are interchangeable (the C enumerator's symmetry) unless a cell belongs to one thread
        #: (RCU's per-CPU cells) or names threads in a bit mask (readers of an rw cell)
        #: (and worker threads are not interchangeable with host threads)
        self.threads_symmetric = not self.shape.rcu_read and not self.rw_cells and not self.nworkers

    def initial_state(self):
        return (self.init_mem, tuple(() for _ in range(self.nthreads)))

    def thread_name(self, t: int) -> str:
        """CPU<t> for a host thread, kworker<n> for worker thread nhost + n."""
        return f"CPU{t}" if t < self.nhost else f"kworker{t - self.nhost}"

    def worker_may_start(self, mem, k: int) -> bool:
        """May an idle worker start entry choice k: its item is pending, and no worker runs it?"""
        j = self.choice_item[k]
        addr = self.base + j
        return bool(mem[j] & kernel.DEFERRED_PENDING) and \
            all(mem[r] != addr for r in self.shape.worker_runs)

    def any_pending(self, mem) -> bool:
        """Is a deferred item pending, of a live object or a global (then the machine is not at rest)?"""
        return any(mem[j] & kernel.DEFERRED_PENDING and self._cell_live(mem, j) for j in self.shape.deferred)

    def pending_slots(self, mem) -> set:
        """The live objects with a pending deferred item: the workqueue, timer base or RCU reaches them."""
        return {sid for sid, js in self.deferred_of.items()
                if mem[self.slots[sid].status] == LIVE and any(mem[j] & kernel.DEFERRED_PENDING for j in js)}

    # ------------------------------------------------------------ naming and rendering

    def region_of(self, addr: int):
        """('null'|'wild'|'global'|'machine'|'slot', slot id or None, mem index)."""
        i = addr - self.base
        if addr < self.base:
            return ("null", None, i)
        if i >= self.ncells:
            return ("wild", None, i)
        o = self.owner[i]
        if o == -1:
            return ("global", None, i)
        if o == -2:
            return ("machine", None, i)
        return ("slot", o, i)

    def addr_name(self, addr: int) -> str:
        if addr == 0:
            return "NULL"
        kind, sid, i = self.region_of(addr)
        if kind == "slot":
            s = self.slots[sid]
            if addr == s.base:
                return f"&{s.struct}[{s.index}]"
            return "&" + self.cells[i].name
        if kind == "global":
            return "&" + self.global_at.get(addr, self.cells[i].name)
        if kind == "null":
            return f"NULL+{addr}" if addr >= 0 else f"NULL{addr}"
        return f"<wild {addr}>"

    def value_str(self, i: int, v: int, mem=None) -> str:
        c = self.cells[i]
        k = c.kind
        if i in self.shape.worker_runs:
            return "idle" if v == 0 else f"runs {self.addr_name(v)}"
        if k in DEFERRED_KINDS:
            if v >> 5 == 0:
                return "not set up"
            state = "pending" if v & kernel.DEFERRED_PENDING else "idle"
            if v & kernel.DEFERRED_CANCELING:
                state += ", being cancelled"
            return f"{self.deferred_fns.get(v >> 5, '?')}, {state}"
        if k == "int":
            t = c.type
            if t.enum and v in self.enum_names.get(t.enum, {}):
                return self.enum_names[t.enum][v]
            if t.bits == 1:
                return "true" if v else "false"
            return str(v)
        if k in ("ptr", "idr-ptr", "cpu-image"):
            return self.addr_name(v)
        if k in ("rwsem", "rwlock") and v < 0:
            who = [self.thread_name(c) for c in range(self.nthreads) if (-v) >> c & 1]
            if (-v) >> self.nthreads & 1:
                who.append("a task that returned to user space")
            return "held for reading by " + ", ".join(who)
        if k in ("mutex", "spinlock", "rwsem", "rwlock"):
            if v == self.leaked_owner:
                return "held by a task that returned to user space"
            return "unlocked" if v == 0 else f"held by {self.thread_name(v - 1)}"
        if k == "list_head":
            return "not on a list" if v == 0 else f"on list {self.addr_name(v)}"
        if k == "cpumask":
            return "{" + ",".join(str(b) for b in range(64) if v >> b & 1) + "}"
        if k == "idr-key":
            return "empty" if v == 0 else f"id {v - 1}"
        if k == "status":
            return ("free", "live", "freed")[v]
        if k == "site":
            return self.site_text(v) if v else "-"
        if k == "cpu-state":
            return ("offline", "online", "running a spawned kernel")[v]
        return str(v)

    def changes(self, before, after) -> list[str]:
        out = []
        m0, m1 = before[0], after[0]
        for i in range(self.ncells):
            if m0[i] != m1[i]:
                c = self.cells[i]
                if c.kind == "site":
                    continue
                if c.kind == "status":
                    verb = {(FREE, LIVE): "allocated", (LIVE, FREED): "freed", (FREED, FREE): "reclaimed",
                            (LIVE, FREE): "freed and reclaimed"}.get((m0[i], m1[i]), f"{m0[i]}->{m1[i]}")
                    out.append(f"{c.name}: {verb}")
                    continue
                st0, st1 = (m0[self.slots[c.owner].status], m1[self.slots[c.owner].status]) if c.owner >= 0 else (0, 0)
                if st0 != st1 and st1 != LIVE:
                    continue  # cells of an object that was just freed or reclaimed (just allocated: shown)
                out.append(f"{c.name}: {self.value_str(i, m0[i])} -> {self.value_str(i, m1[i])}")
        return out

    def object_states(self, state) -> dict[str, str]:
        """Every allocated or freed object and its state, as the reports draw them between steps:
        `freed`, or its lifecycle fields' values (else `live`), with its kref count if it has one."""
        mem = state[0]
        out = {}
        for sl in self.slots:
            st = mem[sl.status]
            if st == FREE:
                continue
            name = f"{sl.struct}[{sl.index}]"
            if st == FREED:
                out[name] = "freed"
                continue
            cells = range(sl.base - self.base, sl.base - self.base + sl.size)
            parts = [self.value_str(i, mem[i]) for i in cells if self.cells[i].lifecycle >= 0] or ["live"]
            parts += [f"ref {mem[i]}" for i in cells if self.cells[i].kind == "kref"]
            out[name] = ", ".join(parts)
        return out

    def lifecycle_moves(self, transitions) -> list[dict]:
        """A step's lifecycle transitions (_Exec.transitions) as the JSON `transitions` of a trace step."""
        out = []
        for lc, a, b, i, _path in transitions:
            c = self.cells[i]
            spec = self.p.lifecycles[lc]
            obj = f"{self.slots[c.owner].struct}[{self.slots[c.owner].index}]" if c.owner >= 0 else \
                c.name.removesuffix("." + spec.field)
            out.append({"object": obj, "struct": spec.struct, "field": spec.field,
                        "from": self.value_str(i, a), "to": self.value_str(i, b),
                        "allowed": (a, b) in self.lifecycle_allowed[lc]})
        return out

    # ------------------------------------------------------------ expressions

    def wrap(self, v: int, t) -> int:
        if isinstance(t, IntT):
            if t.bits == 1:
                return 1 if v else 0
            mask = (1 << t.bits) - 1
            v &= mask
            if t.signed and v >> (t.bits - 1):
                v -= 1 << t.bits
            return v
        return v

    def eval(self, e, loc_vals, x: "_Exec | None" = None, mem=None):
        """Value of a pure expression. `x` (a step in progress) or `mem` (for invariants) give memory."""
        k = type(e)
        if k is ir.Var:
            return loc_vals[e.index]
        if k is ir.Const:
            return e.value
        if k is ir.FieldAddr:
            return self.eval(e.base, loc_vals, x, mem) + ir.field_offset(e.struct, e.field, self.p)
        if k is ir.Bin:
            op = e.op
            if op == "&&":
                return 1 if self.eval(e.left, loc_vals, x, mem) and self.eval(e.right, loc_vals, x, mem) else 0
            if op == "||":
                return 1 if self.eval(e.left, loc_vals, x, mem) or self.eval(e.right, loc_vals, x, mem) else 0
            a = self.eval(e.left, loc_vals, x, mem)
            b = self.eval(e.right, loc_vals, x, mem)
            if op == "==":
                return 1 if a == b else 0
            if op == "!=":
                return 1 if a != b else 0
            if op == "<":
                return 1 if a < b else 0
            if op == "<=":
                return 1 if a <= b else 0
            if op == ">":
                return 1 if a > b else 0
            if op == ">=":
                return 1 if a >= b else 0
            if op in ("/", "%"):
                if b == 0:
                    raise _Stop(Violation("assertion", "division by zero", e.loc, True, ("div0", e.loc)))
                q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)
                return self.wrap(q if op == "/" else a - q * b, e.type)
            if op == "<<":
                return self.wrap(a << (b % e.type.bits), e.type)
            if op == ">>":
                if not e.type.signed and a < 0:
                    a &= (1 << e.type.bits) - 1
                return self.wrap(a >> (b % e.type.bits), e.type)
            r = {"+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b, "^": a ^ b}[op]
            return self.wrap(r, e.type)
        if k is ir.Un:
            a = self.eval(e.operand, loc_vals, x, mem)
            if e.op == "!":
                return 0 if a else 1
            if e.op == "-":
                return self.wrap(-a, e.type)
            return self.wrap(~a, e.type)
        if k is ir.Cast:
            a = self.eval(e.operand, loc_vals, x, mem)
            return self.wrap(a, e.type) if isinstance(e.type, IntT) else a
        if k is ir.GlobalAddr:
            return self.gaddr[e.name]
        if k is ir.IndexAddr:
            base = self.eval(e.base, loc_vals, x, mem)
            idx = self.eval(e.index, loc_vals, x, mem)
            at = e.base.type.target if isinstance(e.base.type, PtrT) else None
            if not isinstance(at, ArrayT):
                raise ModelRuntimeError(e.loc, "internal: index of a non-array")
            if not 0 <= idx < at.n:
                raise _Stop(Violation("out-of-bounds", f"index {idx} is outside the array of {at.n}", e.loc, True,
                                      ("oob", e.loc)))
            return base + idx * ir.sizeof(at.elem, self.p)
        if k is ir.ContainerOf:
            return self.eval(e.ptr, loc_vals, x, mem) - ir.field_offset(e.struct, e.field, self.p)
        if k is Holds:  # witnesses only (vacuity.py)
            try:
                return 1 if self.eval(e.operand, loc_vals, x, mem) else 0
            except (_InvariantFault, _Stop):
                return 0
        if k is ir.Deref:
            addr = self.eval(e.addr, loc_vals, x, mem)
            i = self._inv_cell(addr, mem, e.loc)
            return mem[i]
        if k is ir.Query:
            return self.query(e, loc_vals, mem)
        raise ModelRuntimeError(getattr(e, "loc", NOWHERE), f"internal: cannot evaluate {type(e).__name__}")

    def _inv_cell(self, addr, mem, loc):
        kind, sid, i = self.region_of(addr)
        if kind in ("null", "wild", "machine"):
            raise _InvariantFault(f"it dereferences {'NULL' if kind == 'null' else 'an invalid pointer'}")
        if kind == "slot" and mem[self.slots[sid].status] != LIVE:
            raise _InvariantFault(f"it reads freed object {self.slots[sid].struct}[{self.slots[sid].index}]")
        return i

    def query(self, e: ir.Query, loc_vals, mem):
        """An invariant's query: its kernel.py definition, reading `mem`."""
        args = [self.eval(a, loc_vals, None, mem) for a in e.args]
        q = _QueryCore(self, mem, e)
        kernel.QUERIES[e.name].fn(q, *args)
        return q.value

    def _cell_live(self, mem, j) -> bool:
        o = self.owner[j]
        return o < 0 or mem[self.slots[o].status] == LIVE

    def live_pointers(self, mem):
        """(cell, value) of every non-NULL pointer in memory that is not inside a freed object.
        A CPU's image cell is non-zero exactly while the CPU runs it (set by the kick, cleared
        by add_cpu), so it needs no separate test."""
        for j in self.ptr_cells:
            v = mem[j]
            if v and self._cell_live(mem, j):
                yield j, v

    def cell_at(self, mem, addr: int, ins, what: str, t: int = -1) -> int:
        """Index of the cell at addr for a step's access by thread t, or a fatal violation (the core's `cell`
        checks)."""
        kind, sid, i = self.region_of(addr)
        if kind == "slot":
            st = mem[self.slots[sid].status]
            if st == LIVE:
                return i
            s = self.slots[sid]
            site = self.site_text(mem[s.site]) if st == FREED else NOWHERE
            raise _Stop(Violation("use-after-free",
                                  f"{what} {self.cells[i].name} after {s.struct}[{s.index}] was freed at {site}"
                                  + self._rcu_context(mem, t, mem[s.site] if st == FREED else 0),
                                  ins.loc, True, ("uaf", ins.loc)))
        if kind == "global":
            return i
        if kind == "null":
            raise _Stop(Violation("null-dereference", f"NULL pointer dereference: {ins.text or ir.instr_str(ins)}",
                                  ins.loc, True, ("null", ins.loc)))
        raise _Stop(Violation("out-of-bounds", f"{what} at an address outside every object ({ins.text})",
                              ins.loc, True, ("wild", ins.loc)))

    def _rcu_context(self, mem, t: int, site: int) -> str:
        """What a use after free has to do with RCU, for its message: the reader was inside its read-side
        section and the free did not wait for a grace period, or it was past its section."""
        if not self.shape.rcu_depth or not 0 <= t < self.nthreads or site <= 0:
            return ""
        fi, pc = self.site_paths[site][-1]
        freed_by = self.funcs[fi].body[pc].name
        if self.site_paths[site][0][0] == self.worker_fn:
            return (" (freed by a call_rcu or deferred callback while this reader could still reach it: unpublish "
                    "the object, rcu_assign_pointer or list_del_rcu, before call_rcu)"
                    if mem[self.shape.rcu_depth[t]] else "")
        if mem[self.shape.rcu_depth[t]] and freed_by == "kfree":
            return (" (this CPU is inside an RCU read-side section: the object was freed with kfree, without "
                    "waiting for a grace period; use kfree_rcu, or synchronize_rcu before the kfree)")
        if not mem[self.shape.rcu_depth[t]] and freed_by in ("kfree_rcu", "rcu_read_unlock"):
            return (" (after a grace period: a pointer read under rcu_read_lock is valid only until "
                    "rcu_read_unlock; take a reference, e.g. kref_get_unless_zero, inside the section)")
        return ""

    def lock_wait(self, mem, t, th):
        """(cell, owner) when thread t is stopped at a primitive that waits (a lock held by someone else),
        else None: the primitive runs up to its await_ or its first effect, changing nothing."""
        fi, pc, lv, _ = th[-1]
        ins = self.funcs[fi].body[pc]
        if not (isinstance(ins, ir.Prim) and core.may_block(ins.name)):
            return None
        return self.wait_of(mem, t, ins, lv)

    def wait_of(self, mem, t, ins, lv):
        try:
            args = [self.eval(a, lv) for a in ins.args]
            kernel.PRIMS[ins.name].fn(_Concrete(self, mem, t, ins, 0, probe=True), *args)
        except _Blocked as b:
            return b.cell, b.owner
        except (_ProbeDone, _Stop, BoundHit, ModelRuntimeError):
            pass  # the step itself reports what stops it
        return None

    # ------------------------------------------------------------ successors

    def enabled(self, state) -> list:
        """Labels of every step possible in `state`: (thread, choice)."""
        mem, threads = state
        out = []
        for t, th in enumerate(threads):
            if not th:
                if t < self.nhost:
                    out.extend((t, ("entry", k)) for k in range(self.nhost_choices))
                else:
                    out.extend((t, ("entry", k)) for k in range(self.nhost_choices, len(self.entry_choices))
                               if self.worker_may_start(mem, k))
                continue
            blocked = self.lock_wait(mem, t, th) is not None
            fi, pc, lv, _ = th[-1]
            ins = self.funcs[fi].body[pc]
            if isinstance(ins, ir.Prim) and core.chooses(ins.name):
                if not blocked:
                    out.append((t, ("run", 0)))
                out.append((t, ("run", 1)))  # the failing outcome (kernel.py's chosen()) never waits
                continue
            if blocked:
                continue
            if isinstance(ins, ir.Prim):
                if core.allocates(ins.name):
                    free = any(mem[self.slots[s].status] == FREE for s in self.pool_slots[ins.aux])
                    if not free:
                        self.exhausted.add(ins.aux)
                    if free:
                        out.append((t, ("run", 0)))
                    if self.p.bounds.alloc_can_fail or not free:
                        out.append((t, ("run", 1)))
                    continue
            out.append((t, ("run", 0)))
        return out

    def step(self, state, label):
        """Execute one step. Returns (next state or None, violations, exec record)."""
        t, (what, choice) = label
        x = _Exec(self, state, t)
        try:
            if what == "entry":
                ei, fi, args = self.entry_choices[choice]
                f = self.funcs[fi]
                x.function = f.name
                x.loc = f.loc
                names = [v.name for v in f.locals[:f.nparams]]
                x.action = f"{f.name}(" + ", ".join(f"{n}={a}" for n, a in zip(names, args)) + ")"
                lv = [0] * len(f.locals)
                for k, a in enumerate(args):
                    lv[k] = self.wrap(a, f.locals[k].type)
                x.frames.append([fi, 0, lv, -1])
                if ei < 0:  # a worker's start takes its item (__deferred_take) in the same step
                    x.visible(0)
                    fn = self.deferred_fns.get(x.frames[-1][2][1])
                    item = self.cells[self.choice_item[choice]].name
                    if fn is not None:
                        x.function, x.loc = fn, self.funcs[self.fidx[fn]].loc
                    x.action = f"{self.thread_name(t)} runs {fn}(&{item})" if fn else f"{item} is no longer pending"
            else:
                x.visible(choice)
            x.run_silent()
        except _Stop as s:
            x.violations.append(s.v)
            return None, x.violations, x
        return x.finish(), x.violations, x

    def successors(self, state):
        for label in self.enabled(state):
            ns, viols, _ = self.step(state, label)
            yield label, ns, viols

    # ------------------------------------------------------------ state checks

    def idle(self, state) -> bool:
        """Every thread idle (host CPUs and workers; a deferred item may still be pending): where dangling
        pointers and leaks are checked (a pending item keeps its object reachable)."""
        return all(not th for th in state[1])

    def quiescent(self, state) -> bool:
        """At rest: every thread idle and no deferred item pending; where quiescent invariants hold."""
        return self.idle(state) and not (self.nworkers and self.any_pending(state[0]))

    def check_state(self, state) -> list[Violation]:
        mem, threads = state
        out = []
        for c in range(self.ncpu):
            if mem[self.cpu_state[c]] == RUNNING:
                kind, sid, _ = self.region_of(mem[self.cpu_image[c]])
                if kind == "slot" and mem[self.slots[sid].status] == FREED:
                    s = self.slots[sid]
                    site = mem[s.site]
                    out.append(Violation("dangling-reference",
                                         f"CPU{c} still executes {s.struct}[{s.index}], which was freed at "
                                         f"{self.site_text(site)}",
                                         self.sites[site], False, ("cpu-executes-freed", s.struct, site)))
        out.extend(self._deadlocks(state))
        if self.idle(state):
            out.extend(self._dangling(mem))
            out.extend(self._leaks(mem))
        for inv in self.p.invariants:
            if inv.always or self.quiescent(state):
                out.extend(self._check_invariant(inv, mem))
        return out

    def witnessed(self, state, pending: dict) -> set:
        """Which of the `pending` witnesses ((invariant, k) -> expression, vacuity.py) hold for some live
        object in this state, where the invariant is evaluated (check_state)."""
        mem, found = state[0], set()
        quiet = None
        for (v, k), expr in pending.items():
            inv = self.p.invariants[v]
            if not inv.always:
                if quiet is None:
                    quiet = self.quiescent(state)
                if not quiet:
                    continue
            for sid in self.pool_slots.get(inv.struct, ()):
                s = self.slots[sid]
                if mem[s.status] != LIVE:
                    continue
                try:
                    ok = self.eval(expr, [s.base], None, mem)
                except (_InvariantFault, _Stop):
                    ok = 0  # a fault witnesses nothing
                if ok:
                    found.add((v, k))
                    break
        return found

    def _deadlocks(self, state):
        mem, threads = state
        waits = {}
        for t, th in enumerate(threads):
            wait = self.lock_wait(mem, t, th) if th else None
            if wait is not None:
                i, owner = wait
                fi, pc, _, _ = th[-1]
                waits[t] = (owner - 1, self.funcs[fi].body[pc], i)
        out = []
        for t in sorted(waits):
            seen = [t]
            u = waits[t][0]
            while u in waits and u not in seen:
                seen.append(u)
                u = waits[u][0]
            if u == t:
                cyc = seen
                locs = sorted((waits[v][1].loc.file, waits[v][1].loc.line, waits[v][1].loc.col) for v in cyc)
                first = min(cyc, key=lambda v: (waits[v][1].loc.file, waits[v][1].loc.line, waits[v][1].loc.col))
                desc = ", ".join(f"{self.thread_name(v)} waits for {self.cells[waits[v][2]].name} held by "
                                 f"{self.thread_name(waits[v][0])}" for v in cyc)
                out.append(Violation("deadlock", f"deadlock: {desc}", waits[first][1].loc, False,
                                     ("deadlock", tuple(locs))))
                break
        stuck = [t for t in sorted(waits) if not core.chooses(waits[t][1].name)]
        # an idle worker with no item it may start cannot go on either
        idle = [t for t in range(self.nhost, self.nthreads) if not threads[t] and
                not any(self.worker_may_start(mem, k) for k in self.choice_item)]
        if not out and stuck and len(stuck) + len(idle) == len(threads):
            # no cycle, but every thread waits for something nothing can give any more (a completion that
            # is never completed, a read-side section of a thread that waits itself)
            locs = sorted((waits[t][1].loc.file, waits[t][1].loc.line, waits[t][1].loc.col) for t in stuck)
            first = min(stuck, key=lambda v: (waits[v][1].loc.file, waits[v][1].loc.line, waits[v][1].loc.col))
            desc = ", ".join(f"{self.thread_name(t)} waits for {self.cells[waits[t][2]].name}" +
                             (f" held by {self.thread_name(waits[t][0])}" if 0 <= waits[t][0] < len(threads) else "")
                             for t in stuck)
            out.append(Violation("deadlock", f"deadlock: every {'thread' if self.nworkers else 'CPU'} waits and none can go "
                                 f"on: {desc}",
                                 waits[first][1].loc, False, ("deadlock", tuple(locs))))
        return out

    def referrers(self, mem, sid) -> list[str]:
        s = self.slots[sid]
        lo, hi = s.base, s.base + max(s.size, 1)
        return [self.cells[j].name for j, v in self.live_pointers(mem) if lo <= v < hi]

    def _dangling(self, mem):
        out = []
        for sid, s in enumerate(self.slots):
            if mem[s.status] == FREED:
                site = mem[s.site]
                refs = [r for r in self.referrers(mem, sid) if not r.endswith(".executes")]
                if not refs:
                    continue  # only CPUs still use it: reported by the CPU check of check_state
                who = ", ".join(refs)
                out.append(Violation("dangling-reference",
                                     f"{who} still points to {s.struct}[{s.index}], which was freed at "
                                     f"{self.site_text(site)}", self.sites[site], False, ("dangling", s.struct, site)))
        return out

    def _leaks(self, mem):
        """Live objects not reachable from globals, running CPUs, pending deferred items, or through lists
        (both ways)."""
        live = [sid for sid, s in enumerate(self.slots) if mem[s.status] == LIVE]
        if not live:
            return []
        reached: set = self.pending_slots(mem)

        def source_reached(j):
            o = self.owner[j]
            if o == -1:
                return True
            if o == -2:
                return True  # a CPU's image cell: non-zero only while the CPU runs it
            return o in reached

        changed = True
        while changed:
            changed = False
            for j in self.ptr_cells:
                v = mem[j]
                if not v:
                    continue
                kind, tgt, _ = self.region_of(v)
                tgt = tgt if kind == "slot" and mem[self.slots[tgt].status] == LIVE else None
                if source_reached(j):
                    if tgt is not None and tgt not in reached:
                        reached.add(tgt)
                        changed = True
                elif self.cells[j].kind == "list_head" and self._cell_live(mem, j) and \
                        (kind == "global" or tgt in reached):
                    # a node on a list whose head is reachable is reachable (lists are circular)
                    reached.add(self.owner[j])
                    changed = True
        out = []
        for sid in live:
            if sid not in reached:
                s = self.slots[sid]
                site = mem[s.site]
                out.append(Violation("leak", f"{s.struct}[{s.index}], allocated at {self.site_text(site)}, is no "
                                             f"longer reachable from any global, list, IDR or CPU: it can never be freed",
                                     self.sites[site], False, ("leak", s.struct, site)))
        return out

    def _check_invariant(self, inv: ir.Invariant, mem):
        out = []
        for sid in self.pool_slots.get(inv.struct, ()):
            s = self.slots[sid]
            if mem[s.status] != LIVE:
                continue
            try:
                ok = self.eval(inv.expr, [s.base], None, mem)
                why = ""
            except _InvariantFault as f:
                ok, why = 0, f" ({f.reason})"
            except _Stop as st:
                ok, why = 0, f" ({st.v.message})"
            if not ok:
                out.append(Violation("invariant", f"invariant '{inv.name}' fails for {s.struct}[{s.index}]{why}: "
                                                  f"{inv.text}", inv.loc, False, ("invariant", inv.name)))
        return out


class _InvariantFault(Exception):
    def __init__(self, reason):
        self.reason = reason


class _Exec:
    """One step in progress: mutable copies of the state, violations found so far."""

    def __init__(self, m: Machine, state, t: int):
        self.m = m
        self.mem = list(state[0])
        self.threads = list(state[1])
        self.t = t
        self.frames = [[f[0], f[1], list(f[2]), f[3]] for f in state[1][t]]
        self.violations: list[Violation] = []
        self.function = ""
        self.action = ""
        self.loc = NOWHERE
        #: (lifecycle index, from, to, cell, call path) taken by this step; the call path is the functions
        #: (indices) from the entry point to the one that stored
        self.transitions: list = []

    # --------------------------------------------------------- memory access

    def cell(self, addr: int, ins, what: str) -> int:
        """Index of the cell at addr, or a fatal violation."""
        return self.m.cell_at(self.mem, addr, ins, what, self.t)

    def stop(self, check, message, ins, key=None):
        raise _Stop(Violation(check, message, ins.loc, True, key or (check, ins.loc)))

    def note(self, check, message, ins, key=None):
        self.violations.append(Violation(check, message, ins.loc, False, key or (check, ins.loc)))

    def ev(self, e):
        return self.m.eval(e, self.frames[-1][2], self)

    def ret_to(self, dst, v):
        if dst >= 0:
            f = self.frames[-1]
            t = self.m.funcs[f[0]].locals[dst].type
            f[2][dst] = self.m.wrap(v, t)

    # --------------------------------------------------------- the visible instruction

    def visible(self, choice: int):
        fr = self.frames[-1]
        fn = self.m.funcs[fr[0]]
        ins = fn.body[fr[1]]
        self.function = fn.name
        self.loc = ins.loc
        self.action = ins.text or ir.instr_str(ins, fn)
        self.execute(ins, choice)

    def private_access(self, ins) -> bool:
        """Does this visible instruction touch only objects no other thread can reach?"""
        if isinstance(ins, ir.Prim):
            if not kernel.PRIMS[ins.name].private:
                return False
            addrs = [a for a in ins.args if isinstance(a.type, PtrT)]
        else:
            addrs = [ins.addr]
        if not addrs:
            return False
        try:
            vals = [self.ev(a) for a in addrs]
        except _Stop:
            return False
        if not all(self._private_slot(v) for v in vals):
            return False
        if isinstance(ins, ir.Prim) and core.may_block(ins.name) and \
                self.m.wait_of(self.mem, self.t, ins, self.frames[-1][2]) is not None:
            return False  # it waits for another thread: the step must be able to block
        return True

    def _private_slot(self, addr: int) -> bool:
        m = self.m
        kind, sid, _ = m.region_of(addr)
        if kind != "slot":
            return False
        mem = self.mem
        s = m.slots[sid]
        if mem[s.status] != LIVE:
            return False
        for j in m.deferred_of.get(sid, ()):
            if mem[j] & kernel.DEFERRED_PENDING:
                return False  # a worker may start on it
        lo, hi = s.base, s.base + max(s.size, 1)
        for j, v in m.live_pointers(mem):
            if lo <= v < hi or (m.owner[j] == sid and m.cells[j].kind == "list_head"):
                return False  # pointed at, or itself on a list
        for u, th in enumerate(self.threads):
            if u == self.t:
                continue
            for fi, pc, lv, dst in th:
                for j in m.ptr_locals[fi]:
                    if lo <= lv[j] < hi:
                        return False
        return True

    def execute(self, ins, choice: int):
        """The semantics of one visible instruction of the current frame."""
        m = self.m
        fr = self.frames[-1]
        fr[1] += 1
        if isinstance(ins, ir.Load):
            i = self.cell(self.ev(ins.addr), ins, "read of")
            self.ret_to(ins.dst, self.mem[i])
            return
        if isinstance(ins, ir.Store):
            i = self.cell(self.ev(ins.addr), ins, "write to")
            v = m.wrap(self.ev(ins.value), ins.type)
            old = self.mem[i]
            self.mem[i] = v
            lc = m.lifecycle_cell.get(i)
            if lc is not None and old != v:
                self.transitions.append((lc, old, v, i, tuple(f[0] for f in self.frames)))
                if (old, v) not in m.lifecycle_allowed[lc]:
                    spec = m.p.lifecycles[lc]
                    names = m.enum_names.get(m.cells[i].type.enum, {}) if m.cells[i].type.enum else {}
                    a, b = names.get(old, str(old)), names.get(v, str(v))
                    self.note("illegal-transition",
                              f"{m.cells[i].name}: {a} -> {b} is not a transition of the {spec.struct}.{spec.field} "
                              f"lifecycle", ins, ("illegal-transition", ins.loc, old, v))
            return
        self.prim(ins, choice)

    def prim(self, ins: ir.Prim, choice: int):
        """A kernel primitive: its definition in kernel.py, run over this step's memory."""
        args = [self.ev(a) for a in ins.args]
        kernel.PRIMS[ins.name].fn(_Concrete(self.m, self.mem, self.t, ins, choice, x=self), *args)

    def site_here(self) -> int:
        return self.m.site_at(self.frames)

    def kfree(self, p: int, ins):
        m = self.m
        mem = self.mem
        if p == 0:
            return
        kind, sid, i = m.region_of(p)
        if kind != "slot" or m.slots[sid].base != p:
            self.stop("invalid-free", f"kfree({m.addr_name(p)}): not the start of an allocated object", ins)
        s = m.slots[sid]
        if mem[s.status] == FREED:
            self.stop("double-free", f"kfree of {s.struct}[{s.index}], already freed at {m.site_text(mem[s.site])}",
                      ins)
        for k in range(s.size):
            j = s.base - m.base + k
            if m.cells[j].kind == "list_head" and mem[j]:
                self.note("dangling-reference", f"{s.struct}[{s.index}] is freed while {m.cells[j].name} is still "
                                                f"{m.value_str(j, mem[j])}", ins, ("freed-on-list", ins.loc))
            if m.cells[j].kind in ("mutex", "spinlock") and mem[j]:
                self.note("lock-imbalance", f"{s.struct}[{s.index}] is freed while its lock {m.cells[j].name} is "
                                            f"{m.value_str(j, mem[j])}", ins, ("freed-locked", ins.loc))
            mem[j] = 0
        mem[s.status] = FREED
        mem[s.site] = self.site_here()

    # --------------------------------------------------------- silent instructions

    def run_silent(self):
        m = self.m
        budget = SILENT_BUDGET
        while self.frames:
            fr = self.frames[-1]
            fn = m.funcs[fr[0]]
            ins = fn.body[fr[1]]
            k = type(ins)
            budget -= 1
            if budget < 0:
                raise ModelRuntimeError(ins.loc, f"{fn.name} runs {SILENT_BUDGET} steps without touching shared "
                                                 f"memory: a loop that never ends", "bound the loop")
            if k in (ir.Load, ir.Store, ir.Prim):
                if (m.atomic and m.movers[fr[0]][fr[1]]) or (m.reduce_private and self.private_access(ins)):
                    if self.action:
                        self.action += "; " + (ins.text or ir.instr_str(ins, fn))
                    self.execute(ins, 0)
                    continue
                return
            if not self.function:
                self.function, self.loc = fn.name, ins.loc
            if k is ir.Set:
                v = self.ev(ins.expr)
                fr[2][ins.dst] = m.wrap(v, fn.locals[ins.dst].type)
                fr[1] += 1
            elif k is ir.Branch:
                fr[1] = ins.then if self.ev(ins.cond) else ins.other
            elif k is ir.Jump:
                fr[1] = ins.target
            elif k is ir.Call:
                args = [self.ev(a) for a in ins.args]
                callee = m.fidx[ins.func]
                f = m.funcs[callee]
                lv = [0] * len(f.locals)
                for j, a in enumerate(args):
                    lv[j] = m.wrap(a, f.locals[j].type)
                fr[1] += 1
                self.frames.append([callee, 0, lv, ins.dst])
            elif k is ir.Ret:
                v = self.ev(ins.value) if ins.value is not None else 0
                dst = fr[3]
                self.frames.pop()
                if self.frames:
                    self.ret_to(dst, v)
                else:
                    self.returned(ins)
            elif k is ir.Check:
                if self.ev(ins.cond):
                    msg = f"{ins.text or ins.kind} fired"
                    if ins.kind == "BUG_ON":
                        self.stop("assertion", msg, ins)
                    self.note("assertion", msg, ins)
                fr[1] += 1
            else:
                raise ModelRuntimeError(ins.loc, f"internal: unknown instruction {k.__name__}")

    def returned(self, ins):
        """The entry point returned: no lock may stay held. A lock that does is reported once and
        then held by 'a task that returned', so later calls on this CPU are not blamed for it."""
        m = self.m
        for i in m.lock_cells:
            v = self.mem[i]
            if v == self.t + 1 and m._cell_live(self.mem, i):
                self.note("lock-imbalance", f"returns to user space with {m.cells[i].name} held", ins,
                          ("held-at-return", ins.loc, i))
                self.mem[i] = m.leaked_owner
            elif v < 0 and (-v) >> self.t & 1 and m._cell_live(self.mem, i):
                # a read lock (kernel.py's rw cells): this thread's bit becomes that of "a task that returned"
                self.note("lock-imbalance", f"returns to user space with {m.cells[i].name} held", ins,
                          ("held-at-return", ins.loc, i))
                self.mem[i] = -(((-v) & ~(1 << self.t)) | (1 << m.nthreads))
        if m.shape.rcu_depth:  # a read-side section left open stays with the task that returned (kernel.py)
            self.mem[m.shape.rcu_depth[self.t]] = 0

    # --------------------------------------------------------- the new state

    def finish(self):
        m = self.m
        frames = self.frames
        for fi, pc, lv, dst in frames:
            for j in m.dead[fi][pc]:
                lv[j] = 0
        # a callee's return destination is overwritten when it returns: its current value is dead
        for k in range(len(frames) - 1):
            dst = frames[k + 1][3]
            if dst >= 0:
                frames[k][2][dst] = 0
        self.threads[self.t] = tuple((fi, pc, tuple(lv), dst) for fi, pc, lv, dst in frames)
        self._reclaim()
        return (tuple(self.mem), tuple(self.threads))

    def _reclaim(self):
        """A freed slot that nothing points at any more returns to the free list."""
        m = self.m
        mem = self.mem
        freed = [sid for sid, s in enumerate(m.slots) if mem[s.status] == FREED]
        if not freed:
            return
        held = {v for _, v in m.live_pointers(mem)}
        for th in self.threads:
            for fi, pc, lv, dst in th:
                for j in m.ptr_locals[fi]:
                    if lv[j]:
                        held.add(lv[j])
        for sid in freed:
            s = m.slots[sid]
            if not any(s.base <= v < s.base + max(s.size, 1) for v in held):
                mem[s.status] = FREE
                mem[s.site] = 0


class _Namer:
    """What a finding's message may say about cells and values (kernel.py's messages)."""

    def __init__(self, m: Machine, mem):
        self.m = m
        self.mem = mem

    def cell(self, i) -> str:
        return self.m.cells[i].name

    def value(self, i, v) -> str:
        return self.m.value_str(i, v)

    def holder(self, i, v) -> str:
        """Who holds lock cell i with value v."""
        return "nobody" if v == 0 else self.m.value_str(i, v).removeprefix("held by ")

    def int(self, v) -> str:
        return str(v)

    def kind(self, i) -> str:
        """The kind of cell i (kernel.py's messages word their advice by it)."""
        return self.m.cells[i].kind


class _Concrete:
    """The core (core.py) over integers: what kernel.py's definitions run on in the reference. With
    `probe`, nothing is changed: the first effect ends the run (Machine.wait_of)."""
    __slots__ = ("m", "mem", "t", "ins", "choice", "x", "probe") + core.SHAPE_FIELDS

    def __init__(self, m: Machine, mem, t: int, ins, choice: int, x: "_Exec | None" = None, probe: bool = False):
        self.m, self.mem, self.t, self.ins, self.choice, self.x, self.probe = m, mem, t, ins, choice, x, probe
        for f in core.SHAPE_FIELDS:
            setattr(self, f, getattr(m.shape, f))

    def _effect(self):
        if self.probe:
            raise _ProbeDone()

    def _text(self, msg) -> str:
        return msg if isinstance(msg, str) else msg(_Namer(self.m, self.mem))

    # values
    def me(self):
        return self.t

    def fork(self, c) -> bool:
        return bool(c)

    def chosen(self):
        return int(self.choice == 1)

    def sel(self, c, a, b):
        return a if c else b

    def and_(self, *cs):
        return all(cs)

    def or_(self, *cs):
        return any(cs)

    def not_(self, c):
        return not c

    def wrap(self, v, bits, signed):
        return self.m.wrap(v, IntT(bits, signed))

    # memory
    def cell(self, addr, kind, what):
        m = self.m
        region, sid, i = m.region_of(addr)
        if (region == "global" or region == "slot" and self.mem[m.slots[sid].status] == LIVE) and \
                m.cells[i].kind not in CELL_CLASSES[kind]:
            raise kind_error(self.ins.loc, m.cells[i], kind)
        return m.cell_at(self.mem, addr, self.ins, what, self.t)

    def rd(self, i, off=0):
        return self.mem[i + off]

    def wr(self, i, v, off=0):
        self._effect()
        self.mem[i + off] = int(v)

    def cpu_cell(self, cpu, which):
        return self.m.cpu_state[cpu] if which == "state" else self.m.cpu_image[cpu]

    def object_of(self, addr):
        kind, sid, _ = self.m.region_of(addr)
        return self.m.slots[sid].base if kind == "slot" else addr

    def object_base(self, addr, what):
        kind, sid, _ = self.m.region_of(addr)
        if kind == "global":
            return addr
        self.cell_any(addr, what)
        return self.m.slots[sid].base

    def cell_any(self, addr, what):
        return self.m.cell_at(self.mem, addr, self.ins, what, self.t)

    def live(self, j):
        return self.m._cell_live(self.mem, j)

    # findings and control
    def fail(self, check, msg, key=None, extra=()):
        self._effect()
        raise _Stop(Violation(check, self._text(msg), self.ins.loc, True, (key or check, self.ins.loc, *extra)))

    def warn(self, check, msg, key=None, extra=()):
        self._effect()
        self.x.violations.append(Violation(check, self._text(msg), self.ins.loc, False,
                                           (key or check, self.ins.loc, *extra)))

    def await_(self, cond, cell, owner):
        if not cond:
            raise _Blocked(cell, owner)

    def bound(self, msg, hint):
        self._effect()
        raise BoundHit(msg, self.ins.loc, hint)

    def result(self, v):
        self._effect()
        self.x.ret_to(self.ins.dst, v)

    def call_aux(self, arg):
        self._effect()
        m = self.m
        rel = m.fidx[self.ins.aux]
        lv = [0] * len(m.funcs[rel].locals)
        lv[0] = arg
        self.x.frames.append([rel, 0, lv, -1])

    def alloc(self):
        self._effect()
        if self.choice == 1:
            return 0
        m, mem = self.m, self.mem
        sid = next(s for s in m.pool_slots[self.ins.aux] if mem[m.slots[s].status] == FREE)
        s = m.slots[sid]
        mem[s.status] = LIVE
        mem[s.site] = self.x.site_here()
        return s.base

    def free(self, p):
        self._effect()
        self.x.kfree(p, self.ins)


class _QueryCore(_Concrete):
    """The core as an invariant's query reads memory: a NULL, wild or freed cell fails the invariant
    (_InvariantFault) instead of being a finding; nothing is written (core.trace refuses a query that
    writes)."""
    __slots__ = ("value",)

    def __init__(self, m: Machine, mem, e):
        super().__init__(m, mem, 0, e, 0)
        self.value = 0

    def cell(self, addr, kind, what):
        return self.m._inv_cell(addr, self.mem, self.ins.loc)

    def result(self, v):
        self.value = int(v)
