"""specs/*.toml: bounds, entry points, lifecycles and invariants of one model.

This module reads and checks the TOML itself (keys, kinds of values, ranges);
whether the names it mentions exist in the model is checked by the front end,
which owns the model's types. Every value keeps the place it came from, so
every error points at `spec.toml:line:col`. The format is documented in
docs/spec.md; its JSON Schema ships as mkverify/schemas/spec.schema.json.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import functools
import os
from pathlib import Path
import re
import tomllib

from .diag import SourceLoc, SpecError, did_you_mean
from .ir import BOUND_RANGES, MAX_DOMAIN, POOL_RANGE


class TomlLocator:
    """Maps a key path (("entry", 0, "args", "id", 1)) to its line and column.

    tomllib keeps no positions, so this scans the text: table headers,
    `key = value` lines, inline tables and (multi-line) arrays. It is used
    only to place error messages; when it cannot find a path it falls back
    to the nearest enclosing one it knows.
    """

    _part = r'(?:"[^"]*"|[A-Za-z0-9_\-]+)'
    _key = re.compile(rf'\s*({_part}(?:\s*\.\s*{_part})*)\s*=\s*')  # a key, dotted ones too

    @staticmethod
    def _key_path(key: str) -> tuple:
        return tuple(p.strip().strip('"') for p in re.findall(r'"[^"]*"|[^.]+', key))

    def __init__(self, text: str):
        self.pos: dict[tuple, tuple[int, int]] = {}   # where each key (or array item) is written
        self.val: dict[tuple, tuple[int, int]] = {}   # where its value starts (inside the quotes of a string)
        counts: dict[tuple, int] = {}
        table: tuple = ()
        lines = text.splitlines()
        i = 0
        while i < len(lines):
            raw = lines[i]
            stripped = raw.strip()
            lineno = i + 1
            if stripped.startswith("[["):
                name = self._header(stripped)
                idx = counts.get(name, 0)
                counts[name] = idx + 1
                table = name + (idx,)
                self.pos[table] = (lineno, raw.index("[") + 1)
                i += 1
                continue
            if stripped.startswith("["):
                table = self._header(stripped)
                self.pos[table] = (lineno, raw.index("[") + 1)
                i += 1
                continue
            m = self._key.match(raw)
            if m and not stripped.startswith("#"):
                path = table + self._key_path(m.group(1))
                self.pos[path] = (lineno, m.start(1) + 1)
                self.val[path] = (lineno, self._value_col(raw, m.end()))
                # gather the value, across lines while brackets are open
                value_parts = [(lineno, m.end(), raw)]
                depth = self._depth(raw[m.end():])
                j = i
                while depth > 0 and j + 1 < len(lines):
                    j += 1
                    value_parts.append((j + 1, 0, lines[j]))
                    depth += self._depth(lines[j])
                self._scan_value(path, value_parts)
                i = j + 1
                continue
            i += 1

    @staticmethod
    def _header(stripped: str) -> tuple:
        """The key path of a `[table]` or `[[array]]` header line (a comment may follow it)."""
        name = stripped.lstrip("[").split("]")[0]
        return tuple(part.strip().strip('"') for part in name.split("."))

    @staticmethod
    def _value_col(text: str, k: int) -> int:
        """1-based column of the value starting at text[k]: for a string, its first character."""
        for quote in ('"""', "'''", '"', "'"):
            if text.startswith(quote, k):
                return k + len(quote) + 1
        return k + 1

    @staticmethod
    def _depth(s: str) -> int:
        s = re.sub(r'"[^"]*"', '""', s.split("#")[0])
        return s.count("[") + s.count("{") - s.count("]") - s.count("}")

    def _scan_value(self, path, parts):
        """Record positions of array items and inline-table keys inside a value."""
        stack: list = []  # (kind, path, next index)
        for lineno, start, text in parts:
            k = start
            while k < len(text):
                c = text[k]
                if c == "#":
                    break
                cur = stack[-1] if stack else None
                if c in "[{":
                    if cur is None:
                        sub = path
                    elif cur[0] == "[":
                        sub = cur[1] + (cur[2],)
                        cur[2] += 1
                    else:
                        sub = cur[3] or cur[1]
                    self.pos.setdefault(sub, (lineno, k + 1))
                    stack.append([c, sub, 0, None])
                    k += 1
                    continue
                if c in "]}":
                    if stack:
                        stack.pop()
                    k += 1
                    continue
                if cur is not None and cur[0] == "{":
                    m = self._key.match(text, k)
                    if m and c not in ",":
                        cur[3] = cur[1] + self._key_path(m.group(1))
                        self.pos[cur[3]] = (lineno, m.start(1) + 1)
                        self.val[cur[3]] = (lineno, self._value_col(text, m.end()))
                        k = m.end()
                        continue
                if cur is not None and cur[0] == "[" and c not in " ,\t":
                    m = re.compile(r'"[^"]*"|[^,\]\s]+').match(text, k)
                    if m:
                        col = k + 2 if c == '"' else k + 1
                        self.pos[cur[1] + (cur[2],)] = self.val[cur[1] + (cur[2],)] = (lineno, col)
                        cur[2] += 1
                        k = m.end()
                        continue
                if cur is not None and cur[0] == "{" and c not in " ,\t" and cur[3]:
                    m = re.compile(r'"[^"]*"|[^,}\s]+').match(text, k)
                    if m:
                        k = m.end()
                        continue
                k += 1

    def find(self, path: tuple) -> tuple[int, int]:
        path = tuple(path)
        while path:
            if path in self.pos:
                return self.pos[path]
            path = path[:-1]
        return (1, 1)

    def find_value(self, path: tuple) -> tuple[int, int]:
        """Where the value at `path` starts; the key's place when the value was not found."""
        path = tuple(path)
        return self.val.get(path) or self.find(path)


