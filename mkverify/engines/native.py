"""The C enumerator's Python half: lowering an ir.Program to the image
`mkverify/_explore.c` runs, and turning what it finds into a ModelResult.

The layout of memory, the numbering of allocation sites and the order of
successors all come from machine.py's `Machine`, so the two engines cannot
drift apart on anything but the step semantics, which tests/test_native.py
holds equal state for state. The C side reports each finding as a key and a
path of labels; the trace is replayed here with machine.py and rendered
exactly as the reference renders it (which also re-checks every step the C
side took).

The image is one array of int64: a header (H_* in _explore.c), then tables,
then bytecode. Expressions are postfix; instructions are records whose first
two words are the opcode and a location id.
"""
from __future__ import annotations

from array import array
import os
import sys

from .. import core, ir, kernel
from ..diag import IRError, SourceLoc, UsageError
from ..ir import ArrayT, IntT, PtrT
from ..machine import Machine, ModelRuntimeError, SILENT_BUDGET, kind_error
from ..result import Finding, ModelResult, Stats
from .reference import DEFAULT_MAX_STATES, coverage, describe, exhausted_notes, sort_findings
from ..vacuity import Holds, coverage as invariant_coverage, witnesses

MAGIC = 0x6d6b7665726679
VERSION = 5
(H_MAGIC, H_VERSION, H_NCELLS, H_BASE, H_NTHREADS, H_NCPU, H_NFUNCS, H_FUNCS, H_NSLOTS, H_SLOTS, H_NPOOLS, H_POOLS,
 H_CELLS, H_INIT, H_CPUCELLS, H_NCHOICES, H_CHOICES, H_NLC, H_LCS, H_NINV, H_INVS, H_NCTX, H_CTXS, H_ROOTS,
 H_NSITES, H_MAXDEPTH, H_MAXLOC, H_ALLOCFAIL, H_IDRCAP, H_LEAKED, H_NLOCS, H_REDUCE, H_NSTRUCTS, H_LEVELS,
 H_SYMPOOLS, H_ATOMIC, H_NPROGS, H_PROGS, H_NKEYS, H_MAXREGS, H_SYMTHREADS, H_RCUDEPTH, H_NWORKERS, H_HOSTCH,
 H_NDEFER, H_DEFER, H_WRUNS, H_SIZE) = range(48)

INV_ALWAYS, INV_WITNESS = 1, 2  # the flags of an invariant record (_explore.c)
KINDS = {"int": 0, "ptr": 1, "status": 2, "site": 3, "cpu-state": 4, "cpu-image": 5, "idr-key": 6, "idr-ptr": 7,
         "list_head": 8, "mutex": 9, "spinlock": 9, "kref": 10, "refcount": 10, "atomic": 10, "cpumask": 11,
         "rwsem": 12, "rwlock": 13, "completion": 14, "waitq": 0, "work": 15, "timer": 16, "rcu_head": 17,
         "kobject": 18, "ktype": 19}
I_SET, I_LOAD, I_STORE, I_PRIM, I_BRANCH, I_JUMP, I_CALL, I_RET, I_CHECK = range(9)
(E_END, E_CONST, E_VAR, E_ADDC, E_INDEX, E_BIN, E_NOT, E_NEG, E_BNOT, E_CAST, E_JZ, E_JNZ, E_BOOL, E_DEREF,
 E_QUERY, E_HOLDS) = range(16)
BINOPS = {op: k for k, op in enumerate(["+", "-", "*", "/", "%", "<<", ">>", "&", "|", "^",
                                        "==", "!=", "<", "<=", ">", ">="])}
UREC = core.UREC  # words of a micro-operation record (_core.h)
NBOUNDS = 16      # bound messages a model may have (_explore.c)
PF = {name: 1 << k for k, name in enumerate(core.PROGRAM_FLAGS)}  # a micro-program's flags (_core.h)

#: violation key codes (V_* in _explore.c) and the head of machine.py's key for each; codes from V_N on are the
#: keys of the primitives' fail and warn (Lowered.keys)
V_HEADS = ["null", "uaf", "wild", "oob", "div0", "assertion", "invalid-free", "double-free", "illegal-transition",
           "freed-on-list", "freed-locked", "held-at-return", "cpu-executes-freed", "deadlock", "dangling", "leak",
           "invariant"]
STATE_KEYS = {"cpu-executes-freed", "deadlock", "dangling", "leak", "invariant"}
INT64 = (-(1 << 63), (1 << 63) - 1)


def _bits(n: int) -> int:
    """Bits to hold 0..n."""
    return max(1, int(n).bit_length())


