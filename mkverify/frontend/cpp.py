"""Run the C preprocessor over a model, keeping line markers.

All of a model's .c files are preprocessed as one translation unit (a small
driver file #includes each in order), so headers, macros and prototypes are
shared as in a unity build; the spec's C expressions are appended at the end
behind `#line` directives, so their errors point into the spec file. The
prelude is included first; `<linux/*.h>` resolves to empty stubs beside it.
"""
from __future__ import annotations

import os
from pathlib import Path
import re
import shutil
import subprocess
import tempfile

from .. import kernel
from ..diag import FrontendError, SourceLoc

PRELUDE_DIR = Path(__file__).resolve().parent.parent / "prelude"
PRELUDE = PRELUDE_DIR / "mkverify.h"
_DIAG = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:(?P<col>\d+):)?\s*(?:fatal )?error:\s*(?P<msg>.*)$", re.M)


def find_cpp() -> list[str]:
    for cc in ("gcc", "cc", "clang"):
        exe = shutil.which(cc)
        if exe:
            return [exe, "-E"]
    exe = shutil.which("cpp")
    if exe:
        return [exe]
    raise FrontendError(SourceLoc("<mkverify>"), "no C preprocessor found (gcc, cc, clang or cpp)",
                        "install gcc: apt-get install -y gcc")


CPP_MEMORY = 2 << 30  # bytes of address space for the preprocessor; it needs tens of MiB


def _limit_memory() -> None:
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (CPP_MEMORY, CPP_MEMORY))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not on every platform
        pass


def _cpp_env() -> dict:
    """The preprocessor's environment: messages in English (they are parsed), and no LD_PRELOAD (a
    sanitizer runtime preloaded for the C enumerator, docs/reliability.md, would not fit in the memory
    cap and is of no use to cpp)."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env["LC_ALL"] = "C"
    return env


def preprocess(files: list[Path], appendix: str, display) -> str:
    """Preprocessed text of `files` (+ appendix); cpp errors become FrontendErrors."""
    with tempfile.TemporaryDirectory(prefix="mkverify-") as tmp:
        driver = Path(tmp) / "model.c"
        lines = [f'#include "{f.resolve()}"' for f in files]
        driver.write_text("\n".join(lines) + "\n" + appendix, encoding="utf-8")
        prims = Path(tmp) / "mkverify-prims.h"
        prims.write_text(kernel.declarations(), encoding="utf-8")
        incdirs = sorted({str(f.resolve().parent) for f in files})
        # -ftabstop=1: count a tab as one column in diagnostics, as pycparser does
        cmd = find_cpp() + ["-x", "c", "-std=gnu11", "-nostdinc", "-undef", "-D__MKVERIFY__=1", "-ftabstop=1",
                            "-I", str(PRELUDE_DIR), *[a for d in incdirs for a in ("-I", d)],
                            "-include", str(PRELUDE), "-include", str(prims), str(driver)]
        try:
            # stdin closed and memory capped: `#include "/dev/stdin"` or "/dev/zero" must not hang or
            # eat the machine (cc1 grows by gigabytes a second on /dev/zero)
            proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=120,
                                  stdin=subprocess.DEVNULL, preexec_fn=_limit_memory, env=_cpp_env())
        except subprocess.TimeoutExpired:
            raise FrontendError(SourceLoc(display(files[0]), 1, 1), "the C preprocessor did not finish in 120 s")
        if proc.returncode != 0:
            m = _DIAG.search(proc.stderr)
            if m:
                loc = SourceLoc(display(m.group("file")), int(m.group("line")), int(m.group("col") or 0))
                msg = m.group("msg").strip()
                hint = None
                if "No such file" in msg:
                    stubs = ", ".join(sorted(p.stem for p in (PRELUDE_DIR / "linux").glob("*.h")))
                    if msg.startswith("linux/"):
                        hint = (f"the prelude has <linux/...> stubs only for {stubs}; "
                                "declare what the model needs in the model itself")
                    else:
                        hint = ("a model's own headers are looked up beside its .c files; "
                                f"the prelude provides <linux/...> stubs for {stubs}")
                raise FrontendError(loc, f"preprocessor: {msg}", hint)
            hint = "does the model #include something that is not a header?" if "memory" in proc.stderr else None
            raise FrontendError(SourceLoc(display(files[0]), 1, 1),
                                f"preprocessor failed: {proc.stderr.strip()[:500]}", hint)
        return proc.stdout
