"""Every built-in check ships with a tiny model that triggers it and the same
model repaired, which must not (tests/models/checks/).

Each model file declares what to expect in its leading directive comment
(parsed as TOML, never evaluated):

    // mkverify: expect = "violations"          # or "ok"
    // mkverify: checks = ["use-after-free"]    # exactly the set of check ids found
    // mkverify: trace = 20                     # optional: shortest trace length

`trace` is the length of the shortest trace among the findings of the
expected checks (counted by hand); with several checks it may be a table,
`trace = { leak = 15, deadlock = 7 }`, one length per check.

File names are `<check-id>-trigger[-<cause>].c` and
`<check-id>-clean[-<cause>].c`: one trigger per distinct cause of the check,
and beside each trigger its repaired twin with the same cause.
"""
from __future__ import annotations

from pathlib import Path
import re

import pytest

from mkverify.checks import CHECKS

from helpers import (CHECK_MODELS, DIRECTIVE_KEYS, check_models, checks_found, expectation, findings, line_of,
                     locs_in, model_name, run, same_file, shortest)

MODELS = check_models()


def model(stem: str) -> Path:
    path = CHECK_MODELS / f"{stem}.c"
    assert path.is_file(), f"no corpus model {path.name}"
    return path


# ---------------------------------------------------------------- the corpus walk

@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_model_meets_its_declared_expectation(engine, path):
    exp = expectation(path)
    assert set(exp) <= DIRECTIVE_KEYS, f"unknown directive keys {sorted(set(exp) - DIRECTIVE_KEYS)}"
    assert exp.get("expect") in ("ok", "violations"), "the model must declare expect = \"ok\" or \"violations\""
    want = set(exp.get("checks", []))
    assert want <= set(CHECKS), f"unknown check ids {sorted(want - set(CHECKS))}"
    check, kind, _ = model_name(path)
    if kind == "trigger":
        assert exp["expect"] == "violations" and check in want, \
            f"a trigger model must expect violations including {check}"
    else:
        assert exp["expect"] == "ok" and not want, "a clean model must expect ok and name no checks"

    result = run(engine, path)

    assert result.verdict == exp["expect"], \
        "\n".join([f"verdict {result.verdict}, expected {exp['expect']}"] +
                  [f"  [{f.check}] {f.loc}: {f.message}" for f in result.findings])
    assert checks_found(result) == want, \
        "\n".join([f"found {sorted(checks_found(result))}, expected {sorted(want)}"] +
                  [f"  [{f.check}] {f.loc}: {f.message}" for f in result.findings])

    nlines = len(path.read_text(encoding="utf-8").splitlines())
    for f in result.findings:
        assert f.trace, f"[{f.check}] {f.message}: empty trace"
        for step in f.trace:
            assert same_file(step.loc.file, path), f"[{f.check}] step {step.step} is in {step.loc.file}"
            assert 1 <= step.loc.line <= nlines and step.loc.col >= 1, \
                f"[{f.check}] step {step.step} points at {step.loc}, outside the model"

    if "trace" in exp:
        lengths = exp["trace"]
        if isinstance(lengths, int):
            got = min(len(f.trace) for f in result.findings if f.check in want)
            assert got == lengths, f"shortest trace has {got} steps, expected {lengths}"
        else:
            assert set(lengths) <= want, "trace lengths name checks the model does not expect"
            for c, n in lengths.items():
                assert len(shortest(result, c).trace) == n, f"shortest {c} trace: {len(shortest(result, c).trace)}"

    if exp["expect"] == "ok":
        assert result.stats.states > 1, "the clean model did not explore anything"


# ---------------------------------------------------------------- the corpus itself

def test_corpus_has_a_trigger_and_a_clean_model_for_every_check():
    # the flag-* checks are proved from headers, not explored: their triggering and clean headers are
    # tests/fixtures/flags/ and the specs tests/test_flags.py writes
    kinds: dict[str, set] = {c: set() for c in CHECKS if not c.startswith("flag-")}
    for path in MODELS:
        check, kind, _ = model_name(path)
        assert check in CHECKS, f"{path.name} names no built-in check (a typo, or a check id that was renamed)"
        kinds[check].add(kind)
    missing = {c: sorted({"trigger", "clean"} - k) for c, k in kinds.items() if k != {"trigger", "clean"}}
    assert not missing, f"checks without their models in {CHECK_MODELS}: {missing}"


def test_every_trigger_has_its_repaired_twin_and_every_model_its_spec():
    stems = {p.stem for p in MODELS}
    for path in MODELS:
        assert path.with_suffix(".toml").is_file(), f"{path.name} has no spec beside it"
        check, kind, cause = model_name(path)
        twin = f"{check}-{'clean' if kind == 'trigger' else 'trigger'}" + (f"-{cause}" if cause else "")
        assert twin in stems, f"{path.name} has no twin {twin}.c"


