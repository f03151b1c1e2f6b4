"""The command-line contract: exit codes, the JSON document on stdout, the
gcc-style text on stderr, bound overrides, `mkverify ir`, and the default
models/ + specs/ lookup. The exit codes are checked through `python -m
mkverify` in a subprocess, as CI runs it; the other tests invoke the same click
command in-process (interpreter start-up would dominate the run time). No
output may ever contain a Python traceback.

Exit codes (mkverify/result.py): 0 no violation, 1 violations, 2 bad input or
usage, 3 incomplete, 4 internal error.
"""
from __future__ import annotations

from dataclasses import dataclass
import functools
import json
import os
from pathlib import Path
import re
import shutil
import subprocess
import sys

from click.testing import CliRunner
import pytest

from mkverify import frontend, ir
from mkverify.cli import main
from mkverify.result import EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATIONS

CLI = Path(__file__).parent / "fixtures" / "cli"
CLEAN = "clean.c"   # the example model, fixed: no violations
BUGGY = "buggy.c"   # the example model: use() reads o->state after drop() freed it

ERROR_LINE = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+): error: \[(?P<check>[a-z0-9]+(?:-[a-z0-9]+)*)\] "
                        r"(?P<msg>[a-z].*[^.])$")
NOTE_LINE = re.compile(r"^[^\s:]+:\d+:\d+: note: step (?P<n>\d+): CPU\d+ \S+: .+$")


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def _no_traceback(r: Run) -> Run:
    assert "Traceback" not in r.stdout and "Traceback" not in r.stderr, r.stdout + r.stderr
    return r


@functools.lru_cache(maxsize=None)
def _invoke(args: tuple, cwd: Path) -> Run:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        res = CliRunner().invoke(main, list(args), env={"CI": "1"})
    finally:
        os.chdir(old)
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception  # CliRunner would report it as exit code 1, the code for violations
    return _no_traceback(Run(res.exit_code, res.stdout, res.stderr))


def mkverify(*args, cwd: Path = CLI) -> Run:
    """`mkverify ARGS` in-process (as `python -m mkverify` runs it, minus interpreter start-up).

    Runs are cached: the same command in the same directory is run once per session."""
    return _invoke(tuple(map(str, args)), Path(cwd))


def mkverify_subprocess(*args, cwd: Path = CLI, **env) -> Run:
    r = subprocess.run([sys.executable, "-m", "mkverify", *map(str, args)], cwd=cwd,
                       env=dict(os.environ, CI="1", **env), capture_output=True, text=True, timeout=60)
    return _no_traceback(Run(r.returncode, r.stdout, r.stderr))


def check_json(*args, cwd: Path = CLI) -> tuple[int, dict]:
    r = mkverify("check", "--format", "json", *args, cwd=cwd)
    return r.returncode, json.loads(r.stdout)


# ---------------------------------------------------------------- exit codes


@pytest.mark.parametrize("args, code", [
    ((CLEAN,), EXIT_OK),
    ((BUGGY,), EXIT_VIOLATIONS),
    (("no-such-model.c",), EXIT_BAD_INPUT),
    (("--no-such-option", CLEAN), EXIT_BAD_INPUT),
    (("--max-states", "5", CLEAN), EXIT_INCOMPLETE),
], ids=["ok", "violations", "bad-path", "bad-option", "incomplete"])
def test_python_dash_m_mkverify_exits_with_the_documented_code(args, code):
    r = mkverify_subprocess("check", *args)
    assert r.returncode == code, r.stderr
    assert r.stdout == ""
    assert mkverify("check", *args).returncode == code, "in-process runs agree with the real command"


def test_clean_model_exits_0():
    r = mkverify("check", CLEAN)
    assert r.returncode == EXIT_OK, r.stderr
    assert "clean.c: no violations" in r.stderr


def test_buggy_model_exits_1():
    r = mkverify("check", BUGGY)
    assert r.returncode == EXIT_VIOLATIONS, r.stderr
    assert "error: [use-after-free]" in r.stderr


