"""The CI recipes of docs/ci.md are valid, consistent and run.

Every ```yaml block of docs/ci.md is a recipe: one GitHub Actions workflow and
one GitLab CI job. Each must parse; the steps that publish reports must read
the files the recipe's `mkverify check` writes, and nothing else; and every
`mkverify ...` line of their shell scripts must really run on a copy of the
shipped models (exit code 0 or 1: the v2 model has violations) and write the
report files it names. The GitHub workflow's shell steps are also run with
bash as the runner would, with its GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
import re
import shlex
import shutil
import subprocess
import sys

import pytest

REPO = Path(__file__).resolve().parent.parent
CI_MD = REPO / "docs" / "ci.md"
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.M | re.S)

#: the report options of `mkverify check` and whether each names a file or a directory
REPORT_OPTIONS = {"--sarif": "file", "--junit": "file", "--markdown": "file", "--html": "dir"}
#: ... and every option that writes a file, which a later step may read
OUTPUT_OPTIONS = {**REPORT_OPTIONS, "--json": "file"}

#: owner/repo[/path]@vN: an action pinned to a major version
ACTION_REF = re.compile(r"^[\w.-]+/[\w.-]+(?:/[\w.-]+)*@v\d+$")

#: a file or directory name in a script: the recipes' own (mkverify.md, mkverify-html/) or any report-like file
REPORT_NAME = re.compile(r"(?<![\w./$-])(?:mkverify(?:[-.][\w-]+)+/?|[\w.-]+(?:/[\w.-]+)*\.(?:sarif|xml|md|json|html?)\b)")

#: `with:` inputs of actions that name a path to read
PATH_INPUTS = ("sarif_file", "report_paths", "path")

SHELL_OPERATORS = set("();<>|&")


# ------------------------------------------------------------ the recipes

def _yaml():
    return pytest.importorskip("yaml", reason="PyYAML is needed to read the recipes of docs/ci.md")


def _blocks() -> list[tuple[int, str]]:
    text = CI_MD.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in YAML_BLOCK.finditer(text)]


def _is_github(doc) -> bool:
    return isinstance(doc, dict) and "jobs" in doc and ("on" in doc or True in doc)


def _gitlab_jobs(doc) -> dict:
    if not isinstance(doc, dict) or _is_github(doc):
        return {}
    return {name: job for name, job in doc.items() if isinstance(job, dict) and "script" in job}


@pytest.fixture(scope="module")
def recipes():
    """{"github": workflow, "gitlab": pipeline}, each the parsed mapping."""
    yaml = _yaml()
    found = {}
    for line, text in _blocks():
        doc = yaml.safe_load(text)
        if _is_github(doc):
            assert "github" not in found, f"docs/ci.md:{line}: a second GitHub workflow"
            found["github"] = doc
        elif _gitlab_jobs(doc):
            assert "gitlab" not in found, f"docs/ci.md:{line}: a second GitLab pipeline"
            found["gitlab"] = doc
    return found


@pytest.fixture(scope="module")
def github(recipes):
    assert "github" in recipes, "docs/ci.md has no GitHub Actions workflow (a ```yaml block with on: and jobs:)"
    return recipes["github"]


@pytest.fixture(scope="module")
def gitlab(recipes):
    assert "gitlab" in recipes, "docs/ci.md has no GitLab CI job (a ```yaml block with a job that has script:)"
    return recipes["gitlab"]


def _steps(workflow) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def _scripts(recipes) -> list[str]:
    """Every shell script of the recipes: GitHub `run:`, GitLab `before_script:`/`script:`/`after_script:`."""
    out = []
    if "github" in recipes:
        out += [step["run"] for step in _steps(recipes["github"]) if "run" in step]
    for job in _gitlab_jobs(recipes.get("gitlab")).values():
        for key in ("before_script", "script", "after_script"):
            items = job.get(key) or []
            out += [items] if isinstance(items, str) else list(items)
    return out


def _shell_lines(script: str) -> list[str]:
    """The script's command lines, backslash continuations joined."""
    return [line.strip() for line in script.replace("\\\n", " ").splitlines() if line.strip()]


def _argv(line: str) -> list[str]:
    """The words of the line's first simple command (up to `||`, `;`, `>`, ...)."""
    lex = shlex.shlex(line, posix=True, punctuation_chars=True)
    lex.whitespace_split = True
    argv = []
    for token in lex:
        if token and set(token) <= SHELL_OPERATORS:
            break
        argv.append(token)
    return argv


