"""The C enumerator agrees with the reference explorer (machine.py), exactly.

On every model the repository ships (the check corpus, the fixtures, the
multikernel models) and on models Hypothesis generates, the two engines give
the same reachable-state count, transitions, depth, verdict, and the same
findings (check, location, message, shortest-trace length): with one thread
the C side even numbers states as the reference does, so its traces are the
same traces. With several threads, with fingerprints instead of states, and
with every reduction on or off, states and findings stay the same.

The C extension validates what it is given: malformed images, impossible
bounds and layouts raise ExploreError (a ValueError), never crash.
"""
from __future__ import annotations

from array import array
import os
from pathlib import Path
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mkverify import _explore, frontend
from mkverify.engines import native
from mkverify.engines.reference import explore as reference

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
CORPUS = sorted([*ROOT.glob("models/checks/*.c"), *ROOT.glob("fixtures/*/*.c")])


def findings(result, messages=True):
    return sorted((f.check, str(f.loc), len(f.trace), f.message if messages else "") for f in result.findings)


def figures(result):
    return (result.verdict, result.stats.states, result.stats.transitions, result.stats.depth,
            result.incomplete_reason)


def agree(program, jobs=1, **kw):
    """Run both engines; assert they agree and return (reference, native)."""
    kw.setdefault("atomic", False)
    ref = reference(program, **kw)
    nat = native.explore(program, jobs=jobs, symmetry=False, **kw)
    if jobs > 1 and ref.incomplete_reason:
        # threads stop at a bound together: the states are the bound, what else was done by then varies
        assert (nat.stats.states, nat.incomplete_reason) == (ref.stats.states, ref.incomplete_reason)
        return ref, nat
    assert figures(nat) == figures(ref)
    # one thread numbers states like the reference, so even the messages (which name slots) agree
    assert findings(nat, messages=jobs == 1) == findings(ref, messages=jobs == 1)
    assert nat.coverage == ref.coverage and nat.invariants == ref.invariants
    assert nat.notes == ref.notes
    return ref, nat