def test_violations_in_any_model_make_the_run_exit_1():
    code, doc = check_json(CLEAN, BUGGY)
    assert code == EXIT_VIOLATIONS
    assert doc["verdict"] == "violations"
    assert [(m["model"], m["verdict"]) for m in doc["models"]] == [("clean.c", "ok"), ("buggy.c", "violations")]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_missing_model_path_exits_2_with_nothing_on_stdout(fmt):
    r = mkverify("check", "--format", fmt, "no-such-model.c")
    assert r.returncode == EXIT_BAD_INPUT
    assert r.stdout == ""
    assert r.stderr.startswith("no-such-model.c: error: ")


def test_missing_model_path_says_the_file_does_not_exist():
    # the real cause must come first, not "no spec found for this model"
    r = mkverify("check", "no-such-model.c")
    assert r.stderr.splitlines()[0] == "no-such-model.c: error: no such file or directory"


def test_missing_model_path_with_spec_exits_2_and_names_the_path():
    r = mkverify("check", "--spec", "clean.toml", "no-such-model.c")
    assert r.returncode == EXIT_BAD_INPUT
    assert r.stderr.splitlines()[0] == "no-such-model.c: error: no such file or directory"


def test_unknown_option_exits_2():
    r = mkverify("check", "--no-such-option", CLEAN)
    assert r.returncode == EXIT_BAD_INPUT
    assert "No such option" in r.stderr
    assert r.stdout == ""


def test_spec_with_two_models_exits_2():
    r = mkverify("check", "--spec", "clean.toml", CLEAN, BUGGY)
    assert r.returncode == EXIT_BAD_INPUT
    assert r.stderr.strip() == "<command line>: error: --spec goes with exactly one model"
    assert r.stdout == ""


def test_bad_bound_value_exits_2():
    r = mkverify("check", "--cpus", "0", CLEAN)
    assert r.returncode == EXIT_BAD_INPUT


def test_state_bound_without_violation_exits_3_and_json_says_incomplete():
    full = check_json(CLEAN)[1]["models"][0]["stats"]["states"]
    code, doc = check_json("--max-states", 5, CLEAN)
    assert code == EXIT_INCOMPLETE
    assert doc["verdict"] == "incomplete"
    (m,) = doc["models"]
    assert m["verdict"] == "incomplete"
    assert m["findings"] == []
    assert m["incomplete_reason"] == "state bound 5 reached"
    # partial statistics: what was explored before the bound, not the whole space
    assert m["stats"]["states"] == 5 < full
    assert 0 < m["stats"]["transitions"]
    assert m["stats"]["engine"] == "native"


def test_state_bound_in_text_mode_says_incomplete_and_never_no_violations():
    r = mkverify("check", "--max-states", 5, CLEAN)
    assert r.returncode == EXIT_INCOMPLETE
    assert "incomplete" in r.stderr
    assert "no violations" not in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("bound", [1, 2, 5])
def test_state_bound_is_never_exceeded(bound):
    code, doc = check_json("--max-states", bound, CLEAN)
    assert code == EXIT_INCOMPLETE
    assert doc["models"][0]["stats"]["states"] == bound


def test_depth_bound_exits_3():
    code, doc = check_json("--depth", 2, CLEAN)
    assert code == EXIT_INCOMPLETE
    assert doc["models"][0]["incomplete_reason"] == "depth bound 2 reached"
    assert doc["models"][0]["stats"]["depth"] == 2


def test_violations_found_before_the_state_bound_exit_1_and_still_say_incomplete():
    code, doc = check_json("--max-states", 150, BUGGY)  # the whole space is 184 states (symmetry, atomic sections)
    assert code == EXIT_VIOLATIONS
    assert doc["verdict"] == "violations"
    (m,) = doc["models"]
    assert m["verdict"] == "violations" and m["findings"]
    assert m["incomplete_reason"] == "state bound 150 reached"
    text = mkverify("check", "--max-states", 150, BUGGY)
    assert text.returncode == EXIT_VIOLATIONS
    lines = text.stderr.splitlines()
    assert lines[-2].startswith(f"mkverify: buggy.c: {len(m['findings'])} violations (150 states, ")
    assert lines[-1] == "mkverify: buggy.c: incomplete: state bound 150 reached; the verdict covers only what was explored"


