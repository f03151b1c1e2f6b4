"""Reading `#define`s from C headers and from patches.

A header is read line by line: continuation lines are joined, comments
removed (as the preprocessor does, in that order), and every `#define` and
`#undef` is taken, whatever `#if` it sits under; when a name is defined
twice, the first definition counts and the others are remembered.

A patch (an mbox, `git format-patch` output, or a mail copied from a web
archive) contributes the post-image of each hunk of a `*.h` file: its
context and `+` lines, never its `-` lines. Mail archives lose the leading
space of context lines, so inside a hunk any line that starts with neither
`+` nor `-` is context. A hunk ends when its `@@ -a,b +c,d @@` line counts
are used up, and in any case at the next `diff --git`, `--- `, `@@`, or the
mail signature `-- `. Locations are lines and columns of the patch file, the
one the reviewer reads; each macro also records its header and post-image
line.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re

from ..diag import HeaderError, SourceLoc
from ..spec import display_path
from .cexpr import Macro, tokenize


@dataclass
class Line:
    """One physical line of a header."""
    # the text, without a patch's '+'/' ' prefix and without the newline
    text: str
    # 1-based line in the file the user gave
    line: int
    # columns before text[0] in that line (1 for a patch line's prefix)
    col0: int = 0
    # for a line of a patch: the header path and its post-image line
    origin: str = ""
    # for a line of a patch: whether it is a '+' line
    added: bool = False


_DIRECTIVE = re.compile(r"\s*#\s*(define|undef)\b\s*")
_NAME = re.compile(r"[A-Za-z_]\w*")
_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def is_patch(text: str) -> bool:
    """Whether a file is a patch (it has a diff) rather than a header."""
    return bool(re.search(r"^(diff --git |\+\+\+ |@@ -\d)", text, re.M))


def read_file(path: Path) -> tuple[dict[str, Macro], str]:
    """The macros of a header or a patch's header hunks, and "header" or "patch"."""
    display = display_path(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise HeaderError(SourceLoc(display), f"cannot read {display}: {e.strerror}")
    text = raw.decode("utf-8", errors="replace")
    if is_patch(text):
        lines = patch_header_lines(text)
        if not lines:
            raise HeaderError(SourceLoc(display), "the patch changes no header (*.h file)",
                              "mkverify flags reads the #defines of the patch's header hunks; give a header instead")
        return read_defines(lines, display), "patch"
    return read_defines(text.splitlines(), display), "header"


def patch_header_lines(text: str) -> list[Line]:
    """The post-image lines of every hunk of a *.h file in a patch, in the patch's order."""
    out: list[Line] = []
    path = None
    left = None   # [old lines, new lines] still to come in the current hunk; None outside a hunk
    post = 0      # post-image line number of the next new line
    for n, raw in enumerate(text.splitlines(), 1):
        if left is not None and (raw.startswith(("diff --git ", "--- ", "@@")) or raw in ("-- ", "--")):
            left = None
        if left is None:
            if raw.startswith("+++ "):
                name = raw[4:].split("\t")[0].strip()
                path = None if name == "/dev/null" else re.sub(r"^[ab]/", "", name)
            elif raw.startswith("diff --git "):
                path = None
            m = _HUNK.match(raw)
            if m and path is not None:
                left = [int(m.group(1) or 1), int(m.group(3) or 1)]
                post = int(m.group(2))
            continue
        kind = raw[:1]
        if kind == "\\":          # "\ No newline at end of file"
            continue
        if kind == "-":
            left[0] -= 1
        else:
            if path.endswith(".h"):
                body, col0 = (raw[1:], 1) if kind in ("+", " ") else (raw, 0)
                out.append(Line(body, n, col0, f"{path}:{post}", kind == "+"))
            post += 1
            left[1] -= 1
            if kind != "+":
                left[0] -= 1
        if left[0] <= 0 and left[1] <= 0:
            left = None
    return out


def read_defines(lines, file: str) -> dict[str, Macro]:
    """The macros defined in `lines` (strings, or Lines), the first definition of each name."""
    lines = [ln if isinstance(ln, Line) else Line(ln, k) for k, ln in enumerate(lines, 1)]
    macros: dict[str, Macro] = {}
    for text, locs, origin, added in _logical_lines(lines):
        m = _DIRECTIVE.match(text)
        if not m:
            continue
        name = _NAME.match(text, m.end())
        if not name:
            continue
        if m.group(1) == "undef":
            macros.pop(name.group(), None)
            continue
        macro = _define(text, locs, name, file, origin)
        macro.added = added
        if macro.name in macros:
            macros[macro.name].redefined.append(macro)
        else:
            macros[macro.name] = macro
    return macros


def _define(text: str, locs: list, name: re.Match, file: str, origin: str) -> Macro:
    """A Macro from a `#define` line whose name `name` matched."""
    k = name.end()
    params = None
    if text[k:k + 1] == "(":
        close = text.find(")", k)
        if close < 0:
            close = len(text)
        params = tuple(p.strip() for p in text[k + 1:close].split(",")) if text[k + 1:close].strip() else ()
        k = close + 1
    body_text = text[k:].strip()
    start = k + (len(text[k:]) - len(text[k:].lstrip()))
    body = tokenize(text[start:], locs[start:], file, name.group())
    line, col = locs[name.start()]
    return Macro(name.group(), params, body, SourceLoc(file, line, col), body_text, origin)


def _logical_lines(lines: list[Line]):
    """(text, per-character (line, col), origin) of each line after splicing and comment removal."""
    in_comment = False
    k = 0
    while k < len(lines):
        chars, locs = [], []
        origin, added = lines[k].origin, lines[k].added
        while True:
            ln = lines[k]
            text = ln.text
            spliced = text.rstrip().endswith("\\")
            if spliced:
                text = text.rstrip()[:-1]
            chars.extend(text)
            locs.extend((ln.line, ln.col0 + c + 1) for c in range(len(text)))
            k += 1
            if not spliced or k >= len(lines):
                break
        locs.append(locs[-1] if locs else (lines[k - 1].line, lines[k - 1].col0 + 1))  # the end of the line
        text, locs, in_comment = _strip_comments("".join(chars), locs, in_comment)
        yield text, locs, origin, added


def _strip_comments(text: str, locs: list, in_comment: bool) -> tuple[str, list, bool]:
    """`text` with comments replaced by one space each; whether a block comment is still open at its end."""
    out, out_locs = [], []
    i = 0
    quote = None
    while i < len(text):
        c = text[i]
        if in_comment:
            end = text.find("*/", i)
            if end < 0:
                i = len(text)
                break
            in_comment = False
            out.append(" ")
            out_locs.append(locs[i])
            i = end + 2
            continue
        if quote:
            out.append(c)
            out_locs.append(locs[i])
            if c == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                out_locs.append(locs[i + 1])
                i += 2
                continue
            if c == quote:
                quote = None
            i += 1
            continue
        if text.startswith("/*", i):
            in_comment = True
            i += 2
            continue
        if text.startswith("//", i):
            break
        if c in "\"'":
            quote = c
        out.append(c)
        out_locs.append(locs[i])
        i += 1
    out_locs.append(locs[-1])
    return "".join(out), out_locs, in_comment
