"""Static facts derived from the IR that every engine uses the same way.

`dead_locals(fn)`: for each pc, the locals whose value can no longer matter
there. The machine zeroes them at the end of every step, so a temporary that
held a loaded value does not split otherwise equal states. This is part of
the semantics (the state of a frame is its live locals), not an optional
reduction: every engine must apply it to agree on state counts.
"""
from __future__ import annotations

from . import ir


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
