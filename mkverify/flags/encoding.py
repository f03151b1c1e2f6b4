"""The encoding under proof: fields and sets, from the spec's [flags] or inferred.

A *field* is a mask macro (`P_MASK`), the function-like macro that encodes
a value into it (`P`), the one that decodes it (`P_GET`, `GET_P`, with the
prefix's underscore where it belongs: `KEXEC_GET_MK_ID` for `KEXEC_MK_ID`),
its shift (`P_SHIFT`, else the mask's lowest set bit) and the macros whose
values live inside it (`P_*` inside the mask: `KEXEC_ARCH_X86_64` in
`KEXEC_ARCH_MASK`). A *set* is flags and fields meant to be combined in one
word, with the validation a syscall applies to it.

Without a spec, every `P_MASK` with an encoder `P` is a field, and every
macro defined as an OR of two or more macros (`KEXEC_FILE_FLAGS`) is a set
of its members. A spec's [[flags.field]] tables add to or override inferred
fields; its [[flags.set]] tables replace the inferred sets.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..diag import HeaderError, SourceLoc, SpecError, UsageError, did_you_mean
from . import ctype as ct
from .cexpr import Macro, Macros
from .ctype import CType

_ENCODER_SUFFIXES = ("", "_ENCODE", "_SET", "_PREP")


@dataclass
class Field:
    """A bit field of the flags word."""
    # the field's name: its encoder macro, or the mask's name without _MASK
    name: str
    # the encoder (one parameter), or None for a field of named values only
    encoder: Macro | None
    # the mask macro
    mask_name: str
    # the mask's value
    mask: int
    # the decoder (one parameter), or None: (flags & mask) >> shift is used
    decoder: Macro | None
    # the shift of the encoded value
    shift: int
    # the C type of the encoder's argument
    type: CType
    # the flag that announces an encoded value, or None
    with_flag: str | None
    # (lo, hi) the model's allocator hands out, or None
    allocator: tuple | None
    # (lo, hi) the values checked, and where that range comes from (for messages)
    range: tuple
    range_source: str
    # whether `range` was declared (spec, --range, allocator) rather than the field's own
    declared: bool
    # macros whose values live inside the field
    values: list
    # where findings about the field are reported (the encoder's, else the mask's #define)
    loc: SourceLoc
    # whether a patch adds the field
    added: bool = False

    @property
    def own_range(self) -> tuple:
        """0..mask>>shift, within the argument type."""
        return (0, min(self.mask >> self.shift, self.type.max))


@dataclass
class Member:
    """A flag or a field in a set."""
    # the macro name (a flag) or the field's name
    name: str
    # the flag's value; None for a field
    value: int | None
    # the field; None for a flag
    field: Field | None
    # where its macro is defined
    loc: SourceLoc
    # whether a patch adds it
    added: bool


@dataclass
class FlagSet:
    """Flags and fields meant to be combined, and how they are validated."""
    # the set's name (a syscall, or the macro that ORs the members)
    name: str
    # its members, in order: flags, then fields
    members: list
    # accepted iff (flags & ~accept_mask) == 0: the mask macro's name, or None
    accept_mask: str | None
    # accepted iff this expression over `flags` is non-zero: (text, SourceLoc of its first character), or None
    accept: tuple | None
    # where findings about the set itself are reported
    loc: SourceLoc


@dataclass
class Encoding:
    """Everything the proofs need: the macros, the flags word, the fields and the sets."""
    # the macros read
    macros: Macros
    # the C type of the flags word
    word: CType
    # every field, by name
    fields: dict
    # the sets to check
    sets: list
    # notes for the output
    notes: list = field(default_factory=list)


def _needed(macros: Macros, name: str, what: str) -> int:
    """The value of an object-like macro a check needs; a HeaderError if it cannot be read."""
    m = macros.get(name)
    try:
        v = macros.value(name).concrete()
    except HeaderError as e:
        origin = f" ({m.origin} in the patch's post-image)" if m is not None and m.origin else ""
        e.message = f"cannot read {name}{origin}, needed as {what}: {e.message}"
        raise
    if v is None:  # pragma: no cover - object-like macros over constants are constants
        raise HeaderError(m.loc, f"{name} is not a constant")
    return v


def _unsigned(value: int, bits: int = 64) -> int:
    return value & ((1 << bits) - 1)


# ---------------------------------------------------------------- inference

def infer_fields(macros: Macros, word: CType) -> dict:
    """Fields found by name: every P_MASK with a one-parameter macro P (or P_ENCODE, P_SET, P_PREP)."""
    out = {}
    for name, m in macros.defined.items():
        if m.params is not None or not name.endswith("_MASK"):
            continue
        prefix = name[:-len("_MASK")]
        enc = next((macros.get(prefix + s) for s in _ENCODER_SUFFIXES
                    if macros.get(prefix + s) is not None and len(macros.get(prefix + s).params or ()) == 1), None)
        if enc is None:
            continue
        out[enc.name] = make_field(macros, word, prefix, enc, name, None, None, ct.INT, None, None, None, [])
    return out


def find_decoder(macros: Macros, prefix: str, encoder: Macro | None) -> Macro | None:
    """The one-parameter macro whose name without GET_/_GET (or with _DECODE dropped) is `prefix`."""
    for name, m in macros.defined.items():
        if m is encoder or m.params is None or len(m.params) != 1:
            continue
        if prefix in (name.replace("GET_", "", 1), name.replace("_GET", "", 1), name.removesuffix("_DECODE")) \
                and name != prefix:
            return m
    return None


def make_field(macros: Macros, word: CType, prefix: str, encoder: Macro | None, mask_name: str,
               decoder: Macro | None, shift, t: CType, with_flag, allocator, declared_range, values: list,
               override: tuple | None = None) -> Field:
    """A Field with everything not given inferred from the names."""
    what = f"the mask of the field {encoder.name if encoder else prefix}"
    mask = _unsigned(_needed(macros, mask_name, what), word.bits)
    if decoder is None:
        decoder = find_decoder(macros, prefix, encoder)
    if shift is None:
        shift_macro = macros.defined.get(prefix + "_SHIFT")
        if shift_macro is not None and shift_macro.params is None:
            shift = _needed(macros, shift_macro.name, f"the shift of the field {prefix}")
        else:
            shift = (mask & -mask).bit_length() - 1 if mask else 0
    if not values:
        values = [n for n, m in macros.defined.items() if n.startswith(prefix + "_") and m.params is None
                  and n not in (mask_name, prefix + "_SHIFT") and _inside(macros, n, mask, word)]
    loc_macro = encoder or macros.get(mask_name)
    f = Field(encoder.name if encoder else prefix, encoder, mask_name, mask, decoder, shift, t, with_flag,
              allocator, (0, 0), "", False, values, loc_macro.loc, loc_macro.added)
    if override is not None:
        f.range, f.range_source, f.declared = override[0], override[1], True
    elif declared_range is not None:
        f.range, f.range_source, f.declared = declared_range, "the spec's range", True
    elif allocator is not None:
        f.range, f.range_source, f.declared = allocator, "the allocator's range", True
    else:
        f.range, f.range_source = f.own_range, f"the field's own range, {mask_name} >> {shift}"
    return f


def _inside(macros: Macros, name: str, mask: int, word: CType) -> bool:
    """Whether an object-like macro is a non-zero constant inside `mask` (unreadable ones are not)."""
    try:
        v = macros.value(name).concrete()
    except HeaderError:
        return False
    return v is not None and v != 0 and _unsigned(v, word.bits) & ~mask == 0


def _or_members(m: Macro) -> list | None:
    """The macro names a macro ORs together (two or more, nothing else but parentheses), or None."""
    toks = [t for t in m.body if not (t.kind == "punct" and t.text in "()")]
    if len(toks) < 3 or len(toks) % 2 == 0:
        return None
    if all(t.kind == "id" for t in toks[0::2]) and all(t.kind == "punct" and t.text == "|" for t in toks[1::2]):
        return [t for t in toks[0::2]]
    return None


def infer_sets(macros: Macros, fields: dict, word: CType) -> list:
    """One set per macro defined as an OR of other macros, its members flattened."""
    out = []
    for name, m in macros.defined.items():
        if m.params is not None or _or_members(m) is None:
            continue
        members = []
        for tok in _flatten(macros, m, ()):
            members.append(_member(macros, fields, word, tok.text, tok.loc, f"a member of {name}"))
        out.append(FlagSet(name, _dedupe(members), None, None, m.loc))
    return out


def _flatten(macros: Macros, m: Macro, seen: tuple) -> list:
    """The member tokens of an OR macro, with members that are OR macros themselves replaced by theirs."""
    out = []
    for tok in _or_members(m):
        inner = macros.defined.get(tok.text)
        if inner is not None and inner.params is None and _or_members(inner) is not None and tok.text not in seen:
            out.extend(_flatten(macros, inner, seen + (m.name,)))
        else:
            out.append(tok)
    return out


def _dedupe(members: list) -> list:
    seen, out = set(), []
    for mem in members:
        if mem.name not in seen:
            seen.add(mem.name)
            out.append(mem)
    return out


def _member(macros: Macros, fields: dict, word: CType, name: str, loc: SourceLoc, what: str) -> Member:
    """A set member: a field (by field or mask name), else a flag whose value is read."""
    f = field_named(macros, fields, word, name)
    if f is not None:
        return Member(f.name, None, f, f.loc, f.added)
    m = macros.get(name)
    if m is None:
        raise HeaderError(loc, f"'{name}' is not a macro of the headers read",
                          did_you_mean(name, macros.defined) or "give the header that defines it too")
    if m.params is not None:
        raise HeaderError(loc, f"{name} is a function-like macro, not a flag", f"{name} is defined at {m.where}")
    return Member(name, _unsigned(_needed(macros, name, what), word.bits), None, m.loc, m.added)


def field_named(macros: Macros, fields: dict, word: CType, name: str) -> Field | None:
    """The field called `name` or whose mask is `name`; a mask P_MASK with no field yet becomes one."""
    if name in fields:
        return fields[name]
    for f in fields.values():
        if f.mask_name == name:
            return f
    m = macros.defined.get(name)
    if name.endswith("_MASK") and m is not None and m.params is None:
        prefix = name[:-len("_MASK")]
        f = make_field(macros, word, prefix, None, name, None, None, ct.INT, None, None, None, [])
        fields[f.name] = f
        return f
    mask = macros.defined.get(name + "_MASK")
    if mask is not None and mask.params is None and macros.get(name) is None:
        return field_named(macros, fields, word, name + "_MASK")
    return None


# ---------------------------------------------------------------- the spec's [flags]

def _spec_macro(macros: Macros, loc_value, kind: str, what: str) -> Macro:
    """The macro a spec value names; a SpecError at the value if there is none or it has the wrong kind."""
    name, loc = loc_value.value, loc_value.loc
    m = macros.get(name)
    if m is None:
        raise SpecError(loc, f"{what} '{name}' is not a macro of the headers read",
                        did_you_mean(name, macros.defined) or "check the name, or the spec's headers")
    if kind == "object" and m.params is not None:
        raise SpecError(loc, f"{what} '{name}' is a function-like macro", f"it is defined at {m.where}")
    if kind == "unary" and (m.params is None or len(m.params) != 1):
        got = "object-like" if m.params is None else f"takes {len(m.params)} arguments"
        raise SpecError(loc, f"{what} '{name}' must be a macro of one argument, but it is {got}",
                        f"it is defined at {m.where}")
    return m


def spec_field(macros: Macros, word: CType, fs, overrides: dict) -> Field:
    """A Field from a [[flags.field]] table."""
    name = fs.name.value
    m = macros.get(name)
    encoder = _spec_macro(macros, fs.name, "unary", "the field's encoder") if m is not None else None
    if fs.mask is not None:
        mask_name = _spec_macro(macros, fs.mask, "object", "mask").name
    elif macros.get(name + "_MASK") is not None:
        mask_name = name + "_MASK"
    elif m is None:
        raise SpecError(fs.name.loc, f"the field '{name}' is not a macro of the headers read, and there is no "
                        f"{name}_MASK", did_you_mean(name, macros.defined) or "name the encoder macro, or give mask")
    else:
        raise SpecError(fs.name.loc, f"the field {name} has no mask: there is no {name}_MASK",
                        'name its mask: mask = "..."')
    decoder = _spec_macro(macros, fs.decode, "unary", "decoder") if fs.decode is not None else None
    shift = None
    if fs.shift is not None:
        shift = fs.shift.value if isinstance(fs.shift.value, int) else \
            _needed(macros, _spec_macro(macros, fs.shift, "object", "shift").name, f"the shift of {name}")
    with_flag = _spec_macro(macros, fs.with_, "object", "with").name if fs.with_ is not None else None
    values = [_spec_macro(macros, v, "object", "value").name for v in fs.values]
    for v in fs.values:
        _needed(macros, v.value, f"a value of the field {name}")
    rng = fs.range.value if fs.range is not None else None
    alloc = fs.allocator.value if fs.allocator is not None else None
    return make_field(macros, word, name, encoder, mask_name, decoder, shift, fs.type.value, with_flag, alloc, rng,
                      values, overrides.pop(name, None))


def spec_set(macros: Macros, fields: dict, word: CType, ss) -> FlagSet:
    """A FlagSet from a [[flags.set]] table."""
    members = []
    for v in ss.flags:
        m = _spec_macro(macros, v, "object", "flag")
        members.append(Member(m.name, _unsigned(_needed(macros, m.name, f"a flag of {ss.name.value}"), word.bits),
                              None, m.loc, m.added))
    for v in ss.fields:
        f = field_named(macros, fields, word, v.value)
        if f is None:
            raise SpecError(v.loc, f"'{v.value}' is not a field", did_you_mean(v.value, list(fields)) or
                            "name a [[flags.field]], or a mask macro (P_MASK)")
        members.append(Member(f.name, None, f, f.loc, f.added))
    accept_mask = None
    if ss.accept_mask is not None:
        accept_mask = _spec_macro(macros, ss.accept_mask, "object", "accept_mask").name
        _needed(macros, accept_mask, f"the validation mask of {ss.name.value}")
    accept = (ss.accept.value, ss.accept.loc) if ss.accept is not None else None
    return FlagSet(ss.name.value, members, accept_mask, accept, ss.loc)


def build(macros: Macros, flags_spec, ranges: dict) -> Encoding:
    """The Encoding of `macros` under a FlagsSpec (or None) and --range overrides {name: ((lo, hi), loc)}."""
    word = flags_spec.type.value if flags_spec is not None else ct.ULONG
    overrides = {name: (rng, "the range given with --range") for name, (rng, _) in ranges.items()}
    fields = {}
    declared = {}
    if flags_spec is not None:
        for fs in flags_spec.fields:
            f = spec_field(macros, word, fs, overrides)
            fields[f.name] = f
            declared[f.mask_name] = f
    for name, f in infer_fields(macros, word).items():
        if name not in fields and f.mask_name not in declared:
            fields[name] = f
    for name, (rng, loc) in ranges.items():
        f = fields.get(name)
        if f is None or f.encoder is None:
            raise UsageError(loc, f"--range names '{name}', which is not a field with an encoder",
                             did_you_mean(name, [n for n, x in fields.items() if x.encoder]) or
                             "a field is a mask P_MASK with an encoder macro P(x)")
        if not (f.type.holds(rng[0]) and f.type.holds(rng[1])):
            raise UsageError(loc, f"--range {name}={rng[0]}..{rng[1]} does not fit the field's type {f.type.name}",
                             "declare the encoder's argument type in the spec's [[flags.field]]")
        if name in overrides:
            f.range, f.range_source, f.declared = rng, "the range given with --range", True
    if flags_spec is not None and flags_spec.sets:
        sets = [spec_set(macros, fields, word, ss) for ss in flags_spec.sets]
    else:
        sets = infer_sets(macros, fields, word)
    enc = Encoding(macros, word, fields, sets)
    for m in macros.defined.values():
        if m.redefined:
            others = ", ".join(str(r.loc) for r in m.redefined)
            enc.notes.append(f"{m.name} is defined more than once ({m.loc}, {others}); the first definition is used")
    return enc
