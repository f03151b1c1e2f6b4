"""C macros and integer constant expressions, evaluated as z3 bit-vectors.

`Macros` holds the `#define`s read from headers (source.py) and expands
them the way the C preprocessor does (object-like and function-like macros,
rescanning, a hide set per token so a macro never expands inside itself). A
macro that refers to itself is reported as a cycle. The expanded tokens are
parsed by a precedence-climbing parser into a `Value`: a z3 bit-vector with
its C type, so every operator follows C's rules on LP64: integer constant
types, the integer promotions, the usual arithmetic conversions, casts,
arithmetic right shifts of signed values, and wrapping signed arithmetic
(the kernel is built with -fno-strict-overflow).

Errors are `HeaderError`s placed at the token that could not be read.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
import re

import z3

from ..diag import HeaderError, SourceLoc, did_you_mean
from . import ctype as ct
from .ctype import CType

#: the most tokens one expansion may produce (a guard against exponential macros)
MAX_TOKENS = 100_000

#: what `mkverify flags` reads, for hints
SUBSET = ("mkverify flags reads integer constant expressions: numbers, macros, casts to integer types, "
          "+ - * / % << >> & | ^ ~ ! && || comparisons and ?: (docs/flags.md)")


@dataclass(frozen=True)
class Token:
    """One preprocessing token."""
    # "id", "num", "punct", "str", "char", "value" (an argument mkverify supplies), "other"
    kind: str
    # the token as written
    text: str
    # where it is written
    loc: SourceLoc
    # the macro whose body holds it ("" outside macros)
    macro: str = ""
    # macros that must not expand at this token (the hide set), in expansion order
    hide: tuple = ()
    # kind "value": the Value it stands for
    value: object = None


@dataclass
class Macro:
    """One `#define`."""
    # the macro's name
    name: str
    # parameter names of a function-like macro; None for an object-like one
    params: tuple | None
    # the replacement list
    body: list
    # where the name is written
    loc: SourceLoc
    # the replacement list as written, for messages
    text: str
    # for a macro read from a patch: the header and its post-image line ("include/uapi/linux/kexec.h:18")
    origin: str = ""
    # other definitions of the same name that were ignored (the first one counts)
    redefined: list = field(default_factory=list)
    # for a macro read from a patch: whether the patch adds it (a '+' line)
    added: bool = False

    @property
    def where(self) -> str:
        """`file:line:col`, and the header line for a macro read from a patch."""
        return f"{self.loc} ({self.origin})" if self.origin else str(self.loc)


@dataclass(frozen=True)
class Value:
    """A C integer value: a bit-vector of the type's width, and the type."""
    # the z3 term, ctype.bits wide
    bv: z3.BitVecRef
    # its C type
    type: CType

    def concrete(self) -> int | None:
        """The value as a Python int of its type, if it is a constant."""
        s = z3.simplify(self.bv)
        if not z3.is_bv_value(s):
            return None
        return self.type.wrap(s.as_long())


def const(value: int, t: CType) -> Value:
    return Value(z3.BitVecVal(t.wrap(value), t.bits), t)


def symbol(name: str, t: CType) -> Value:
    return Value(z3.BitVec(name, t.bits), t)


# ---------------------------------------------------------------- tokens

_TOKEN = re.compile(r"""
    (?P<id>[A-Za-z_]\w*)
  | (?P<num>\.?\d(?:[eEpP][+-]|[\w.])*)
  | (?P<str>"(?:\\.|[^"\\])*"?)
  | (?P<char>'(?:\\.|[^'\\])*'?)
  | (?P<punct>\#\#|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||->|\+\+|--|[-+*/%&|^~!<>?:,()\[\]{}#=.;])
  | (?P<other>\S)
""", re.X)


def tokenize(text: str, locs: list, file: str, macro: str = "") -> list[Token]:
    """Tokens of `text`; locs[k] is the (line, col) of text[k] in `file`."""
    out = []
    for m in _TOKEN.finditer(text):
        line, col = locs[m.start()]
        out.append(Token(m.lastgroup, m.group(), SourceLoc(file, line, col), macro))
    return out


# ---------------------------------------------------------------- the builtin macros of the kernel

BUILTINS = """\
#define BITS_PER_LONG 64
#define BITS_PER_LONG_LONG 64
#define BIT(nr) (1UL << (nr))
#define BIT_ULL(nr) (1ULL << (nr))
#define _BITUL(x) (1UL << (x))
#define _BITULL(x) (1ULL << (x))
#define GENMASK(h, l) (((~0UL) - (1UL << (l)) + 1) & (~0UL >> (BITS_PER_LONG - 1 - (h))))
#define GENMASK_ULL(h, l) (((~0ULL) - (1ULL << (l)) + 1) & (~0ULL >> (BITS_PER_LONG_LONG - 1 - (h))))
#define INT_MAX 2147483647
#define INT_MIN (-INT_MAX - 1)
#define UINT_MAX (~0U)
#define LONG_MAX ((long)(~0UL >> 1))
#define ULONG_MAX (~0UL)
#define U8_MAX ((u8)~0U)
#define U16_MAX ((u16)~0U)
#define U32_MAX ((u32)~0U)
#define U64_MAX ((u64)~0ULL)
"""
BUILTIN_FILE = "<mkverify builtin>"


