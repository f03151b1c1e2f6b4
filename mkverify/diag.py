"""Source locations and the error types every layer raises.

One `SourceLoc(file, line, col)`; its text form is `file:line:col`. Each layer
raises one error class that carries a loc and, where we know one, a hint. The
CLI turns every `MkverifyError` into a GNU-style message and exit code 2; any
other exception is an internal error (a bug in mkverify, never in the model).
"""
from __future__ import annotations

from dataclasses import dataclass
import difflib


@dataclass(frozen=True, slots=True)
class SourceLoc:
    """A position in a user's file; line and col are 1-based (0 = unknown)."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        if self.col <= 0:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.col}"

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "column": self.col}


NOWHERE = SourceLoc("<unknown>", 0, 0)


class MkverifyError(Exception):
    """Bad input: a message about the user's files, never a traceback."""

    def __init__(self, loc: SourceLoc, message: str, hint: str | None = None):
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = f"{self.loc}: error: {self.message}"
        if self.hint:
            text += f"\n{self.loc}: note: hint: {self.hint}"
        return text


class FrontendError(MkverifyError):
    """The model's C is malformed, ill-typed, or outside the supported subset."""


class SpecError(MkverifyError):
    """The spec TOML is malformed or names something the model lacks."""


class IRError(MkverifyError):
    """The IR validator rejected a program (front-end bug or hand-made IR)."""


class HeaderError(MkverifyError):
    """A header or patch (mkverify flags) holds a macro that cannot be read, or lacks one that is needed."""


class UsageError(MkverifyError):
    """The command line names something that does not exist or cannot work."""


def did_you_mean(name: str, candidates) -> str | None:
    """A 'did you mean' hint for a misspelt name, or None."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None
