"""The core (mkverify/core.py): the rules of a definition, and `trace`, which compiles kernel.py's
definitions into the micro-programs the C enumerator and the Promela export run.

The differential test here runs each primitive two ways on the same memory and arguments: its kernel.py
definition directly over integers, and its micro-program through a small interpreter of the micro-operations
written for this test. They must agree on every write, result, finding and wait: that checks the tracer's
path splitting and joining and its register allocation, which the engine agreement tests
(tests/test_native.py, tests/test_promela.py) check only through whole models.
"""
from __future__ import annotations

from pathlib import Path
import re

from hypothesis import given, settings, strategies as st
import pytest

from mkverify import core, kernel
from mkverify.engines import native

def _rcu(nhost, nq):
    """RCU's cells for a test shape: three per-CPU arrays and a queue, at 2000 and up."""
    cells = iter(range(2000, 2000 + 3 * nhost + 2 * nq))
    return dict(rcu_read=tuple(next(cells) for _ in range(nhost)), rcu_depth=tuple(next(cells) for _ in range(nhost)),
                rcu_gp=tuple(next(cells) for _ in range(nhost)), rcu_free=tuple(next(cells) for _ in range(nq)),
                rcu_free_wait=tuple(next(cells) for _ in range(nq)))


def _workers(nhost, nworkers, items):
    """Worker threads' cells for a test shape (at 3000 and up), and `items` deferred item cells in objects."""
    cells = iter(range(3000, 3000 + nworkers + nhost + nworkers))
    return dict(worker_runs=tuple(next(cells) for _ in range(nworkers)),
                softirq=tuple(next(cells) for _ in range(nhost + nworkers)),
                deferred=tuple(range(1970, 1970 + items)), deferred_base=tuple(range(1960, 1960 + items)))


# a cell's address is its index here (_Direct.cell), so base is 0; threads are the host CPUs and one worker
SIZES = [core.Shape(1, 1, 1, 2, (), **_rcu(2, 1), hotplug=(1990,), **_workers(1, 1, 1)),
         core.Shape(2, 1, 2, 2, (7,), (11,), **_rcu(2, 2), hotplug=(1990,), **_workers(1, 1, 2)),
         core.Shape(3, 2, 4, 3, (7, 12), (11, 13), **_rcu(3, 2), hotplug=(1990,), **_workers(2, 1, 1)),
         core.Shape(4, 2, 5, 3, (7, 9, 12), (13,), **_rcu(3, 3), hotplug=(1990,), **_workers(2, 1, 3))]


@pytest.mark.parametrize("params", SIZES, ids=lambda p: f"{p.ncpu}cpu-cap{p.idr_capacity}")
@pytest.mark.parametrize("name", sorted(kernel.PRIMS))
def test_every_primitive_traces_to_a_well_formed_program(name, params):
    mp = core.trace(name, params)
    assert mp.ops and mp.nregs >= 0
    for k, op in enumerate(mp.ops):
        fields = core.OPS[op[0]]
        assert len(op) == 1 + len(fields), op
        for f, v in zip(fields, op[1:]):
            if f.startswith("r"):
                assert (-1 if f in ("ra", "rb") and op[0] in ("fail", "warn") else 0) <= v < mp.nregs, (name, k, op)
        if op[0] == "br":
            assert k < op[2] <= len(mp.ops), (name, k, op)
        if op[0] == "call":
            assert mp.ops[k + 1][0] == "end"
    # the effects the rest of the program relies on
    assert core.may_block(name) == (name in BLOCKING)
    assert core.allocates(name) == (name == "kzalloc")
    assert core.calls_aux(name) == (name in ("kref_put", "kref_put_mutex", "kref_put_lock"))


#: the primitives that may wait: locks, the lock-taking puts, the second half of synchronize_rcu
BLOCKING = ("mutex_lock", "spin_lock", "kref_put_mutex", "kref_put_lock", "refcount_dec_and_mutex_lock",
            "refcount_dec_and_lock", "atomic_dec_and_mutex_lock", "atomic_dec_and_lock", "synchronize_rcu_wait",
            "down_read", "down_write", "read_lock", "write_lock", "cpus_read_lock", "cpus_write_lock",
            "mutex_lock_interruptible", "mutex_lock_killable", "down_read_interruptible", "down_read_killable",
            "down_write_killable", "wait_for_completion", "wait_for_completion_timeout",
            "wait_for_completion_interruptible", "wait_for_completion_killable", "deferred_sync", "deferred_flush",
            "rcu_barrier")


