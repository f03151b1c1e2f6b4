"""`mkverify flags` (issue 4): flag encodings proved from headers and patches.

- the seed patch mail: the KEXEC_MK_ID aliasing with its smallest
  counterexamples (skipped when ../shared is not beside the checkout);
- headers written here with correct encodings get no finding without a spec,
  broken ones get each check's finding, specs drive flag-rejected and
  flag-range;
- the C semantics (constant types, promotions, conversions, shifts, casts)
  against gcc itself, on expressions Hypothesis generates;
- the JSON output against mkverify/schemas/output.schema.json.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
import shutil
import subprocess
import sys

from hypothesis import HealthCheck, given, settings, strategies as st
import jsonschema
import pytest

from mkverify.diag import HeaderError, SourceLoc
from mkverify.flags.cexpr import Macros, const
from mkverify.flags.ctype import INT, constant_type
from mkverify.flags.source import patch_header_lines, read_defines

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "flags"
SEED = ROOT.parent / "shared" / "seed" / "000_7e72aa977df53b7e.txt"
needs_seed = pytest.mark.skipif(not SEED.is_file(), reason="needs ../shared/seed (the patch mail) beside the checkout")


def flags(*args, cwd=ROOT) -> tuple[int, dict]:
    """Run `mkverify flags ARGS --format json`: (exit code, document)."""
    proc = subprocess.run([sys.executable, "-m", "mkverify", "flags", *map(str, args), "--format", "json"],
                          cwd=cwd, capture_output=True, text=True, timeout=120, env={**os.environ, "CI": "1"})
    assert "Traceback" not in proc.stderr, proc.stderr
    doc = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, doc


def flags_text(*args, cwd=ROOT) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-m", "mkverify", "flags", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "CI": "1"})
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stderr


def found(doc: dict, check: str) -> list:
    return [f for f in doc["models"][0]["findings"] if f["check"] == check]


# ---------------------------------------------------------------- the seed

@needs_seed
def test_the_seed_aliases_against_the_allocators_range():
    code, doc = flags(SEED, "--range", "KEXEC_MK_ID=0..2147483647")
    assert code == 1
    (alias,) = found(doc, "flag-alias")
    assert alias["counterexample"]["pairs"] == [{"values": [2048, 0], "encoding": 0},
                                                {"values": [2049, 1], "encoding": 0x20}]
    assert "KEXEC_MK_ID(2048) == KEXEC_MK_ID(0) == 0x0" in alias["message"]
    assert "KEXEC_MK_ID(2049) == KEXEC_MK_ID(1) == 0x20" in alias["message"]
    # the place is the patch mail's '+#define KEXEC_MK_ID(id)' line, where the reviewer reads it
    lines = SEED.read_text(encoding="utf-8").splitlines()
    line = alias["location"]["line"]
    assert lines[line - 1].startswith("+#define KEXEC_MK_ID(id)")
    assert alias["location"]["column"] == len("+#define ") + 1
    # the round trip failure the aliasing implies is not reported twice
    assert not found(doc, "flag-roundtrip")
    assert any("reported once, as flag-alias" in n for n in doc["models"][0]["notes"])


@needs_seed
def test_the_seed_text_output_names_the_header_line_of_the_post_image():
    code, err = flags_text(SEED, "--range", "KEXEC_MK_ID=0..2147483647")
    assert code == 1
    assert "error: [flag-alias] KEXEC_MK_ID(2048) == KEXEC_MK_ID(0)" in err
    assert "note: in include/uapi/linux/kexec.h:20 (the patch's post-image)" in err


@needs_seed
def test_the_seed_without_a_range_is_clean_and_says_values_are_truncated():
    code, doc = flags(SEED)
    assert code == 0
    notes = doc["models"][0]["notes"]
    assert any("no range declared; checked over 0..2047" in n and "KEXEC_MK_ID(2048) == KEXEC_MK_ID(0)" in n
               for n in notes), notes


@needs_seed
def test_the_seed_post_image_has_context_lines_without_their_space_and_no_removed_lines():
    text = SEED.read_text(encoding="utf-8")
    macros = read_defines(patch_header_lines(text), "seed")
    # context lines that lost their leading space are read, and so are the added ones
    assert {"KEXEC_UPDATE_ELFCOREHDR", "KEXEC_MULTIKERNEL", "KEXEC_MK_ID_MASK", "KEXEC_GET_MK_ID",
            "KEXEC_ARCH_MASK"} <= set(macros)
    assert macros["KEXEC_MK_ID_MASK"].added and not macros["KEXEC_MULTIKERNEL"].added
    assert macros["KEXEC_MK_ID"].origin == "include/uapi/linux/kexec.h:20"


def test_a_patch_reads_the_post_image_of_header_hunks_only():
    patch = "\n".join([
        "Subject: [PATCH] x",
        "diff --git a/include/x.h b/include/x.h",
        "--- a/include/x.h",
        "+++ b/include/x.h",
        "@@ -1,3 +1,3 @@",
        " #define KEEP 1",
        "-#define CHANGED 2",
        "+#define CHANGED 3",
        "#define CONTEXT 4",       # a context line whose space a mail archive dropped
        "diff --git a/kernel/x.c b/kernel/x.c",
        "--- a/kernel/x.c",
        "+++ b/kernel/x.c",
        "@@ -1 +1 @@",
        "-#define IN_C_FILE 1",
        "+#define IN_C_FILE 2",
        "-- ",
        "2.34.1",
    ])
    macros = read_defines(patch_header_lines(patch), "p")
    assert sorted(macros) == ["CHANGED", "CONTEXT", "KEEP"]
    assert macros["CHANGED"].text == "3"
    assert (macros["CHANGED"].loc.line, macros["CHANGED"].loc.col) == (8, 10)
    assert (macros["CONTEXT"].loc.line, macros["CONTEXT"].loc.col) == (9, 9)


def test_a_hunk_ends_when_its_counts_are_used_up():
    patch = "\n".join([
        "diff --git a/x.h b/x.h", "--- a/x.h", "+++ b/x.h",
        "@@ -1,1 +1,2 @@", " #define A 1", "+#define B 2",
        "#define NOT_IN_THE_HUNK 3",   # mail text after the hunk
    ])
    assert sorted(read_defines(patch_header_lines(patch), "p")) == ["A", "B"]


# ---------------------------------------------------------------- correct headers, no spec

@pytest.mark.parametrize("header, extra", [
    ("bit-genmask.h", []),
    ("shift-mask.h", ["--range", "MK_ID=1..255"]),
    ("arch-field.h", []),
])
def test_a_correct_header_without_a_spec_gets_no_finding(header, extra):
    code, doc = flags(FIXTURES / header, *extra)
    assert code == 0, doc
    assert doc["verdict"] == "ok" and doc["models"][0]["findings"] == []


def test_inference_finds_the_fields_and_sets_of_a_correct_header():
    from mkverify.flags.encoding import build
    from mkverify.flags import read_macros
    enc = build(read_macros([FIXTURES / "bit-genmask.h"]), None, {})
    f = enc.fields["FOO_LEVEL"]
    assert (f.mask, f.shift, f.decoder.name, f.range) == (0xf0, 4, "FOO_GET_LEVEL", (0, 15))
    (s,) = enc.sets
    assert [m.name for m in s.members] == ["FOO_ENABLE", "FOO_DEBUG", "FOO_LEVEL", "FOO_WIDE"]
    arch = build(read_macros([FIXTURES / "arch-field.h"]), None, {})
    # XK_ALL = (XK_FLAGS | XK_ARCH_MASK) is flattened; the architecture values live in their field
    names = {s.name: [m.name for m in s.members] for s in arch.sets}
    assert names["XK_ALL"] == ["XK_ON_CRASH", "XK_PRESERVE_CONTEXT", "XK_ARCH"]
    assert set(arch.fields["XK_ARCH"].values) == {"XK_ARCH_386", "XK_ARCH_X86_64", "XK_ARCH_ARM", "XK_ARCH_AARCH64"}


def test_a_range_that_fits_the_field_is_clean_and_one_that_does_not_aliases():
    assert flags(FIXTURES / "shift-mask.h", "--range", "MK_ID=0..255")[0] == 0
    code, doc = flags(FIXTURES / "shift-mask.h", "--range", "MK_ID=0..256")
    assert code == 1
    (alias,) = found(doc, "flag-alias")
    # the only pair: a second one would need a smaller value other than 0
    assert alias["counterexample"]["pairs"] == [{"values": [256, 0], "encoding": 0}]
    # without 0 in the range nothing aliases, but 256 does not come back
    code, doc = flags(FIXTURES / "shift-mask.h", "--range", "MK_ID=1..256")
    assert code == 1 and not found(doc, "flag-alias")
    (rt,) = found(doc, "flag-roundtrip")
    assert (rt["counterexample"]["value"], rt["counterexample"]["decoded"]) == (256, 0)


# ---------------------------------------------------------------- broken headers

def test_two_flags_on_one_bit_overlap():
    code, doc = flags(FIXTURES / "broken-overlap.h")
    assert code == 1
    (f,) = found(doc, "flag-overlap")
    assert f["counterexample"]["members"] == ["BAZ_NOWAIT", "BAZ_WRITE"]
    assert f["counterexample"]["bits"] == 2
    assert f["location"]["line"] == 5   # BAZ_NOWAIT, the later member of BAZ_FLAGS


def test_a_field_over_a_flag_overlaps_with_the_smallest_value_that_sets_the_bit():
    code, doc = flags(FIXTURES / "broken-field-overlap.h")
    assert code == 1
    (f,) = found(doc, "flag-overlap")
    assert f["counterexample"]["values"] == {"ZAP_LEVEL": 1}
    assert f["counterexample"]["bits"] == 2
    assert "ZAP_LEVEL(1) == 0x2" in f["message"] and "ZAP_LATER (0x2)" in f["message"]


def test_a_decoder_with_the_wrong_shift_fails_the_round_trip():
    code, doc = flags(FIXTURES / "broken-roundtrip.h")
    assert code == 1
    (f,) = found(doc, "flag-roundtrip")
    assert f["counterexample"] == {"field": "QUX_ID", "range": [0, 31], "value": 1, "encoding": 0x20,
                                   "decoded": 2}


def test_alias_works_on_64_bit_ranges(tmp_path):
    h = tmp_path / "wide.h"
    h.write_text("#define W_ID_MASK 0x0000ffff00000000ULL\n"
                 "#define W_ID(x) ((((unsigned long long)(x)) << 32) & W_ID_MASK)\n"
                 "#define W_GET_ID(f) (((f) & W_ID_MASK) >> 32)\n", encoding="utf-8")
    spec = tmp_path / "wide.toml"
    spec.write_text('[flags]\n[[flags.field]]\nname = "W_ID"\ntype = "unsigned long"\n'
                    'range = "0..18446744073709551615"\n', encoding="utf-8")
    code, doc = flags(h, "--spec", spec)
    assert code == 1
    (alias,) = found(doc, "flag-alias")
    assert alias["counterexample"]["pairs"] == [{"values": [65536, 0], "encoding": 0},
                                                {"values": [65537, 1], "encoding": 1 << 32}]


# ---------------------------------------------------------------- with a spec: rejected and range

SPEC_HEAD = '[flags]\nheaders = ["uapi.h"]\n'


def _model(tmp_path: Path, header: str, spec: str) -> Path:
    (tmp_path / "uapi.h").write_text(header, encoding="utf-8")
    (tmp_path / "spec.toml").write_text(SPEC_HEAD + spec, encoding="utf-8")
    return tmp_path / "spec.toml"


LOADS = """\
#define LD_UNLOAD	0x1
#define LD_ON_CRASH	0x2
#define LD_MULTI	0x4
#define LD_ID_MASK	0x0ff0
#define LD_ID(id)	(((id) << 4) & LD_ID_MASK)
#define LD_GET_ID(f)	(((f) & LD_ID_MASK) >> 4)
#define LD_FLAGS	(LD_UNLOAD | LD_ON_CRASH | LD_MULTI)
#define LD_ALL		(LD_FLAGS | LD_ID_MASK)
"""
FIELD = '[[flags.field]]\nname = "LD_ID"\nwith = "LD_MULTI"\nrange = "1..255"\n'


def test_a_validation_mask_without_the_field_rejects_every_id(tmp_path):
    spec = _model(tmp_path, LOADS, FIELD + '[[flags.set]]\nname = "load"\nflags = ["LD_UNLOAD", "LD_MULTI"]\n'
                  'fields = ["LD_ID"]\naccept_mask = "LD_FLAGS"\n')
    code, doc = flags("--spec", spec)
    assert code == 1
    (f,) = found(doc, "flag-rejected")
    cex = f["counterexample"]
    assert (cex["value"], cex["flags"], cex["rejected_bits"], cex["accepted"]) == (1, 0x14, 0x10, [])
    assert cex["rejected_count"] == 255
    assert "for every value in 1..255" in f["message"]


def test_a_validation_mask_with_the_field_accepts_every_id(tmp_path):
    spec = _model(tmp_path, LOADS, FIELD + '[[flags.set]]\nname = "load"\nflags = ["LD_UNLOAD", "LD_MULTI"]\n'
                  'fields = ["LD_ID"]\naccept_mask = "LD_ALL"\n')
    assert flags("--spec", spec)[0] == 0


def test_an_accept_expression_lists_the_accepted_values(tmp_path):
    # accepted iff no id bit above bit 5 is set: ids 1..3 pass, 4..255 fail
    spec = _model(tmp_path, LOADS, FIELD + '[[flags.set]]\nname = "load"\nfields = ["LD_ID"]\n'
                  'accept = "(flags & ~(LD_FLAGS | 0x30)) == 0"\n')
    code, doc = flags("--spec", spec)
    assert code == 1
    (f,) = found(doc, "flag-rejected")
    cex = f["counterexample"]
    assert cex["accepted"] == [1, 2, 3] and cex["accepted_complete"]
    assert (cex["value"], cex["rejected_count"], cex["rejected_bits"]) == (4, 252, 0x40)
    # the place is the expression in the spec
    assert f["location"]["file"].endswith("spec.toml")


def test_an_allocator_wider_than_the_field_is_a_range_finding(tmp_path):
    spec = _model(tmp_path, LOADS, '[[flags.field]]\nname = "LD_ID"\nallocator = "0..1000"\nrange = "1..255"\n')
    code, doc = flags("--spec", spec)
    assert code == 1
    (f,) = found(doc, "flag-range")
    assert f["counterexample"]["first"] == 256 and f["counterexample"]["same_as"] == 0
    assert f["counterexample"]["count"] == 1000 - 255
    assert f["counterexample"]["encodable"] == [0, 255]
    narrow = _model(tmp_path, LOADS, '[[flags.field]]\nname = "LD_ID"\nallocator = "1..255"\n')
    assert flags("--spec", narrow)[0] == 0


def test_spec_errors_point_into_the_spec(tmp_path):
    spec = _model(tmp_path, LOADS, '[[flags.field]]\nname = "LD_IDX"\n')
    code, err = flags_text("--spec", spec)
    assert code == 2
    assert "spec.toml:4:9: error: the field 'LD_IDX' is not a macro of the headers read" in err
    assert "did you mean 'LD_ID'?" in err


def test_a_range_outside_the_fields_type_is_a_usage_error():
    code, err = flags_text(FIXTURES / "shift-mask.h", "--range", "MK_ID=0..4294967296")
    assert code == 2
    assert "does not fit the field's type int" in err
    code, err = flags_text(FIXTURES / "shift-mask.h", "--range", "MK_IDX=0..5")
    assert code == 2 and "did you mean 'MK_ID'?" in err
    code, err = flags_text(FIXTURES / "shift-mask.h", "--range", "MK_ID=5..1")
    assert code == 2 and "is empty" in err


# ---------------------------------------------------------------- the JSON output

def test_flags_json_output_matches_the_output_schema():
    schema = json.loads((ROOT / "mkverify" / "schemas" / "output.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    for args in [(FIXTURES / "broken-overlap.h",), (FIXTURES / "broken-roundtrip.h",), (FIXTURES / "bit-genmask.h",),
                 ("--spec", ROOT / "specs" / "multikernel-v2.toml")]:
        code, doc = flags(*args)
        errors = [e.message for e in validator.iter_errors(doc)]
        assert not errors, (args, errors)
        assert code == {"ok": 0, "violations": 1}[doc["verdict"]]
        for f in doc["models"][0]["findings"]:
            assert f["trace"] == [] and isinstance(f["counterexample"], dict)


# ---------------------------------------------------------------- C semantics against gcc

def _value(text: str) -> tuple[int, str]:
    """(value as unsigned 64-bit, type name) of macro E in a header `text`, as mkverify reads it."""
    m = Macros(read_defines(text.splitlines(), "t.h"))
    v = m.value("E")
    return v.concrete() & (2**64 - 1), v.type.name


def test_constant_types_follow_c11():
    assert constant_type("2147483647")[1].name == "int"
    assert constant_type("2147483648")[1].name == "long"
    assert constant_type("0x80000000")[1].name == "unsigned int"
    assert constant_type("0xffffffffffffffff")[1].name == "unsigned long"
    assert constant_type("1ULL")[1].name == "unsigned long long"
    assert constant_type("1lu")[1].name == "unsigned long"
    assert constant_type("010") == (8, INT)
    assert isinstance(constant_type("18446744073709551616"), str)


def test_signed_shifts_are_arithmetic_and_wrap():
    assert _value("#define E (-16 >> 2)") == (2**64 - 4, "int")
    assert _value("#define E (0xfffffff0 >> 2)") == (0x3ffffffc, "unsigned int")
    assert _value("#define E (1 << 31)") == (2**64 - 2**31, "int")          # -fno-strict-overflow: wraps
    assert _value("#define E ((u8)0x1ff + 1)") == (0x100, "int")
    assert _value("#define E (-1 < 0U)") == (0, "int")                       # -1 converts to UINT_MAX
    assert _value("#define E (-1L < 0U)") == (1, "int")                      # long holds every unsigned int


def test_an_encoder_over_a_symbolic_argument_is_exact():
    m = Macros(read_defines(["#define F(x) (((x) << 5) & 0xffe0)"], "t.h"))
    assert m.call("F", [const(2049, INT)], SourceLoc("t")).concrete() == 0x20


def test_division_by_zero_in_a_needed_macro_is_an_error():
    m = Macros(read_defines(["#define E (1 / (2 - 2))"], "t.h"))
    with pytest.raises(HeaderError, match="division by zero"):
        m.value("E")


GCC = shutil.which("gcc")
CASTS = ["u8", "s8", "u16", "short", "int", "unsigned int", "long", "unsigned long", "u64", "__s32", "_Bool",
         "unsigned char", "long long"]
LITERALS = [0, 1, 2, 5, 7, 31, 127, 128, 255, 256, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
            0x100000000, 0x7fffffffffffffff]
SUFFIXES = ["", "U", "L", "UL", "ULL", "LL", "u", "l"]


@st.composite
def literal(draw):
    v = draw(st.sampled_from(LITERALS))
    text = hex(v) if draw(st.booleans()) else str(v)
    return text + draw(st.sampled_from(SUFFIXES))


def expression(depth: int = 3):
    leaf = literal()
    if depth == 0:
        return leaf
    sub = expression(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda op, a: f"({op}{a})", st.sampled_from(["-", "~", "!", "+"]), sub),
        st.builds(lambda t, a: f"(({t}){a})", st.sampled_from(CASTS), sub),
        st.builds(lambda a, op, b: f"({a} {op} {b})",
                  sub, st.sampled_from(["+", "-", "*", "&", "|", "^", "<", ">", "<=", ">=", "==", "!=", "&&", "||"]),
                  sub),
        st.builds(lambda a, op, n: f"({a} {op} {n})", sub, st.sampled_from(["<<", ">>"]), st.integers(0, 31)),
        st.builds(lambda c, a, b: f"({c} ? {a} : {b})", sub, sub, sub),
    )


_TYPES = {"int": "int", "unsigned int": "unsigned int", "long": "long", "unsigned long": "unsigned long",
          "long long": "long long", "unsigned long long": "unsigned long long", "unsigned char": "unsigned char",
          "signed char": "signed char", "short": "short", "unsigned short": "unsigned short", "_Bool": "_Bool"}


def _gcc_values(defines: list[str], names: list[str], tmp: Path) -> list[tuple[int, str]]:
    generic = "_Generic((x), " + ", ".join(f'{t}: "{t}"' for t in _TYPES) + ', char: "char")'
    src = ["#include <stdio.h>", "typedef unsigned char u8; typedef signed char s8; typedef unsigned short u16;",
           "typedef unsigned long long u64; typedef int __s32;", f"#define TYPE(x) {generic}", *defines,
           "int main(void) {"]
    src += [f'printf("%llu %s\\n", (unsigned long long)({n}), TYPE({n}));' for n in names]
    src += ["return 0; }"]
    c = tmp / "t.c"
    c.write_text("\n".join(src) + "\n", encoding="utf-8")
    subprocess.run([GCC, "-std=gnu11", "-fwrapv", "-w", "-o", str(tmp / "t"), str(c)], check=True, timeout=60)
    out = subprocess.run([str(tmp / "t")], capture_output=True, text=True, check=True, timeout=60).stdout
    return [(int(v), t) for v, t in (line.split(" ", 1) for line in out.splitlines())]


@pytest.mark.skipif(GCC is None, reason="needs gcc")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(exprs=st.lists(expression(), min_size=10, max_size=30))
def test_macro_values_and_types_agree_with_gcc(exprs, tmp_path):
    # each expression is a macro, and a second macro uses it, so references between macros are exercised too
    defines = []
    for k, e in enumerate(exprs):
        defines.append(f"#define E{k} {e}")
        defines.append(f"#define R{k}(x) ((x) + E{k})")
    names = [f"E{k}" for k in range(len(exprs))] + [f"R{k}(1)" for k in range(len(exprs))]
    want = _gcc_values(defines, names, tmp_path)
    macros = Macros(read_defines(defines + [f"#define C{k} R{k}(1)" for k in range(len(exprs))], "t.h"))
    got = []
    for name in [f"E{k}" for k in range(len(exprs))] + [f"C{k}" for k in range(len(exprs))]:
        v = macros.value(name)
        got.append((v.concrete() & (2**64 - 1), v.type.name))
    for name, g, w in zip(names, got, want):
        assert g == w, f"{name}: {dict(zip(names, exprs + exprs))[name]}: mkverify {g}, gcc {w}"
