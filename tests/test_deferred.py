"""Deferred execution (docs/model-language.md#deferred-execution): worker threads run work items, timers
and call_rcu callbacks. Focused tests on the fixtures tests/fixtures/machine/deferred-*.c, on the reference
engine and the native one; the corpus (tests/models/checks/) holds the trigger/clean pairs of each finding."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mkverify import frontend, ir
from mkverify.engines import native, reference
from mkverify.machine import Machine

MACHINE = Path(__file__).parent / "fixtures" / "machine"
ENGINES = {"python": reference.explore, "native": native.explore}


def load(name: str, **bounds) -> ir.Program:
    p = frontend.load(MACHINE / f"{name}.c")
    if bounds:
        p = dataclasses.replace(p, bounds=dataclasses.replace(p.bounds, **bounds))
    return ir.validate(p)


def found(r) -> dict:
    return {f.check: f for f in r.findings}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_periodic_timer_does_not_hide_a_leak(engine):
    """Once started, the timer is pending in every state; states with every thread idle are still quiescent,
    and the pending timer's object (here none) is the only one it keeps reachable."""
    r = ENGINES[engine](load("deferred-periodic-leak"))
    assert set(found(r)) == {"leak"}


@pytest.mark.parametrize("engine", ENGINES)
def test_call_rcu_waits_for_the_readers_of_its_own_time_only(engine):
    """The grace period starts at call_rcu: a reader that enters its section after it is not waited for,
    even when the only worker is busy until long after (the object was not unpublished first)."""
    r = ENGINES[engine](load("deferred-call-rcu-early"))
    uaf = found(r)["use-after-free"]
    assert "freed by a call_rcu or deferred callback" in uaf.message
    assert any(s.thread == "kworker0" for s in uaf.trace)


@pytest.mark.parametrize("engine", ENGINES)
def test_timer_delete_sync_spins_and_cancel_work_sync_sleeps(engine):
    r = ENGINES[engine](load("deferred-sync-atomic"))
    assert [(f.check, f.loc.line) for f in r.findings] == [("sleep-in-atomic", 46)]
    assert "cancel_work_sync" in r.findings[0].message


def test_workers_are_threads_after_the_host_cpus():
    p = load("deferred-sync-atomic", workers=2)
    m = Machine(p)
    assert (m.nhost, m.nworkers, m.nthreads) == (1, 2, 3)
    assert [m.thread_name(t) for t in range(3)] == ["CPU0", "kworker0", "kworker1"]
    assert len(m.initial_state()[1]) == 3
    # a model that defers nothing has no worker, whatever the spec says
    plain = frontend.load(Path(__file__).parent.parent / "docs" / "examples" / "double-put.c")
    assert Machine(dataclasses.replace(plain, bounds=dataclasses.replace(plain.bounds, workers=3))).nworkers == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_second_worker_adds_interleavings_and_keeps_the_verdict(engine):
    one = ENGINES[engine](load("deferred-sync-atomic"))
    two = ENGINES[engine](load("deferred-sync-atomic", workers=2))
    assert two.stats.states > one.stats.states
    assert [f.check for f in two.findings] == [f.check for f in one.findings]


def test_only_a_worker_starts_an_item_and_only_while_it_is_pending():
    p = load("deferred-sync-atomic")
    m = Machine(p)
    s = m.initial_state()
    workers = [lab for lab in m.enabled(s) if lab[0] == 1]
    assert workers == []  # nothing pending yet
    hosts = {lab[1][1] for lab in m.enabled(s) if lab[0] == 0}
    assert hosts == set(range(m.nhost_choices))
    # CPU0 runs start(): the timer and the work are pending, and kworker0 may start on each
    start = next(lab for lab in m.enabled(s) if lab[0] == 0 and m.funcs[m.entry_choices[lab[1][1]][1]].name == "start")
    s, _, _ = m.step(s, start)
    while s[1][0]:
        s, _, _ = m.step(s, (0, ("run", 0)))
    starts = [lab for lab in m.enabled(s) if lab[0] == 1]
    assert {m.cells[m.choice_item[lab[1][1]]].name for lab in starts} == {"t", "w"}
    # a start takes the item in the same step: no longer pending, and the worker's runs cell names it
    s2, viols, x = m.step(s, starts[0])
    item = m.choice_item[starts[0][1][1]]
    assert not viols and s2[0][item] & 1 == 0 and s2[0][m.shape.worker_runs[0]] == m.base + item
    assert x.action.startswith("kworker0 runs ")
