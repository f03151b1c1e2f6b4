"""atheris harness: model source text and spec -> ir.Program, or a clean error.

One input is a model's C source and its spec TOML, separated by a line
`//@@spec` (see `split`); without the separator the whole input is the C and
the spec is DEFAULT_SPEC. The harness writes both into a scratch directory
and runs the whole front end as `mkverify check` would: the preprocessor,
pycparser, lowering, the spec's resolution and the IR validator, then the
native engine's lowering to its image. Anything but a `MkverifyError` (the
base of every diagnostic mkverify prints with file:line:col) is a crash.

    python tests/fuzz/fuzz_frontend.py CORPUS_DIR [libFuzzer flags]

CORPUS_DIR starts from `python tests/fuzz/seeds.py frontend CORPUS_DIR` (the
models of tests/models/checks); docs/reliability.md gives the commands for
the smoke run in CI and the long runs.
"""
from __future__ import annotations

from pathlib import Path
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["mkverify", "pycparser"]):
    from mkverify import frontend
    from mkverify.diag import MkverifyError
    from mkverify.engines.native import Lowered

SEPARATOR = b"\n//@@spec\n"
DEFAULT_SPEC = b'[bounds]\ncpus = 2\n\n[[entry]]\nfunction = "f"\n'
SCRATCH = Path(tempfile.mkdtemp(prefix="mkverify-fuzz-"))


def split(data: bytes) -> tuple[bytes, bytes]:
    source, sep, spec = data.partition(SEPARATOR)
    return source, (spec if sep else DEFAULT_SPEC)


def TestOneInput(data: bytes) -> None:
    source, spec = split(data)
    model, toml = SCRATCH / "model.c", SCRATCH / "model.toml"
    model.write_bytes(source)
    toml.write_bytes(spec)
    try:
        program = frontend.load(model)
        Lowered(program)
    except MkverifyError:
        pass


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
