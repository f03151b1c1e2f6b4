"""The same model and options give byte-identical JSON (issue 6), apart from the measurements:
across runs, thread counts (`-j`), and hash seeds (PYTHONHASHSEED stands in for another machine:
nothing may depend on the order of a set or a dict built from hashed names).

The native engine explores in parallel partitions; which trace it reports for a finding is fixed by
the states' breadth-first ranks, not by which thread found what first (mkverify/_explore.c,
ORD_STEP), so the traces are those of the reference explorer for every -j. Masked: the keys that
measure the run (`seconds`, `memory_bytes`, `bytes_per_state`, `seconds_per_depth`) and `jobs`,
which repeats an option.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess
import sys

import pytest

REPO = Path(__file__).resolve().parent.parent
MEASURED = ("seconds", "memory_bytes", "bytes_per_state", "state_bytes", "seconds_per_depth", "jobs")


def check_json(args, seed="0") -> str:
    proc = subprocess.run([sys.executable, "-m", "mkverify", "check", *args, "--format", "json"], cwd=REPO,
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, CI="1", PYTHONHASHSEED=seed))
    assert proc.returncode in (0, 1, 3), proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    for m in doc["models"]:
        for key in MEASURED:
            m["stats"].pop(key, None)
    return json.dumps(doc, indent=2, sort_keys=False)


V2 = ["models/multikernel/v2", "--spec", "specs/multikernel-v2.toml"]
FIXED = ["models/multikernel/fixed", "--spec", "specs/multikernel-fixed.toml"]


@pytest.mark.parametrize("args", [
    V2,
    V2 + ["--no-symmetry", "--no-atomic-sections"],
    FIXED,
    ["tests/models/checks/use-after-free-trigger.c"],
], ids=["v2", "v2-unreduced", "fixed", "use-after-free"])
def test_native_json_is_the_same_for_every_run_thread_count_and_hash_seed(args):
    first = check_json([*args, "-j", "1"])
    assert check_json([*args, "-j", "1"], seed="1") == first
    assert check_json([*args, "-j", "2"], seed="2") == first
    assert check_json([*args, "-j", "3"], seed="3") == first


def test_the_reference_and_z3_engines_are_deterministic_too():
    args = ["tests/models/checks/double-free-trigger.c"]
    assert check_json([*args, "--engine", "python"]) == check_json([*args, "--engine", "python"], seed="7")
    assert check_json([*args, "--engine", "z3", "--depth", "12"]) == \
        check_json([*args, "--engine", "z3", "--depth", "12"], seed="7")


def test_findings_have_the_reference_explorers_traces_for_every_thread_count():
    """Not only the same for every -j: the very traces the reference explorer reports, at its
    granularity (no atomic sections) and without symmetry (which stores one renaming of the CPUs,
    whose first trace may run the same steps on the other CPU)."""
    args = ["tests/models/checks/dangling-reference-trigger-idr.c", "--no-atomic-sections"]
    ref = json.loads(check_json([*args, "--engine", "python"]))["models"][0]["findings"]
    nat = json.loads(check_json([*args, "-j", "3", "--no-symmetry"]))["models"][0]["findings"]
    assert ref and [f["trace"] for f in nat] == [f["trace"] for f in ref]
