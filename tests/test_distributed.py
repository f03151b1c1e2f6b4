"""The native engine spread over partitions (engines/distributed.py, `mkverify check --ray`) finds what
the threaded engine finds.

With 1, 2, 3 and 4 partitions, in this process and as Ray actors, on the shipped models, the check
corpus and generated models: the same reachable states, transitions, depth, verdict, findings and
traces, state for state (the layer ranking makes every partition count give -j 1's choices). A
partition that dies ends the run as incomplete, never ok; the extension refuses malformed streams,
ranks and gids with ExploreError, never a crash.

The Ray tests skip when Ray is not installed (`pip install -e '.[distributed]'`; .ci/run installs
it) and in the sanitized run (tests/test_sanitizers.py), which checks the same C code in this process.
"""
from __future__ import annotations

from array import array
import json
import os
from pathlib import Path
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

pytest.importorskip("numpy", reason="numpy, which ranks the layers, is not installed (pip install -e '.[distributed]')")

from mkverify import _explore, frontend  # noqa: E402
from mkverify.engines import distributed, native  # noqa: E402
from mkverify.result import exit_code, overall_verdict  # noqa: E402

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
CORPUS = sorted([*ROOT.glob("models/checks/*.c"), *ROOT.glob("fixtures/*/*.c")])
SHIPPED = sorted(p for p in (REPO / "models").rglob("*") if p.is_dir() and any(p.glob("*.c")))

SANITIZED = "asan" in os.environ.get("LD_PRELOAD", "")
try:
    if SANITIZED:
        raise ImportError("not under the sanitizers")
    import ray
except ImportError:
    ray = None
needs_ray = pytest.mark.skipif(ray is None,
                               reason="the sanitized run checks the Partition code in this process (above); Ray's "
                                      "own processes would inherit its preloaded libasan" if SANITIZED else
                                      "Ray is not installed (pip install -e '.[distributed]')")


def outcome(r, traces=True):
    """Everything a user sees of a result but the time and how the engine ran (traces=False: of each
    finding its check, place and trace length, not which of the equally short traces it is)."""
    return (r.verdict, r.stats.states, r.stats.transitions, r.stats.depth, r.incomplete_reason, r.notes,
            sorted((f.check, str(f.loc), f.message, [str(s) for s in f.trace]) if traces else
                   (f.check, str(f.loc), len(f.trace)) for f in r.findings), r.coverage, r.invariants)


def load(path):
    return frontend.build(frontend.open_model(path, None), {})


def threads(program, **kw):
    return native.explore(program, jobs=1, **kw)


def spread(program, partitions, backend="local", **kw):
    return distributed.explore(program, partitions=partitions, backend=backend, **kw)


# ---------------------------------------------------------------- partitions in this process

@pytest.mark.parametrize("model", SHIPPED, ids=lambda p: p.name)
@pytest.mark.parametrize("partitions", [1, 2, 3, 4])
def test_partitions_equal_one_thread_on_the_shipped_models(model, partitions):
    program = load(model)
    assert outcome(spread(program, partitions)) == outcome(threads(program))