@pytest.mark.parametrize("model", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_native_equals_reference_on_the_corpus(model):
    program = frontend.load(model)
    agree(program)
    agree(program, reduce_private=False)
    agree(program, atomic=True)  # machine.py implements the atomic sections too (Machine(atomic=True))


@pytest.mark.parametrize("model", CORPUS[::3], ids=lambda p: f"{p.parent.name}/{p.name}")
@pytest.mark.parametrize("jobs", [2, 3])
def test_threads_keep_states_verdicts_and_trace_lengths(model, jobs):
    program = frontend.load(model)
    agree(program, jobs=jobs)


def test_multikernel_v2_bounded_agrees_trace_for_trace():
    """The posted series to depth 58 (every finding test_multikernel asserts lies within it)."""
    program = frontend.load(REPO / "models/multikernel/v2", REPO / "specs/multikernel-v2.toml")
    ref, nat = agree(program, depth=58)
    assert len(nat.findings) >= 10 and [s.to_json() for f in nat.findings for s in f.trace] == \
        [s.to_json() for f in ref.findings for s in f.trace]


def test_multikernel_fixed_complete_agrees_with_the_reference():
    """The repaired series explored completely by both engines (the reference takes about 40 s)."""
    program = frontend.load(REPO / "models/multikernel/fixed", REPO / "specs/multikernel-fixed.toml")
    ref, nat = agree(program)
    assert nat.verdict == "ok" and nat.coverage == ref.coverage and nat.invariants == ref.invariants


def test_multikernel_fixed_complete_native_one_and_two_threads_fingerprint():
    """The whole repaired model: the same space however it is stored and however many threads."""
    program = frontend.load(REPO / "models/multikernel/fixed", REPO / "specs/multikernel-fixed.toml")
    runs = [native.explore(program, jobs=j, fingerprint=fp, symmetry=False, atomic=False) for j in (1, 2)
            for fp in (False, True)]
    assert {figures(r) for r in runs} == {figures(runs[0])}
    assert runs[0].verdict == "ok" and runs[0].stats.states > 600_000


@pytest.mark.parametrize("model", CORPUS[::2], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_symmetric_runs_keep_findings_with_threads_and_fingerprints(model):
    """Symmetry (CPUs and pool slots) with 1 and 2 threads, exact and fingerprints: the findings and
    their shortest-trace lengths of the unreduced run. (tests/test_reductions.py holds the rest.)"""
    program = frontend.load(model)
    full = native.explore(program, symmetry=False)
    want = findings(full, messages=False)
    for jobs in (1, 2):
        for fp in (False, True):
            r = native.explore(program, jobs=jobs, fingerprint=fp, symmetry=True)
            assert r.verdict == full.verdict and r.stats.states <= full.stats.states
            assert sorted({(c, l, n) for c, l, n, _ in findings(r, messages=False)}) == \
                sorted({(c, l, n) for c, l, n, _ in want})


def test_fingerprint_mode_says_so_with_the_miss_probability():
    program = frontend.load(CORPUS[0])
    exact = native.explore(program, symmetry=False)
    fp = native.explore(program, fingerprint=True, symmetry=False)
    assert figures(fp) == figures(exact) and findings(fp) == findings(exact)
    assert fp.stats.extra["storage"] == "fingerprint" and 0 <= fp.stats.extra["miss_probability"] < 1e-6
    assert any(n.startswith("fingerprint mode:") and "probability" in n for n in fp.notes)
    assert not any("fingerprint" in n for n in exact.notes)


def test_state_bound_and_depth_bound_match_the_reference():
    program = frontend.load(REPO / "models/multikernel/fixed", REPO / "specs/multikernel-fixed.toml")
    for kw in ({"max_states": 1}, {"max_states": 777}, {"depth": 9}):
        ref, nat = agree(program, **kw)
        assert nat.verdict == "incomplete"


def test_memory_bound_stops_cleanly_with_partial_statistics():
    program = frontend.load(REPO / "models/multikernel/fixed", REPO / "specs/multikernel-fixed.toml")
    r = native.explore(program, max_memory=4 << 20, symmetry=False)
    assert r.verdict == "incomplete" and r.incomplete_reason.startswith("memory bound")
    assert 0 < r.stats.states < 600_000 and r.stats.transitions > r.stats.states // 2


def test_memory_grows_with_states_not_transitions():
    """Bytes per state stay flat while transitions per state grow (the arena holds states only)."""
    program = frontend.load(REPO / "models/multikernel/fixed", REPO / "specs/multikernel-fixed.toml")
    small = native.explore(program, max_states=50_000, jobs=1, symmetry=False)
    big = native.explore(program, jobs=1, symmetry=False)
    per = [r.stats.extra["memory_bytes"] / r.stats.states for r in (small, big)]
    assert per[1] < per[0] * 1.5
    assert per[1] < big.stats.extra["state_bytes"] + 40, "beyond the packed state: parent, label, hash, table"


# ---------------------------------------------------------------- generated models
# Random lifecycles over a pool with krefs, a global pointer, an IDR, a list, a
# mutex and a spinlock, run by two or three host CPUs: whatever the bodies do
# (leak, double put, use after free, deadlock, unlock of an unheld lock, ...),
# the two engines must agree on everything.

from test_reductions import _PRELUDE, _STATEMENTS  # noqa: E402  (the lifecycle statements both generators use)

STATEMENTS = _STATEMENTS + (
    "spin_lock(&slock);\n\tif (o)\n\t\tid = idr_alloc(&ids, o, 1, 3, GFP_KERNEL);\n\tspin_unlock(&slock);",
    "spin_lock(&slock);\n\to = idr_find(&ids, 1);\n\tspin_unlock(&slock);",
    "spin_lock(&slock);\n\tidr_remove(&ids, 1);\n\tspin_unlock(&slock);",
    "atomic_inc(&hits);\n\tWARN_ON(atomic_read(&hits) > 2);",
    "mutex_lock(&lock);\n\tspin_lock(&slock);\n\tspin_unlock(&slock);\n\tmutex_unlock(&lock);",
    "spin_lock(&slock);\n\tmutex_lock(&lock);\n\tmutex_unlock(&lock);\n\tspin_unlock(&slock);",
    "for (i = 0; i < 2; i++)\n\t\tif (o)\n\t\t\to->v += i;",
)

PRELUDE = """
static DEFINE_SPINLOCK(slock);
static DEFINE_IDR(ids);
static atomic_t hits;
""" + _PRELUDE

SPEC = """
[bounds]
cpus = {cpus}
alloc_can_fail = {fail}
idr_capacity = 2
max_states = 30000
[bounds.pools]
obj = 2
{entries}
"""


def generated(tmp_path_factory, bodies, cpus, fail):
    funcs = []
    for n, body in enumerate(bodies):
        lines = "\n".join(f"\t{STATEMENTS[k]}" for k in body)
        funcs.append(f"void entry{n}(void)\n{{\n\tstruct obj *o = NULL;\n\tint id = 0, i;\n\n{lines}\n}}\n")
    d = tmp_path_factory.mktemp("gen")
    (d / "m.c").write_text(PRELUDE + "\n" + "\n".join(funcs))
    entries = "\n".join(f'[[entry]]\nfunction = "entry{n}"' for n in range(len(bodies)))
    (d / "m.toml").write_text(SPEC.format(cpus=cpus, fail=str(fail).lower(), entries=entries))
    return frontend.load(d / "m.c")


BODIES = st.lists(st.lists(st.integers(0, len(STATEMENTS) - 1), min_size=1, max_size=6), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bodies=BODIES, cpus=st.integers(2, 3), fail=st.booleans(), reduce=st.booleans())
def test_engines_agree_on_generated_models(tmp_path_factory, bodies, cpus, fail, reduce):
    program = generated(tmp_path_factory, bodies, cpus, fail)
    agree(program, reduce_private=reduce)
    agree(program, reduce_private=reduce, atomic=True)
    if program.bounds.host_cpus > 1:
        agree(program, jobs=2, reduce_private=reduce)


# ---------------------------------------------------------------- the extension validates its input

def test_the_extension_under_test_is_the_one_asked_for():
    """tests/test_sanitizers.py runs this file against a sanitized build; it must really be loaded."""
    want = os.environ.get("MKVERIFY_EXPLORE_SO")
    if want:
        assert Path(_explore.__file__).resolve() == Path(want).resolve()
        marker = os.environ.get("MKVERIFY_SANITIZED_MARKER")
        if marker:
            Path(marker).write_text(_explore.__file__)


@pytest.fixture(scope="module")
def lowered():
    return native.Lowered(frontend.load(CORPUS[0]))


def call(low, image=None, widths=None, los=None, **kw):
    w, lo = low.layout()
    return _explore.explore(image if image is not None else low.img.tobytes(), widths if widths is not None else w,
                            los if los is not None else lo, **kw)


def test_a_valid_image_runs(lowered):
    r = call(lowered)
    assert r["states"] > 1 and r["error"] is None


@pytest.mark.parametrize("kw", [{"jobs": 0}, {"jobs": 100000}, {"max_states": -1}, {"max_depth": -5},
                                {"max_memory": -1}, {"progress": 3}, {"chunk": 0}])
def test_impossible_bounds_are_refused(lowered, kw):
    with pytest.raises(_explore.ExploreError):
        call(lowered, **kw)


def test_truncated_and_foreign_images_are_refused(lowered):
    img = lowered.img.tobytes()
    for bad in (b"", img[:8], img[:len(img) // 2], img[:-8], b"x" * 13, array("q", [0] * 40).tobytes()):
        with pytest.raises(_explore.ExploreError):
            call(lowered, image=bad)


def test_a_layout_that_does_not_fit_is_refused(lowered):
    w, lo = lowered.layout()
    with pytest.raises(_explore.ExploreError):
        call(lowered, widths=w[:-1])
    with pytest.raises(_explore.ExploreError):
        call(lowered, widths=bytes([65]) + w[1:])
    with pytest.raises(_explore.ExploreError):
        call(lowered, los=array("q", [-(1 << 40)] * len(w)).tobytes(), widths=bytes([3] * len(w)))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.data())
def test_corrupted_images_raise_or_run_but_never_crash(data):
    """Overwrite random words of a valid image with hostile values: the extension either refuses the
    image or explores it within its bounds. A crash would kill the test process."""
    low = native.Lowered(frontend.load(CORPUS[len(CORPUS) // 2]))
    img = array("q", low.img)
    for _ in range(data.draw(st.integers(1, 4))):
        k = data.draw(st.integers(0, len(img) - 1))
        img[k] = data.draw(st.sampled_from([0, 1, -1, 2, 7, 64, 65, 1 << 20, -(1 << 40), (1 << 62), img[k] + 1,
                                            img[k] - 1]))
    try:
        r = call(low, image=img.tobytes(), max_states=2000, jobs=data.draw(st.integers(1, 2)),
                 symmetry=data.draw(st.booleans()))
    except (_explore.ExploreError, MemoryError):
        return
    assert r["states"] <= 2000


def test_witness_records_are_validated():
    """Invariant witnesses (vacuity.py) use E_HOLDS, whose operand is a whole expression of its own: one
    that holds another, or flags beyond always|witness, are refused before anything runs."""
    low = native.Lowered(frontend.load(REPO / "tests/fixtures/coverage/guard.c",
                                       REPO / "tests/fixtures/coverage/guard.toml"))
    assert low.holds_ops and call(low)["error"] is None
    op, parent = low.holds_ops[0]
    nested = array("q", low.img)
    nested[op + 1] = parent  # the operand is the expression holding the E_HOLDS itself
    with pytest.raises(_explore.ExploreError, match="E_HOLDS"):
        call(low, image=nested.tobytes())
    flags = array("q", low.img)
    flags[flags[native.H_INVS] + 2] = 4
    with pytest.raises(_explore.ExploreError, match="invariant flags"):
        call(low, image=flags.tobytes())


def test_random_bytes_are_refused():
    rnd = random.Random(7)
    low = native.Lowered(frontend.load(CORPUS[0]))
    for _ in range(50):
        blob = bytes(rnd.randrange(256) for _ in range(8 * rnd.randrange(1, 200)))
        with pytest.raises(_explore.ExploreError):
            call(low, image=blob)


# ---------------------------------------------------------------- the command line

def cli(*args):
    import json
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "mkverify", "check", *map(str, args)], capture_output=True,
                          text=True, cwd=REPO, env=dict(os.environ, CI="1"), timeout=600)
    assert "Traceback" not in proc.stderr
    doc = json.loads(proc.stdout) if "--format" in args and proc.stdout.strip() else None
    return proc.returncode, doc, proc.stderr


FIXED = ("models/multikernel/fixed", "--spec", "specs/multikernel-fixed.toml")


@pytest.mark.parametrize("args", [("--engine", "python", "-j", "2"), ("--engine", "python", "--fingerprint"),
                                  ("--engine", "python", "--no-symmetry"), ("--max-memory", "12x"),
                                  ("--max-memory", "0"), ("-j", "0")])
def test_native_options_misused_exit_2_with_a_message(args):
    code, _, err = cli("docs/examples/table-fixed.c", *args)
    assert code == 2 and "error" in err.lower()


def test_the_json_stats_say_how_the_native_engine_ran():
    code, doc, _ = cli("docs/examples/table.c", "--format", "json", "-j", "2", "--fingerprint", "--no-symmetry")
    st = doc["models"][0]["stats"]
    assert code == 1 and st["engine"] == "native" and st["jobs"] == 2 and st["storage"] == "fingerprint"
    assert st["symmetry"] is False and 0 <= st["miss_probability"] < 1e-9 and st["state_bytes"] > 0
    code, doc, _ = cli("docs/examples/table.c", "--format", "json", "--engine", "python")
    assert code == 1 and doc["models"][0]["stats"]["engine"] == "python"
    assert "storage" not in doc["models"][0]["stats"]


def test_a_memory_bound_exits_3_with_partial_statistics():
    code, doc, _ = cli(*FIXED, "--format", "json", "--max-memory", "3M", "--no-symmetry")
    m = doc["models"][0]
    assert code == 3 and m["verdict"] == "incomplete" and m["incomplete_reason"].startswith("memory bound")
    assert 0 < m["stats"]["states"] < 663_930


def test_ctrl_c_stops_cleanly_with_partial_statistics():
    """SIGINT during a native run: verdict incomplete ("interrupted"), the statistics so far, a JSON
    document, exit 3 (1 when violations were already found), never a traceback."""
    import json
    import signal
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-m", "mkverify", "check", "models/multikernel/v2", "--spec",
                             "specs/multikernel-v2.toml", "--no-symmetry", "--no-atomic-sections", "-j", "1",
                             "--progress", "--format", "json"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, CI="1"))
    seen = ""
    while "states," not in seen:  # the progress line: the exploration is under way
        ch = proc.stderr.read(1)
        assert ch, f"no progress before the end: {seen}"
        seen += ch
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert "Traceback" not in err
    m = json.loads(out)["models"][0]
    assert m["incomplete_reason"] == "interrupted"
    assert 0 < m["stats"]["states"] < 4_042_688
    assert proc.returncode == (1 if m["findings"] else 3)
