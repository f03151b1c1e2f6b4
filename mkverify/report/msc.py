"""A counterexample as a message-sequence chart, in SVG (the HTML report).

One lifeline per CPU that took part, then one per object the trace allocated,
changed or freed. Each step is a row: a dot on its CPU's line, an arrow to each
object it changed, its action written along it (whole in the tooltip). Where an
object's state changed, its new state is drawn on its lifeline, between this
step and the next, so the chart reads as the objects' states between steps.
The last row is the violation.
"""
from __future__ import annotations

from html import escape

from .common import state_changes, touched_objects, trace_lanes

ROW = 40            # height of one step
HEAD = 44           # height of the lane headers
LEFT = 200          # the column of step numbers and source locations
CPU_W = 230
OBJ_W = 190
CHAR = 6.3          # an estimate of the width of one character at 11px, for truncation


def _fit(text: str, width: float) -> str:
    n = max(int(width / CHAR), 4)
    return text if len(text) <= n else text[:n - 1] + "…"


def _state_class(state: str) -> str:
    return {"freed": "freed", "reclaimed": "gone"}.get(state, "live")


def sequence_svg(finding, number: int, short_file, uid: str = "") -> str:
    """The chart of one finding's trace; `short_file(loc)` gives the location text of a step, `uid` makes
    the chart's ids unique in its page."""
    uid = uid or str(number)
    trace = finding.trace
    cpus, objects = trace_lanes(trace)
    who = {s.cpu: s.who for s in trace}
    xs: dict = {}
    x = LEFT
    for c in cpus:
        xs[who[c]] = x + CPU_W / 2
        x += CPU_W
    for o in objects:
        xs[o] = x + OBJ_W / 2
        x += OBJ_W
    width = int(x + 10)
    height = HEAD + ROW * (len(trace) + 1) + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="msc" id="msc-{uid}" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="sequence chart of finding {number}">']
    out.append(f"<title>finding {number}: {escape(finding.check)}, {len(trace)} steps</title>")
    bottom = HEAD + ROW * (len(trace) + 1)
    # lane headers and lifelines; an object's line is dashed until its first appearance
    first_seen = {}
    for k, s in enumerate(trace):
        for o in list(s.objects) + touched_objects(s, objects):
            first_seen.setdefault(o, k)
    for name, cx in xs.items():
        is_cpu = name in who.values()
        w = (CPU_W if is_cpu else OBJ_W) - 20
        out.append(f'<rect class="{"lane-cpu" if is_cpu else "lane-obj"}" x="{cx - w / 2:.0f}" y="6" '
                   f'width="{w}" height="26" rx="4"/>')
        out.append(f'<text class="lane-name" x="{cx:.0f}" y="23" text-anchor="middle">{escape(name)}</text>')
        if is_cpu:
            out.append(f'<line class="lifeline" x1="{cx:.0f}" y1="32" x2="{cx:.0f}" y2="{bottom}"/>')
        else:
            y0 = HEAD + ROW * first_seen.get(name, 0)
            out.append(f'<line class="lifeline dashed" x1="{cx:.0f}" y1="32" x2="{cx:.0f}" y2="{y0}"/>')
            out.append(f'<line class="lifeline" x1="{cx:.0f}" y1="{y0}" x2="{cx:.0f}" y2="{bottom}"/>')
    changes = state_changes(trace)
    for k, s in enumerate(trace):
        y = HEAD + ROW * k + 26  # the row's arrow; its text above it; the states between rows above that
        cx = xs[s.who]
        loc = short_file(s.loc)
        full = f"step {s.step}: {s.who} {s.function}: {s.action}"
        if s.changes:
            full += "\n" + "\n".join(s.changes)
        out.append(f'<g class="step" data-step="{s.step}"><title>{escape(full)}</title>')
        out.append(f'<text class="stepno" x="6" y="{y + 4:.0f}">{s.step}</text>')
        out.append(f'<text class="loc" x="30" y="{y + 4:.0f}">{escape(_fit(loc, LEFT - 36))}</text>')
        out.append(f'<circle class="act" cx="{cx:.0f}" cy="{y:.0f}" r="4"/>')
        targets = [o for o in touched_objects(s, objects) if o in xs]
        for o in targets:
            tx = xs[o]
            out.append(f'<line class="msg" x1="{cx + 5:.0f}" y1="{y:.0f}" x2="{tx - 7:.0f}" y2="{y:.0f}" '
                       f'marker-end="url(#arrow-{uid})"/>')
        label = f"{s.function}: {s.action}"
        out.append(f'<text class="action" x="{cx + 9:.0f}" y="{y - 5:.0f}">{escape(_fit(label, CPU_W * 1.6))}</text>')
        out.append("</g>")
        for o, state in changes[k]:
            if o not in xs:
                continue
            bx, by = xs[o], HEAD + ROW * (k + 1)
            w = OBJ_W - 24
            out.append(f'<g class="objstate {_state_class(state)}"><title>{escape(o)} after step {s.step}: '
                       f'{escape(state)}</title><rect x="{bx - w / 2:.0f}" y="{by - 8}" width="{w}" height="16" '
                       f'rx="8"/><text x="{bx:.0f}" y="{by + 4}" text-anchor="middle">'
                       f'{escape(_fit(state, w - 8))}</text></g>')
    y = HEAD + ROW * len(trace) + ROW / 2 + 6
    out.append(f'<g class="violation"><rect x="4" y="{y - 13:.0f}" width="{width - 8}" height="24" rx="4"/>'
               f'<text x="12" y="{y + 3:.0f}">{escape(_fit(f"[{finding.check}] {finding.message}", width - 24))}'
               f"</text><title>{escape(finding.message)}</title></g>")
    out.append(f'<defs><marker id="arrow-{uid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
               'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>')
    out.append("</svg>")
    return "\n".join(out)