def _mkverify_commands(recipes) -> list[list[str]]:
    """The arguments of every `mkverify ...` command line of the recipes, each once, in order."""
    commands = []
    for script in _scripts(recipes):
        for line in _shell_lines(script):
            if line.startswith("mkverify "):
                args = _argv(line)[1:]
                if args not in commands:
                    commands.append(args)
    return commands


def _options(args: list[str]) -> dict[str, str]:
    """The report options of one command: option -> its value."""
    out = {}
    for i, arg in enumerate(args):
        name, eq, value = arg.partition("=")
        if name in OUTPUT_OPTIONS:
            out[name] = value if eq else args[i + 1]
    return out


def _written(recipes, option: str) -> set[str]:
    """What the recipes' commands write with `option`."""
    return {_options(args)[option].rstrip("/") for args in _mkverify_commands(recipes) if option in _options(args)}


def _check_step_index(workflow) -> int:
    for i, step in enumerate(_steps(workflow)):
        if any(_argv(line)[:2] == ["mkverify", "check"] for line in _shell_lines(step.get("run", ""))):
            return i
    raise AssertionError("the GitHub workflow has no step that runs `mkverify check`")


def _uses(step) -> str:
    return step.get("uses", "").partition("@")[0]


def _step_using(workflow, action: str) -> dict:
    steps = [s for s in _steps(workflow) if _uses(s) == action]
    assert steps, f"the GitHub workflow has no step that uses {action}"
    return steps[0]


# ------------------------------------------------------------ every recipe

def test_docs_ci_md_has_yaml_recipes():
    assert _blocks(), "docs/ci.md has no ```yaml block"


def test_every_yaml_block_parses_to_a_mapping():
    yaml = _yaml()
    for line, text in _blocks():
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            pytest.fail(f"docs/ci.md:{line}: the ```yaml block does not parse: {e}")
        assert isinstance(doc, dict), f"docs/ci.md:{line}: the ```yaml block is a {type(doc).__name__}, not a mapping"


def test_the_recipes_run_mkverify_check_with_every_report_option(recipes):
    checks = [args for args in _mkverify_commands(recipes) if args[:1] == ["check"]]
    assert checks, "no `mkverify check` line in the recipes' scripts"
    for args in checks:
        missing = sorted(set(REPORT_OPTIONS) - set(_options(args)))  # --json is optional
        assert not missing, f"`mkverify {shlex.join(args)}` does not write {missing}"


def test_no_step_refers_to_a_file_no_command_writes(recipes):
    written = set()
    for args in _mkverify_commands(recipes):
        for option, value in _options(args).items():
            written.add(value.rstrip("/"))
            if OUTPUT_OPTIONS[option] == "dir":
                written.add(f"{value.rstrip('/')}/index.html")
    referred = set()
    for script in _scripts(recipes):
        referred |= {m.group(0).rstrip("/") for m in REPORT_NAME.finditer(script)}
    if "github" in recipes:
        for step in _steps(recipes["github"]):
            referred |= {str(v).rstrip("/") for k, v in (step.get("with") or {}).items() if k in PATH_INPUTS}
    for job in _gitlab_jobs(recipes.get("gitlab")).values():
        artifacts = job.get("artifacts") or {}
        referred |= {p.rstrip("/") for p in artifacts.get("paths") or []}
        referred |= {str(p).rstrip("/") for p in (artifacts.get("reports") or {}).values()}
    assert referred, "the recipes publish nothing"
    assert referred <= written, f"the recipes refer to {sorted(referred - written)}, which no mkverify command writes"


# ------------------------------------------------------------ GitHub Actions

def test_github_runs_on_push_and_pull_request(github):
    on = github.get("on", github.get(True))     # YAML 1.1 reads the key `on` as true
    events = {on} if isinstance(on, str) else set(on or ())
    assert {"push", "pull_request"} <= events, f"on: {on!r}"
    assert github["jobs"], "no jobs"
    for name, job in github["jobs"].items():
        assert job.get("runs-on"), f"job {name} has no runs-on"
        assert isinstance(job.get("steps"), list) and job["steps"], f"job {name} has no steps"
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), f"job {name}: a step needs exactly one of uses/run: {step}"


def test_github_actions_are_pinned_to_a_major_version(github):
    for step in _steps(github):
        if "uses" in step:
            assert ACTION_REF.match(step["uses"]), f"uses: {step['uses']} is not owner/repo@vN"


