"""The documentation shows what mkverify really does.

Every ```console block in README.md and docs/*.md is a transcript: lines that
start with `$ ` are commands, run from the repository root with `bash -c`
(stderr merged into stdout, `mkverify` being the one installed beside this
Python), and the lines after each command are its exact output. `$ echo $?`
shows the exit code of the command before it. Timings are the only thing
allowed to differ.

After a change in mkverify's output, refresh every transcript with
`python tests/test_docs.py --update` and review the diff.
"""
from __future__ import annotations

import os
from pathlib import Path
import re
import subprocess
import sys

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```console\n(.*?)^```", re.M | re.S)
TIMINGS = [
    (re.compile(r"\b\d[\d,]*\.\d+ s, "), "<T> s, "),                 # text summary: "0.17 s, python engine"
    (re.compile(r'("seconds": )\d+(\.\d+)?'), r"\g<1><T>"),          # JSON stats
    # the machine's figures: threads default to its CPUs, memory to its allocator
    (re.compile(r'("(?:jobs|memory_bytes|bytes_per_state)": )\d+(\.\d+)?'), r"\g<1><N>"),
]


def _transcripts():
    for doc in DOCS:
        if not doc.is_file():
            continue
        text = doc.read_text(encoding="utf-8")
        for m in BLOCK.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            steps = []
            for raw in m.group(1).splitlines():
                if raw.startswith("$ "):
                    steps.append([raw[2:], []])
                else:
                    assert steps, f"{doc.name}:{line}: a console block must start with a '$ ' command"
                    steps[-1][1].append(raw)
            yield pytest.param(steps, id=f"{doc.relative_to(REPO)}:{line}")


def _normalize(lines) -> str:
    text = "\n".join(line.rstrip() for line in lines).strip("\n")
    for pattern, repl in TIMINGS:
        text = pattern.sub(repl, text)
    return text


def test_the_docs_have_transcripts():
    assert list(_transcripts()), "no ```console block found in README.md or docs/*.md"


def _run(commands):
    """The real output of each command, in order."""
    env = dict(os.environ, CI="1", PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    env.pop("COLUMNS", None)
    last_rc = None
    for command in commands:
        if command == "echo $?":
            assert last_rc is not None, "'echo $?' needs a command before it"
            yield f"{last_rc}\n"
            continue
        proc = subprocess.run(["bash", "-c", command], cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=600)
        last_rc = proc.returncode
        yield proc.stdout


@pytest.mark.parametrize("steps", list(_transcripts()))
def test_console_transcript_matches_a_real_run(steps):
    for (command, expected), out in zip(steps, _run([c for c, _ in steps])):
        assert _normalize(out.splitlines()) == _normalize(expected), f"$ {command}"


def _update():
    for doc in DOCS:
        if not doc.is_file():
            continue
        text = doc.read_text(encoding="utf-8")

        def redo(m):
            commands = [raw[2:] for raw in m.group(1).splitlines() if raw.startswith("$ ")]
            body = "".join(f"$ {c}\n{out}" + ("" if out.endswith("\n") or not out else "\n")
                           for c, out in zip(commands, _run(commands)))
            return f"```console\n{body}```"
        new = BLOCK.sub(redo, text)
        if new != text:
            doc.write_text(new, encoding="utf-8")
            print(f"updated {doc.relative_to(REPO)}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/test_docs.py --update")
    _update()


def test_every_check_id_has_its_section_in_checks_md():
    from mkverify.checks import CHECKS
    text = (REPO / "docs" / "checks.md").read_text(encoding="utf-8")
    missing = [c for c in CHECKS if f"\n## {c}\n" not in text]
    assert not missing, f"docs/checks.md has no section for {missing}"


def test_every_prelude_name_is_documented_in_model_language_md():
    prelude = (REPO / "mkverify" / "prelude" / "mkverify.h").read_text(encoding="utf-8")
    names = set(re.findall(r"^#define (\w+)", prelude, re.M))
    names |= set(re.findall(r"^[\w ]+?[\s*](\w+)\(", prelude, re.M))       # function declarations
    names |= set(re.findall(r"^typedef .*\b(\w+)(?:\[\d+\])?;$", prelude, re.M))
    names |= {n for n in re.findall(r"^struct (\w+) \{", prelude, re.M)}
    names.discard("_MKVERIFY_PRELUDE_H")
    text = (REPO / "docs" / "model-language.md").read_text(encoding="utf-8")
    missing = sorted(n for n in names if not re.search(rf"\b{re.escape(n)}\b", text))
    assert not missing, f"docs/model-language.md does not mention {missing}"
