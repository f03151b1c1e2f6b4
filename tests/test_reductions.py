"""Soundness of the private-object reduction: the same verdicts and the same
findings (check and location) with and without it, on every model of the
test corpus; the state counts of both are printed (pytest -s) so a reader
sees what it saves."""
from pathlib import Path

import pytest

from mkverify import frontend
from mkverify.engines.reference import explore

ROOT = Path(__file__).resolve().parent
MODELS = sorted([*ROOT.glob("models/checks/*.c"), *ROOT.glob("fixtures/*/*.c")])


def _key(result):
    return result.verdict, sorted({(f.check, f.loc.file, f.loc.line, f.loc.col) for f in result.findings})


@pytest.mark.parametrize("model", MODELS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_private_reduction_keeps_every_verdict_and_finding(model):
    program = frontend.load(model)
    full = explore(program, reduce_private=False)
    reduced = explore(program, reduce_private=True)
    assert _key(reduced) == _key(full)
    assert reduced.stats.states <= full.stats.states
    # a trace can only get shorter: folded accesses are part of another step
    shortest_full = {(f.check, f.loc): len(f.trace) for f in full.findings}
    for f in reduced.findings:
        assert len(f.trace) <= shortest_full[(f.check, f.loc)]
    print(f"{model.name}: {full.stats.states} states without, {reduced.stats.states} with")


def test_the_corpus_is_not_empty():
    assert len(MODELS) > 40


# ---------------------------------------------------------------- generated models
# Small random lifecycles: two host CPUs run entry points built from kernel-style
# statements over one pool, one published pointer and one lock. Whatever they do
# (leak, double put, use after free, unlock of an unheld lock...), the verdict and the
# findings must not depend on the reduction.

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_STATEMENTS = (
    # create, private until published
    "o = kzalloc(sizeof(*o), GFP_KERNEL);\n\tif (o) {\n\t\tkref_init(&o->ref);\n\t\to->v = 1;\n\t}",
    # publish, under the lock or racy
    "mutex_lock(&lock);\n\tif (o && !g)\n\t\tg = o;\n\tmutex_unlock(&lock);",
    "if (o)\n\t\tg = o;",
    # look up: with a reference, with get_unless_zero, or raw
    "mutex_lock(&lock);\n\to = g;\n\tif (o)\n\t\tkref_get(&o->ref);\n\tmutex_unlock(&lock);",
    "mutex_lock(&lock);\n\to = g;\n\tif (o && !kref_get_unless_zero(&o->ref))\n\t\to = NULL;\n\tmutex_unlock(&lock);",
    "o = g;",
    # unpublish
    "mutex_lock(&lock);\n\tif (o && g == o)\n\t\tg = NULL;\n\tmutex_unlock(&lock);",
    # use, put, free
    "if (o)\n\t\tkref_put(&o->ref, obj_release);",
    "if (o && o->v == 1)\n\t\to->v = 2;",
    "if (o) {\n\t\tmutex_lock(&o->lock);\n\t\to->v = 3;\n\t\tmutex_unlock(&o->lock);\n\t}",
    "if (o)\n\t\tkfree(o);",
    "if (o)\n\t\tlist_add(&o->node, &objs);",
    "if (o)\n\t\tlist_del_init(&o->node);",
    "o = NULL;",
)

_PRELUDE = """
struct obj { int v; struct kref ref; struct mutex lock; struct list_head node; };
static struct obj *g;
static DEFINE_MUTEX(lock);
static LIST_HEAD(objs);

static void obj_release(struct kref *ref)
{
	struct obj *o = container_of(ref, struct obj, ref);

	if (g == o)
		g = NULL;
	kfree(o);
}
"""

_SPEC = """
[bounds]
cpus = 2
alloc_can_fail = {fail}
max_states = 20000
[bounds.pools]
obj = 2
{entries}
"""


def _model(bodies):
    funcs = []
    for n, body in enumerate(bodies):
        lines = "\n".join(f"\t{_STATEMENTS[k]}" for k in body)
        funcs.append(f"void entry{n}(void)\n{{\n\tstruct obj *o = NULL;\n\n{lines}\n}}\n")
    return _PRELUDE + "\n" + "\n".join(funcs)


_BODIES = st.lists(st.lists(st.integers(0, len(_STATEMENTS) - 1), min_size=2, max_size=8), min_size=2, max_size=3)


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bodies=_BODIES, fail=st.booleans())
def test_private_reduction_agrees_on_generated_models(tmp_path_factory, bodies, fail):
    d = tmp_path_factory.mktemp("gen")
    (d / "m.c").write_text(_model(bodies))
    entries = "\n".join(f'[[entry]]\nfunction = "entry{n}"' for n in range(len(bodies)))
    (d / "m.toml").write_text(_SPEC.format(fail=str(fail).lower(), entries=entries))
    program = frontend.load(d / "m.c")
    full = explore(program, reduce_private=False)
    reduced = explore(program, reduce_private=True)
    if full.incomplete_reason or reduced.incomplete_reason:
        return  # a bound cut a search (even one that found violations): not comparable
    assert _key(reduced) == _key(full), _model(bodies)
    assert reduced.stats.states <= full.stats.states


