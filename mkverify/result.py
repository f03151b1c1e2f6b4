"""Result: what every engine returns and every report renders.

The JSON form (`to_json`) is a public interface: CI jobs parse it. Keys are
only ever added, never renamed or removed. Documented in docs/output.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .diag import SourceLoc

# exit codes: one place, documented in docs/exit-codes.md, tested
EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_BAD_INPUT = 2
EXIT_INCOMPLETE = 3
EXIT_INTERNAL = 4


@dataclass
class Step:
    """One step of a counterexample: which CPU did what, where, and what changed."""
    step: int
    cpu: int
    function: str
    loc: SourceLoc
    action: str
    changes: list = field(default_factory=list)
    #: lifecycle transitions the step made: {"object", "struct", "field", "from", "to", "allowed"}
    transitions: list = field(default_factory=list)
    #: after the step, every allocated or freed object and its state ("freed", lifecycle state, "ref N")
    objects: dict = field(default_factory=dict)
    #: the thread's name: "CPU<cpu>" for a host CPU, "kworker<n>" for a worker thread (deferred work)
    thread: str = ""

    @property
    def who(self) -> str:
        return self.thread or f"CPU{self.cpu}"

    def to_json(self) -> dict:
        return {"step": self.step, "cpu": self.cpu, "thread": self.who, "function": self.function,
                "file": self.loc.file, "line": self.loc.line, "column": self.loc.col, "action": self.action,
                "changes": list(self.changes), "transitions": list(self.transitions), "objects": dict(self.objects)}


@dataclass
class Finding:
    """A violated check with a shortest trace to it."""
    check: str
    message: str
    loc: SourceLoc
    trace: list
    state: int = -1  # index of the last state of the trace in the engine's numbering
    counterexample: dict | None = None  # flag checks: the concrete values (docs/output.md); None for the others
    notes: list = field(default_factory=list)  # (SourceLoc, text): related places, printed as note: lines

    def to_json(self) -> dict:
        out = {"check": self.check, "message": self.message, "location": self.loc.to_json(),
               "trace": [s.to_json() for s in self.trace]}
        if self.counterexample is not None:
            out["counterexample"] = self.counterexample
        return out


@dataclass
class Stats:
    states: int = 0
    transitions: int = 0
    depth: int = 0
    seconds: float = 0.0
    engine: str = ""
    extra: dict = field(default_factory=dict)  # engine-specific figures: jobs, storage, memory_bytes, ...

    def to_json(self) -> dict:
        return {"states": self.states, "transitions": self.transitions, "depth": self.depth,
                "seconds": round(self.seconds, 3), "engine": self.engine, **self.extra}


@dataclass
class ModelResult:
    """The outcome of checking one model."""
    model: str
    verdict: str                    # "ok" | "violations" | "incomplete"
    stats: Stats
    findings: list = field(default_factory=list)
    incomplete_reason: str = ""
    notes: list = field(default_factory=list)
    coverage: list = field(default_factory=list)  # per lifecycle: {"struct", "field", "taken", "never_taken"}
    invariants: list = field(default_factory=list)  # per spec invariant: {"name", "struct", "exercised", "vacuous"}

    def to_json(self) -> dict:
        out = {"model": self.model, "verdict": self.verdict, "stats": self.stats.to_json(),
               "findings": [f.to_json() for f in self.findings]}
        if self.incomplete_reason:
            out["incomplete_reason"] = self.incomplete_reason
        out["notes"] = list(self.notes)
        out["coverage"] = self.coverage
        out["invariants"] = self.invariants
        return out


def overall_verdict(results) -> str:
    verdicts = {r.verdict for r in results}
    if "violations" in verdicts:
        return "violations"
    if "incomplete" in verdicts:
        return "incomplete"
    return "ok"


def exit_code(verdict: str) -> int:
    return {"ok": EXIT_OK, "violations": EXIT_VIOLATIONS, "incomplete": EXIT_INCOMPLETE}[verdict]


def run_to_json(results) -> dict:
    return {"verdict": overall_verdict(results), "models": [r.to_json() for r in results]}