# ---------------------------------------------------------------- JSON document


STATS_KEYS = {"states", "transitions", "depth", "seconds", "engine"}
FINDING_KEYS = {"check", "message", "location", "trace"}
STEP_KEYS = {"step", "cpu", "function", "file", "line", "column", "action", "changes"}


def test_json_stdout_is_exactly_one_document_with_the_documented_keys():
    r = mkverify("check", "--format", "json", BUGGY)
    assert r.returncode == EXIT_VIOLATIONS
    doc, end = json.JSONDecoder().raw_decode(r.stdout)
    assert r.stdout[end:].strip() == "", "nothing may follow the JSON document"
    assert r.stdout.lstrip() == r.stdout, "nothing may precede the JSON document"

    assert {"verdict", "models"} <= set(doc)
    assert doc["verdict"] == "violations"
    (m,) = doc["models"]
    assert {"model", "verdict", "stats", "findings"} <= set(m)
    assert m["model"] == "buggy.c" and m["verdict"] == "violations"
    assert STATS_KEYS <= set(m["stats"])
    st = m["stats"]
    assert all(isinstance(st[k], int) for k in ("states", "transitions", "depth"))
    assert isinstance(st["seconds"], (int, float)) and st["seconds"] >= 0
    assert st["engine"] == "native"  # the default engine
    assert m["findings"]
    lengths = [len(f["trace"]) for f in m["findings"]]
    assert lengths == sorted(lengths), "findings are ordered by trace length"
    for f in m["findings"]:
        assert FINDING_KEYS <= set(f)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", f["check"])
        assert set(f["location"]) >= {"file", "line", "column"}
        assert f["location"]["file"] == "buggy.c" and f["location"]["line"] > 0
        assert f["trace"]
        for n, s in enumerate(f["trace"], 1):
            assert STEP_KEYS <= set(s)
            assert s["step"] == n
            assert isinstance(s["cpu"], int) and isinstance(s["line"], int) and isinstance(s["column"], int)
            assert isinstance(s["changes"], list) and all(isinstance(c, str) for c in s["changes"])


def test_json_output_is_the_same_in_two_processes_apart_from_seconds():
    docs = []
    for seed in ("1", "2"):
        r = mkverify_subprocess("check", "--format", "json", BUGGY, PYTHONHASHSEED=seed)
        assert r.returncode == EXIT_VIOLATIONS
        doc = json.loads(r.stdout)
        for m in doc["models"]:
            m["stats"].pop("seconds")
        docs.append(doc)
    assert docs[0] == docs[1]


def test_json_mode_writes_nothing_to_stderr_for_a_clean_run():
    r = mkverify("check", "--format", "json", CLEAN)
    assert r.returncode == EXIT_OK
    assert r.stderr == ""
    assert json.loads(r.stdout)["verdict"] == "ok"


def test_json_agrees_with_text_on_findings_and_traces():
    text = mkverify("check", BUGGY).stderr.splitlines()
    doc = check_json(BUGGY)[1]
    errors = [ln for ln in text if " error: " in ln]
    findings = doc["models"][0]["findings"]
    assert len(errors) == len(findings)
    for line, f in zip(errors, findings):
        loc = f["location"]
        assert line == f"{loc['file']}:{loc['line']}:{loc['column']}: error: [{f['check']}] {f['message']}"


# ---------------------------------------------------------------- text mode


def test_text_mode_writes_gcc_style_errors_and_note_steps_to_stderr_only():
    r = mkverify("check", BUGGY)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    doc = check_json(BUGGY)[1]
    trace_lengths = [len(f["trace"]) for f in doc["models"][0]["findings"]]
    seen = []
    k = 0
    while k < len(lines) and not lines[k].startswith("mkverify: "):
        m = ERROR_LINE.match(lines[k])
        assert m, f"not a gcc-style error line: {lines[k]!r}"
        k += 1
        n = 0
        while k < len(lines) and NOTE_LINE.match(lines[k]):
            n += 1
            assert NOTE_LINE.match(lines[k])["n"] == str(n)
            k += 1
        seen.append(n)
    assert seen == trace_lengths
    assert all(ln.startswith("mkverify: ") for ln in lines[k:])
    assert lines[-1].startswith("mkverify: buggy.c: 2 violations (")


