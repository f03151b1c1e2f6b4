"""The lifecycle of a spec'd struct as a graph: the spec's states as nodes, each transition an edge
labelled by the call paths that took it; the edges counterexamples took drawn red, the spec's
transitions the model never took grey and dashed, transitions the model took that the spec does not
allow orange. DOT for graphviz (the HTML report), mermaid for Markdown."""
from __future__ import annotations

from dataclasses import dataclass, field


MAX_PATHS = 3  # call paths named on an edge; the rest are counted


@dataclass
class Edge:
    a: str
    b: str
    kind: str                 # "taken" | "never" | "illegal"
    paths: list = field(default_factory=list)
    findings: list = field(default_factory=list)  # numbers of the findings whose traces take it


@dataclass
class Lifecycle:
    struct: str
    field: str
    states: list
    edges: list
    reached: set

    @property
    def title(self) -> str:
        return f"{self.struct}.{self.field}"


def _pair(text: str) -> tuple[str, str]:
    a, b = text.split(" -> ", 1)
    return a, b


def lifecycles(r, numbered: list) -> list[Lifecycle]:
    """The lifecycles of a model's result; `numbered` is [(number, finding)] as the report numbers them."""
    out = []
    for c in r.coverage:
        cex: dict = {}
        for n, f in numbered:
            for s in f.trace:
                for t in s.transitions:
                    if t["struct"] == c["struct"] and t["field"] == c["field"]:
                        lst = cex.setdefault((t["from"], t["to"]), [])
                        if n not in lst:
                            lst.append(n)
        taken_by = c.get("taken_by", {})
        illegal = {_pair(t) for t in c["not_in_spec"]}
        edges = []
        for t in c["taken"]:
            a, b = _pair(t)
            edges.append(Edge(a, b, "illegal" if (a, b) in illegal else "taken", list(taken_by.get(t, [])),
                              cex.get((a, b), [])))
        for t in c["never_taken"]:
            a, b = _pair(t)
            edges.append(Edge(a, b, "never", [], cex.get((a, b), [])))
        states = list(c.get("states", []))
        for e in edges:
            for s in (e.a, e.b):
                if s not in states:
                    states.append(s)
        reached = {s for e in edges if e.kind != "never" for s in (e.a, e.b)}
        out.append(Lifecycle(c["struct"], c["field"], states, edges, reached))
    return out


def numbers(ns: list) -> str:
    """#1-#4, #7: finding numbers with runs folded."""
    out, k = [], 0
    ns = sorted(ns)
    while k < len(ns):
        j = k
        while j + 1 < len(ns) and ns[j + 1] == ns[j] + 1:
            j += 1
        out.append(f"#{ns[k]}" if j == k else f"#{ns[k]}–#{ns[j]}")
        k = j + 1
    return ", ".join(out)


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _paths_label(paths: list) -> str:
    shown = [p.replace(" > ", " › ") for p in paths[:MAX_PATHS]]
    if len(paths) > MAX_PATHS:
        shown.append(f"+{len(paths) - MAX_PATHS} more")
    return "\n".join(shown)


def to_dot(lc: Lifecycle, uid: str = "") -> str:
    """`uid` prefixes the SVG ids, so that several graphs can share a page."""
    lines = [f"digraph {_q(lc.title)} {{", f"  id={_q(uid + 'lifecycle')};", "  rankdir=TB;",
             '  bgcolor="transparent";',
             '  node [shape=box, style="rounded,filled", fillcolor="#eef3fb", color="#3b5b8c", '
             'fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=9, color="#3b5b8c"];']
    for s in lc.states:
        attrs = "" if s in lc.reached else ', fillcolor="#f2f2f2", color="#aaaaaa", fontcolor="#888888"'
        lines.append(f"  {_q(s)} [id={_q(uid + 'state-' + s)}{attrs}];")
    for k, e in enumerate(lc.edges):
        label = _paths_label(e.paths) if e.kind != "never" else "never taken"
        if e.findings:
            label += "\ncounterexample " + numbers(e.findings)
        attrs = [f"id={_q(f'{uid}edge-{k}')}", f"label={_q(label)}",
                 f"tooltip={_q(chr(10).join(e.paths) or label)}", f"class={_q('lc-edge lc-' + e.kind)}"]
        if e.kind == "never":
            attrs += ['style=dashed', 'color="#b0b0b0"', 'fontcolor="#999999"']
        elif e.kind == "illegal":
            attrs += ['color="#d9822b"', 'fontcolor="#b5651d"', 'penwidth=2']
        if e.findings:
            attrs += ['color="#c62828"', 'fontcolor="#c62828"', 'penwidth=2.5']
        lines.append(f"  {_q(e.a)} -> {_q(e.b)} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


NO_DOT = "graphviz's `dot` is not installed (Debian: apt-get install graphviz)"


def to_svg(dot: str) -> str | None:
    """graphviz's rendering of `dot`, as an inline <svg> element (no XML prolog); None without graphviz."""
    import graphviz
    try:
        svg = graphviz.Source(dot).pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        return None
    except graphviz.CalledProcessError as e:  # a bug in the DOT we wrote
        raise RuntimeError(f"graphviz failed on a lifecycle graph: {e.stderr}") from None
    start = svg.find("<svg")
    return svg[start:].strip() if start >= 0 else svg


def _mid(s: str) -> str:
    """A mermaid node id: letters, digits and _ only."""
    return "s_" + "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in s)


def to_mermaid(lc: Lifecycle) -> str:
    """A mermaid flowchart (a state diagram cannot style its edges): never-taken transitions dotted and
    grey, counterexample transitions red and thick, transitions outside the spec orange."""
    from .markdown import mermaid_text
    lines = ["flowchart TB"]
    for s in lc.states:
        lines.append(f'  {_mid(s)}(["{mermaid_text(s)}"])')
    styles = []
    for k, e in enumerate(lc.edges):
        if e.kind == "never":
            label = "never taken"
        else:
            label = ", ".join(dict.fromkeys(p.split(" > ")[0] for p in e.paths)) or "taken"
        if e.kind == "illegal":
            label += " (not in the spec)"
        if e.findings:
            label += "; counterexample " + numbers(e.findings)
        arrow = "-.->" if e.kind == "never" else "-->"
        lines.append(f'  {_mid(e.a)} {arrow}|"{mermaid_text(label)}"| {_mid(e.b)}')
        if e.findings:
            styles.append(f"  linkStyle {k} stroke:#c62828,stroke-width:3px")
        elif e.kind == "never":
            styles.append(f"  linkStyle {k} stroke:#b0b0b0")
        elif e.kind == "illegal":
            styles.append(f"  linkStyle {k} stroke:#d9822b,stroke-width:2px")
    lines += styles
    unreached = [s for s in lc.states if s not in lc.reached]
    if unreached:
        lines.append("  classDef unreached fill:#f2f2f2,color:#888888,stroke:#aaaaaa")
        lines.append("  class " + ",".join(_mid(s) for s in unreached) + " unreached")
    return "\n".join(lines) + "\n"