@pytest.mark.parametrize("model", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_partitions_equal_one_thread_on_the_corpus(model):
    program = frontend.load(model)
    one = threads(program)
    for partitions in (2, 4):
        assert outcome(spread(program, partitions)) == outcome(one)


@pytest.mark.parametrize("model", CORPUS[::3], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_reductions_off_and_fingerprints_agree(model):
    program = frontend.load(model)
    plain = dict(symmetry=False, atomic=False, reduce_private=False)
    assert outcome(spread(program, 3, **plain)) == outcome(threads(program, **plain))
    # fingerprint mode orders equally short traces by gid, which depends on the partitions: their lengths agree
    fp = spread(program, 3, fingerprint=True)
    assert outcome(fp, traces=False) == outcome(threads(program, fingerprint=True), traces=False)


def test_a_model_error_is_the_same_error():
    from mkverify.machine import ModelRuntimeError
    program = frontend.load(ROOT / "bad/runtime-wrong-struct-from-idr.c")
    with pytest.raises(ModelRuntimeError) as one:
        threads(program)
    with pytest.raises(ModelRuntimeError) as three:
        spread(program, 3)
    assert str(three.value) == str(one.value) and three.value.hint == one.value.hint


def test_a_stop_asked_for_ends_the_run_as_incomplete_with_its_reason():
    program = load(REPO / "models/multikernel/fixed")
    asked = []

    def stop():  # limits.py's watch: a reason once the deadline has passed
        asked.append(1)
        return "time limit 1 s reached" if len(asked) >= 3 else None

    r = spread(program, 2, stop=stop, chunk=1000)
    assert r.verdict == "incomplete" and r.incomplete_reason == "time limit 1 s reached"
    assert 0 < r.stats.states < threads(program).stats.states


def test_a_chunk_smaller_than_a_layer_changes_nothing():
    program = load(REPO / "models/multikernel/v2")
    one = threads(program)
    assert outcome(spread(program, 2, chunk=500)) == outcome(one)


def test_the_state_bound_stops_the_run_as_incomplete():
    program = load(REPO / "models/multikernel/fixed")
    r = spread(program, 3, max_states=5000)
    assert r.verdict == "incomplete" and r.incomplete_reason == "state bound 5000 reached"
    # every partition may take the rest of the bound in the round that reaches it
    assert 5000 <= r.stats.states <= 5000 * 3
    whole = threads(program)
    assert spread(program, 3, max_states=whole.stats.states + 1).verdict == whole.verdict == "ok"


def test_depth_bound_and_memory_bound():
    program = load(REPO / "models/multikernel/fixed")
    assert outcome(spread(program, 2, depth=7)) == outcome(threads(program, depth=7))
    r = spread(program, 2, max_memory=2_000_000)
    assert r.verdict == "incomplete" and r.incomplete_reason == "memory bound 2,000,000 bytes reached"
    assert 0 < r.stats.states < threads(program).stats.states


def test_the_stats_say_how_much_crossed_between_partitions():
    program = load(REPO / "models/multikernel/v2")
    one, four = spread(program, 1), spread(program, 4)
    assert four.stats.extra["partitions"] == four.stats.extra["jobs"] == 4
    # one partition sends only the layers' keys and ranks to the driver; four send successors too
    assert 0 < one.stats.extra["exchanged_bytes"] < four.stats.extra["exchanged_bytes"]
    assert four.stats.extra["exchanged_bytes_per_transition"] == round(
        four.stats.extra["exchanged_bytes"] / four.stats.transitions, 2)


# ---------------------------------------------------------------- generated models

from test_native import BODIES, generated  # noqa: E402  (the agreement tests' generator)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bodies=BODIES, cpus=st.integers(2, 3), fail=st.booleans(), partitions=st.integers(2, 4))
def test_partitions_agree_on_generated_models(tmp_path_factory, bodies, cpus, fail, partitions):
    program = generated(tmp_path_factory, bodies, cpus, fail)
    one = threads(program)
    r = spread(program, partitions)
    if one.incomplete_reason:  # the bound is reached in both; how far past it a round went varies
        assert r.incomplete_reason == one.incomplete_reason
        assert r.stats.states >= program.bounds.max_states
    else:
        assert outcome(r) == outcome(one)


# ---------------------------------------------------------------- the extension validates what crosses

@pytest.fixture(scope="module")
def pair():
    """What builds a partition of v2 split in two: (image, widths, biases, partitions)."""
    program = load(REPO / "models/multikernel/v2")
    low = native.Lowered(program, symmetry=False, atomic=False)
    widths, los = low.layout()
    args = (low.img.tobytes(), widths, los, 2)
    return args


def fresh(args, index):
    return _explore.Partition(*args, index)


def streams_into(args, target, rounds=6):
    """Two partitions run at least `rounds` layers, until the other sends partition `target` something;
    returns `target` and that stream, not yet absorbed."""
    hosts = [distributed.Host(*args, i) for i in range(2)]
    for h in hosts:
        h.p.live()
    begin = [None, None]
    for layer in range(1000):
        outs = [h.expand(1 << 20, b) for h, b in zip(hosts, begin)]
        while any(o[0]["overflow"] is not None for o in outs):  # a value outgrew its slot: widen, expand again
            over = [o[0]["overflow"] for o in outs if o[0]["overflow"] is not None]
            for h in hosts:
                h.p.widen(over)
            outs = [h.expand(1 << 20) for h in hosts]
        if layer >= rounds and outs[1 - target][0]["streams"]:
            return hosts[target].p, outs[1 - target][1 + target]
        done = [h.absorb(-1, True, *[outs[src][1 + q] for src in range(2)]) for q, h in enumerate(hosts)]
        begin = [(layer + 1, r) for r in distributed.rank_layer([d["end"][1] for d in done])]
    raise AssertionError("no stream between the partitions")


def test_a_stream_round_trips(pair):
    receiver, stream = streams_into(pair, 0)
    before = receiver.result()["states"]
    receiver.absorb(-1, [None, stream])
    assert receiver.result()["states"] > before


M64 = (1 << 64) - 1


def wire_sum(b: bytes) -> int:
    """The checksum a stream ends with (_explore.c, wire_sum)."""
    def mix64(h):
        h ^= h >> 33
        h = (h * 0xff51afd7ed558ccd) & M64
        h ^= h >> 33
        h = (h * 0xc4ceb9fe1a85ec53) & M64
        return h ^ (h >> 33)
    h = 0x9e3779b97f4a7c15 ^ len(b)
    k = 0
    while k + 8 <= len(b):
        h = ((h ^ int.from_bytes(b[k:k + 8], "little")) * 0xff51afd7ed558ccd) & M64
        h ^= h >> 32
        k += 8
    h = ((h ^ int.from_bytes(b[k:], "little")) * 0xff51afd7ed558ccd) & M64
    return mix64(h)


def test_the_checksum_is_the_one_streams_carry(pair):
    _, stream = streams_into(pair, 0, rounds=2)
    assert int.from_bytes(stream[-8:], "little") == wire_sum(stream[:-8])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.data())
def test_corrupted_streams_raise_or_run_but_never_crash(pair, data):
    """Damage is refused by the checksum; with the checksum made right again, the parser's own checks
    refuse what does not parse, or the stream is inserted: never a crash."""
    receiver, stream = streams_into(pair, 0, rounds=2)
    b = bytearray(stream[:-8])
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(b) - 1))
        b[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        b = b[:data.draw(st.integers(0, len(b)))]
    if bytes(b) != stream[:-8]:
        with pytest.raises(_explore.ExploreError, match="checksum|malformed"):
            receiver.absorb(-1, [None, bytes(b) + stream[-8:]])
    try:
        receiver.absorb(-1, [None, bytes(b) + wire_sum(bytes(b)).to_bytes(8, "little")])
    except _explore.ExploreError as e:
        assert "checksum" not in str(e)


def test_what_a_partition_is_given_is_checked(pair):
    img, widths, los, parts = pair
    for bad in [(img, widths, los, 0, 0), (img, widths, los, 2, 2), (img, widths, los, 2, -1),
                (img, widths[:-1], los, 2, 0), (img[:-8], widths, los, 2, 0)]:
        with pytest.raises(_explore.ExploreError):
            _explore.Partition(*bad)
    p = fresh(pair, 0)
    with pytest.raises(_explore.ExploreError):
        p.absorb(-1, [None])  # one stream for two partitions
    with pytest.raises(_explore.ExploreError):
        p.absorb(-1, [b"", None])  # its own stream is not passed
    with pytest.raises(_explore.ExploreError):
        p.absorb(-2, [None, None])
    with pytest.raises(_explore.ExploreError):
        p.expand(0)
    with pytest.raises(_explore.ExploreError):
        p.widen([(len(widths), 1)])
    with pytest.raises(_explore.ExploreError):
        p.parents(array("Q", [1]).tobytes())  # an odd gid is partition 1's
    with pytest.raises(_explore.ExploreError):
        p.parents(b"\0" * 7)
    with pytest.raises(_explore.ExploreError):
        p.next_layer(5, None)  # layers go up by one
    p.live()
    p.expand(1 << 20)
    p.absorb(-1, [None, fresh(pair, 1).expand(1 << 20)[1][0]])
    live, keys = p.end_layer()
    if keys:
        with pytest.raises(_explore.ExploreError):
            p.next_layer(1, keys[:-8])  # a rank short
        with pytest.raises(_explore.ExploreError):
            p.next_layer(1, None)  # exact mode needs ranks
    with pytest.raises(_explore.ExploreError):
        _explore.Partition.__init__(p, *pair, 0)  # once


def test_a_stream_of_another_layout_is_refused(pair):
    receiver, stream = streams_into(pair, 0, rounds=1)
    other = fresh(pair, 1)
    other.widen([(0, 1 << 40)])  # a wider layout
    other.live()
    _, streams = other.expand(1 << 20)
    with pytest.raises(_explore.ExploreError, match="another layout"):
        receiver.absorb(-1, [None, streams[0]])


# ---------------------------------------------------------------- over Ray

@pytest.fixture(scope="module")
def ray_runtime():
    import logging
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield ray
    ray.shutdown()


@needs_ray
@pytest.mark.parametrize("model", SHIPPED, ids=lambda p: p.name)
def test_ray_equals_one_thread_on_the_shipped_models(ray_runtime, model):
    program = load(model)
    one = outcome(threads(program))
    for partitions in (1, 2, 4):
        assert outcome(spread(program, partitions, backend="ray")) == one


@needs_ray
@pytest.mark.parametrize("model", CORPUS[::4], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_ray_equals_one_thread_on_the_corpus(ray_runtime, model):
    program = frontend.load(model)
    assert outcome(spread(program, 2, backend="ray")) == outcome(threads(program))


@needs_ray
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bodies=BODIES, cpus=st.integers(2, 3), fail=st.booleans(), partitions=st.sampled_from([1, 2, 4]))
def test_ray_agrees_on_generated_models(ray_runtime, tmp_path_factory, bodies, cpus, fail, partitions):
    program = generated(tmp_path_factory, bodies, cpus, fail)
    one = threads(program)
    r = spread(program, partitions, backend="ray")
    if one.incomplete_reason:
        assert r.incomplete_reason == one.incomplete_reason
    else:
        assert outcome(r) == outcome(one)


@needs_ray
@pytest.mark.parametrize("at_layer", [1, 20])
def test_a_partition_that_dies_makes_the_run_incomplete(ray_runtime, at_layer):
    program = load(REPO / "models/multikernel/fixed")  # ok when complete: a lost partition must not say so
    whole = threads(program)
    assert whole.verdict == "ok"

    def kill(layer, cluster):
        if layer == at_layer:
            ray_runtime.kill(cluster.actors[1])

    r = distributed.explore(program, partitions=3, backend="ray", on_barrier=kill)
    assert r.verdict == "incomplete" and exit_code(overall_verdict([r])) == 3
    assert r.incomplete_reason.startswith("partition 1 of 3 was lost")
    # the statistics of the last barrier all partitions passed
    assert 0 < r.stats.states < whole.stats.states and r.stats.depth == at_layer


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "mkverify", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "CI": "", **(env or {})}, timeout=600)


