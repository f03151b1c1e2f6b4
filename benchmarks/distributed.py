#!/usr/bin/env python3
"""The native engine over Ray partitions against its threads, on one machine.

    python benchmarks/distributed.py [--repeat N] [--quick] [--out DATA.json] [--markdown FILE]
    python benchmarks/distributed.py --predict DATA.json [--states 1e10] [--cores 16] [--memory-gib 64] ...

On each model it runs, in this process (one Ray runtime, started once; its start-up is reported
apart), the threaded engine with 1 and 2 threads and the Ray engine with 1, 2, 4 and 8 partitions.
Per run: exploration seconds (median of --repeat), states/s, the speed-up over one partition and
the ratio to two threads; what crossed between processes (bytes per transition and per state,
streams per state: a stream is one message from a partition to another in a round); rounds and
layers; the time per round the partitions did not spend computing (sync, Ray's calls and object
transfers) and the driver's time per layer barrier (ranking); the engine's memory (summed over
partitions). docs/distributed.md turns these figures into a model of run time on k machines.

Models: v2 as posted with no reduction (4,042,688 states, 239 layers: narrow layers, the hardest
case for a barrier per layer), and the repaired model scaled to 2 host CPUs and 3 instances with
the default reductions (benchmarks/run.py's variant; bounded to --wide-states states: wide layers).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
import platform
import statistics
import sys
import tempfile
import time

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from mkverify import frontend  # noqa: E402
from mkverify.engines import distributed, native  # noqa: E402


def models(wide_states: int, tmp: Path) -> list:
    from run import make_multikernel_variant
    v2 = frontend.build(frontend.open_model(ROOT / "models/multikernel/v2", ROOT / "specs/multikernel-v2.toml"), {})
    spec = make_multikernel_variant(2, 3, tmp / "mk-2x3")
    wide = frontend.build(frontend.open_model(spec.parent / "model", spec), {})
    return [("v2, no reductions", v2, dict(symmetry=False, atomic=False), 0),
            ("fixed 2 hosts x 3 instances, reductions on", wide, dict(symmetry=True, atomic=True), wide_states)]


def run_threads(program, jobs, kw, max_states):
    r = native.explore(program, jobs=jobs, max_states=max_states, **kw)
    return {"seconds": r.stats.seconds, "states": r.stats.states, "transitions": r.stats.transitions,
            "depth": r.stats.depth, "verdict": r.verdict, "memory_bytes": r.stats.extra["memory_bytes"],
            "findings": len(r.findings)}


def run_ray(program, partitions, kw, max_states, fingerprint=False):
    ex = distributed.DistributedExplorer(program, partitions=partitions, backend="ray", max_states=max_states,
                                         fingerprint=fingerprint, **kw)
    r = ex.run()
    c = ex.comm
    rounds, layers = max(c["rounds"], 1), max(c["layers"], 1)
    return {"seconds": r.stats.seconds, "states": r.stats.states, "transitions": r.stats.transitions,
            "depth": r.stats.depth, "verdict": r.verdict, "memory_bytes": r.stats.extra["memory_bytes"],
            "findings": len(r.findings), "actor_start_seconds": c["setup_seconds"],
            "exchanged_bytes": c["exchanged_bytes"], "stream_bytes": c["stream_bytes"], "key_bytes": c["key_bytes"],
            "streams": c["streams"], "rounds": c["rounds"], "layers": c["layers"],
            "sync_seconds_per_round": c["sync_seconds"] / rounds, "barrier_seconds_per_layer":
                c["barrier_seconds"] / layers}


def median_run(fn, repeat):
    runs = [fn() for _ in range(repeat)]
    out = dict(sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2])
    out["seconds_all"] = [round(r["seconds"], 3) for r in runs]
    return out


def table(data) -> str:
    lines = []
    for m in data["models"]:
        lines.append(f"\n**{m['model']}** ({m['runs'][0]['states']:,} states, {m['runs'][0]['transitions']:,} "
                     f"transitions, {m['runs'][0]['depth']} layers)\n")
        lines.append("| engine | seconds | states/s | × 1 partition | × 2 threads | B/transition | B/state | "
                     "streams/state | rounds | sync ms/round | barrier ms/layer | memory MiB |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        base = next(r for r in m["runs"] if r["engine"] == "ray" and r["n"] == 1)["seconds"]
        j2 = next(r for r in m["runs"] if r["engine"] == "threads" and r["n"] == 2)["seconds"]
        for r in m["runs"]:
            name = f"threads -j{r['n']}" if r["engine"] == "threads" else f"--ray, {r['n']} partition" + \
                ("s" if r["n"] > 1 else "") + (", --fingerprint" if r["engine"] == "ray-fingerprint" else "")
            ray_cols = ["—"] * 6
            if r["engine"] != "threads":
                ray_cols = [f"{r['exchanged_bytes'] / max(r['transitions'], 1):.2f}",
                            f"{r['exchanged_bytes'] / max(r['states'], 1):.2f}",
                            f"{r['streams'] / max(r['states'], 1):.5f}", f"{r['rounds']}",
                            f"{1000 * r['sync_seconds_per_round']:.2f}", f"{1000 * r['barrier_seconds_per_layer']:.2f}"]
            lines.append(f"| {name} | {r['seconds']:.2f} | {r['states'] / r['seconds']:,.0f} | "
                         f"{base / r['seconds']:.2f} | {j2 / r['seconds']:.2f} | " + " | ".join(ray_cols) +
                         f" | {r['memory_bytes'] / 2 ** 20:,.0f} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- the model of k machines

def predict(data: dict, a) -> str:
    """Run time and cost of a run of `states` states on k machines, from the figures measured here.

    Per partition (one per core) the Ray runs give its speed r (states/s of the 2-partition run over 2,
    which includes the cost of encoding and decoding streams) and the memory per state (exact, or
    --fingerprint); per transition the bytes exchanged at the most partitions measured (8: nearly every
    transition that writes shared memory then crosses); the synchronisation time of a round as a line
    through the 1, 2, 4 and 8 partition runs (the driver sends each partition its calls in turn), plus
    a network round trip; per state the driver's ranking time (exact mode only).

        P = k c partitions, R = S / (P chunk) + D rounds
        T(k) = S / (P r)                           every partition expanding and inserting its share
             + S t b (1 - 1/k) / (k W)             what each machine sends, on its own link of W bytes/s
             + R (t_sync(P) + RTT)                 a barrier per round
             + S rho                               exact mode: the driver ranks every layer, alone
    k is also at least S m / (usable memory per machine). Nothing overlaps: the bound is pessimistic.
    """
    m = next(x for x in data["models"] if x["model"].startswith(a.basis))
    runs = {(r["engine"], r["n"]): r for r in m["runs"]}
    ray_ns = sorted(n for e, n in runs if e == "ray")
    two, most = runs[("ray", 2)], runs[("ray", ray_ns[-1])]
    r_part = two["states"] / two["seconds"] / 2
    tau = two["transitions"] / two["states"]
    b = most["exchanged_bytes"] / most["transitions"]
    xs, ys = ray_ns, [runs[("ray", n)]["sync_seconds_per_round"] for n in ray_ns]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    base = my - slope * mx
    rho = two["barrier_seconds_per_layer"] * two["layers"] / two["states"]
    fp = runs.get(("ray-fingerprint", 2))
    if a.fingerprint and fp is None:
        raise SystemExit("the data file has no fingerprint run")
    mem = (fp if a.fingerprint else two)["memory_bytes"] / (fp if a.fingerprint else two)["states"]
    S, c, W, D = a.states, a.cores, a.gbit * 1e9 / 8, a.layers
    usable = a.memory_gib * 2 ** 30 * 0.8
    k_mem = max(1, int(-(-S * mem // usable)))
    lines = [f"basis: {m['model']}: per partition {r_part:,.0f} states/s, {tau:.2f} transitions/state, "
             f"{b:.1f} B/transition exchanged, a round's sync {1000 * base:.1f} ms + {1000 * slope:.2f} ms "
             f"per partition, {mem:.0f} B/state ({'fingerprints' if a.fingerprint else 'exact'}), "
             f"ranking {rho * 1e9:.0f} ns/state" + (" (not needed)" if a.fingerprint else ""),
             "",
             f"assumed: {S:.0e} states in {D} layers, chunks of {a.chunk:,} states; {c} cores and "
             f"{a.memory_gib} GiB (80 % usable) a machine, {a.gbit:g} Gbit/s links, "
             f"{a.rtt * 1000:.1f} ms more a round across machines, {a.price} $ a machine-hour; "
             f"the states fit in k >= {k_mem} machines", "",
             "| machines | compute s | network s | rounds s | ranking s | total h | $ total | $ per 10^9 states |",
             "|---|---|---|---|---|---|---|---|"]
    for k in sorted({1, 2, 4, 8, 16, 32, 64, k_mem}):
        P = k * c
        tc = S / (P * r_part)
        tn = S * tau * b * (1 - 1 / k) / (k * W)
        rounds = S / (P * a.chunk) + D
        tb = rounds * (base + slope * P + (a.rtt if k > 1 else 0.0))
        tr = 0.0 if a.fingerprint else S * rho
        total = tc + tn + tb + tr
        fits = "" if k >= k_mem else " (states do not fit)"
        cost = k * a.price * total / 3600
        lines.append(f"| {k}{fits} | {tc:,.0f} | {tn:,.0f} | {tb:,.0f} | {tr:,.0f} | {total / 3600:,.2f} | "
                     f"{cost:,.2f} | {cost / (S / 1e9):,.3f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--predict", type=Path, default=None, metavar="DATA.json",
                    help="print the model of run time on k machines from a data file, and stop")
    ap.add_argument("--basis", default="fixed", help="the model of the data file whose figures the prediction uses")
    ap.add_argument("--states", type=float, default=1e10)
    ap.add_argument("--layers", type=int, default=300)
    ap.add_argument("--cores", type=int, default=16)
    ap.add_argument("--memory-gib", type=int, default=64)
    ap.add_argument("--gbit", type=float, default=10.0)
    ap.add_argument("--rtt", type=float, default=0.0005, help="seconds a barrier takes more across machines")
    ap.add_argument("--price", type=float, default=0.80, help="dollars per machine-hour (an assumption)")
    ap.add_argument("--fingerprint", action="store_true", help="predict a fingerprint-mode run")
    ap.add_argument("--chunk", type=int, default=distributed.DEFAULT_CHUNK, help="states a partition expands a round")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="one repeat, 1 and 2 partitions, v2 only")
    ap.add_argument("--wide-states", type=int, default=4_000_000, help="bound of the wide model's runs")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/distributed-data.json")
    ap.add_argument("--markdown", type=Path, default=None)
    a = ap.parse_args()
    if a.predict:
        print(predict(json.loads(a.predict.read_text()), a))
        return 0
    import ray
    t = time.monotonic()
    ray.init(num_cpus=8, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    start = time.monotonic() - t
    repeat = 1 if a.quick else a.repeat
    data = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "ray": ray.__version__,
                        "platform": platform.platform()},
            "ray_start_seconds": round(start, 2), "repeat": repeat, "models": []}
    with tempfile.TemporaryDirectory() as tmp:
        for name, program, kw, bound in models(a.wide_states, Path(tmp))[:1 if a.quick else None]:
            runs = []
            for jobs in (1, 2):
                r = median_run(lambda: run_threads(program, jobs, kw, bound), repeat)
                runs.append({"engine": "threads", "n": jobs, **r})
                print(f"{name}: threads -j{jobs}: {r['seconds']:.2f} s", file=sys.stderr, flush=True)
            for parts in (1, 2) if a.quick else (1, 2, 4, 8):
                r = median_run(lambda: run_ray(program, parts, kw, bound), repeat)
                runs.append({"engine": "ray", "n": parts, **r})
                print(f"{name}: --ray {parts}: {r['seconds']:.2f} s", file=sys.stderr, flush=True)
            r = median_run(lambda: run_ray(program, 2, kw, bound, fingerprint=True), repeat)
            runs.append({"engine": "ray-fingerprint", "n": 2, **r})
            print(f"{name}: --ray 2 --fingerprint: {r['seconds']:.2f} s", file=sys.stderr, flush=True)
            data["models"].append({"model": name, "max_states": bound, "runs": runs})
    ray.shutdown()
    a.out.write_text(json.dumps(data, indent=2) + "\n")
    md = table(data)
    if a.markdown:
        a.markdown.write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
