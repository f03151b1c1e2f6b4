#!/usr/bin/env python3
"""What the kernel idioms cost: states and times of the worked examples, and how RCU grows a model.

    python benchmarks/idioms.py [--repeat 3] [--python] [--out benchmarks/idioms-data.json]

Runs, with the native engine (defaults: atomic sections, symmetry, private folding) and, with
--python, the reference engine too:
- every worked example of docs/examples;
- the RCU lookup of docs/examples/rcu-lookup.c in three versions that differ only in how readers
  are kept safe from the free: `rcu` as written (rcu_read_lock, list_for_each_entry_rcu,
  kfree_rcu), `synchronize` (the release waits with synchronize_rcu() and then kfree()s) and
  `mutex` (readers take the updaters' mutex instead of rcu_read_lock, plain list calls, kfree),
  each with 1, 2 and 3 host CPUs;
- the teardown of docs/examples/cancel-work.c with 1 and 2 host CPUs and 1 and 2 worker threads.
A model's time is the fastest of --repeat runs; the state counts do not vary between runs.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
import re
import sys
import tempfile
import time

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: the RCU lookup's variants: (name, [(pattern, replacement)]) applied to rcu-lookup.c
VARIANTS = [
    ("rcu", []),
    ("synchronize", [(r"kfree_rcu\(s, rcu\);", "synchronize_rcu();\n\tkfree(s);")]),
    ("mutex", [(r"rcu_read_lock\(\);", "mutex_lock(&sessions_lock);"),
               (r"rcu_read_unlock\(\);", "mutex_unlock(&sessions_lock);"),
               (r"list_for_each_entry_rcu\(", "list_for_each_entry("),
               (r"list_add_rcu\(", "list_add("), (r"list_del_rcu\(", "list_del("),
               (r"kfree_rcu\(s, rcu\);", "kfree(s);")]),
]


def run(path: Path, engine: str, repeat: int, overrides: dict | None = None) -> dict:
    from mkverify import frontend
    from mkverify.engines import native, reference
    best, r = None, None
    for _ in range(repeat):
        prog = frontend.load(path, overrides=overrides)
        t0 = time.perf_counter()
        r = native.explore(prog) if engine == "native" else reference.explore(prog)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return {"verdict": r.verdict, "states": r.stats.states, "transitions": r.stats.transitions,
            "seconds": round(best, 4), "findings": sorted({f.check for f in r.findings})}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--python", action="store_true", help="the reference engine too")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "idioms-data.json")
    a = ap.parse_args()
    engines = ["native"] + (["python"] if a.python else [])
    data: dict = {"examples": {}, "rcu": {}, "deferred": {}}
    for p in sorted((ROOT / "docs" / "examples").glob("*.c")):
        for e in engines:
            data["examples"][f"{p.name} {e}"] = row = run(p, e, a.repeat)
            print(f"{p.name:22} {e:7} {row['verdict']:10} {row['states']:>9,} states "
                  f"{row['transitions']:>10,} transitions {row['seconds']:8.3f} s", flush=True)
    src = (ROOT / "docs" / "examples" / "rcu-lookup.c").read_text(encoding="utf-8")
    spec = (ROOT / "docs" / "examples" / "rcu-lookup.toml").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        for name, subs in VARIANTS:
            text = src
            for pat, rep in subs:
                text, n = re.subn(pat, rep, text)
                if not n:
                    raise SystemExit(f"variant {name}: {pat} does not occur in rcu-lookup.c")
            path = Path(tmp) / f"rcu-lookup-{name}.c"
            path.write_text(text, encoding="utf-8")
            path.with_suffix(".toml").write_text(spec, encoding="utf-8")
            for host in (1, 2, 3):
                for e in engines:
                    row = run(path, e, a.repeat, {"cpus": host, "host_cpus": host})
                    data["rcu"][f"{name} host_cpus={host} {e}"] = row
                    print(f"rcu-lookup {name:12} host_cpus={host} {e:7} {row['verdict']:10} "
                          f"{row['states']:>9,} states {row['transitions']:>10,} transitions "
                          f"{row['seconds']:8.3f} s", flush=True)
    for host in (1, 2):
        for workers in (1, 2):
            for e in engines:
                row = run(ROOT / "docs" / "examples" / "cancel-work.c", e, a.repeat,
                          {"cpus": host, "host_cpus": host, "workers": workers})
                data["deferred"][f"host_cpus={host} workers={workers} {e}"] = row
                print(f"cancel-work host_cpus={host} workers={workers} {e:7} {row['verdict']:10} "
                      f"{row['states']:>9,} states {row['transitions']:>10,} transitions "
                      f"{row['seconds']:8.3f} s", flush=True)
    a.out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