def test_a_primitive_that_can_fail_is_never_folded_as_private():
    """The private-object reduction runs a step with choice 0 only: a primitive with a failing outcome
    (chosen()) must stay a step of its own, or its failure would never be explored."""
    for name, d in kernel.PRIMS.items():
        assert not (core.chooses(name) and d.private), name


def test_a_python_if_on_a_value_is_refused(monkeypatch):
    def bad(k, r):
        if k.rd(k.cell(r, "kref", "x")) == 0:  # must be k.fork
            k.result(1)
    monkeypatch.setitem(kernel.PRIMS, "bad_if", kernel.PrimDef("bad_if", ("kref",), None, "void bad_if(struct kref *r)",
                                                                bad, False, None, None))
    with pytest.raises(core.TraceError, match="k.fork"):
        core.trace("bad_if", SIZES[0])


def test_an_await_after_a_write_is_refused(monkeypatch):
    def bad(k, r):
        i = k.cell(r, "mutex", "x")
        k.wr(i, 1)
        k.await_(k.rd(i) == 0, i, k.rd(i))
    monkeypatch.setitem(kernel.PRIMS, "bad_await", kernel.PrimDef("bad_await", ("mutex",), None,
                                                                   "void bad_await(struct mutex *m)", bad, False,
                                                                   None, None))
    with pytest.raises(core.TraceError, match="await_ after a write"):
        core.trace("bad_await", SIZES[0])


def test_the_c_enumerators_tables_are_generated_from_the_core():
    """_explore.c takes its micro-operations, operators and flags from mkverify/_core.h, which must be what
    `python -m mkverify.core` writes now; its table of the cell kind of each class must be native.py's."""
    root = Path(core.__file__).resolve().parent
    assert (root / "_core.h").read_text() == core.c_header(), "run: python -m mkverify.core > mkverify/_core.h"
    src = (root / "_explore.c").read_text()
    assert '#include "_core.h"' in src and "enum { U_END" not in src
    kinds = re.search(r"enum \{ (K_INT,[^}]*)\}", src).group(1).replace("\n", " ")
    c_kind = {name.strip(): k for k, name in enumerate(kinds.split(","))}
    # the kinds each class accepts (CLASS_KINDS); a kind error names the class (core.CLASS_KIND)
    masks = re.search(r"CLASS_KINDS\[NCLASS\] = \{([^}]*)\}", src).group(1).replace("\n", " ").split(",")
    assert len(masks) == len(core.CLASS_IDS) == len(core.CLASS_KIND)
    accepts = [{c_kind[k] for k in re.findall(r"KB\((K_\w+)\)", mask)} for mask in masks]
    for kind, classes in core.CELL_CLASSES.items():
        cid = core.CLASS_OF[kind]
        assert accepts[cid] == {native.KINDS[c] for c in classes}, kind
        assert core.CELL_CLASSES[core.CLASS_KIND[cid]] == classes, kind


def test_registers_are_reused_across_live_ranges():
    mp = core.trace("idr_alloc", core.Shape(2, 1, 4))
    defined = len([op for op in mp.ops if core.OPS[op[0]][:1] == ("rd",)])
    assert mp.nregs < defined / 4, (mp.nregs, defined)


# ------------------------------------------------------------------ the differential test

class _Found(Exception):
    def __init__(self, what):
        self.what = what


class _Direct:
    """The core over a dict memory, for primitives on plain cells: cell(a) is a, no pools."""

    def __init__(self, params, mem, me):
        for f in core.SHAPE_FIELDS:
            setattr(self, f, getattr(params, f))
        self.mem, self._me, self.out = mem, me, []

    def me(self): return self._me
    def fork(self, c): return bool(c)
    def sel(self, c, a, b): return a if c else b
    def and_(self, *cs): return all(cs)
    def or_(self, *cs): return any(cs)
    def not_(self, c): return not c
    def wrap(self, v, bits, signed):
        v &= (1 << bits) - 1
        return v - (1 << bits) if signed and v >> (bits - 1) else v
    def cell(self, a, kind, what): return a
    def rd(self, i, off=0): return self.mem.get(i + off, 0)
    def wr(self, i, v, off=0): self.mem[i + off] = int(v)
    def cpu_cell(self, cpu, which): return 1000 + 2 * cpu + (which == "image")
    def live(self, j): return j % 2 == 0
    def fail(self, check, msg, key=None, extra=()): raise _Found(("fail", key or check))
    def warn(self, check, msg, key=None, extra=()): self.out.append(("warn", key or check))
    def await_(self, c, cell, owner):
        if not c:
            raise _Found(("wait", cell, owner))
    def bound(self, msg, hint): raise _Found(("bound", msg))
    def result(self, v): self.out.append(("result", int(v)))


