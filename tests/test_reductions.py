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
