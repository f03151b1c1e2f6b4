"""The fuzz harnesses in CI (issue 6; docs/reliability.md): every input that ever crashed one is
replayed, and each harness runs for a short smoke run from its seed corpus.

The loader harness runs against a build of the C enumerator with AddressSanitizer,
UndefinedBehaviorSanitizer and clang's coverage instrumentation (`-fsanitize=fuzzer-no-link`), with
atheris's sanitizer runtime preloaded, when clang is installed (.ci/run installs it); without clang,
against the installed build, where only a crash would show. The smoke run's length is
MKVERIFY_FUZZ_SECONDS (default 60) per harness.
"""
from __future__ import annotations

import os
from pathlib import Path
import re
import shutil
import subprocess
import sys
import sysconfig

import pytest

from helpers import unsanitized_env

atheris = pytest.importorskip("atheris", reason="atheris is not installed (pip install -e '.[test]' installs it)")

REPO = Path(__file__).resolve().parent.parent
FUZZ = REPO / "tests" / "fuzz"
SECONDS = int(os.environ.get("MKVERIFY_FUZZ_SECONDS", "60"))
CLANG = next((c for c in ("clang", "clang-14", "clang-15", "clang-16") if shutil.which(c)), None)


@pytest.fixture(scope="module")
def loader_env(tmp_path_factory):
    """The environment the loader harness runs in: the instrumented build where clang can make one."""
    env = unsanitized_env(CI="1")
    if CLANG is None:
        return env, "the installed build (no clang: no sanitizers, no coverage of the C code)"
    out = tmp_path_factory.mktemp("fuzzbuild") / "_explore.so"
    r = subprocess.run([CLANG, "-O1", "-g", "-std=gnu11", "-fPIC", "-shared", "-fno-omit-frame-pointer",
                        "-fsanitize=address,undefined,fuzzer-no-link", "-fno-sanitize-recover=all",
                        f"-I{sysconfig.get_paths()['include']}", str(REPO / "mkverify" / "_explore.c"), "-o", str(out),
                        "-lpthread"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env.update(MKVERIFY_EXPLORE_SO=str(out), LD_PRELOAD=str(Path(atheris.path()) / "asan_with_fuzzer.so"),
               ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    return env, f"{out} ({CLANG}, ASan + UBSan + coverage)"


def harness(name: str, args: list, env: dict, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(FUZZ / f"fuzz_{name}.py"), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, errors="replace", timeout=timeout)


def regressions(name: str) -> list[Path]:
    return sorted((FUZZ / "regressions" / name).iterdir())


def envs(name, loader_env):
    return loader_env[0] if name == "loader" else unsanitized_env(CI="1")


@pytest.mark.parametrize("name", ["frontend", "loader"])
def test_every_input_that_crashed_a_harness_is_now_handled(name, loader_env, tmp_path):
    files = regressions(name)
    assert files, "every crash a fuzzer found is kept in tests/fuzz/regressions/"
    r = harness(name, files, envs(name, loader_env), tmp_path, 600)
    report = r.stdout[-3000:] + r.stderr[-3000:]
    assert r.returncode == 0, report
    assert len(re.findall(r"Executed .* in \d+ ms", r.stderr)) == len(files), report
    assert "ERROR:" not in r.stderr and "runtime error" not in r.stderr, report


@pytest.mark.parametrize("name", ["frontend", "loader"])
def test_smoke_run(name, loader_env, tmp_path):
    corpus = tmp_path / "corpus"
    seeded = subprocess.run([sys.executable, str(FUZZ / "seeds.py"), name, str(corpus)], capture_output=True,
                            text=True, env=envs("frontend", loader_env), timeout=600)
    assert seeded.returncode == 0, seeded.stderr
    for f in regressions(name):
        shutil.copy(f, corpus / f.name)
    flags = [f"-max_total_time={SECONDS}", "-seed=1", "-rss_limit_mb=4096", "-print_final_stats=1",
             f"-artifact_prefix={tmp_path}/", "-timeout=60"]
    if name == "frontend":
        flags.append("-max_len=65536")
    r = harness(name, [corpus, *flags], envs(name, loader_env), tmp_path, SECONDS + 600)
    report = r.stdout[-3000:] + r.stderr[-3000:]
    assert r.returncode == 0, report
    assert not list(tmp_path.glob("crash-*")) and not list(tmp_path.glob("timeout-*")), report
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", r.stderr)
    assert runs and int(runs.group(1)) > 50, report
    print(f"\n{name}: {runs.group(1)} executions in {SECONDS} s"
          + (f" against {loader_env[1]}" if name == "loader" else ""))
