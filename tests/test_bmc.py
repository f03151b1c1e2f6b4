"""The z3 engine (issue 4): bounded model checking agrees with the explicit engines.

The z3 engine explores the machine without reductions, so it is compared
with the reference run with `reduce_private=False` to the same depth: the
same findings (check, location, shortest trace length), and a violation
verdict exactly when the reference has one. An `ok` from the z3 engine (every
execution ends within the bound) must be the reference's verdict too.

In CI: every model of the corpus, the fixtures and docs/examples at depth 4; the trigger
models whose shortest trace is at most 12 steps, and their clean twins, to
that depth, so each finding's full shortest trace is compared; the shipped
multikernel models at depth 2; 12 generated models. `MKVERIFY_SLOW_TESTS=1`
adds every trigger model to the length of its shortest trace (up to 25 steps):
hours, not minutes (assertion-trigger-div-zero, whose steps divide, did not
finish its 18 depths in 40 minutes). Each z3 trace is replayed with machine.py inside the
engine, which fails the run if machine.py does not raise the same violation.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess
import sys

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from mkverify import frontend
from mkverify.engines import bmc, reference

from test_native import BODIES, generated

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
CORPUS = sorted([*TESTS.glob("models/checks/*.c"), *TESTS.glob("fixtures/*/*.c"), *ROOT.glob("docs/examples/*.c")])
SLOW = os.environ.get("MKVERIFY_SLOW_TESTS") == "1"
DEPTH = 4

#: trigger models whose shortest trace (unreduced IR steps) is short enough for CI, with that length
FULL = {
    "lock-imbalance-trigger-unheld": 2, "deadlock-trigger-self": 3, "lock-imbalance-trigger-return": 3,
    "null-dereference-trigger": 5, "out-of-bounds-trigger": 5, "deadlock-trigger-abba": 7,
    "invalid-free-trigger-global": 11, "dangling-reference-trigger-list": 12, "refcount-underflow-trigger": 12,
}


def findings(r) -> list:
    return sorted((f.check, str(f.loc), len(f.trace)) for f in r.findings)


def agree(program, depth: int):
    """The z3 engine and the reference, to the same depth, without reductions."""
    z = bmc.explore(program, depth=depth, induction=False)  # induction has its own test; it changes no finding
    e = reference.explore(program, depth=depth, reduce_private=False)
    if "idr_capacity" in e.incomplete_reason:
        # the explicit engines stop the whole run at the bound; the z3 engine reports it reachable
        assert "idr_capacity" in z.incomplete_reason
        return z, e
    assert findings(z) == findings(e)
    assert (z.verdict == "violations") == (e.verdict == "violations")
    if z.verdict == "ok":
        assert e.verdict == "ok"
    return z, e


def _prove(z, e):
    """Where both agree, the z3 engine's traces must be real: each replays in machine.py (inside the
    engine) and is no longer than the reference's."""
    for f in z.findings:
        assert f.trace and all(s.step == n for n, s in enumerate(f.trace, 1))


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_agrees_with_the_reference_on_the_corpus(path):
    z, e = agree(frontend.load(path), DEPTH)
    _prove(z, e)


@pytest.mark.parametrize("name", sorted(FULL))
def test_same_shortest_counterexample_as_the_reference(name):
    """To the depth of the shortest trace: the trigger finds it with the same length, the clean twin nothing."""
    k = FULL[name]
    z, e = agree(frontend.load(TESTS / "models" / "checks" / f"{name}.c"), k)
    assert z.verdict == "violations" and {len(f.trace) for f in z.findings} == {k}
    twin = TESTS / "models" / "checks" / f"{name.replace('-trigger', '-clean')}.c"
    if twin.exists():
        z2, _ = agree(frontend.load(twin), k)
        assert z2.verdict != "violations"


TRIGGERS = sorted(TESTS.glob("models/checks/*-trigger*.c"))


@pytest.mark.skipif(not SLOW, reason="every trigger model to the length of its shortest trace takes hours: set "
                                     "MKVERIFY_SLOW_TESTS=1")
@pytest.mark.parametrize("path", TRIGGERS, ids=lambda p: p.stem)
def test_every_trigger_at_full_depth(path):
    program = frontend.load(path)
    shortest = min(len(f.trace) for f in reference.explore(program, reduce_private=False).findings)
    z, _ = agree(program, shortest)
    assert min(len(f.trace) for f in z.findings) == shortest