@dataclass
class Located:
    """A spec value with where it was written."""
    value: object
    loc: SourceLoc


@dataclass
class EntrySpec:
    function: Located
    args: dict  # parameter name -> list[Located] (ints or C expression strings)
    loc: SourceLoc
    arg_locs: dict = field(default_factory=dict)  # parameter name -> where its key is written


@dataclass
class LifecycleSpec:
    struct: Located
    field: Located
    transitions: list  # [(Located from, Located to)]
    loc: SourceLoc


@dataclass
class InvariantSpec:
    name: str
    struct: Located
    expr: Located
    always: bool
    loc: SourceLoc


@dataclass
class FieldSpec:
    """A [[flags.field]]: a bit field of the flags word and the macros that encode and decode it."""
    # the encoder macro (one argument), or the field's name when it has none
    name: Located
    # the mask macro; None: NAME_MASK
    mask: Located | None
    # the decoder macro (one argument); None: inferred
    decode: Located | None
    # the shift: an integer or a macro name; None: NAME_SHIFT, else the mask's lowest set bit
    shift: Located | None
    # the C type of the encoder's argument (a CType)
    type: Located
    # the flag that announces an encoded value (KEXEC_MULTIKERNEL), or None
    with_: Located | None
    # (lo, hi): the ids the model's allocator hands out, or None
    allocator: Located | None
    # (lo, hi): the values callers encode, or None
    range: Located | None
    # macros whose values live inside the field
    values: list
    # where the table starts
    loc: SourceLoc


@dataclass
class SetSpec:
    """A [[flags.set]]: flags and fields meant to be combined, and how a syscall validates them."""
    # a name for messages (the syscall)
    name: Located
    # flag macros of the set
    flags: list
    # fields of the set (by field name or mask macro)
    fields: list
    # accepted iff (flags & ~mask) == 0; None if not given
    accept_mask: Located | None
    # a C expression over `flags`, accepted iff non-zero; None if not given
    accept: Located | None
    # where the table starts
    loc: SourceLoc


