"""JUnit XML (`mkverify check --junit FILE`), the format CI test tabs read.

One <testsuite> per model; in it one <testcase> per check id (classname the
model, name the check id): passed when the check found nothing; a <failure>
when it did, whose text holds every finding of that check with its trace, as
the terminal shows it, and the case's file and line are the first finding's
(where CI annotations go); <skipped> when the run was incomplete and the
check found nothing: nothing was proved, and the exit code (3) says so. The
flag checks are cases only for models whose flag encodings were proved.
"""
from __future__ import annotations

from pathlib import Path
import xml.etree.ElementTree as ET

from ..checks import CHECKS
from .common import FLAG_PREFIX, ran_flag_proofs, relative_uri, stats_text, verdict_text
from .text import render_finding


def _case_ids(r) -> list[str]:
    flags = ran_flag_proofs(r)
    return [c for c in CHECKS if flags or not c.startswith(FLAG_PREFIX)]


def to_junit(results, root: Path | None = None) -> str:
    suites = ET.Element("testsuites", name="mkverify")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for r in results:
        suite = ET.SubElement(suites, "testsuite", name=r.model)
        props = ET.SubElement(suite, "properties")
        for name, value in (("verdict", r.verdict), ("summary", verdict_text(r)), ("explored", stats_text(r)),
                            ("engine", r.stats.engine)):
            ET.SubElement(props, "property", name=name, value=value)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for check in _case_ids(r):
            found = [f for f in r.findings if f.check == check]
            case = ET.SubElement(suite, "testcase", classname=r.model, name=check)
            if found:
                first = found[0]
                if first.loc.line:
                    case.set("file", relative_uri(first.loc.file, root or Path.cwd()))
                    case.set("line", str(first.loc.line))
                more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
                fail = ET.SubElement(case, "failure", type=check, message=first.message + more)
                fail.text = "\n\n".join("\n".join(render_finding(f)) for f in found) + "\n"
                counts["failures"] += 1
            elif r.verdict == "incomplete":
                skip = ET.SubElement(case, "skipped", message=f"incomplete: "
                                     f"{r.incomplete_reason or 'not explored to the end'}")
                skip.text = f"{CHECKS[check].short}: nothing found in what was explored, which is not the whole model\n"
                counts["skipped"] += 1
            counts["tests"] += 1
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        if r.notes:
            ET.SubElement(suite, "system-out").text = "\n".join(r.notes) + "\n"
    for k, v in totals.items():
        suites.set(k, str(v))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
