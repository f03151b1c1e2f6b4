"""Fixtures shared by every test: the engines and the repository root.

Every behavioural test takes the `engine` fixture, so it runs once against
each engine in ENGINES (CPython's test_bisect runs one test class against
both of its implementations the same way). An engine is a callable
`explore(program: ir.Program) -> ModelResult`.
"""
from __future__ import annotations

import functools
import importlib
import os
from pathlib import Path

import pytest

if os.environ.get("MKVERIFY_EXPLORE_SO"):
    # a sanitized build of the C enumerator (tests/test_sanitizers.py, .ci/run): loaded as
    # mkverify._explore before any test imports it; the mkverify processes tests start load it too
    from mkverify.engines.native import _extension
    _extension()


def pytest_report_header(config):
    if os.environ.get("MKVERIFY_EXPLORE_SO"):
        return f"mkverify._explore: sanitized build {os.environ['MKVERIFY_EXPLORE_SO']}"
    return None


#: modules that each take minutes on one xdist worker (the whole suite again under ASan, the fuzz
#: smoke runs): they start first, so that the other workers run the rest meanwhile instead of
#: waiting for them at the end
LONGEST_FIRST = ("test_sanitizers.py", "test_fuzz.py")


def pytest_configure(config):
    # with --dist loadfile, xdist would reorder the files by their number of tests (these two have few)
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(session, config, items):
    count: dict[str, int] = {}
    for item in items:
        count[item.path.name] = count.get(item.path.name, 0) + 1
    def rank(item):
        name = item.path.name
        first = LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
        return first, -count[name], name
    items.sort(key=rank)  # stable: a file's tests keep their order


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