def test_corpus_holds_only_models_and_specs_with_parseable_names(repo_root):
    corpus = repo_root / "tests" / "models" / "checks"
    assert corpus == CHECK_MODELS
    for path in corpus.iterdir():
        assert path.suffix in (".c", ".toml"), f"stray file {path.name}"
        model_name(path)


# ---------------------------------------------------------------- what the findings say

def test_use_after_free_message_names_the_line_of_the_free(engine):
    path = model("use-after-free-trigger")
    f = shortest(run(engine, path), "use-after-free")
    free_line = line_of(path, "kfree(s);", after="static void session_release")
    places = locs_in(f.message)
    assert len(places) == 1 and same_file(places[0][0], path) and places[0][1] == free_line, f.message
    assert "session[0].flags" in f.message
    assert f.loc.line == line_of(path, "return s->flags;")


def test_finds_use_after_free_when_close_frees_between_lookup_and_use(engine):
    path = model("use-after-free-trigger")
    trace = shortest(run(engine, path), "use-after-free").trace
    reader = trace[-1].cpu
    assert trace[-1].function == "session_query"
    freeing = [s for s in trace if s.action.startswith("kfree")]
    assert len(freeing) == 1 and freeing[0].cpu != reader and freeing[0].function == "session_release"
    # the lookup's unlock comes before the free: the window is outside the lock
    unlock = max(s.step for s in trace if s.cpu == reader and s.action.startswith("mutex_unlock"))
    assert unlock < freeing[0].step < trace[-1].step


def test_finds_underflow_when_an_error_path_puts_twice(engine):
    path = model("refcount-underflow-trigger")
    f = shortest(run(engine, path), "refcount-underflow")
    assert "wdt.ref" in f.message and "already zero" in f.message
    assert f.loc.line == line_of(path, "kref_put(&wdt.ref, wdt_release);")
    puts = [s for s in f.trace if s.action.startswith("kref_put")]
    assert len(puts) == 2 and puts[0].cpu == puts[1].cpu, "one thread drops its one reference twice"


def test_finds_get_after_release_when_lookup_races_the_final_put(engine):
    path = model("get-after-release-trigger")
    f = shortest(run(engine, path), "get-after-release")
    assert "session[0].ref" in f.message and "already zero" in f.message
    last = f.trace[-1]
    assert last.function == "session_peek" and last.action.startswith("kref_get")
    final_put = [s for s in f.trace if s.action.startswith("kref_put")]
    assert len(final_put) == 1 and final_put[0].cpu != last.cpu
    assert "session[0].ref: 1 -> 0" in final_put[0].changes


def test_double_free_message_names_the_first_free(engine):
    path = model("double-free-trigger")
    f = shortest(run(engine, path), "double-free")
    places = locs_in(f.message)
    assert places and places[0][1] == line_of(path, "kfree(s);", after="int session_close")
    frees = [s for s in f.trace if s.action.startswith("kfree")]
    assert len(frees) == 2 and frees[0].cpu != frees[1].cpu, "two closers free the same session"


@pytest.mark.parametrize("cause, referrer", [("global", "the_dev"), ("idr", "mk_idr"), ("cpu", "CPU2")])
def test_dangling_reference_names_what_still_points_at_the_freed_object(engine, cause, referrer):
    path = model(f"dangling-reference-trigger-{cause}")
    found = findings(run(engine, path), "dangling-reference")
    assert any(f.message.startswith(referrer) for f in found), [f.message for f in found]
    free_line = line_of(path, "kfree(", after="/* BUG")
    for f in found:
        assert f.loc.line == free_line, "a dangling reference is reported at the free that left it dangling"
        assert any(same_file(p, path) and line == free_line for p, line, _ in locs_in(f.message)), f.message


def test_freeing_an_object_still_on_a_list_is_reported_at_the_kfree(engine):
    path = model("dangling-reference-trigger-list")
    f = shortest(run(engine, path), "dangling-reference")
    assert "client[0].node" in f.message and "client_list" in f.message
    assert f.loc.line == line_of(path, "kfree(c);", after="int client_remove")


def test_leak_names_the_allocation_site(engine):
    path = model("leak-trigger")
    f = shortest(run(engine, path), "leak")
    alloc = line_of(path, "kzalloc(")
    assert any(same_file(p, path) and line == alloc for p, line, _ in locs_in(f.message)), f.message
    assert f.trace[-1].function == "session_open"