# ---------------------------------------------------------------- macros and their expansion

class Macros:
    """The macros of some headers, and the evaluation of expressions over them."""

    def __init__(self, defined: dict[str, Macro]):
        self.defined = dict(defined)   # the headers' own macros
        self.all = dict(defined)       # plus the builtins they do not define themselves
        from .source import read_defines  # the builtins are written as a header
        for m in read_defines(BUILTINS.splitlines(), BUILTIN_FILE).values():
            self.all.setdefault(m.name, m)
        self._values: dict[str, Value] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.all

    def get(self, name: str) -> Macro | None:
        return self.all.get(name)

    def value(self, name: str) -> Value:
        """The value of an object-like macro (cached)."""
        if name not in self._values:
            m = self.all[name]
            self._values[name] = self.evaluate([Token("id", name, m.loc)], name)
        return self._values[name]

    def call(self, name: str, args: list[Value], loc: SourceLoc) -> Value:
        """The value of the function-like macro `name` applied to `args`."""
        toks = [Token("id", name, loc), Token("punct", "(", loc)]
        for k, a in enumerate(args):
            if k:
                toks.append(Token("punct", ",", loc))
            toks.append(Token("value", f"<{name} argument {k + 1}>", loc, value=a))
        toks.append(Token("punct", ")", loc))
        return self.evaluate(toks, name)

    def evaluate(self, toks: list[Token], what: str, names: dict | None = None) -> Value:
        """Expand and evaluate `toks`; `names` binds identifiers that are not macros (e.g. `flags`)."""
        return Parser(self.expand(toks), self, what, names or {}).parse()

    def expand(self, toks: list[Token]) -> list[Token]:
        """Macro-expand a token list completely (C11 6.10.3, with hide sets)."""
        toks = list(toks)
        i = 0
        while i < len(toks):
            t = toks[i]
            m = self.all.get(t.text) if t.kind == "id" else None
            if m is None:
                i += 1
                continue
            called = i + 1 < len(toks) and toks[i + 1].text == "(" and toks[i + 1].kind == "punct"
            if m.params is not None and not called:
                i += 1          # a function-like macro's name without arguments is not expanded
                continue
            if t.text in t.hide:
                chain = " -> ".join(t.hide[t.hide.index(t.text):] + (t.text,))
                raise HeaderError(t.loc, f"macro {t.text} is defined in terms of itself ({chain})",
                                  "a macro cannot expand to itself; define it without the cycle")
            hide = t.hide + (m.name,)
            if m.params is None:
                repl, end = [self._relabel(b, hide) for b in m.body], i + 1
            else:
                args, end = self._arguments(toks, i + 1, m, t)
                repl = self._substitute(m, [self.expand(a) for a in args], hide, t)
            toks[i:end] = repl
            if len(toks) > MAX_TOKENS:
                raise HeaderError(t.loc, f"macro {m.name} expands to more than {MAX_TOKENS:,} tokens",
                                  "simplify the macro")
        return toks

    @staticmethod
    def _relabel(tok: Token, hide: tuple) -> Token:
        return replace(tok, hide=hide + tuple(h for h in tok.hide if h not in hide))

    def _arguments(self, toks: list[Token], start: int, m: Macro, name_tok: Token) -> tuple[list, int]:
        """The arguments of a call whose '(' is toks[start], and the index after its ')'."""
        args: list[list[Token]] = [[]]
        depth = 0
        for j in range(start + 1, len(toks)):
            t = toks[j]
            if t.kind == "punct" and t.text == "(":
                depth += 1
            elif t.kind == "punct" and t.text == ")":
                if depth == 0:
                    if args == [[]] and not m.params:
                        args = []
                    if len(args) != len(m.params):
                        raise HeaderError(name_tok.loc, f"macro {m.name} takes {len(m.params)} argument"
                                          f"{'s' if len(m.params) != 1 else ''}, but {len(args)} "
                                          f"{'are' if len(args) != 1 else 'is'} given",
                                          f"{m.name} is defined at {m.where}")
                    return args, j + 1
                depth -= 1
            elif t.kind == "punct" and t.text == "," and depth == 0:
                args.append([])
                continue
            args[-1].append(t)
        raise HeaderError(name_tok.loc, f"the arguments of {m.name} are not closed with ')'",
                          "check the parentheses of the call")

    def _substitute(self, m: Macro, args: list, hide: tuple, call: Token) -> list[Token]:
        """The body of a function-like macro with its parameters replaced by the (expanded) arguments."""
        if "..." in m.params:
            raise HeaderError(m.loc, f"variadic macro {m.name} is not supported", SUBSET)
        out = []
        for b in m.body:
            if b.kind == "punct" and b.text in ("#", "##"):
                raise HeaderError(b.loc, f"the '{b.text}' operator (in macro {m.name}) is not supported",
                                  "mkverify reads macros that compute integers, not ones that build tokens")
            if b.kind == "id" and b.text in m.params:
                out.extend(self._relabel(a, hide) for a in args[m.params.index(b.text)])
            else:
                out.append(self._relabel(b, hide))
        return out


