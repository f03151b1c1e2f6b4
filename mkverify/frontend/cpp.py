"""Run the C preprocessor over a model, keeping line markers.

All of a model's .c files are preprocessed as one translation unit (a small
driver file #includes each in order), so headers, macros and prototypes are
shared as in a unity build; the spec's C expressions are appended at the end
behind `#line` directives, so their errors point into the spec file. The
prelude is included first; `<linux/*.h>` resolves to empty stubs beside it.
"""
from __future__ import annotations

from pathlib import Path
import re
import shutil
import subprocess
import tempfile

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


def preprocess(files: list[Path], appendix: str, display) -> str:
    """Preprocessed text of `files` (+ appendix); cpp errors become FrontendErrors."""
    with tempfile.TemporaryDirectory(prefix="mkverify-") as tmp:
        driver = Path(tmp) / "model.c"
        lines = [f'#include "{f.resolve()}"' for f in files]
        driver.write_text("\n".join(lines) + "\n" + appendix, encoding="utf-8")
        incdirs = sorted({str(f.resolve().parent) for f in files})
        cmd = find_cpp() + ["-x", "c", "-std=gnu11", "-nostdinc", "-undef", "-D__MKVERIFY__=1",
                            "-I", str(PRELUDE_DIR), *[a for d in incdirs for a in ("-I", d)],
                            "-include", str(PRELUDE), str(driver)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=120)
        except subprocess.TimeoutExpired:
            raise FrontendError(SourceLoc(display(files[0])), "the C preprocessor did not finish in 120 s")
        if proc.returncode != 0:
            m = _DIAG.search(proc.stderr)
            if m:
                loc = SourceLoc(display(m.group("file")), int(m.group("line")), int(m.group("col") or 0))
                msg = m.group("msg").strip()
                hint = None
                if "No such file" in msg:
                    hint = ("mkverify models include only their own headers and the prelude's "
                            f"<linux/...> stubs ({', '.join(sorted(p.stem for p in (PRELUDE_DIR / 'linux').glob('*.h')))})")
                raise FrontendError(loc, f"preprocessor: {msg}", hint)
            raise FrontendError(SourceLoc(display(files[0])), f"preprocessor failed: {proc.stderr.strip()[:500]}")
        return proc.stdout
