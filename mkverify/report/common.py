"""What the file reports (SARIF, JUnit, Markdown, HTML) share: where files are, how a trace is
laid out in lanes, and writing a report so that a killed run never leaves half of one."""
from __future__ import annotations

import os
from pathlib import Path
import re
import stat
import subprocess
import tempfile

from ..diag import SourceLoc, UsageError

FLAG_PREFIX = "flag-"


def repo_root(start: Path | None = None) -> Path:
    """The root of the git work tree holding `start` (default: the current directory), else `start`."""
    here = (start or Path.cwd()).resolve()
    try:
        out = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=here, capture_output=True, text=True,
                             timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip()).resolve()
    except (OSError, subprocess.SubprocessError):
        pass
    return here


def relative_uri(file: str, root: Path) -> str:
    """A finding's file (as the engines print it: relative to the current directory) relative to `root`,
    with forward slashes; files outside `root` keep a `../` path."""
    if not file or file.startswith("<"):
        return file
    p = Path(file)
    p = p if p.is_absolute() else Path.cwd() / p
    return Path(os.path.relpath(p.resolve(), root)).as_posix()


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` to `path` through a temporary file in the same directory and os.replace: a reader
    never sees half a file, and a failed write leaves the old file alone. A path that exists and is not
    a regular file (/dev/null, /dev/stdout, a FIFO) is written in place: it must not be replaced.
    Raises OSError."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        with open(path, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
        return
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_report(path: Path, data: str | bytes) -> None:
    """write_atomic, with a failure as bad usage (exit 2) that names the file; its directory is made."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError as e:
        raise UsageError(SourceLoc(str(path)), f"cannot write the report: {e.strerror or e}",
                         "check that the directory exists and is writable") from None


# ------------------------------------------------------------ traces as lanes

_SLOT = re.compile(r"^([A-Za-z_]\w*\[\d+\])[.:]")
_NAME = re.compile(r"^([A-Za-z_]\w*)")


def touched_objects(step, pool_objects=()) -> list[str]:
    """What a step changed, in the order its changes name it: a pool object (`T[k]`, one of
    `pool_objects` or of the step's `objects`), else the global (or CPU) whose cell it is, by name."""
    out = []
    pool = set(pool_objects) | set(step.objects)
    for c in step.changes:
        m = _SLOT.match(c)
        name = m.group(1) if m and m.group(1) in pool else None
        if name is None:
            m = _NAME.match(c)
            name = m.group(1) if m else None
        if name and name not in out:
            out.append(name)
    for t in step.transitions:
        if t["object"] not in out:
            out.append(t["object"])
    return out


def trace_lanes(trace) -> tuple[list[int], list[str]]:
    """The CPUs that took part in a trace, then the lanes of what it touched: the pool objects it
    allocated, changed or freed, then the globals it changed, each in order of first appearance."""
    cpus, pool, other = [], [], []
    for s in trace:
        if s.cpu not in cpus:
            cpus.append(s.cpu)
        for o in s.objects:
            if o not in pool:
                pool.append(o)
    for s in trace:
        for o in touched_objects(s, pool):
            if o not in pool and o not in other:
                other.append(o)
    return sorted(cpus), pool + other


def state_changes(trace) -> list[list[tuple[str, str]]]:
    """Per step of a trace, the objects whose state it changed and their new state (`reclaimed` when the
    object is gone): what the charts draw between steps."""
    out, before = [], {}
    for s in trace:
        changed = [(o, state) for o, state in s.objects.items() if before.get(o) != state]
        changed += [(o, "reclaimed") for o in before if o not in s.objects]
        out.append(changed)
        before = s.objects
    return out


def lifecycle_edges(trace) -> set[tuple[str, str, str, str]]:
    """The lifecycle transitions a trace made: (struct, field, from, to)."""
    return {(t["struct"], t["field"], t["from"], t["to"]) for s in trace for t in s.transitions}


def where(loc, root: Path) -> str:
    if not loc.line:
        return relative_uri(loc.file, root)
    return f"{relative_uri(loc.file, root)}:{loc.line}:{loc.col}"


def verdict_text(r) -> str:
    n = len(r.findings)
    return {"ok": "no violations", "violations": f"{n} violation{'s' if n != 1 else ''}",
            "incomplete": f"incomplete ({r.incomplete_reason})" if r.incomplete_reason else "incomplete"}[r.verdict]


def stats_text(r) -> str:
    st = r.stats
    if "proofs" in st.extra:
        return f"{st.extra['proofs']:,} proofs"
    if "bound" in st.extra:
        return f"bounded model checking to depth {st.extra['bound']}"
    return f"{st.states:,} states, {st.transitions:,} transitions, depth {st.depth}"


def ran_flag_proofs(r) -> bool:
    return "proofs" in r.stats.extra or any(n.startswith("flag encoding (") for n in r.notes) or \
        any(f.check.startswith(FLAG_PREFIX) for f in r.findings)