def test_github_has_the_permissions_the_publishers_need(github):
    granted = dict(github.get("permissions") or {})
    for job in github["jobs"].values():
        granted.update(job.get("permissions") or {})
    assert granted.get("contents") in ("read", "write"), "actions/checkout needs contents: read"
    assert granted.get("security-events") == "write", "upload-sarif needs security-events: write"
    if any(_uses(s) == "mikepenz/action-junit-report" for s in _steps(github)):
        assert granted.get("checks") == "write", "action-junit-report creates a check run: checks: write"


def test_github_sets_up_python_3_11(github):
    step = _step_using(github, "actions/setup-python")
    assert str(step["with"]["python-version"]) == "3.11"


def test_github_publishers_read_what_mkverify_writes(github):
    recipes = {"github": github}
    sarif = _step_using(github, "github/codeql-action/upload-sarif")["with"]
    assert sarif["sarif_file"] in _written(recipes, "--sarif")
    assert sarif.get("category"), "upload-sarif: give the analysis a category"
    junit = _step_using(github, "mikepenz/action-junit-report")["with"]
    assert junit["report_paths"] in _written(recipes, "--junit")
    html = _step_using(github, "actions/upload-artifact")["with"]
    assert html["path"].rstrip("/") in _written(recipes, "--html")
    summary = [s for s in _steps(github) if "GITHUB_STEP_SUMMARY" in s.get("run", "")]
    assert summary, "no step writes the Markdown report to $GITHUB_STEP_SUMMARY"
    assert any(md in summary[0]["run"] for md in _written(recipes, "--markdown"))


def test_github_steps_after_the_check_run_even_when_it_fails(github):
    steps = _steps(github)
    for step in steps[_check_step_index(github) + 1:]:
        condition = str(step.get("if", ""))
        assert "always()" in condition or "!cancelled()" in condition, \
            f"step {step.get('name') or step.get('uses')!r} runs only if every step before it passed: if: {condition!r}"


def _final_step(github):
    steps = _steps(github)
    check = steps[_check_step_index(github)]
    assert check.get("id"), "the check step needs an id, for the last step to read its exit code"
    final = steps[-1]
    assert "run" in final, "the last step should fail the job with mkverify's exit code"
    return check, final