def test_text_mode_clean_run_prints_only_a_summary():
    r = mkverify("check", CLEAN)
    assert r.stdout == ""
    assert r.stderr.splitlines() == [ln for ln in r.stderr.splitlines() if ln.startswith("mkverify: clean.c: ")]


# ---------------------------------------------------------------- bound overrides


def test_cpus_override_changes_the_state_count():
    default = check_json(BUGGY)[1]["models"][0]["stats"]["states"]
    one = check_json("--cpus", 1, BUGGY)[1]["models"][0]
    assert one["stats"]["states"] != default
    assert one["stats"]["states"] < default
    # with one CPU nothing can race: the use-after-free needs use() and drop() to interleave
    assert one["verdict"] == "ok"


def test_cpus_override_is_reflected_in_the_ir(monkeypatch):
    monkeypatch.chdir(CLI)
    p = frontend.load(Path(BUGGY), None, {"cpus": 1})
    assert p.bounds.cpus == 1 and p.bounds.host_cpus == 1


# ---------------------------------------------------------------- mkverify ir


def test_ir_prints_the_program_text(monkeypatch):
    r = mkverify("ir", CLEAN)
    assert r.returncode == EXIT_OK
    assert r.stderr == ""
    for name in ("make", "use", "drop", "obj_release"):
        assert f" {name}(" in r.stdout
    assert "entry make()" in r.stdout
    monkeypatch.chdir(CLI)
    assert r.stdout == ir.print_program(frontend.load(Path(CLEAN)))


def test_ir_json_prints_the_serialized_program(monkeypatch):
    r = mkverify("ir", "--json", CLEAN)
    assert r.returncode == EXIT_OK
    monkeypatch.chdir(CLI)
    assert ir.from_json(json.loads(r.stdout)) == frontend.load(Path(CLEAN))


def test_ir_of_a_missing_model_exits_2():
    r = mkverify("ir", "no-such-model.c")
    assert r.returncode == EXIT_BAD_INPUT
    assert r.stdout == ""


# ---------------------------------------------------------------- default models/ and specs/


def _tree(tmp_path: Path, model: str) -> Path:
    (tmp_path / "models" / "foo").mkdir(parents=True)
    (tmp_path / "specs").mkdir()
    shutil.copy(CLI / model, tmp_path / "models" / "foo" / "x.c")
    spec = (CLI / model).with_suffix(".toml").read_text()
    (tmp_path / "specs" / "foo.toml").write_text('model = "../models/foo"\n' + spec)
    return tmp_path


def test_check_without_arguments_checks_every_model_under_models(tmp_path):
    root = _tree(tmp_path, CLEAN)
    code, doc = check_json(cwd=root)
    assert code == EXIT_OK
    (m,) = doc["models"]
    assert m["model"] == "models/foo"
    assert m["verdict"] == "ok"
    # the same model checked by name gives the same exploration
    named = check_json("models/foo", cwd=root)[1]["models"][0]
    assert named["stats"]["states"] == m["stats"]["states"]


def test_check_without_arguments_reports_violations_in_the_default_models(tmp_path):
    root = _tree(tmp_path, BUGGY)
    r = mkverify("check", cwd=root)
    assert r.returncode == EXIT_VIOLATIONS
    assert "models/foo/x.c:" in r.stderr
    assert "error: [use-after-free]" in r.stderr


def test_check_without_arguments_outside_a_repository_exits_2(tmp_path):
    r = mkverify("check", cwd=tmp_path)
    assert r.returncode == EXIT_BAD_INPUT
    assert "no model given and no models/ directory here" in r.stderr
