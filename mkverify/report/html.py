"""HTML (`mkverify check --html DIR`): DIR/index.html, one static page with inline SVG and no script.

Per model: the verdict; each lifecycle drawn by graphviz (counterexample edges
red, spec transitions never taken grey and dashed, transitions outside the spec
orange), with the call paths of each transition and the DOT source; the spec
coverage; each finding with its trace as a sequence chart (msc.py) and as a
table. No timings, so the same run gives the same page (for a given graphviz).
"""
from __future__ import annotations

from html import escape
import json
from pathlib import Path

from .. import __version__
from ..result import overall_verdict
from .common import stats_text, verdict_text, where, write_report
from .lifecycle import NO_DOT, lifecycles, to_dot, to_svg
from .msc import sequence_svg

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto;
       max-width: 1400px; padding: 0 24px 48px; color: #1d232b; background: #fff; }
h1 { border-bottom: 2px solid #3b5b8c; padding-bottom: 6px; }
h2 { margin-top: 40px; border-bottom: 1px solid #ccd6e4; }
code, pre, .loc, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #d5dbe3; padding: 3px 8px; text-align: left; vertical-align: top; font-size: 13px; }
th { background: #eef3fb; }
.verdict-ok { color: #1b7d3a; font-weight: 600; }
.verdict-violations { color: #c62828; font-weight: 600; }
.verdict-incomplete { color: #b26a00; font-weight: 600; }
.finding { border: 1px solid #e3c7c7; border-left: 4px solid #c62828; border-radius: 4px; padding: 4px 14px 10px;
           margin: 16px 0; }
.finding h4 { margin: 8px 0; }
.chart { overflow-x: auto; border: 1px solid #e3e7ed; border-radius: 4px; margin: 8px 0; }
.lifecycle { overflow-x: auto; }
.never { color: #888; }
.illegal { color: #b5651d; font-weight: 600; }
.warn { color: #b26a00; }
svg.msc text { font-family: system-ui, Helvetica, Arial, sans-serif; font-size: 11px; fill: #1d232b; }
svg.msc .lane-cpu { fill: #e6eefb; stroke: #3b5b8c; }
svg.msc .lane-obj { fill: #f4efe3; stroke: #8c6d3b; }
svg.msc .lane-name { font-weight: 600; }
svg.msc .lifeline { stroke: #9aa7b8; stroke-width: 1; }
svg.msc .lifeline.dashed { stroke-dasharray: 3 4; }
svg.msc .act { fill: #3b5b8c; }
svg.msc .msg { stroke: #3b5b8c; stroke-width: 1.2; }
svg.msc .arrowhead { fill: #3b5b8c; }
svg.msc .stepno { font-weight: 600; fill: #56606c; }
svg.msc .loc { fill: #56606c; font-size: 10px; }
svg.msc .objstate rect { fill: #fff7dd; stroke: #c9a43b; }
svg.msc .objstate.freed rect { fill: #fde4e4; stroke: #c62828; }
svg.msc .objstate.gone rect { fill: #eeeeee; stroke: #999999; }
svg.msc .objstate text { font-size: 10px; }
svg.msc .violation rect { fill: #fde4e4; stroke: #c62828; }
svg.msc .violation text { fill: #8e1b1b; font-weight: 600; }
svg.msc .step:hover text.action { font-weight: 600; }
"""


def _badge(r) -> str:
    return f'<span class="verdict-{r.verdict}">{escape(verdict_text(r))}</span>'


def _trace_table(f, root) -> str:
    rows = ["<table class=\"trace\"><tr><th>step</th><th>CPU</th><th>where</th><th>action</th><th>changes</th>"
            "<th>objects after</th></tr>"]
    for s in f.trace:
        objs = "<br>".join(f"{escape(o)}: {escape(st)}" for o, st in s.objects.items())
        rows.append(f"<tr><td>{s.step}</td><td>{s.who}</td><td class=\"mono\">{escape(where(s.loc, root))}</td>"
                    f"<td><b>{escape(s.function)}</b>: {escape(s.action)}</td>"
                    f"<td>{'<br>'.join(escape(c) for c in s.changes)}</td><td>{objs}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _finding(n, f, root, pre) -> str:
    out = [f'<section class="finding" id="{pre}finding-{n}" data-check="{escape(f.check)}">',
           f"<h4>{n}. <code>{escape(f.check)}</code> at <code>{escape(where(f.loc, root))}</code></h4>",
           f"<p>{escape(f.message)}</p>"]
    if f.notes:
        out.append("<ul>" + "".join(f"<li>note: <code>{escape(where(loc, root))}</code>: {escape(text)}</li>"
                                    for loc, text in f.notes) + "</ul>")
    if f.counterexample is not None:
        out.append(f"<p>Counterexample:</p><pre>{escape(json.dumps(f.counterexample, indent=2))}</pre>")
    if f.trace:
        short = lambda loc: where(loc, root).rsplit("/", 1)[-1]
        out.append(f'<div class="chart">{sequence_svg(f, n, short, f"{pre}{n}")}</div>')
        out.append(f"<details><summary>The trace as a table ({len(f.trace)} steps)</summary>"
                   f"{_trace_table(f, root)}</details>")
    out.append("</section>")
    return "\n".join(out)


def _lifecycle(lc, pre, k, warn) -> str:
    dot = to_dot(lc, f"{pre}lc{k}-")
    svg = to_svg(dot)
    if svg is None:
        warn(f"the HTML report shows the lifecycle of {lc.title} as DOT source: {NO_DOT}")
        svg = f'<p class="warn">Not drawn: {escape(NO_DOT)}. Its DOT source is below.</p>'
    rows = []
    for e in lc.edges:
        status = {"taken": "taken", "never": '<span class="never">never taken</span>',
                  "illegal": '<span class="illegal">not in the spec</span>'}[e.kind]
        links = ", ".join(f'<a href="#{pre}finding-{n}">#{n}</a>' for n in e.findings) or "—"
        paths = "<br>".join(escape(p) for p in e.paths) or "—"
        rows.append(f"<tr><td>{escape(e.a)} → {escape(e.b)}</td><td>{status}</td>"
                    f'<td class="mono">{paths}</td><td>{links}</td></tr>')
    return (f'<h3>Lifecycle of <code>{escape(lc.title)}</code></h3>'
            f'<div class="lifecycle" data-lifecycle="{escape(lc.title)}">{svg}</div>'
            "<table><tr><th>transition</th><th>status</th><th>taken by (call paths)</th><th>counterexamples</th></tr>"
            + "".join(rows) + "</table>"
            f"<details><summary>DOT source</summary><pre class=\"dot\">{escape(dot)}</pre></details>")


def _coverage(r) -> str:
    items = []
    for c in r.coverage:
        for t in c["never_taken"]:
            items.append(f'<li class="warn"><code>{escape(c["struct"])}.{escape(c["field"])}</code>: spec transition '
                         f"never taken: {escape(t)}</li>")
        for t in c["not_in_spec"]:
            items.append(f'<li class="illegal"><code>{escape(c["struct"])}.{escape(c["field"])}</code>: taken, but '
                         f"not in the spec: {escape(t)}</li>")
    head = ("<p>The spec declares no lifecycle.</p>" if not r.coverage else
            "" if items else "<p>Every transition of the spec was taken, and no other.</p>")
    for i in r.invariants:
        if not i["exercised"]:
            items.append(f'<li class="illegal">invariant <code>{escape(i["name"])}</code>: never exercised (no live '
                         f"{escape(i['struct'])} where it is checked)</li>")
            continue
        state = '<span class="illegal">vacuous</span>' if i["vacuous"] else "exercised"
        never = ", ".join(f"<code>{escape(t)}</code>" for t in i["never_needed"])
        items.append(f"<li>invariant <code>{escape(i['name'])}</code>: {state}"
                     + (f"; never the only reason it held: {never}" if never else "") + "</li>")
    if r.verdict == "incomplete" and items:
        items.append("<li>The run was incomplete: what was never taken or exercised may be beyond what was "
                     "explored.</li>")
    return head + ("<ul>" + "".join(items) + "</ul>" if items else "")


def to_html(results, root: Path, warn=lambda text: None) -> str:
    """The page; `warn(text)` hears what could not be drawn (no graphviz)."""
    verdict = overall_verdict(results)
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>mkverify report: {escape(verdict)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
           f'<h1>mkverify report: <span class="verdict-{verdict}">{escape(verdict)}</span></h1>',
           '<table class="verdicts"><tr><th>model</th><th>verdict</th><th>explored</th><th>engine</th></tr>']
    for k, r in enumerate(results):
        out.append(f'<tr><td><a href="#model-{k}"><code>{escape(r.model)}</code></a></td><td>{_badge(r)}</td>'
                   f"<td>{escape(stats_text(r))}</td><td>{escape(r.stats.engine)}</td></tr>")
    out.append("</table>")
    for k, r in enumerate(results):
        numbered = list(enumerate(r.findings, 1))
        pre = f"m{k}-"
        out.append(f'<section class="model" id="model-{k}"><h2><code>{escape(r.model)}</code>: {_badge(r)}</h2>')
        out.append(f"<p>{escape(stats_text(r))}, {escape(r.stats.engine)} engine.</p>")
        if numbered:
            out.append('<table class="findings"><tr><th>#</th><th>check</th><th>where</th><th>steps</th>'
                       "<th>message</th></tr>")
            for n, f in numbered:
                out.append(f'<tr><td><a href="#{pre}finding-{n}">{n}</a></td><td><code>{escape(f.check)}</code></td>'
                           f"<td class=\"mono\">{escape(where(f.loc, root))}</td><td>{len(f.trace) or '—'}</td>"
                           f"<td>{escape(f.message)}</td></tr>")
            out.append("</table>")
        for j, lc in enumerate(lifecycles(r, numbered)):
            out.append(_lifecycle(lc, pre, j, warn))
        out.append("<h3>Spec coverage</h3>" + _coverage(r))
        if r.notes:
            out.append("<h3>Notes</h3><ul>" + "".join(f"<li>{escape(n)}</li>" for n in r.notes) + "</ul>")
        if numbered:
            out.append("<h3>Findings</h3>")
            out.extend(_finding(n, f, root, pre) for n, f in numbered)
        out.append("</section>")
    out += [f'<footer><p class="mono">mkverify {escape(__version__)}</p></footer>', "</body>", "</html>"]
    return "\n".join(out) + "\n"


def write_html(results, directory: Path, root: Path, warn=lambda text: None) -> Path:
    path = Path(directory) / "index.html"
    write_report(path, to_html(results, root, warn))
    return path
