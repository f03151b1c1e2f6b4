"""`mkverify graph`: the explored state graph as DOT or GraphML (docs/output.md).

The graph is built by the reference engine's BFS, so it is checked against
`mkverify.engines.reference.explore` on the same models: the same states under
the same numbers, every transition on an edge, every finding on the node or
edge where the reference met it. Then the two formats (GraphML read back by
networkx, DOT laid out by Graphviz's `dot`), the state bound (exit 3, a partial
graph of exactly N states), bad input (exit 2, file:line:col, no traceback),
and the atomic write of --output.
"""
from __future__ import annotations

import os
from pathlib import Path
import shutil
import subprocess
import sys

from click.testing import CliRunner
import networkx as nx
import pytest

from mkverify import frontend
from mkverify.cli import main
from mkverify.engines.reference import explore
from mkverify.report.graph import state_graph, to_dot, to_graphml
from mkverify.result import EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_OK

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
TINY = TESTS / "fixtures" / "machine" / "lock.c"               # 16 states, 26 transitions, no finding
TRIGGER = TESTS / "models" / "checks" / "use-after-free-trigger.c"  # a fatal use after free
PARALLEL = TESTS / "models" / "checks" / "out-of-bounds-trigger.c"  # parallel steps, self-loops, a fatal finding
LEAK = TESTS / "models" / "checks" / "leak-trigger.c"          # a finding in a state (not in a step)
BUG = TESTS / "fixtures" / "machine" / "bug.c"                 # 3 states and a fatal BUG_ON: small enough to lay out
REUSE = TESTS / "fixtures" / "machine" / "reuse.c"             # 12 states, one of them dangling
MODELS = [TINY, TRIGGER, PARALLEL, LEAK]
TINY_STATES = 16


def _invoke(*args, cwd: Path = ROOT):
    old = Path.cwd()
    os.chdir(cwd)
    try:
        res = CliRunner().invoke(main, [str(a) for a in args], env={"CI": "1"})
    finally:
        os.chdir(old)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    assert "Traceback" not in res.stdout + res.stderr, res.stdout + res.stderr
    return res


def _subprocess(*args, cwd: Path = ROOT, **env):
    r = subprocess.run([sys.executable, "-m", "mkverify", *map(str, args)], cwd=cwd, capture_output=True,
                       env=dict(os.environ, CI="1", **env), timeout=120)
    assert b"Traceback" not in r.stdout + r.stderr, r.stderr
    return r


def _states(g):
    return [n for n, d in g.nodes(data=True) if d["kind"] == "state"]


def _fatal(g):
    return [n for n, d in g.nodes(data=True) if d["kind"] == "fatal"]


@pytest.fixture(scope="module", params=MODELS, ids=lambda p: p.stem)
def explored(request):
    program = frontend.load(request.param)
    g, complete = state_graph(program)
    return g, complete, explore(program)


# ------------------------------------------------------------ the graph is the reference's exploration

def test_states_and_transitions_are_the_reference_engines(explored):
    g, complete, r = explored
    assert complete and r.verdict != "incomplete"
    assert len(_states(g)) == r.stats.states == g.graph["states"]
    assert sorted(_states(g)) == list(range(r.stats.states))
    # An edge stands for every step between its two ends (a DiGraph has no parallel edges): its `steps`.
    # A fatal step has no successor state; it is an edge to the fatal node of its finding. So the steps of
    # all edges are the reference's transitions, and the edges are that less the steps merged into another.
    assert sum(d["steps"] for _, _, d in g.edges(data=True)) == r.stats.transitions == g.graph["transitions"]
    assert g.number_of_edges() + sum(d["steps"] - 1 for _, _, d in g.edges(data=True)) == r.stats.transitions
    assert [g.nodes[n]["initial"] for n in sorted(g.nodes)] == [True] + [False] * (len(g) - 1)
    assert not any(d["frontier"] for _, d in g.nodes(data=True))