# ---------------------------------------------------------------- the parser

_BINARY = {"||": 4, "&&": 5, "|": 6, "^": 7, "&": 8, "==": 9, "!=": 9, "<": 10, ">": 10, "<=": 10, ">=": 10,
           "<<": 11, ">>": 11, "+": 12, "-": 12, "*": 13, "/": 13, "%": 13}


class Parser:
    """Precedence climbing over expanded tokens, building Values as it goes."""

    def __init__(self, toks: list[Token], macros: Macros, what: str, names: dict):
        self.toks = toks
        self.pos = 0
        self.macros = macros
        self.what = what          # what is being read, for messages
        self.names = names
        self.end_loc = toks[-1].loc if toks else SourceLoc("<unknown>")

    # -- helpers

    def peek(self) -> Token | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> Token:
        t = self.peek()
        if t is None:
            raise self.error(None, f"{self.what} ends in the middle of an expression")
        self.pos += 1
        return t

    def error(self, tok: Token | None, message: str, hint: str | None = SUBSET) -> HeaderError:
        loc = tok.loc if tok is not None else self.end_loc
        if tok is not None and tok.macro and tok.macro != self.what:
            message += f" (in macro {tok.macro})"
        return HeaderError(loc, message, hint)

    def expect(self, text: str) -> Token:
        t = self.peek()
        if t is None or t.text != text or t.kind != "punct":
            raise self.error(t, f"expected '{text}'" + (f" before '{t.text}'" if t else f" at the end of {self.what}"))
        return self.take()

    # -- grammar

    def parse(self) -> Value:
        if not self.toks:
            raise self.error(None, f"{self.what} has no value")
        v = self.conditional()
        t = self.peek()
        if t is not None:
            raise self.error(t, f"unexpected '{t.text}' in {self.what}")
        return v

    def conditional(self) -> Value:
        cond = self.binary(4)
        t = self.peek()
        if t is None or t.text != "?" or t.kind != "punct":
            return cond
        self.take()
        a = self.conditional()
        self.expect(":")
        b = self.conditional()
        return ternary(cond, a, b)

    def binary(self, min_prec: int) -> Value:
        left = self.unary()
        while True:
            t = self.peek()
            prec = _BINARY.get(t.text) if t is not None and t.kind == "punct" else None
            if prec is None or prec < min_prec:
                return left
            self.take()
            right = self.binary(prec + 1)
            left = self.apply(t, left, right)

    def apply(self, op: Token, a: Value, b: Value) -> Value:
        try:
            return binary(op.text, a, b)
        except ValueError as e:
            hint = "shift by less than the width, or widen the left operand first (1ULL << n)" \
                if op.text in ("<<", ">>") else None
            raise self.error(op, str(e), hint)

    def unary(self) -> Value:
        t = self.take()
        if t.kind == "punct" and t.text in ("+", "-", "~", "!"):
            return unary(t.text, self.unary())
        if t.kind == "punct" and t.text == "(":
            cast = self.cast_type()
            if cast is not None:
                return convert(promote_value(self.unary()) if cast != ct.BOOL else self.unary(), cast)
            v = self.conditional()
            self.expect(")")
            return v
        return self.primary(t)

    def cast_type(self) -> CType | None:
        """After '(': a type name and its ')', consumed, or None (nothing consumed)."""
        words, k = [], self.pos
        while k < len(self.toks) and self.toks[k].kind == "id" and \
                (self.toks[k].text in ct.TYPE_WORDS or self.toks[k].text in ct.TYPEDEFS) and \
                self.toks[k].text not in self.names:
            words.append(self.toks[k].text)
            k += 1
        if not words or k >= len(self.toks) or self.toks[k].text != ")":
            return None
        t = ct.type_from_words(words)
        if t is None:
            raise self.error(self.toks[self.pos], f"'{' '.join(words)}' is not an integer type")
        self.pos = k + 1
        return t

    def primary(self, t: Token) -> Value:
        if t.kind == "value":
            return t.value
        if t.kind == "num":
            r = ct.constant_type(t.text)
            if isinstance(r, str):
                raise self.error(t, r)
            return const(*r)
        if t.kind == "id":
            if t.text in self.names:
                return self.names[t.text]
            m = self.macros.get(t.text)
            if m is not None and m.params is not None:
                raise self.error(t, f"function-like macro {t.text} is used without arguments",
                                 f"{t.text} is defined at {m.where} with parameters ({', '.join(m.params)})")
            if t.text == "sizeof":
                raise self.error(t, "sizeof is not supported")
            hint = did_you_mean(t.text, list(self.macros.defined) + list(self.names))
            raise self.error(t, f"'{t.text}' is not a macro of the headers read",
                             hint or "give the header that defines it too")
        if t.kind == "str":
            raise self.error(t, f"{self.what} is a string, not an integer")
        if t.kind == "char":
            raise self.error(t, "character constants are not supported")
        raise self.error(t, f"unexpected '{t.text}' in {self.what}")