@dataclass
class FlagsSpec:
    """The [flags] section: which headers hold the encoding, its fields and its sets."""
    # header paths (Located strings), relative to the model directory; [] = every .h of the model
    headers: list
    # the C type of the flags word (a CType)
    type: Located
    # [[flags.field]] tables
    fields: list
    # [[flags.set]] tables
    sets: list
    # where [flags] starts
    loc: SourceLoc


@dataclass
class Spec:
    """A parsed, shape-checked spec; names are resolved by the front end."""
    path: Path
    display: str
    model: Path | None
    bounds: dict = field(default_factory=dict)          # key -> Located
    pools: dict = field(default_factory=dict)           # struct -> Located(int)
    entries: list = field(default_factory=list)
    lifecycles: list = field(default_factory=list)
    invariants: list = field(default_factory=list)
    flags: FlagsSpec | None = None                      # the [flags] section, if any
    text: str = ""
    model_loc: SourceLoc | None = None                  # where `model = "..."` is written

    def loc(self, *path) -> SourceLoc:
        """Where the key at `path` is written (for errors about the key itself)."""
        line, col = self._locator.find(path)
        return SourceLoc(self.display, line, col)

    def value_loc(self, *path) -> SourceLoc:
        """Where the value at `path` is written (for errors about the value)."""
        line, col = self._locator.find_value(path)
        return SourceLoc(self.display, line, col)


TOP_KEYS = {"model", "description", "bounds", "entry", "lifecycle", "invariant", "flags"}
BOUND_KEYS = {**BOUND_RANGES, "alloc_can_fail": None, "pools": None, "cpus_online": None}
ENTRY_KEYS = {"function", "args"}
LIFECYCLE_KEYS = {"struct", "field", "transitions"}
INVARIANT_KEYS = {"name", "struct", "expr", "when"}
_RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$")
#: what to do about a bound outside its range (spec.md, [bounds])
BOUND_HINTS = {
    "cpus": "bugs in object lifecycles show with 2 or 3 CPUs; the native engine runs at most 16 host CPUs",
    "host_cpus": "the CPUs that run entry points: 1 to cpus",
    "workers": "the worker threads that run work items, timers and call_rcu callbacks: 1 to 8",
    "idr_capacity": "an IDR of a few entries finds what a big one does; raise it when a run says the bound was hit",
    "depth": "0 means no depth bound",
    "max_states": "0 means the default bound (10,000,000); --max-states overrides it",
}


def display_path(p: Path) -> str:
    """Paths in messages: relative to the working directory when inside it."""
    return _display_path(str(p), os.getcwd())


@functools.lru_cache(maxsize=256)
def _display_path(p: str, cwd: str) -> str:
    # cached: the front end asks once per source location, and resolve() costs a stat per path part
    try:
        return str(Path(p).resolve().relative_to(Path(cwd).resolve()))
    except ValueError:
        return p


