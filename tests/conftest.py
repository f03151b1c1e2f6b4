"""Fixtures shared by every test: the engines and the repository root.

Every behavioural test takes the `engine` fixture, so it runs once against
each engine in ENGINES (CPython's test_bisect runs one test class against
both of its implementations the same way). An engine is a callable
`explore(program: ir.Program) -> ModelResult`.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import os
from pathlib import Path
import sys

import pytest

if os.environ.get("MKVERIFY_EXPLORE_SO"):
    # tests/test_sanitizers.py: run against a sanitized build of the C enumerator
    _spec = importlib.util.spec_from_file_location("mkverify._explore", os.environ["MKVERIFY_EXPLORE_SO"])
    _mod = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_mod)
    sys.modules["mkverify._explore"] = _mod
    # the runtime is loaded in this process; the preprocessor the front end starts (under a memory cap
    # that ASan's shadow mapping would exceed) must not inherit it
    os.environ.pop("LD_PRELOAD", None)


def pytest_report_header(config):
    if os.environ.get("MKVERIFY_EXPLORE_SO"):
        return f"mkverify._explore: sanitized build {os.environ['MKVERIFY_EXPLORE_SO']}"
    return None

ROOT = Path(__file__).resolve().parent.parent

#: name -> ("module:function" of an explore(program) -> ModelResult callable, keyword arguments).
#: The corpus's hand-counted trace lengths are in steps of the IR's granularity, so the native
#: engine runs here without atomic sections (which merge steps); tests/test_reductions.py shows
#: they keep every verdict and finding. Its symmetry reduction keeps trace lengths: it stays on.
ENGINES = {
    "python": ("mkverify.engines.reference:explore", {}),
    "native": ("mkverify.engines.native:explore", {"atomic": False}),
}


def load_engine(name: str):
    target, kwargs = ENGINES[name]
    module, _, func = target.partition(":")
    fn = getattr(importlib.import_module(module), func)
    return functools.partial(fn, **kwargs) if kwargs else fn


@pytest.fixture(params=sorted(ENGINES), scope="session")
def engine(request):
    """An engine's explore(program) -> ModelResult; the test runs once per engine."""
    return load_engine(request.param)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of the checkout (where pyproject.toml is)."""
    return ROOT
