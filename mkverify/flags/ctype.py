"""C integer types as gcc has them on x86-64 and arm64 (LP64), and the type of
an integer constant. No z3 here: the spec reader uses this module too.
"""
from __future__ import annotations

from dataclasses import dataclass
import re


@dataclass(frozen=True)
class CType:
    """An integer type."""
    # the C spelling used in messages
    name: str
    # width in bits
    bits: int
    # two's complement signed, or unsigned
    signed: bool
    # conversion rank: _Bool 0, char 1, short 2, int 3, long 4, long long 5
    rank: int

    @property
    def min(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def holds(self, value: int) -> bool:
        return self.min <= value <= self.max

    def wrap(self, value: int) -> int:
        """`value` converted to this type (modulo 2^bits, as gcc converts)."""
        value &= (1 << self.bits) - 1
        return value - (1 << self.bits) if self.signed and value >> (self.bits - 1) else value


BOOL = CType("_Bool", 8, False, 0)
CHAR = CType("char", 8, True, 1)  # signed on x86
SCHAR = CType("signed char", 8, True, 1)
UCHAR = CType("unsigned char", 8, False, 1)
SHORT = CType("short", 16, True, 2)
USHORT = CType("unsigned short", 16, False, 2)
INT = CType("int", 32, True, 3)
UINT = CType("unsigned int", 32, False, 3)
LONG = CType("long", 64, True, 4)
ULONG = CType("unsigned long", 64, False, 4)
LLONG = CType("long long", 64, True, 5)
ULLONG = CType("unsigned long long", 64, False, 5)

_UNSIGNED_OF = {CHAR: UCHAR, SCHAR: UCHAR, SHORT: USHORT, INT: UINT, LONG: ULONG, LLONG: ULLONG}

#: typedef names of the kernel, its UAPI and <stdint.h>
TYPEDEFS = {
    **{n: UCHAR for n in ("u8", "__u8", "uint8_t")},
    **{n: SCHAR for n in ("s8", "__s8", "int8_t")},
    **{n: USHORT for n in ("u16", "__u16", "uint16_t", "__le16", "__be16")},
    **{n: SHORT for n in ("s16", "__s16", "int16_t")},
    **{n: UINT for n in ("u32", "__u32", "uint32_t", "__le32", "__be32")},
    **{n: INT for n in ("s32", "__s32", "int32_t")},
    **{n: ULLONG for n in ("u64", "__u64", "uint64_t", "__le64", "__be64")},
    **{n: LLONG for n in ("s64", "__s64", "int64_t")},
    **{n: ULONG for n in ("size_t", "uintptr_t", "__kernel_ulong_t", "__kernel_size_t", "phys_addr_t")},
    **{n: LONG for n in ("ssize_t", "intptr_t", "ptrdiff_t", "__kernel_long_t", "__kernel_ssize_t")},
    "bool": BOOL, "_Bool": BOOL,
}

#: words that may make up a basic type name (with the qualifiers, which change nothing here)
TYPE_WORDS = {"signed", "unsigned", "char", "short", "int", "long", "const", "volatile", "_Bool"}


def type_from_words(words: list[str]) -> CType | None:
    """The type spelled by `words` (["unsigned", "long"], ["u32"]), or None if it spells none."""
    words = [w for w in words if w not in ("const", "volatile")]
    if len(words) == 1 and words[0] in TYPEDEFS:
        return TYPEDEFS[words[0]]
    if not words or any(w not in TYPE_WORDS for w in words):
        return None
    signed = "signed" in words
    unsigned = "unsigned" in words
    if signed and unsigned or words.count("signed") + words.count("unsigned") > 1:
        return None
    rest = [w for w in words if w not in ("signed", "unsigned")]
    longs = rest.count("long")
    base = [w for w in rest if w != "long"]
    if base not in ([], ["int"], ["char"], ["short"], ["_Bool"]) or longs > 2 or (longs and base not in ([], ["int"])):
        return None
    if base == ["_Bool"]:
        return None if signed or unsigned else BOOL
    if base == ["char"]:
        return UCHAR if unsigned else SCHAR if signed else CHAR
    t = SHORT if base == ["short"] else LLONG if longs == 2 else LONG if longs == 1 else INT
    return _UNSIGNED_OF[t] if unsigned else t


def parse_type(text: str) -> CType | None:
    """A type name as written in a spec ("unsigned int", "u32"), or None."""
    return type_from_words(text.split())


def unsigned_of(t: CType) -> CType:
    return _UNSIGNED_OF.get(t, t)


def promote(t: CType) -> CType:
    """The integer promotions: anything narrower than int becomes int."""
    return INT if t.rank < INT.rank else t


def common(a: CType, b: CType) -> CType:
    """The usual arithmetic conversions of two promoted types."""
    if a == b:
        return a
    if a.signed == b.signed:
        return a if a.rank >= b.rank else b
    u, s = (a, b) if not a.signed else (b, a)
    if u.rank >= s.rank:
        return u
    if s.bits > u.bits:
        return s
    return unsigned_of(s)


_NUMBER = re.compile(r"^(0[xX][0-9a-fA-F]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)([uUlL]*)$")
_SUFFIXES = {"": "", "u": "u", "l": "l", "ul": "ul", "lu": "ul", "ll": "ll", "ull": "ull", "llu": "ull"}


def constant_type(text: str) -> tuple[int, CType] | str:
    """The value and type of an integer constant (C11 6.4.4.1), or why it is not one."""
    m = _NUMBER.match(text)
    if not m:
        return f"'{text}' is not an integer constant"
    digits, suffix = m.group(1), m.group(2)
    if suffix and ("lL" in suffix or "Ll" in suffix):
        return f"'{text}': the suffix {suffix} mixes l and L"
    kind = _SUFFIXES.get(suffix.lower())
    if kind is None:
        return f"'{text}': unknown integer suffix '{suffix}'"
    if digits[:2] in ("0x", "0X"):
        value, decimal = int(digits[2:], 16), False
    elif digits[:2] in ("0b", "0B"):
        value, decimal = int(digits[2:], 2), False
    elif digits.startswith("0"):
        value, decimal = int(digits, 8), False
    else:
        value, decimal = int(digits), True
    if decimal:
        order = {"": [INT, LONG, LLONG], "u": [UINT, ULONG, ULLONG], "l": [LONG, LLONG],
                 "ul": [ULONG, ULLONG], "ll": [LLONG], "ull": [ULLONG]}[kind]
    else:
        order = {"": [INT, UINT, LONG, ULONG, LLONG, ULLONG], "u": [UINT, ULONG, ULLONG],
                 "l": [LONG, ULONG, LLONG, ULLONG], "ul": [ULONG, ULLONG], "ll": [LLONG, ULLONG],
                 "ull": [ULLONG]}[kind]
    for t in order:
        if t.holds(value):
            return value, t
    return f"integer constant '{text}' is too large for any integer type"