def load_spec(path: Path) -> Spec:
    path = Path(path)
    display = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise SpecError(SourceLoc(display), f"cannot read spec: {e.strerror}")
    try:
        text = raw.decode("utf-8")
        text = text.removeprefix("\ufeff")  # editors that write a byte-order mark hide it
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise SpecError(SourceLoc(display, line, col), "spec is not valid UTF-8", "save the file as UTF-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"at line (\d+), column (\d+)", str(e))
        lines = text.splitlines()
        if m:
            line, col = int(m.group(1)), int(m.group(2))
        else:  # "(at end of document)": just after the last text
            body = text.rstrip().splitlines() or [""]
            line, col = len(body), len(body[-1]) + 1
        msg = re.sub(r"\s*\((at line|at end of document).*\)$", "", str(e))
        hint = _toml_hint(msg)
        before = lines[line - 1][:col - 1] if 0 < line <= len(lines) else ""
        if msg.startswith("Invalid initial character for a key part") and before.rstrip().endswith("{"):
            hint = "an inline table { ... } must fit on one line; write a [table] for a longer one"
        raise SpecError(SourceLoc(display, line, col), f"malformed TOML: {msg[0].lower() + msg[1:]}", hint)
    spec = Spec(path=path, display=display, model=None, text=text)
    spec._locator = TomlLocator(text)

    def err(where, msg, hint=None):
        raise SpecError(spec.loc(*where), msg, hint)

    def bad_value(where, msg, hint=None):
        raise SpecError(spec.value_loc(*where), msg, hint)

    def unknown_keys(table: dict, allowed, where):
        for k in table:
            if k not in allowed:
                err(where + (k,), f"unknown key '{k}'", did_you_mean(k, allowed) or f"allowed keys: {', '.join(sorted(allowed))}")

    unknown_keys(data, TOP_KEYS, ())
    if "model" in data:
        if not isinstance(data["model"], str):
            bad_value(("model",), "'model' must be a path string")
        spec.model = (path.parent / data["model"]).resolve()
        spec.model_loc = spec.value_loc("model")

    bounds = data.get("bounds", {})
    if not isinstance(bounds, dict):
        err(("bounds",), "[bounds] must be a table")
    unknown_keys(bounds, BOUND_KEYS, ("bounds",))
    for k, v in bounds.items():
        where = ("bounds", k)
        if k == "pools":
            if not isinstance(v, dict):
                bad_value(where, "[bounds.pools] must be a table of struct = slots")
            for s, n in v.items():
                if not isinstance(n, int) or isinstance(n, bool) or not POOL_RANGE[0] <= n <= POOL_RANGE[1]:
                    bad_value(("bounds", "pools", s), f"pool size for {s} must be an integer in "
                                                      f"{POOL_RANGE[0]}..{POOL_RANGE[1]}, not {n!r}")
                spec.pools[s] = Located(n, spec.loc("bounds", "pools", s))
        elif k == "alloc_can_fail":
            if not isinstance(v, bool):
                bad_value(where, "alloc_can_fail must be true or false")
            spec.bounds[k] = Located(v, spec.loc(*where))
        elif k == "cpus_online":
            if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
                bad_value(where, "cpus_online must be a list of CPU numbers")
            spec.bounds[k] = Located(tuple(v), spec.loc(*where))
        else:
            lo, hi = BOUND_KEYS[k]
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                bad_value(where, f"bounds.{k} must be an integer in {lo}..{hi}, not {v!r}", BOUND_HINTS.get(k))
            spec.bounds[k] = Located(v, spec.loc(*where))
    cpus = spec.bounds.get("cpus", Located(2, None)).value
    host = spec.bounds.get("host_cpus", Located(min(cpus, 2), None)).value
    if host > cpus:
        bad_value(("bounds", "host_cpus"), f"host_cpus ({host}) cannot exceed cpus ({cpus})",
                  "raise cpus, or run the entry points on fewer CPUs")
    for n, c in enumerate(spec.bounds.get("cpus_online", Located((), None)).value):
        if not host <= c < cpus:
            err(("bounds", "cpus_online", n), f"cpus_online names CPU {c}, but non-host CPUs are {host}..{cpus - 1}")

    def array_of_tables(key: str) -> list:
        items = data.get(key, [])
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            err((key,), f"'{key}' must be written as [[{key}]] tables", f"start each one with a [[{key}]] line")
        return items

    entries = array_of_tables("entry")
    if not entries and "flags" not in data:
        err(("entry",) if "entry" in data else (), "the spec declares no entry point",
            'add an [[entry]] table: function = "my_syscall", args = { id = [1, 2] }')
    for n, e in enumerate(entries):
        where = ("entry", n)
        unknown_keys(e, ENTRY_KEYS, where)
        if not isinstance(e.get("function"), str):
            bad_value(where + ("function",), "an [[entry]] needs function = \"name\"")
        args = e.get("args", {})
        if not isinstance(args, dict):
            bad_value(where + ("args",), "args must be a table: { param = [values] }")
        doms = {}
        for pname, dom in args.items():
            doms[pname] = _domain(dom, where + ("args", pname), spec, bad_value)
        spec.entries.append(EntrySpec(Located(e["function"], spec.value_loc(*where, "function")), doms, spec.loc(*where),
                                      {p: spec.loc(*where, "args", p) for p in args}))

    for n, lc in enumerate(array_of_tables("lifecycle")):
        where = ("lifecycle", n)
        unknown_keys(lc, LIFECYCLE_KEYS, where)
        for k in ("struct", "field"):
            if not isinstance(lc.get(k), str):
                bad_value(where + (k,), f"a [[lifecycle]] needs {k} = \"name\"")
        trs = lc.get("transitions", [])
        if not isinstance(trs, list) or not trs:
            bad_value(where + ("transitions",), "transitions must be a non-empty list of \"FROM -> TO\" strings")
        pairs = []
        for k, t in enumerate(trs):
            loc = spec.loc(*where, "transitions", k)
            if not isinstance(t, str) or t.count("->") != 1:
                raise SpecError(loc, f"transition {t!r} is not of the form \"FROM -> TO\"")
            a, b = (s.strip() for s in t.split("->"))
            if not a or not b:
                raise SpecError(loc, f"transition {t!r} is missing a state")
            pairs.append((Located(a, loc), Located(b, SourceLoc(loc.file, loc.line, loc.col + t.index("->") + 3))))
        spec.lifecycles.append(LifecycleSpec(Located(lc["struct"], spec.value_loc(*where, "struct")),
                                             Located(lc["field"], spec.value_loc(*where, "field")), pairs,
                                             spec.loc(*where)))

    for n, inv in enumerate(array_of_tables("invariant")):
        where = ("invariant", n)
        unknown_keys(inv, INVARIANT_KEYS, where)
        for k in ("struct", "expr"):
            if not isinstance(inv.get(k), str) or not inv[k].strip():
                bad_value(where + (k,), f"an [[invariant]] needs {k} = \"...\"")
        if not isinstance(inv.get("name", ""), str):
            bad_value(where + ("name",), "an invariant's name must be a string")
        when = inv.get("when", "quiescent")
        if when not in ("quiescent", "always"):
            bad_value(where + ("when",), f"when must be \"quiescent\" or \"always\", not {when!r}")
        spec.invariants.append(InvariantSpec(str(inv.get("name", f"invariant-{n}")),
                                             Located(inv["struct"], spec.value_loc(*where, "struct")),
                                             Located(inv["expr"], spec.value_loc(*where, "expr")),
                                             when == "always", spec.loc(*where)))
    if "flags" in data:
        spec.flags = _flags_section(data["flags"], spec, err, bad_value, unknown_keys)
    return spec


def _toml_hint(msg: str) -> str | None:
    """A likely cause for some of tomllib's messages."""
    if msg.startswith("Illegal character '\\n'"):
        return 'close the string on the same line (a string over several lines is written """...""")'
    if msg.startswith("Cannot overwrite a value"):
        return "a key is given twice in the same table"
    if msg.startswith("Invalid value"):
        return 'strings are quoted ("name"), lists are [1, 2], tables are { key = value }'
    if msg.startswith(("Unclosed", "Unterminated")):
        return "close it before the end of the file"
    return None


def _domain(dom, where, spec, err) -> list:
    """A finite argument domain: a list of ints / C constant expressions, or "lo..hi".

    `err` places its message at the value (the list or the range string), not at the key."""
    if isinstance(dom, str):
        m = _RANGE.match(dom)
        if not m:
            err(where, f"domain {dom!r} is neither a list nor a range \"lo..hi\"")
        lo, hi = int(m.group(1)), int(m.group(2))
        if lo > hi:
            err(where, f"domain range {dom!r} is inverted (lo > hi)", f"write \"{hi}..{lo}\"")
        if hi - lo + 1 > MAX_DOMAIN:
            err(where, f"domain range {dom!r} has {hi - lo + 1} values; at most {MAX_DOMAIN} are explored",
                "pick the values that matter: boundaries and one of each class")
        loc = spec.value_loc(*where)
        return [Located(v, loc) for v in range(lo, hi + 1)]
    if not isinstance(dom, list):
        err(where, "an argument domain is a list of values or a range \"lo..hi\"")
    if not dom:
        err(where, "empty argument domain: the entry point could never be called", "give at least one value")
    if len(dom) > MAX_DOMAIN:
        err(where, f"the domain has {len(dom)} values; at most {MAX_DOMAIN} are explored",
            "pick the values that matter: boundaries and one of each class")
    out = []
    for k, v in enumerate(dom):
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            err(where + (k,), f"domain value {v!r} must be an integer or a C constant expression string")
        out.append(Located(v, spec.loc(*where, k)))
    return out


FLAGS_KEYS = {"headers", "type", "field", "set"}
FIELD_KEYS = {"name", "mask", "decode", "shift", "type", "with", "allocator", "range", "values"}
SET_KEYS = {"name", "flags", "fields", "accept_mask", "accept"}
_INT_RANGE = re.compile(r"^\s*(-?(?:0[xX][0-9a-fA-F]+|\d+))\s*\.\.\s*(-?(?:0[xX][0-9a-fA-F]+|\d+))\s*$")


def _flags_section(data, spec: Spec, err, bad_value, unknown_keys) -> FlagsSpec:
    """The [flags] section, shape-checked; macro names are resolved by mkverify.flags."""
    from .flags.ctype import ULONG
    if not isinstance(data, dict):
        err(("flags",), "[flags] must be a table", "write [flags], then [[flags.field]] and [[flags.set]] tables")
    unknown_keys(data, FLAGS_KEYS, ("flags",))
    headers = data.get("headers", [])
    if not isinstance(headers, list) or not all(isinstance(h, str) and h.strip() for h in headers):
        bad_value(("flags", "headers"), "headers must be a list of header paths (strings)",
                  'e.g. headers = ["uapi_kexec.h"], relative to the model directory')
    word = _ctype(data, ("flags",), spec, bad_value, ULONG)
    fields = [_field_spec(f, ("flags", "field", n), spec, err, bad_value, unknown_keys)
              for n, f in enumerate(_tables(data, "field", spec, err))]
    sets = [_set_spec(s, ("flags", "set", n), spec, bad_value, unknown_keys)
            for n, s in enumerate(_tables(data, "set", spec, err))]
    return FlagsSpec([Located(h, spec.value_loc("flags", "headers", k)) for k, h in enumerate(headers)],
                     word, fields, sets, spec.loc("flags"))


def _tables(data: dict, key: str, spec: Spec, err) -> list:
    items = data.get(key, [])
    if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
        err(("flags", key), f"'flags.{key}' must be written as [[flags.{key}]] tables",
            f"start each one with a [[flags.{key}]] line")
    return items


def _ctype(table: dict, where: tuple, spec: Spec, bad_value, default) -> Located:
    """The C integer type named by table["type"], or `default`."""
    from .flags.ctype import parse_type
    if "type" not in table:
        return Located(default, spec.loc(*where))
    t = parse_type(table["type"]) if isinstance(table["type"], str) else None
    if t is None:
        bad_value(where + ("type",), f"type {table['type']!r} is not a C integer type",
                  'e.g. "int", "unsigned int", "unsigned long", "u32", "__u64"')
    return Located(t, spec.value_loc(*where, "type"))


def _name(table: dict, key: str, where: tuple, spec: Spec, bad_value, required: bool = False) -> Located | None:
    """A macro name (an identifier) at table[key]."""
    if key not in table:
        if required:
            bad_value(where, f"a [[{'.'.join(w for w in where if isinstance(w, str))}]] needs {key} = \"NAME\"")
        return None
    v = table[key]
    if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z_]\w*", v.strip()):
        bad_value(where + (key,), f"{key} must be a macro name, not {v!r}")
    return Located(v.strip(), spec.value_loc(*where, key))


