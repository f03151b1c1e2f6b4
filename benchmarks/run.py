#!/usr/bin/env python3
"""Every performance figure of docs/performance.md, in one run.

    python benchmarks/run.py [--quick] [--repeat N] [--timeout S]
                             [--out docs/performance-data.json] [--markdown FILE]

Measures, with the median of --repeat runs of each configuration:

(a) the multikernel model (models/multikernel/fixed, specs/multikernel-fixed.toml)
    scaled by host CPUs (2..5) and instances (1..4), for every mkverify engine
    configuration of MKVERIFY_CONFIGS below;
(b) the refcounted-object pool benchmark: mkverify on the kernel-style C of
    benchmarks/pool/gen.py against SPIN and Rumur on the peer models of
    /work/shared/bench/pool (copied to a temporary directory, never modified);
(c) instruction counts (callgrind) of one mkverify native run, SPIN's pan and
    Rumur's verifier on the same pool model.

For each run: states, transitions, states/s, bytes/state (peak RSS / states),
peak RSS, time to the full verdict, and for the BUG variants the time to the
first violation and its trace length. A configuration that does not finish
within --timeout is reported as "timeout" (and, in the multikernel grid, every
larger configuration of the same engine configuration is skipped as timeout
too); a configuration the mkverify command line rejects (exit code 2: a flag
or engine it does not know yet) is reported as "unsupported" and skipped.

Writes the data as JSON (--out, rewritten after every run, so an interrupted
run keeps what it measured) and the Markdown tables for docs/performance.md
to stdout (and to --markdown FILE). `--render DATA.json` prints the tables of
an earlier run without measuring anything.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_pool_gen():
    import importlib.util
    spec = importlib.util.spec_from_file_location("mkverify_bench_pool_gen", ROOT / "benchmarks" / "pool" / "gen.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.generate


generate_pool_model = _load_pool_gen()

# ============================================================================
# mkverify engine configurations: edit here.
#
# Each entry: (name, flags passed to `mkverify check`, scope). Scope "all" runs
# on every benchmark (the multikernel grid and every pool size); "ablation" on
# the multikernel baseline (2 host CPUs, 1 instance) and ABLATION_POOL_SIZES.
# A configuration whose flags the command line rejects (exit 2) is skipped.
# Every run also gets MKVERIFY_COMMON_FLAGS.
# ============================================================================

#: flags that each turn one reduction off; those the command line does not know yet are skipped
REDUCTION_OFF_FLAGS = ["--no-reduce-private", "--no-symmetry", "--no-merge-local", "--no-atomic-sections"]

_NATIVE_BASES = [
    # name          flags
    ("native-j1",    ["--engine", "native", "--jobs", "1"]),
    ("native-j2",    ["--engine", "native", "--jobs", "2"]),
    ("native-j1-fp", ["--engine", "native", "--jobs", "1", "--fingerprint"]),
    ("native-j2-fp", ["--engine", "native", "--jobs", "2", "--fingerprint"]),
]

MKVERIFY_CONFIGS: list[tuple[str, list[str], str]] = [
    ("python", ["--engine", "python"], "all"),
    ("python-no-reduce-private", ["--engine", "python", "--no-reduce-private"], "ablation"),
    *[(name, flags, "all") for name, flags in _NATIVE_BASES],
    # every native configuration with each reduction off, and with all of them off
    *[(f"{name}{flag[1:]}", flags + [flag], "ablation") for name, flags in _NATIVE_BASES
      for flag in REDUCTION_OFF_FLAGS],
    *[(f"{name}-no-reductions", flags + REDUCTION_OFF_FLAGS, "ablation") for name, flags in _NATIVE_BASES],
]

#: passed to every mkverify run: no state bound of the engine's own (10,000,000 by
#: default) cuts a run short; the time limit and the memory limit end it instead
MKVERIFY_COMMON_FLAGS = ["--max-states", "10000000000"]

#: a flag that makes mkverify stop at its first violation, once the command line has one
#: (e.g. ["--max-findings", "1"]). Without it, the time to the first violation is that of
#: a rerun bounded at the depth of the shortest trace (`--depth L`): breadth-first, that
#: run explores exactly the layers before the first violation.
MKVERIFY_FIRST_VIOLATION_FLAGS: list[str] | None = None

# ---------------------------------------------------------------- peer tools

SPIN_CC = ["gcc", "-O2"]
SPIN_CONFIGS = [
    # name              compile directives                                            pan arguments
    ("spin-bfs",        ["-DSAFETY", "-DBFS", "-DMEMLIM=16000", "-DNOREDUCE"],         []),
    # DFS needs a search depth limit above the longest path (the default, 10,000, cuts 4x3 short)
    ("spin-dfs",        ["-DSAFETY", "-DMEMLIM=16000", "-DNOREDUCE"],                  ["-m10000000"]),
    # multi-core BFS (Spin 6.2+): -DBFS_PAR, cores with -u; -DNO_HC keeps the exact state
    # store (BFS_PAR defaults to lossy hash-compaction)
    ("spin-bfs-2core",  ["-DSAFETY", "-DBFS_PAR", "-DNO_HC", "-DMEMLIM=16000", "-DNOREDUCE"], ["-u2"]),
    # multi-core DFS (Spin 5+): -DNCORE=N, shared memory preallocated up to MEMLIM
    ("spin-dfs-2core",  ["-DSAFETY", "-DNCORE=2", "-DMEMLIM=16000", "-DNOREDUCE"],     ["-m10000000"]),
]

RUMUR_CC = ["gcc", "-O3", "-march=native", "-std=c11", "-mcx16"]
#: under callgrind: valgrind does not know every instruction -march=native may emit (SIGILL)
RUMUR_CC_CALLGRIND = ["gcc", "-O3", "-std=c11", "-mcx16"]
RUMUR_CONFIGS = [
    # name                 rumur arguments                      verifier arguments
    ("rumur-1t",           ["--symmetry-reduction", "off"],     ["--threads", "1"]),
    ("rumur-2t",           ["--symmetry-reduction", "off"],     ["--threads", "2"]),
    ("rumur-symmetry-1t",  [],                                  ["--threads", "1"]),
    ("rumur-symmetry-2t",  [],                                  ["--threads", "2"]),
]

PEER_DIR = Path("/work/shared/bench/pool")

# ---------------------------------------------------------------- sizes

MK_HOSTS = [2, 3, 4, 5]
MK_INSTANCES = [1, 2, 3, 4]
#: (NCPU, NOBJ). The peers ship 4x3 and 5x4; the others come from their generator. mkverify's
#: finer steps make its model much larger: 3x3 and 4x2 are where it ends today
POOL_SIZES = [(2, 2), (3, 2), (3, 3), (4, 2), (4, 3), (5, 4)]
ABLATION_POOL_SIZES = [(2, 2), (3, 2)]

QUICK_MK_HOSTS = [2]
QUICK_MK_INSTANCES = [1]
QUICK_POOL_SIZES = [(2, 2), (4, 3)]
QUICK_ABLATION_POOL_SIZES = [(2, 2)]

#: instruction counts: (tool, configuration, pool model NCPU, NOBJ, BUG). The mkverify
#: model is larger than the peers' at the same size (finer steps), so the peers are
#: also counted on the size they are benchmarked at. "mkverify-startup" is the same
#: mkverify run stopped after one state: start-up, front end and engine set-up,
#: to subtract from the full run.
CALLGRIND_TARGETS = [
    ("mkverify", "native-j1", (3, 2, 0)),
    ("mkverify-startup", "native-j1", (3, 2, 0)),
    ("spin", "spin-bfs", (3, 2, 0)),
    ("rumur", "rumur-1t", (3, 2, 0)),
    ("spin", "spin-bfs", (4, 3, 0)),
    ("rumur", "rumur-1t", (4, 3, 0)),
]
QUICK_CALLGRIND_TARGETS = [
    ("mkverify", "native-j1", (2, 2, 0)),
    ("mkverify-startup", "native-j1", (2, 2, 0)),
    ("spin", "spin-bfs", (2, 2, 0)),
    ("rumur", "rumur-1t", (2, 2, 0)),
    ("spin", "spin-bfs", (4, 3, 0)),
    ("rumur", "rumur-1t", (4, 3, 0)),
]


# ============================================================================
# running one process: wall time, peak RSS, time limit, memory limit
# ============================================================================

class Proc:
    """The outcome of one child process."""

    def __init__(self, cmd, rc, wall, maxrss, stdout, stderr, status):
        self.cmd, self.rc, self.wall, self.maxrss = cmd, rc, wall, maxrss
        self.stdout, self.stderr, self.status = stdout, stderr, status  # status: ok | timeout | oom


def _group_rss(pgid: int) -> int:
    """Resident bytes of every process in process group `pgid`."""
    total = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            if int(fields[2]) != pgid:  # field 5 of stat, 3rd after the command
                continue
            with open(f"/proc/{d}/statm", "rb") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


TIME = shutil.which("time", path="/usr/bin:/bin")


def run_proc(cmd, cwd, timeout: float, mem_limit: int, env=None) -> Proc:
    """Run `cmd` in its own process group; kill the group at `timeout` seconds or
    when its resident memory passes `mem_limit` bytes.

    Peak RSS: the command runs under GNU time (`/usr/bin/time -f %M`), which
    reports the maximum resident set of its child. Without GNU time, wait4()'s
    figure is used, which on Linux never reads below this harness's own
    resident size at the fork (the high-water mark survives exec)."""
    with tempfile.TemporaryDirectory() as td:
        rss_file = Path(td) / "maxrss"
        full = [TIME, "-f", "%M", "-o", str(rss_file), *cmd] if TIME else list(cmd)
        with open(Path(td) / "out", "w+b") as out, open(Path(td) / "err", "w+b") as err:
            t0 = time.perf_counter()
            p = subprocess.Popen(full, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                 start_new_session=True, env=env)
            state = {"status": "ok"}
            done = threading.Event()

            def watchdog():
                while not done.wait(0.25):
                    if time.perf_counter() - t0 > timeout:
                        state["status"] = "timeout"
                    elif mem_limit and _group_rss(p.pid) > mem_limit:
                        state["status"] = "oom"
                    else:
                        continue
                    try:
                        os.killpg(p.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    return

            w = threading.Thread(target=watchdog, daemon=True)
            w.start()
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.perf_counter() - t0
            done.set()
            w.join()
            p.returncode = os.waitstatus_to_exitcode(status)
            try:  # anything the child left behind in its group (pan's worker processes)
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            maxrss = ru.ru_maxrss * 1024
            rc = p.returncode
            if TIME:
                try:
                    lines = rss_file.read_text().strip().splitlines()
                    maxrss = int(lines[-1]) * 1024
                    # GNU time exits with the command's status; it notes a signal in its file
                    m = re.search(r"Command terminated by signal (\d+)", "\n".join(lines))
                    if m:
                        rc = -int(m.group(1))
                except (OSError, ValueError, IndexError):
                    maxrss = None
            out.seek(0)
            err.seek(0)
            return Proc(cmd, rc, wall, maxrss, out.read().decode("utf-8", "replace"),
                        err.read().decode("utf-8", "replace"), state["status"])


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return ""


def _median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ============================================================================
# mkverify
# ============================================================================

def default_python() -> str:
    ci = ROOT / ".venv-ci" / "bin" / "python"
    return str(ci) if ci.exists() else sys.executable


class Mkverify:
    def __init__(self, python: str, timeout: float, mem_limit: int):
        self.python, self.timeout, self.mem_limit = python, timeout, mem_limit
        self.supported: dict[str, tuple[bool, str]] = {}

    def cmd(self, target: Path, flags, extra=()):
        return [self.python, "-m", "mkverify", "check", str(target), "--format", "json", "--no-progress",
                *MKVERIFY_COMMON_FLAGS, *flags, *extra]

    def probe(self, probe_model: Path):
        """Which configurations the command line accepts (exit 2 = rejected)."""
        for name, flags, _ in MKVERIFY_CONFIGS:
            key = " ".join(flags)
            if key in self.supported:
                self.supported[name] = self.supported[key]
                continue
            r = run_proc(self.cmd(probe_model, flags), ROOT, 300, self.mem_limit)
            if r.status != "ok":
                ok = (True, f"probe {r.status}")
            elif r.rc == 2:
                ok = (False, _first_line(r.stderr))
            elif r.rc in (0, 1, 3):
                ok = (True, "")
            else:
                ok = (False, f"exit {r.rc}: {_first_line(r.stderr)}")
            self.supported[name] = self.supported[key] = ok

    def run_once(self, target: Path, flags, extra=()):
        r = run_proc(self.cmd(target, flags, extra), ROOT, self.timeout, self.mem_limit)
        rec = {"wall_s": r.wall, "peak_rss": r.maxrss, "rc": r.rc, "status": r.status}
        if r.status != "ok":
            return rec, None
        if r.rc == 2:
            rec["status"] = "unsupported"
            rec["error"] = _first_line(r.stderr)
            return rec, None
        if r.rc not in (0, 1, 3):
            rec["status"] = "error"
            rec["error"] = f"exit {r.rc}: " + "\n".join(r.stderr.strip().splitlines()[-3:])
            return rec, None
        try:
            doc = json.loads(r.stdout)
        except json.JSONDecodeError as e:
            rec["status"] = "error"
            rec["error"] = f"unparsable JSON output: {e}"
            return rec, None
        return rec, doc["models"][0]

    def measure(self, target: Path, name: str, flags, repeat: int, bug: bool | None) -> dict:
        """Median of `repeat` runs, plus the time to the first violation when there is one."""
        res = {"tool": "mkverify", "config": name, "flags": flags,
               "command": " ".join(self.cmd(target, flags))}
        walls, rsss, model = [], [], None
        for _ in range(repeat):
            rec, m = self.run_once(target, flags)
            if m is None:
                res.update({k: v for k, v in rec.items() if k in ("status", "error", "rc")})
                if rec["status"] in ("timeout", "oom"):
                    res["wall_s"] = rec["wall_s"]
                return res
            walls.append(rec["wall_s"])
            rsss.append(rec["peak_rss"])
            model = m
        st = model["stats"]
        res.update({
            "status": "ok",
            "verdict": model["verdict"],
            "states": st.get("states"),
            "transitions": st.get("transitions"),
            "depth": st.get("depth"),
            "engine_stats": st,
            "wall_s": _median(walls),
            "wall_s_runs": walls,
            "engine_s": st.get("seconds"),
            "peak_rss": _median(rsss),
            "findings": [{"check": f["check"], "trace_len": len(f["trace"]),
                          "line": f["location"]["line"]} for f in model["findings"]],
            "incomplete_reason": model.get("incomplete_reason"),
            "notes": model.get("notes", []),
        })
        if model["findings"]:
            res["trace_len"] = min(len(f["trace"]) for f in model["findings"])
            res.update(self.first_violation(target, flags, res["trace_len"], repeat))
        return res

    def first_violation(self, target, flags, trace_len, repeat) -> dict:
        extra = MKVERIFY_FIRST_VIOLATION_FLAGS or ["--depth", str(max(trace_len, 1))]
        walls = []
        for _ in range(repeat):
            rec, m = self.run_once(target, flags, extra)
            if m is None or not m["findings"]:
                return {"first_violation_s": None,
                        "first_violation_error": rec.get("error") or rec["status"] or "no finding"}
            walls.append(rec["wall_s"])
        return {"first_violation_s": _median(walls), "first_violation_method": " ".join(extra)}


# ============================================================================
# SPIN and Rumur
# ============================================================================

def tool_version(cmd) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return _first_line(r.stdout + "\n" + r.stderr)


def _num(pattern, text, cast=int, default=None):
    m = re.search(pattern, text, re.M)
    return cast(m.group(1)) if m else default


def parse_pan(out: str) -> dict:
    d = {
        "states": _num(r"^\s*(\d+) states, stored", out),
        "transitions": _num(r"^\s*(\d+) transitions \(= stored\+matched\)", out),
        "depth": _num(r"depth reached (\d+)", out),
        "errors": _num(r"errors: (\d+)", out),
        "tool_s": _num(r"elapsed time ([\d.e+-]+) seconds", out, float),
        "tool_memory_mb": _num(r"^\s*([\d.]+)\s+total actual memory usage", out, float),
        "violation_depth": _num(r"assertion violated .*\(at depth (\d+)\)", out),
        "incomplete": ("max search depth too small" in out or "out of memory" in out
                       or "Search not completed" in out and not re.search(r"errors: [1-9]", out)),
    }
    if d["tool_memory_mb"] is None:
        d["tool_memory_mb"] = _num(r"^\s*([\d.]+)\s+total shared memory usage", out, float)
    return d


def parse_rumur(out: str) -> dict:
    m = re.search(r"(\d+) states, (\d+) rules fired in (\d+)s", out)
    errs = _num(r"(\d+) error\(s\) found", out, default=0)
    trace = len(re.findall(r'^Rule "[^"]*".* fired\.$', out, re.M)) if errs else None
    return {"states": int(m.group(1)) if m else None, "transitions": int(m.group(2)) if m else None,
            "depth": None, "errors": errs, "violation_depth": trace,
            "state_bits": _num(r"size of each state is (\d+) bits", out)}


class Peers:
    """SPIN and Rumur on the peer models, copied into `work`."""

    def __init__(self, work: Path, timeout: float, mem_limit: int):
        self.work, self.timeout, self.mem_limit = work, timeout, mem_limit
        self.have_spin = shutil.which("spin") is not None
        self.have_rumur = shutil.which("rumur") is not None

    def models(self, ncpu, nobj, bug) -> Path:
        """pool_N_M_B.pml/.m in self.work: the shipped files, or made by the peer generator."""
        stem = f"pool_{ncpu}_{nobj}_{bug}"
        d = self.work / "peer"
        d.mkdir(parents=True, exist_ok=True)
        if not (d / f"{stem}.pml").exists():
            if (PEER_DIR / f"{stem}.pml").exists():
                shutil.copy(PEER_DIR / f"{stem}.pml", d)
                shutil.copy(PEER_DIR / f"{stem}.m", d)
            else:  # the peer generator writes into its working directory
                subprocess.run([sys.executable, str(PEER_DIR / "gen.py"), str(ncpu), str(nobj), str(bug)],
                               cwd=d, check=True)
        return d / stem

    def build_spin(self, stem: Path, name, directives) -> tuple[Path | None, float, str]:
        d = self.work / "build" / f"{stem.name}-{name}"
        d.mkdir(parents=True, exist_ok=True)
        shutil.copy(stem.with_suffix(".pml"), d)
        t0 = time.perf_counter()
        r = subprocess.run(["spin", "-a", stem.name + ".pml"], cwd=d, capture_output=True, text=True)
        if r.returncode != 0:
            return None, 0.0, "spin -a: " + _first_line(r.stdout + r.stderr)
        r = subprocess.run([*SPIN_CC, *directives, "-o", "pan", "pan.c"], cwd=d, capture_output=True, text=True)
        if r.returncode != 0:
            return None, 0.0, "gcc: " + _first_line(r.stderr)
        return d / "pan", time.perf_counter() - t0, ""

    def build_rumur(self, stem: Path, name, args, cc=None) -> tuple[Path | None, float, str]:
        cc = cc or RUMUR_CC
        d = self.work / "build" / f"{stem.name}-{name}{'' if cc is RUMUR_CC else '-callgrind'}"
        d.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        r = subprocess.run(["rumur", str(stem.with_suffix(".m")), "--output", "r.c", *args], cwd=d,
                           capture_output=True, text=True)
        if r.returncode != 0:
            return None, 0.0, "rumur: " + _first_line(r.stderr)
        r = subprocess.run([*cc, "-o", "r", "r.c", "-lpthread"], cwd=d, capture_output=True, text=True)
        if r.returncode != 0:
            return None, 0.0, "gcc: " + _first_line(r.stderr)
        return d / "r", time.perf_counter() - t0, ""

    def measure(self, tool, name, exe, compile_s, run_args, repeat, parse) -> dict:
        res = {"tool": tool, "config": name, "compile_s": compile_s,
               "command": " ".join([f"./{exe.name}", *run_args])}
        walls, rsss, parsed, runs = [], [], None, []
        for _ in range(repeat):
            for old in exe.parent.glob("*.trail"):
                old.unlink()
            r = run_proc([str(exe), *run_args], exe.parent, self.timeout, self.mem_limit)
            if r.status != "ok":
                res.update({"status": r.status, "wall_s": r.wall})
                return res
            p = parse(r.stdout)
            if p["states"] is None:
                res.update({"status": "error", "error": f"exit {r.rc}: " + _first_line(r.stderr or r.stdout)})
                return res
            walls.append(r.wall)
            rsss.append(r.maxrss)
            runs.append({"states": p["states"], "transitions": p["transitions"], "trace_len": p["violation_depth"]})
            parsed = p
        violated = bool(parsed.get("errors"))
        res.update({
            "status": "ok",
            "verdict": "violations" if violated else "incomplete" if parsed.get("incomplete") else "ok",
            "states": parsed["states"], "transitions": parsed["transitions"], "depth": parsed["depth"],
            "wall_s": _median(walls), "wall_s_runs": walls, "peak_rss": _median(rsss),
            "tool_stats": {k: v for k, v in parsed.items() if k not in ("states", "transitions", "depth")},
            "runs": runs,  # multi-threaded runs, and Rumur's, vary from run to run; the figures are the last run's
        })
        if violated:  # both stop at the first violation: the run's time is the time to it
            res["first_violation_s"] = res["wall_s"]
            res["trace_len"] = parsed["violation_depth"]
        return res

    def spin(self, ncpu, nobj, bug, repeat) -> list[dict]:
        out = []
        stem = self.models(ncpu, nobj, bug)
        for name, directives, args in SPIN_CONFIGS:
            if not self.have_spin:
                out.append({"tool": "spin", "config": name, "status": "unavailable"})
                continue
            exe, cs, err = self.build_spin(stem, name, directives)
            if exe is None:
                out.append({"tool": "spin", "config": name, "status": "error", "error": err})
                continue
            r = self.measure("spin", name, exe, cs, args, repeat, parse_pan)
            r["flags"] = [*SPIN_CC, *directives]
            out.append(r)
        return out

    def rumur(self, ncpu, nobj, bug, repeat) -> list[dict]:
        out = []
        stem = self.models(ncpu, nobj, bug)
        for name, args, run_args in RUMUR_CONFIGS:
            if not self.have_rumur:
                out.append({"tool": "rumur", "config": name, "status": "unavailable"})
                continue
            exe, cs, err = self.build_rumur(stem, name, args)
            if exe is None:
                out.append({"tool": "rumur", "config": name, "status": "error", "error": err})
                continue
            r = self.measure("rumur", name, exe, cs, run_args, repeat, parse_rumur)
            r["flags"] = args
            out.append(r)
        return out


# ============================================================================
# the multikernel variants
# ============================================================================

MK_MODEL = ROOT / "models" / "multikernel" / "fixed"
MK_SPEC = ROOT / "specs" / "multikernel-fixed.toml"


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {v!r} as TOML")


def _patch(text: str, old: str, new: str, where: str) -> str:
    if old not in text:
        raise RuntimeError(f"{where}: the multikernel model changed; benchmarks/run.py cannot scale it "
                           f"(expected to find {old!r})")
    return text.replace(old, new)


def make_multikernel_variant(hosts: int, instances: int, out: Path) -> Path:
    """The repaired multikernel model with `hosts` host CPUs and `instances` instances.

    Instance k (k = 1..instances) has id k and its own CPU, hosts + k - 1, so
    cpus = hosts + instances. Every entry point that names an instance id
    (create, rmdir, kexec load, reboot, status) takes any of the ids; the
    pools of instances and memory pools and the IDR hold one more than the
    instances, as the shipped spec does for one (an instance being created
    with an id already in use); two kimages stay enough (the one loaded and one
    being loaded, under kexec_lock). hosts=2, instances=1 is the shipped
    configuration.

    The model is copied and changed in two places only: the kernfs array gets
    one node per id (MK_MODEL_IDS), and user_kexec_load_multikernel() takes the
    instance id instead of always loading for instance 1.
    """
    model = out / "model"
    if model.exists():
        shutil.rmtree(model)
    shutil.copytree(MK_MODEL, model)
    ids = max(3, instances + 1)
    h = model / "multikernel.h"
    h.write_text(_patch(h.read_text(), "#define MK_MODEL_IDS 3", f"#define MK_MODEL_IDS {ids}", str(h)))
    c = model / "multikernel.c"
    text = c.read_text()
    m = re.search(r"static struct mk_kernfs_node mk_kn\[MK_MODEL_IDS\] = \{.*?\};", text, re.S)
    if not m:
        raise RuntimeError(f"{c}: the multikernel model changed: no mk_kn initializer")
    nodes = ",\n\t".join("{ NULL, ATOMIC_INIT(KN_DEACTIVATED_BIAS) }" for _ in range(ids))
    text = text[:m.start()] + f"static struct mk_kernfs_node mk_kn[MK_MODEL_IDS] = {{\n\t{nodes} }};" + text[m.end():]
    c.write_text(text)
    k = model / "kexec_file.c"
    text = _patch(k.read_text(), "long user_kexec_load_multikernel(int fail)\n{\n"
                  "\treturn kexec_file_load(KEXEC_MULTIKERNEL | KEXEC_MK_ID(1), fail);",
                  "long user_kexec_load_multikernel(int id, int fail)\n{\n"
                  "\treturn kexec_file_load(KEXEC_MULTIKERNEL | KEXEC_MK_ID(id), fail);", str(k))
    k.write_text(text)

    spec = tomllib.loads(MK_SPEC.read_text())
    ids_dom = list(range(1, instances + 1))
    cpus = [hosts + i for i in range(instances)]
    entries = []
    for e in spec["entry"]:
        f, args = e["function"], dict(e.get("args", {}))
        if f == "mk_dtb_write":
            for i, cpu in zip(ids_dom, cpus):
                entries.append({"function": f, "args": {"id": [i], "cpu": [cpu]}})
            continue
        if f == "user_kexec_load_multikernel":
            args = {"id": ids_dom, **args}
        for key in ("id", "mk_id"):
            if key in args:
                args[key] = ids_dom
        if f == "cpu_online_store":
            args["cpu"] = cpus
        entries.append({"function": f, "args": args} if args else {"function": f})
    bounds = dict(spec.get("bounds", {}))
    bounds.update({"cpus": hosts + instances, "host_cpus": hosts, "idr_capacity": instances + 1})
    bounds.pop("cpus_online", None)
    pools = dict(bounds.pop("pools", {}))
    pools.update({"mk_instance": instances + 1, "mk_mem_pool": instances + 1})
    lines = [f"# generated by benchmarks/run.py from {MK_SPEC.relative_to(ROOT)}: "
             f"{hosts} host CPUs, {instances} instance(s)",
             'model = "model"', f"description = {_toml_value(spec.get('description', ''))}", "", "[bounds]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in bounds.items()]
    lines += ["", "[bounds.pools]"] + [f"{k} = {_toml_value(v)}" for k, v in pools.items()]
    for e in entries:
        lines += ["", "[[entry]]", f"function = {_toml_value(e['function'])}"]
        if "args" in e:
            lines.append(f"args = {_toml_value(e['args'])}")
    for table in ("lifecycle", "invariant"):
        for t in spec.get(table, []):
            lines += ["", f"[[{table}]]"] + [f"{k} = {_toml_value(v)}" for k, v in t.items()]
    path = out / "spec.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


# ============================================================================
# callgrind
# ============================================================================

def callgrind(cmd, cwd, timeout, mem_limit) -> dict:
    if shutil.which("valgrind") is None:
        return {"status": "unavailable", "error": "valgrind not found"}
    full = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", "--trace-children=yes", *cmd]
    r = run_proc(full, cwd, timeout, mem_limit)
    counts = [int(x.replace(",", "")) for x in re.findall(r"Collected\s*:\s*([\d,]+)", r.stderr)]
    res = {"command": " ".join(full), "status": r.status, "wall_s": r.wall}
    died = re.search(r"Process terminating with default action of signal \d+ \(\w+\)", r.stderr)
    if r.status == "ok" and died:
        res["status"] = "error"
        res["error"] = died.group(0) + (" (an instruction valgrind does not know)" if "SIGILL" in died.group(0) else "")
    elif r.status == "ok" and counts:
        res["instructions"] = sum(counts)
        res["processes"] = len(counts)
    elif r.status == "ok":
        res["status"] = "error"
        res["error"] = f"exit {r.rc}: no 'Collected' line: " + _first_line(r.stderr)
    return res


# ============================================================================
# machine
# ============================================================================

def machine(python: str) -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_bytes": mem,
        "kernel": platform.release(),
        "python": tool_version([python, "--version"]),
        "mkverify": tool_version([python, "-m", "mkverify", "--version"]),
        "gcc": tool_version(["gcc", "--version"]),
        "spin": tool_version(["spin", "-V"]),
        "rumur": tool_version(["rumur", "--version"]),
        "valgrind": tool_version(["valgrind", "--version"]),
    }


# ============================================================================
# the Markdown tables
# ============================================================================

def _fmt_int(x):
    return f"{x:,}" if isinstance(x, int) else "—"


def _fmt_s(x):
    if x is None:
        return "—"
    return f"{x:.3f}" if x < 1 else f"{x:.2f}" if x < 100 else f"{x:,.0f}"


def _mib(b):
    if not b:
        return "—"
    return f"{b / 2**20:.1f}" if b < 10 * 2**20 else f"{b / 2**20:,.0f}"


def _rate(r):
    if r.get("states") and r.get("wall_s"):
        return f"{r['states'] / r['wall_s']:,.0f}"
    return "—"


def _bps(r):
    if r.get("states") and r.get("peak_rss"):
        return f"{r['peak_rss'] / r['states']:,.0f}"
    return "—"


def _status_cell(r):
    s = r.get("status")
    if r.get("skipped"):
        return f"timeout ({r['skipped']})"
    if s == "timeout":
        return f"timeout ({_fmt_s(r.get('wall_s'))} s)" if r.get("wall_s") else "timeout"
    if s == "oom":
        return "out of memory"
    return s or "—"


def render_markdown(data: dict) -> str:
    md = []
    m = data["machine"]
    st = data["settings"]
    md += ["## Machine", "",
           "| | |", "|---|---|",
           f"| CPU | {m['cpu']} |",
           f"| cores | {m['cores']} |",
           f"| RAM | {m['ram_bytes'] / 2**30:.1f} GiB |",
           f"| kernel | {m['kernel']} |",
           f"| Python | {m['python']} |",
           f"| mkverify | {m['mkverify']} |",
           f"| gcc | {m['gcc']} |",
           f"| SPIN | {m['spin']} |",
           f"| Rumur | {m['rumur']} |",
           f"| valgrind | {m['valgrind']} |",
           f"| date | {m['date']} |", "",
           f"Medians of {st['repeat']} runs; time limit {st['timeout']:.0f} s per run"
           f"{' (quick run)' if st['quick'] else ''}. Times are wall-clock seconds of the checking "
           "process (for mkverify: the whole `mkverify check` process, start-up and front end "
           "included; for SPIN and Rumur: the compiled verifier, compilation listed apart). "
           "Peak RSS is the checking process's maximum resident set (wait4); bytes/state is "
           "peak RSS / states, everything included.", ""]

    cfgs = data["mkverify_configs"]
    unsupported = [c for c in cfgs if not c["supported"]]
    if unsupported:
        md += ["Skipped mkverify configurations (the command line rejects them):", ""]
        md += [f"- `{c['name']}` (`{' '.join(c['flags'])}`): {c['reason']}" for c in unsupported]
        md.append("")

    # ---- multikernel
    mk = [r for r in data["runs"] if r["benchmark"] == "multikernel"]
    if mk:
        names = [c["name"] for c in cfgs if c["supported"] and any(r["config"] == c["name"] for r in mk)]
        grid = sorted({(r["hosts"], r["instances"]) for r in mk})
        md += ["## The multikernel model, scaled", "",
               "`models/multikernel/fixed` with `specs/multikernel-fixed.toml`, scaled by host CPUs "
               "(threads that call entry points) and instances (ids 1..N, each with its own CPU: "
               "cpus = hosts + instances; pools and the IDR hold N + 1). 2 hosts × 1 instance is the "
               "shipped configuration.", ""]
        md += ["| hosts | instances | cpus | verdicts | depth |", "|---|---|---|---|---|"]
        for h, n in grid:
            done = [r for r in mk if (r["hosts"], r["instances"]) == (h, n) and r.get("status") == "ok"]
            verdicts = ", ".join(sorted({r.get("verdict", "?") for r in done})) or "—"
            depths = sorted({r.get("depth") for r in done if r.get("depth") is not None})
            md.append(f"| {h} | {n} | {h + n} | {verdicts} | {', '.join(map(str, depths)) or '—'} |")
        md.append("")
        for title, cell in (("states", lambda r: _fmt_int(r.get("states"))),
                            ("transitions", lambda r: _fmt_int(r.get("transitions"))),
                            ("time to the verdict (s)", lambda r: _fmt_s(r.get("wall_s"))),
                            ("states/s", _rate), ("peak RSS (MiB)", lambda r: _mib(r.get("peak_rss"))),
                            ("bytes/state", _bps)):
            md += [f"### multikernel: {title}", "",
                   "| hosts | instances | " + " | ".join(f"`{n}`" for n in names) + " |",
                   "|---|---|" + "---|" * len(names)]
            for h, n in grid:
                row = []
                for name in names:
                    r = next((r for r in mk if (r["hosts"], r["instances"], r["config"]) == (h, n, name)), None)
                    row.append("" if r is None else cell(r) if r.get("status") == "ok" else _status_cell(r))
                md.append(f"| {h} | {n} | " + " | ".join(row) + " |")
            md.append("")

    # ---- pool
    pool = [r for r in data["runs"] if r["benchmark"] == "pool"]
    if pool:
        md += ["## The pool benchmark: mkverify against SPIN and Rumur", "",
               "NCPU CPUs, NOBJ refcounted objects behind one lock; BUG drops the zero check of the "
               "lookup. SPIN and Rumur run the peer models, where each action is one atomic step; "
               "mkverify runs `benchmarks/pool/gen.py`'s kernel-style C, where each shared access "
               "(lock, table read or write, kref operation, kzalloc/kfree) is a step, so its state "
               "counts are larger and not comparable one to one. SPIN's transitions are stored + "
               "matched states, Rumur's are rules fired. Trace length: steps of the first "
               "counterexample (SPIN: its depth; shortest for BFS, not for DFS; Rumur: rules "
               "fired; mkverify: the shortest trace). Time to the first violation: SPIN and Rumur "
               "stop there; for mkverify, a rerun bounded at that trace's depth.", ""]
        md += ["| model | tool | config | verdict | states | transitions | verdict s | states/s | "
               "peak RSS MiB | B/state | compile s | first violation s | trace |",
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in pool:
            model = f"{r['ncpu']}×{r['nobj']}{' BUG' if r['bug'] else ''}"
            if r.get("status") != "ok":
                md.append(f"| {model} | {r['tool']} | `{r['config']}` | {_status_cell(r)} | | | | | | | | | |")
                continue
            md.append(f"| {model} | {r['tool']} | `{r['config']}` | {r.get('verdict')} | {_fmt_int(r.get('states'))} "
                      f"| {_fmt_int(r.get('transitions'))} | {_fmt_s(r.get('wall_s'))} | {_rate(r)} "
                      f"| {_mib(r.get('peak_rss'))} | {_bps(r)} | {_fmt_s(r.get('compile_s'))} "
                      f"| {_fmt_s(r.get('first_violation_s'))} | {r.get('trace_len') or '—'} |")
        md.append("")

    # ---- callgrind
    cg = data.get("callgrind", [])
    if cg:
        md += ["## Instructions (callgrind)", "",
               "Total instructions executed (`valgrind --tool=callgrind`, \"Collected\"), every "
               "process of the run included. `mkverify-startup` is the same mkverify run stopped "
               "after one state (`--max-states 1`: Python start-up, front end, engine set-up); "
               "instructions/state of mkverify subtracts it.", "",
               "| model | tool | config | instructions | states | instructions/state |", "|---|---|---|---|---|---|"]
        for r in cg:
            ir_ = r.get("instructions")
            states = r.get("states")
            net = ir_
            if ir_ and r["tool"] == "mkverify":
                start = next((x.get("instructions") for x in cg if x["tool"] == "mkverify-startup"
                              and x["model"] == r["model"] and x["config"] == r["config"]), None)
                if start:
                    net = ir_ - start
            per = f"{net / states:,.0f}" if net and states and r["tool"] != "mkverify-startup" else "—"
            md.append(f"| {r['model']} | {r['tool']} | `{r['config']}` | "
                      f"{_fmt_int(ir_) if ir_ else _status_cell(r)} | {_fmt_int(states)} | {per} |")
        md.append("")
    return "\n".join(md)


# ============================================================================
# main
# ============================================================================

class Bench:
    def __init__(self, args):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="mkverify-bench-"))
        self.data = {"machine": machine(args.python),
                     "settings": {"quick": args.quick, "repeat": args.repeat, "timeout": args.timeout,
                                  "mem_limit_bytes": args.mem_limit, "python": args.python,
                                  "argv": sys.argv[1:]},
                     "mkverify_configs": [], "runs": [], "callgrind": []}
        self.mkv = Mkverify(args.python, args.timeout, args.mem_limit)
        self.peers = Peers(self.work, args.timeout, args.mem_limit)

    def log(self, msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    def save(self):
        if self.args.out:
            self.args.out.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.args.out.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.data, indent=1) + "\n")
            tmp.replace(self.args.out)

    def add(self, rec):
        self.data["runs"].append(rec)
        self.save()
        what = rec.get("status")
        if what == "ok":
            what = (f"{rec.get('verdict')}, {_fmt_int(rec.get('states'))} states, {_fmt_s(rec.get('wall_s'))} s, "
                    f"{_mib(rec.get('peak_rss'))} MiB")
            if rec.get("first_violation_s") is not None:
                what += f", first violation {_fmt_s(rec['first_violation_s'])} s, trace {rec.get('trace_len')}"
        elif rec.get("error"):
            what += f": {rec['error']}"
        self.log(f"  {rec['tool']} {rec['config']}: {what}")

    def configs(self, scope_ok):
        for name, flags, scope in MKVERIFY_CONFIGS:
            if self.args.only and not any(re.fullmatch(p, name) for p in self.args.only):
                continue
            if not scope_ok(scope):
                continue
            yield name, flags

    def probe(self):
        probe = generate_pool_model(2, 1, 0, self.work / "probe")
        self.log("probing the mkverify command line for each engine configuration")
        self.mkv.probe(probe / "pool.c")
        for name, flags, scope in MKVERIFY_CONFIGS:
            ok, why = self.mkv.supported[name]
            self.data["mkverify_configs"].append({"name": name, "flags": flags, "scope": scope,
                                                  "supported": ok, "reason": why})
        n = sum(1 for c in self.data["mkverify_configs"] if c["supported"])
        self.log(f"  {n} of {len(MKVERIFY_CONFIGS)} configurations accepted")

    def pool(self):
        quick = self.args.quick
        sizes = QUICK_POOL_SIZES if quick else POOL_SIZES
        if self.args.pool:
            sizes = [tuple(int(x) for x in s.split("x")) for s in self.args.pool]
        ablation = QUICK_ABLATION_POOL_SIZES if quick else ABLATION_POOL_SIZES
        timed_out: dict[str, tuple[int, int]] = {}
        for ncpu, nobj in sizes:
            for bug in (0, 1):
                base = {"benchmark": "pool", "ncpu": ncpu, "nobj": nobj, "bug": bug,
                        "model": f"pool {ncpu}x{nobj} BUG={bug}"}
                self.log(f"pool {ncpu}x{nobj} BUG={bug}")
                if not self.args.no_peers:
                    for r in self.peers.spin(ncpu, nobj, bug, self.args.repeat) + \
                            self.peers.rumur(ncpu, nobj, bug, self.args.repeat):
                        self.add({**base, **r})
                model = generate_pool_model(ncpu, nobj, bug, self.work / "pool" / f"out_{ncpu}_{nobj}_{bug}")
                for name, flags in self.configs(lambda sc: sc == "all" or (ncpu, nobj) in ablation):
                    if not self.mkv.supported[name][0]:
                        continue
                    small = timed_out.get(name)
                    if small and small[0] <= ncpu and small[1] <= nobj:
                        # BUG=1 explores the same states as BUG=0: as large a run
                        self.add({**base, "tool": "mkverify", "config": name, "flags": flags, "status": "timeout",
                                  "skipped": f"not run: pool {small[0]}x{small[1]} already timed out"})
                        continue
                    r = self.mkv.measure(model / "pool.c", name, flags, self.args.repeat, bool(bug))
                    if r.get("status") in ("timeout", "oom"):
                        timed_out.setdefault(name, (ncpu, nobj))
                    self.add({**base, **r})

    def multikernel(self):
        hosts = QUICK_MK_HOSTS if self.args.quick else MK_HOSTS
        insts = QUICK_MK_INSTANCES if self.args.quick else MK_INSTANCES
        if self.args.mk_hosts:
            hosts = self.args.mk_hosts
        if self.args.mk_instances:
            insts = self.args.mk_instances
        timed_out: dict[str, list[tuple[int, int]]] = {}
        for h in hosts:
            for n in insts:
                d = self.work / "multikernel" / f"h{h}_i{n}"
                d.mkdir(parents=True, exist_ok=True)
                spec = make_multikernel_variant(h, n, d)
                self.log(f"multikernel: {h} host CPUs, {n} instance(s)")
                base = {"benchmark": "multikernel", "hosts": h, "instances": n, "cpus": h + n,
                        "model": f"multikernel fixed h{h} i{n}"}
                baseline = (h, n) == (2, 1)
                for name, flags in self.configs(lambda s: s == "all" or baseline):
                    if not self.mkv.supported[name][0]:
                        continue
                    smaller = [x for x in timed_out.get(name, []) if x[0] <= h and x[1] <= n]
                    if smaller:
                        self.add({**base, "tool": "mkverify", "config": name, "flags": flags, "status": "timeout",
                                  "skipped": f"not run: {smaller[0][0]} hosts × {smaller[0][1]} instance(s) "
                                             "already timed out"})
                        continue
                    r = self.mkv.measure(spec, name, flags, self.args.repeat, None)
                    if r.get("status") in ("timeout", "oom"):
                        timed_out.setdefault(name, []).append((h, n))
                    self.add({**base, **r})

    def callgrind(self):
        t = self.args.callgrind_timeout
        for tool, name, (ncpu, nobj, bug) in (QUICK_CALLGRIND_TARGETS if self.args.quick else CALLGRIND_TARGETS):
            label = f"pool {ncpu}×{nobj}{' BUG' if bug else ''}"
            states = next((x.get("states") for x in self.data["runs"]
                           if x["benchmark"] == "pool" and (x["ncpu"], x["nobj"], x["bug"]) == (ncpu, nobj, bug)
                           and x["config"] == name and x.get("status") == "ok"), None)
            rec = {"model": label, "tool": tool, "config": name}
            self.log(f"callgrind: {tool} {name} on {label}")
            if tool.startswith("mkverify"):
                if not self.mkv.supported.get(name, (False, ""))[0]:
                    rec.update({"status": "unsupported",
                                "error": self.mkv.supported.get(name, (False, "not a configuration"))[1]})
                else:
                    flags = next(f for n, f, _ in MKVERIFY_CONFIGS if n == name)
                    model = generate_pool_model(ncpu, nobj, bug, self.work / "callgrind" / f"{ncpu}_{nobj}_{bug}")
                    extra = ["--max-states", "1"] if tool == "mkverify-startup" else []
                    rec["states"] = 1 if extra else states
                    rec.update(callgrind(self.mkv.cmd(model / "pool.c", flags, extra), ROOT, t, self.args.mem_limit))
            elif self.args.no_peers:
                continue
            else:
                have = self.peers.have_spin if tool == "spin" else self.peers.have_rumur
                cfg = next(c for c in (SPIN_CONFIGS if tool == "spin" else RUMUR_CONFIGS) if c[0] == name)
                if not have:
                    rec["status"] = "unavailable"
                else:
                    stem = self.peers.models(ncpu, nobj, bug)
                    if tool == "spin":
                        exe, _, err = self.peers.build_spin(stem, name, cfg[1])
                    else:
                        exe, _, err = self.peers.build_rumur(stem, name, cfg[1], RUMUR_CC_CALLGRIND)
                        rec["compiler"] = " ".join(RUMUR_CC_CALLGRIND)
                    if exe is None:
                        rec.update({"status": "error", "error": err})
                    else:
                        rec["states"] = states
                        rec.update(callgrind([str(exe), *cfg[2]], exe.parent, t, self.args.mem_limit))
            self.data["callgrind"].append(rec)
            self.save()
            self.log(f"  {_fmt_int(rec.get('instructions')) if rec.get('instructions') else rec.get('status')}"
                     f" instructions")

    def run(self):
        try:
            self.probe()
            if "pool" in self.args.parts:
                self.pool()
            if "callgrind" in self.args.parts:
                self.callgrind()
            if "multikernel" in self.args.parts:
                self.multikernel()
        finally:
            self.data["settings"]["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
            self.save()
            if not self.args.keep:
                shutil.rmtree(self.work, ignore_errors=True)
            else:
                self.log(f"kept the work directory {self.work}")
        return self.data


def _ram() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--quick", action="store_true",
                    help="small sizes only: multikernel 2 hosts x 1 instance, pools 2x2 and 4x3; "
                         "default --repeat 1 and --timeout 120")
    ap.add_argument("--repeat", type=int, default=None, help="runs per configuration, median reported (default 3)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per run before 'timeout' (default 600)")
    ap.add_argument("--mem-limit", type=float, default=None,
                    help="GiB of resident memory per run before 'out of memory' (default 90%% of RAM)")
    ap.add_argument("--out", type=Path, default=None, help="write the data as JSON here")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the Markdown tables here")
    ap.add_argument("--python", default=None, help="the Python that runs mkverify (default: .venv-ci, else this one)")
    ap.add_argument("--parts", nargs="+", default=["pool", "callgrind", "multikernel"],
                    choices=["pool", "callgrind", "multikernel"], help="which benchmarks to run (default: all)")
    ap.add_argument("--only", nargs="+", default=None, metavar="REGEX",
                    help="only the mkverify configurations whose names match (e.g. python 'native-j.')")
    ap.add_argument("--pool", nargs="+", default=None, metavar="NCPUxNOBJ", help="pool sizes, e.g. 3x2 4x3")
    ap.add_argument("--mk-hosts", nargs="+", type=int, default=None, help="multikernel host CPU counts")
    ap.add_argument("--mk-instances", nargs="+", type=int, default=None, help="multikernel instance counts")
    ap.add_argument("--no-peers", action="store_true", help="skip SPIN and Rumur")
    ap.add_argument("--callgrind-timeout", type=float, default=1800, help="seconds per callgrind run (default 1800)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work directory")
    ap.add_argument("--render", type=Path, default=None, metavar="DATA.json",
                    help="print the Markdown tables of an earlier run and exit")
    args = ap.parse_args(argv)

    if args.render:
        md = render_markdown(json.loads(args.render.read_text()))
        print(md)
        if args.markdown:
            args.markdown.write_text(md + "\n")
        return 0

    args.repeat = args.repeat or (1 if args.quick else 3)
    args.timeout = args.timeout or (120.0 if args.quick else 600.0)
    args.mem_limit = int(args.mem_limit * 2**30) if args.mem_limit else int(_ram() * 0.9)
    args.python = args.python or default_python()
    data = Bench(args).run()
    md = render_markdown(data)
    print(md)
    if args.markdown:
        args.markdown.write_text(md + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
