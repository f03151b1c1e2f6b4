"""The explored state graph of a small model: `mkverify graph` (docs/output.md).

The graph is built by the same breadth-first search as the reference engine
(engines/reference.py), over the same machine, in the same order: state k of
the graph is state k of `mkverify check --engine python`, and a state that
violates a state check is reported and not expanded, exactly as there.

Nodes
-----
States are numbered 0, 1, 2, ... in BFS order (0 is the initial state). A
step whose violation is fatal has no successor state (the kernel would oops);
it gets an edge to a *fatal node*, one per fatal finding (per violation key,
so every step that commits the same bug, from any state, ends in the same
node). Fatal nodes are numbered after all states, in the order their finding
was first met. Attributes:

- `kind`: "state" or "fatal"
- `depth`: BFS layer (a fatal node: one more than its shallowest source)
- `label`: a short summary: live and freed objects with their lifecycle
  states and reference counts, locks held, and where each CPU is
  (`CPU0 use:27`, innermost function and line of the instruction it will
  execute next, `waits` when blocked on a lock); for a fatal node, the check,
  place and message
- `violations`: the check ids violated in the state, comma-separated ("" if
  none); `messages`: `file:line:col: message` of each, "; "-separated
- `initial`: the initial state; `frontier`: a state whose successors were not
  all explored because a bound was hit

Edges
-----
One edge per (source, target) pair: `networkx.DiGraph` has no parallel
edges, so two steps from one state to the same successor (e.g. two CPUs that
find nothing to do but re-read a value) are one edge whose `steps` is 2 and
whose other attributes are those of the first step in the machine's order.
The sum of `steps` over all edges is the reference engine's transition count.
Attributes: `cpu`, `function`, `action` (as in a trace: `call f(x=1)` for an
entry point), `line`, `changes` (what the step changed, "; "-separated, as in
a trace; "" for a fatal step), `violations` (check ids found during the step,
comma-separated, warnings included), `steps`.

Every attribute is a str, int or bool, so GraphML holds them all.
"""
from __future__ import annotations

import networkx as nx

from .. import ir
from ..machine import RUNNING, BoundHit, Machine

#: the state bound of `mkverify graph` unless --max-states (or a smaller bounds.max_states) says otherwise
DEFAULT_MAX_STATES = 2000


def state_graph(program: ir.Program, max_states: int = DEFAULT_MAX_STATES, reduce_private: bool = True,
                atomic: bool = False) -> tuple[nx.DiGraph, bool]:
    """(graph, complete): every state reachable within the bounds, at most `max_states` of them.

    `complete` is False when some state could not be expanded: a new state was
    met past `max_states` (the graph then has exactly `max_states` states), the
    spec's depth bound or the IDR capacity was reached. The reason is in
    `graph.graph["incomplete"]` and `incomplete_message(graph)` says it in words."""
    if max_states < 1:
        raise ValueError("max_states must be at least 1")
    m = Machine(program, reduce_private=reduce_private, atomic=atomic)
    g = nx.DiGraph()
    init = m.initial_state()
    visited = {init: 0}
    states = [init]
    fatal: dict = {}       # violation key -> (sink order, violation, depth)
    fatal_edges = []       # (source, violation key, edge attributes), added once the sinks are numbered
    transitions = 0
    incomplete = ""
    hint = ""

    def add_state(idx, s, depth) -> bool:
        bad = m.check_state(s)
        g.add_node(idx, kind="state", depth=depth, label=summary(m, s), violations=_ids(bad),
                   messages=_messages(bad), initial=idx == 0, frontier=False)
        return bool(bad)

    def add_edge(u, v, attrs):
        if g.has_edge(u, v):
            e = g.edges[u, v]
            e["steps"] += 1
            e["violations"] = _merge_ids(e["violations"], attrs["violations"])
        else:
            g.add_edge(u, v, **attrs)

    frontier = [] if add_state(0, init, 0) else [0]
    depth = 0
    max_depth = program.bounds.depth
    while frontier and not incomplete:
        if max_depth and depth >= max_depth:
            waiting = [si for si in frontier if m.enabled(states[si])]
            if waiting:
                incomplete = f"depth bound {max_depth} reached"
                hint = "raise bounds.depth in the spec"
                for si in waiting:
                    g.nodes[si]["frontier"] = True
            break
        nxt = []
        for pos, si in enumerate(frontier):
            s = states[si]
            for lab in m.enabled(s):
                try:
                    ns, viols, x = m.step(s, lab)
                except BoundHit as b:
                    incomplete = f"{b.message} (at {b.loc})"
                    hint = "raise idr_capacity in the spec's [bounds]"
                    break
                if ns is not None and ns not in visited and len(states) >= max_states:
                    incomplete = f"state bound {max_states} reached"
                    hint = "raise --max-states or shrink the model's bounds"
                    break
                transitions += 1
                attrs = {"cpu": lab[0], "function": x.function,
                         "action": x.action if lab[1][0] == "run" else f"call {x.action}",
                         "line": x.loc.line, "changes": "; ".join(m.changes(s, ns)) if ns is not None else "",
                         "violations": _ids(viols), "steps": 1}
                if ns is None:
                    v = viols[-1]  # the fatal one ends the step (machine.py)
                    if v.key not in fatal:
                        fatal[v.key] = (len(fatal), v, depth + 1)
                    fatal_edges.append((si, v.key, attrs))
                    continue
                if ns not in visited:
                    idx = len(states)
                    visited[ns] = idx
                    states.append(ns)
                    if not add_state(idx, ns, depth + 1):  # a violating state is reported, not expanded
                        nxt.append(idx)
                add_edge(si, visited[ns], attrs)
            if incomplete:
                for sj in frontier[pos:] + nxt:
                    if m.enabled(states[sj]):
                        g.nodes[sj]["frontier"] = True
                break
        frontier = nxt
        if nxt:
            depth += 1
    base = len(states)
    for order, v, d in fatal.values():
        g.add_node(base + order, kind="fatal", depth=d, label=f"{v.check} at {v.loc}\n{v.message}",
                   violations=v.check, messages=f"{v.loc}: {v.message}", initial=False, frontier=False)
    for si, key, attrs in fatal_edges:
        add_edge(si, base + fatal[key][0], attrs)
    g.graph.update(model=program.name, states=len(states), transitions=transitions, incomplete=incomplete,
                   hint=hint, max_states=max_states)
    return g, not incomplete


