#!/usr/bin/env python3
"""The z3 engine's time per depth, on the multikernel models and on a small corpus model.

    python benchmarks/bmc_depth.py [--depth K] [--out DATA.json]

For each model, one `mkverify check --engine z3 --depth K --format json` run
(the engine itself records the seconds each depth took: encoding the step once,
substituting it for the depth, and every solver query of that depth), plus the
same run's peak resident memory and the explicit engines' figures on the same
unreduced machine to that depth, for scale. A depth that does not finish within
--budget seconds ends the model's series.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
import platform
import subprocess
import sys
import time

ROOT = Path(__file__).resolve().parent.parent
MODELS = [("models/multikernel/v2", 4), ("models/multikernel/fixed", 4),
          ("tests/models/checks/double-free-trigger.c", 23)]


def run(cmd, timeout):
    """(parsed JSON, seconds, peak KiB) of one mkverify run under /usr/bin/time."""
    t0 = time.monotonic()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, cwd=ROOT,
                       timeout=timeout)
    seconds = time.monotonic() - t0
    peak = int(p.stderr.strip().splitlines()[-1])
    return json.loads(p.stdout), seconds, peak


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--depth", type=int, default=0, help="bound every model to this depth (default: per model)")
    ap.add_argument("--budget", type=int, default=1800, help="seconds one model's run may take")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "bmc_depth-data.json")
    args = ap.parse_args()
    mk = [sys.executable, "-m", "mkverify", "check", "--format", "json"]
    data = {"machine": platform.node(), "python": platform.python_version(), "models": []}
    for model, depth in MODELS:
        k = args.depth or depth
        doc, seconds, peak = run([*mk, "--engine", "z3", "--depth", str(k), model], args.budget)
        m = doc["models"][0]
        ref, rsec, rpeak = run([*mk, "--engine", "python", "--no-reduce-private", "--depth", str(k), model],
                               args.budget)
        r = ref["models"][0]
        row = {"model": model, "depth": k, "verdict": m["verdict"], "findings": len(m["findings"]),
               "seconds": round(seconds, 2), "peak_kib": peak, "seconds_per_depth": m["stats"]["seconds_per_depth"],
               "reference": {"verdict": r["verdict"], "states": r["stats"]["states"], "seconds": round(rsec, 2),
                             "peak_kib": rpeak}}
        data["models"].append(row)
        print(json.dumps(row), flush=True)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
