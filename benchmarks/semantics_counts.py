#!/usr/bin/env python3
"""Does this checkout explore the same states and find the same findings as another commit?

    git worktree add /tmp/base <commit> && (cd /tmp/base && python setup.py build_ext --inplace)
    python benchmarks/semantics_counts.py --baseline /tmp/base [--generated 150] [--seed 15]

Each checkout runs in a process of its own (PYTHONPATH first), on the same files: every
model of tests/models/checks, tests/fixtures and docs/examples of this checkout with the
native and reference engines (verdict, states, transitions, every finding's check,
location and trace length), the shipped models with the native engine with symmetry on
and off, and --generated models built from tests/test_native.py's statements with a
seeded random choice, in six configurations each (native without symmetry and atomic
sections and the reference, each with and without private folding; native defaults with
and without). It prints every difference and exits 1 if there is one. A run that raises
is recorded with its error, so an error both checkouts share is not a difference.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
from pathlib import Path
import random
import subprocess
import sys
import tempfile

ROOT = Path(__file__).resolve().parent.parent


def _row(r) -> list:
    return [r.verdict, r.stats.states, r.stats.transitions,
            sorted([f.check, str(f.loc), len(f.trace)] for f in r.findings)]


def _try(fn) -> list:
    try:
        return _row(fn())
    except Exception as e:  # an error is a result too: both checkouts must give it
        return ["error", type(e).__name__, str(e)[:200]]


def measure(models: list, generated: list, out: Path) -> None:
    """Inner mode: run in the checkout on PYTHONPATH."""
    from mkverify import frontend
    from mkverify.engines import native, reference
    res = {}
    for p in models:
        try:
            prog = frontend.load(Path(p))
        except Exception as e:  # a model of a primitive the other checkout does not have
            res[p] = ["load-error", str(e)[:200]]
            continue
        res[p] = {"native": _try(lambda: native.explore(prog, max_states=2_000_000)),
                  "python": _try(lambda: reference.explore(prog, max_states=200_000))}
    for m in ("models/multikernel/v2", "models/multikernel/fixed"):
        prog = frontend.load(ROOT / m)
        for sym in (True, False):
            res[f"{m} symmetry={sym}"] = _try(lambda: native.explore(prog, symmetry=sym))
    for p in generated:
        prog = frontend.load(Path(p))
        row = {}
        for red in (True, False):
            row[f"native unreduced, private={red}"] = _try(
                lambda: native.explore(prog, reduce_private=red, symmetry=False, atomic=False))
            row[f"python, private={red}"] = _try(lambda: reference.explore(prog, reduce_private=red))
            row[f"native defaults, private={red}"] = _try(lambda: native.explore(prog, reduce_private=red))
        res[p] = row
    out.write_text(json.dumps(res, indent=1, default=str))


def generate(n: int, seed: int, where: Path) -> list:
    sys.path.insert(0, str(ROOT / "tests"))
    import test_native as tn
    rnd = random.Random(seed)
    paths = []
    for k in range(n):
        bodies = [[rnd.randrange(len(tn.STATEMENTS)) for _ in range(rnd.randint(1, 6))]
                  for _ in range(rnd.randint(1, 3))]
        cpus, fail = rnd.randint(2, 3), rnd.random() < 0.5
        funcs = []
        for i, body in enumerate(bodies):
            lines = "\n".join(f"\t{tn.STATEMENTS[s]}" for s in body)
            funcs.append(f"void entry{i}(void)\n{{\n\tstruct obj *o = NULL;\n\tint id = 0, i;\n\n{lines}\n}}\n")
        d = where / f"{k:03d}"
        d.mkdir(parents=True)
        (d / "m.c").write_text(tn.PRELUDE + "\n" + "\n".join(funcs))
        entries = "\n".join(f'[[entry]]\nfunction = "entry{i}"' for i in range(len(bodies)))
        (d / "m.toml").write_text(tn.SPEC.format(cpus=cpus, fail=str(fail).lower(), entries=entries))
        paths.append(str(d / "m.c"))
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline", type=Path)
    ap.add_argument("--generated", type=int, default=150)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--inner", nargs=3, metavar=("MODELS", "GENERATED", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.inner:
        measure(json.loads(Path(a.inner[0]).read_text()), json.loads(Path(a.inner[1]).read_text()),
                Path(a.inner[2]))
        return
    if a.baseline is None:
        ap.error("--baseline is required")
    models = sorted(glob.glob(str(ROOT / "tests/models/checks/*.c")) + glob.glob(str(ROOT / "tests/fixtures/*/*.c")) +
                    glob.glob(str(ROOT / "docs/examples/*.c")))
    models = [m for m in models if "/limits/" not in m]  # 10^8 states: the reference would run for ever
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        gen = generate(a.generated, a.seed, t / "gen")
        (t / "models.json").write_text(json.dumps(models))
        (t / "gen.json").write_text(json.dumps(gen))
        out = {}
        for who, checkout in (("new", ROOT), ("baseline", a.baseline.resolve())):
            env = dict(os.environ, PYTHONPATH=str(checkout))
            subprocess.run([sys.executable, __file__, "--inner", str(t / "models.json"), str(t / "gen.json"),
                            str(t / f"{who}.json")], cwd=ROOT, env=env, check=True)
            out[who] = json.loads((t / f"{who}.json").read_text())
    new, base = out["new"], out["baseline"]
    def load_error(v):
        return isinstance(v, list) and v[:1] == ["load-error"]
    only = [k for k in new if load_error(base.get(k)) and not load_error(new[k])]
    for k in only:
        print(f"only this checkout loads {k}: {base[k][1]}")
        del new[k]
    diff = [k for k in new if new[k] != base.get(k)]
    for k in diff:
        print(f"DIFFERENT {k}:\n  new      {new[k]}\n  baseline {base.get(k)}")
    errors = sum(1 for v in new.values() for x in (v.values() if isinstance(v, dict) else [v]) if x[0] == "error")
    models = [m for m in models if m not in only]
    print(f"{len(new) - len(diff)} of {len(new)} models identical ({len(models)} corpus, fixture and example models, "
          f"4 shipped runs, {len(gen)} generated); {errors} runs raised in both" if not diff else
          f"{len(diff)} of {len(new)} models differ")
    sys.exit(1 if diff else 0)


if __name__ == "__main__":
    main()