def incomplete_message(g: nx.DiGraph) -> str:
    """Why the graph is partial, for `mkverify: MODEL: ...` ("" when it is complete)."""
    why = g.graph.get("incomplete", "")
    if not why:
        return ""
    if why.startswith("state bound"):
        return f"graph truncated at {g.graph['max_states']} states (the model has more); {g.graph['hint']}"
    return f"graph incomplete: {why}; {g.graph['hint']}"


def _ids(viols) -> str:
    return ",".join(dict.fromkeys(v.check for v in viols))


def _merge_ids(a: str, b: str) -> str:
    return ",".join(dict.fromkeys(x for x in a.split(",") + b.split(",") if x))


def _messages(viols) -> str:
    return "; ".join(f"{v.loc}: {v.message}" for v in viols)


# ------------------------------------------------------------------ state summaries

def summary(m: Machine, state) -> str:
    """A few lines that say what matters in a state: objects, locks, CPUs."""
    mem, threads = state
    objects = [f"{name} {text}" for name, text in m.object_states(state).items()]
    lines = []
    if objects:
        lines.append(", ".join(objects))
    held = []
    for i in m.lock_cells:
        if mem[i] and m._cell_live(mem, i):
            owner = mem[i]
            who = "user space" if owner == m.leaked_owner else m.thread_name(owner - 1) if owner > 0 else "readers"
            held.append(f"{m.cells[i].name} by {who}")
    if held:
        lines.append("held: " + ", ".join(held))
    cpus = []
    for t, th in enumerate(threads):
        if not th:
            cpus.append(f"{m.thread_name(t)} idle")
            continue
        fi, pc = th[-1][0], th[-1][1]
        f = m.funcs[fi]
        text = f"{m.thread_name(t)} {f.name}:{f.body[pc].loc.line}"
        if m.lock_wait(mem, t, th) is not None:
            text += " waits"
        cpus.append(text)
    for c in range(m.nhost, m.ncpu):
        v = mem[m.cpu_state[c]]
        if v != m.init_mem[m.cpu_state[c]]:
            cpus.append(f"CPU{c} runs {m.addr_name(mem[m.cpu_image[c]])}" if v == RUNNING else
                        f"CPU{c} {('offline', 'online')[v]}")
    lines.append(", ".join(cpus))
    return "\n".join(lines)


# ------------------------------------------------------------------ DOT and GraphML

def _q(text) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, newlines as centred line breaks."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\r", "")
    return '"' + text.replace("\n", "\\n") + '"'


def _left(text: str) -> str:
    """A left-justified multi-line DOT label (each line ends with \\l)."""
    lines = str(text).replace("\r", "").split("\n")
    return '"' + "".join(line.replace("\\", "\\\\").replace('"', '\\"') + "\\l" for line in lines) + '"'


def to_dot(g: nx.DiGraph) -> str:
    """Graphviz DOT: violating states and fatal nodes red, the initial state bold, frontier states dashed.
    The same graph gives byte-identical text."""
    out = [f"digraph {_q(g.graph.get('model', 'mkverify'))} {{",
           '  node [shape=box, fontname="monospace", fontsize=10];',
           '  edge [fontname="monospace", fontsize=9];']
    for n in sorted(g.nodes):
        d = g.nodes[n]
        attrs = []
        if d["kind"] == "fatal":
            attrs.append(f"label={_left(d['label'])}")
            attrs += ["shape=octagon", "color=red", "fontcolor=red"]
        else:
            head = f"#{n}" + (f" [{d['violations']}]" if d["violations"] else "")
            attrs.append(f"label={_left(head + chr(10) + d['label'])}")
            style = [s for s, on in (("bold", d["initial"]), ("dashed", d["frontier"])) if on]
            if style:
                attrs.append(f"style={_q(','.join(style))}")
            if d["violations"]:
                attrs += ["color=red", "fontcolor=red"]
        if d["messages"]:
            attrs.append(f"tooltip={_q(d['messages'])}")
        out.append(f"  {n} [{', '.join(attrs)}];")
    for u, v, d in g.edges(data=True):
        label = f"{d.get('thread') or 'CPU' + str(d['cpu'])} {d['function']}:{d['line']}\n{d['action']}"
        if d["steps"] > 1:
            label += f" (x{d['steps']})"
        if d["violations"]:
            label += f"\n[{d['violations']}]"
        attrs = [f"label={_q(label)}"]
        if d["changes"]:
            attrs.append(f"tooltip={_q(d['changes'])}")
        if d["violations"]:
            attrs += ["color=red", "fontcolor=red"]
        out.append(f"  {u} -> {v} [{', '.join(attrs)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def to_graphml(g: nx.DiGraph) -> str:
    """GraphML, as networkx writes it (networkx.read_graphml reads it back; node ids become strings)."""
    return "\n".join(nx.generate_graphml(g)) + "\n"