def _names(table: dict, key: str, where: tuple, spec: Spec, bad_value) -> list:
    v = table.get(key, [])
    if not isinstance(v, list):
        bad_value(where + (key,), f"{key} must be a list of macro names")
    for k, x in enumerate(v):
        if not isinstance(x, str) or not re.fullmatch(r"[A-Za-z_]\w*", x.strip()):
            bad_value(where + (key, k), f"{key} must be a list of macro names, not {x!r}")
    return [Located(x.strip(), spec.value_loc(*where, key, k)) for k, x in enumerate(v)]


def _int_range(table: dict, key: str, where: tuple, spec: Spec, bad_value, t) -> Located | None:
    """table[key] as "lo..hi" (decimal or hex), non-empty and inside the C type `t`."""
    if key not in table:
        return None
    v = table[key]
    m = _INT_RANGE.match(v) if isinstance(v, str) else None
    if not m:
        bad_value(where + (key,), f"{key} must be a range \"lo..hi\", not {v!r}", 'e.g. "1..2047" or "0..0x7ff"')
    lo, hi = int(m.group(1), 0), int(m.group(2), 0)
    if lo > hi:
        bad_value(where + (key,), f"{key} {v!r} is empty (lo > hi)", f"write \"{m.group(2)}..{m.group(1)}\"")
    if not (t.holds(lo) and t.holds(hi)):
        bad_value(where + (key,), f"{key} {v!r} does not fit the field's type {t.name} ({t.min}..{t.max})",
                  'declare the encoder\'s argument type with type = "..." or narrow the range')
    return Located((lo, hi), spec.value_loc(*where, key))


