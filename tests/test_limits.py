"""Hard limits stop a run cleanly (issue 6): `--timeout`, SIGTERM and SIGINT give the verdict
`incomplete` and exit 3 (1 when a violation was already found), the statistics so far, every finding
made so far with its whole trace, and every report file whole. A second Ctrl-C aborts at once.

The runs are real `mkverify check` processes. A signal is sent once the exploration is under way,
which the test sees on the progress line (`--progress`), so nothing depends on the machine's speed;
the time limits are checked for the verdict, with a generous bound on the wall time ("no hang").
"""
from __future__ import annotations

import json
import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import time

import jsonschema
import pytest

from mkverify.limits import Stop, watch

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "mkverify" / "schemas" / "output.schema.json").read_text())
FIXED = ["models/multikernel/fixed", "--spec", "specs/multikernel-fixed.toml"]
V2 = ["models/multikernel/v2", "--spec", "specs/multikernel-v2.toml"]
#: a state space no engine finishes in minutes (about 10^8 states; the memory bound is a backstop)
COUNTERS = ["tests/fixtures/limits/counters"]  # a directory: the corpus globs (fixtures/*/*.c) must not take it
LONG_NATIVE = COUNTERS + ["-j", "2", "--max-memory", "4G"]
LONG_PYTHON = COUNTERS + ["--engine", "python"]
HANG = 120  # seconds: a run that has not ended this long after it was told to stop hangs


def start(args, cwd=REPO):
    return subprocess.Popen([sys.executable, "-m", "mkverify", "check", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, CI="1", COLUMNS="200"))


def wait_for_progress(proc, until=lambda depth: True) -> str:
    """Read the progress line from stderr until it shows a depth that `until` accepts."""
    seen = ""
    while True:
        ch = proc.stderr.read(1)
        assert ch, f"the run ended before it showed progress: {seen[-500:]}"
        seen += ch
        m = re.search(r"states, [\d,]+/s, depth (\d+)[^\r\n]*[\r\n]$", seen)
        if m and until(int(m.group(1))):
            return seen


def finish(proc, seen=""):
    out, err = proc.communicate(timeout=HANG)
    err = seen + err
    assert "Traceback" not in err, err[-3000:]
    return proc.returncode, out, err


def model_of(out: str) -> dict:
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    return doc["models"][0]


# ---------------------------------------------------------------- --timeout

@pytest.mark.parametrize("engine,args,limit", [
    ("native", LONG_NATIVE, 3),
    ("python", LONG_PYTHON, 3),
    ("z3", FIXED + ["--engine", "z3", "--depth", "60"], 8),   # building its terms alone takes longer
])
def test_timeout_stops_each_engine_with_the_partial_statistics(engine, args, limit):
    t0 = time.monotonic()
    code, out, err = finish(start([*args, "--timeout", str(limit), "--format", "json"]))
    wall = time.monotonic() - t0
    m = model_of(out)
    assert code == 3, err
    assert m["verdict"] == "incomplete" and m["incomplete_reason"].startswith(f"time limit {limit} s reached")
    assert m["stats"]["engine"] == engine
    if engine == "z3":
        assert re.search(r"after \d+ of 60 depths", m["incomplete_reason"])
    else:
        assert m["stats"]["states"] > 1 and m["stats"]["transitions"] > 0
        assert m["stats"]["seconds"] <= limit + 1   # the exploration's own time
    assert wall < limit + HANG


def test_a_timeout_that_is_not_reached_changes_nothing():
    code, out, _ = finish(start(["docs/examples/table-fixed.c", "--timeout", "600", "--format", "json"]))
    m = model_of(out)
    assert code == 0 and m["verdict"] == "ok" and "incomplete_reason" not in m


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf"])
def test_a_bad_timeout_is_a_usage_error(value):
    code, out, err = finish(start(["docs/examples/table-fixed.c", "--timeout", value]))
    assert code == 2 and "--timeout" in err and not out


# ---------------------------------------------------------------- signals

@pytest.mark.parametrize("sig,args", [(signal.SIGTERM, LONG_NATIVE), (signal.SIGINT, LONG_PYTHON)],
                         ids=["SIGTERM-native", "SIGINT-python"])
def test_a_signal_stops_the_run_and_every_report_is_whole(tmp_path, sig, args):
    files = {"json": tmp_path / "out" / "r.json", "sarif": tmp_path / "out" / "r.sarif",
             "junit": tmp_path / "out" / "r.xml", "markdown": tmp_path / "out" / "r.md"}
    proc = start([*args, "--progress", "--format", "json", *[a for k, f in files.items() for a in (f"--{k}", f)],
                  "--html", tmp_path / "html"])
    seen = wait_for_progress(proc)
    proc.send_signal(sig)
    code, out, err = finish(proc, seen)
    m = model_of(out)
    assert code == 3, err[-2000:]
    assert m["verdict"] == "incomplete" and m["incomplete_reason"] == "interrupted"
    assert any(f"stopped by {sig.name}" in n for n in m["notes"])
    assert m["stats"]["states"] > 1
    # every report file is there and whole
    assert files["json"].read_text() == out
    sarif = json.loads(files["sarif"].read_text())
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is True
    from junitparser import JUnitXml
    suite = next(iter(JUnitXml.fromfile(str(files["junit"]))))
    assert suite.tests > 0
    assert "interrupted" in files["markdown"].read_text()
    assert (tmp_path / "html" / "index.html").read_text().rstrip().endswith("</html>")
    assert not [p for p in tmp_path.rglob("*.tmp")], "a temporary report file was left behind"


