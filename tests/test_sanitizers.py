"""The test suite under AddressSanitizer and UndefinedBehaviorSanitizer (issue 6), and the C
enumerator's build free of warnings.

The extension is compiled again with `-fsanitize=address,undefined -fno-sanitize-recover=all
-Wall -Wextra -Werror`, and the test suite runs against that build in a child pytest with the ASan
runtime preloaded (LD_PRELOAD) and the build named by MKVERIFY_EXPLORE_SO, which every `mkverify`
process the tests start inherits. Any invalid memory access, overflow or undefined shift aborts
the process that made it, and the test fails with the sanitizer's report.

Left out of the child: this file (it would recurse), tests/test_fuzz.py (it builds and runs its own
sanitized, coverage-instrumented extension under atheris's runtime) and tests/test_browser.py
(Chromium runs none of our C, and does not start with a foreign ASan runtime preloaded). The
preprocessor is started without the preload (frontend/cpp.py).
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


SKIP_UNDER_ASAN = ["tests/test_sanitizers.py", "tests/test_fuzz.py", "tests/test_browser.py"]


def _preload() -> str | None:
    """libasan first, then libstdc++: ASan resolves the real __cxa_throw when it starts, and libz3 (a C++
    library Python loads later) throws its exceptions through that interceptor. Without libstdc++
    loaded by then, z3's first exception is an ASan CHECK failure and SIGABRT."""
    asan = _runtime("libasan.so")
    if asan is None:
        return None
    cxx = _runtime("libstdc++.so")
    return f"{asan} {cxx}" if cxx else asan


@needs_gcc
def test_the_suite_passes_under_asan_and_ubsan(tmp_path):
    preload = _preload()
    if preload is None:
        pytest.skip("gcc's AddressSanitizer runtime (libasan) is not installed")
    r = _compile(tmp_path, ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"])
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, MKVERIFY_EXPLORE_SO=str(tmp_path / "_explore.so"), LD_PRELOAD=preload,
               ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:verify_asan_link_order=0:malloc_context_size=4",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1",
               MKVERIFY_SANITIZED_MARKER=str(tmp_path / "loaded"))
    # the other xdist workers run the rest of the suite meanwhile; this child is the longest single test
    default = str(max(2, (os.cpu_count() or 2) // 2))
    workers = ["-n", os.environ.get("MKVERIFY_SANITIZED_WORKERS", default)] if _has_xdist() else []
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *workers,
                           *[a for f in SKIP_UNDER_ASAN for a in ("--ignore", f)], "-W", "ignore::DeprecationWarning",
                           "-o", "addopts=", "tests"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
    report = proc.stdout[-8000:] + proc.stderr[-8000:]
    assert proc.returncode == 0, report
    marker = tmp_path / "loaded"
    assert marker.exists() and marker.read_text() == str(tmp_path / "_explore.so"), \
        "the child did not load the sanitized extension (tests/test_native.py checks and records it)"
    assert "ERROR: AddressSanitizer" not in report and "runtime error:" not in report, report
    summary = proc.stdout.strip().splitlines()[-1]
    print(f"\nunder ASan and UBSan: {summary}")
    assert " passed" in summary


def _has_xdist() -> bool:
    import importlib.util
    return importlib.util.find_spec("xdist") is not None
