"""Markdown (`mkverify check --markdown FILE`): for a CI job summary or a review comment.

Diagrams are mermaid, which GitHub and GitLab draw inside Markdown (a job summary
or a comment cannot carry image files): each trace a sequenceDiagram, each
lifecycle a stateDiagram. No timings, so the same run gives the same file.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..result import overall_verdict
from .common import state_changes, stats_text, touched_objects, trace_lanes, verdict_text, where
from .lifecycle import lifecycles, to_mermaid

MAX_LABEL = 110
ICON = {"ok": "✅", "violations": "❌", "incomplete": "⚠️"}


def mermaid_text(s: str) -> str:
    """Text safe inside a mermaid statement: the characters its grammar reads become entity codes."""
    out = []
    for ch in s:
        out.append(f"#{ord(ch)};" if ch in ';#:<>{}"`|&\n\\' else ch)
    return "".join(out)


def _short(s: str, n: int = MAX_LABEL) -> str:
    return s if len(s) <= n else s[:n - 1] + "…"


def sequence_mermaid(f) -> str:
    cpus, objects = trace_lanes(f.trace)
    who = {s.cpu: s.who for s in f.trace}
    ids = {who[c]: f"C{c}" for c in cpus}
    lines = ["sequenceDiagram"]
    for c in cpus:
        lines.append(f"  participant C{c} as {who[c]}")
    for k, o in enumerate(objects):
        ids[o] = f"O{k}"
        lines.append(f"  participant O{k} as {mermaid_text(o)}")
    for s, changed in zip(f.trace, state_changes(f.trace)):
        me = ids[s.who]
        text = mermaid_text(_short(f"{s.step}. {s.function}: {s.action}"))
        targets = [ids[o] for o in touched_objects(s, objects) if o in ids]
        if not targets:
            lines.append(f"  {me}->>{me}: {text}")
        for k, t in enumerate(targets):
            lines.append(f"  {me}->>{t}: {text if k == 0 else mermaid_text(f'{s.step}.')}")
        for o, state in changed:
            lines.append(f"  Note over {ids[o]}: {mermaid_text(state)}")
    span = ids[who[cpus[0]]] + ("," + list(ids.values())[-1] if len(ids) > 1 else "")
    lines.append(f"  Note over {span}: {mermaid_text(_short(f'[{f.check}] {f.message}', 160))}")
    return "\n".join(lines) + "\n"


def _code(s: str) -> str:
    """Inline code in a table cell: emphasis and markup stay literal."""
    return "`" + s.replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def to_markdown(results, root: Path) -> str:
    out = ["# mkverify report", "",
           f"{ICON[overall_verdict(results)]} **{overall_verdict(results)}**", "",
           "| model | verdict | explored | engine |", "|---|---|---|---|"]
    for r in results:
        out.append(f"| `{r.model}` | {ICON[r.verdict]} {_cell(verdict_text(r))} | {stats_text(r)} | {r.stats.engine} |")
    out.append("")
    for r in results:
        numbered = list(enumerate(r.findings, 1))
        out += [f"## {r.model}", "", f"{ICON[r.verdict]} **{verdict_text(r)}**: {stats_text(r)}, "
                f"{r.stats.engine} engine.", ""]
        if numbered:
            out += ["### Findings", "", "| # | check | where | steps | message |", "|---|---|---|---|---|"]
            for n, f in numbered:
                out.append(f"| {n} | `{f.check}` | `{where(f.loc, root)}` | {len(f.trace) or '—'} | "
                           f"{_cell(_short(f.message, 140))} |")
            out.append("")
            for n, f in numbered:
                out += [f"#### {n}. `{f.check}` at `{where(f.loc, root)}`", "", f.message, ""]
                for loc, text in f.notes:
                    out.append(f"- note: `{where(loc, root)}`: {text}")
                if f.notes:
                    out.append("")
                if f.counterexample is not None:
                    out += ["Counterexample:", "", "```json", json.dumps(f.counterexample, indent=2), "```", ""]
                if f.trace:
                    cpus, _ = trace_lanes(f.trace)
                    out += [f"<details><summary>Trace: {len(f.trace)} steps on "
                            f"{', '.join({s.cpu: s.who for s in f.trace}[c] for c in cpus)}</summary>", "", "```mermaid",
                            sequence_mermaid(f).rstrip(), "```", "", "| step | CPU | where | action | changes |",
                            "|---|---|---|---|---|"]
                    for s in f.trace:
                        changes = "<br>".join(_code(c) for c in s.changes)
                        out.append(f"| {s.step} | {s.who} | `{where(s.loc, root)}` | "
                                   f"{_code(s.function + ': ' + s.action)} | {changes} |")
                    out += ["", "</details>", ""]
        lcs = lifecycles(r, numbered)
        if lcs:
            out += ["### Lifecycles", ""]
            for lc in lcs:
                out += [f"#### {lc.title}", "", "```mermaid", to_mermaid(lc).rstrip(), "```", "",
                        "| transition | status | taken by | counterexamples |", "|---|---|---|---|"]
                for e in lc.edges:
                    status = {"taken": "taken", "never": "**never taken**", "illegal": "**not in the spec**"}[e.kind]
                    out.append(f"| {e.a} → {e.b} | {status} | {_cell('<br>'.join(e.paths)) or '—'} | "
                               f"{', '.join(f'#{n}' for n in e.findings) or '—'} |")
                out.append("")
        out += _coverage_md(r)
    return "\n".join(out).rstrip() + "\n"


def _coverage_md(r) -> list[str]:
    out = ["### Spec coverage", ""]
    dead = [(c, t) for c in r.coverage for t in c["never_taken"]]
    extra = [(c, t) for c in r.coverage for t in c["not_in_spec"]]
    if not r.coverage:
        out.append("The spec declares no lifecycle.\n")
    elif not dead and not extra:
        out.append("Every transition of the spec was taken, and no other.")
    for c, t in dead:
        out.append(f"- `{c['struct']}.{c['field']}`: spec transition **never taken**: {t}")
    for c, t in extra:
        out.append(f"- `{c['struct']}.{c['field']}`: transition taken that the spec **does not allow**: {t}")
    for i in r.invariants:
        state = ("**never exercised** (no live object where it is checked)" if not i["exercised"] else
                 "**vacuous**" if i["vacuous"] else "exercised")
        out.append(f"- invariant `{i['name']}` ({i['struct']}): {state}" +
                   (f"; never the only reason it held: {', '.join(f'`{_cell(t)}`' for t in i['never_needed'])}"
                    if i["never_needed"] else ""))
    if r.verdict == "incomplete" and (dead or any(not i["exercised"] or i["vacuous"] for i in r.invariants)):
        out.append("- The run was incomplete: what was never taken or exercised may be beyond what was explored.")
    out.append("")
    if r.notes:
        out += ["### Notes", ""] + [f"- {_cell(n)}" for n in r.notes] + [""]
    return out
