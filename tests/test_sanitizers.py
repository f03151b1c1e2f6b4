"""The C enumerator under AddressSanitizer and UndefinedBehaviorSanitizer, and
its build free of warnings.

The extension is compiled again with `-fsanitize=address,undefined
-Wall -Wextra -Werror`, and tests/test_native.py (agreement on the corpus and
on generated models, threads, fingerprints, hostile images) runs against that
build in a child process with the ASan runtime preloaded. Any invalid memory
access, overflow or undefined shift aborts the child, and the test fails
with the sanitizer's report.
"""
from __future__ import annotations

import os
from pathlib import Path
import shutil
import subprocess
import sys
import sysconfig

import pytest

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "mkverify" / "_explore.c"
FLAGS = ["-O1", "-g", "-std=gnu11", "-fPIC", "-shared", "-fno-omit-frame-pointer", "-Wall", "-Wextra", "-Werror",
         "-Wno-missing-field-initializers"]


def _runtime(name: str) -> str | None:
    out = subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True, text=True).stdout.strip()
    return out if os.path.isabs(out) and os.path.exists(out) else None


def _compile(tmp: Path, extra: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(["gcc", *FLAGS, *extra, f"-I{sysconfig.get_paths()['include']}", str(SOURCE), "-o",
                           str(tmp / "_explore.so"), "-lpthread"], capture_output=True, text=True)


needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


@needs_gcc
def test_the_extension_compiles_without_warnings(tmp_path):
    r = _compile(tmp_path, ["-O2"])
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


@needs_gcc
def test_enumerator_tests_pass_under_asan_and_ubsan(tmp_path):
    asan = _runtime("libasan.so")
    if asan is None:
        pytest.skip("gcc's AddressSanitizer runtime (libasan) is not installed")
    r = _compile(tmp_path, ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"])
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, MKVERIFY_EXPLORE_SO=str(tmp_path / "_explore.so"), LD_PRELOAD=asan,
               ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:verify_asan_link_order=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1", MKVERIFY_SANITIZED="1")
    # everything but the complete multikernel run, which is the corpus' semantics at scale (a minute more)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-x", "-p", "no:cacheprovider",
                           str(REPO / "tests" / "test_native.py"), "-k", "not fixed_complete",
                           "-W", "ignore::DeprecationWarning"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=1500)
    report = proc.stdout[-6000:] + proc.stderr[-6000:]
    assert proc.returncode == 0, report
    assert "sanitized build loaded" in proc.stdout, "the child did not load the sanitized extension"
    assert "ERROR: AddressSanitizer" not in report and "runtime error:" not in report, report
