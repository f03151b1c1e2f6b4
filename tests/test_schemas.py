"""The JSON Schemas shipped in mkverify/schemas/ against reality.

- spec.schema.json: every spec TOML in the repository (specs/, tests/models/,
  tests/fixtures/, docs/examples/) validates against it and is accepted by
  mkverify's own reader; on a table of edge cases the schema and the reader
  (mkverify/spec.py) agree, except for the few rules a JSON Schema cannot
  express, which are listed (and checked) as such.
- output.schema.json: real `mkverify check --format json` output, run as CI
  runs it (`python -m mkverify` in a subprocess), on docs/examples/ and on the
  fixtures in tests/fixtures/output/, validates against it, and its verdict
  matches the exit code.

Nothing here depends on files outside the checkout; the edge-case specs are
written to pytest's tmp_path.
"""
from __future__ import annotations

import functools
from importlib import resources
import json
import os
from pathlib import Path
import subprocess
import sys
import tomllib

import jsonschema
import pytest

from mkverify.checks import CHECKS
from mkverify.diag import SpecError
from mkverify.frontend import expectation
from mkverify.result import EXIT_INCOMPLETE, EXIT_OK, EXIT_VIOLATIONS
from mkverify.spec import load_spec

REPO = Path(__file__).resolve().parent.parent
SPEC_GLOBS = ("specs/*.toml", "tests/models/**/*.toml", "tests/fixtures/**/*.toml", "docs/examples/*.toml")
OUTPUT_FIXTURES = REPO / "tests" / "fixtures" / "output"
EXIT_OF = {"ok": EXIT_OK, "violations": EXIT_VIOLATIONS, "incomplete": EXIT_INCOMPLETE}


def _schema(name: str) -> dict:
    """A schema as installed package data (pyproject's package-data ships schemas/*.json)."""
    return json.loads((resources.files("mkverify") / "schemas" / name).read_text(encoding="utf-8"))


def _validator(name: str):
    schema = _schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    # TOML keeps 2 and 2.0 apart and mkverify rejects 2.0 where it wants an integer;
    # JSON Schema counts 2.0 as an integer, so integers are checked the TOML way here
    checker = cls.TYPE_CHECKER.redefine(
        "integer", lambda _checker, x: isinstance(x, int) and not isinstance(x, bool))
    return jsonschema.validators.extend(cls, type_checker=checker)(schema)


SPEC = _validator("spec.schema.json")
OUTPUT = _validator("output.schema.json")


def _spec_files() -> list[Path]:
    found = set()
    for pattern in SPEC_GLOBS:
        found.update(p for p in REPO.glob(pattern) if p.is_file())
    return sorted(found)


def _rel(p: Path) -> str:
    return str(p.relative_to(REPO))


# ---------------------------------------------------------------- the spec schema

def test_both_schemas_are_valid_draft_2020_12_schemas():
    for name in ("spec.schema.json", "output.schema.json"):
        schema = _schema(name)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)


def test_the_spec_search_covers_every_directory_it_names():
    files = [_rel(p) for p in _spec_files()]
    assert "docs/examples/table.toml" in files, files
    for pattern in SPEC_GLOBS:
        for p in REPO.glob(pattern):
            assert _rel(p) in files


@pytest.mark.parametrize("path", _spec_files(), ids=_rel)
def test_every_spec_in_the_repository_matches_the_schema_and_the_reader(path):
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '<top>'}: {e.message}" for e in SPEC.iter_errors(data)]
    assert not errors, f"{_rel(path)} does not match mkverify/schemas/spec.schema.json:\n" + "\n".join(errors)
    load_spec(path)  # mkverify's reader accepts it too


ENTRY = '[[entry]]\nfunction = "f"\n'

