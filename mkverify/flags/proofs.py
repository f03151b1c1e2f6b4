"""The five flag checks, each a z3 query over the encoding's bit-vectors.

Counterexamples are the smallest ones (z3's Optimize, lexicographic), so a
report names the first value that goes wrong, on 64-bit ranges too, without
enumerating anything. Each finding's `counterexample` holds the concrete
values (docs/output.md).
"""
from __future__ import annotations

import z3

from ..diag import SourceLoc
from ..result import Finding
from .cexpr import Value, const, convert, symbol, tokenize
from .encoding import Encoding, Field, FlagSet, Member

#: how many accepted values flag-rejected lists
ACCEPTED_CAP = 8


def _range_text(r: tuple) -> str:
    return f"{r[0]}..{r[1]}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


class Prover:
    """Runs the checks of one Encoding and collects findings and notes."""

    def __init__(self, enc: Encoding):
        self.enc = enc
        self.macros = enc.macros
        self.word = enc.word
        self.findings: list[Finding] = []
        self.notes: list[str] = list(enc.notes)
        self.proofs = 0          # z3 queries made
        self._names = 0
        self._origins = {m.loc: m.origin for m in enc.macros.defined.values() if m.origin}

    # ---------------------------------------------------------------- z3 helpers

    def fresh(self, f: Field, hint: str) -> Value:
        self._names += 1
        return symbol(f"{hint}{self._names}", f.type)

    def encode(self, f: Field, x: Value) -> Value:
        """F(x) as a flags word."""
        return convert(self.macros.call(f.encoder.name, [x], f.encoder.loc), self.word)

    def decode(self, f: Field, w: Value) -> Value:
        """The decoder applied to a flags word, in the field's type ((w & mask) >> shift without a decoder)."""
        if f.decoder is not None:
            return convert(self.macros.call(f.decoder.name, [w], f.decoder.loc), f.type)
        bits = z3.LShR(w.bv & f.mask, f.shift)
        return convert(Value(bits, self.word), f.type)

    def roundtrips(self, f: Field, x: Value):
        return self.decode(f, self.encode(f, x)).bv == x.bv

    @staticmethod
    def within(x: Value, r: tuple):
        lo, hi = (const(v, x.type).bv for v in r)
        if x.type.signed:
            return z3.And(lo <= x.bv, x.bv <= hi)
        return z3.And(z3.ULE(lo, x.bv), z3.ULE(x.bv, hi))

    @staticmethod
    def _order(v: Value):
        """An unsigned key that orders like the C value (the sign bit flipped for a signed type)."""
        return v.bv ^ (1 << (v.type.bits - 1)) if v.type.signed else v.bv

    def smallest(self, constraints: list, values: list, maximize: bool = False) -> list | None:
        """The lexicographically smallest (or largest) concrete `values` under `constraints`, or None."""
        self.proofs += 1
        opt = z3.Optimize()
        opt.add(*constraints)
        for v in values:
            (opt.maximize if maximize else opt.minimize)(self._order(v))
        if opt.check() != z3.sat:
            return None
        m = opt.model()
        return [v.type.wrap(m.eval(v.bv, model_completion=True).as_long()) for v in values]

    def holds(self, constraints: list) -> bool:
        """Whether the constraints are satisfiable."""
        self.proofs += 1
        s = z3.Solver()
        s.add(*constraints)
        return s.check() == z3.sat

    def interval(self, f: Field, cond) -> tuple | None:
        """(lo, hi, exact) of {x : cond(x)}: its least and greatest element, and whether it has no hole."""
        x = self.fresh(f, "x")
        lo = self.smallest([cond(x)], [x])
        if lo is None:
            return None
        (hi,) = self.smallest([cond(x)], [x], maximize=True)
        y = self.fresh(f, "y")
        exact = not self.holds([self.within(y, (lo[0], hi)), z3.Not(cond(y))])
        return lo[0], hi, exact

    def value_of(self, w: Value) -> int:
        return z3.simplify(w.bv).as_long()

    # ---------------------------------------------------------------- reporting

    def report(self, check: str, loc: SourceLoc, message: str, counterexample: dict, extra=()) -> None:
        """A finding; for a macro read from a patch, a note names its header and post-image line."""
        notes = [(loc, f"in {self._origins[loc]} (the patch's post-image)")] if loc in self._origins else []
        notes += [(at, text + (f" ({self._origins[at]})" if at in self._origins else "")) for at, text in extra]
        self.findings.append(Finding(check, message, loc, [], counterexample=counterexample, notes=notes))

    # ---------------------------------------------------------------- the checks

    def run(self) -> None:
        for f in self.enc.fields.values():
            if f.encoder is not None:
                self.check_field(f)
        for s in self.enc.sets:
            self.check_overlap(s)
            if s.accept_mask is not None or s.accept is not None:
                self.check_rejected(s)

    def check_field(self, f: Field) -> None:
        """flag-alias, else flag-roundtrip, over the field's range; the truncation note; flag-range."""
        if self.check_alias(f):
            self.notes.append(f"{f.name}: the round trip fails too over {self.seen(f)[1]} (of two values that "
                              f"alias, at least one does not decode to itself); reported once, as flag-alias")
        else:
            self.check_roundtrip(f)
        if not f.declared:
            self.truncation_note(f)
        if f.decoder is None:
            self.notes.append(f"{f.name}: no decoder macro found; the round trip reads (flags & {f.mask_name}) >> "
                              f"{f.shift}")
        if f.allocator is not None:
            self.check_range(f)

    @staticmethod
    def seen(f: Field) -> tuple:
        """(intervals, text): the values that can meet in a word: the range, and the allocator's ids."""
        spans = sorted({f.range, f.allocator} - {None})
        merged = [list(spans[0])]
        for lo, hi in spans[1:]:
            if lo <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        source = f.range_source
        if f.allocator is not None and f.allocator != f.range:
            source = f"{f.range_source} {_range_text(f.range)} and the allocator's {_range_text(f.allocator)}"
        return [tuple(m) for m in merged], " and ".join(map(_range_text, merged)), source

    def within_any(self, x: Value, spans: list):
        return z3.Or(*[self.within(x, r) for r in spans])

    def check_alias(self, f: Field) -> bool:
        a, b = self.fresh(f, "a"), self.fresh(f, "b")
        less = a.bv < b.bv if f.type.signed else z3.ULT(a.bv, b.bv)
        spans, text, source = self.seen(f)
        base = [self.within_any(a, spans), self.within_any(b, spans), less,
                self.encode(f, a).bv == self.encode(f, b).bv]
        first = self.smallest(base, [b, a])
        if first is None:
            return False
        second = self.smallest(base + [a.bv != const(first[1], f.type).bv], [b, a])
        pairs = [p for p in (first, second) if p is not None]
        shown = [f"{f.name}({hi}) == {f.name}({lo}) == {hex(self.value_of(self.encode(f, const(lo, f.type))))}"
                 for hi, lo in pairs]
        own = f.own_range
        read_back = f"; {f.decoder.name} reads {pairs[-1][0]} back as {pairs[-1][1]}" if f.decoder else ""
        msg = (f"{' and '.join(shown)}: {f.name} encodes different values of {text} ({source}) as the same "
               f"bits, because {f.mask_name} ({hex(f.mask)}) holds only {_range_text(own)}{read_back}")
        cex = {"field": f.name, "range": [list(r) for r in spans] if len(spans) > 1 else list(spans[0]),
               "pairs": [{"values": [hi, lo], "encoding": self.value_of(self.encode(f, const(lo, f.type)))}
                         for hi, lo in pairs]}
        self.report("flag-alias", f.loc, msg, cex)
        return True

    def check_roundtrip(self, f: Field) -> None:
        x = self.fresh(f, "x")
        spans, text, source = self.seen(f)
        bad = self.smallest([self.within_any(x, spans), z3.Not(self.roundtrips(f, x))], [x])
        if bad is None:
            return
        v = const(bad[0], f.type)
        enc = self.value_of(self.encode(f, v))
        dec = f.type.wrap(self.value_of(self.decode(f, self.encode(f, v))))
        decoder = f.decoder.name if f.decoder else f"(flags & {f.mask_name}) >> {f.shift}"
        msg = (f"{decoder} does not undo {f.name}: {f.name}({bad[0]}) == {hex(enc)}, which decodes as {dec}; "
               f"checked over {text} ({source})")
        self.report("flag-roundtrip", f.loc, msg, {"field": f.name, "range": [list(r) for r in spans] if len(spans) > 1
                                                   else list(spans[0]), "value": bad[0],
                                                   "encoding": enc, "decoded": dec})

    def truncation_note(self, f: Field) -> None:
        """With no declared range: say whether values past the field's own range are silently truncated."""
        x, y = self.fresh(f, "x"), self.fresh(f, "y")
        beyond = (0, f.type.max)
        found = self.smallest([self.within(x, beyond), z3.Not(self.within(x, f.own_range)),
                               self.within(y, f.own_range), self.encode(f, x).bv == self.encode(f, y).bv], [x, y])
        text = f"{f.name}: no range declared; checked over {_range_text(f.range)} ({f.range_source})"
        if found is not None:
            text += (f"; larger values are silently truncated ({f.name}({found[0]}) == {f.name}({found[1]})): "
                     f"declare the range callers use (--range {f.name}=LO..HI, or range in the spec's "
                     f"[[flags.field]])")
        self.notes.append(text)

    def check_range(self, f: Field) -> None:
        """flag-range: the allocator's ids against the values that round trip."""
        x = self.fresh(f, "x")
        bad = self.smallest([self.within(x, f.allocator), z3.Not(self.roundtrips(f, x))], [x])
        if bad is None:
            return
        first = bad[0]
        enc = self.value_of(self.encode(f, const(first, f.type)))
        y = self.fresh(f, "y")
        same = self.smallest([self.roundtrips(f, y), self.encode(f, y).bv == enc], [y])
        good = self.interval(f, lambda v: z3.And(self.within(v, f.allocator), self.roundtrips(f, v)))
        size = f.allocator[1] - f.allocator[0] + 1
        count = size - (good[1] - good[0] + 1) if good is not None and good[2] else None
        encodable = (good[0], good[1]) if good is not None and good[2] else None
        what = f"{count:,} of them cannot be encoded" if count is not None else "some cannot be encoded"
        clash = f" == {f.name}({same[0]})" if same is not None else ""
        only = f"encodes only {_range_text(encodable)}" if encodable else "does not encode them all"
        msg = (f"the allocator hands out {_range_text(f.allocator)} but {f.name} {only}: {what}, the first being "
               f"{first} ({f.name}({first}){clash} == {hex(enc)})")
        self.report("flag-range", f.loc, msg, {"field": f.name, "allocator": list(f.allocator),
                                               "encodable": list(encodable) if encodable else None, "first": first,
                                               "encoding": enc, "same_as": same[0] if same else None,
                                               "count": count})

    # ---------------------------------------------------------------- sets

    def member_bits(self, m: Member) -> tuple:
        """(a z3 flags word the member can put in the word, its constraints, the symbol or None)."""
        if m.field is None:
            return const(m.value, self.word), [], None
        f = m.field
        if f.encoder is None:
            v = symbol(f"v{id(m)}", self.word)
            return v, [v.bv & ~const(f.mask, self.word).bv == 0, v.bv != 0], None
        x = self.fresh(f, "x")
        return self.encode(f, x), [self.within(x, f.range)], x

    @staticmethod
    def _blame(a: Member, b: Member) -> tuple:
        """(the member to report at, the other): the one a patch adds, else the later one."""
        return (a, b) if a.added and not b.added else (b, a)

    def check_overlap(self, s: FlagSet) -> None:
        members = s.members
        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                self.overlap_pair(s, members[i], members[j])

    def _same_field(self, a: Member, b: Member) -> bool:
        """Whether one is a value of the other field, or both are values of one field."""
        if a.field is not None and b.name in a.field.values or b.field is not None and a.name in b.field.values:
            return True
        return any(a.name in f.values and b.name in f.values for f in self.enc.fields.values())

    def overlap_pair(self, s: FlagSet, a: Member, b: Member) -> None:
        if self._same_field(a, b):
            return
        wa, ca, xa = self.member_bits(a)
        wb, cb, xb = self.member_bits(b)
        shown = [v for v in (xa, xb) if v is not None]
        found = self.smallest(ca + cb + [wa.bv & wb.bv != 0], shown)
        if found is None:
            return
        model = dict(zip([id(v) for v in shown], found))
        at, other = self._blame(a, b)

        def describe(m: Member, x: Value | None) -> tuple:
            """(how the member is named in the message, its short label, its bits)."""
            if m.field is None:
                return f"{m.name} ({hex(m.value)})", m.name, m.value
            if x is None:
                return (f"the field {m.name} ({m.field.mask_name} = {hex(m.field.mask)})", f"a value of {m.name}",
                        m.field.mask)
            bits = self.value_of(self.encode(m.field, const(model[id(x)], m.field.type)))
            return f"the field {m.name} ({m.name}({model[id(x)]}) == {hex(bits)})", f"{m.name}({model[id(x)]})", bits
        desc = {a.name: describe(a, xa), b.name: describe(b, xb)}
        (long_at, short_at, bits_at), (long_other, short_other, bits_other) = desc[at.name], desc[other.name]
        common = bits_at & bits_other
        bit = "bit" if common & (common - 1) == 0 else "bits"
        msg = (f"{long_at} shares {bit} {hex(common)} with {long_other} in {s.name}: a word with {short_at} "
               f"reads as one with {short_other}")
        cex = {"set": s.name, "members": [at.name, other.name], "bits": common,
               "values": {m.name: model[id(x)] for m, x in ((a, xa), (b, xb)) if x is not None}}
        self.report("flag-overlap", at.loc, msg, cex, [(other.loc, f"{other.name} is defined here")])

    def accept_function(self, s: FlagSet):
        """(a function from a flags word Value to a z3 bool, a description of the check)."""
        if s.accept_mask is not None:
            mask = self.macros.value(s.accept_mask)
            m = convert(mask, self.word).bv

            def by_mask(w: Value):
                return w.bv & ~m == 0
            return by_mask, f"outside {s.accept_mask} ({hex(self.value_of(convert(mask, self.word)))})"
        text, loc = s.accept
        toks = tokenize(text, [(loc.line, loc.col + k) for k in range(len(text) + 1)], loc.file)
        flags = symbol("flags", self.word)
        expr = self.macros.evaluate(toks, "the accept expression", {"flags": flags}).bv != 0

        def by_expr(w: Value):
            return z3.substitute(expr, (flags.bv, w.bv))
        return by_expr, f"rejected by {text}"

    def rejected_bits(self, accept, word: int) -> int:
        """The bits of `word` that the validation refuses on their own."""
        out = 0
        for k in range(self.word.bits):
            b = 1 << k
            if word & b and z3.is_false(z3.simplify(accept(const(b, self.word)))):
                out |= b
        return out

    def check_rejected(self, s: FlagSet) -> None:
        accept, how = self.accept_function(s)
        where = SourceLoc(s.accept[1].file, s.accept[1].line, s.accept[1].col) if s.accept else \
            self.macros.get(s.accept_mask).loc
        for m in s.members:
            if m.field is None:
                self.reject_flag(s, m, accept, how, where)
            elif m.field.encoder is not None:
                self.reject_field(s, m.field, accept, how, where)
            else:
                self.reject_mask_field(s, m.field, accept, how, where)

    def reject_flag(self, s: FlagSet, m: Member, accept, how: str, where: SourceLoc) -> None:
        self.proofs += 1
        if not z3.is_false(z3.simplify(accept(const(m.value, self.word)))):
            return
        bits = self.rejected_bits(accept, m.value)
        msg = f"{s.name} rejects its own flag {m.name} ({hex(m.value)}): bits {hex(bits)} are {how}"
        self.report("flag-rejected", where, msg, {"set": s.name, "member": m.name, "flags": m.value,
                                                  "rejected_bits": bits, "accepted": [], "rejected_count": 1},
                    [(m.loc, f"{m.name} is defined here")])

    def reject_field(self, s: FlagSet, f: Field, accept, how: str, where: SourceLoc) -> None:
        with_value = self.enc.macros.value(f.with_flag).concrete() & ((1 << self.word.bits) - 1) \
            if f.with_flag else 0
        with_v = const(with_value, self.word)

        def word_of(x: Value) -> Value:
            return Value(with_v.bv | self.encode(f, x).bv, self.word)

        def domain(x: Value):
            return z3.And(self.within(x, f.range), self.roundtrips(f, x))
        x = self.fresh(f, "x")
        first = self.smallest([domain(x), z3.Not(accept(word_of(x)))], [x])
        if first is None:
            return
        accepted = []
        while len(accepted) < ACCEPTED_CAP:
            after = [x.bv > accepted[-1] if f.type.signed else z3.UGT(x.bv, accepted[-1])] if accepted else []
            nxt = self.smallest([domain(x), accept(word_of(x))] + after, [x])
            if nxt is None:
                break
            accepted.append(nxt[0])
        span = self.interval(f, domain)
        complete = len(accepted) < ACCEPTED_CAP
        count = (span[1] - span[0] + 1 - len(accepted)) if span and span[2] and complete else None
        dom = _range_text(span[:2]) if span and span[2] else f"the encodable part of {_range_text(f.range)}"
        shown = f"{f.with_flag} | {f.name}" if f.with_flag else f.name
        w = self.value_of(word_of(const(first[0], f.type)))
        bits = self.rejected_bits(accept, w)
        if not accepted:
            scope = f"for every value in {dom}"
        else:
            listed = ", ".join(map(str, accepted)) + ("" if complete else ", ...")
            scope = (f"for {count:,} of the values {dom}" if count is not None else f"for values in {dom}") + \
                f" and accepts only {listed}"
        msg = (f"{s.name} rejects {shown}(x) {scope}: {shown}({first[0]}) == {hex(w)}, "
               f"bit{'s' if bits & (bits - 1) else ''} {hex(bits)} {how}")
        cex = {"set": s.name, "member": f.name, "with": f.with_flag, "domain": list(span[:2]) if span else None,
               "value": first[0], "flags": w, "rejected_bits": bits, "accepted": accepted,
               "accepted_complete": complete, "rejected_count": count}
        self.report("flag-rejected", where, msg, cex, [(f.loc, f"{f.name} is defined here")])

    def reject_mask_field(self, s: FlagSet, f: Field, accept, how: str, where: SourceLoc) -> None:
        v = symbol(f"v{f.name}", self.word)
        bad = self.smallest([v.bv & ~const(f.mask, self.word).bv == 0, z3.Not(accept(v))], [v])
        if bad is None:
            return
        bits = self.rejected_bits(accept, bad[0])
        msg = (f"{s.name} rejects values of the field {f.name} ({f.mask_name} = {hex(f.mask)}): {hex(bad[0])} has "
               f"bits {hex(bits)} {how}")
        self.report("flag-rejected", where, msg, {"set": s.name, "member": f.name, "flags": bad[0],
                                                  "rejected_bits": bits, "accepted": [], "rejected_count": None},
                    [(f.loc, f"{f.mask_name} is defined here")])
