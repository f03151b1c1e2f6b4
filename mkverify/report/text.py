"""Terminal output: gcc-style diagnostics, then the trace as `note:` lines."""
from __future__ import annotations

from ..result import ModelResult


def render_finding(f, verbose_changes: bool = True) -> list[str]:
    lines = [f"{f.loc}: error: [{f.check}] {f.message}"]
    lines.extend(f"{loc}: note: {text}" for loc, text in f.notes)
    for s in f.trace:
        where = f"{s.loc.file}:{s.loc.line}:{s.loc.col}" if s.loc.line else s.loc.file
        text = f"{where}: note: step {s.step}: {s.who} {s.function}: {s.action}"
        if verbose_changes and s.changes:
            text += "  [" + "; ".join(s.changes) + "]"
        lines.append(text)
    return lines


def summary(r: ModelResult) -> str:
    st = r.stats
    n = len(r.findings)
    what = {"ok": "no violations", "violations": f"{n} violation{'s' if n != 1 else ''}",
            "incomplete": "incomplete"}[r.verdict]
    def n(k, word):
        return f"{k:,} {word}" + ("" if k == 1 else "s")
    if "proofs" in st.extra:  # mkverify flags: no exploration
        return f"mkverify: {r.model}: {what} ({n(st.extra['proofs'], 'proof')}, {st.seconds:.2f} s, {st.engine})"
    if "bound" in st.extra:  # the z3 engine: bounded model checking, no states counted
        text = (f"mkverify: {r.model}: {what} (bounded model checking to depth {st.extra['bound']}, "
                f"{st.seconds:.2f} s, {st.engine} engine)")
    else:
        text = (f"mkverify: {r.model}: {what} ({n(st.states, 'state')}, {n(st.transitions, 'transition')}, "
                f"depth {st.depth}, {st.seconds:.2f} s, {st.engine} engine"
                + (f", {n(st.extra['partitions'], 'partition')} over Ray" if "partitions" in st.extra else "") + ")")
    if r.incomplete_reason:
        text += f"\nmkverify: {r.model}: incomplete: {r.incomplete_reason}; the verdict covers only what was explored"
    return text


def print_styled(text: str) -> None:
    """Print rendered text to a terminal's stderr with rich: errors red, notes dim, summaries bold."""
    import re
    from rich.console import Console
    from rich.text import Text
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    for line in text.splitlines():
        t = Text(line)
        m = re.search(r": (error|note): ", line)
        if m and m.group(1) == "error":
            t.stylize("bold red", m.start() + 2, m.end() - 2)
            t.stylize("bold", m.end())
        elif m:
            t.stylize("dim", 0, m.start())
            t.stylize("cyan", m.start() + 2, m.end() - 2)
        elif line.startswith("mkverify: "):
            t.stylize("bold")
        console.print(t)


def invariant_notes(r) -> list[str]:
    """What spec reviewers should hear about the invariants: never exercised, or vacuous."""
    out = []
    partial = " (in the part explored: the run was incomplete)" if r.verdict == "incomplete" else ""
    violated = {f.message.split("'")[1] for f in r.findings if f.check == "invariant" and "'" in f.message}
    for i in r.invariants:
        if i["name"] in violated:
            continue  # its finding says more than its coverage
        if not i["exercised"]:
            out.append(f"invariant '{i['name']}' was never exercised: no live {i['struct']} where it is "
                       f"checked{partial}")
        elif i["vacuous"]:
            out.append(f"invariant '{i['name']}' is vacuous: it held only because of its other disjuncts, never "
                       f"because {i['never_needed'][-1]}{partial}")
    return out


def render(results, changes: bool = True) -> str:
    out = []
    for r in results:
        for f in r.findings:
            out.extend(render_finding(f, changes))
        for c in r.coverage:
            if c["never_taken"]:
                out.append(f"mkverify: {r.model}: note: lifecycle {c['struct']}.{c['field']}: spec transitions never "
                           f"taken: {', '.join(c['never_taken'])}")
        out.extend(f"mkverify: {r.model}: note: {text}" for text in invariant_notes(r))
        for note in r.notes:
            out.append(f"mkverify: {r.model}: note: {note}")
        out.append(summary(r))
    return "\n".join(out) + "\n"
