#!/usr/bin/env python3
"""This checkout's C enumerator against another commit's, side by side, on the shipped models.

    git worktree add /tmp/base <commit> && (cd /tmp/base && python setup.py build_ext --inplace)
    python benchmarks/semantics.py --baseline /tmp/base [--repeat 5] [--out DATA.json]

Each checkout runs as a whole process (`python -m mkverify check --format json`, the
checkout first on PYTHONPATH, its extension built in place or installed), the two
alternating run by run so that machine noise hits both alike. For each model and
configuration it reports the states (which must be equal: the semantics did not
change), the exploration's seconds (the fastest of --repeat runs, and the median)
and states per second as the engine reports them, the engine's bytes per state, and
the process's peak resident memory (`/usr/bin/time`), and the ratio new / baseline.
On a shared virtual machine the seconds move by 10-15 % from run to run; with
--callgrind N it also counts, under valgrind, the instructions the C enumerator
executes per state in the first N states of each model, a figure that noise does
not move.

Configurations: `-j 1 --no-symmetry --no-atomic-sections --no-reduce-private` (no
reductions: the most steps, so the most primitives executed per state) and `-j 1`
(the defaults). docs/performance.md records a run (issue 15: kernel primitives as
micro-programs instead of hand-written C).
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import platform
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = Path(__file__).resolve().parent.parent
MODELS = [("fixed", "models/multikernel/fixed"), ("v2", "models/multikernel/v2")]
CONFIGS = [("no reductions", ["-j", "1", "--no-symmetry", "--no-atomic-sections", "--no-reduce-private"]),
           ("defaults", ["-j", "1"])]


def run(checkout: Path, model: str, flags: list) -> dict:
    env = dict(os.environ, PYTHONPATH=str(checkout), CI="true")
    cmd = ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "mkverify", "check", "--format", "json", *flags,
           str(ROOT / model)]
    p = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True, timeout=3600)
    if p.returncode not in (0, 1):
        raise SystemExit(f"{checkout}: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-2000:]}")
    st = json.loads(p.stdout)["models"][0]["stats"]
    rss = int(p.stderr.strip().splitlines()[-1]) * 1024
    return {"states": st["states"], "seconds": st["seconds"], "states_per_s": st["states"] / max(st["seconds"], 1e-9),
            "bytes_per_state": st["bytes_per_state"], "peak_rss": rss}


def instructions(checkout: Path, model: str, flags: list, max_states: int) -> float:
    """Instructions executed in the C enumerator's own functions (callgrind self cost in _explore.c) per state,
    over the first max_states states."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        env = dict(os.environ, PYTHONPATH=str(checkout), CI="true")
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-m", "mkverify",
               "check", "--format", "json", "--max-states", str(max_states), *flags, str(ROOT / model)]
        p = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True, timeout=7200)
        states = json.loads(p.stdout)["models"][0]["stats"]["states"]
        ann = subprocess.run(["callgrind_annotate", str(out)], capture_output=True, text=True).stdout
    total = 0
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*_explore\.c:", line)
        if m:
            total += int(m.group(1).replace(",", ""))
    return total / states


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", type=Path, required=True, help="a checkout of the commit to compare with")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "semantics-data.json")
    ap.add_argument("--callgrind", type=int, default=0, metavar="N",
                    help="also count the C enumerator's instructions per state over the first N states")
    a = ap.parse_args()
    base = a.baseline.resolve()
    rows = []
    for mname, model in MODELS:
        for cname, flags in CONFIGS:
            runs = {"new": [], "baseline": []}
            for k in range(a.repeat):
                order = [("new", ROOT), ("baseline", base)] if k % 2 == 0 else [("baseline", base), ("new", ROOT)]
                for who, checkout in order:
                    runs[who].append(run(checkout, model, flags))
            row = {"model": mname, "config": cname, "flags": flags}
            for who, rs in runs.items():
                if len({r["states"] for r in rs}) != 1:
                    raise SystemExit(f"{who}: the state count varies between runs")
                row[who] = {key: statistics.median(r[key] for r in rs) for key in rs[0]}
                row[who]["seconds"] = min(r["seconds"] for r in rs)
                row[who]["median_seconds"] = statistics.median(r["seconds"] for r in rs)
                row[who]["states_per_s"] = row[who]["states"] / max(row[who]["seconds"], 1e-9)
                if a.callgrind:
                    row[who]["instructions_per_state"] = instructions(ROOT if who == "new" else base, model, flags,
                                                                      a.callgrind)
            if row["new"]["states"] != row["baseline"]["states"]:
                print(f"warning: {mname} {cname}: {row['new']['states']} states against {row['baseline']['states']}",
                      file=sys.stderr)
            row["ratio"] = {key: row["new"][key] / row["baseline"][key] for key in
                            ("states_per_s", "bytes_per_state", "peak_rss", "seconds", "median_seconds",
                             *(("instructions_per_state",) if a.callgrind else ()))}
            rows.append(row)
            n, b, r = row["new"], row["baseline"], row["ratio"]
            print(f"{mname:5} {cname:13} states {n['states']:>9,} | states/s {n['states_per_s']:>11,.0f} vs "
                  f"{b['states_per_s']:>11,.0f} ({r['states_per_s']:.3f}x) | B/state {n['bytes_per_state']:.1f} vs "
                  f"{b['bytes_per_state']:.1f} | RSS {n['peak_rss'] / 2**20:.0f} vs {b['peak_rss'] / 2**20:.0f} MiB" +
                  (f" | instr/state {n['instructions_per_state']:.0f} vs {b['instructions_per_state']:.0f} "
                   f"({r['instructions_per_state']:.3f}x)" if a.callgrind else ""))
    git = lambda d: subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=d, capture_output=True,
                                   text=True).stdout.strip()
    doc = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
           "new": git(ROOT), "baseline": git(base), "repeat": a.repeat, "rows": rows}
    a.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