@needs_ray
def test_mkverify_check_ray_prints_what_the_threads_print():
    v2 = ["models/multikernel/v2", "--spec", "specs/multikernel-v2.toml"]
    plain = cli("check", *v2, "--format", "json", "-j", "1")
    spread_ = cli("check", *v2, "--format", "json", "--ray", "--partitions", "2", "--progress")
    assert plain.returncode == spread_.returncode == 1, spread_.stderr
    a, b = json.loads(plain.stdout), json.loads(spread_.stdout)
    import jsonschema
    jsonschema.validate(b, json.loads((REPO / "mkverify/schemas/output.schema.json").read_text()))
    for m in b["models"]:
        assert m["stats"]["partitions"] == 2 and m["stats"]["exchanged_bytes"] > 0
    for x in (a, b):
        for m in x["models"]:
            for k in ("seconds", "jobs", "memory_bytes", "bytes_per_state", "partitions", "exchanged_bytes",
                      "exchanged_bytes_per_transition"):
                m["stats"].pop(k, None)
    assert a == b
    assert "B/state exchanged" in spread_.stderr  # the progress line, summed over partitions


@needs_ray
def test_mkverify_check_ray_with_a_memory_bound_exits_3():
    r = cli("check", "models/multikernel/fixed", "--ray", "--partitions", "2", "--max-memory", "3M",
            "--format", "json")
    assert r.returncode == 3, r.stderr
    m = json.loads(r.stdout)["models"][0]
    assert m["verdict"] == "incomplete" and m["incomplete_reason"] == "memory bound 3,145,728 bytes reached"
    assert m["stats"]["states"] > 0


@pytest.mark.parametrize("args", [["--ray", "-j", "2"], ["--partitions", "2"], ["--ray", "--engine", "python"],
                                  pytest.param(["--ray", "127.0.0.1:1"], marks=needs_ray)])
def test_ray_usage_errors_exit_2(args):
    r = cli("check", "models/multikernel/fixed", *args)
    assert r.returncode == 2 and "error:" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_without_ray_installed_ray_is_a_usage_error():
    code = ("import sys; sys.modules['ray'] = None; from mkverify.cli import main; "
            "sys.argv = ['mkverify', 'check', '--ray', 'models/multikernel/fixed']; main()")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 2 and "--ray needs Ray, which is not installed" in r.stderr
    assert "mkverify[distributed]" in r.stderr and "Traceback" not in r.stderr