# ---------------------------------------------------------------- C semantics on Values

def convert(v: Value, t: CType) -> Value:
    """`(t)v`: truncate, or sign- or zero-extend by the source's signedness; to _Bool: v != 0."""
    if t == ct.BOOL:
        return Value(z3.If(v.bv != 0, z3.BitVecVal(1, 8), z3.BitVecVal(0, 8)), t)
    if t.bits == v.type.bits:
        return Value(v.bv, t)
    if t.bits < v.type.bits:
        return Value(z3.Extract(t.bits - 1, 0, v.bv), t)
    ext = z3.SignExt if v.type.signed else z3.ZeroExt
    return Value(ext(t.bits - v.type.bits, v.bv), t)


def promote_value(v: Value) -> Value:
    return convert(v, ct.promote(v.type))


def _truth(cond) -> Value:
    return Value(z3.If(cond, z3.BitVecVal(1, 32), z3.BitVecVal(0, 32)), ct.INT)


def unary(op: str, v: Value) -> Value:
    if op == "!":
        return _truth(v.bv == 0)
    v = promote_value(v)
    if op == "-":
        return Value(-v.bv, v.type)
    if op == "~":
        return Value(~v.bv, v.type)
    return v


def _arith(a: Value, b: Value) -> tuple[Value, Value]:
    t = ct.common(ct.promote(a.type), ct.promote(b.type))
    return convert(a, t), convert(b, t)


def binary(op: str, a: Value, b: Value) -> Value:
    """`a op b` with C's conversions; ValueError for what C leaves undefined in a constant."""
    if op in ("&&", "||"):
        x, y = a.bv != 0, b.bv != 0
        return _truth(z3.And(x, y) if op == "&&" else z3.Or(x, y))
    if op in ("<<", ">>"):
        return _shift(op, promote_value(a), promote_value(b))
    a, b = _arith(a, b)
    s = a.type.signed
    if op in ("/", "%"):
        if b.concrete() == 0:
            raise ValueError("division by zero")
        if op == "/":
            return Value(a.bv / b.bv if s else z3.UDiv(a.bv, b.bv), a.type)
        return Value(z3.SRem(a.bv, b.bv) if s else z3.URem(a.bv, b.bv), a.type)
    ops = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
           "&": lambda x, y: x & y, "|": lambda x, y: x | y, "^": lambda x, y: x ^ y}
    if op in ops:
        return Value(ops[op](a.bv, b.bv), a.type)
    cmp = {"==": lambda x, y: x == y, "!=": lambda x, y: x != y,
           "<": (lambda x, y: x < y) if s else z3.ULT, ">": (lambda x, y: x > y) if s else z3.UGT,
           "<=": (lambda x, y: x <= y) if s else z3.ULE, ">=": (lambda x, y: x >= y) if s else z3.UGE}
    return _truth(cmp[op](a.bv, b.bv))


def _shift(op: str, a: Value, n: Value) -> Value:
    """A shift: the type of the promoted left operand; a constant count must be in 0..width-1."""
    count = n.concrete()
    if count is not None and not 0 <= count < a.type.bits:
        raise ValueError(f"shift count {count} is {'negative' if count < 0 else 'not less than'}"
                         f"{'' if count < 0 else f' the width of {a.type.name} ({a.type.bits} bits)'}")
    nb = convert(n, ct.CType("", a.type.bits, n.type.signed, 0)).bv
    if op == "<<":
        return Value(a.bv << nb, a.type)
    return Value(a.bv >> nb if a.type.signed else z3.LShR(a.bv, nb), a.type)


def ternary(cond: Value, a: Value, b: Value) -> Value:
    a, b = _arith(a, b)
    return Value(z3.If(cond.bv != 0, a.bv, b.bv), a.type)
