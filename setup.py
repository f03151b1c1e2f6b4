"""Build of the C enumerator (mkverify/_explore.c); everything else is in pyproject.toml."""
from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "mkverify._explore", ["mkverify/_explore.c"], depends=["mkverify/_core.h"],
    extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
    extra_link_args=["-lpthread"],
)])