def _bash(script: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    """A `run:` script the way an ubuntu runner runs it by default (bash -e)."""
    return subprocess.run(["bash", "-e", "-c", script], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_github_last_step_fails_with_mkverify_exit_code(github, tmp_path):
    check, final = _final_step(github)
    status_ref = re.compile(r"\$\{\{\s*steps\." + re.escape(check["id"]) + r"\.outputs\.status\s*\}\}")
    status_vars = [k for k, v in (final.get("env") or {}).items() if status_ref.fullmatch(str(v))]
    assert status_vars, f"the last step's env passes no ${{{{ steps.{check['id']}.outputs.status }}}}"
    job_env = {k: str(v) for job in github["jobs"].values() for k, v in (job.get("env") or {}).items()}
    allow = [k for k in job_env if "ALLOW_INCOMPLETE" in k]
    assert allow, "the job has no env variable that allows incomplete runs"
    cases = [("0", "false", 0), ("1", "false", 1), ("2", "false", 2), ("3", "false", 3), ("4", "false", 4),
             ("3", "true", 0), ("1", "true", 1), ("", "false", None)]
    for status, allowed, expected in cases:
        env = {**os.environ, **job_env, status_vars[0]: status, allow[0]: allowed}
        rc = _bash(final["run"], env, tmp_path).returncode
        if expected is None:
            assert rc != 0, "the last step passes when mkverify did not run"
        else:
            assert rc == expected, f"status {status!r} with {allow[0]}={allowed}: the step exits {rc}, not {expected}"


# ------------------------------------------------------------ GitLab CI

def test_gitlab_job_keeps_its_reports(gitlab):
    recipes = {"gitlab": gitlab}
    for name, job in _gitlab_jobs(gitlab).items():
        assert str(job.get("image", "")).startswith("python:3.11"), f"{name}: image: {job.get('image')!r}"
        artifacts = job.get("artifacts") or {}
        assert artifacts.get("when") == "always", f"{name}: artifacts.when must be always, to keep the reports of a failed job"
        assert artifacts.get("reports", {}).get("junit") in _written(recipes, "--junit"), f"{name}: artifacts.reports.junit"
        paths = artifacts.get("paths") or []
        for option in ("--sarif", "--markdown", "--html"):
            assert _written(recipes, option) & {p.rstrip("/") for p in paths}, f"{name}: artifacts.paths lacks the {option} output"
        assert artifacts.get("expose_as"), f"{name}: expose the HTML report with artifacts.expose_as"
        # GitLab links an exposed path only without ./ and, for a directory, with a trailing /
        for path in paths:
            assert not path.startswith("./"), f"{name}: expose_as ignores {path!r}: drop the ./"
            if path.rstrip("/") in _written(recipes, "--html"):
                assert path.endswith("/"), f"{name}: expose_as ignores the directory {path!r} without a trailing /"


# ------------------------------------------------------------ the commands exist

@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A directory with a copy of the shipped models/ and specs/, made the working directory."""
    for name in ("models", "specs"):
        shutil.copytree(REPO / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _assert_reports_written(args: list[str], where: Path):
    for option, value in _options(args).items():
        path = where / value
        if OUTPUT_OPTIONS[option] == "dir":
            path = path / "index.html"
        assert path.is_file(), f"`mkverify {shlex.join(args)}` did not write {path.relative_to(where)}"
        assert path.stat().st_size > 0, f"`mkverify {shlex.join(args)}` wrote an empty {path.relative_to(where)}"


def test_the_recipes_mkverify_commands_run(recipes, workdir):
    from click.testing import CliRunner

    from mkverify.cli import main

    commands = _mkverify_commands(recipes)
    assert commands, "no `mkverify ...` line in the recipes' scripts"
    for args in commands:
        result = CliRunner().invoke(main, args)
        assert result.exit_code in (0, 1), \
            f"`mkverify {shlex.join(args)}` exited {result.exit_code}:\n{result.output}"
        _assert_reports_written(args, workdir)


def _runner_env(workdir: Path) -> dict:
    return dict(os.environ, GITHUB_OUTPUT=str(workdir / "github_output"),
                GITHUB_STEP_SUMMARY=str(workdir / "step_summary"),
                PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))


def _run_check_step(check, workdir: Path) -> dict:
    """The check step in bash as the runner runs it: its step outputs."""
    proc = _bash(check["run"], _runner_env(workdir), workdir)
    assert proc.returncode == 0, f"the check step fails by itself (exit {proc.returncode}):\n{proc.stderr}"
    return dict(line.split("=", 1) for line in (workdir / "github_output").read_text().splitlines() if "=" in line)


def test_github_check_and_summary_steps_run(github, workdir):
    """The check step and the steps after it that run shell, in bash, with the runner's files."""
    check, final = _final_step(github)
    steps = _steps(github)
    env = _runner_env(workdir)
    summary = workdir / "step_summary"
    outputs = _run_check_step(check, workdir)
    assert outputs.get("status") in ("0", "1"), f"outputs: {outputs}"
    assert outputs.get("complete") == "true", f"a run that explored every model is not complete: {outputs}"
    for line in _shell_lines(check["run"]):
        if line.startswith("mkverify "):
            _assert_reports_written(_argv(line)[1:], workdir)
    for step in steps[steps.index(check) + 1:-1]:
        if "run" in step:
            proc = _bash(step["run"], env, workdir)
            assert proc.returncode == 0, f"step {step.get('name')!r} fails:\n{proc.stderr}"
    assert summary.is_file() and summary.stat().st_size > 0, "the job summary is empty"


def test_github_does_not_upload_the_sarif_of_a_bounded_run_with_findings(github, workdir):
    """Exit code 1 with a model cut short by a bound: violations, but the SARIF would close the alerts
    beyond the bound, so the step must not say complete."""
    spec = workdir / "specs" / "multikernel-v2.toml"
    text = spec.read_text()
    assert "\n[bounds]\n" in text
    spec.write_text(text.replace("\n[bounds]\n", "\n[bounds]\nmax_states = 20000\n", 1))
    check, _ = _final_step(github)
    outputs = _run_check_step(check, workdir)
    assert outputs.get("status") == "1", f"outputs: {outputs}"
    models = json.loads((workdir / "mkverify.json").read_text())["models"]
    assert any("incomplete_reason" in m and m["findings"] for m in models), "the bound did not cut the run short"
    assert outputs.get("reports") == "true" and outputs.get("complete") != "true", f"outputs: {outputs}"
    upload = _step_using(github, "github/codeql-action/upload-sarif")
    assert "steps.mkverify.outputs.complete == 'true'" in str(upload.get("if")), upload.get("if")
