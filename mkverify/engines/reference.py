"""The reference explorer: breadth-first search over machine.py, pure Python.

Slow by design and obviously right: a visited dict of whole states, parent
links, layer by layer, so the first time a finding is met its trace is a
shortest one. Successors are generated in a fixed order (thread, then
choice), so output is deterministic.
"""
from __future__ import annotations

import time

from .. import ir
from ..machine import Machine, BoundHit
from ..result import Finding, ModelResult, Stats, Step
from ..vacuity import coverage as invariant_coverage, witnesses

#: without a bound from the command line or the spec, a run stops here (verdict incomplete):
#: a model whose state space is infinite (a count that grows forever) must still end
DEFAULT_MAX_STATES = 10_000_000


class Explorer:
    """BFS over one program. `run()` returns a ModelResult."""

    def __init__(self, program: ir.Program, max_states: int = 0, depth: int = 0, progress=None,
                 reduce_private: bool = True, atomic: bool = False, stop=None):
        self.p = program
        self.stop = stop  # () -> reason to stop early, or None (mkverify/limits.py)
        self.m = Machine(program, reduce_private=reduce_private, atomic=atomic)
        self.max_states = max_states or program.bounds.max_states or DEFAULT_MAX_STATES
        self.max_depth = depth or program.bounds.depth
        self.progress = progress

    def run(self) -> ModelResult:
        m = self.m
        t0 = time.monotonic()
        init = m.initial_state()
        visited = {init: 0}
        states = [init]
        parent = [-1]
        label = [None]
        found: dict = {}      # key -> (check, message, loc, state index, label or None)
        taken: dict = {}      # lifecycle index -> {(from, to): call paths that stored it}
        transitions = 0
        incomplete = ""
        notes = []

        def record(v, si, lab):
            if v.key not in found:
                found[v.key] = (v, si, lab)

        pending = {(v, k): w for v, inv in enumerate(self.p.invariants) for k, w in enumerate(witnesses(inv))}
        witnessed: set = set()

        def witness(state):
            if pending:
                for key in m.witnessed(state, pending):
                    witnessed.add(key)
                    del pending[key]

        bad = m.check_state(init)
        witness(init)
        for v in bad:
            record(v, 0, None)
        frontier = [] if bad else [0]
        if self.max_states == 1:
            incomplete = "state bound 1 reached"
        depth = 0
        last_report = t0
        while frontier and not incomplete:
            if self.max_depth and depth >= self.max_depth:
                if any(True for si in frontier for _ in m.enabled(states[si])):
                    incomplete = f"depth bound {self.max_depth} reached"
                break
            nxt = []
            for si in frontier:
                s = states[si]
                for lab in m.enabled(s):
                    if self.stop is not None and not transitions & 1023:
                        why = self.stop()
                        if why:
                            incomplete = why
                            break
                    try:
                        ns, viols, x = m.step(s, lab)
                    except BoundHit as b:
                        incomplete = f"{b.message} (at {b.loc})"
                        notes.append(f"{b.hint} to explore past {b.loc}")
                        break
                    transitions += 1
                    for v in viols:
                        record(v, si, lab)
                    for lc, a, b, _cell, path in x.transitions:
                        taken.setdefault(lc, {}).setdefault((a, b), set()).add(path)
                    if ns is None:
                        continue
                    if ns not in visited:
                        idx = len(states)
                        visited[ns] = idx
                        states.append(ns)
                        parent.append(si)
                        label.append(lab)
                        bad = m.check_state(ns)
                        witness(ns)
                        for v in bad:
                            record(v, idx, None)
                        if not bad:  # a violating state is reported, not expanded (machine.py)
                            nxt.append(idx)
                        if self.max_states and len(states) >= self.max_states:
                            incomplete = f"state bound {self.max_states} reached"
                            break
                if incomplete:
                    break
                if self.progress is not None and len(states) % 2048 == 0:
                    now = time.monotonic()
                    if now - last_report > 0.5:
                        last_report = now
                        self.progress(len(states), transitions, depth, now - t0)
            frontier = nxt
            if nxt:
                depth += 1
        seconds = time.monotonic() - t0
        findings = [self._finding(v, si, lab, states, parent, label) for v, si, lab in found.values()]
        sort_findings(findings)
        verdict = "violations" if findings else ("incomplete" if incomplete else "ok")
        notes.extend(exhausted_notes(self.p, m.exhausted))
        stats = Stats(len(states), transitions, depth, seconds, "python")
        return ModelResult(self.p.name, verdict, stats, findings, incomplete, notes, coverage(self.p, m, taken),
                           invariant_coverage(self.p.invariants, witnessed))

    # ------------------------------------------------------------ traces

    def path(self, si, parent, label):
        out = []
        while si > 0:
            out.append((parent[si], label[si]))
            si = parent[si]
        return out[::-1]

    def _finding(self, v, si, lab, states, parent, label) -> Finding:
        steps = self.path(si, parent, label)
        if lab is not None:
            steps.append((si, lab))
        trace = []
        for n, (pi, l) in enumerate(steps, 1):
            trace.append(self.describe(states[pi], l, n))
        return Finding(v.check, v.message, v.loc, trace, si)

    def describe(self, state, lab, n) -> Step:
        return describe(self.m, state, lab, n)


