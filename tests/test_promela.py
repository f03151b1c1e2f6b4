"""Cross-check against SPIN: `mkverify export --promela` writes a model whose
state graph is mkverify's, step for step, so SPIN's depth-first search with
-DNOREDUCE must store exactly as many states as mkverify's enumerator visits
without symmetry reduction (the native engine, which tests/test_native.py
holds equal to the reference explorer), and report errors exactly when mkverify reports violations
(docs/promela.md, mkverify/export/promela.py).

Every model of the corpus (tests/models/checks, tests/fixtures), a few
models written here for the primitives and operators the corpus does not
use, and ~20 models from test_reductions.py's generator are checked; the
SPIN runs go in parallel. Trigger models are compared on their state count
too: a fatal violation sends SPIN back to the (already stored) initial state
and a state-property violation stores the state and disables every step, so
both graphs have the same states whatever the verdict. A model whose
mkverify search is incomplete (a bound was hit) has no count to compare.
The repaired multikernel model (663,930 states, ~20 s in SPIN) runs every
time; the posted one (4,042,688 states, ~2 minutes and 4.7 GB in SPIN) only
with MKVERIFY_SLOW_TESTS=1.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
import os
from pathlib import Path
import re
import shutil
import subprocess
import tempfile

from click.testing import CliRunner
import pytest

from mkverify import frontend
from mkverify.cli import main
from mkverify.diag import UsageError
from mkverify.engines.native import explore as native_explore
from mkverify.export.promela import to_promela

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted([*ROOT.glob("tests/models/checks/*.c"), *ROOT.glob("tests/fixtures/*/*.c")])
SPIN = shutil.which("spin")
CC = shutil.which("gcc")
needs_spin = pytest.mark.skipif(not (SPIN and CC), reason="needs `spin` and `gcc` on PATH (e.g. apt install spin gcc)")
SLOW = os.environ.get("MKVERIFY_SLOW_TESTS") == "1"


@dataclass
class Cross:
    """One model checked by both: mkverify's result and what pan said."""
    mk: object           # ModelResult
    states: int | None   # pan's "states, stored"
    errors: int | None   # pan's "errors: N"
    output: str


