"""Static facts derived from the IR that every engine uses the same way.

`dead_locals(fn)`: for each pc, the locals whose value can no longer matter
there. The machine zeroes them at the end of every step, so a temporary that
held a loaded value does not split otherwise equal states. This is part of
the semantics (the state of a frame is its live locals), not an optional
reduction: every engine must apply it to agree on state counts.
"""
from __future__ import annotations

from . import core, ir, kernel

#: the function worker threads start in (frontend/lower.py builds it)
WORKER = "__mkverify_worker"


def _uses(e, out: set):
    if isinstance(e, ir.Var):
        out.add(e.index)
        return
    for name in ("base", "index", "ptr", "left", "right", "operand", "addr"):
        sub = getattr(e, name, None)
        if isinstance(sub, ir.EXPR_NODES):
            _uses(sub, out)
    if isinstance(e, ir.Query):
        for a in e.args:
            _uses(a, out)


def uses_defs(i) -> tuple[set, set]:
    u: set = set()
    d: set = set()
    for name in ("expr", "addr", "value", "cond"):
        sub = getattr(i, name, None)
        if isinstance(sub, ir.EXPR_NODES):
            _uses(sub, u)
    if isinstance(i, (ir.Call, ir.Prim)):
        for a in i.args:
            _uses(a, u)
    if isinstance(i, (ir.Set, ir.Load)) or (isinstance(i, (ir.Call, ir.Prim)) and i.dst >= 0):
        d.add(i.dst)
    return u, d


def successors(fn: ir.Function, pc: int) -> tuple:
    i = fn.body[pc]
    if isinstance(i, ir.Branch):
        return (i.then, i.other)
    if isinstance(i, ir.Jump):
        return (i.target,)
    if isinstance(i, ir.Ret):
        return ()
    if isinstance(i, ir.Check) and i.kind == "BUG_ON":
        return (pc + 1,)
    return (pc + 1,)


def live_in(fn: ir.Function) -> list[frozenset]:
    """Locals live on entry to each instruction (backward dataflow to a fixpoint)."""
    n = len(fn.body)
    ud = [uses_defs(i) for i in fn.body]
    live = [frozenset()] * n
    changed = True
    while changed:
        changed = False
        for pc in range(n - 1, -1, -1):
            out = set()
            for s in successors(fn, pc):
                out |= live[s]
            u, d = ud[pc]
            new = frozenset(u | (out - d))
            if new != live[pc]:
                live[pc] = new
                changed = True
    return live


def dead_locals(fn: ir.Function) -> list[tuple]:
    """For each pc, the indices of locals dead there (sorted)."""
    live = live_in(fn)
    every = set(range(len(fn.locals)))
    return [tuple(sorted(every - live[pc])) for pc in range(len(fn.body))]


# ---------------------------------------------------------------- lock-protected accesses
#
# For the enumerator's atomic sections (docs/engines.md): which visible instructions
# are left movers, so that a step may go on through them (Lipton's reduction: a step
# followed by left movers can be moved together). A left mover here is
#   - a load or store of a location class every access of which, anywhere in the
#     program, holds some global lock that is held at this instruction (another thread
#     cannot touch the location before this thread releases that lock), or
#   - the unlock of a global lock no trylock can observe.
# A location class is a global (by name) for plain globals and their elements, or a
# struct field (all objects of the struct) for anything reached through a field.
# Anything the analysis cannot place (an access through a bare pointer, a primitive
# of kernel.SCANS, such as list_empty, which reads every node) counts as an access to every class, so it can only make
# fewer instructions movers. Locks are tracked only when their address is a
# constant (global locks); a call removes every lock the callee may release.

MOVER_ACCESS, MOVER_UNLOCK = 1, 2
#: the primitives kernel.py marks as taking and releasing a lock (PrimDef.role)
_LOCKS = tuple(n for n, d in kernel.PRIMS.items() if d.role == "lock")
_UNLOCKS = tuple(n for n, d in kernel.PRIMS.items() if d.role == "unlock")


def _const_addr(e, gaddr, p):
    """The address e evaluates to when it is a constant (a global, its fields, constant indices)."""
    if isinstance(e, ir.GlobalAddr):
        return gaddr[e.name]
    if isinstance(e, ir.FieldAddr):
        b = _const_addr(e.base, gaddr, p)
        return None if b is None else b + ir.field_offset(e.struct, e.field, p)
    if isinstance(e, ir.IndexAddr) and isinstance(e.index, ir.Const):
        b = _const_addr(e.base, gaddr, p)
        at = e.base.type.target if isinstance(e.base.type, ir.PtrT) else None
        if b is None or not isinstance(at, ir.ArrayT) or not 0 <= e.index.value < at.n:
            return None
        return b + e.index.value * ir.sizeof(at.elem, p)
    if isinstance(e, ir.Cast):
        return _const_addr(e.operand, gaddr, p)
    return None


def _klass(e):
    """The location class of an address expression, or None (unknown: could be anything)."""
    if isinstance(e, ir.FieldAddr):
        return ("field", e.struct, e.field)
    if isinstance(e, ir.GlobalAddr):
        return ("global", e.name)
    if isinstance(e, ir.IndexAddr):
        return _klass(e.base)
    if isinstance(e, ir.Cast):
        return _klass(e.operand)
    return None