def _micro(mp, params, mem, me, args):
    """The micro-operations' meaning for the same memory model as _Direct."""
    R = [0] * max(mp.nregs, 1)
    out = []
    d = _Direct(params, mem, me)
    k = 0
    ops = mp.ops
    while k < len(ops):
        op, *x = ops[k]
        k += 1
        if op == "end":
            break
        elif op == "arg": R[x[0]] = args[x[1]]
        elif op == "const": R[x[0]] = x[1]
        elif op == "me": R[x[0]] = me
        elif op == "bin":
            a, b = R[x[2]], R[x[3]]
            R[x[0]] = int({"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "&": lambda: a & b,
                           "|": lambda: a | b, "^": lambda: a ^ b, "<<": lambda: a << b, ">>": lambda: a >> b,
                           "==": lambda: a == b, "!=": lambda: a != b, "<": lambda: a < b, "<=": lambda: a <= b,
                           ">": lambda: a > b, ">=": lambda: a >= b}[core.BINOPS[x[1]]]())
        elif op == "not": R[x[0]] = int(not R[x[1]])
        elif op == "bnot": R[x[0]] = ~R[x[1]]
        elif op == "sel": R[x[0]] = R[x[2]] if R[x[1]] else R[x[3]]
        elif op == "wrap": R[x[0]] = d.wrap(R[x[1]], x[2], x[3])
        elif op == "cell": R[x[0]] = R[x[1]]
        elif op == "rd": R[x[0]] = mem.get(R[x[1]] + x[2], 0)
        elif op == "wr": mem[R[x[0]] + x[1]] = R[x[2]]
        elif op == "cpucell": R[x[0]] = d.cpu_cell(R[x[1]], "image" if x[2] else "state")
        elif op == "live": R[x[0]] = int(d.live(x[1]))
        elif op == "br":
            if not R[x[0]]:
                k = x[1]
        elif op == "fail": raise _Found(("fail", mp.keys[x[0]][1]))
        elif op == "warn": out.append(("warn", mp.keys[x[0]][1]))
        elif op == "await":
            if not R[x[0]]:
                raise _Found(("wait", R[x[1]], R[x[2]]))
        elif op == "bound": raise _Found(("bound", mp.bounds[x[0]][0]))
        elif op == "result": out.append(("result", R[x[0]]))
        else:
            raise AssertionError(f"{op} is not expected in this test")
    return out


PLAIN = sorted(n for n in kernel.PRIMS
               if not core.static(n).effects and n not in ("multikernel_kick_ap",))


def _run(fn, *a):
    try:
        return ("ok", fn(*a))
    except _Found as f:
        return ("stop", f.what)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("name", PLAIN)
def test_the_micro_program_means_what_the_definition_means(name, data):
    params = data.draw(st.sampled_from(SIZES))
    ncpu, cap, lists = params.ncpu, params.idr_capacity, params.list_cells
    small = st.integers(-3, 8)
    base = 100
    cells = {base + j: data.draw(small) for j in range(2 * cap + 1)}
    for j in lists:
        cells[j] = data.draw(st.sampled_from([0, base, base + 1]))
    for j in params.spin_cells:
        cells[j] = data.draw(st.integers(0, 3))
    for j in params.rcu_read + params.rcu_depth:
        cells[j] = data.draw(st.integers(0, 2))
    for j in params.rcu_gp + params.rcu_free_wait:
        cells[j] = data.draw(st.integers(0, 3))
    for j in params.rcu_free:
        cells[j] = data.draw(st.sampled_from([0, base]))
    for c in range(ncpu):
        cells[1000 + 2 * c] = data.draw(st.integers(0, 2))
    me = data.draw(st.integers(0, params.nhost - 1)) if params.rcu_read else data.draw(st.integers(0, 2))
    d = kernel.PRIMS[name]
    args = [base if kind not in ("int", kernel.ANY_PTR) else data.draw(st.integers(-2, ncpu + 5)) for kind in d.args]
    if kernel.ANY_PTR in d.args:
        args[d.args.index(kernel.ANY_PTR)] = data.draw(st.integers(0, 300))
    mp = core.trace(name, params)

    m1, m2 = dict(cells), dict(cells)
    direct = _Direct(params, m1, me)
    a = _run(lambda: (d.fn(direct, *args), direct.out)[1])
    b = _run(_micro, mp, params, m2, me, args)
    assert a == b, (name, params, args)
    assert m1 == m2, (name, params, args)