def describe(m: Machine, state, lab, n) -> Step:
    """Step n of a trace: `lab` taken in `state`, as the text and JSON reports show it."""
    ns, viols, x = m.step(state, lab)
    t, (what, k) = lab
    action = x.action if what == "run" or m.entry_choices[k][0] < 0 else f"call {x.action}"
    changes = m.changes(state, ns) if ns is not None else []
    return Step(n, t, x.function, x.loc, action, changes, m.lifecycle_moves(x.transitions),
                m.object_states(ns if ns is not None else state), m.thread_name(t))


def sort_findings(findings: list) -> None:
    """Shortest traces first, then by check and location: the order every engine reports in."""
    findings.sort(key=lambda f: (len(f.trace), f.check, f.loc.file, f.loc.line, f.loc.col, f.message))


def exhausted_notes(program: ir.Program, exhausted) -> list[str]:
    out = []
    for sname in sorted(exhausted):
        size = dict(program.bounds.pools)[sname]
        out.append(f"the pool of struct {sname} ({size} slots) was full at some kzalloc, which then "
                   f"returned NULL; raise [bounds.pools] {sname} to explore past it")
    return out


def coverage(program: ir.Program, m: Machine, taken: dict) -> list[dict]:
    """Per lifecycle: the transitions taken (and by which call paths), never taken, and taken but not in
    the spec."""
    out = []
    for k, lc in enumerate(program.lifecycles):
        enum = program.struct(lc.struct).field(lc.field).type.enum
        names = {**m.enum_names.get(enum, {}), **dict((v, n) for n, v in lc.states)}
        seen = taken.get(k, {})
        allowed = set(lc.transitions)
        text = lambda a, b: f"{names.get(a, a)} -> {names.get(b, b)}"
        out.append({
            "struct": lc.struct, "field": lc.field,
            "states": [n for n, _v in lc.states],
            "taken": [text(a, b) for a, b in sorted(seen)],
            "never_taken": [text(a, b) for a, b in lc.transitions if (a, b) not in seen],
            "not_in_spec": [text(a, b) for a, b in sorted(set(seen) - allowed)],
            "taken_by": {text(a, b): sorted(" > ".join(m.funcs[f].name for f in path) for path in seen[a, b])
                         for a, b in sorted(seen)},
        })
    return out


def explore(program: ir.Program, max_states: int = 0, depth: int = 0, progress=None,
            reduce_private: bool = True, atomic: bool = False, stop=None) -> ModelResult:
    return Explorer(program, max_states, depth, progress, reduce_private, atomic, stop).run()
