"""Seed corpora for the fuzz harnesses, from the models in tests/models/checks.

    python tests/fuzz/seeds.py frontend DIR   # each model's C, //@@spec, its spec
    python tests/fuzz/seeds.py loader DIR     # each model's image, framed as fuzz_loader.py reads it
"""
from __future__ import annotations

import hashlib
from pathlib import Path
import sys

HERE = Path(__file__).resolve().parent
MODELS = HERE.parent / "models" / "checks"
sys.path.insert(0, str(HERE))


def frontend_seeds():
    from fuzz_frontend import SEPARATOR
    for c in sorted(MODELS.glob("*.c")):
        yield c.read_bytes() + SEPARATOR + c.with_suffix(".toml").read_bytes()


def loader_seeds():
    from mkverify import frontend
    from mkverify.engines.native import Lowered
    from fuzz_loader import frame
    for c in sorted(MODELS.glob("*.c")):
        low = Lowered(frontend.load(c))
        widths, los = low.layout()
        yield frame((200 << 3) | 2, widths, los, low.img.tobytes())


def main() -> None:
    kind, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for blob in {"frontend": frontend_seeds, "loader": loader_seeds}[kind]():
        (out / hashlib.sha1(blob).hexdigest()).write_bytes(blob)
        n += 1
    print(f"{n} seeds in {out}")


if __name__ == "__main__":
    main()