def atomic_movers(program: ir.Program, gaddr: dict, fidx: dict) -> list[list[int]]:
    """Per function, per pc: MOVER_ACCESS, MOVER_UNLOCK or 0."""
    funcs = list(program.functions)
    p = program
    if any(inv.always for inv in p.invariants):
        return [[0] * len(f.body) for f in funcs]  # invariants read memory at every state: no section is atomic

    def callee(ins):
        if isinstance(ins, ir.Call):
            return fidx[ins.func]
        if isinstance(ins, ir.Prim) and core.calls_aux(ins.name) and ins.aux:
            return fidx[ins.aux]
        return None

    # locks each function may release, itself or through its callees (the call graph is acyclic)
    releases: dict[int, set] = {}

    def may_release(fi):
        if fi not in releases:
            releases[fi] = set()
            out = set()
            for ins in funcs[fi].body:
                if isinstance(ins, ir.Prim) and ins.name in _UNLOCKS:
                    a = _const_addr(ins.args[0], gaddr, p)
                    out.add(a)  # None: an unknown lock, released
                c = callee(ins)
                if c is not None:
                    out |= may_release(c)
            releases[fi] = out
        return releases[fi]

    ANY = object()  # "every lock": the top element of the must-held lattice

    def transfer(ins, held):
        if isinstance(ins, ir.Prim) and ins.name in _LOCKS:
            a = _const_addr(ins.args[0], gaddr, p)
            return held | {a} if a is not None else held
        if isinstance(ins, ir.Prim) and ins.name in _UNLOCKS:
            a = _const_addr(ins.args[0], gaddr, p)
            return held - {a} if a is not None else frozenset()
        c = callee(ins)
        if c is not None:
            rel = may_release(c)
            return frozenset() if None in rel else held - rel
        return held

    # a thread starts in an entry point or (a worker thread) in the front end's worker function
    entry_held: dict[int, object] = {fidx[name]: frozenset()
                                     for name in [e.function for e in p.entries] + [WORKER] if name in fidx}
    # the worker's item pointer may point at any work item, timer or rcu_head: those classes
    deferred = [("field", s.name, fd.name) for s in p.structs for fd in s.fields
                if isinstance(fd.type, ir.OpaqueT) and fd.type.kind in ("work", "timer", "rcu_head")]
    deferred += [("global", g.name) for g in p.globals
                 if isinstance(g.type, ir.OpaqueT) and g.type.kind in ("work", "timer", "rcu_head")]
    held_at: dict[int, list] = {}
    # callers before callees: iterate until every function's entry set is final
    changed = True
    while changed:
        changed = False
        for fi, f in enumerate(funcs):
            start = entry_held.get(fi)
            if start is None:
                continue
            n = len(f.body)
            held = [ANY] * n
            held[0] = start
            work = [0]
            while work:
                pc = work.pop()
                ins = f.body[pc]
                out = transfer(ins, held[pc])
                for s in successors(f, pc):
                    new = out if held[s] is ANY else held[s] & out
                    if held[s] is ANY or new != held[s]:
                        held[s] = new
                        work.append(s)
            if held_at.get(fi) != held:
                held_at[fi] = held
                changed = True
            for pc, ins in enumerate(f.body):
                c = callee(ins)
                if c is None or held[pc] is ANY:
                    continue
                at_call = held[pc]
                old = entry_held.get(c)
                new = at_call if old is None else old & at_call
                if old is None or new != old:
                    entry_held[c] = frozenset(new)
                    changed = True

    # every access: (class or None, locks held), over the whole program
    accesses = []
    trylocked = False
    for fi, f in enumerate(funcs):
        held = held_at.get(fi)
        if held is None:
            continue
        for pc, ins in enumerate(f.body):
            h = held[pc] if held[pc] is not ANY else frozenset()
            if isinstance(ins, (ir.Load, ir.Store)):
                accesses.append((_klass(ins.addr), h))
            elif isinstance(ins, ir.Prim):
                if kernel.PRIMS[ins.name].role == "trylock":
                    trylocked = True
                if ins.name in _LOCKS + _UNLOCKS or core.allocates(ins.name):
                    continue
                if ins.name in kernel.SCANS:
                    accesses.append((None, frozenset()))
                    continue
                if ins.name in ("deferred_take", "deferred_done"):
                    accesses.extend((k, h) for k in deferred)
                    continue
                for a in ins.args:
                    if isinstance(a.type, ir.PtrT):
                        t = a.type.target
                        if ins.name == "kfree" and isinstance(t, ir.StructT):
                            for fd in p.struct(t.name).fields:
                                accesses.append((("field", t.name, fd.name), h))
                        else:
                            accesses.append((_klass(a), h))
    unknown = frozenset.intersection(*[h for k, h in accesses if k is None]) if \
        any(k is None for k, _ in accesses) else None
    protected: dict = {}
    for k, h in accesses:
        if k is not None:
            protected[k] = protected[k] & h if k in protected else h
    if unknown is not None:
        protected = {k: v & unknown for k, v in protected.items()}

    out = []
    for fi, f in enumerate(funcs):
        held = held_at.get(fi)
        flags = []
        for pc, ins in enumerate(f.body):
            flag = 0
            if held is not None and held[pc] is not ANY:
                if isinstance(ins, (ir.Load, ir.Store)):
                    k = _klass(ins.addr)
                    if k is not None and protected.get(k, frozenset()) & held[pc]:
                        flag = MOVER_ACCESS
                elif isinstance(ins, ir.Prim) and ins.name in _UNLOCKS and not trylocked:
                    a = _const_addr(ins.args[0], gaddr, p)
                    if a is not None and a in held[pc]:
                        flag = MOVER_UNLOCK
            flags.append(flag)
        out.append(flags)
    return out