#: (name, spec text, accepted) — the schema and mkverify/spec.py must agree on each
AGREE = [
    ("minimal", ENTRY, True),
    ("every-key", 'model = "m.c"\ndescription = "d"\n[bounds]\ncpus = 3\nhost_cpus = 1\nidr_capacity = 64\n'
                  'depth = 1000000\nmax_states = 10000000000\nalloc_can_fail = false\ncpus_online = [1, 2]\n'
                  '[bounds.pools]\na = 0\nb = 64\n' + ENTRY + 'args = { x = [1, "A | B"], y = "-2..2" }\n'
                  '[[lifecycle]]\nstruct = "s"\nfield = "f"\ntransitions = ["A -> B", "B->C"]\n'
                  '[[invariant]]\nname = "n"\nstruct = "s"\nexpr = "self->f"\nwhen = "always"\n'
                  '[flags]\nheaders = ["u.h"]\ntype = "unsigned long"\n[[flags.field]]\nname = "F"\nmask = "F_MASK"\n'
                  'decode = "F_GET"\nshift = 4\ntype = "u32"\nwith = "W"\nallocator = "0..0xff"\nrange = "1..2"\n'
                  'values = ["F_A"]\n[[flags.set]]\nname = "s"\nflags = ["W"]\nfields = ["F"]\n'
                  'accept_mask = "M"\n', True),
    ("unknown-top-key", 'bound = 1\n' + ENTRY, False),
    ("no-entry", '[bounds]\ncpus = 1\n', False),
    ("empty-entry-array", 'entry = []\n', False),
    ("entry-not-tables", 'entry = [1]\n', False),
    ("entry-without-function", '[[entry]]\nargs = {}\n', False),
    ("entry-function-not-string", '[[entry]]\nfunction = 1\n', False),
    ("entry-unknown-key", ENTRY + 'arg = {}\n', False),
    ("args-not-table", ENTRY + 'args = [1]\n', False),
    ("domain-empty", ENTRY + 'args = { x = [] }\n', False),
    ("domain-bool", ENTRY + 'args = { x = [true] }\n', False),
    ("domain-float", ENTRY + 'args = { x = [1.5] }\n', False),
    ("domain-expression", ENTRY + 'args = { x = ["EINVAL * -1"] }\n', True),
    ("domain-range", ENTRY + 'args = { x = " -3 .. 3 " }\n', True),
    ("domain-not-range", ENTRY + 'args = { x = "1...3" }\n', False),
    ("domain-number", ENTRY + 'args = { x = 1 }\n', False),
    ("bounds-not-table", 'bounds = 1\n' + ENTRY, False),
    ("bounds-unknown-key", '[bounds]\ncpu = 1\n' + ENTRY, False),
    ("cpus-0", '[bounds]\ncpus = 0\n' + ENTRY, False),
    ("cpus-65", '[bounds]\ncpus = 65\n' + ENTRY, False),
    ("cpus-64", '[bounds]\ncpus = 64\n' + ENTRY, True),
    ("cpus-bool", '[bounds]\ncpus = true\n' + ENTRY, False),
    ("cpus-string", '[bounds]\ncpus = "2"\n' + ENTRY, False),
    ("host-cpus-0", '[bounds]\nhost_cpus = 0\n' + ENTRY, False),
    ("idr-capacity-0", '[bounds]\nidr_capacity = 0\n' + ENTRY, False),
    ("idr-capacity-65", '[bounds]\nidr_capacity = 65\n' + ENTRY, False),
    ("depth-negative", '[bounds]\ndepth = -1\n' + ENTRY, False),
    ("depth-too-big", '[bounds]\ndepth = 1000001\n' + ENTRY, False),
    ("max-states-too-big", '[bounds]\nmax_states = 10000000001\n' + ENTRY, False),
    ("alloc-can-fail-int", '[bounds]\nalloc_can_fail = 1\n' + ENTRY, False),
    ("pools-not-table", '[bounds]\npools = 1\n' + ENTRY, False),
    ("pool-negative", '[bounds.pools]\no = -1\n' + ENTRY, False),
    ("pool-65", '[bounds.pools]\no = 65\n' + ENTRY, False),
    ("pool-bool", '[bounds.pools]\no = true\n' + ENTRY, False),
    ("cpus-online-not-list", '[bounds]\ncpus_online = 1\n' + ENTRY, False),
    ("cpus-online-bool", '[bounds]\ncpus_online = [true]\n' + ENTRY, False),
    ("cpus-online-empty", '[bounds]\ncpus_online = []\n' + ENTRY, True),
    ("model-not-string", 'model = 3\n' + ENTRY, False),
    ("description-any-type", 'description = 5\n' + ENTRY, True),
    ("lifecycle-not-tables", 'lifecycle = 1\n' + ENTRY, False),
    ("lifecycle-without-field", ENTRY + '[[lifecycle]]\nstruct = "s"\ntransitions = ["A -> B"]\n', False),
    ("lifecycle-without-transitions", ENTRY + '[[lifecycle]]\nstruct = "s"\nfield = "f"\n', False),
    ("lifecycle-no-transitions", ENTRY + '[[lifecycle]]\nstruct = "s"\nfield = "f"\ntransitions = []\n', False),
    ("lifecycle-unknown-key", ENTRY + '[[lifecycle]]\nstruct = "s"\nfield = "f"\ntransitions = ["A -> B"]\n'
                                      'initial = "A"\n', False),
    ("transition-two-arrows", ENTRY + '[[lifecycle]]\nstruct = "s"\nfield = "f"\ntransitions = ["A -> B -> C"]\n',
     False),
    ("transition-no-arrow", ENTRY + '[[lifecycle]]\nstruct = "s"\nfield = "f"\ntransitions = ["A to B"]\n', False),
    ("transition-no-target", ENTRY + '[[lifecycle]]\nstruct = "s"\nfield = "f"\ntransitions = ["A -> "]\n', False),
    ("transition-no-source", ENTRY + '[[lifecycle]]\nstruct = "s"\nfield = "f"\ntransitions = [" ->B"]\n', False),
    ("transition-arrow-only", ENTRY + '[[lifecycle]]\nstruct = "s"\nfield = "f"\ntransitions = ["->->B"]\n', False),
    ("transition-dashes", ENTRY + '[[lifecycle]]\nstruct = "s"\nfield = "f"\ntransitions = ["A-->B"]\n', True),
    ("transition-not-string", ENTRY + '[[lifecycle]]\nstruct = "s"\nfield = "f"\ntransitions = [1]\n', False),
    ("invariant-not-tables", 'invariant = [1]\n' + ENTRY, False),
    ("invariant-without-expr", ENTRY + '[[invariant]]\nstruct = "s"\n', False),
    ("invariant-blank-expr", ENTRY + '[[invariant]]\nstruct = "s"\nexpr = "  "\n', False),
    ("invariant-blank-struct", ENTRY + '[[invariant]]\nstruct = ""\nexpr = "1"\n', False),
    ("invariant-bad-when", ENTRY + '[[invariant]]\nstruct = "s"\nexpr = "1"\nwhen = "sometimes"\n', False),
    ("invariant-quiescent", ENTRY + '[[invariant]]\nstruct = "s"\nexpr = "1"\nwhen = "quiescent"\n', True),
    ("invariant-name-not-string", ENTRY + '[[invariant]]\nname = 5\nstruct = "s"\nexpr = "1"\n', False),
    ("invariant-unknown-key", ENTRY + '[[invariant]]\nstruct = "s"\nexpr = "1"\nhow = 1\n', False),
    ("flags-only", '[flags]\n', True),
    ("flags-not-table", 'flags = 1\n' + ENTRY, False),
    ("flags-unknown-key", '[flags]\nheader = ["u.h"]\n', False),
    ("flags-headers-not-list", '[flags]\nheaders = "u.h"\n', False),
    ("flags-bad-type", '[flags]\ntype = "float"\n', False),
    ("flags-field-no-name", '[[flags.field]]\nmask = "M"\n', False),
    ("flags-field-name-not-identifier", '[[flags.field]]\nname = "A B"\n', False),
    ("flags-field-unknown-key", '[[flags.field]]\nname = "F"\nrnage = "1..2"\n', False),
    ("flags-field-range-not-range", '[[flags.field]]\nname = "F"\nrange = "1...2"\n', False),
    ("flags-field-range-hex", '[[flags.field]]\nname = "F"\nrange = " 0x1 .. 0xFF "\n', True),
    ("flags-field-shift-64", '[[flags.field]]\nname = "F"\nshift = 64\n', False),
    ("flags-field-shift-macro", '[[flags.field]]\nname = "F"\nshift = "F_SHIFT"\n', True),
    ("flags-field-shift-bool", '[[flags.field]]\nname = "F"\nshift = true\n', False),
    ("flags-set-empty", '[[flags.set]]\nname = "s"\n', False),
    ("flags-set-empty-lists", '[[flags.set]]\nname = "s"\nflags = []\nfields = []\n', False),
    ("flags-set-no-name", '[[flags.set]]\nflags = ["A"]\n', False),
    ("flags-set-both-accepts", '[[flags.set]]\nname = "s"\nflags = ["A"]\naccept_mask = "M"\naccept = "flags"\n',
     False),
    ("flags-set-accept", '[[flags.set]]\nname = "s"\nfields = ["F"]\naccept = "(flags & M) == flags"\n', True),
    ("flags-set-flag-not-name", '[[flags.set]]\nname = "s"\nflags = [1]\n', False),
]

