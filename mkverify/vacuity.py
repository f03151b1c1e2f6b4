"""Spec coverage of invariants: was each one ever exercised, and is any part of it vacuous?

An invariant `d1 || d2 || ... || dn` (say `!P || Q`, "P implies Q") holds
vacuously in a disjunct when that disjunct is never the only one true: the
invariant would hold with it removed. For `!P || Q` that means P never held
on a live object, so Q was never asked for — usually a spec that checks
nothing. The engines evaluate *witnesses* beside the invariants, at the same
states (quiescent ones, or every state for `always`), on live objects, and
record which ever held:

- `1`: some live object of the struct existed there (the invariant was
  exercised at all);
- for n >= 2 and each k: `!d1 && ... && !d(k-1) && dk && !Holds(d(k+1)) &&
  ... && !Holds(dn)`: the invariant, evaluated left to right as C does, held
  because of dk, and would not have held without it. The disjuncts after dk
  are ones the invariant itself never evaluated there (`||` stops at dk), so
  each is asked whether it holds without a fault (`!self->p || self->p->x`
  must not count the guard as unneeded because `self->p->x` faults where
  `p` is NULL).

A witness is coverage, not a check: it never makes a finding, and a fault
while evaluating one witnesses nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import ir
from .diag import NOWHERE, SourceLoc


@dataclass(frozen=True, slots=True)
class Holds:
    """1 when `operand` is non-zero and evaluates without a fault, else 0. Only in witnesses: it is not a
    C construct, and the front end never makes one."""
    operand: Any
    type: Any = ir.INT
    loc: SourceLoc = NOWHERE


def disjuncts(e) -> list:
    """The top-level operands of `||` in an expression, left to right."""
    if isinstance(e, ir.Bin) and e.op == "||":
        return disjuncts(e.left) + disjuncts(e.right)
    return [e]


def split_text(text: str) -> list[str]:
    """The source text of an expression split at its top-level `||` (outside parentheses)."""
    parts, depth, start, k = [], 0, 0, 0
    while k < len(text):
        ch = text[k]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and text.startswith("||", k):
            parts.append(text[start:k].strip())
            start = k + 2
            k += 1
        k += 1
    parts.append(text[start:].strip())
    return parts


def witnesses(inv: ir.Invariant) -> list:
    """The witness expressions of an invariant: `1`, then one per disjunct when there are two or more."""
    ds = disjuncts(inv.expr)
    out = [ir.Const(1, ir.INT, inv.loc)]
    if len(ds) < 2:
        return out
    for k, d in enumerate(ds):
        terms = [ir.Un("!", other, ir.INT, inv.loc) for other in ds[:k]] + [d] + \
                [ir.Un("!", Holds(other, ir.INT, inv.loc), ir.INT, inv.loc) for other in ds[k + 1:]]
        w = terms[0]
        for t in terms[1:]:
            w = ir.Bin("&&", w, t, ir.INT, inv.loc)
        out.append(w)
    return out


def coverage(invariants, witnessed: set) -> list[dict]:
    """The JSON `invariants` of a result; `witnessed` holds (invariant index, witness index) pairs.

    `never_needed`: the disjuncts that were never the only one true. `vacuous`: the last of two or more
    (the conclusion of `!P || Q`) is among them, so the invariant only ever held because of the others
    (P never held where it was checked). An earlier disjunct never needed is usually a guard
    (`!self->p || f(self->p)`), which is not worth a warning by itself."""
    out = []
    for v, inv in enumerate(invariants):
        ds = disjuncts(inv.expr)
        texts = split_text(inv.text) if inv.text else []
        if len(texts) != len(ds):
            texts = [f"disjunct {k + 1}" for k in range(len(ds))]
        exercised = (v, 0) in witnessed
        never = [k for k in range(len(ds)) if exercised and len(ds) > 1 and (v, k + 1) not in witnessed]
        out.append({"name": inv.name, "struct": inv.struct, "exercised": exercised,
                    "vacuous": bool(never) and never[-1] == len(ds) - 1,
                    "never_needed": [texts[k] for k in never]})
    return out