def run_spin(text: str, opt: str = "-O0", pan=("-m1000000", "-w20")) -> tuple:
    """(states stored, errors, pan's output) of a full search of the Promela text."""
    with tempfile.TemporaryDirectory(prefix="mkverify-spin-") as d:
        (Path(d) / "model.pml").write_text(text)
        for cmd in (["spin", "-a", "model.pml"],
                    ["gcc", opt, "-fwrapv", "-w", "-DSAFETY", "-DNOREDUCE", "-DMEMLIM=4000", "-o", "pan", "pan.c"]):
            proc = subprocess.run(cmd, cwd=d, capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, f"{' '.join(cmd)}:\n{proc.stdout}{proc.stderr}"
        # -c0: count every error and go on; -m: DFS depth, with each step's atomic moves
        proc = subprocess.run(["./pan", "-c0", *pan], cwd=d, capture_output=True, text=True, timeout=600)
    out = proc.stdout
    assert "max search depth too small" not in out, out
    states = re.search(r"^\s*(\d+) states, stored", out, re.M)
    errors = re.search(r"errors: (\d+)", out)
    return (int(states.group(1)) if states else None, int(errors.group(1)) if errors else None, out)


def cross(program, reduce_private: bool = True, opt: str = "-O0", max_states: int = 100_000, pan=None) -> Cross:
    mk = native_explore(program, max_states=program.bounds.max_states or max_states, reduce_private=reduce_private,
                        jobs=1, symmetry=False, atomic=False)
    if mk.incomplete_reason and not mk.incomplete_reason.startswith("an IDR"):
        return Cross(mk, None, None, "")  # a state or depth bound: SPIN would explore past it
    states, errors, out = run_spin(to_promela(program, reduce_private), opt, *([pan] if pan else []))
    return Cross(mk, states, errors, out)


def assert_agree(c: Cross, name: str):
    if c.mk.incomplete_reason:
        # the IDR bound: mkverify stops there; the export asserts instead (a fatal step)
        assert "V_bound" in c.output or c.states is None, name
        pytest.skip(f"{name}: mkverify's search is incomplete ({c.mk.incomplete_reason}): no count to compare")
    assert c.states == c.mk.stats.states, \
        f"{name}: SPIN stored {c.states} states, mkverify explored {c.mk.stats.states}"
    assert (c.errors > 0) == (c.mk.verdict == "violations"), \
        f"{name}: SPIN reports {c.errors} errors, mkverify's verdict is {c.mk.verdict}\n{c.output}"


def _parallel(jobs: dict) -> dict:
    """Run callables (already holding loaded programs: the front end stays on this thread) in parallel."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {k: pool.submit(f) for k, f in jobs.items()}
        return {k: f.result() for k, f in futures.items()}


# ---------------------------------------------------------------- the corpus


@pytest.fixture(scope="module")
def corpus():
    programs = {m: frontend.load(m) for m in CORPUS}
    return _parallel({m: (lambda p=p: cross(p)) for m, p in programs.items()})


@needs_spin
@pytest.mark.parametrize("model", CORPUS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_spin_agrees_on_the_corpus(model, corpus):
    assert_agree(corpus[model], model.name)


def test_the_corpus_is_not_empty():
    assert len(CORPUS) > 60


# ---------------------------------------------------------------- what the corpus does not use

# Self-checking: BUG_ON fires exactly when a value differs from C's, so a wrong encoding of
# an operator or of a narrow or unsigned type is a SPIN error where mkverify finds none.
ARITH = """
static int sink;

void arith(int a, int b)
{
	unsigned int u = a;
	unsigned char uc = a;
	signed char sc = a;
	short s = a;
	bool t = a;
	long l = a;
	int q = 0, r = 0;

	BUG_ON(a == 300 && uc != 44);
	BUG_ON(a == 200 && sc != -56);
	BUG_ON(a == 40000 && s != -25536);
	BUG_ON(a == -1 && uc != 255);
	BUG_ON(a == 2 && t != 1);
	BUG_ON(a == -1 && !(u > 100));
	BUG_ON(a == -1 && u < 100);
	BUG_ON(a == -1 && (u >> 28) != 15);
	BUG_ON(a == -8 && (a >> 1) != -4);
	BUG_ON((a << 2) != a * 4);
	BUG_ON((a ^ b) != ((a | b) & ~(a & b)));
	BUG_ON(~a != -a - 1);
	BUG_ON(l * 3 != a + a + a);
	BUG_ON(a == 200 && (unsigned char)(uc + 100) != 44);
	if (b != 0) {
		q = a / b;
		r = a % b;
		BUG_ON(q * b + r != a);
		BUG_ON(r != 0 && (r < 0) != (a < 0));
	}
	sink = q - r;
}
"""
ARITH_SPEC = """
[bounds]
cpus = 1
[[entry]]
function = "arith"
args = { a = [-8, -1, 0, 2, 7, 200, 300, 40000], b = [-3, 0, 2] }
"""

PRIMS = """
struct obj {
	refcount_t rc;
	atomic_t at;
	struct cpumask mask;
	struct kref ref;
};

static struct obj *g;
static DEFINE_MUTEX(lock);

static void obj_release(struct kref *ref)
{
	struct obj *o = container_of(ref, struct obj, ref);

	kfree(o);
}

void create(void)
{
	struct obj *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return;
	refcount_set(&o->rc, 1);
	atomic_set(&o->at, 2);
	kref_init(&o->ref);
	cpumask_set_cpu(1, &o->mask);
	mutex_lock(&lock);
	if (g) {
		mutex_unlock(&lock);
		kref_put(&o->ref, obj_release);
		return;
	}
	g = o;
	mutex_unlock(&lock);
}

void poke(int cpu)
{
	struct obj *o;

	mutex_lock(&lock);
	o = g;
	if (o) {
		atomic_inc(&o->at);
		atomic_sub(2, &o->at);
		if (atomic_dec_and_test(&o->at))
			atomic_set(&o->at, 2);
		refcount_inc(&o->rc);
		BUG_ON(refcount_read(&o->rc) < 2);
		if (refcount_dec_and_test(&o->rc))
			BUG();
		if (refcount_inc_not_zero(&o->rc))
			refcount_dec_and_test(&o->rc);
		WARN_ON(kref_read(&o->ref) != 1);
		cpumask_clear_cpu(cpu, &o->mask);
		if (cpumask_empty(&o->mask))
			cpumask_set_cpu(cpu, &o->mask);
		else
			cpumask_clear(&o->mask);
	}
	mutex_unlock(&lock);
}

void destroy(void)
{
	struct obj *o;

	mutex_lock(&lock);
	o = g;
	g = NULL;
	mutex_unlock(&lock);
	if (o)
		kref_put(&o->ref, obj_release);
}
"""
PRIMS_SPEC = """
[bounds]
cpus = 2
[bounds.pools]
obj = 1
[[entry]]
function = "create"
[[entry]]
function = "poke"
args = {{ cpu = [{cpus}] }}
[[entry]]
function = "destroy"
"""

EXTRA = {
    "arith": (ARITH, ARITH_SPEC, "ok"),
    "prims": (PRIMS, PRIMS_SPEC.format(cpus="0, 1"), "ok"),
    "prims-bad-cpu": (PRIMS, PRIMS_SPEC.format(cpus="1, 7"), "violations"),
}


@pytest.fixture(scope="module")
def extra(tmp_path_factory):
    programs = {}
    for name, (c, spec, _) in EXTRA.items():
        d = tmp_path_factory.mktemp(name)
        (d / "m.c").write_text(c)
        (d / "m.toml").write_text(spec)
        programs[name] = frontend.load(d / "m.c")
    jobs = {(n, rp): (lambda p=p, rp=rp: cross(p, reduce_private=rp))
            for n, p in programs.items() for rp in (True, False)}
    return _parallel(jobs)


@needs_spin
@pytest.mark.parametrize("reduce_private", [True, False], ids=["reduce-private", "no-reduce-private"])
@pytest.mark.parametrize("name", sorted(EXTRA))
def test_spin_agrees_on_the_other_primitives_and_operators(name, reduce_private, extra):
    c = extra[(name, reduce_private)]
    assert c.mk.verdict == EXTRA[name][2], [f.message for f in c.mk.findings]
    assert_agree(c, name)


# ---------------------------------------------------------------- generated models

def _generated():
    """~20 models from test_reductions.py's generator (the same examples every run)."""
    from hypothesis import given, settings, strategies as st
    from test_reductions import _BODIES, _SPEC, _model

    examples = []

    @settings(max_examples=20, derandomize=True, database=None, deadline=None)
    @given(bodies=_BODIES, fail=st.booleans())
    def collect(bodies, fail):
        entries = "\n".join(f'[[entry]]\nfunction = "entry{n}"' for n in range(len(bodies)))
        examples.append((_model(bodies), _SPEC.format(fail=str(fail).lower(), entries=entries)))
    collect()
    return examples


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    programs = []
    for c, spec in _generated():
        d = tmp_path_factory.mktemp("gen")
        (d / "m.c").write_text(c)
        (d / "m.toml").write_text(spec)
        programs.append((c, frontend.load(d / "m.c")))
    results = _parallel({k: (lambda p=p: cross(p)) for k, (_, p) in enumerate(programs)})
    return [(c, results[k]) for k, (c, _) in enumerate(programs)]


@needs_spin
def test_spin_agrees_on_generated_models(generated):
    compared = 0
    for c, result in generated:
        if result.mk.incomplete_reason:
            continue  # the generator's max_states bound cut mkverify's search: nothing to compare
        assert result.states == result.mk.stats.states, c
        assert (result.errors > 0) == (result.mk.verdict == "violations"), c
        compared += 1
    assert compared >= 10, f"only {compared} generated models were small enough to compare"


# ---------------------------------------------------------------- the subject


@needs_spin
def test_spin_agrees_on_the_repaired_multikernel_model():
    program = frontend.load(ROOT / "models" / "multikernel" / "fixed")
    c = cross(program, opt="-O1", max_states=0, pan=("-m4000000", "-w24"))
    assert c.mk.verdict == "ok"
    assert_agree(c, "models/multikernel/fixed")


@needs_spin
@pytest.mark.skipif(not SLOW, reason="about 2 minutes and 4.7 GB in SPIN (4,042,688 states): set "
                                     "MKVERIFY_SLOW_TESTS=1")
def test_spin_agrees_on_the_posted_multikernel_model():
    program = frontend.load(ROOT / "models" / "multikernel" / "v2")
    c = cross(program, opt="-O1", max_states=0, pan=("-m8000000", "-w26"))
    assert c.mk.verdict == "violations"
    assert_agree(c, "models/multikernel/v2")


# ---------------------------------------------------------------- the command line


def test_export_writes_promela_to_stdout_and_to_a_file(tmp_path):
    model = ROOT / "tests" / "fixtures" / "machine" / "lock.c"
    runner = CliRunner()
    res = runner.invoke(main, ["export", "--promela", str(model)])
    assert res.exit_code == 0, res.output
    assert "proctype step()" in res.output and "d_step" in res.output
    out = tmp_path / "lock.pml"
    res = runner.invoke(main, ["export", "--promela", "--no-reduce-private", "-o", str(out), str(model)])
    assert res.exit_code == 0 and res.output == ""
    assert "reduce_private off" in out.read_text()


@pytest.mark.parametrize("args, message", [
    (["export", "tests/fixtures/machine/lock.c"], "name the format"),
    (["export", "--promela", "no/such/model.c"], "no such file"),
    (["export", "--promela", "-o", "no/such/dir/m.pml", "tests/fixtures/machine/lock.c"], "cannot write"),
])
def test_export_bad_input_exits_2(args, message, monkeypatch):
    monkeypatch.chdir(ROOT)
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output


def test_what_cannot_be_exported_is_a_usage_error():
    program = frontend.load(ROOT / "tests" / "fixtures" / "machine" / "lock.c", None, {"cpus": 40})
    with pytest.raises(UsageError, match="32-bit"):
        to_promela(program)