#: rules only the reader checks: a JSON Schema cannot compare two values or count a range
READER_ONLY = [
    ("host-cpus-above-cpus", '[bounds]\ncpus = 1\nhost_cpus = 2\n' + ENTRY),
    ("cpus-online-host-cpu", '[bounds]\ncpus = 3\ncpus_online = [1]\n' + ENTRY),
    ("cpus-online-too-high", '[bounds]\ncpus = 3\ncpus_online = [3]\n' + ENTRY),
    ("range-inverted", ENTRY + 'args = { x = "3..1" }\n'),
    ("range-too-long", ENTRY + 'args = { x = "0..4096" }\n'),
    ("flags-range-inverted", '[[flags.field]]\nname = "F"\nrange = "5..1"\n'),
    ("flags-range-outside-int", '[[flags.field]]\nname = "F"\nrange = "0..4294967295"\n'),
    ("flags-allocator-outside-u8", '[[flags.field]]\nname = "F"\ntype = "u8"\nallocator = "1..256"\n'),
]


def _reader_accepts(tmp_path: Path, name: str, text: str) -> bool:
    p = tmp_path / f"{name}.toml"
    p.write_text(text, encoding="utf-8")
    try:
        load_spec(p)
    except SpecError:
        return False
    return True


@pytest.mark.parametrize("name, text, accepted", AGREE, ids=[c[0] for c in AGREE])
def test_schema_and_reader_agree_on_each_spec_rule(tmp_path, name, text, accepted):
    data = tomllib.loads(text)
    assert SPEC.is_valid(data) is accepted, f"schema: {[e.message for e in SPEC.iter_errors(data)]}"
    assert _reader_accepts(tmp_path, name, text) is accepted