class Lowered:
    """An ir.Program as the C enumerator's image, with the tables to map its answers back."""

    def __init__(self, program: ir.Program, reduce_private: bool = True, symmetry: bool = True,
                 atomic: bool = False):
        self.p = program
        self.symmetry = symmetry
        self.atomic = atomic
        self.m = m = Machine(program, reduce_private=reduce_private, atomic=atomic)
        if m.nthreads > 16:
            raise UsageError(program.bounds_loc if hasattr(program, "bounds_loc") else SourceLoc("<spec>"),
                             f"the native engine runs at most 16 threads (host CPUs and workers), the spec has "
                             f"{m.nthreads}", "use --engine python")
        self.locs: list[SourceLoc] = []
        self.loc_id: dict = {}
        self.structs = sorted({s.struct for s in m.slots})
        self.struct_id = {n: k for k, n in enumerate(self.structs)}
        self.pool_names = [name for name, _ in program.bounds.pools]
        self.img = array("q", [0] * H_SIZE)
        self.holds_ops: list = []  # (offset of an E_HOLDS, offset of the expression it is in)
        self.progs: dict = {}      # (primitive, aux) -> its number in the program table
        self.prog_recs: list = []  # per program: (micro-program, flags)
        self.keys: list = []       # per key code - V_N: (check, head, values) of a primitive's finding
        self.key_id: dict = {}
        self.bounds: list = []     # per bound number: (message, hint)
        self._build()

    # ------------------------------------------------------------ helpers

    def loc(self, loc: SourceLoc) -> int:
        k = self.loc_id.get(loc)
        if k is None:
            k = self.loc_id[loc] = len(self.locs)
            self.locs.append(loc)
        return k

    def here(self) -> int:
        return len(self.img)

    def table(self, values) -> int:
        off = self.here()
        self.img.extend(values)
        return off

    def const(self, v: int, loc: SourceLoc) -> int:
        if not INT64[0] <= v <= INT64[1]:
            raise UsageError(loc, f"the constant {v} does not fit in 64 bits", "use --engine python")
        return v

    # ------------------------------------------------------------ expressions

    def expr(self, e, inv: bool = False) -> int:
        """Emit e followed by E_END; returns its offset."""
        off = self.here()
        self.holds = []
        self._e(e, inv)
        self.img.append(E_END)
        # the operands of Holds (witnesses only): whole expressions of their own, after this one
        pending, self.holds = self.holds, []
        for patch, sub in pending:
            self.img[patch] = self.expr(sub, inv)
            self.holds_ops.append((patch - 1, off))  # for the tests of the extension's validation
        return off

    @staticmethod
    def _wt(t):
        """(bits, signed) of the wrap to type t: (0, 0) for no wrap."""
        if isinstance(t, IntT):
            return t.bits, int(t.signed)
        return 0, 0

    def _e(self, e, inv):
        out = self.img
        k = type(e)
        if k is ir.Const:
            out.extend((E_CONST, self.const(e.value, e.loc)))
        elif k is ir.Var:
            out.extend((E_VAR, e.index))
        elif k is ir.GlobalAddr:
            out.extend((E_CONST, self.m.gaddr[e.name]))
        elif k is ir.FieldAddr:
            self._e(e.base, inv)
            out.extend((E_ADDC, ir.field_offset(e.struct, e.field, self.p)))
        elif k is ir.ContainerOf:
            self._e(e.ptr, inv)
            out.extend((E_ADDC, -ir.field_offset(e.struct, e.field, self.p)))
        elif k is ir.IndexAddr:
            at = e.base.type.target if isinstance(e.base.type, PtrT) else None
            if not isinstance(at, ArrayT):
                raise IRError(e.loc, "internal: index of a non-array")
            self._e(e.base, inv)
            self._e(e.index, inv)
            out.extend((E_INDEX, at.n, ir.sizeof(at.elem, self.p), self.loc(e.loc)))
        elif k is ir.Bin:
            if e.op in ("&&", "||"):
                self._e(e.left, inv)
                out.extend((E_JZ if e.op == "&&" else E_JNZ, 0))
                patch = len(out) - 1
                self._e(e.right, inv)
                out.append(E_BOOL)
                out[patch] = len(out)
                return
            self._e(e.left, inv)
            self._e(e.right, inv)
            bits, sg = self._wt(e.type)
            out.extend((E_BIN, BINOPS[e.op], bits, sg, self.loc(e.loc)))
        elif k is ir.Un:
            self._e(e.operand, inv)
            if e.op == "!":
                out.append(E_NOT)
            else:
                out.extend((E_NEG if e.op == "-" else E_BNOT, *self._wt(e.type)))
        elif k is ir.Cast:
            self._e(e.operand, inv)
            if isinstance(e.type, IntT):
                out.extend((E_CAST, *self._wt(e.type)))
        elif k is ir.Deref and inv:
            self._e(e.addr, inv)
            out.extend((E_DEREF, self.loc(e.loc)))
        elif k is ir.Query and inv and len(e.args) == 1 and e.name in kernel.QUERIES:
            self._e(e.args[0], inv)
            out.extend((E_QUERY, self.program(e.name, query=True), 1))
        elif k is Holds and inv:
            out.extend((E_HOLDS, 0))
            self.holds.append((len(out) - 1, e.operand))
        else:
            raise IRError(getattr(e, "loc", SourceLoc("<ir>")), f"internal: cannot lower {type(e).__name__}")

    # ------------------------------------------------------------ the image

    def _build(self):
        m, p, img = self.m, self.p, self.img
        funcs = m.funcs
        # expressions and instruction records, function by function
        pcoffs, locinfos, deads = [], [], []
        movers = m.movers or [[0] * len(f.body) for f in funcs]  # read by the C side only with H_ATOMIC
        for fi, f in enumerate(funcs):
            offs = []
            for ins in f.body:
                offs.append(self._instr(ins, f))
            pcoffs.append(offs)
            locinfos.append([x for v in f.locals for x in (*self._wt(v.type), int(isinstance(v.type, PtrT)))])
            deads.append(m.dead[fi])
        func_recs = []
        for fi, f in enumerate(funcs):
            pco = self.table(pcoffs[fi])
            li = self.table(locinfos[fi])
            dl = [self.table([len(d), *d]) for d in deads[fi]]
            do = self.table(dl)
            mv = self.table(movers[fi])
            func_recs.append((len(f.locals), f.nparams, len(f.body), pco, li, do, mv))
        img[H_FUNCS] = self.table(x for r in func_recs for x in r)
        # cells, slots, pools, CPUs
        img[H_CELLS] = self.table(x for c in m.cells for x in (KINDS[c.kind], c.owner, c.lifecycle))
        img[H_INIT] = self.table(m.init_mem)
        img[H_CPUCELLS] = self.table(x for c in range(m.ncpu) for x in (m.cpu_state[c], m.cpu_image[c]))
        img[H_SLOTS] = self.table(x for s in m.slots
                                  for x in (s.base, s.status, s.site, s.size, self.struct_id[s.struct]))
        pools = []
        for name in self.pool_names:
            ids = m.pool_slots[name]
            if ids != list(range(ids[0], ids[0] + len(ids))) if ids else False:
                raise IRError(SourceLoc("<spec>"), "internal: pool slots are not contiguous")
            pools.extend((ids[0] if ids else 0, len(ids)))
        img[H_POOLS] = self.table(pools)
        # entry choices: the arguments already converted to the parameters' types
        choices = []
        for ei, fi, args in m.entry_choices:
            f = funcs[fi]
            choices.append(self.table([fi, len(args), *(m.wrap(a, f.locals[k].type) for k, a in enumerate(args))]))
        img[H_CHOICES] = self.table(choices)
        img[H_LCS] = self.table([self.table([len(lc.transitions), *(x for t in lc.transitions for x in t)])
                                 for lc in p.lifecycles])
        invs = []
        for inv in p.invariants:
            pool = self.pool_names.index(inv.struct) if inv.struct in self.pool_names else -1
            invs.append((pool, self.expr(inv.expr, inv=True), INV_ALWAYS * int(inv.always)))
        # after the invariants, their witnesses (vacuity.py): records the enumerator only marks as seen
        self.witness_of = []
        for v, inv in enumerate(p.invariants):
            pool = self.pool_names.index(inv.struct) if inv.struct in self.pool_names else -1
            for k, w in enumerate(witnesses(inv)):
                self.witness_of.append((v, k))
                invs.append((pool, self.expr(w, inv=True), INV_ALWAYS * int(inv.always) | INV_WITNESS))
        img[H_INVS] = self.table(x for r in invs for x in r)
        self._contexts()
        progs = []
        for ops, nregs, flags, nargs in self.prog_recs:
            progs.extend((self.table(x for op in ops for x in op), len(ops), nregs, flags, nargs))
        img[H_PROGS] = self.table(progs)
        self.sym_pools = self._symmetric_pools()
        img[H_SYMPOOLS] = self.table(int(name in self.sym_pools) for name in self.pool_names)
        h = {H_MAGIC: MAGIC, H_VERSION: VERSION, H_NCELLS: m.ncells, H_BASE: m.base, H_NTHREADS: m.nthreads,
             H_NCPU: m.ncpu, H_NFUNCS: len(funcs), H_NSLOTS: len(m.slots), H_NPOOLS: len(self.pool_names),
             H_NCHOICES: len(m.entry_choices), H_NLC: len(p.lifecycles), H_NINV: len(invs),
             H_NSITES: len(m.site_paths), H_MAXLOC: max((len(f.locals) for f in funcs), default=0),
             H_ALLOCFAIL: int(p.bounds.alloc_can_fail), H_IDRCAP: p.bounds.idr_capacity, H_LEAKED: m.leaked_owner,
             H_NLOCS: max(1, len(self.locs)), H_REDUCE: int(m.reduce_private), H_NSTRUCTS: len(self.structs),
             H_ATOMIC: int(self.atomic), H_NPROGS: len(self.prog_recs), H_NKEYS: len(self.keys),
             H_MAXREGS: max([1] + [r[1] for r in self.prog_recs]),
             # RCU's cells belong to one host CPU each: renaming threads would have to move them too
             H_SYMTHREADS: int(m.threads_symmetric),
             H_RCUDEPTH: m.shape.rcu_depth[0] if m.shape.rcu_depth else -1,
             H_NWORKERS: m.nworkers, H_HOSTCH: m.nhost_choices, H_NDEFER: len(m.shape.deferred),
             H_DEFER: self.table(m.shape.deferred), H_WRUNS: self.table(m.shape.worker_runs)}
        for k, v in h.items():
            img[k] = v
        if not self.locs:
            self.locs.append(SourceLoc("<none>"))

    def _symmetric_pools(self) -> set:
        """The pools whose slots the enumerator may treat as interchangeable.
        Renaming slots keeps every behaviour only if the model never orders addresses (`<` on pointers,
        pointer differences) and never turns a pointer into an integer."""
        if not self.symmetry or self.m.nworkers:
            return set()  # (a worker's runs cell and entry choices name item addresses)
        why = []

        def walk(e):
            if isinstance(e, ir.Bin):
                if isinstance(e.left.type, PtrT) and isinstance(e.right.type, PtrT) and \
                        e.op in ("<", "<=", ">", ">=", "-"):
                    why.append(f"{e.loc}: compares or subtracts addresses")
                walk(e.left)
                walk(e.right)
            elif isinstance(e, ir.Cast):
                if isinstance(e.type, IntT) and isinstance(e.operand.type, PtrT):
                    why.append(f"{e.loc}: turns a pointer into an integer")
                walk(e.operand)
            else:
                for name in ("base", "index", "ptr", "operand", "addr"):
                    sub = getattr(e, name, None)
                    if isinstance(sub, ir.EXPR_NODES):
                        walk(sub)
                for a in getattr(e, "args", ()) or ():
                    walk(a)

        for f in self.m.funcs:
            for ins in f.body:
                for name in ("expr", "addr", "value", "cond"):
                    sub = getattr(ins, name, None)
                    if isinstance(sub, ir.EXPR_NODES):
                        walk(sub)
                for a in getattr(ins, "args", ()) or ():
                    walk(a)
        for inv in self.p.invariants:
            walk(inv.expr)
        if why:
            return set()
        return {name for name, n in self.p.bounds.pools if 2 <= n <= 8}

    def _instr(self, ins, f) -> int:
        loc = self.loc(ins.loc)
        k = type(ins)
        if k is ir.Set:
            e = self.expr(ins.expr)
            return self.table((I_SET, loc, ins.dst, e))
        if k is ir.Load:
            e = self.expr(ins.addr)
            return self.table((I_LOAD, loc, ins.dst, e))
        if k is ir.Store:
            a, v = self.expr(ins.addr), self.expr(ins.value)
            return self.table((I_STORE, loc, a, v, *self._wt(ins.type)))
        if k is ir.Prim:
            args = [self.expr(a) for a in ins.args]
            mask = sum(1 << j for j, a in enumerate(ins.args) if isinstance(a.type, PtrT))
            d = kernel.PRIMS[ins.name]
            if d.aux == "struct":
                aux = self.pool_names.index(ins.aux)
            elif d.aux == "release":
                aux = self.m.fidx[ins.aux]
            else:
                aux = -1
            return self.table((I_PRIM, loc, self.program(ins.name), ins.dst, aux, len(args), mask, *args))
        if k is ir.Branch:
            c = self.expr(ins.cond)
            return self.table((I_BRANCH, loc, c, ins.then, ins.other))
        if k is ir.Jump:
            return self.table((I_JUMP, loc, ins.target))
        if k is ir.Call:
            args = [self.expr(a) for a in ins.args]
            return self.table((I_CALL, loc, self.m.fidx[ins.func], ins.dst, len(args), *args))
        if k is ir.Ret:
            v = self.expr(ins.value) if ins.value is not None else -1
            return self.table((I_RET, loc, v))
        if k is ir.Check:
            c = self.expr(ins.cond)
            return self.table((I_CHECK, loc, int(ins.kind == "BUG_ON"), c))
        raise IRError(ins.loc, f"internal: cannot lower {k.__name__}")

    def program(self, name: str, query: bool = False) -> int:
        """The number of primitive (or query) `name`'s micro-program (core.trace) for this model, compiled on
        first use."""
        if (name, query) in self.progs:
            return self.progs[(name, query)]
        m = self.m
        mp = core.trace(name, m.shape, query)
        d = (kernel.QUERIES if query else kernel.PRIMS)[name]
        keys = []
        for check, head in mp.keys:
            kk = (check, head)
            if kk not in self.key_id:
                self.key_id[kk] = len(self.keys)
                self.keys.append(kk)
            keys.append(self.key_id[kk])
        bounds = []
        for b in mp.bounds:
            if b not in self.bounds:
                self.bounds.append(b)
            bounds.append(self.bounds.index(b))
        if len(self.bounds) > NBOUNDS:
            raise IRError(SourceLoc("<mkverify>"), f"internal: more than {NBOUNDS} bound messages")
        ops = []
        for op in mp.ops:
            name_, *xs = op
            if name_ in ("fail", "warn"):
                xs[0] = keys[xs[0]]
            elif name_ == "bound":
                xs[0] = bounds[xs[0]]
            elif name_ in ("cell", "objbase"):
                xs = xs[:-1] + [0]  # the `what` text: the reference's messages only
            ops.append([core.OP_IDS[name_], *xs] + [0] * (UREC - 1 - len(xs)))
        if query:
            flags = PF["query"]
        else:
            flags = (PF["private"] * d.private | PF["awaits"] * mp.awaits |
                     sum(PF[e] for e in ("alloc", "free", "call", "choice") if e in mp.effects))
        self.progs[(name, query)] = len(self.prog_recs)
        self.prog_recs.append((ops, mp.nregs, flags, len(d.args)))
        return self.progs[(name, query)]

    def _contexts(self):
        """Call contexts: one per call path from an entry point to a function. A frame's context and
        pc give the site (machine.py site_of) of a kzalloc/kfree, or the context of a callee."""
        m, img = self.m, self.img
        ctx_of: dict = {}
        order: list = []

        def visit(path, fi):
            key = (path, fi)
            if key in ctx_of:
                return ctx_of[key]
            c = ctx_of[key] = len(order)
            order.append((fi, path))
            return c

        roots = [-1] * len(m.funcs)
        stack = []
        for fname in m.roots():
            fi = m.fidx[fname]
            roots[fi] = visit((), fi)
            stack.append(((), fi))
        tables = {}
        depth = 1
        while stack:
            path, fi = stack.pop()
            c = ctx_of[(path, fi)]
            if c in tables:
                continue
            depth = max(depth, len(path) + 1)
            row = []
            for pc, ins in enumerate(m.funcs[fi].body):
                here = path + ((fi, pc),)
                if isinstance(ins, ir.Prim) and core.has_site(ins.name):
                    row.append(m.site_of[here])
                elif isinstance(ins, ir.Call) or (isinstance(ins, ir.Prim) and core.calls_aux(ins.name)):
                    callee = m.fidx[ins.func if isinstance(ins, ir.Call) else ins.aux]
                    row.append(visit(here, callee))
                    stack.append((here, callee))
                else:
                    row.append(-1)
            tables[c] = row
        self.ctx_order = order  # context number -> (function, call path to it): where a store was made
        recs = []
        self.level_funcs = [set() for _ in range(depth)]
        for c, (fi, path) in enumerate(order):
            recs.extend((fi, self.table(tables[c])))
            self.level_funcs[len(path)].add(fi)
        img[H_CTXS] = self.table(recs)
        img[H_NCTX] = len(order)
        # per stack level, room for the locals of the largest function that can run there
        self.level_locs = [max((len(m.funcs[fi].locals) for fi in fs), default=0) for fs in self.level_funcs]
        img[H_LEVELS] = self.table(self.level_locs)
        img[H_ROOTS] = self.table(roots)
        img[H_MAXDEPTH] = depth

    # ------------------------------------------------------------ the state layout

    def layout(self) -> tuple[bytes, bytes]:
        """Initial widths and biases of every slot of the working vector. Slots get the range their
        type suggests (pointers: every address; counters and ints: a byte; a frame's locals: those of the
        functions that can run at that depth, nothing where none can); the C side widens any slot a value
        outgrows, so these only need to be good guesses."""
        m = self.m
        addr = _bits(m.base + m.ncells)
        known = {"status": (2, 0), "cpu-state": (2, 0), "site": (_bits(len(m.site_paths)), 0), "ptr": (addr, 0),
                 "idr-ptr": (addr, 0), "cpu-image": (addr, 0), "list_head": (addr, 0),
                 "mutex": (_bits(m.leaked_owner), 0), "spinlock": (_bits(m.leaked_owner), 0),
                 "kref": (4, 0), "refcount": (4, 0), "atomic": (4, 1), "cpumask": (m.ncpu, 0), "idr-key": (6, 0)}

        def of_type(t):
            if isinstance(t, PtrT):
                return addr, 0
            if isinstance(t, IntT):
                if t.bits == 1:
                    return 1, 0
                return (8, 1) if t.signed else (8, 0)
            return 0, 0

        def join(a, b):
            (wa, sa), (wb, sb) = a, b
            if sa != sb:  # an unsigned range inside a signed one needs a bit more
                w = max(wa + (1 - sa), wb + (1 - sb))
                return min(w, 64), 1
            return max(wa, wb), sa

        slots = []
        for c in m.cells:
            if c.kind in known:
                slots.append(known[c.kind])
            elif c.kind == "int":
                slots.append(of_type(c.type))
            else:
                slots.append((8, 1))
        maxloc = self.img[H_MAXLOC]
        thread = [(_bits(self.img[H_MAXDEPTH]), 0)]
        for level in range(self.img[H_MAXDEPTH]):
            fs = [m.funcs[fi] for fi in sorted(self.level_funcs[level])]
            frame = [(_bits(len(m.funcs)), 0), (_bits(max((len(f.body) for f in fs), default=1)), 0),
                     (0, 0) if level == 0 else (_bits(maxloc) + 1, 1)]
            for j in range(self.level_locs[level]):
                w = (0, 0)
                for f in fs:
                    if j < len(f.locals):
                        w = join(w, of_type(f.locals[j].type))
                frame.append(w)
            thread += frame
        slots += thread * m.nthreads
        widths = bytes(w for w, _ in slots)
        los = array("q", [-(1 << (w - 1)) if sg and w else 0 for w, sg in slots])
        return widths, los.tobytes()

    # ------------------------------------------------------------ mapping answers back

    def label(self, code: int):
        nlab = len(self.m.entry_choices) + 2
        t, k = divmod(code, nlab)
        n = len(self.m.entry_choices)
        return (t, ("entry", k)) if k < n else (t, ("run", k - n))

    def py_key(self, ck) -> tuple:
        """machine.py's Violation.key for the C side's key."""
        a, b, c = ck[1], ck[2], ck[3]
        if ck[0] >= len(V_HEADS):  # a primitive's fail or warn: (head, loc, values...)
            _check, head = self.keys[ck[0] - len(V_HEADS)]
            return (head, self.locs[a])
        head = V_HEADS[ck[0]]
        if head in ("cpu-executes-freed", "dangling", "leak"):
            return (head, self.structs[a], b)
        if head == "deadlock":
            locs = [self.locs[x] for x in ck[2:2 + a]]
            return (head, tuple(sorted((l.file, l.line, l.col) for l in locs)))
        if head == "invariant":
            return (head, self.p.invariants[a].name)
        if head == "illegal-transition":
            return (head, self.locs[a], b, c)
        if head == "held-at-return":
            return (head, self.locs[a], b)
        return (head, self.locs[a])

    def encode(self, state) -> list[int]:
        """machine.py's state as the C working vector (decode's inverse)."""
        mem, threads = state
        vec = list(mem)
        for frames in threads:
            vec.append(len(frames))
            for level, n in enumerate(self.level_locs):
                if level < len(frames):
                    fi, pc, lv, dst = frames[level]
                    vec += [fi, pc, dst, *lv] + [0] * (n - len(lv))
                else:
                    vec += [0] * (3 + n)
        return vec

    def canonical(self, state) -> tuple:
        """The vector the enumerator stores for `state` with symmetry on."""
        return _extension().canonical(self.img.tobytes(), self.encode(state))

    def decode(self, vec) -> tuple:
        """A C working vector as machine.py's state."""
        m = self.m
        mem = tuple(vec[:m.ncells])
        offs, tsize = [], 1
        for n in self.level_locs:
            offs.append(tsize)
            tsize += 3 + n
        threads = []
        for t in range(m.nthreads):
            tb = m.ncells + t * tsize
            frames = []
            for lvl in range(vec[tb]):
                o = tb + offs[lvl]
                fi, pc, dst = vec[o], vec[o + 1], vec[o + 2]
                frames.append((fi, pc, tuple(vec[o + 3:o + 3 + len(m.funcs[fi].locals)]), dst))
            threads.append(tuple(frames))
        return (mem, tuple(threads))


