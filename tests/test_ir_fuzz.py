"""Generated IR programs are validated or rejected cleanly (issue 6).

`ir.validate` is what stands between any program and the engines: the front end's output goes
through it, and the engines assume what it checks. Hypothesis mutates the IR of real models, keeping
each field's kind (an expression for an expression, an int for an int, a name for a name, a tuple
of instructions for one), so the programs are well-typed but may be wrong in every other way. Each
must either be refused with an IRError (or another MkverifyError: a diagnostic, never a traceback),
or be run, briefly, by both explicit engines, which may then only report findings or a model error.
Neither may crash, and the C enumerator may not refuse an image of a validated program.
"""
from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from mkverify import frontend, ir
from mkverify.diag import MkverifyError
from mkverify.engines import native, reference

REPO = Path(__file__).resolve().parent.parent
SOURCES = [REPO / "tests/models/checks" / name for name in (
    "use-after-free-trigger.c", "deadlock-trigger-abba.c", "invariant-clean.c", "leak-trigger.c",
    "dangling-reference-trigger-idr.c", "assertion-trigger-list.c")]
PROGRAMS = {}


def program(k: int) -> ir.Program:
    if k not in PROGRAMS:
        PROGRAMS[k] = frontend.load(SOURCES[k])
    return PROGRAMS[k]


INTS = st.sampled_from([0, 1, -1, 2, 3, 7, 8, 63, 64, 65, 255, 256, 1 << 31, -(1 << 31), (1 << 63) - 1, -(1 << 63),
                        1 << 64, 10 ** 6])
FAMILIES = [tuple(ir.EXPR_NODES), tuple(ir.INSTR_NODES), (ir.IntT, ir.PtrT, ir.StructT, ir.ArrayT, ir.OpaqueT,
                                                          ir.VoidT)]


def nodes(x, path=()):
    """(path, value) of every place in the tree that a mutation may replace."""
    yield path, x
    if is_dataclass(x):
        for f in fields(x):
            if f.name != "loc":
                yield from nodes(getattr(x, f.name), path + (f.name,))
    elif isinstance(x, tuple):
        for i, y in enumerate(x):
            yield from nodes(y, path + (i,))


def put(x, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(x, tuple):
        return x[:head] + (put(x[head], rest, value),) + x[head + 1:]
    return replace(x, **{head: put(getattr(x, head), rest, value)})


def same_kind(data, old, pool, names):
    """A value to put where `old` was: of its kind, drawn from the program or made up."""
    if isinstance(old, bool):
        return not old
    if isinstance(old, int):
        return data.draw(st.one_of(INTS, st.sampled_from([old + 1, old - 1])))
    if isinstance(old, str):
        return data.draw(st.sampled_from(sorted(names) + ["", "nosuch", old + "_"]))
    if isinstance(old, tuple):
        if not old:
            return old
        how = data.draw(st.sampled_from(["drop", "dup", "swap"]))
        i = data.draw(st.integers(0, len(old) - 1))
        if how == "drop":
            return old[:i] + old[i + 1:]
        if how == "dup":
            return old[:i] + (old[i],) + old[i:]
        j = data.draw(st.integers(0, len(old) - 1))
        lst = list(old)
        lst[i], lst[j] = lst[j], lst[i]
        return tuple(lst)
    if is_dataclass(old):
        family = next((f for f in FAMILIES if isinstance(old, f)), None)
        if family is None:
            return old
        candidates = [v for v in pool if isinstance(v, family)]
        return data.draw(st.sampled_from(candidates)) if candidates else old
    return old


#: CI runs a fixed set of examples; a long run draws new ones (docs/reliability.md):
#: MKVERIFY_IR_FUZZ_EXAMPLES=20000 python -m pytest tests/test_ir_fuzz.py
EXAMPLES = int(os.environ.get("MKVERIFY_IR_FUZZ_EXAMPLES", "0"))


@settings(max_examples=EXAMPLES or 1000, deadline=None, derandomize=not EXAMPLES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_mutated_programs_are_validated_or_refused_cleanly(data):
    p = program(data.draw(st.integers(0, len(SOURCES) - 1)))
    places = list(nodes(p))
    pool = [v for _, v in places if is_dataclass(v)]
    names = {v for _, v in places if isinstance(v, str)}
    for _ in range(data.draw(st.integers(1, 3))):
        places = list(nodes(p))
        path, old = data.draw(st.sampled_from(places[1:]))
        try:
            p = put(p, path, same_kind(data, old, pool, names))
        except TypeError:  # a frozen field that refuses the new value's kind: not a program
            return
    try:
        ir.validate(p)
    except MkverifyError:
        return
    try:
        nat = native.explore(p, max_states=300, jobs=data.draw(st.integers(1, 2)))
    except MkverifyError:
        nat = None
    try:
        ref = reference.explore(p, max_states=300)
    except MkverifyError:
        ref = None
    if nat is not None and ref is not None and "incomplete" not in (nat.verdict, ref.verdict):
        assert nat.verdict == ref.verdict


def test_the_mutation_reaches_every_family():
    """The generator is not vacuous: the programs it starts from hold expressions, instructions and
    types for every family it swaps."""
    pool = [v for k in range(len(SOURCES)) for _, v in nodes(program(k)) if is_dataclass(v)]
    for family in FAMILIES:
        assert sum(isinstance(v, family) for v in pool) >= 2


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