def test_the_tiny_model_has_one_edge_per_transition():
    program = frontend.load(TINY)
    g, complete = state_graph(program)
    r = explore(program)
    assert complete and not _fatal(g)
    assert (len(g), g.number_of_edges()) == (r.stats.states, r.stats.transitions) == (TINY_STATES, 26)


def test_parallel_steps_and_self_loops_are_counted():
    g, complete = state_graph(frontend.load(PARALLEL))
    assert any(d["steps"] > 1 for _, _, d in g.edges(data=True))
    assert any(u == v for u, v in g.edges)


def test_every_finding_is_on_the_node_or_edge_where_the_reference_met_it(explored):
    g, _, r = explored
    fatal_findings = set()
    for f in r.findings:
        node = g.nodes[f.state]
        if len(f.trace) == node["depth"]:       # found in the state itself: it is red and not expanded
            assert f.check in node["violations"].split(","), (f.check, node)
            assert f.message in node["messages"]
            assert g.out_degree(f.state) == 0
        else:                                    # found during a step out of it
            assert len(f.trace) == node["depth"] + 1
            out = [(v, d) for _, v, d in g.out_edges(f.state, data=True) if f.check in d["violations"].split(",")]
            assert out, (f.check, f.state)
            sinks = [v for v, _ in out if g.nodes[v]["kind"] == "fatal" and f.message in g.nodes[v]["messages"]]
            if sinks:
                assert g.nodes[sinks[0]]["violations"] == f.check
                fatal_findings.add(sinks[0])
    # one fatal node per fatal finding, and nothing points out of it
    assert set(_fatal(g)) == fatal_findings
    assert all(g.out_degree(n) == 0 for n in _fatal(g))
    if r.findings:
        assert any(d["violations"] for _, d in g.nodes(data=True))


def test_the_trigger_models_have_their_finding():
    g, _ = state_graph(frontend.load(TRIGGER))
    assert [g.nodes[n]["violations"] for n in _fatal(g)] == ["use-after-free"]
    assert g.nodes[_fatal(g)[0]]["depth"] == min(g.nodes[u]["depth"] for u, _ in g.in_edges(_fatal(g)[0])) + 1
    g, _ = state_graph(frontend.load(LEAK))
    assert any(d["violations"] == "leak" and d["kind"] == "state" for _, d in g.nodes(data=True))


@pytest.mark.parametrize("path", [TINY, TRIGGER], ids=lambda p: p.stem)
def test_without_the_private_reduction_too(path):
    program = frontend.load(path)
    g, _ = state_graph(program, reduce_private=False)
    r = explore(program, reduce_private=False)
    assert len(_states(g)) == r.stats.states
    assert sum(d["steps"] for _, _, d in g.edges(data=True)) == r.stats.transitions


def test_labels_and_attributes():
    g, _ = state_graph(frontend.load(TINY))
    assert g.nodes[0]["label"] == "CPU0 idle, CPU1 idle"
    assert g.nodes[0]["depth"] == 0
    locked = [d["label"] for _, d in g.nodes(data=True) if "held: m by CPU0" in d["label"]]
    assert locked and all("CPU0 hold:" in label for label in locked)
    assert any("waits" in d["label"] for _, d in g.nodes(data=True))
    e = g.edges[0, 1]
    assert (e["cpu"], e["function"], e["action"], e["violations"], e["steps"]) == (0, "hold", "call hold()", "", 1)
    assert any(d["changes"] == "m: unlocked -> held by CPU0" and d["action"] == "mutex_lock(&m)"
               for _, _, d in g.edges(data=True))
    g, _ = state_graph(frontend.load(TRIGGER))
    assert any(", ref " in d["label"] for _, d in g.nodes(data=True))  # written as trace steps write objects
    assert any(" freed" in d["label"] for _, d in g.nodes(data=True))
    for d in [d for _, d in g.nodes(data=True)] + [d for _, _, d in g.edges(data=True)]:
        assert all(isinstance(v, (str, int, bool)) for v in d.values()), d


# ------------------------------------------------------------ GraphML and DOT