def _extension():
    """The C enumerator: the installed build, or the one MKVERIFY_EXPLORE_SO names (a build with
    sanitizers or the fuzzer's coverage instrumentation, docs/reliability.md)."""
    so = os.environ.get("MKVERIFY_EXPLORE_SO")
    if so and "mkverify._explore" not in sys.modules:
        import importlib.util
        spec = importlib.util.spec_from_file_location("mkverify._explore", so)
        if spec is None or not os.path.isfile(so):
            raise UsageError(SourceLoc("<environment>"), f"MKVERIFY_EXPLORE_SO names {so!r}, which is not a file",
                             "unset it to use the installed build")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        sys.modules["mkverify._explore"] = mod
    try:
        from .. import _explore
    except ImportError as e:  # pragma: no cover - a broken install
        raise UsageError(SourceLoc("<install>"), f"the C enumerator is not built ({e})",
                         "reinstall with `pip install -e .`, or use --engine python") from None
    return _explore


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class NativeExplorer:
    """Runs the C enumerator on one program. `run()` returns a ModelResult like the reference's."""

    def __init__(self, program: ir.Program, max_states: int = 0, depth: int = 0, progress=None,
                 reduce_private: bool = True, jobs: int = 1, fingerprint: bool = False, max_memory: int = 0,
                 symmetry: bool = True, atomic: bool = False, stop=None):
        self.p = program
        self.stop = stop  # () -> reason to stop early, or None (mkverify/limits.py)
        self.low = Lowered(program, reduce_private, symmetry, atomic)
        self.m = self.low.m
        self.max_states = max_states or program.bounds.max_states or DEFAULT_MAX_STATES
        self.max_depth = depth or program.bounds.depth
        self.progress = progress
        self.jobs = jobs or default_jobs()
        self.fingerprint = fingerprint
        self.max_memory = max_memory
        self.symmetry = symmetry and ((self.m.nhost > 1 and self.m.threads_symmetric) or bool(self.low.sym_pools))
        self.raw: dict = {}

    def explore_raw(self, widths: bytes, los: bytes) -> dict:
        """The enumerator's answer: _explore.explore's dict (engines/distributed.py builds the same)."""
        def progress(states, transitions, depth, seconds, memory):
            self.progress(states, transitions, depth, seconds)
        return _extension().explore(self.low.img.tobytes(), widths, los, jobs=self.jobs, max_states=self.max_states,
                                    max_depth=self.max_depth, max_memory=self.max_memory,
                                    fingerprint=self.fingerprint,
                                    progress=progress if self.progress is not None else None,
                                    symmetry=self.symmetry, stop=self.stop)

    def run(self) -> ModelResult:
        low = self.low
        widths, los = low.layout()
        r = self.explore_raw(widths, los)
        self.raw = r
        if r["error"] is not None:
            kind, loc, aux = r["error"]
            if kind == "budget":
                raise ModelRuntimeError(low.locs[loc], f"{self.m.funcs[aux].name} runs {SILENT_BUDGET} steps without "
                                                      f"touching shared memory: a loop that never ends",
                                        "bound the loop")
            if kind == "kind":
                cell, cls = divmod(aux, len(core.CLASS_IDS))  # NCLASS
                raise kind_error(low.locs[loc], self.m.cells[cell], core.CLASS_KIND[cls])
            if kind == "u64":
                raise UsageError(low.locs[loc], "an unsigned 64-bit value at or above 2^63: the native engine "
                                                "computes in signed 64 bits", "use --engine python")
            raise RuntimeError(f"the C enumerator failed ({kind} at {low.locs[loc]})")
        notes = []
        incomplete = ""
        stop = r["stop"]
        if stop == "states":
            incomplete = f"state bound {self.max_states} reached"
        elif stop == "bound":
            at, which = divmod(r["stop_loc"], NBOUNDS)
            loc = low.locs[at]
            msg, hint = low.bounds[which]
            incomplete = f"{msg} (at {loc})"
            notes.append(f"{hint} to explore past {loc}")
        elif stop == "memory":
            incomplete = f"memory bound {self.max_memory:,} bytes reached"
        elif stop == "interrupted":
            incomplete = (self.stop() if self.stop is not None else None) or "interrupted"
        elif stop == "depth":
            incomplete = f"depth bound {self.max_depth} reached"
        elif stop == "lost":  # engines/distributed.py: a partition's process died
            incomplete = r["lost"]
            notes.append("the findings of the part explored are not reported: their traces may run through the "
                         "lost partition")
        findings = [self._finding(key, path) for key, _length, path in r["findings"]]
        sort_findings(findings)
        verdict = "violations" if findings else ("incomplete" if incomplete else "ok")
        notes.extend(exhausted_notes(self.p, {low.pool_names[k] for k in r["exhausted"]}))
        states, transitions = r["states"], r["transitions"]
        miss = None
        if self.fingerprint:
            miss = states * max(transitions - states, 0) / 2.0 ** 64
            notes.append(f"fingerprint mode: {states:,} states were stored as 64-bit fingerprints; the probability "
                         f"that a state was missed is about {miss:.1e} (n(t-n)/2^64 for n states and t transitions)")
        taken: dict = {}
        for lc, a, b, ctx in r["coverage"]:
            fi, path = low.ctx_order[ctx]
            taken.setdefault(lc, {}).setdefault((a, b), set()).add(tuple(f for f, _pc in path) + (fi,))
        stats = Stats(states, transitions, r["depth"], r["seconds"], "native",
                      extra={"jobs": r["jobs"], "storage": "fingerprint" if self.fingerprint else "exact",
                             "symmetry": self.symmetry, "memory_bytes": r["memory"], "state_bytes": r["state_bytes"],
                             "bytes_per_state": round(r["memory"] / max(states, 1), 1),
                             **({"miss_probability": miss} if miss is not None else {}), **r.get("extra", {})})
        ninv = len(self.p.invariants)
        witnessed = {low.witness_of[v - ninv] for v in r["witnessed"] if v >= ninv}
        return ModelResult(self.p.name, verdict, stats, findings, incomplete, notes, coverage(self.p, self.m, taken),
                           invariant_coverage(self.p.invariants, witnessed))

    def _finding(self, ckey, path) -> Finding:
        low, m = self.low, self.m
        want = low.py_key(ckey)
        labels = [low.label(c) for c in path]
        state = m.initial_state()
        trace = []
        found = None
        is_state = ckey[0] < len(V_HEADS) and want[0] in STATE_KEYS  # a primitive's key is a step's
        for n, lab in enumerate(labels, 1):
            last = n == len(labels)
            if self.symmetry:
                lab = self._actual_label(state, lab, want if last and not is_state else None)
            trace.append(describe(m, state, lab, n))
            ns, viols, _ = m.step(state, lab)
            if last and not is_state:
                found = next((v for v in viols if v.key == want), None)
                break
            if ns is None:
                raise RuntimeError(f"the engines disagree: step {n} of a native trace has no successor in machine.py")
            state = ns
        if is_state:
            found = next((v for v in m.check_state(state) if v.key == want), None)
        if found is None:
            raise RuntimeError(f"the engines disagree: machine.py does not find {want} at the end of the native trace")
        return Finding(found.check, found.message, found.loc, trace)

    def _actual_label(self, state, lab, want):
        """With symmetry the C side stores one state per orbit and its labels name steps of that state:
        the step of `state` (a member of the same orbit) that leads to the same orbit (or, at the end
        of a trace, to the same violation)."""
        low, m = self.low, self.m
        canon = low.canonical(state)
        rep = low.decode(canon)
        ns, viols, _ = m.step(rep, lab)
        target = low.canonical(ns) if ns is not None else None
        for cand in m.enabled(state):
            if cand[1][0] != lab[1][0]:
                continue
            cs, cv, _ = m.step(state, cand)
            if want is not None:
                if any(v.key == want for v in cv):
                    return cand
            elif cs is not None and low.canonical(cs) == target:
                return cand
        raise RuntimeError("the engines disagree: no step of the trace's state leads where the native trace goes")


def explore(program: ir.Program, max_states: int = 0, depth: int = 0, progress=None, reduce_private: bool = True,
            jobs: int = 1, fingerprint: bool = False, max_memory: int = 0, symmetry: bool = True,
            atomic: bool = True, stop=None) -> ModelResult:
    return NativeExplorer(program, max_states, depth, progress, reduce_private, jobs, fingerprint,
                          max_memory, symmetry=symmetry, atomic=atomic, stop=stop).run()
