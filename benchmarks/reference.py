"""Throughput of the Python reference explorer on the shipped models.

    python benchmarks/reference.py [MODEL ...]        (default: models/multikernel/fixed)

Prints, per model: states, transitions, seconds, states/s and the process's
peak resident memory (bytes per state is peak RSS over states, everything
included). The C enumerator (a separate issue) adds its own rows here and
its ratio against these.
"""
from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mkverify import frontend  # noqa: E402
from mkverify.engines.reference import explore  # noqa: E402


def main(argv):
    models = argv or [str(ROOT / "models" / "multikernel" / "fixed")]
    print(f"{'model':40s} {'states':>10s} {'transitions':>12s} {'seconds':>8s} {'states/s':>9s} {'peak MiB':>9s} {'B/state':>8s}")
    for path in models:
        program = frontend.load(path)
        t0 = time.perf_counter()
        r = explore(program)
        dt = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(f"{r.model:40s} {r.stats.states:10,d} {r.stats.transitions:12,d} {dt:8.1f} "
              f"{r.stats.states / dt:9,.0f} {peak / 2**20:9,.0f} {peak / max(r.stats.states, 1):8,.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