def test_graphml_reads_back(tmp_path):
    out = tmp_path / "g.graphml"
    res = _invoke("graph", TRIGGER, "--format", "graphml", "-o", out)
    assert res.exit_code == EXIT_OK, res.stderr  # a view, not a verdict: violating states do not make it 1
    assert res.stdout == ""
    back = nx.read_graphml(out)
    g, _ = state_graph(frontend.load(TRIGGER))
    assert (len(back), back.number_of_edges()) == (len(g), g.number_of_edges())
    assert back.nodes["0"]["initial"] is True and back.nodes["0"]["depth"] == 0
    assert {n: d["label"] for n, d in back.nodes(data=True)} == {str(n): d["label"] for n, d in g.nodes(data=True)}
    assert back.graph["states"] == g.graph["states"]
    assert to_graphml(g) == out.read_text(encoding="utf-8")


def test_dot_is_deterministic_across_processes():
    a = _subprocess("graph", TRIGGER, PYTHONHASHSEED="1")
    b = _subprocess("graph", TRIGGER, PYTHONHASHSEED="2")
    assert a.returncode == b.returncode == EXIT_OK, a.stderr
    assert a.stdout == b.stdout and a.stdout.startswith(b"digraph ")
    assert a.stderr == b""
    c = _subprocess("graph", TRIGGER, "--format", "graphml", PYTHONHASHSEED="3")
    d = _subprocess("graph", TRIGGER, "--format", "graphml", PYTHONHASHSEED="4")
    assert c.stdout == d.stdout


def test_dot_draws_violations_red_the_initial_state_bold_and_the_frontier_dashed():
    g, _ = state_graph(frontend.load(TRIGGER))
    dot = to_dot(g)
    sink = _fatal(g)[0]
    assert '  0 [label="#0\\l' in dot and 'style="bold"' in dot.splitlines()[3]
    assert any(line.startswith(f"  {sink} [") and "shape=octagon, color=red" in line for line in dot.splitlines())
    assert any(f"-> {sink} [" in line and "color=red" in line for line in dot.splitlines())
    g, complete = state_graph(frontend.load(TINY), max_states=5)
    assert not complete
    assert 'style="dashed"' in to_dot(g)
    g, complete = state_graph(frontend.load(TINY), max_states=1)
    assert not complete and 'style="bold,dashed"' in to_dot(g)


DOT = shutil.which("dot")


