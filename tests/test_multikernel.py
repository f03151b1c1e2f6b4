"""The subject: the multikernel RFC v2 model must show the defects a reviewer
would raise, and the repaired model must be clean after a complete search.

The v2 run is bounded by depth (every finding asserted here has a shortest
trace within it); the repaired model is explored completely (about a minute).
"""
from pathlib import Path
import json
import re
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parent.parent
V2 = ROOT / "models" / "multikernel" / "v2"
FIXED = ROOT / "models" / "multikernel" / "fixed"
SEED = ROOT.parent / "shared" / "seed" / "000_7e72aa977df53b7e.txt"
V2_DEPTH = 58  # the deepest shortest trace asserted below (the plain kexec load freeing the running image) has 57 steps


def _run(*args):
    proc = subprocess.run([sys.executable, "-m", "mkverify", "check", *map(str, args), "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=1200)
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def v2():
    code, doc = _run(V2, "--depth", V2_DEPTH)
    return code, doc["models"][0]


@pytest.fixture(scope="module")
def fixed():
    code, doc = _run(FIXED)
    return code, doc["models"][0]


def _findings(model, check, file_name):
    return [f for f in model["findings"] if f["check"] == check and f["location"]["file"].endswith(file_name)]


def test_v2_exits_1_with_violations(v2):
    code, model = v2
    assert code == 1
    assert model["verdict"] == "violations"


def test_v2_finds_the_image_freed_while_its_kernel_runs_on_another_cpu(v2):
    _, model = v2
    running = [f for f in model["findings"] if f["check"] == "dangling-reference"
               and re.search(r"CPU2 still executes kimage\[\d\]", f["message"])]
    # freed by an unload, by a plain kexec load replacing it, and by a failed load freed after the unlock
    entries = {re.search(r"\((\w+):\d+ >", f["message"]).group(1) for f in running}
    assert {"user_kexec_unload", "user_kexec_load_plain", "user_kexec_load_multikernel"} <= entries
    unload = next(f for f in running if "(user_kexec_unload:" in f["message"])
    actions = [s["action"] for s in unload["trace"]]
    assert any("multikernel_kick_ap" in a for a in actions)
    kick = next(i for i, a in enumerate(actions) if "multikernel_kick_ap" in a)
    # the image is freed after its kernel was started, and kimage_free sets the instance back to READY
    assert any("MK_STATE_LOADING -> MK_STATE_READY" in c for s in unload["trace"][kick:] for c in s["changes"])
    assert unload["trace"][-1]["function"] == "kimage_free"


def test_v2_finds_the_raw_image_pointer_used_after_a_failed_load_freed_it(v2):
    _, model = v2
    uaf = _findings(model, "use-after-free", "kexec_core.c")
    assert any("read of kimage[0].mk_instance" in f["message"] and "kimage_file_alloc_init" in f["message"]
               for f in uaf)
    # the back pointer left behind by the plain kfree() is a dangling reference of its own
    assert any("mk_instance[0].kimage still points to kimage[0]" in f["message"]
               for f in _findings(model, "dangling-reference", "kexec_file.c"))


def test_v2_finds_the_image_freed_after_kexec_unlock_under_a_concurrent_boot(v2):
    _, model = v2
    after_unlock = [f for f in model["findings"] if f["location"]["file"].endswith("kexec_core.c")
                    and f["check"] in ("null-dereference", "use-after-free")
                    and any(s["function"] == "kexec_unlock" for s in f["trace"])
                    and any(s["function"] == "multikernel_kexec_by_id" for s in f["trace"])]
    assert any(f["check"] == "null-dereference" and "instance->cpus_valid" in f["message"] for f in after_unlock)


def test_v2_finds_the_instance_freed_under_a_status_read(v2):
    _, model = v2
    assert any("mk_instance[0].state" in f["message"] for f in _findings(model, "use-after-free", "multikernel.c"))


def test_v2_finds_the_cpu_onlined_between_the_check_and_the_kick(v2):
    _, model = v2
    assert any("which is online" in f["message"] for f in _findings(model, "assertion", "kexec_core.c"))


def test_v2_breaks_the_documented_lifecycle(v2):
    _, model = v2
    assert any("running-kernel-is-active" in f["message"] for f in model["findings"] if f["check"] == "invariant")
    (cov,) = model["coverage"]
    assert "MK_STATE_LOADING -> MK_STATE_ACTIVE" in cov["never_taken"]


def test_v2_finds_the_pool_leaked_by_a_duplicate_id(v2):
    _, model = v2
    assert any("mk_mem_pool" in f["message"] for f in _findings(model, "leak", "multikernel.c"))


def test_every_v2_trace_is_consistent(v2):
    _, model = v2
    for f in model["findings"]:
        if f["check"].startswith("flag-"):  # proved from the header: no trace, a counterexample
            assert f["trace"] == [] and f["counterexample"]
            continue
        assert f["trace"], f["message"]
        assert [s["step"] for s in f["trace"]] == list(range(1, len(f["trace"]) + 1))
        assert all(s["cpu"] in (0, 1) for s in f["trace"])


def test_fixed_is_clean_after_a_complete_search(fixed):
    code, model = fixed
    assert code == 0
    assert model["verdict"] == "ok"
    assert model["findings"] == []
    assert "incomplete_reason" not in model
    assert model["stats"]["states"] > 20_000  # one state per orbit of CPU and slot renamings, sections merged
    (cov,) = model["coverage"]
    assert "MK_STATE_LOADING -> MK_STATE_ACTIVE" in cov["taken"]


@pytest.mark.skipif(not SEED.is_file(), reason="needs ../shared/seed (the patch mail) beside the checkout")
def test_the_models_flag_values_are_the_seeds():
    seed = SEED.read_text(encoding="utf-8", errors="replace")
    defines = dict(re.findall(r"^\+#define (KEXEC_MK_ID_(?:MASK|SHIFT))\s+(\S+)", seed, re.M))
    assert set(defines) == {"KEXEC_MK_ID_MASK", "KEXEC_MK_ID_SHIFT"}
    header = (V2 / "uapi_kexec.h").read_text()
    for name, value in defines.items():
        assert re.search(rf"#define {name}\s+{re.escape(value)}\b", header), name
    # the repaired model moves the field (FIX(7))
    assert not re.search(r"#define KEXEC_MK_ID_MASK\s+0x0000ffe0\b", (FIXED / "uapi_kexec.h").read_text())


def _flag(model, check):
    return [f for f in model["findings"] if f["check"] == check]


def test_v2_finds_the_id_aliasing_against_the_allocators_range(v2):
    _, model = v2
    (alias,) = _flag(model, "flag-alias")
    assert alias["counterexample"]["pairs"] == [{"values": [2048, 0], "encoding": 0},
                                                {"values": [2049, 1], "encoding": 0x20}]
    assert alias["location"]["file"].endswith("v2/uapi_kexec.h")
    (rng,) = _flag(model, "flag-range")
    assert (rng["counterexample"]["first"], rng["counterexample"]["same_as"]) == (2048, 0)
    assert rng["counterexample"]["count"] == 2**31 - 2048


def test_v2_finds_the_flag_and_the_id_field_on_kexec_file_load_flags(v2):
    _, model = v2
    overlaps = {tuple(f["counterexample"]["members"]): f for f in _flag(model, "flag-overlap")}
    assert set(overlaps) == {("KEXEC_MULTIKERNEL", "KEXEC_FILE_NO_CMA"), ("KEXEC_MK_ID", "KEXEC_FILE_FORCE_DTB")}
    assert overlaps["KEXEC_MULTIKERNEL", "KEXEC_FILE_NO_CMA"]["counterexample"]["bits"] == 0x10
    dtb = overlaps["KEXEC_MK_ID", "KEXEC_FILE_FORCE_DTB"]["counterexample"]
    # the id field's lowest bit: KEXEC_MK_ID(1) is KEXEC_FILE_FORCE_DTB
    assert (dtb["bits"], dtb["values"]) == (0x20, {"KEXEC_MK_ID": 1})


def test_v2_finds_the_validation_masks_rejecting_the_ids(v2):
    _, model = v2
    rejected = {f["counterexample"]["set"]: f["counterexample"] for f in _flag(model, "flag-rejected")}
    file_load = rejected["kexec_file_load"]
    assert file_load["accepted"] == [1] and file_load["accepted_complete"]
    assert (file_load["value"], file_load["flags"], file_load["rejected_bits"]) == (2, 0x50, 0x40)
    assert file_load["domain"] == [1, 2047] and file_load["rejected_count"] == 2046
    legacy = rejected["kexec_load"]
    assert legacy["accepted"] == [] and legacy["rejected_count"] == 2047
    assert (legacy["value"], legacy["flags"], legacy["rejected_bits"]) == (1, 0x30, 0x20)


def test_the_exploration_stats_are_the_explorations(v2, fixed):
    # the flag proofs add findings and a note, never states
    for _, model in (v2, fixed):
        assert any(n.startswith("flag encoding (uapi_kexec.h): ") for n in model["notes"])
    assert fixed[1]["stats"]["states"] == 40_460


def test_fixed_has_a_repaired_encoding(fixed):
    _, model = fixed
    assert not [f for f in model["findings"] if f["check"].startswith("flag-")]
    assert "flag encoding (uapi_kexec.h): " in " ".join(model["notes"]) and "0 findings" in " ".join(model["notes"])
