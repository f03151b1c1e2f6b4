"""The file reports: SARIF (against the official schema), JUnit (parsed back with junitparser),
Markdown (mermaid that parses), HTML (rendered in headless Chromium), and the structured trace data
(`transitions`, `objects`, `taken_by`) they are drawn from."""
from __future__ import annotations

import json
import os
from pathlib import Path
import re
import shutil

from click.testing import CliRunner
import pytest

from helpers import CHECK_MODELS, ROOT, run
from mkverify import frontend
from mkverify.checks import CHECKS
from mkverify.cli import main
from mkverify.engines.native import explore as native
from mkverify.engines.reference import explore as reference
from mkverify.report.common import trace_lanes, write_atomic
from mkverify.report.html import to_html
from mkverify.report.junit import to_junit
from mkverify.report.lifecycle import lifecycles, numbers, to_dot, to_mermaid
from mkverify.report.markdown import mermaid_text, sequence_mermaid, to_markdown
from mkverify.report.sarif import to_sarif

SARIF_SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
V2 = ROOT / "models" / "multikernel" / "v2"
FIXED = ROOT / "models" / "multikernel" / "fixed"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    """Findings name files relative to the current directory, as `check` prints them: explore and write
    reports from the repository root, as `check` would run there."""
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def v2():
    cwd = os.getcwd()
    os.chdir(ROOT)  # the engines name files relative to the current directory, as `check` does
    try:
        model = frontend.open_model(Path("models/multikernel/v2"))
        r = native(frontend.build(model, {}), jobs=1)
        from mkverify.cli import _model_flags
        from mkverify.flags import merge
        merge(r, *_model_flags(model))
        return r
    finally:
        os.chdir(cwd)


def corpus(name):
    return run(lambda p: native(p, jobs=1), CHECK_MODELS / f"{name}.c")


# ------------------------------------------------------------ the data the reports draw

def test_steps_carry_objects_and_lifecycle_transitions():
    r = corpus("illegal-transition-trigger")
    f = next(f for f in r.findings if f.check == "illegal-transition")
    moves = [t for s in f.trace for t in s.transitions]
    assert moves and moves[-1]["allowed"] is False and all(t["allowed"] for t in moves[:-1])
    last = moves[-1]
    assert (last["struct"], last["field"], last["from"], last["to"]) == ("mk_instance", "state", "MK_STOPPED",
                                                                        "MK_RUNNING")
    assert f.trace[-1].objects[last["object"]].startswith("MK_RUNNING")
    uaf = corpus("use-after-free-trigger")
    f = next(f for f in uaf.findings if f.check == "use-after-free")
    assert "freed" in f.trace[-1].objects.values()
    first = next(k for k, s in enumerate(f.trace) if s.objects)
    assert all(v != "freed" for v in f.trace[first].objects.values())


def test_coverage_names_the_call_paths_of_each_transition_in_both_engines():
    p = frontend.load(CHECK_MODELS / "illegal-transition-trigger.c")
    nat, ref = native(p, jobs=1), reference(p)
    assert nat.coverage == ref.coverage
    cov = nat.coverage[0]
    assert set(cov["taken_by"]) == set(cov["taken"])
    assert cov["states"] == ["MK_LOADED", "MK_RUNNING", "MK_STOPPED"]
    for paths in cov["taken_by"].values():
        assert paths and all(re.fullmatch(r"\w+( > \w+)*", x) for x in paths)
    assert "mk_start" in " ".join(cov["taken_by"]["MK_STOPPED -> MK_RUNNING"])


# ------------------------------------------------------------ SARIF

def _validate_sarif(doc):
    if not SARIF_SCHEMA.exists():
        pytest.skip(f"the official SARIF schema is not here ({SARIF_SCHEMA}: ../shared is absent)")
    import jsonschema
    schema = json.loads(SARIF_SCHEMA.read_text())
    errors = sorted(jsonschema.validators.validator_for(schema)(schema).iter_errors(doc), key=str)
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:300]}" for e in errors[:10])


