"""SARIF 2.1.0 (`mkverify check --sarif FILE`), in the shape GitHub code scanning ingests.

One run; one rule per check id (mkverify/checks.py); one result per finding, its
ruleId the check id, its location relative to the repository root
(uriBaseId %SRCROOT%). The counterexample is one codeFlow with a threadFlow per
CPU that took part: each step is a threadFlowLocation on its CPU's flow, with
its global step number as executionOrder (so a viewer can interleave the flows
back) and, as `state`, every allocated or freed object after the step. Flag
findings have no trace: their counterexample is in the result's properties.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
import re
from urllib.parse import quote

from .. import __version__
from ..checks import CHECKS
from ..result import overall_verdict
from .common import relative_uri, trace_lanes

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
ROOT = "%SRCROOT%"


def _text(s: str) -> dict:
    return {"text": s}


def _rule(c) -> dict:
    return {
        "id": c.id,
        "name": "".join(w.capitalize() for w in c.id.split("-")),
        "shortDescription": _text(c.short),
        "fullDescription": _text(c.full),
        "help": {"text": c.help, "markdown": f"**{c.short}** ({c.id}): {c.full}\n\n{c.help}"},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["correctness", "flags" if c.id.startswith("flag-") else "concurrency"],
                       "precision": "high", "problem.severity": "error"},
    }


def _physical(loc, root: Path) -> dict:
    # a SARIF uri is a URI reference, not a path: percent-encoded, relative to %SRCROOT%
    out = {"artifactLocation": {"uri": quote(relative_uri(loc.file, root), safe="/"), "uriBaseId": ROOT}}
    if loc.line:
        region = {"startLine": loc.line}
        if loc.col:
            region["startColumn"] = loc.col
        out["region"] = region
    return out


def _step_text(s) -> str:
    text = f"step {s.step}: {s.who} {s.function}: {s.action}"
    if s.changes:
        text += " [" + "; ".join(s.changes) + "]"
    return text


def _code_flow(f, root: Path) -> dict:
    cpus, _ = trace_lanes(f.trace)
    who = {s.cpu: s.who for s in f.trace}
    flows = []
    for cpu in cpus:
        locations = []
        for s in f.trace:
            if s.cpu != cpu:
                continue
            tfl = {"location": {"physicalLocation": _physical(s.loc, root), "message": _text(_step_text(s))},
                   "executionOrder": s.step, "importance": "essential" if s is f.trace[-1] else "important"}
            if s.objects:
                tfl["state"] = {name: _text(state) for name, state in s.objects.items()}
            locations.append(tfl)
        flows.append({"id": who[cpu], "message": _text(who[cpu]), "locations": locations})
    n = len(cpus)
    return {"message": _text(f"{len(f.trace)} steps on {n} CPU{'s' if n != 1 else ''}" if all(
        w.startswith("CPU") for w in who.values()) else f"{len(f.trace)} steps on {n} thread{'s' if n != 1 else ''}"),
            "threadFlows": flows}


_NUMBERS = re.compile(r":\d+(:\d+)?\b")


def _fingerprint(f, root: Path) -> str:
    """The finding's identity for code scanning, as `primaryLocationLineHash`: the check, the file, the
    text of the primary line (not its number, so an edit above it keeps the alert) and the message with
    its line numbers taken out. Distinct findings on one line stay distinct alerts."""
    try:
        lines = Path(f.loc.file).read_text(encoding="utf-8", errors="replace").splitlines()
        text = lines[f.loc.line - 1].strip() if 0 < f.loc.line <= len(lines) else ""
    except OSError:
        text = ""
    key = "\0".join((f.check, relative_uri(f.loc.file, root), text, str(f.loc.col), _NUMBERS.sub("", f.message)))
    return hashlib.sha256(key.encode()).hexdigest()[:16] + ":1"


def _result(r, f, rule_index: dict, root: Path) -> dict:
    message = f.message
    if f.notes:  # code scanning shows related locations only where the message links them
        message += " (see " + ", ".join(f"[note {k}]({k})" for k in range(1, len(f.notes) + 1)) + ")"
    out = {
        "ruleId": f.check, "ruleIndex": rule_index[f.check], "level": "error",
        "message": _text(message),
        "locations": [{"physicalLocation": _physical(f.loc, root)}],
        "partialFingerprints": {"primaryLocationLineHash": _fingerprint(f, root)},
        "properties": {"model": r.model, "steps": len(f.trace)},
    }
    if f.trace:
        out["codeFlows"] = [_code_flow(f, root)]
    if f.notes:
        out["relatedLocations"] = [{"id": k, "physicalLocation": _physical(loc, root), "message": _text(text)}
                                   for k, (loc, text) in enumerate(f.notes, 1)]
    if f.counterexample is not None:
        out["properties"]["counterexample"] = f.counterexample
    return out


def to_sarif(results, root: Path) -> dict:
    """The SARIF log of one `mkverify check` (or `flags`) run."""
    rules = [_rule(c) for c in CHECKS.values()]
    rule_index = {c: k for k, c in enumerate(CHECKS)}
    notifications = []
    for r in results:
        if r.verdict == "incomplete":
            notifications.append({"level": "warning", "descriptor": {"id": "incomplete"},
                                  "message": _text(f"{r.model}: incomplete: {r.incomplete_reason}; the verdict "
                                                   f"covers only what was explored")})
        for note in r.notes:
            notifications.append({"level": "note", "descriptor": {"id": "note"}, "message": _text(f"{r.model}: {note}")})
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "mkverify", "version": __version__, "semanticVersion": __version__,
                                "rules": rules}},
            "originalUriBaseIds": {ROOT: {"description": _text("The root of the repository the models are in.")}},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
            "results": [_result(r, f, rule_index, root) for r in results for f in r.findings],
            "columnKind": "unicodeCodePoints",
            "properties": {"verdict": overall_verdict(results),
                           "models": [{"model": r.model, "verdict": r.verdict, "findings": len(r.findings),
                                       "stats": {k: v for k, v in r.stats.to_json().items()
                                                 if k in ("states", "transitions", "depth", "engine", "bound",
                                                          "proofs")}}
                                      for r in results]},
        }],
    }