def test_finds_leak_when_a_reference_outlives_every_pointer(engine):
    f = shortest(run(engine, model("leak-trigger-refcount")), "leak")
    counts = [c.split(" -> ")[1] for s in f.trace for c in s.changes if c.startswith("session[0].ref: ")]
    assert "2" in counts and counts[-1] == "1", f"the poller's reference outlives the session's pointers: {counts}"
    assert f.trace[-1].function == "session_close"
    assert any(c == "current_session: &session[0] -> NULL" for s in f.trace for c in s.changes)


def test_abba_deadlock_message_names_both_locks_and_both_cpus(engine):
    f = shortest(run(engine, model("deadlock-trigger-abba")), "deadlock")
    assert re.search(r"CPU(\d) waits for config_lock held by CPU(\d)", f.message), f.message
    assert re.search(r"CPU(\d) waits for session_lock held by CPU(\d)", f.message), f.message
    assert {s.cpu for s in f.trace} == {0, 1}


def test_self_deadlock_is_reported_at_the_inner_lock(engine):
    path = model("deadlock-trigger-self")
    f = shortest(run(engine, path), "deadlock")
    assert "client_lock" in f.message and "already holds" in f.message
    assert f.loc.line == line_of(path, "mutex_lock(&client_lock);", after="static struct client *client_find")
    assert {s.cpu for s in f.trace} == {f.trace[0].cpu}, "one CPU is enough to self-deadlock"


def test_lock_held_at_return_is_reported_at_the_return(engine):
    path = model("lock-imbalance-trigger-return")
    f = shortest(run(engine, path), "lock-imbalance")
    assert "hotplug_lock" in f.message
    assert f.loc.line == line_of(path, "return -ENOENT;", after="int instance_id_show")


def test_unlock_of_an_unheld_lock_says_who_holds_it(engine):
    path = model("lock-imbalance-trigger-unheld")
    f = shortest(run(engine, path), "lock-imbalance")
    assert "session_lock" in f.message and "held by nobody" in f.message
    assert f.loc.line == line_of(path, "mutex_unlock(&session_lock);", after="out_unlock:")


def test_freeing_an_object_with_its_lock_held_names_the_lock(engine):
    f = shortest(run(engine, model("lock-imbalance-trigger-freed")), "lock-imbalance")
    assert "port[0].lock" in f.message and "held by CPU" in f.message


def test_warn_on_and_bug_on_findings_quote_the_condition(engine):
    warn = shortest(run(engine, model("assertion-trigger-warn-on")), "assertion")
    assert "WARN_ON(s->id != id)" in warn.message
    bug = shortest(run(engine, model("assertion-trigger-bug-on")), "assertion")
    assert "BUG_ON(s->state != SESSION_LIVE)" in bug.message


def test_kicking_an_online_cpu_is_an_assertion(engine):
    f = shortest(run(engine, model("assertion-trigger-cpu-online")), "assertion")
    assert "CPU2" in f.message and "online" in f.message


def test_out_of_bounds_names_the_index_and_the_bound(engine):
    f = shortest(run(engine, model("out-of-bounds-trigger")), "out-of-bounds")
    assert "index 2" in f.message and "array of 2" in f.message
    f = shortest(run(engine, model("out-of-bounds-trigger-cpu")), "out-of-bounds")
    assert "CPU 3" in f.message and "nr_cpu_ids (3)" in f.message


def test_illegal_transition_names_the_states_and_the_lifecycle(engine):
    path = model("illegal-transition-trigger")
    f = shortest(run(engine, path), "illegal-transition")
    assert "MK_STOPPED -> MK_RUNNING" in f.message and "mk_instance.state" in f.message
    assert f.loc.line == line_of(path, "inst->state = MK_RUNNING;")


def test_invariant_failure_names_the_invariant_and_points_at_the_spec(engine):
    path = model("invariant-trigger")
    f = shortest(run(engine, path), "invariant")
    assert "'running-image-is-executed'" in f.message and "kimage[0]" in f.message
    assert same_file(f.loc.file, path.with_suffix(".toml"))
    assert f.trace[-1].function == "mk_halt"


@pytest.mark.parametrize("stem", ["use-after-free-trigger", "double-free-trigger", "null-dereference-trigger",
                                  "get-after-release-trigger", "invalid-free-trigger-member"])
def test_a_fatal_finding_ends_its_trace_at_the_faulting_line(engine, stem):
    path = model(stem)
    check = model_name(path)[0]
    f = shortest(run(engine, path), check)
    assert (f.trace[-1].loc.file, f.trace[-1].loc.line) == (f.loc.file, f.loc.line)


def test_exploring_a_trigger_twice_gives_the_same_findings_and_traces(engine):
    path = model("assertion-trigger-bug-on")
    a, b = run(engine, path), run(engine, path)
    assert a.stats.states == b.stats.states
    assert [f.to_json() for f in a.findings] == [f.to_json() for f in b.findings]