def _field_spec(f: dict, where: tuple, spec: Spec, err, bad_value, unknown_keys) -> FieldSpec:
    from .flags.ctype import INT
    unknown_keys(f, FIELD_KEYS, where)
    t = _ctype(f, where, spec, bad_value, INT)
    shift = f.get("shift")
    if shift is not None and not (isinstance(shift, str) or (isinstance(shift, int) and not isinstance(shift, bool))):
        bad_value(where + ("shift",), "shift must be an integer or a macro name")
    if isinstance(shift, int) and not 0 <= shift < 64:
        bad_value(where + ("shift",), f"shift {shift} is not in 0..63")
    shift_loc = None
    if isinstance(shift, int):
        shift_loc = Located(shift, spec.value_loc(*where, "shift"))
    elif shift is not None:
        shift_loc = _name(f, "shift", where, spec, bad_value)
    return FieldSpec(_name(f, "name", where, spec, bad_value, required=True), _name(f, "mask", where, spec, bad_value),
                     _name(f, "decode", where, spec, bad_value), shift_loc, t,
                     _name(f, "with", where, spec, bad_value),
                     _int_range(f, "allocator", where, spec, bad_value, t.value),
                     _int_range(f, "range", where, spec, bad_value, t.value),
                     _names(f, "values", where, spec, bad_value), spec.loc(*where))


def _set_spec(s: dict, where: tuple, spec: Spec, bad_value, unknown_keys) -> SetSpec:
    unknown_keys(s, SET_KEYS, where)
    if not isinstance(s.get("name"), str) or not s["name"].strip():
        bad_value(where + ("name",) if "name" in s else where, 'a [[flags.set]] needs name = "..." (the syscall)')
    accept = s.get("accept")
    if accept is not None and (not isinstance(accept, str) or not accept.strip()):
        bad_value(where + ("accept",), "accept must be a C expression over flags (a string)")
    if accept is not None and "accept_mask" in s:
        bad_value(where + ("accept",), "give accept_mask or accept, not both")
    flags, fields = _names(s, "flags", where, spec, bad_value), _names(s, "fields", where, spec, bad_value)
    if not flags and not fields:
        bad_value(where, "a [[flags.set]] needs flags = [...] or fields = [...]")
    return SetSpec(Located(s["name"], spec.value_loc(*where, "name")), flags, fields,
                   _name(s, "accept_mask", where, spec, bad_value),
                   Located(accept, spec.value_loc(*where, "accept")) if accept is not None else None,
                   spec.loc(*where))