def test_findings_made_before_the_stop_are_reported_in_full():
    """The reference explorer finds v2's first leak at depth 20 and its first dangling reference at 24
    (docs/findings.md); stopped past depth 25, both come with their whole traces, and the verdict
    stays `violations` (exit 1), with the reason it is incomplete."""
    proc = start([*V2, "--engine", "python", "--progress", "--format", "json"])
    seen = wait_for_progress(proc, until=lambda depth: depth >= 26)
    proc.send_signal(signal.SIGINT)
    code, out, err = finish(proc, seen)
    m = model_of(out)
    assert code == 1, err[-2000:]
    assert m["verdict"] == "violations" and m["incomplete_reason"] == "interrupted"
    def key(f):
        return f["check"], f["location"]["file"], f["location"]["line"], f["location"]["column"], f["message"]
    found = {key(f): f for f in m["findings"] if not f["check"].startswith("flag-")}
    assert {"leak", "dangling-reference"} <= {k[0] for k in found}
    for f in found.values():
        assert f["trace"] and [s["step"] for s in f["trace"]] == list(range(1, len(f["trace"]) + 1))
        assert all(s["action"] and s["file"] for s in f["trace"])
    # each one, as short as in a complete run (the native engine's, at the same granularity)
    full = model_of(finish(start([*V2, "--no-atomic-sections", "--format", "json"]))[1])
    whole = {key(f): f for f in full["findings"]}
    for k, f in found.items():
        assert k in whole and len(f["trace"]) == len(whole[k]["trace"]), k


def test_a_second_ctrl_c_raises_keyboard_interrupt():
    """The first SIGINT asks for a clean stop; a second one, if the run has not ended by then, aborts."""
    with watch(None) as stop:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs between bytecodes
        assert stop() == "interrupted" and stop.signal == "SIGINT"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)


def test_an_abort_exits_3_not_click_s_1():
    """click turns KeyboardInterrupt into "Aborted!" and exit 1, the code of violations; mkverify's
    entry point makes it exit 3 with "mkverify: interrupted"."""
    code = ("import sys; from unittest import mock; from mkverify import cli\n"
            "with mock.patch.object(cli, '_check_models', side_effect=KeyboardInterrupt):\n"
            "    cli.main(['check', 'docs/examples/table.c'])\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=HANG)
    assert r.returncode == 3 and "mkverify: interrupted" in r.stderr and "Aborted" not in r.stderr, r.stderr


def test_two_ctrl_c_in_a_row_exit_3_without_a_traceback():
    proc = start([*LONG_PYTHON, "--progress"])
    seen = wait_for_progress(proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    code, out, err = finish(proc, seen)
    assert code == 3 and "interrupted" in err


# ---------------------------------------------------------------- the Stop object

def test_stop_gives_the_deadline_as_the_reason():
    stop = Stop(0.05)
    assert stop() is None
    time.sleep(0.1)
    assert stop() == "time limit 0.05 s reached" and stop.remaining() == 0
    assert Stop(None)() is None and Stop(None).remaining() is None


def test_the_watcher_interrupts_a_c_call_once_the_deadline_passes():
    """z3's Context.interrupt is called from the watcher thread, while the main thread is busy."""
    calls = []
    t0 = time.monotonic()
    with watch(0.2) as stop:
        with stop.interruptible(lambda: calls.append(time.monotonic())):
            while not calls and time.monotonic() - t0 < 10:
                time.sleep(0.01)
    assert calls and 0.15 <= calls[0] - t0 < 5


def test_the_handlers_are_restored_afterwards():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with watch(None):
        assert signal.getsignal(signal.SIGTERM) not in (before[0], signal.SIG_DFL)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


# ---------------------------------------------------------------- report files

def test_two_runs_writing_the_same_report_files_do_not_corrupt_them(tmp_path):
    """Each report is written to a temporary file of its own and renamed over the old one, so two
    runs into the same paths leave one run's files, each whole."""
    out = tmp_path / "out"
    args = ["docs/examples/table.c", "--format", "json", "--json", out / "r.json", "--sarif", out / "r.sarif",
            "--junit", out / "r.xml", "--markdown", out / "r.md", "--html", out / "html"]
    procs = [start(args) for _ in range(3)]
    results = [finish(p) for p in procs]
    assert {code for code, _, _ in results} == {1}
    assert (out / "r.json").read_text() in [o for _, o, _ in results]   # one run's document, whole
    json.loads((out / "r.sarif").read_text())
    from junitparser import JUnitXml
    JUnitXml.fromfile(str(out / "r.xml"))
    assert (out / "html" / "index.html").read_text().rstrip().endswith("</html>")
    assert not list(out.rglob("*.tmp"))


def test_a_killed_run_leaves_the_previous_report_or_a_whole_new_one(tmp_path):
    """SIGKILL at moments spread over a run that writes its reports: each report file is afterwards
    either the previous one or a whole new one, never a part."""
    sarif, md = tmp_path / "r.sarif", tmp_path / "r.md"
    args = [*V2, "-j", "1", "--sarif", sarif, "--markdown", md]
    t0 = time.monotonic()
    code, _, _ = finish(start(args))
    took = time.monotonic() - t0
    assert code == 1
    old = sarif.read_bytes(), md.read_bytes()
    sarif.write_bytes(b"{}\n")   # a previous file, recognisably different from any new one
    md.write_bytes(b"previous\n")
    for k in range(8):
        proc = start(args)
        time.sleep(took * (0.5 + k / 14))
        proc.kill()
        proc.communicate(timeout=HANG)
        assert sarif.read_bytes() in (b"{}\n", old[0])
        assert md.read_bytes() in (b"previous\n", old[1])
