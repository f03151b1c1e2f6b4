"""Flag encodings proved with z3: `mkverify flags`, and the [flags] part of `mkverify check`.

source.py reads `#define`s from headers and patches, cexpr.py evaluates them
as z3 bit-vectors with C's types, encoding.py finds the fields and sets (from
the spec's [flags] or by name), proofs.py runs the checks. docs/flags.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re
import time

from ..diag import HeaderError, SourceLoc, SpecError, UsageError
from ..result import ModelResult, Stats
from ..spec import display_path

_RANGE = re.compile(r"^([A-Za-z_]\w*)=(-?(?:0[xX][0-9a-fA-F]+|\d+))\.\.(-?(?:0[xX][0-9a-fA-F]+|\d+))$")


@dataclass
class Outcome:
    """What the flag proofs of one encoding found."""
    # flag-* findings
    findings: list
    # notes for the output
    notes: list
    # z3 queries made
    proofs: int
    # wall-clock seconds of reading and proving
    seconds: float


def parse_range(text: str) -> tuple:
    """`--range MACRO=LO..HI` as (name, (lo, hi), loc)."""
    loc = SourceLoc("<command line>")
    m = _RANGE.match(text.replace(" ", ""))
    if not m:
        raise UsageError(loc, f"--range {text!r} is not MACRO=LO..HI", "e.g. --range KEXEC_MK_ID=0..2147483647")
    lo, hi = int(m.group(2), 0), int(m.group(3), 0)
    if lo > hi:
        raise UsageError(loc, f"--range {text!r} is empty (LO > HI)", f"write {m.group(1)}={m.group(3)}..{m.group(2)}")
    return m.group(1), (lo, hi), loc


def headers_of(path: Path) -> list[Path]:
    """The files a FILE argument stands for: itself, or every .h of a directory."""
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.glob("*.h") if p.is_file())
        if not found:
            raise UsageError(SourceLoc(display_path(path)), "no header here: the directory has no .h files",
                             "give a header, a patch, or a model directory with its headers")
        return found
    if not path.exists():
        raise UsageError(SourceLoc(display_path(path)), "no such file or directory")
    return [path]


def spec_headers(spec, model_dir: Path) -> list[Path]:
    """The headers a spec's [flags] names (relative to the model directory), else every .h of the model."""
    fs = spec.flags
    if fs is not None and fs.headers:
        out = []
        for h in fs.headers:
            p = model_dir / h.value
            if not p.is_file():
                raise SpecError(h.loc, f"header '{h.value}' does not exist in {display_path(model_dir)}",
                                "headers are relative to the model directory")
            out.append(p)
        return out
    return headers_of(model_dir)


def read_macros(paths: list[Path]):
    """The macros of several headers or patches (the first definition of a name counts)."""
    from .cexpr import Macros
    from .source import read_file
    merged: dict = {}
    for p in paths:
        macros, _ = read_file(p)
        for name, m in macros.items():
            if name in merged:
                merged[name].redefined.append(m)
            else:
                merged[name] = m
    return Macros(merged)


def prove(paths: list[Path], flags_spec, ranges: dict) -> Outcome:
    """Read the headers and run every flag check."""
    from .encoding import build
    from .proofs import Prover
    start = time.perf_counter()
    enc = build(read_macros(paths), flags_spec, ranges)
    prover = Prover(enc)
    prover.run()
    return Outcome(prover.findings, prover.notes, prover.proofs, time.perf_counter() - start)


def result(name: str, outcome: Outcome) -> ModelResult:
    """A ModelResult for `mkverify flags`: the same contract as `mkverify check`."""
    stats = Stats(engine="z3", seconds=outcome.seconds, extra={"proofs": outcome.proofs})
    return ModelResult(name, "violations" if outcome.findings else "ok", stats, list(outcome.findings),
                       notes=list(outcome.notes))


def model_dir(spec, model_path: Path | None) -> Path:
    """The directory of a model (its .c files and headers)."""
    p = model_path or spec.model or spec.path.parent  # a spec without `model` sits in its model's directory
    p = Path(p)
    return p if p.is_dir() else p.parent


def prove_model(spec, model_path: Path) -> Outcome | None:
    """The flag proofs `mkverify check` runs for a model whose spec has [flags]; None without one."""
    if spec.flags is None:
        return None
    return prove(spec_headers(spec, model_dir(spec, model_path)), spec.flags, {})


def merge(r: ModelResult, outcome: Outcome, headers: str) -> None:
    """Add the flag proofs' findings and notes to an exploration's result (its stats stay the exploration's)."""
    r.findings.extend(outcome.findings)
    if outcome.findings:
        r.verdict = "violations"
    r.notes.extend(outcome.notes)
    n = len(outcome.findings)
    r.notes.append(f"flag encoding ({headers}): {outcome.proofs} proofs, {n} finding{'s' if n != 1 else ''}")


__all__ = ["HeaderError", "Outcome", "parse_range", "headers_of", "spec_headers", "prove", "prove_model", "result",
           "merge", "model_dir"]
