"""Tiny helpers shared by the tests: the per-check model corpus and ways to
ask questions about a ModelResult."""
from __future__ import annotations

import os
from pathlib import Path
import re

from mkverify import frontend

ROOT = Path(__file__).resolve().parent.parent
CHECK_MODELS = ROOT / "tests" / "models" / "checks"

#: <check-id>-trigger[-<cause>].c or <check-id>-clean[-<cause>].c
MODEL_NAME = re.compile(r"^(?P<check>[a-z]+(?:-[a-z]+)*?)-(?P<kind>trigger|clean)(?:-(?P<cause>[a-z0-9]+(?:-[a-z0-9]+)*))?$")

#: what tests/test_sanitizers.py sets for the suite it runs again under ASan: our sanitized build, the
#: runtime preloaded for it, and the sanitizers' options
SANITIZED_RUN = ("MKVERIFY_EXPLORE_SO", "LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")


def unsanitized_env(**extra: str) -> dict:
    """This process's environment without the sanitized run's settings, for a child that must not
    inherit them (Chromium, the fuzz harnesses with their own build), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in SANITIZED_RUN}
    env.update(extra)
    return env


#: keys a `// mkverify:` directive block may have
DIRECTIVE_KEYS = {"expect", "checks", "trace"}


def check_models() -> list[Path]:
    """Every model of the per-check corpus, sorted."""
    return sorted(CHECK_MODELS.glob("*.c"))


def model_name(path: Path) -> tuple[str, str, str]:
    """(check id, "trigger" or "clean", cause or "") from a corpus file name."""
    m = MODEL_NAME.match(Path(path).stem)
    if not m:
        raise ValueError(f"{path.name}: not <check-id>-trigger[-cause].c or <check-id>-clean[-cause].c")
    return m.group("check"), m.group("kind"), m.group("cause") or ""


def expectation(path: Path) -> dict:
    """The model's leading `// mkverify:` directives."""
    return frontend.expectation([Path(path)])


def run(engine, path: Path):
    """Load a model (with the spec beside it) and explore it with `engine`."""
    return engine(frontend.load(Path(path)))


def checks_found(result) -> set[str]:
    return {f.check for f in result.findings}


def findings(result, check: str) -> list:
    return [f for f in result.findings if f.check == check]


def shortest(result, check: str):
    """The finding of `check` with the shortest trace (the first one BFS met)."""
    found = findings(result, check)
    assert found, f"no {check} finding; found {sorted(checks_found(result))}"
    return min(found, key=lambda f: len(f.trace))


def line_of(path: Path, needle: str, after: str | None = None) -> int:
    """1-based line of the first line containing `needle` (after the first line containing `after`)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    start = 0
    if after is not None:
        start = next(n for n, line in enumerate(lines) if after in line) + 1
    for n in range(start, len(lines)):
        if needle in lines[n]:
            return n + 1
    raise AssertionError(f"{Path(path).name}: no line contains {needle!r}" + (f" after {after!r}" if after else ""))


def same_file(reported: str, path: Path) -> bool:
    """Whether a file name in a SourceLoc (relative to the working directory, or absolute) is `path`."""
    return Path(reported).resolve() == Path(path).resolve()


LOC = re.compile(r"(?P<file>[^\s,;()]+\.c):(?P<line>\d+):(?P<col>\d+)")


def locs_in(message: str) -> list[tuple[str, int, int]]:
    """The file:line:col places a message mentions."""
    return [(m.group("file"), int(m.group("line")), int(m.group("col"))) for m in LOC.finditer(message)]
