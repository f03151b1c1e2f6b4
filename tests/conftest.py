"""Fixtures shared by every test: the engines and the repository root.

Every behavioural test takes the `engine` fixture, so it runs once against
each engine in ENGINES (CPython's test_bisect runs one test class against
both of its implementations the same way). An engine is a callable
`explore(program: ir.Program) -> ModelResult`.
"""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: name -> "module:function" of an explore(program) -> ModelResult callable.
ENGINES = {
    "python": "mkverify.engines.reference:explore",
    "native": "mkverify.engines.native:explore",
}


def load_engine(name: str):
    module, _, func = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module), func)


@pytest.fixture(params=sorted(ENGINES), scope="session")
def engine(request):
    """An engine's explore(program) -> ModelResult; the test runs once per engine."""
    return load_engine(request.param)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of the checkout (where pyproject.toml is)."""
    return ROOT