@pytest.mark.parametrize("model", ["v2", "fixed"])
def test_agrees_on_the_shipped_models(model):
    agree(frontend.load(ROOT / "models" / "multikernel" / model), 2)


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bodies=BODIES, fail=st.booleans())
def test_agrees_on_generated_models(tmp_path_factory, bodies, fail):
    agree(generated(tmp_path_factory, bodies, 2, fail), DEPTH)


# ---------------------------------------------------------------- verdicts, induction, the command line

FIXTURE = TESTS / "fixtures" / "bmc" / "induction.c"


def test_k_induction_proves_an_invariant_and_bmc_finds_the_other_violated():
    program = frontend.load(FIXTURE)
    z = bmc.explore(program, depth=13)
    assert z.stats.extra["proved"] == ["state-is-known"]
    assert any("'state-is-known': proved for every depth by 1-induction" in n for n in z.notes)
    assert [(f.check, len(f.trace)) for f in z.findings] == [("invariant", 13)]
    assert "state-below-two" in z.findings[0].message
    # below the bound of the violation the z3 engine says how far it looked, and proves the other
    short = bmc.explore(program, depth=12)
    assert short.verdict == "incomplete" and "bounded to depth 12" in short.incomplete_reason
    assert any("'state-below-two': bounded to depth 12" in n for n in short.notes)


def test_ok_once_no_simple_path_is_longer_than_the_bound(tmp_path):
    """One CPU runs set() again and again: four states, the farthest 3 steps away. Executions never end, so
    the bound covers the state space exactly when no path of distinct states is longer than it."""
    (tmp_path / "m.c").write_text("static int x;\n\nvoid set(void)\n{\n\tx = 1;\n}\n")
    (tmp_path / "m.toml").write_text('[bounds]\ncpus = 1\n[[entry]]\nfunction = "set"\n')
    program = frontend.load(tmp_path / "m.c")
    e = reference.explore(program, reduce_private=False)
    assert (e.verdict, e.stats.states, e.stats.depth) == ("ok", 4, 3)
    assert bmc.explore(program, depth=2).verdict == "incomplete"
    z = bmc.explore(program, depth=3)
    assert z.verdict == "ok" and any("every state is within 3 steps" in n for n in z.notes)


def _run(*args):
    return subprocess.run([sys.executable, "-m", "mkverify", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_cli_z3_engine_json():
    p = _run("check", "--engine", "z3", "--depth", "3", "--format", "json",
             "tests/models/checks/deadlock-trigger-self.c")
    assert p.returncode == 1, p.stderr
    doc = json.loads(p.stdout)
    m = doc["models"][0]
    assert m["stats"]["engine"] == "z3" and m["stats"]["bound"] == 3
    assert len(m["stats"]["seconds_per_depth"]) == 3
    assert [(f["check"], len(f["trace"])) for f in m["findings"]] == [("deadlock", 3)]
    import jsonschema
    schema = json.loads((ROOT / "mkverify" / "schemas" / "output.schema.json").read_text())
    jsonschema.validate(doc, schema)


@pytest.mark.parametrize("opts", [["--jobs", "2"], ["--atomic-sections"], ["--reduce-private"],
                                  ["--max-states", "10"], ["--symmetry"]])
def test_cli_z3_engine_refuses_what_it_does_not_do(opts):
    p = _run("check", "--engine", "z3", *opts, "tests/models/checks/deadlock-trigger-self.c")
    assert p.returncode == 2
    assert "error:" in p.stderr and "Traceback" not in p.stderr


RUNTIME_BAD = sorted((TESTS / "bad").glob("runtime-*.c"))


@pytest.mark.parametrize("path", RUNTIME_BAD, ids=lambda p: p.stem)
def test_z3_rejects_a_model_the_explicit_engines_reject_at_run_time(path):
    """A model error reached at run time (a lock primitive on an int through a converted pointer) is the same
    exit 2 and message on every engine: the z3 engine answered `ok` here while its primitives were its own."""
    outs = {}
    for engine in ("python", "native", "z3"):
        p = _run("check", "--engine", engine, str(path.relative_to(ROOT)))
        assert p.returncode == 2 and "Traceback" not in p.stderr, (engine, p.stderr)
        outs[engine] = p.stderr.splitlines()[0]
    assert len(set(outs.values())) == 1, outs
