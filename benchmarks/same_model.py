#!/usr/bin/env python3
"""mkverify and SPIN on the same state space: the engines' speed, threads and storage modes.

    python benchmarks/same_model.py [--repeat N] [--spin-v2] [--out DATA.json] [--markdown FILE]

For each model, `mkverify export --promela` writes it for SPIN with mkverify's
own step granularity, so SPIN (depth-first, -DNOREDUCE, -c0) stores exactly
the states mkverify explores without symmetry reduction and atomic sections (tests/test_promela.py
asserts the equality). On that one state space it measures, as whole
processes (median of --repeat runs; peak resident memory from
`/usr/bin/time`):

- the C enumerator: 1 and 2 threads, exact and fingerprint storage, on the
  space SPIN explores (`--no-symmetry --no-atomic-sections`), and with its
  reductions on (the default);
- the Python reference explorer (the repaired model only: 45 s);
- SPIN's pan on the export (compile time reported apart);
- instructions under `valgrind --tool=callgrind` of the C enumerator on the
  repaired model, a figure machine noise does not move.

benchmarks/run.py measures the rest (the multikernel model scaled, the pool
system against SPIN and Rumur on their own models).
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = Path(__file__).resolve().parent.parent
MODELS = [
    ("multikernel/fixed", "models/multikernel/fixed", "specs/multikernel-fixed.toml"),
    ("multikernel/v2", "models/multikernel/v2", "specs/multikernel-v2.toml"),
]
#: the first four explore exactly SPIN's space: no symmetry, no atomic sections
FULL = ["--no-symmetry", "--no-atomic-sections"]
NATIVE = [
    ("native -j1", ["-j", "1", *FULL]),
    ("native -j2", ["-j", "2", *FULL]),
    ("native -j1 --fingerprint", ["-j", "1", *FULL, "--fingerprint"]),
    ("native -j2 --fingerprint", ["-j", "2", *FULL, "--fingerprint"]),
    ("native -j1, atomic sections", ["-j", "1", "--no-symmetry"]),
    ("native -j1, symmetry and atomic sections (the default)", ["-j", "1"]),
    ("native -j2, symmetry and atomic sections", ["-j", "2"]),
]


def timed(cmd, cwd=ROOT, timeout=3600):
    """(wall seconds, peak RSS bytes, stdout) of one process."""
    t = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, CI="1"))
    wall = time.monotonic() - t
    rss = int(proc.stderr.strip().splitlines()[-1]) * 1024
    return wall, rss, proc.stdout, proc.returncode


def mkverify(model, spec, flags, repeat):
    runs = []
    for _ in range(repeat):
        wall, rss, out, code = timed([sys.executable, "-m", "mkverify", "check", model, "--spec", spec,
                                      "--format", "json", "--no-progress", *flags])
        st = json.loads(out)["models"][0]["stats"]
        runs.append({"wall": wall, "rss": rss, "explore": st["seconds"], "states": st["states"],
                     "transitions": st["transitions"], "memory_bytes": st.get("memory_bytes"),
                     "state_bytes": st.get("state_bytes"), "exit": code})
    return runs


def spin(model, spec, repeat, workdir: Path):
    pml = workdir / "model.pml"
    subprocess.run([sys.executable, "-m", "mkverify", "export", "--promela", model, "--spec", spec, "--output",
                    str(pml)], cwd=ROOT, check=True, capture_output=True)
    t = time.monotonic()
    subprocess.run(["spin", "-a", "model.pml"], cwd=workdir, check=True, capture_output=True)
    subprocess.run(["gcc", "-O2", "-fwrapv", "-w", "-DSAFETY", "-DNOREDUCE", "-DMEMLIM=20000", "-o", "pan", "pan.c"],
                   cwd=workdir, check=True, capture_output=True)
    build = time.monotonic() - t
    runs = []
    for _ in range(repeat):
        wall, rss, out, code = timed(["./pan", "-c0", "-m10000000", "-w26"], cwd=workdir)
        states = int(re.search(r"^\s*(\d+) states, stored", out, re.M).group(1))
        trans = int(re.search(r"^\s*(\d+) states, matched", out, re.M).group(1)) + states
        pan_s = float(re.search(r"pan: elapsed time ([\d.e+]+) seconds", out).group(1))
        runs.append({"wall": wall, "rss": rss, "explore": pan_s, "states": states, "transitions": trans})
    return build, runs


def callgrind(cmd, cwd=ROOT):
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "cg.out"
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd], cwd=cwd,
                       capture_output=True, text=True, timeout=3600, env=dict(os.environ, CI="1"))
        m = re.search(r"^summary:\s+(\d+)", out.read_text(), re.M)
        return int(m.group(1)) if m else None


def med(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def row(name, runs, extra=""):
    states = runs[0]["states"]
    t = med(runs, "explore")
    rss = med(runs, "rss")
    mem = med(runs, "memory_bytes")
    return {"engine": name, "states": states, "transitions": runs[0]["transitions"], "seconds": t,
            "wall": med(runs, "wall"), "states_per_s": states / t if t else None, "rss": rss,
            "bytes_per_state_rss": rss / states, "bytes_per_state_engine": (mem / states) if mem else None,
            "state_bytes": runs[0].get("state_bytes"), "note": extra}


def markdown(data) -> str:
    out = []
    for model, rows in data["models"].items():
        out.append(f"\n#### {model}\n")
        out.append("| engine | states | transitions | seconds | states/s | peak RSS | bytes/state (RSS) | "
                   "bytes/state (engine) |")
        out.append("|---|---|---|---|---|---|---|---|")
        for r in rows:
            bps_e = f"{r['bytes_per_state_engine']:.1f}" if r["bytes_per_state_engine"] else "-"
            out.append(f"| {r['engine']}{(' (' + r['note'] + ')') if r['note'] else ''} | {r['states']:,} | "
                       f"{r['transitions']:,} | {r['seconds']:.2f} | {r['states_per_s']:,.0f} | "
                       f"{r['rss'] / 2**20:,.0f} MiB | {r['bytes_per_state_rss']:,.1f} | {bps_e} |")
    if data.get("callgrind"):
        out.append("\n| run | instructions | per state |\n|---|---|---|")
        for name, (ins, states) in data["callgrind"].items():
            out.append(f"| {name} | {ins:,} | {ins / states:,.0f} |")
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--spin-v2", action="store_true", help="also SPIN on multikernel/v2 (2 minutes, 4.7 GB)")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args(argv)
    data = {"machine": {"cpu": _cpu(), "cores": os.cpu_count(), "python": platform.python_version(),
                        "spin": _ver(["spin", "-V"]), "gcc": _ver(["gcc", "--version"])},
            "repeat": args.repeat, "models": {}, "callgrind": {}}
    for name, model, spec in MODELS:
        rows = []
        for label, flags in NATIVE:
            rows.append(row(label, mkverify(model, spec, flags, args.repeat)))
            print(f"{name}: {label}: {rows[-1]['states']:,} states, {rows[-1]['seconds']:.2f} s", file=sys.stderr)
        if name == "multikernel/fixed":
            rows.append(row("python (reference)", mkverify(model, spec, ["--engine", "python"], 1), "1 run"))
            print(f"{name}: python: {rows[-1]['seconds']:.1f} s", file=sys.stderr)
        if shutil.which("spin") and (name != "multikernel/v2" or args.spin_v2):
            with tempfile.TemporaryDirectory(prefix="mkverify-same-") as d:
                build, runs = spin(model, spec, 1 if name == "multikernel/v2" else args.repeat, Path(d))
                rows.append(row("SPIN pan, DFS, on the Promela export", runs,
                                f"spin -a + gcc -O2 took {build:.0f} s more"))
                print(f"{name}: spin: {rows[-1]['seconds']:.2f} s", file=sys.stderr)
        data["models"][name] = rows
        if args.out:
            args.out.write_text(json.dumps(data, indent=1))
    if not args.no_callgrind and shutil.which("valgrind"):
        model, spec = MODELS[0][1], MODELS[0][2]
        for label, flags in (("native -j1, multikernel/fixed, no reductions but private", ["-j", "1", *FULL]),
                             ("native startup only (--max-states 1)", ["-j", "1", "--max-states", "1"])):
            ins = callgrind([sys.executable, "-m", "mkverify", "check", model, "--spec", spec, "--no-progress", *flags])
            data["callgrind"][label] = (ins, 1 if "--max-states" in flags else 663_930)
            print(f"callgrind {label}: {ins:,}", file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(data, indent=1))
    text = markdown(data)
    print(text)
    if args.markdown:
        args.markdown.write_text(text)


def _cpu():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _ver(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "not found"


if __name__ == "__main__":
    main()