@pytest.mark.skipif(DOT is None, reason="Graphviz's dot is not installed: DOT syntax checked by the other tests only")
@pytest.mark.parametrize("path", [TINY, BUG, REUSE], ids=lambda p: p.stem)  # dot takes 12 s on TRIGGER's 232 nodes
def test_graphviz_lays_the_dot_out(path):
    res = _invoke("graph", path)
    assert res.exit_code == EXIT_OK
    r = subprocess.run([DOT, "-Tsvg"], input=res.stdout, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and not r.stderr, r.stderr
    assert "<svg" in r.stdout


@pytest.mark.skipif(DOT is None, reason="Graphviz's dot is not installed: the escaping is checked on the text only")
def test_dot_escapes_quotes_backslashes_and_newlines():
    g = nx.DiGraph(model='we"ird\\name')
    g.add_node(0, kind="state", depth=0, label='a "quoted" \\ back\\slash\nsecond line', violations="",
               messages="", initial=True, frontier=False)
    g.add_node(1, kind="fatal", depth=1, label='x\\"y', violations="assertion", messages='m "1"\\', initial=False,
               frontier=False)
    g.add_edge(0, 1, cpu=0, function="f", action='s = "}\\n"; }', line=3, changes='c: "a" -> "b\\"', violations="",
               steps=1)
    text = to_dot(g)
    assert all(line.endswith(("{", ";", "}")) for line in text.splitlines())  # no raw newline in a string
    r = subprocess.run([DOT, "-Tcanon"], input=text, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr, r.stderr
    r = subprocess.run([DOT, "-Tsvg"], input=text, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "a &quot;quoted&quot; \\ back\\slash" in r.stdout and "second line" in r.stdout


def test_dot_escaping_without_graphviz():
    from mkverify.report.graph import _q
    assert _q('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'


# ------------------------------------------------------------ the state bound

def test_truncation_writes_exactly_n_states_and_exits_3(tmp_path):
    res = _invoke("graph", TINY, "--max-states", 5)
    assert res.exit_code == EXIT_INCOMPLETE
    assert res.stderr == (f"mkverify: {TINY.relative_to(ROOT)}: graph truncated at 5 states (the model has more); "
                          "raise --max-states or shrink the model's bounds\n")
    nodes = [line for line in res.stdout.splitlines() if line.startswith("  ") and "->" not in line
             and line.strip()[0].isdigit()]
    assert len(nodes) == 5
    out = tmp_path / "g.graphml"
    res = _invoke("graph", TINY, "--max-states", 5, "--format", "graphml", "-o", out)
    assert res.exit_code == EXIT_INCOMPLETE and "graph truncated at 5 states" in res.stderr
    back = nx.read_graphml(out)
    assert len(back) == 5
    assert any(d["frontier"] for _, d in back.nodes(data=True))
    assert back.graph["incomplete"] == "state bound 5 reached"


def test_a_bound_equal_to_the_state_count_is_complete():
    res = _invoke("graph", TINY, "--max-states", TINY_STATES)
    assert res.exit_code == EXIT_OK and res.stderr == ""
    g, complete = state_graph(frontend.load(TINY), max_states=TINY_STATES)
    assert complete and len(g) == TINY_STATES
    g, complete = state_graph(frontend.load(TINY), max_states=TINY_STATES - 1)
    assert not complete and len(g) == TINY_STATES - 1


def test_truncation_exit_code_through_python_m():
    r = _subprocess("graph", TINY, "--max-states", 3)
    assert r.returncode == EXIT_INCOMPLETE
    assert b"graph truncated at 3 states (the model has more)" in r.stderr


def test_the_idr_capacity_makes_it_incomplete_too():
    res = _invoke("graph", TESTS / "fixtures" / "output" / "idr-capacity.c")
    assert res.exit_code == EXIT_INCOMPLETE
    assert "graph incomplete: an IDR needed more than idr_capacity" in res.stderr
    assert "raise idr_capacity" in res.stderr


# ------------------------------------------------------------ bad input and the output file

def test_a_bad_model_exits_2_with_its_location():
    r = _subprocess("graph", "syntax-error.c", cwd=TESTS / "bad")
    assert r.returncode == EXIT_BAD_INPUT
    assert r.stdout == b""
    assert r.stderr.decode().startswith("syntax-error.c:10:1: error: syntax error before '}'")


@pytest.mark.parametrize("args", [["nope.c"], [TINY, "--format", "svg"], [TINY, "--max-states", "0"]],
                         ids=["missing", "format", "bound"])
def test_bad_usage_exits_2(args):
    res = _invoke("graph", *args)
    assert res.exit_code == EXIT_BAD_INPUT and res.stdout == ""


def test_an_unwritable_output_is_a_usage_error(tmp_path):
    res = _invoke("graph", TINY, "-o", tmp_path / "no" / "such" / "g.dot")
    assert res.exit_code == EXIT_BAD_INPUT
    assert res.stderr.startswith(f"{tmp_path / 'no' / 'such' / 'g.dot'}: error: cannot write the graph: ")
    res = _invoke("graph", TINY, "-o", tmp_path)
    assert res.exit_code == EXIT_BAD_INPUT and f"{tmp_path}: error: cannot write the graph" in res.stderr
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_the_output_is_replaced_atomically(tmp_path):
    out = tmp_path / "g.dot"
    out.write_text("old\n", encoding="utf-8")
    os.chmod(out, 0o640)
    res = _invoke("graph", TINY, "--output", out)
    assert res.exit_code == EXIT_OK and res.stdout == ""
    assert out.read_text(encoding="utf-8") == _invoke("graph", TINY).stdout
    assert out.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["g.dot"]


def test_a_device_is_written_not_replaced():
    res = _invoke("graph", TINY, "-o", os.devnull)
    assert res.exit_code == EXIT_OK and res.stdout == ""
    assert Path(os.devnull).is_char_device()