# ---------------------------------------------------------------- reductions of the C enumerator
# Each is switchable, and each keeps the verdict, the findings (check and location) and the
# length of the shortest trace of every finding; the state counts of both are printed (pytest -s).

from mkverify.engines import native  # noqa: E402


def _shortest(result):
    out = {}
    for f in result.findings:
        k = (f.check, f.loc.file, f.loc.line, f.loc.col)
        out[k] = min(out.get(k, 1 << 30), len(f.trace))
    return out


def _same_but_smaller(full, reduced, label):
    assert reduced.verdict == full.verdict, label
    assert _shortest(reduced) == _shortest(full), label
    assert reduced.stats.states <= full.stats.states
    # a state's orbit is reached as early as its closest member: the deepest layer can only get
    # shallower (kzalloc takes the first free slot, so some slot renamings of a state lie deeper)
    assert reduced.stats.depth <= full.stats.depth


def _generated(tmp_path_factory, bodies, fail, cpus=2):
    """A generated model (the statements above) as a program, with `cpus` host CPUs."""
    d = tmp_path_factory.mktemp("gen")
    (d / "m.c").write_text(_model(bodies))
    entries = "\n".join(f'[[entry]]\nfunction = "entry{n}"' for n in range(len(bodies)))
    (d / "m.toml").write_text(_SPEC.replace("cpus = 2", f"cpus = {cpus}").format(
        fail=str(fail).lower(), entries=entries))
    return frontend.load(d / "m.c")


@pytest.mark.parametrize("model", MODELS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_symmetry_keeps_every_verdict_finding_and_trace_length(model):
    program = frontend.load(model)
    full = native.explore(program, symmetry=False)
    reduced = native.explore(program, symmetry=True)
    _same_but_smaller(full, reduced, model.name)
    print(f"{model.name}: {full.stats.states} states without symmetry (CPUs and pool slots), "
          f"{reduced.stats.states} with")


def test_symmetry_on_the_multikernel_model():
    root = ROOT.parent
    program = frontend.load(root / "models/multikernel/v2", root / "specs/multikernel-v2.toml")
    full = native.explore(program, symmetry=False)
    reduced = native.explore(program, symmetry=True)
    _same_but_smaller(full, reduced, "multikernel v2")
    assert reduced.stats.states < 0.5 * full.stats.states  # two host CPUs, three pools of two slots
    print(f"multikernel v2: {full.stats.states} states without symmetry, {reduced.stats.states} with")


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bodies=_BODIES, fail=st.booleans(), cpus=st.integers(2, 4))
def test_symmetry_agrees_on_generated_models(tmp_path_factory, bodies, fail, cpus):
    program = _generated(tmp_path_factory, bodies, fail, cpus)
    full = native.explore(program, symmetry=False)
    reduced = native.explore(program, symmetry=True)
    if full.incomplete_reason or reduced.incomplete_reason:
        return
    _same_but_smaller(full, reduced, _model(bodies))


# ---------------------------------------------------------------- atomic sections
# A step goes on through left movers (an access every access of which holds a lock held
# here, or an unlock): the same verdicts and findings, traces no longer (steps merge).


def _same_findings_shorter_traces(full, reduced, label):
    assert reduced.verdict == full.verdict, label
    a, b = _shortest(full), _shortest(reduced)
    assert set(a) == set(b), label
    assert all(b[k] <= a[k] for k in a), label
    assert reduced.stats.states <= full.stats.states


@pytest.mark.parametrize("model", MODELS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_atomic_sections_keep_every_verdict_and_finding(model):
    program = frontend.load(model)
    full = native.explore(program, atomic=False, symmetry=False)
    reduced = native.explore(program, atomic=True, symmetry=False)
    _same_findings_shorter_traces(full, reduced, model.name)
    print(f"{model.name}: {full.stats.states} states without atomic sections, {reduced.stats.states} with")


def test_atomic_sections_on_the_multikernel_model():
    root = ROOT.parent
    program = frontend.load(root / "models/multikernel/v2", root / "specs/multikernel-v2.toml")
    full = native.explore(program, atomic=False, symmetry=False)
    reduced = native.explore(program, atomic=True, symmetry=False)
    _same_findings_shorter_traces(full, reduced, "multikernel v2")
    print(f"multikernel v2: {full.stats.states} states without atomic sections, {reduced.stats.states} with")


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bodies=_BODIES, fail=st.booleans(), cpus=st.integers(2, 3))
def test_atomic_sections_agree_on_generated_models(tmp_path_factory, bodies, fail, cpus):
    program = _generated(tmp_path_factory, bodies, fail, cpus)
    full = native.explore(program, atomic=False, symmetry=False)
    reduced = native.explore(program, atomic=True, symmetry=False)
    if full.incomplete_reason or reduced.incomplete_reason:
        return
    _same_findings_shorter_traces(full, reduced, _model(bodies))
