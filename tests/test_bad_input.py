"""Bad input gets `file:line:col: error: message` on stderr, a hint where one
helps, and exit code 2: never a traceback, never a hang (issue 2).

Each case in tests/bad/ states what it expects in leading directive lines,
parsed as TOML (never eval):

    // mkverify: error = "unknown identifier 'instnace'"     a fragment of the message
    // mkverify: where = "unknown-identifier.c:12:11"         the whole location
    // mkverify: hint = "did you mean 'instance'?"            a fragment of the hint (every case has one)

    // mkverify: commands = ["check", "flags"]                the commands to run (optional)

`where` is `file:line:col`; whole-file problems say `file:1:1`, and only a
directory, which has no lines, says just its path. A case is a `.c` file (its
spec is the `.toml` beside it), a `.toml` spec with no `.c` of the same stem
(it names its model), a directory (the directives sit in its spec.toml), or a
header (`.h`) or patch (`.patch`) for `mkverify flags` that starts with
directives. Paths in messages are relative to the case's folder, where
mkverify runs.

`commands` defaults to `mkverify check` and `mkverify ir` (which must report
the same), and to `mkverify flags` alone for a header or patch. `mkverify
flags` is given a header or patch as FILE, and a directory or spec as
`--spec` (the directory's spec.toml).

Two cases are written at run time into a temporary folder, since they are too
big to commit: a 10,000-deep nested expression and a 5 MB source file.

`mkverify check` and `mkverify ir` must report the same. Interpreter start-up
dominates each run, so all cases run up front in a thread pool.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
import os
from pathlib import Path
import re
import subprocess
import sys
import tomllib

import pytest

BAD = Path(__file__).parent / "bad"
TIMEOUT = 60  # seconds per mkverify run; "never a hang"


@dataclass(frozen=True)
class Case:
    name: str
    cwd: Path    # mkverify runs here, so messages name files relative to it
    arg: str     # what `mkverify check` is given
    expect: dict

    @property
    def commands(self) -> list[str]:
        default = ["flags"] if Path(self.arg).suffix in (".h", ".patch") else ["check", "ir"]
        return self.expect.get("commands", default)

    def argv(self, command: str) -> list[str]:
        """The arguments of `command` for this case."""
        if command != "flags" or Path(self.arg).suffix in (".h", ".patch"):
            return [self.arg]
        return ["--spec", self.arg if self.arg.endswith(".toml") else f"{self.arg}/spec.toml"]


def directives(path: Path) -> dict:
    """The leading `// mkverify:` (or `# mkverify:` in TOML) lines of a file, as TOML."""
    prefix = "# mkverify:" if path.suffix == ".toml" else "// mkverify:"
    lines = []
    for line in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        if not line.startswith(prefix):
            break
        lines.append(line[len(prefix):].strip())
    return tomllib.loads("\n".join(lines))


def cases_in(folder: Path) -> list[Case]:
    out = []
    for p in sorted(folder.iterdir()):
        if p.is_dir():
            out.append(Case(p.name, folder, p.name, directives(p / "spec.toml")))
        elif p.suffix == ".c" or (p.suffix == ".toml" and not p.with_suffix(".c").exists()):
            out.append(Case(p.name, folder, p.name, directives(p)))
        elif p.suffix in (".h", ".patch") and p.read_bytes().startswith(b"// mkverify:"):
            out.append(Case(p.name, folder, p.name, directives(p)))
    return out


def write_deep_nesting(folder: Path) -> None:
    # the function's '{' is the first bracket, so the 100th '(' is the 101st level
    (folder / "deep-nesting.c").write_text(
        '// mkverify: error = "brackets are nested more than 100 levels deep"\n'
        '// mkverify: where = "deep-nesting.c:8:111"\n'
        '// mkverify: hint = "split very deep expressions"\n'
        "static int counter;\n"
        "\n"
        "void bump(void)\n"
        "{\n"
        "\tcounter = " + "(" * 10_000 + "1" + ")" * 10_000 + ";\n"
        "}\n", encoding="utf-8")
    (folder / "deep-nesting.toml").write_text('[[entry]]\nfunction = "bump"\n', encoding="utf-8")


def write_huge_source(folder: Path) -> None:
    head = ('// mkverify: error = "KiB; the limit is 1 MiB"\n'
            '// mkverify: where = "huge-source.c:1:1"\n'
            '// mkverify: hint = "split the model"\n'
            "static int counter;\n")
    helper = "static void helper_{0}(int v)\n{{\n\tif (v > {0})\n\t\tcounter = v;\n}}\n"
    parts, size, i = [head], len(head), 0
    while size < 5 * 1024 * 1024:
        parts.append(helper.format(i))
        size += len(parts[-1])
        i += 1
    parts.append("void bump(void)\n{\n\tcounter++;\n}\n")
    (folder / "huge-source.c").write_text("".join(parts), encoding="utf-8")
    (folder / "huge-source.toml").write_text('[[entry]]\nfunction = "bump"\n', encoding="utf-8")


GENERATED = {"deep-nesting.c": write_deep_nesting, "huge-source.c": write_huge_source}
NAMES = [c.name for c in cases_in(BAD)] + sorted(GENERATED)


@dataclass(frozen=True)
class Run:
    returncode: int | None   # None: did not finish in TIMEOUT
    stdout: str
    stderr: str


def mkverify(case: Case, command: str) -> Run:
    try:
        p = subprocess.run([sys.executable, "-m", "mkverify", command, *case.argv(command)], cwd=case.cwd,
                           capture_output=True, text=True, errors="replace", timeout=TIMEOUT,
                           env={**os.environ, "CI": "1", "COLUMNS": "200"})
    except subprocess.TimeoutExpired:
        return Run(None, "", "")
    return Run(p.returncode, p.stdout, p.stderr)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """name -> (case, future of {command: run}), every case started at once."""
    generated = tmp_path_factory.mktemp("bad")
    for write in GENERATED.values():
        write(generated)
    cases = cases_in(BAD) + cases_in(generated)
    with ThreadPoolExecutor(max_workers=max(4, 2 * (os.cpu_count() or 2))) as pool:
        yield {c.name: (c, pool.submit(lambda c=c: {cmd: mkverify(c, cmd) for cmd in c.commands})) for c in cases}


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_is_reported_at_its_place_with_exit_2(name, runs):
    case, future = runs[name]
    exp = case.expect
    assert {"error", "where", "hint"} <= exp.keys(), f"{name} must state error, where and hint"
    done = future.result()
    for command, r in done.items():
        assert r.returncode is not None, f"mkverify {command} {name} did not finish in {TIMEOUT} s"
        assert "Traceback" not in r.stdout + r.stderr, r.stderr
        assert r.returncode == 2, f"mkverify {command} {name} exited {r.returncode}:\n{r.stderr}"
    first, check = next(iter(done.items()))
    lines = check.stderr.splitlines()
    assert lines, f"mkverify {first} {name} printed nothing on stderr"
    where = exp["where"]
    assert re.match(rf"^{re.escape(where)}: error: [a-z\[']", lines[0]), \
        f"expected an error at {where}, got:\n{check.stderr}"
    assert exp["error"] in lines[0], check.stderr
    assert not lines[0].endswith("."), "messages end without a period (GNU style)"
    # every case comes with a hint (issue 6): what to do about it
    assert isinstance(exp["hint"], str) and exp["hint"], f"{name} must state a fragment of its hint"
    assert len(lines) > 1 and lines[1].startswith(f"{where}: note: hint: "), \
        f"expected a hint at {where}, got:\n{check.stderr}"
    assert exp["hint"] in lines[1], check.stderr
    for command, r in done.items():
        assert r.stderr == check.stderr, f"mkverify {command} reports bad input differently from mkverify {first}"