@pytest.mark.parametrize("name, text", READER_ONLY, ids=[c[0] for c in READER_ONLY])
def test_rules_the_schema_cannot_express_are_left_to_the_reader(tmp_path, name, text):
    assert SPEC.is_valid(tomllib.loads(text))
    assert not _reader_accepts(tmp_path, name, text)


# ---------------------------------------------------------------- the output schema

def _models(directory: Path) -> list[str]:
    return [_rel(p) for p in sorted(directory.glob("*.c"))]


RUNS = (
    [(m,) for m in _models(REPO / "docs" / "examples")]
    + [(m,) for m in _models(OUTPUT_FIXTURES)]
    + [
        ("docs/examples/table.c", "docs/examples/table-fixed.c"),   # several models: overall verdict
        ("docs/examples/table-fixed.c", "--max-states", "200"),      # incomplete: state bound
        ("docs/examples/table-fixed.c", "--depth", "3"),             # incomplete: depth bound
        ("docs/examples/table.c", "--max-states", "1000"),           # violations found before the bound
        ("docs/examples/table.c", "--cpus", "1"),                    # a bound override
        ("docs/examples/table-fixed.c", "--spec", "docs/examples/table.toml"),  # an explicit spec
    ]
)


@functools.lru_cache(maxsize=None)
def _check_json(args: tuple) -> tuple[int, dict, str]:
    env = dict(os.environ, CI="1")
    proc = subprocess.run([sys.executable, "-m", "mkverify", "check", *args, "--format", "json"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode in EXIT_OF.values(), proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


@pytest.mark.parametrize("args", RUNS, ids=" ".join)
def test_check_json_output_matches_the_schema_and_the_exit_code(args):
    rc, doc, stderr = _check_json(args)
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '<top>'}: {e.message}" for e in OUTPUT.iter_errors(doc)]
    assert not errors, "output does not match mkverify/schemas/output.schema.json:\n" + "\n".join(errors)
    assert stderr == ""
    assert rc == EXIT_OF[doc["verdict"]]
    verdicts = {m["verdict"] for m in doc["models"]}
    assert doc["verdict"] == next(v for v in ("violations", "incomplete", "ok") if v in verdicts or v == "ok")
    for m in doc["models"]:
        for f in m["findings"]:
            assert f["check"] in CHECKS, f"undocumented check id {f['check']!r}"
            assert [s["step"] for s in f["trace"]] == list(range(1, len(f["trace"]) + 1))


@pytest.mark.parametrize("model", _models(OUTPUT_FIXTURES))
def test_output_fixtures_end_as_their_directive_says(model):
    _, doc, _ = _check_json((model,))
    want = expectation([REPO / model])
    assert doc["verdict"] == want["expect"]
    if "checks" in want:
        assert sorted({f["check"] for f in doc["models"][0]["findings"]}) == sorted(want["checks"])


def test_output_fixtures_exercise_every_optional_part_of_the_schema():
    _, incomplete, _ = _check_json(("tests/fixtures/output/idr-capacity.c",))
    m = incomplete["models"][0]
    assert m["incomplete_reason"].startswith("an IDR needed more than idr_capacity = 1 entries")
    assert m["notes"] and "raise idr_capacity" in m["notes"][0]
    _, lifecycle, _ = _check_json(("tests/fixtures/output/lifecycle.c",))
    cov = lifecycle["models"][0]["coverage"]
    assert cov == [{"struct": "conn", "field": "state",
                    "states": ["CONN_IDLE", "CONN_OPEN", "CONN_CLOSING", "CONN_CLOSED"],
                    "taken": ["CONN_IDLE -> CONN_OPEN", "CONN_OPEN -> CONN_CLOSED"],
                    "never_taken": ["CONN_OPEN -> CONN_CLOSING", "CONN_CLOSING -> CONN_CLOSED"],
                    "not_in_spec": ["CONN_OPEN -> CONN_CLOSED"],
                    "taken_by": {"CONN_IDLE -> CONN_OPEN": ["conn_open"], "CONN_OPEN -> CONN_CLOSED": ["conn_close"]}}]
    steps = [s for f in lifecycle["models"][0]["findings"] for s in f["trace"]]
    assert any(s["transitions"] for s in steps) and any(s["objects"] for s in steps)
    _, several, _ = _check_json(("docs/examples/table.c", "docs/examples/table-fixed.c"))
    assert [m["verdict"] for m in several["models"]] == ["violations", "ok"]
    _, found, _ = _check_json(("docs/examples/table.c", "--max-states", "1000"))
    assert found["verdict"] == "violations" and found["models"][0]["incomplete_reason"]