def test_sarif_of_v2_validates_and_has_one_thread_flow_per_cpu(v2):
    doc = to_sarif([v2], ROOT)
    _validate_sarif(doc)
    run_ = doc["runs"][0]
    assert {r["id"] for r in run_["tool"]["driver"]["rules"]} == set(CHECKS)
    for rule in run_["tool"]["driver"]["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
    results = run_["results"]
    assert len(results) == len(v2.findings) > 0
    for res, f in zip(results, v2.findings):
        assert res["ruleId"] == f.check
        assert run_["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == f.check
        uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith("/") and (ROOT / uri).is_file(), uri
        if not f.trace:
            assert "codeFlows" not in res and f.check.startswith("flag-")
            assert res["properties"]["counterexample"] == f.counterexample
            continue
        flows = res["codeFlows"][0]["threadFlows"]
        cpus = sorted({s.cpu for s in f.trace})
        assert [t["id"] for t in flows] == [f"CPU{c}" for c in cpus]
        # interleaving the flows back by executionOrder gives the trace, step for step
        merged = sorted(((loc["executionOrder"], t["id"], loc) for t in flows for loc in t["locations"]),
                        key=lambda x: x[0])
        assert [o for o, _, _ in merged] == [s.step for s in f.trace]
        for (_, cpu, loc), s in zip(merged, f.trace):
            assert cpu == f"CPU{s.cpu}"
            assert loc["location"]["physicalLocation"]["region"]["startLine"] == s.loc.line
            assert s.action in loc["location"]["message"]["text"]
            assert {k: v["text"] for k, v in loc.get("state", {}).items()} == s.objects
    assert doc["runs"][0]["properties"]["verdict"] == "violations"
    # distinct findings are distinct alerts, even on one line (v2 has four dangling references at one place)
    prints = [res["partialFingerprints"]["primaryLocationLineHash"] for res in results]
    assert len(set(prints)) == len(prints)
    assert to_sarif([v2], ROOT) == doc  # and the same on every run
    noted = [res for res in results if res.get("relatedLocations")]
    assert noted and all("[note 1](1)" in res["message"]["text"] for res in noted)


def test_sarif_of_a_clean_model_has_no_results():
    r = corpus("use-after-free-clean")
    doc = to_sarif([r], ROOT)
    _validate_sarif(doc)
    assert doc["runs"][0]["results"] == []


# ------------------------------------------------------------ JUnit

def test_junit_has_a_case_per_model_and_check_and_fails_the_checks_that_found(v2, tmp_path):
    junitparser = pytest.importorskip("junitparser", reason="junitparser is a test extra")
    clean = corpus("use-after-free-clean")
    path = tmp_path / "j.xml"
    path.write_text(to_junit([v2, clean], ROOT))
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = {s.name: s for s in xml}
    assert set(suites) == {v2.model, clean.model}
    cases = {c.name: c for c in suites[v2.model]}
    assert set(cases) == set(CHECKS)  # v2 proves its flag encodings, so the flag checks are cases too
    failing = {name for name, c in cases.items() if any(isinstance(x, junitparser.Failure) for x in c.result)}
    assert failing == {f.check for f in v2.findings}
    uaf = next(x for x in cases["use-after-free"].result if isinstance(x, junitparser.Failure))
    first = next(f for f in v2.findings if f.check == "use-after-free")
    assert uaf.message.startswith(first.message)
    assert f"note: step {len(first.trace)}: CPU" in uaf.text
    assert suites[v2.model].failures == len(failing) and suites[v2.model].tests == len(CHECKS)
    # CI annotations go to the first finding's place
    assert (cases["use-after-free"]._elem.get("file"), cases["use-after-free"]._elem.get("line")) == \
        (first.loc.file, str(first.loc.line))
    clean_cases = list(suites[clean.model])
    assert clean_cases and all(not c.result for c in clean_cases)
    assert not any(c.name.startswith("flag-") for c in clean_cases)


def test_junit_of_an_incomplete_run_skips_where_nothing_was_found(tmp_path):
    junitparser = pytest.importorskip("junitparser", reason="junitparser is a test extra")
    r = native(frontend.load(CHECK_MODELS / "use-after-free-clean.c"), jobs=1, max_states=5)
    assert r.verdict == "incomplete"
    path = tmp_path / "j.xml"
    path.write_text(to_junit([r]))
    cases = list(junitparser.JUnitXml.fromfile(str(path)))[0]
    assert all(isinstance(c.result[0], junitparser.Skipped) for c in cases)
    assert cases.skipped == len(list(cases)) and cases.failures == 0


# ------------------------------------------------------------ Markdown

#: the mermaid sequenceDiagram statements the report writes, with text from mermaid_text
TEXT = r"(?:[^;#:\n]|#\d+;)*"  # anything but what mermaid reads, or an entity code
SEQ_LINE = re.compile(rf"^  (participant [CO]\d+ as {TEXT}|[CO]\d+->>[CO]\d+: {TEXT}|Note over [CO]\d+(,[CO]\d+)?: {TEXT})$")


def test_mermaid_text_leaves_nothing_mermaid_would_read():
    raw = 'a; b # c: <d> {e} "f" `g` | h\\ &i'
    text = mermaid_text(raw)
    assert not re.search(r'[;:<>{}"`|\\&#]', re.sub(r"#\d+;", "", text))
    assert re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text) == raw


def test_markdown_draws_every_trace_and_lifecycle(v2):
    md = to_markdown([v2], ROOT)
    blocks = re.findall(r"```mermaid\n(.*?)```", md, re.S)
    traced = [f for f in v2.findings if f.trace]
    assert len(blocks) == len(traced) + len(v2.coverage)
    for f in traced:
        lines = sequence_mermaid(f).splitlines()
        assert lines[0] == "sequenceDiagram"
        bad = [ln for ln in lines[1:] if not SEQ_LINE.match(ln)]
        assert not bad, bad[:3]
        cpus, _ = trace_lanes(f.trace)
        assert sum(ln.startswith("  participant C") for ln in lines) == len(cpus)
    assert "| `models/multikernel/v2` | ❌" in md
    for t in v2.coverage[0]["never_taken"]:
        assert t in md


# ------------------------------------------------------------ the lifecycle graph

def test_lifecycle_graph_marks_counterexamples_dead_and_illegal_edges():
    r = corpus("illegal-transition-trigger")
    lc = lifecycles(r, list(enumerate(r.findings, 1)))[0]
    kinds = {(e.a, e.b): e for e in lc.edges}
    illegal = kinds["MK_STOPPED", "MK_RUNNING"]
    assert illegal.kind == "illegal" and illegal.findings == [1]
    dot = to_dot(lc)
    line = next(ln for ln in dot.splitlines() if '"MK_STOPPED" -> "MK_RUNNING"' in ln)
    assert 'color="#c62828"' in line and "counterexample #1" in line
    mermaid = to_mermaid(lifecycles(r, list(enumerate(r.findings, 1)))[0])
    arrows = [ln for ln in mermaid.splitlines() if "-->" in ln or "-.->" in ln]
    red = {int(ln.split()[1]) for ln in mermaid.splitlines() if ln.strip().startswith("linkStyle") and "#c62828" in ln}
    assert red == {k for k, ln in enumerate(arrows) if "counterexample" in ln} and red
    clean = corpus("illegal-transition-clean")
    lc = lifecycles(clean, [])[0]
    assert all(e.kind != "illegal" and not e.findings for e in lc.edges)
    dot = to_dot(lc)
    assert "#c62828" not in dot
    for e in lc.edges:
        line = next(ln for ln in dot.splitlines() if f'"{e.a}" -> "{e.b}"' in ln)
        assert ("style=dashed" in line) == (e.kind == "never")


def test_v2_lifecycle_greys_the_transitions_never_taken(v2):
    lc = lifecycles(v2, list(enumerate(v2.findings, 1)))[0]
    never = {f"{e.a} -> {e.b}" for e in lc.edges if e.kind == "never"}
    assert never == set(v2.coverage[0]["never_taken"]) and never
    assert "MK_STATE_ACTIVE" not in lc.reached and "MK_STATE_READY" in lc.reached


def test_numbers_fold_runs():
    assert numbers([7, 1, 2, 3, 5]) == "#1–#3, #5, #7"


# ------------------------------------------------------------ HTML in a browser

def test_html_report_of_v2_renders_in_chromium(v2, tmp_path):
    import browser
    if browser.chromium_path() is None:
        pytest.skip("chromium is not installed (Debian package chromium; .ci/run installs it)")
    pytest.importorskip("websocket", reason="websocket-client is a test extra")
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot is not installed (Debian package graphviz; .ci/run installs it)")
    page = tmp_path / "index.html"
    page.write_text(to_html([v2], ROOT))
    traced = [f for f in v2.findings if f.trace]
    q = {
        "charts": "document.querySelectorAll('svg.msc').length",
        "lanes": "Array.from(document.querySelectorAll('#m0-finding-1 svg.msc .lane-cpu')).length",
        "nodes": "Array.from(document.querySelectorAll('.lifecycle svg g.node title')).map(t => t.textContent)",
        "red": "Array.from(document.querySelectorAll('.lifecycle svg g.edge path'))"
               ".filter(p => p.getAttribute('stroke') === '#c62828').length",
        "dashed": "Array.from(document.querySelectorAll('.lifecycle svg g.edge path'))"
                  ".filter(p => p.getAttribute('stroke-dasharray')).length",
        "chart_box": "(() => { const b = document.querySelector('svg.msc').getBoundingClientRect(); "
                     "return [b.width, b.height]; })()",
        "graph_box": "(() => { const b = document.querySelector('.lifecycle svg').getBoundingClientRect(); "
                     "return [b.width, b.height]; })()",
    }
    out = browser.render(page, list(q.values()), width=1400, height=1600)
    got = {k: out.values[v] for k, v in q.items()}
    assert out.console_errors == []
    assert got["charts"] == len(traced) > 0
    assert got["lanes"] == len({s.cpu for s in traced[0].trace})
    assert sorted(got["nodes"]) == sorted(v2.coverage[0]["states"])
    assert got["red"] >= 1 and got["dashed"] == len(v2.coverage[0]["never_taken"])
    assert min(got["chart_box"]) > 100 and min(got["graph_box"]) > 100
    assert not browser.png_is_blank(out.screenshot)


# ------------------------------------------------------------ the command line

def test_check_writes_every_report(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["check", str(CHECK_MODELS / "use-after-free-trigger.c"), "-j", "1",
                                    "--sarif", str(out / "r.sarif"), "--junit", str(out / "r.xml"),
                                    "--markdown", str(out / "r.md"), "--html", str(out / "html")])
    assert res.exit_code == 1, res.output
    assert json.loads((out / "r.sarif").read_text())["runs"][0]["results"][0]["ruleId"] == "use-after-free"
    assert "<testsuites" in (out / "r.xml").read_text()
    assert "use-after-free" in (out / "r.md").read_text()
    assert "<svg" in (out / "html" / "index.html").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["html", "r.md", "r.sarif", "r.xml"]  # no temporary left


def test_an_unwritable_report_is_bad_usage_not_a_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    res = CliRunner().invoke(main, ["check", str(CHECK_MODELS / "use-after-free-clean.c"), "-j", "1",
                                    "--sarif", str(blocker / "r.sarif")])
    assert res.exit_code == 2
    assert "cannot write the report" in res.output and "Traceback" not in res.output


def test_write_atomic_leaves_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    target.write_text("old")

    def boom(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(Exception, match="No space left"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


# ------------------------------------------------------------ reports/ is current

VOLATILE_STATS = ("seconds", "memory_bytes", "bytes_per_state")


def _normal(path: Path) -> object:
    """A report with what differs between runs and machines taken out: timings, memory, and the SVG
    graphviz draws (its DOT source, which the page also carries, is compared)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        doc = json.loads(text)
        for m in doc["models"]:
            for k in VOLATILE_STATS:
                m["stats"].pop(k, None)
        return doc
    if path.suffix == ".txt":
        return re.sub(r", \d+\.\d+ s, ", ", T s, ", text)
    if path.suffix == ".html":
        return re.sub(r'(<div class="lifecycle"[^>]*>)<svg.*?</svg>', r"\1<svg/>", text, flags=re.S)
    return text


def test_reports_directory_is_current(tmp_path):
    """`mkverify report` regenerates reports/; after a change to a model, a spec or mkverify, run it and
    commit the result (reports/README.md)."""
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot is not installed (Debian package graphviz; .ci/run installs it): without it "
                    "the HTML reports hold DOT source instead of the committed drawings")
    import subprocess
    import sys
    out = tmp_path / "reports"
    res = subprocess.run([sys.executable, "-m", "mkverify", "report", "-o", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    committed = sorted(p.name for p in (ROOT / "reports").iterdir() if p.name != "README.md")
    assert sorted(p.name for p in out.iterdir()) == committed
    stale = [name for name in committed if _normal(out / name) != _normal(ROOT / "reports" / name)]
    assert not stale, f"reports/ is not current ({', '.join(stale)}): run `mkverify report` and commit reports/"


# ------------------------------------------------------------ spec coverage of invariants

COVERAGE = ROOT / "tests" / "fixtures" / "coverage"


@pytest.mark.parametrize("engine", ["native", "python"])
def test_invariant_coverage_finds_vacuous_and_unexercised_invariants(engine):
    explore = (lambda p: native(p, jobs=1)) if engine == "native" else reference
    r = explore(frontend.load(CHECK_MODELS / "invariant-clean.c", COVERAGE / "vacuous.toml"))
    assert r.verdict == "ok"
    got = {i["name"]: (i["exercised"], i["vacuous"], i["never_needed"]) for i in r.invariants}
    assert got == {"running-image-is-executed": (True, False, []),
                   "seven-is-running": (True, True, ["self->running"]),
                   "guarded": (True, False, ["!self->running"])}
    r = explore(frontend.load(CHECK_MODELS / "invariant-clean.c", COVERAGE / "unexercised.toml"))
    assert r.invariants == [{"name": "running-image-is-executed", "struct": "kimage", "exercised": False,
                             "vacuous": False, "never_needed": []}]
    # the guard of a dereference is needed where the dereference would fault: the short-circuit is the reason
    r = explore(frontend.load(COVERAGE / "guard.c", COVERAGE / "guard.toml"))
    assert r.invariants == [{"name": "guarded-deref", "struct": "outer", "exercised": True, "vacuous": False,
                             "never_needed": []}]


def test_spec_coverage_reaches_every_report():
    r = native(frontend.load(CHECK_MODELS / "invariant-clean.c", COVERAGE / "vacuous.toml"), jobs=1)
    from mkverify.report.text import render
    assert "invariant 'seven-is-running' is vacuous" in render([r])
    assert "seven-is-running" in to_markdown([r], ROOT) and "vacuous" in to_markdown([r], ROOT)
    assert "seven-is-running" in to_html([r], ROOT)
    assert "invariant 'guarded'" not in render([r])  # a guard never needed alone is not worth a note


# ------------------------------------------------------------ the Markdown's mermaid, parsed by mermaid

MERMAID_JS = Path(os.environ.get("MKVERIFY_MERMAID_JS") or
                  ROOT / ".ci-node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js")


def test_markdown_mermaid_parses_and_renders_with_mermaid(v2, tmp_path):
    """Every mermaid block of the Markdown report, parsed and rendered by mermaid itself in Chromium (the
    library GitHub and GitLab draw them with). .ci/run installs it with npm."""
    import browser
    if browser.chromium_path() is None:
        pytest.skip("chromium is not installed (Debian package chromium; .ci/run installs it)")
    if not MERMAID_JS.is_file():
        pytest.skip(f"mermaid is not installed at {MERMAID_JS} (`npm install --prefix .ci-node mermaid@11`, which "
                    f".ci/run runs where npm is; or set MKVERIFY_MERMAID_JS)")
    clean = corpus("illegal-transition-trigger")
    sources = [b for md in (to_markdown([v2], ROOT), to_markdown([clean], ROOT))
               for b in re.findall(r"```mermaid\n(.*?)```", md, re.S)]
    assert len(sources) == sum(1 for f in v2.findings if f.trace) + len(v2.coverage) + len(clean.findings) + 1
    page = tmp_path / "mermaid.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<script src="{MERMAID_JS.resolve().as_uri()}"></script></head><body><div id="out"></div><script>\n'
        "mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});\n"
        f"const sources = {json.dumps(sources)};\n"
        "window.results = (async () => { const out = [];\n"
        "  for (let k = 0; k < sources.length; k++) {\n"
        "    try { await mermaid.parse(sources[k]);\n"
        "          const r = await mermaid.render('d' + k, sources[k]);\n"
        "          out.push(r.svg.length > 500 ? 'ok' : 'small svg'); }\n"
        "    catch (e) { out.push(String(e && e.message || e)); } }\n"
        "  return out; })();\n"
        "</script></body></html>")
    out = browser.render(page, ["window.results"], timeout=120)
    results = out.values["window.results"]
    bad = [(k, r, sources[k][:300]) for k, r in enumerate(results) if r != "ok"]
    assert len(results) == len(sources) and not bad, bad[:3]


def test_html_ids_are_unique_on_a_page_of_several_models(v2):
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot is not installed (Debian package graphviz; .ci/run installs it)")
    from collections import Counter
    page = to_html([v2, corpus("illegal-transition-trigger"), corpus("use-after-free-trigger")], ROOT)
    ids = Counter(re.findall(r'\sid="([^"]+)"', page))
    assert len(ids) > 40 and [k for k, n in ids.items() if n > 1] == []
