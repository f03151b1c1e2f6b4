"""atheris harness: bytes -> the C enumerator's image validation (and a short run).

One input is what `mkverify/engines/native.py` hands the extension, framed:

    u16 little-endian  options (bit 0 fingerprint, bit 1 symmetry, bit 2 two threads,
                       bits 3-15: max_states - 1, at most 8192)
    u32 little-endian  n, the number of slots
    n bytes            the slots' widths
    8n bytes           the slots' biases (int64)
    the rest           the image (int64 words)

`explore` must refuse the input with ExploreError (or MemoryError), or run
it within its bounds; `canonical` likewise, on the biases as a vector. A
crash, a sanitizer report, or any other exception is a finding. Build the
extension with clang's coverage instrumentation to guide the fuzzer through
the C code (docs/reliability.md):

    python tests/fuzz/fuzz_loader.py CORPUS_DIR [libFuzzer flags]

CORPUS_DIR starts from `python tests/fuzz/seeds.py loader CORPUS_DIR`: the
lowered images of the models in tests/models/checks, framed as above.
"""
from __future__ import annotations

import struct
import sys

import atheris

from mkverify.engines.native import _extension

_explore = _extension()  # MKVERIFY_EXPLORE_SO names the instrumented build, if any


def unframe(data: bytes):
    if len(data) < 6:
        return None
    opts, n = struct.unpack_from("<HI", data)
    if n > 1 << 16 or len(data) < 6 + 9 * n:
        return None
    widths = data[6:6 + n]
    los = data[6 + n:6 + 9 * n]
    image = data[6 + 9 * n:]
    return opts, widths, los, image


def frame(opts: int, widths: bytes, los: bytes, image: bytes) -> bytes:
    return struct.pack("<HI", opts, len(widths)) + widths + los + image


def TestOneInput(data: bytes) -> None:
    parts = unframe(data)
    if parts is None:
        return
    opts, widths, los, image = parts
    try:
        r = _explore.explore(image, widths, los, jobs=2 if opts & 4 else 1, max_states=(opts >> 3) + 1,
                             max_depth=64, max_memory=256 << 20, fingerprint=bool(opts & 1),
                             symmetry=bool(opts & 2))
    except (_explore.ExploreError, MemoryError):
        return
    assert r["states"] <= (opts >> 3) + 1 + 1, r["states"]
    vector = struct.unpack(f"<{len(los) // 8}q", los)
    try:
        _explore.canonical(image, vector)
    except (_explore.ExploreError, MemoryError):
        pass


def main() -> None:
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
