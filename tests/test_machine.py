"""Focused tests of the semantics in mkverify/machine.py, on tiny models in
tests/fixtures/machine/ (each .c has its spec beside it).

Most tests drive `Machine` by hand: start an entry point on a CPU, step it,
and look at the labels `enabled()` offers and at the cells of the state. The
rest explore a whole model with the reference explorer and look at the result.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mkverify import frontend, ir
from mkverify.engines.reference import Explorer, explore
from mkverify.machine import FREE, FREED, LIVE, ENOSPC, BoundHit, Machine
from mkverify.result import run_to_json

FIXTURES = Path(__file__).parent / "fixtures"
MACHINE = FIXTURES / "machine"


def load(name: str, **bounds) -> ir.Program:
    """Fixture model `name` (tests/fixtures/machine/name.c), with bounds overridden."""
    p = frontend.load(MACHINE / f"{name}.c")
    if bounds:
        p = dataclasses.replace(p, bounds=dataclasses.replace(p.bounds, **bounds))
    return ir.validate(p)


# ---------------------------------------------------------------- driving a Machine by hand


def entry_label(m: Machine, t: int, fname: str, args=()) -> tuple:
    for k, (_, fi, a) in enumerate(m.entry_choices):
        if m.funcs[fi].name == fname and tuple(a) == tuple(args):
            return (t, ("entry", k))
    raise AssertionError(f"no entry {fname}{tuple(args)}")


def labels_of(m: Machine, s, t: int) -> list:
    return [lab for lab in m.enabled(s) if lab[0] == t]


def step(m: Machine, s, label):
    """One step that must be enabled and must not be fatal; returns (state, violations)."""
    assert label in m.enabled(s), f"{label} is not enabled"
    ns, viols, _ = m.step(s, label)
    assert ns is not None, f"step {label} was fatal: {viols}"
    return ns, viols


def run(m: Machine, s, t: int, fname: str, args=(), choice: int = 0):
    """Start entry `fname` on thread t and step it until the thread is idle again."""
    s, viols = step(m, s, entry_label(m, t, fname, args))
    for _ in range(100):
        if not s[1][t]:
            return s, viols
        s, v = step(m, s, (t, ("run", choice)))
        viols = viols + v
    raise AssertionError(f"{fname} did not return")


def glob(m: Machine, s, name: str) -> int:
    return s[0][m.gaddr[name] - m.base]


def status(m: Machine, s, sid: int = 0) -> int:
    return s[0][m.slots[sid].status]


def state_count(p: ir.Program) -> int:
    return explore(p).stats.states


def without_seconds(doc: dict) -> dict:
    for model in doc["models"]:
        model["stats"].pop("seconds")
    return doc


# ---------------------------------------------------------------- BFS gives shortest traces


def test_bfs_finds_the_shortest_trace_not_the_first_entry_point_order():
    r = explore(load("shortest"))
    assert r.verdict == "violations"
    (f,) = r.findings
    assert f.check == "assertion" and f.message == "BUG_ON(x == 2) fired"
    # x reaches 2 in two ways. Each entry call is a step of its own (it runs up to the
    # first visible instruction), and each shared read or write is one more:
    #   inc() twice: (call, read x, write x) * 2 = 6 steps, then boom(): call, read x = 8
    #   set2(): call, write x = 2 steps, then boom(): call, read x            = 4
    # Breadth-first search must give the 4-step trace although inc comes first in the spec.
    assert len(f.trace) == 4
    assert [s.function for s in f.trace] == ["set2", "set2", "boom", "boom"]
    assert [s.step for s in f.trace] == [1, 2, 3, 4]


def test_bfs_trace_of_the_example_use_after_free_has_the_hand_counted_length():
    program = frontend.load(FIXTURES / "cli" / "buggy.c")
    # Without the private-object reduction every visible instruction is a step of its own:
    #   make(): call, kzalloc, kref_init, mutex_lock, read global, global = o, mutex_unlock = 7
    #   use():  call, mutex_lock, read global, mutex_unlock                                  = 4
    #   drop(): call, mutex_lock, read global, global = NULL, mutex_unlock, kref_put,
    #           kfree in obj_release                                                        = 7
    #   use():  read o->state, which faults                                                  = 1
    # use() must read global before drop() clears it, and read o->state after the kfree.
    # With it, kref_init on the object nobody else can reach yet is folded into the kzalloc
    # step, so the same interleaving is one step shorter.
    for reduce_private, length in ((False, 7 + 4 + 7 + 1), (True, 6 + 4 + 7 + 1)):
        r = explore(program, reduce_private=reduce_private)
        uaf = [f for f in r.findings if f.check == "use-after-free"]
        assert uaf
        shortest = min(uaf, key=lambda f: len(f.trace))
        assert len(shortest.trace) == length, reduce_private
        assert shortest.trace[-1].function == "use"
        assert shortest.trace[-2].function == "obj_release"


# ---------------------------------------------------------------- freed slots and reuse


def test_freed_slot_is_not_reused_while_a_global_points_at_it_and_is_reused_after():
    m = Machine(load("reuse"))  # one obj slot, alloc_can_fail = false
    s = m.initial_state()
    assert status(m, s) == FREE

    s, _ = run(m, s, 0, "alloc_free")
    assert status(m, s) == FREED, "g still points at the object: it must stay poisoned"
    assert glob(m, s, "g") == m.slots[0].base

    # the only slot is freed but reachable: kzalloc can only fail
    s, _ = step(m, s, entry_label(m, 0, "alloc_keep"))
    assert labels_of(m, s, 0) == [(0, ("run", 1))]
    before = s
    s, _ = step(m, s, (0, ("run", 1)))
    assert status(m, s) == FREED and glob(m, s, "h") == 0
    assert not s[1][0], "the failed allocation returns"
    assert "obj[0]: allocated" not in m.changes(before, s)

    # clearing the last pointer returns the slot to the free list in the same step
    before = s
    s, _ = run(m, s, 0, "clear")
    assert status(m, s) == FREE
    assert "obj[0]: reclaimed" in m.changes(before, s)

    s, _ = step(m, s, entry_label(m, 0, "alloc_keep"))
    assert labels_of(m, s, 0) == [(0, ("run", 0))]
    s, _ = step(m, s, (0, ("run", 0)))
    s, _ = step(m, s, (0, ("run", 0)))
    assert status(m, s) == LIVE
    assert glob(m, s, "h") == m.slots[0].base, "the reclaimed slot is handed out again"


def test_freed_slot_with_nothing_pointing_at_it_is_reclaimed_at_once():
    m = Machine(load("reuse"))
    s, _ = run(m, m.initial_state(), 0, "clear")
    s, _ = run(m, s, 0, "alloc_free")
    s, _ = run(m, s, 0, "clear")
    assert status(m, s) == FREE
    assert s == m.initial_state(), "after clear nothing of the freed object remains in the state"


def test_dangling_pointer_to_a_freed_slot_is_reported_at_quiescence():
    r = explore(load("reuse"))
    assert [f.check for f in r.findings] == ["dangling-reference"]
    assert r.findings[0].message.startswith("g still points to obj[0], which was freed at")


# ---------------------------------------------------------------- dead temporaries


def test_dead_temporaries_do_not_split_states():
    used, unused = load("dead_used"), load("dead_unused")
    # reader() loads x (0, 1 or 2) or c (always 0) into t, which is never used
    assert state_count(used) == state_count(unused)


def test_dead_temporary_test_would_see_a_split_if_dead_locals_were_kept():
    # guard for the test above: without zeroing dead locals the two models do differ
    counts = []
    for name in ("dead_used", "dead_unused"):
        ex = Explorer(load(name))
        ex.m.dead = [[()] * len(f.body) for f in ex.m.funcs]
        counts.append(ex.run().stats.states)
    assert counts[0] > counts[1]


def test_a_loaded_value_is_zeroed_in_the_frame_once_it_is_dead():
    m = Machine(load("dead_used"))
    s, _ = run(m, m.initial_state(), 0, "writer")
    assert glob(m, s, "x") == 1
    s, _ = step(m, s, entry_label(m, 1, "reader"))
    s, _ = step(m, s, (1, ("run", 0)))  # t = x: reads 1, then stops at y = 1
    (frame,) = s[1][1]
    assert set(frame[2]) == {0}


# ---------------------------------------------------------------- kzalloc failure branch


@pytest.mark.parametrize("can_fail", [True, False])
def test_kzalloc_fails_only_if_allowed_or_the_pool_is_exhausted(can_fail):
    m = Machine(load("alloc", alloc_can_fail=can_fail))  # one obj slot, two CPUs
    s, _ = step(m, m.initial_state(), entry_label(m, 0, "get"))
    expected = [(0, ("run", 0)), (0, ("run", 1))] if can_fail else [(0, ("run", 0))]
    assert labels_of(m, s, 0) == expected

    ok, _ = step(m, s, (0, ("run", 0)))
    assert status(m, ok) == LIVE
    ok, _ = step(m, ok, (0, ("run", 0)))  # keep = o
    assert glob(m, ok, "keep") == m.slots[0].base and not ok[1][0]
    if can_fail:
        failed, _ = step(m, s, (0, ("run", 1)))
        assert status(m, failed) == FREE and glob(m, failed, "keep") == 0
        assert not failed[1][0], "get() returns when kzalloc fails"

    # the pool is now exhausted: the only way forward for CPU1 is failure, allowed or not
    s, _ = step(m, ok, entry_label(m, 1, "get"))
    assert labels_of(m, s, 1) == [(1, ("run", 1))]


def test_kzalloc_without_failure_takes_fewer_transitions():
    # a failed kzalloc only returns to an idle state that is reachable anyway, so the state
    # counts agree; the failure branches show up as transitions
    never, may = explore(load("alloc", alloc_can_fail=False)), explore(load("alloc", alloc_can_fail=True))
    assert never.stats.states == may.stats.states
    assert never.stats.transitions < may.stats.transitions


# ---------------------------------------------------------------- IDR


def test_idr_alloc_returns_the_lowest_free_id_in_range_and_enospc_when_full():
    m = Machine(load("idr"))  # idr_capacity = 4, ids allocated in [start, 3)
    s = m.initial_state()

    def add(s, start):
        s, _ = run(m, s, 0, "add", (start, 3))
        return s, glob(m, s, "last")

    s, r = add(s, 0)
    assert r == 0
    s, r = add(s, 0)
    assert r == 1
    s, r = add(s, 1)
    assert r == 2
    s, r = add(s, 0)
    assert r == -ENOSPC, "0, 1 and 2 fill [0, 3)"
    s, _ = run(m, s, 0, "del", (1,))
    s, r = add(s, 0)
    assert r == 1, "the lowest free id, not the next after the highest"
    s, _ = run(m, s, 0, "del", (0,))
    s, r = add(s, 1)
    assert r == -ENOSPC, "0 is free but below start"
    s, r = add(s, 0)
    assert r == 0


def test_idr_beyond_its_capacity_is_a_bound_not_a_kernel_error():
    p = load("idr", idr_capacity=2)
    m = Machine(p)
    s, _ = run(m, m.initial_state(), 0, "add", (0, 3))
    s, _ = run(m, s, 0, "add", (0, 3))
    s, _ = step(m, s, entry_label(m, 0, "add", (0, 3)))
    with pytest.raises(BoundHit, match="idr_capacity = 2"):
        m.step(s, (0, ("run", 0)))
    r = explore(p)
    assert r.verdict == "incomplete"
    assert "idr_capacity" in r.incomplete_reason


# ---------------------------------------------------------------- locks


def test_thread_waiting_on_a_held_mutex_has_no_successor():
    m = Machine(load("lock"))
    s, _ = step(m, m.initial_state(), entry_label(m, 0, "hold"))
    s, _ = step(m, s, (0, ("run", 0)))  # CPU0 takes m, stops at x = 1
    s, _ = step(m, s, entry_label(m, 1, "hold"))  # CPU1 stops at mutex_lock(&m)
    assert labels_of(m, s, 1) == []
    assert all(lab[0] == 0 for lab, _, _ in m.successors(s))
    assert m.check_state(s) == [], "one thread waiting on a lock held by a running thread is no deadlock"

    s, _ = step(m, s, (0, ("run", 0)))  # x = 1
    assert labels_of(m, s, 1) == []
    s, _ = step(m, s, (0, ("run", 0)))  # x = 0
    s, _ = step(m, s, (0, ("run", 0)))  # mutex_unlock: CPU0 returns
    assert not s[1][0]
    assert labels_of(m, s, 1) == [(1, ("run", 0))]
    ns, _ = step(m, s, (1, ("run", 0)))
    assert m.changes(s, ns) == ["m: unlocked -> held by CPU1"]


def test_mutual_exclusion_holds_in_every_reachable_state():
    r = explore(load("lock"))
    assert r.verdict == "ok" and r.findings == []


# ---------------------------------------------------------------- WARN_ON and BUG_ON


def test_warn_on_is_reported_and_the_step_completes():
    m = Machine(load("warn"))
    s, _ = step(m, m.initial_state(), entry_label(m, 0, "check"))
    ns, viols, _ = m.step(s, (0, ("run", 0)))  # read x, WARN_ON fires, stop at y = 1
    assert ns is not None
    assert [(v.check, v.message, v.fatal) for v in viols] == [("assertion", "WARN_ON(x == 0) fired", False)]


def test_bug_on_is_fatal_the_step_has_no_successor():
    m = Machine(load("bug"))
    s, _ = step(m, m.initial_state(), entry_label(m, 0, "check"))
    ns, viols, _ = m.step(s, (0, ("run", 0)))
    assert ns is None
    assert [(v.check, v.message, v.fatal) for v in viols] == [("assertion", "BUG_ON(x == 0) fired", True)]


def test_exploration_continues_past_warn_on_but_not_past_bug_on():
    warn = explore(load("warn"))
    assert sorted(f.message for f in warn.findings) == ["BUG_ON(y == 1) fired", "WARN_ON(x == 0) fired"]
    bug = explore(load("bug"))
    assert [f.message for f in bug.findings] == ["BUG_ON(x == 0) fired"], "y = 1 after a BUG_ON is unreachable"
    assert bug.stats.states < warn.stats.states


# ---------------------------------------------------------------- determinism


@pytest.mark.parametrize("path", [FIXTURES / "cli" / "buggy.c", MACHINE / "shortest.c", MACHINE / "idr.c"],
                         ids=lambda p: p.stem)
def test_exploring_twice_gives_identical_json_apart_from_seconds(path):
    first = without_seconds(run_to_json([explore(frontend.load(path))]))
    second = without_seconds(run_to_json([explore(frontend.load(path))]))
    assert first == second


def test_successor_order_is_the_same_for_two_machines():
    p = frontend.load(FIXTURES / "cli" / "buggy.c")
    a, b = Machine(p), Machine(p)
    frontier = [a.initial_state()]
    for _ in range(4):
        nxt = []
        for s in frontier:
            sa = [(lab, ns) for lab, ns, _ in a.successors(s)]
            sb = [(lab, ns) for lab, ns, _ in b.successors(s)]
            assert sa == sb
            nxt.extend(ns for _, ns in sa if ns is not None)
        frontier = nxt[:50]
