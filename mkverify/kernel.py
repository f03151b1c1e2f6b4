"""The kernel API, written once: what every kernel primitive of the model language means.

Each primitive is one Python function over the *core* (mkverify/core.py): a
handful of operations on the simulated machine that every engine implements
— resolve a pointer to a cell (the null, use-after-free and out-of-bounds
checks), read and write a cell, choose by a condition (`fork` when the paths
differ in what they do, `sel` when only a value differs), fail or warn with a
check id, wait until a condition holds (`await_`), allocate and free, call a
model function, give a result. A primitive is one visible step: its whole
body runs atomically.

No engine knows a primitive by name. The reference interpreter (machine.py)
runs these functions over concrete integers, the z3 engine (engines/bmc.py)
runs the same functions over z3 terms, and the C enumerator and the Promela
export run what `core.trace` compiles them to for a given model: a small
tree of micro-operations, built by running the function over symbolic
registers. docs/internals.md shows how to add a primitive.

A definition's rules (core.trace checks the first two on every model):
- it decides on a value only through `k.fork`, `k.sel`, `k.and_`, `k.or_`,
  `k.not_` (never Python's `if` on a value: under z3 and the tracer a value is
  a term);
- an `await_` comes before the first write, result, call or allocation, so an
  engine can tell a blocked step without executing it;
- every pointer argument the signature types is resolved with `k.cell` in
  argument order before any write, so a pointer to memory of another kind is
  a model error at the same place on every engine;
- messages are plain text or a function of a namer (`n.cell(i)`, `n.value(i,
  v)`): only the reference renders them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

#: result types, by their C name (ir.PRIMS gives them as IR types)
INT, UINT, BOOL, _VOIDP = "int", "unsigned int", "bool", "void *"
ANY_PTR = "any pointer"
INT_MAX = 2**31 - 1
ENOSPC, EBUSY, EINVAL = 28, 16, 22


@dataclass(frozen=True)
class PrimDef:
    """One kernel primitive: its signature, its C declaration, its meaning."""
    name: str
    args: tuple          # argument kinds: an opaque kind (a pointer to it), "int", or ANY_PTR
    result: Any          # the result's C type (INT, UINT, BOOL, _VOIDP), or None
    c: str               # the C declaration the prelude gives models
    fn: Callable         # the meaning: fn(k, *args) over the core
    private: bool        # touches only the objects its pointer arguments point into
    role: str | None     # "lock" / "unlock": what the atomic-section analysis (analysis.py) needs to know
    aux: str | None      # what the IR's Prim.aux names: "struct" (the pool) or "release" (a function)


PRIMS: dict[str, PrimDef] = {}
#: the side-effect-free reads an invariant may use (kref_read, list_empty, cpu_executes ...): name -> PrimDef.
#: A query reads and gives a result: no write, no finding, no fork (an invariant is one expression; core.trace
#: refuses the rest). Where it reads through a pointer that is NULL, wild or freed, the invariant fails (its
#: `cell` faults instead of reporting a finding).
QUERIES: dict[str, PrimDef] = {}


def prim(c: str, args: tuple, result=None, private: bool = False, role: str | None = None,
         aux: str | None = None, name: str | None = None, query: bool = False):
    """Register the decorated function as the primitive `name` (default: the function's name)."""
    def register(fn):
        d = PrimDef(name or fn.__name__, tuple(args), result, c, fn, private, role, aux)
        (QUERIES if query else PRIMS)[d.name] = d
        return fn
    return register


def cname(d: PrimDef) -> str:
    """The C name of a primitive: the identifier its declaration declares."""
    return d.c.split("(", 1)[0].split()[-1].lstrip("*")


#: C names that are another primitive here, with their declarations: lists model membership only, so
#: list_add_tail is list_add; kmalloc is kzalloc (objects come zeroed)
C_ALIASES = {"list_add_tail": ("list_add", "void list_add_tail(struct list_head *new, struct list_head *head)"),
             "kmalloc": ("kzalloc", "void *kmalloc(size_t size, gfp_t flags)"),
             # RCU list updates: the same membership change, made visible to readers in one step
             "list_add_rcu": ("list_add", "void list_add_rcu(struct list_head *new, struct list_head *head)"),
             "list_add_tail_rcu": ("list_add", "void list_add_tail_rcu(struct list_head *new, struct list_head *head)"),
             "list_del_rcu": ("list_del", "void list_del_rcu(struct list_head *entry)"),
             "list_move_tail": ("list_move", "void list_move_tail(struct list_head *list, struct list_head *head)"),
             # hlists: the same membership lists (struct hlist_head and hlist_node are list cells)
             "hlist_add_head": ("list_add", "void hlist_add_head(struct hlist_node *n, struct hlist_head *h)"),
             "hlist_add_head_rcu": ("list_add", "void hlist_add_head_rcu(struct hlist_node *n, struct hlist_head *h)"),
             "hlist_del": ("list_del", "void hlist_del(struct hlist_node *n)"),
             "hlist_del_rcu": ("list_del", "void hlist_del_rcu(struct hlist_node *n)"),
             "hlist_del_init": ("list_del_init", "void hlist_del_init(struct hlist_node *n)"),
             "hlist_del_init_rcu": ("list_del_init", "void hlist_del_init_rcu(struct hlist_node *n)"),
             "INIT_HLIST_NODE": ("init_list_head", "void INIT_HLIST_NODE(struct hlist_node *h)"),
             "hlist_empty": ("list_empty", "int hlist_empty(const struct hlist_head *h)")}


#: the file name the front end sees the declarations in (frontend/lower.py treats them as the prelude's)
DECLARATIONS_FILE = "<mkverify kernel primitives>"


def declarations() -> str:
    """The C declarations of every primitive, as the front end gives them to every model."""
    lines = [f'#line 1 "{DECLARATIONS_FILE}"', "/* the kernel primitives of mkverify/kernel.py (generated) */"]
    lines += [f"{d.c};" for d in PRIMS.values()]
    lines += [f"{d.c};" for name, d in QUERIES.items() if name not in PRIMS]
    lines += [f"{c};" for _, c in C_ALIASES.values()]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- memory


@prim("void *kzalloc(size_t size, gfp_t flags)", (), aux="struct")
def kzalloc(k):
    k.result(k.alloc())


@prim("void kfree(const void *p)", (ANY_PTR,))
def kfree(k, p):
    _free(k, p)


def _free(k, p):
    """Free p (every free of kernel.py goes through here): an object whose work item or timer is still
    pending, or whose call_rcu callback has not run, is a `pending-on-free` finding (debugobjects' "free
    active object"): the callback would run on freed memory."""
    if k.deferred:
        base = k.object_of(p)
        for j, b in zip(k.deferred, k.deferred_base):
            v = k.rd(j)
            if b and k.fork(k.and_(base == b, k.live(j), (v & DEFERRED_PENDING) != 0)):
                k.fail("pending-on-free", lambda n, j=j, v=v: f"{n.cell(j)} is still pending when its object is "
                       f"freed: {n.value(j, v).split(',')[0]} would run on freed memory ({_CANCEL[n.kind(j)]})",
                       key="pending-on-free")
    k.free(p)


# ---------------------------------------------------------------- reference counts


@prim("void kref_init(struct kref *kref)", ("kref",), private=True)
def kref_init(k, r):
    k.wr(k.cell(r, "kref", "kref_init of"), 1)


def _get(name):
    def get(k, r):
        i = k.cell(r, "kref", f"{name} of")
        v = k.rd(i)
        if k.fork(v == 0):
            k.fail("get-after-release", lambda n: f"{name} on {n.cell(i)}, whose count is already zero "
                                                  f"(the object is being released)")
        k.wr(i, v + 1)
    return get


def _get_unless_zero(name):
    def get(k, r):
        i = k.cell(r, "kref", f"{name} of")
        v = k.rd(i)
        k.wr(i, k.sel(v == 0, v, v + 1))
        k.result(k.sel(v == 0, 0, 1))
    return get


def _put_check(k, name, r):
    i = k.cell(r, "kref", f"{name} of")
    v = k.rd(i)
    if k.fork(v == 0):
        k.fail("refcount-underflow", lambda n: f"{name} on {n.cell(i)}, whose count is already zero "
                                               f"(a reference was dropped twice)")
    left = v - 1
    k.wr(i, left)
    return left


prim("void kref_get(struct kref *kref)", ("kref",), private=True, name="kref_get")(_get("kref_get"))
prim("void refcount_inc(refcount_t *r)", ("refcount",), private=True, name="refcount_inc")(_get("refcount_inc"))
prim("int kref_get_unless_zero(struct kref *kref)", ("kref",), INT, private=True,
     name="kref_get_unless_zero")(_get_unless_zero("kref_get_unless_zero"))
prim("bool refcount_inc_not_zero(refcount_t *r)", ("refcount",), BOOL, private=True,
     name="refcount_inc_not_zero")(_get_unless_zero("refcount_inc_not_zero"))


@prim("int kref_put(struct kref *kref, void (*release)(struct kref *kref))", ("kref",), INT, private=True,
      aux="release")
def kref_put(k, r):
    left = _put_check(k, "kref_put", r)
    if k.fork(left == 0):
        k.result(1)
        k.call_aux(r)  # the release callback runs in this step, on this CPU
    else:
        k.result(0)


@prim("bool refcount_dec_and_test(refcount_t *r)", ("refcount",), BOOL, private=True)
def refcount_dec_and_test(k, r):
    left = _put_check(k, "refcount_dec_and_test", r)
    k.result(k.sel(left == 0, 1, 0))


@prim("void refcount_dec(refcount_t *r)", ("refcount",), private=True)
def refcount_dec(k, r):
    """Drop a reference the caller knows is not the last (the kernel WARNs when it is: REFCOUNT_DEC_LEAK)."""
    i = k.cell(r, "refcount", "refcount_dec of")
    left = _put_check(k, "refcount_dec", r)
    if k.fork(left == 0):
        k.warn("leak", lambda n: f"refcount_dec drops the last reference of {n.cell(i)}: nothing can free the "
                                 f"object any more (decrement hit 0; use refcount_dec_and_test)", key="dec-to-zero")


def _put_locked(name, kind, lock_kind, lock_name, release):
    """kref_put_mutex/kref_put_lock, refcount_dec_and_mutex_lock/refcount_dec_and_lock (and the atomic_t forms):
    drop a reference; only when it is the last one, take the lock first (waiting for it), so the release (or
    the caller, on a true result) runs with the lock held. One step: the kernel's fast path (a count above one
    is decremented without the lock) and its slow path (lock, decrement, unlock unless it reached zero) have
    the same effect whenever the count is not one."""
    def put(k, r, lock):
        i = k.cell(r, kind, f"{name} of")
        li = k.cell(lock, lock_kind, f"{name} with lock")
        v = k.rd(i)
        if k.fork(v == 0):
            if kind == "atomic":  # atomic_dec_and_lock: a plain atomic_t goes negative
                k.wr(i, k.wrap(v - 1, 32, True))
                k.result(0)
                return
            k.fail("refcount-underflow", lambda n: f"{name} on {n.cell(i)}, whose count is already zero "
                                                   f"(a reference was dropped twice)")
        if k.fork(v == 1):
            lv = k.rd(li)
            me = k.me() + 1
            if k.fork(lv == me):
                k.fail("deadlock", lambda n: f"{name} of {n.cell(i)} takes {n.cell(li)}, which this CPU already "
                                             f"holds (self-deadlock)", key="self-deadlock")
            k.await_(lv == 0, li, lv)
            if lock_kind == "mutex":
                _might_sleep(k, lock_name)
            k.wr(li, me)
            k.wr(i, 0)
            k.result(1)
            if release:
                k.call_aux(r)  # the release runs with the lock held, and must drop it
            return
        k.wr(i, v - 1)
        k.result(0)
    return put


prim("int kref_put_mutex(struct kref *kref, void (*release)(struct kref *kref), struct mutex *lock)",
     ("kref", "mutex"), INT, aux="release", name="kref_put_mutex")(
    _put_locked("kref_put_mutex", "kref", "mutex", "mutex_lock", True))
prim("int kref_put_lock(struct kref *kref, void (*release)(struct kref *kref), spinlock_t *lock)",
     ("kref", "spinlock"), INT, aux="release", name="kref_put_lock")(
    _put_locked("kref_put_lock", "kref", "spinlock", "spin_lock", True))
prim("bool refcount_dec_and_mutex_lock(refcount_t *r, struct mutex *lock)", ("refcount", "mutex"), BOOL,
     name="refcount_dec_and_mutex_lock")(
    _put_locked("refcount_dec_and_mutex_lock", "refcount", "mutex", "mutex_lock", False))
prim("bool refcount_dec_and_lock(refcount_t *r, spinlock_t *lock)", ("refcount", "spinlock"), BOOL,
     name="refcount_dec_and_lock")(_put_locked("refcount_dec_and_lock", "refcount", "spinlock", "spin_lock", False))
prim("int atomic_dec_and_mutex_lock(atomic_t *cnt, struct mutex *lock)", ("atomic", "mutex"), INT,
     name="atomic_dec_and_mutex_lock")(
    _put_locked("atomic_dec_and_mutex_lock", "atomic", "mutex", "mutex_lock", False))
prim("int atomic_dec_and_lock(atomic_t *atomic, spinlock_t *lock)", ("atomic", "spinlock"), INT,
     name="atomic_dec_and_lock")(_put_locked("atomic_dec_and_lock", "atomic", "spinlock", "spin_lock", False))


@prim("bool refcount_dec_not_one(refcount_t *r)", ("refcount",), BOOL, private=True)
def refcount_dec_not_one(k, r):
    """Decrement unless the count is one (or zero, which the kernel WARNs about as an underflow)."""
    i = k.cell(r, "refcount", "refcount_dec_not_one of")
    v = k.rd(i)
    if k.fork(v == 0):
        k.fail("refcount-underflow", lambda n: f"refcount_dec_not_one on {n.cell(i)}, whose count is already zero")
    k.wr(i, k.sel(v == 1, v, v - 1))
    k.result(k.sel(v == 1, 0, 1))


@prim("bool refcount_dec_if_one(refcount_t *r)", ("refcount",), BOOL, private=True)
def refcount_dec_if_one(k, r):
    i = k.cell(r, "refcount", "refcount_dec_if_one of")
    v = k.rd(i)
    k.wr(i, k.sel(v == 1, 0, v))
    k.result(k.sel(v == 1, 1, 0))


@prim("void refcount_add(int i, refcount_t *r)", ("int", "refcount"), private=True)
def refcount_add(k, n, r):
    i = k.cell(r, "refcount", "refcount_add to")
    v = k.rd(i)
    if k.fork(v == 0):
        k.fail("get-after-release", lambda n_: f"refcount_add on {n_.cell(i)}, whose count is already zero "
                                               f"(the object is being released)")
    k.wr(i, k.wrap(v + n, 32, True))


def _read(name, kind):
    def read(k, r):
        k.result(k.rd(k.cell(r, kind, f"{name} of")))
    return read


prim("unsigned int kref_read(const struct kref *kref)", ("kref",), UINT, private=True,
     name="kref_read")(_read("kref_read", "kref"))
prim("unsigned int refcount_read(const refcount_t *r)", ("refcount",), UINT, private=True,
     name="refcount_read")(_read("refcount_read", "refcount"))
prim("int atomic_read(const atomic_t *v)", ("atomic",), INT, private=True,
     name="atomic_read")(_read("atomic_read", "atomic"))


def _set(name, kind):
    def set_(k, r, v):
        k.wr(k.cell(r, kind, f"{name} of"), k.wrap(v, 32, True))
    return set_


prim("void refcount_set(refcount_t *r, int n)", ("refcount", "int"), private=True,
     name="refcount_set")(_set("refcount_set", "refcount"))
prim("void atomic_set(atomic_t *v, int i)", ("atomic", "int"), private=True,
     name="atomic_set")(_set("atomic_set", "atomic"))


# ---------------------------------------------------------------- atomics


@prim("int atomic_cmpxchg(atomic_t *v, int old, int new)", ("atomic", "int", "int"), INT, private=True)
def atomic_cmpxchg(k, r, old, new):
    i = k.cell(r, "atomic", "atomic_cmpxchg of")
    v = k.rd(i)
    k.wr(i, k.sel(v == k.wrap(old, 32, True), k.wrap(new, 32, True), v))
    k.result(v)


def _add(name, sign):
    def add(k, n, r):
        i = k.cell(r, "atomic", f"{name} to")
        v = k.rd(i)
        k.wr(i, k.wrap(v + n if sign > 0 else v - n, 32, True))
    return add


prim("void atomic_add(int i, atomic_t *v)", ("int", "atomic"), private=True, name="atomic_add")(_add("atomic_add", 1))
prim("void atomic_sub(int i, atomic_t *v)", ("int", "atomic"), name="atomic_sub")(_add("atomic_sub", -1))


@prim("bool atomic_inc_unless_negative(atomic_t *v)", ("atomic",), BOOL, private=True)
def atomic_inc_unless_negative(k, r):
    i = k.cell(r, "atomic", "atomic_inc_unless_negative of")
    v = k.rd(i)
    k.wr(i, k.sel(v < 0, v, k.wrap(v + 1, 32, True)))
    k.result(k.sel(v < 0, 0, 1))


def _step(name, d, result):
    def step(k, r):
        i = k.cell(r, "atomic", f"{name} of")
        v = k.wrap(k.rd(i) + d, 32, True)
        k.wr(i, v)
        if result:
            k.result(k.sel(v == 0, 1, 0))
    return step


prim("void atomic_inc(atomic_t *v)", ("atomic",), private=True, name="atomic_inc")(_step("atomic_inc", 1, False))
prim("void atomic_dec(atomic_t *v)", ("atomic",), private=True, name="atomic_dec")(_step("atomic_dec", -1, False))
prim("bool atomic_dec_and_test(atomic_t *v)", ("atomic",), BOOL, private=True,
     name="atomic_dec_and_test")(_step("atomic_dec_and_test", -1, True))


def _op_return(name, op, fetch):
    def f(k, *a):
        if op in ("inc", "dec"):
            (r,), n = a, 1
        else:
            n, r = a
        i = k.cell(r, "atomic", f"{name} of")
        v = k.rd(i)
        new = k.wrap(v + n if op in ("inc", "add") else v - n, 32, True)
        k.wr(i, new)
        k.result(v if fetch else new)
    return f


for _op, _fetch in (("inc", False), ("dec", False), ("add", False), ("sub", False), ("add", True), ("sub", True)):
    _nm = f"atomic_fetch_{_op}" if _fetch else f"atomic_{_op}_return"
    _sig = f"int {_nm}(atomic_t *v)" if _op in ("inc", "dec") else f"int {_nm}(int i, atomic_t *v)"
    prim(_sig, ("atomic",) if _op in ("inc", "dec") else ("int", "atomic"), INT, private=True,
         name=_nm)(_op_return(_nm, _op, _fetch))


@prim("int atomic_xchg(atomic_t *v, int new)", ("atomic", "int"), INT, private=True)
def atomic_xchg(k, r, new):
    i = k.cell(r, "atomic", "atomic_xchg of")
    v = k.rd(i)
    k.wr(i, k.wrap(new, 32, True))
    k.result(v)


@prim("bool atomic_inc_not_zero(atomic_t *v)", ("atomic",), BOOL, private=True)
def atomic_inc_not_zero(k, r):
    i = k.cell(r, "atomic", "atomic_inc_not_zero of")
    v = k.rd(i)
    k.wr(i, k.sel(v == 0, v, k.wrap(v + 1, 32, True)))
    k.result(k.sel(v == 0, 0, 1))


# ---------------------------------------------------------------- locks
# A lock cell holds 0 (unlocked) or the owner's CPU number + 1.


def _lock(name, kind):
    def lock(k, r):
        i = k.cell(r, kind, f"{name} of")
        v = k.rd(i)
        me = k.me() + 1
        if k.fork(v == me):
            k.fail("deadlock", lambda n: f"{name} of {n.cell(i)}, which this CPU already holds (self-deadlock)",
                   key="self-deadlock")
        k.await_(v == 0, i, v)
        if kind == "mutex":
            _might_sleep(k, name)
        k.wr(i, me)
    return lock


def _unlock(name, kind):
    def unlock(k, r):
        i = k.cell(r, kind, f"{name} of")
        v = k.rd(i)
        if k.fork(v != k.me() + 1):
            k.fail("lock-imbalance", lambda n: f"{name} of {n.cell(i)}, which is held by {n.holder(i, v)}, "
                                               f"not by this CPU")
        k.wr(i, 0)
    return unlock


prim("void mutex_lock(struct mutex *lock)", ("mutex",), private=True, role="lock",
     name="mutex_lock")(_lock("mutex_lock", "mutex"))
prim("void mutex_unlock(struct mutex *lock)", ("mutex",), private=True, role="unlock",
     name="mutex_unlock")(_unlock("mutex_unlock", "mutex"))
prim("void spin_lock(spinlock_t *lock)", ("spinlock",), private=True, role="lock",
     name="spin_lock")(_lock("spin_lock", "spinlock"))
prim("void spin_unlock(spinlock_t *lock)", ("spinlock",), private=True, role="unlock",
     name="spin_unlock")(_unlock("spin_unlock", "spinlock"))


def _trylock(name, kind):
    def trylock(k, r):
        i = k.cell(r, kind, f"{name} of")
        v = k.rd(i)
        k.wr(i, k.sel(v == 0, k.me() + 1, v))
        k.result(k.sel(v == 0, 1, 0))
    return trylock


prim("int mutex_trylock(struct mutex *lock)", ("mutex",), INT, private=True, role="trylock",
     name="mutex_trylock")(_trylock("mutex_trylock", "mutex"))
prim("int spin_trylock(spinlock_t *lock)", ("spinlock",), INT, private=True, role="trylock",
     name="spin_trylock")(_trylock("spin_trylock", "spinlock"))


# ---------------------------------------------------------------- reader-writer locks
# A struct rw_semaphore or rwlock_t cell holds 0 (free), the writer's CPU number + 1, or minus the bit mask
# of its readers (bit c: CPU c; the bit past the last thread: a reader that returned to user space).


def _bit(me):
    """A CPU's bit in a mask of readers."""
    return 1 << me


def _rw_owner(k, v):
    """Whom a waiter for this rw cell waits for: the writer, or the lowest reader."""
    owner = k.sel(v > 0, v, 0)
    for c in reversed(range(k.nthreads + 1)):
        owner = k.sel(k.and_(v < 0, ((0 - v) >> c) & 1 != 0), c + 1, owner)
    return owner


def _down_cell(k, i, name, write, sleeps):
    v = k.rd(i)
    me = k.me()
    mine = k.and_(v < 0, ((0 - v) >> me) & 1 != 0)
    if k.fork(k.or_(v == me + 1, mine)):
        k.fail("deadlock", lambda n: f"{name} of {n.cell(i)}, which this CPU already holds (self-deadlock)",
               key="self-deadlock")
    k.await_(v == 0 if write else v <= 0, i, _rw_owner(k, v))
    if sleeps:
        _might_sleep(k, name)
    k.wr(i, me + 1 if write else v - _bit(me))


def _up_cell(k, i, name, write):
    v = k.rd(i)
    me = k.me()
    held = v == me + 1 if write else k.and_(v < 0, ((0 - v) >> me) & 1 != 0)
    if k.fork(k.not_(held)):
        k.fail("lock-imbalance", lambda n: f"{name} of {n.cell(i)}, which this CPU does not hold "
                                           f"{'for writing' if write else 'for reading'}")
    k.wr(i, 0 if write else v + _bit(me))


def _down(name, kind, write, sleeps):
    def down(k, r):
        _down_cell(k, k.cell(r, kind, f"{name} of"), name, write, sleeps)
    return down


def _up(name, kind, write):
    def up(k, r):
        _up_cell(k, k.cell(r, kind, f"{name} of"), name, write)
    return up


def _try(name, kind, write):
    def try_(k, r):
        i = k.cell(r, kind, f"{name} of")
        v = k.rd(i)
        me = k.me()
        free = v == 0 if write else k.and_(v <= 0, k.not_(k.and_(v < 0, ((0 - v) >> me) & 1 != 0)))
        k.wr(i, k.sel(free, me + 1 if write else v - _bit(me), v))
        k.result(k.sel(free, 1, 0))
    return try_


for _kind, _ctype, _pre, _sleeps in (("rwsem", "struct rw_semaphore", ("down_read", "up_read", "down_write",
                                                                        "up_write", "down_read_trylock",
                                                                        "down_write_trylock"), True),
                                     ("rwlock", "rwlock_t", ("read_lock", "read_unlock", "write_lock",
                                                             "write_unlock", "read_trylock", "write_trylock"),
                                      False)):
    _dr, _ur, _dw, _uw, _tr, _tw = _pre
    prim(f"void {_dr}({_ctype} *sem)", (_kind,), private=True, name=_dr)(_down(_dr, _kind, False, _sleeps))
    prim(f"void {_ur}({_ctype} *sem)", (_kind,), private=True, name=_ur)(_up(_ur, _kind, False))
    prim(f"void {_dw}({_ctype} *sem)", (_kind,), private=True, name=_dw)(_down(_dw, _kind, True, _sleeps))
    prim(f"void {_uw}({_ctype} *sem)", (_kind,), private=True, name=_uw)(_up(_uw, _kind, True))
    prim(f"int {_tr}({_ctype} *sem)", (_kind,), INT, private=True, role="trylock", name=_tr)(_try(_tr, _kind, False))
    prim(f"int {_tw}({_ctype} *sem)", (_kind,), INT, private=True, role="trylock", name=_tw)(_try(_tw, _kind, True))


@prim("void downgrade_write(struct rw_semaphore *sem)", ("rwsem",), private=True)
def downgrade_write(k, r):
    i = k.cell(r, "rwsem", "downgrade_write of")
    v = k.rd(i)
    me = k.me()
    if k.fork(v != me + 1):
        k.fail("lock-imbalance", lambda n: f"downgrade_write of {n.cell(i)}, which this CPU does not hold for "
                                           f"writing")
    k.wr(i, 0 - _bit(me))


def _hotplug(name, write, lock):
    """cpus_read_lock() and kin: the CPU hotplug lock, a machine rw_semaphore (present when a model uses it)."""
    def hp(k):
        if lock:
            _down_cell(k, k.hotplug[0], name, write, True)
        else:
            _up_cell(k, k.hotplug[0], name, write)
    return hp


for _nm, _w, _l in (("cpus_read_lock", False, True), ("cpus_read_unlock", False, False),
                    ("cpus_write_lock", True, True), ("cpus_write_unlock", True, False)):
    prim(f"void {_nm}(void)", (), name=_nm)(_hotplug(_nm, _w, _l))


@prim("void lockdep_assert_cpus_held(void)", ())
def lockdep_assert_cpus_held(k):
    v = k.rd(k.hotplug[0])
    me = k.me()
    if k.fork(k.not_(k.or_(v == me + 1, k.and_(v < 0, ((0 - v) >> me) & 1 != 0)))):
        k.warn("assertion", "lockdep_assert_cpus_held(): this CPU does not hold the CPU hotplug lock",
               key="lockdep-assert-held")


# ---------------------------------------------------------------- sleeping locks that a signal can interrupt
EINTR, ERESTARTSYS = 4, 512


def _lock_interruptible(name, kind, err):
    """mutex_lock_interruptible/killable and the rwsem _interruptible/_killable forms: take the lock, or, where
    they would wait, return -err (a signal arrived: chosen()). A free lock is taken either way (the kernel's
    fast path does not look at signals)."""
    def lock(k, r):
        i = k.cell(r, kind, f"{name} of")
        v = k.rd(i)
        me = k.me()
        write = kind == "mutex" or name.startswith("down_write")
        busy = v != 0 if write else v > 0
        if k.fork(k.and_(k.chosen(), busy)):
            k.result(-err)
            return
        if kind == "mutex":
            if k.fork(v == me + 1):
                k.fail("deadlock", lambda n: f"{name} of {n.cell(i)}, which this CPU already holds (self-deadlock)",
                       key="self-deadlock")
            k.await_(v == 0, i, v)
            _might_sleep(k, name)
            k.wr(i, me + 1)
        else:
            _down_cell(k, i, name, write, True)
        k.result(0)
    return lock


for _nm, _kind, _err in (("mutex_lock_interruptible", "mutex", EINTR), ("mutex_lock_killable", "mutex", EINTR),
                         ("down_read_interruptible", "rwsem", EINTR), ("down_read_killable", "rwsem", EINTR),
                         ("down_write_killable", "rwsem", EINTR)):
    _ct = "struct mutex *lock" if _kind == "mutex" else "struct rw_semaphore *sem"
    prim(f"int {_nm}({_ct})", (_kind,), INT, name=_nm)(_lock_interruptible(_nm, _kind, _err))


# ---------------------------------------------------------------- completions
# A struct completion cell counts the completions not yet consumed; complete_all makes it ALL (every wait,
# now and later, returns at once).
COMPLETION_ALL = 1 << 30


@prim("void init_completion(struct completion *x)", ("completion",), private=True)
def init_completion(k, r):
    k.wr(k.cell(r, "completion", "init_completion of"), 0)


prim("void reinit_completion(struct completion *x)", ("completion",), private=True,
     name="reinit_completion")(init_completion)


#: completions nobody waited for yet that a completion may count: past this the run is incomplete (a model
#: whose entry points complete again and again, with no waiter, would otherwise count forever)
COMPLETION_MAX = 8


@prim("void complete(struct completion *x)", ("completion",), private=True)
def complete(k, r):
    i = k.cell(r, "completion", "complete of")
    v = k.rd(i)
    if k.fork(k.and_(v >= COMPLETION_MAX, v < COMPLETION_ALL)):
        k.bound(f"a completion counted {COMPLETION_MAX} complete() calls that no wait consumed",
                "make the completing entry point run once (a flag in the model), or use complete_all")
    k.wr(i, k.sel(v >= COMPLETION_ALL, v, v + 1))


@prim("void complete_all(struct completion *x)", ("completion",), private=True)
def complete_all(k, r):
    k.wr(k.cell(r, "completion", "complete_all of"), COMPLETION_ALL)


def _consume(k, i, v):
    k.wr(i, k.sel(v >= COMPLETION_ALL, v, v - 1))


@prim("void wait_for_completion(struct completion *x)", ("completion",))
def wait_for_completion(k, r):
    """Wait until the completion is done, and consume one completion (none after complete_all). A wait nothing
    will ever complete is found when every thread waits (a deadlock) or at a quiescent state never reached."""
    i = k.cell(r, "completion", "wait_for_completion of")
    v = k.rd(i)
    k.await_(v > 0, i, 0)
    _might_sleep(k, "wait_for_completion")
    _consume(k, i, v)


def _wait_may_fail(name, failed, done):
    """wait_for_completion_timeout/_interruptible/_killable: where they would wait, they may instead give up
    (chosen(): the timeout expired, a signal arrived) and return `failed`; done, they return `done`."""
    def wait(k, r):
        i = k.cell(r, "completion", f"{name} of")
        v = k.rd(i)
        if k.fork(k.and_(k.chosen(), v == 0)):
            k.result(failed)
            return
        k.await_(v > 0, i, 0)
        _might_sleep(k, name)
        _consume(k, i, v)
        k.result(done)
    return wait


prim("unsigned long wait_for_completion_timeout(struct completion *x, unsigned long timeout)",
     ("completion", "int"), INT, name="wait_for_completion_timeout")(
    (lambda f: lambda k, r, timeout: f(k, r))(_wait_may_fail("wait_for_completion_timeout", 0, 1)))
prim("int wait_for_completion_interruptible(struct completion *x)", ("completion",), INT,
     name="wait_for_completion_interruptible")(_wait_may_fail("wait_for_completion_interruptible", -ERESTARTSYS, 0))
prim("int wait_for_completion_killable(struct completion *x)", ("completion",), INT,
     name="wait_for_completion_killable")(_wait_may_fail("wait_for_completion_killable", -ERESTARTSYS, 0))


@prim("int __wait_event_gives_up(void)", (), INT)
def wait_event_gives_up(k):
    """Between two looks at a wait_event condition: 1 where the wait gives up instead (a signal for
    wait_event_interruptible, the timeout for wait_event_timeout: chosen()), else 0."""
    _might_sleep(k, "wait_event")
    k.result(k.sel(k.chosen(), 1, 0))


@prim("bool try_wait_for_completion(struct completion *x)", ("completion",), BOOL, private=True)
def try_wait_for_completion(k, r):
    i = k.cell(r, "completion", "try_wait_for_completion of")
    v = k.rd(i)
    k.wr(i, k.sel(v == 0, 0, k.sel(v >= COMPLETION_ALL, v, v - 1)))
    k.result(k.sel(v == 0, 0, 1))


@prim("bool completion_done(struct completion *x)", ("completion",), BOOL, private=True)
def completion_done(k, r):
    k.result(k.sel(k.rd(k.cell(r, "completion", "completion_done of")) == 0, 0, 1))


def _might_sleep(k, name):
    """The kernel's might_sleep(): a function that can sleep, called inside an RCU read-side section or with a
    spinlock held, is a `sleep-in-atomic` finding (non-fatal: the kernel prints "BUG: sleeping function called
    from invalid context" and goes on). Called after a primitive's await_ (a warning is an effect)."""
    me = k.me()
    if k.softirq:
        s = k.rd(k.softirq[0] + me)
        if k.fork(s != 0):
            k.warn("sleep-in-atomic", lambda n: f"{name} in a {'timer' if s == 1 else 'call_rcu'} callback: "
                                                f"callbacks run in softirq context, which must not sleep",
                   key="sleep-in-softirq")
    if k.rcu_depth:
        d = k.rd(k.rcu_depth[0] + me)
        if k.fork(d != 0):
            k.warn("sleep-in-atomic", f"{name} inside an RCU read-side section: it may sleep, and an RCU reader "
                                      f"must not (rcu_read_lock is held)", key="sleep-in-rcu")
    held, which = 0, 0
    for j in reversed(k.spin_cells):  # spinlocks and rwlocks, held for writing or for reading
        v = k.rd(j)
        h = k.and_(k.or_(v == me + 1, k.and_(v < 0, ((0 - v) >> me) & 1 != 0)), k.live(j))
        held = k.or_(held, h)
        which = k.sel(h, j, which)
    if k.fork(held):
        k.warn("sleep-in-atomic", lambda n: f"{name} while this CPU holds {n.cell(which)}, a spinning lock: it may "
                                            f"sleep, and a spinlock holder must not", key="sleep-under-spinlock")


def _holds(k, v, write=True, read=True):
    """Does this CPU hold a lock cell of value v: as its owner (a mutex, a spinlock, a writer), or as a reader
    (bit me of minus the value of a reader-writer cell)?"""
    me = k.me()
    return k.or_(v == me + 1 if write else 0, k.and_(v < 0, ((0 - v) >> me) & 1 != 0) if read else 0)


def _assert_held(name, write, read):
    def assert_held(k, lock):
        """WARN unless this CPU holds `lock` (any lock; for a reader-writer lock, in the mode asked)."""
        i = k.cell(lock, "anylock", f"{name} of")
        if k.fork(k.not_(_holds(k, k.rd(i), write, read))):
            k.warn("assertion", lambda n: f"{name}({n.cell(i)}): this CPU does not hold it"
                                          + ("" if write and read else " for writing" if write else " for reading"),
                   key="lockdep-assert-held")
    return assert_held


prim("void lockdep_assert_held(void *lock)", (ANY_PTR,), name="lockdep_assert_held")(
    _assert_held("lockdep_assert_held", True, True))
prim("void lockdep_assert_held_write(void *lock)", (ANY_PTR,), name="lockdep_assert_held_write")(
    _assert_held("lockdep_assert_held_write", True, False))
prim("void lockdep_assert_held_read(void *lock)", (ANY_PTR,), name="lockdep_assert_held_read")(
    _assert_held("lockdep_assert_held_read", False, True))


@prim("int lockdep_is_held(void *lock)", (ANY_PTR,), INT)
def lockdep_is_held(k, lock):
    """Does this CPU hold `lock`, in any mode (for rcu_dereference_check/_protected conditions)?"""
    k.result(k.sel(_holds(k, k.rd(k.cell(lock, "anylock", "lockdep_is_held of"))), 1, 0))


# ---------------------------------------------------------------- RCU
# Per thread (host CPUs, then workers): rcu_read_lock[c] (a lock cell: c + 1 while CPU c is in a read-side section, so a section
# left open at return is a lock-imbalance and a synchronize_rcu waiting for it shows in deadlock cycles),
# rcu_read_depth[c] (the nesting), rcu_gp_wait[c] (the CPUs whose sections CPU c's synchronize_rcu waits
# for: one bit each). kfree_rcu queue entries: rcu_free[q] (the object) and rcu_free_wait[q] (the CPUs
# whose sections its grace period waits for). Machine cells, present when a model uses RCU.


def _readers(k, me, others_only):
    """The bit mask of the threads in a read-side section (without `me`'s own when others_only)."""
    mask = 0
    for c in range(len(k.rcu_read)):
        inside = k.rd(k.rcu_read[c]) != 0
        if others_only:
            inside = k.and_(inside, me != c)
        mask = mask | k.sel(inside, 1 << c, 0)
    return mask


def _leaked(k):
    """The lock cell value of "a task that returned to user space" (machine.py's leaked owner): a read-side
    section left open at return stays a reader forever, and the next task on the CPU starts at depth 0."""
    return k.nthreads + 1


@prim("void rcu_read_lock(void)", ())
def rcu_read_lock(k):
    me = k.me()
    d = k.rcu_depth[0] + me
    k.wr(d, k.rd(d) + 1)
    r = k.rcu_read[0] + me
    cur = k.rd(r)
    k.wr(r, k.sel(cur == _leaked(k), cur, me + 1))


@prim("void rcu_read_unlock(void)", ())
def rcu_read_unlock(k):
    me = k.me()
    di = k.rcu_depth[0] + me
    d = k.rd(di)
    if k.fork(d == 0):
        k.fail("lock-imbalance", "rcu_read_unlock outside an RCU read-side section", key="rcu-unlock-imbalance")
    k.wr(di, d - 1)
    cur = k.rd(k.rcu_read[0] + me)
    if k.fork(k.and_(d == 1, cur != _leaked(k))):  # the end of the section: grace periods waiting for it move on
        k.wr(k.rcu_read[0] + me, 0)
        bit = ~(1 << me)
        for g in k.rcu_gp + tuple(w for w in k.deferred_wait if w >= 0):
            k.wr(g, k.rd(g) & bit)
        for p, w in zip(k.rcu_free, k.rcu_free_wait):
            obj, left = k.rd(p), k.rd(w) & bit
            done = k.and_(obj != 0, left == 0)
            k.wr(w, left)
            k.wr(p, k.sel(done, 0, obj))
            _free(k, k.sel(done, obj, 0))  # the grace period of a kfree_rcu is over: the object is freed here


@prim("void synchronize_rcu(void)", ())
def synchronize_rcu(k):
    """The first half of synchronize_rcu(): note the read-side sections in progress (the front end follows it
    with __synchronize_rcu_wait, which waits until each of them has ended)."""
    me = k.me()
    if k.fork(k.rd(k.rcu_depth[0] + me) != 0):
        k.fail("deadlock", "synchronize_rcu inside an RCU read-side section: the grace period waits for this "
                           "CPU's own reader (self-deadlock)", key="rcu-self-deadlock")
    _might_sleep(k, "synchronize_rcu")
    k.wr(k.rcu_gp[0] + me, _readers(k, me, True))


@prim("void __synchronize_rcu_wait(void)", ())
def synchronize_rcu_wait(k):
    """The second half of synchronize_rcu(): wait until every section noted by the first half has ended."""
    me = k.me()
    g = k.rd(k.rcu_gp[0] + me)
    owner, cell = 0, k.rcu_read[0]
    for c in reversed(range(len(k.rcu_read))):
        bit = (g >> c) & 1 != 0
        owner = k.sel(bit, k.rd(k.rcu_read[c]), owner)  # c + 1, or the leaked owner of a section left open
        cell = k.sel(bit, k.rcu_read[c], cell)
    k.await_(g == 0, cell, owner)


@prim("void kfree_rcu(void *p)", (ANY_PTR,))
def kfree_rcu(k, p):
    """Free p after a grace period: once every read-side section in progress now has ended (at once when
    there is none). Until then p stays allocated, and the queue entry is a reference to it."""
    me = k.me()
    readers = _readers(k, me, False)
    if k.fork(p == 0):
        return
    base = k.object_base(p, "kfree_rcu of")
    queued = 0
    for q in k.rcu_free:
        queued = k.or_(queued, k.rd(q) == base)
    if k.fork(queued):
        k.fail("double-free", "kfree_rcu of an object already queued by kfree_rcu (it would be freed twice)",
               key="double-kfree-rcu")
    if k.fork(readers == 0):
        _free(k, p)
        return
    slot = -1
    for q in reversed(range(len(k.rcu_free))):
        slot = k.sel(k.rd(k.rcu_free[q]) == 0, q, slot)
    if k.fork(slot < 0):
        k.bound("more objects waited for an RCU grace period than the kfree_rcu queue holds",
                "raise rcu_callbacks in the spec's [bounds]")
    for q in range(len(k.rcu_free)):
        here = slot == q
        k.wr(k.rcu_free[q], k.sel(here, p, k.rd(k.rcu_free[q])))
        k.wr(k.rcu_free_wait[q], k.sel(here, readers, k.rd(k.rcu_free_wait[q])))


def _rcu_context(k, name, cond):
    """lockdep-RCU: a dereference outside a read-side section, unless `cond` (the update side's lock) holds."""
    me = k.me()
    inside = k.rd(k.rcu_depth[0] + me) != 0
    if k.fork(k.not_(k.or_(inside, cond))):
        k.warn("rcu-usage", f"suspicious {name} usage: outside an RCU read-side section, and no lockdep "
                            f"condition (the update-side lock) holds (lockdep-RCU)", key="rcu-outside-reader")


@prim("void *rcu_dereference_check(void *p, int c)", ("ptr", "int"), _VOIDP)
def rcu_dereference_check(k, p, c):
    """rcu_dereference(p) (c = 0) and rcu_dereference_check(p, c): read the RCU-protected pointer at &p."""
    i = k.cell(p, "ptr", "rcu_dereference of")
    _rcu_context(k, "rcu_dereference_check()", c != 0)
    k.result(k.rd(i))


@prim("void *rcu_dereference_protected(void *p, int c)", ("ptr", "int"), _VOIDP)
def rcu_dereference_protected(k, p, c):
    """The update side's read of an RCU-protected pointer: `c` (its lock) must hold."""
    i = k.cell(p, "ptr", "rcu_dereference_protected of")
    if k.fork(c == 0):
        k.warn("rcu-usage", "suspicious rcu_dereference_protected() usage: its condition (the update-side lock) "
                            "does not hold (lockdep-RCU)", key="rcu-unprotected")
    k.result(k.rd(i))


# ---------------------------------------------------------------- kobjects
# A struct kobject cell holds its release's number (the front end numbers the release functions of the
# model's struct kobj_type initializers, `.release = fn`, from 1) << 16 and its count; a struct kobj_type
# cell holds its release's number. kobject_put gives the number of the release to call (0: none), and the
# front end calls it in the same step, as kref_put calls its release.

KOBJ_SHIFT = 16


@prim("void kobject_init(struct kobject *kobj, struct kobj_type *ktype)", ("kobject", "ktype"), private=True)
def kobject_init(k, r, t):
    i = k.cell(r, "kobject", "kobject_init of")
    rel = k.rd(k.cell(t, "ktype", "kobject_init's ktype"))
    if k.fork((k.rd(i) & ((1 << KOBJ_SHIFT) - 1)) != 0):
        k.warn("assertion", lambda n: f"kobject_init of {n.cell(i)}, which is already initialized (its count is "
                                      f"not zero)", key="kobject-reinit")
    k.wr(i, (rel << KOBJ_SHIFT) | 1)


@prim("struct kobject *kobject_get(struct kobject *kobj)", ("kobject",), _VOIDP, private=True)
def kobject_get(k, r):
    """Take a reference (kobject_get(NULL) is NULL); on a count of zero, a get-after-release."""
    if k.fork(r == 0):
        k.result(0)
        return
    i = k.cell(r, "kobject", "kobject_get of")
    v = k.rd(i)
    if k.fork((v & ((1 << KOBJ_SHIFT) - 1)) == 0):
        k.fail("get-after-release", lambda n: f"kobject_get on {n.cell(i)}, whose count is already zero (the "
                                              f"object is being released)")
    k.wr(i, v + 1)
    k.result(r)


@prim("int __kobject_put(struct kobject *kobj)", ("kobject",), INT, private=True)
def kobject_put(k, r):
    """Drop a reference (kobject_put(NULL) does nothing); the result is the number of the release to call
    now (the last reference went), else 0."""
    if k.fork(r == 0):
        k.result(0)
        return
    i = k.cell(r, "kobject", "kobject_put of")
    v = k.rd(i)
    count, rel = v & ((1 << KOBJ_SHIFT) - 1), v >> KOBJ_SHIFT
    if k.fork(count == 0):
        k.fail("refcount-underflow", lambda n: f"kobject_put on {n.cell(i)}, whose count is already zero (a "
                                               f"reference was dropped twice)")
    k.wr(i, v - 1)
    if k.fork(k.and_(count == 1, rel == 0)):
        k.warn("assertion", lambda n: f"kobject_put drops the last reference of {n.cell(i)}, whose kobj_type has "
                                      f"no release function: the object is never freed", key="kobject-no-release")
    k.result(k.sel(count == 1, rel, 0))


@prim("unsigned int kobject_read(const struct kobject *kobj)", ("kobject",), UINT, query=True)
def kobject_read(k, r):
    k.result(k.rd(k.cell(r, "kobject", "kobject_read of")) & ((1 << KOBJ_SHIFT) - 1))


# ---------------------------------------------------------------- deferred execution
# A struct work_struct, struct timer_list or struct rcu_head cell (an item) holds its callback's number
# (the front end numbers the functions given to INIT_WORK, timer_setup and call_rcu from 1) << 5, its kind
# << 3 and two bits: pending, and (a work item) being cancelled. Worker threads, after the host CPUs, run
# the items: an idle worker may start on any pending item no worker runs (machine.py), and its start step
# runs __deferred_take, which takes the item (no longer pending, noted in the worker's `runs` cell) and gives
# the callback's number; the front end's __mkverify_worker calls that callback, and __deferred_done forgets
# the item (without touching it: a callback may free its own object).

DEFERRED_PENDING, DEFERRED_CANCELING = 1, 2
#: what a pending-on-free message advises, by the kind of the item
_CANCEL = {"work": "cancel_work_sync or cancel_delayed_work_sync before the free",
           "timer": "timer_delete_sync, or timer_shutdown_sync, before the free",
           "rcu_head": "let the call_rcu callback free the object, or rcu_barrier before the free"}
DEFERRED_WORK, DEFERRED_TIMER, DEFERRED_RCU = 0, 1, 2
DEFERRED_KINDS = {"work": DEFERRED_WORK, "timer": DEFERRED_TIMER, "rcu_head": DEFERRED_RCU}
DEFERRED_INIT = {"work": "INIT_WORK", "timer": "timer_setup", "rcu_head": "call_rcu"}


def _item(k, r, kind, name):
    i = k.cell(r, kind, f"{name} of")
    v = k.rd(i)
    if k.fork((v >> 5) == 0):
        k.fail("assertion", lambda n: f"{name} of {n.cell(i)}, which was never set up with "
                                      f"{DEFERRED_INIT[kind]}: the kernel would call a NULL function",
               key="deferred-uninitialized")
    return i, v


def _runs(k, item):
    """Does a worker run the item at `item` (from its start to __deferred_done)?"""
    busy = 0
    for w in k.worker_runs:
        busy = k.or_(busy, k.rd(w) == item)
    return busy


def _runner(k, item):
    """The owner a wait for the item waits for: the worker that runs it (its thread number + 1), else 0."""
    owner = 0
    for n, w in enumerate(k.worker_runs):
        owner = k.sel(k.rd(w) == item, k.nhost + n + 1, owner)
    return owner


def _init(kind):
    def init(k, r, fn):
        """Set the callback; not pending. Initializing an item that is pending (debugobjects' "init active
        object") unqueues it: an assertion finding."""
        i = k.cell(r, kind, f"{DEFERRED_INIT[kind]} of")
        if k.fork((k.rd(i) & DEFERRED_PENDING) != 0):
            k.warn("assertion", lambda n: f"{DEFERRED_INIT[kind]} of {n.cell(i)}, which is pending: it is unqueued "
                                          f"(debugobjects: init active object)", key="init-active")
        k.wr(i, (fn << 5) | (DEFERRED_KINDS[kind] << 3))
    return init


prim("void __init_work(struct work_struct *work, int fn)", ("work", "int"), private=True,
     name="init_work")(_init("work"))
prim("void __timer_setup(struct timer_list *timer, int fn)", ("timer", "int"), private=True,
     name="timer_setup")(_init("timer"))


@prim("bool __queue_work(struct work_struct *work)", ("work",), BOOL)
def queue_work(k, r):
    """queue_work/schedule_work (and the delayed forms: any delay): false when already pending or being
    cancelled (cancel_work_sync), else pending for a worker."""
    i, v = _item(k, r, "work", "queue_work")
    idle = (v & (DEFERRED_PENDING | DEFERRED_CANCELING)) == 0
    k.wr(i, k.sel(idle, v | DEFERRED_PENDING, v))
    k.result(k.sel(idle, 1, 0))


@prim("bool __mod_delayed_work(struct work_struct *work)", ("work",), BOOL)
def mod_delayed_work(k, r):
    """mod_delayed_work: true when it was pending (its timer is moved), else false and now pending."""
    i, v = _item(k, r, "work", "mod_delayed_work")
    pending = (v & DEFERRED_PENDING) != 0
    k.wr(i, k.sel((v & DEFERRED_CANCELING) != 0, v, v | DEFERRED_PENDING))
    k.result(k.sel(pending, 1, 0))


@prim("bool work_pending(struct work_struct *work)", ("work",), BOOL, private=True)
def work_pending(k, r):
    k.result(k.sel((k.rd(k.cell(r, "work", "work_pending of")) & DEFERRED_PENDING) != 0, 1, 0))


@prim("int timer_pending(const struct timer_list *timer)", ("timer",), INT, private=True)
def timer_pending(k, r):
    k.result(k.sel((k.rd(k.cell(r, "timer", "timer_pending of")) & DEFERRED_PENDING) != 0, 1, 0))


@prim("int mod_timer(struct timer_list *timer, unsigned long expires)", ("timer", "int"), INT)
def mod_timer(k, r, expires):
    """Arm the timer (it may fire at any later point: time is not modelled); 1 when it was pending."""
    i, v = _item(k, r, "timer", "mod_timer")
    k.wr(i, v | DEFERRED_PENDING)
    k.result(k.sel((v & DEFERRED_PENDING) != 0, 1, 0))


@prim("void add_timer(struct timer_list *timer)", ("timer",))
def add_timer(k, r):
    i, v = _item(k, r, "timer", "add_timer")
    if k.fork((v & DEFERRED_PENDING) != 0):
        k.fail("assertion", lambda n: f"add_timer of {n.cell(i)}, which is already pending (BUG_ON in add_timer; "
                                      f"use mod_timer)", key="add-timer-pending")
    k.wr(i, v | DEFERRED_PENDING)


def _cancel(kind, name, sync):
    """cancel_work, timer_delete (del_timer) and the first step of their _sync forms: no longer pending; the
    result says whether it was. A work item's sync cancel also blocks queueing until its second step."""
    def cancel(k, r):
        i = k.cell(r, kind, f"{name} of")
        v = k.rd(i)
        mark = DEFERRED_CANCELING if sync and kind == "work" else 0
        k.wr(i, (v & ~DEFERRED_PENDING) | mark)
        k.result(k.sel((v & DEFERRED_PENDING) != 0, 1, 0))
    return cancel


prim("bool cancel_work(struct work_struct *work)", ("work",), BOOL, name="cancel_work")(
    _cancel("work", "cancel_work", False))
prim("bool __cancel_work_sync(struct work_struct *work)", ("work",), BOOL, name="cancel_work_sync")(
    _cancel("work", "cancel_work_sync", True))
prim("int timer_delete(struct timer_list *timer)", ("timer",), INT, name="timer_delete")(
    _cancel("timer", "timer_delete", False))
prim("int __timer_delete_sync(struct timer_list *timer)", ("timer",), INT, name="timer_delete_sync")(
    _cancel("timer", "timer_delete_sync", True))


@prim("void __deferred_sync(void *item, int sleeps)", ("deferred", "int"))
def deferred_sync(k, r, sleeps):
    """The second step of cancel_work_sync (sleeps: 1) and timer_delete_sync (0: it spins): wait until no
    worker runs the item, then make sure it is not pending (a timer its callback re-armed is deleted again)."""
    i = k.cell(r, "deferred", "cancel of")
    k.await_(k.not_(_runs(k, r)), i, _runner(k, r))
    if k.fork(sleeps != 0):
        _might_sleep(k, "cancel_work_sync")
    k.wr(i, k.rd(i) & ~(DEFERRED_PENDING | DEFERRED_CANCELING))


@prim("bool __deferred_busy(void *item)", ("deferred",), BOOL)
def deferred_busy(k, r):
    """The first step of flush_work: is the item pending or running (the result: flush_work waits)?"""
    i = k.cell(r, "deferred", "flush_work of")
    k.result(k.sel(k.or_((k.rd(i) & DEFERRED_PENDING) != 0, _runs(k, r)), 1, 0))


@prim("void __deferred_flush(void *item)", ("deferred",))
def deferred_flush(k, r):
    """The second step of flush_work: wait until the item is neither pending nor running."""
    i = k.cell(r, "deferred", "flush_work of")
    k.await_(k.and_((k.rd(i) & DEFERRED_PENDING) == 0, k.not_(_runs(k, r))), i, _runner(k, r))
    _might_sleep(k, "flush_work")


@prim("void __call_rcu(struct rcu_head *head, int fn)", ("rcu_head", "int"))
def call_rcu(k, r, fn):
    """call_rcu(head, fn): fn(head) runs on a worker after a grace period: once every read-side section in
    progress now has ended (the worker waits for the rest of them). Queueing a head already queued is a double
    call_rcu."""
    i = k.cell(r, "rcu_head", "call_rcu of")
    if k.fork((k.rd(i) & DEFERRED_PENDING) != 0):
        k.fail("double-free", lambda n: f"call_rcu of {n.cell(i)}, which is already queued (its callback would "
                                        f"run twice)", key="double-call-rcu")
    readers = _readers(k, k.me(), False)  # the grace period waits for the sections in progress now
    for j, w in zip(k.deferred, k.deferred_wait):
        if w >= 0:
            k.wr(w, k.sel(i == j, readers, k.rd(w)))
    k.wr(i, (fn << 5) | (DEFERRED_RCU << 3) | DEFERRED_PENDING)


@prim("void rcu_barrier(void)", ())
def rcu_barrier(k):
    """Wait until every call_rcu callback queued so far has run (here: none pending or running)."""
    busy, cell = 0, 0
    for j in k.deferred:
        v = k.rd(j)
        q = k.and_(k.live(j), ((v >> 3) & 3) == DEFERRED_RCU, (v & DEFERRED_PENDING) != 0)
        busy = k.or_(busy, q)
        cell = k.sel(q, j, cell)
    owner = 0
    for n in range(len(k.worker_runs) if k.softirq else 0):
        running = k.rd(k.softirq[0] + k.nhost + n) == 2
        busy = k.or_(busy, running)
        owner = k.sel(running, k.nhost + n + 1, owner)
    k.await_(k.not_(busy), cell, owner)
    _might_sleep(k, "rcu_barrier")


@prim("int __deferred_take(void *item)", ("deferred",), INT)
def deferred_take(k, r):
    """What a worker's start step runs: take the item (no longer pending; the worker's `runs` cell names it
    until __deferred_done) and give its callback's number (0 if it was not pending). A timer or RCU callback
    runs in softirq context; an RCU callback first waits (the worker's __synchronize_rcu_wait) for the sections
    in progress at its call_rcu that are still going on."""
    i = k.cell(r, "deferred", "a worker's run of")
    v = k.rd(i)
    me = k.me()
    go = (v & DEFERRED_PENDING) != 0
    kind = (v >> 3) & 3
    k.wr(i, k.sel(go, v & ~DEFERRED_PENDING, v))
    k.wr(k.worker_runs[0] + me - k.nhost, k.sel(go, r, 0))
    if k.softirq:
        k.wr(k.softirq[0] + me, k.sel(go, kind, 0))
    if k.rcu_gp:  # an RCU callback's worker waits for what is left of its call_rcu's grace period
        gp = 0
        for j, w in zip(k.deferred, k.deferred_wait):
            if w >= 0:
                gp = k.sel(i == j, k.rd(w), gp)
                k.wr(w, k.sel(k.and_(go, i == j), 0, k.rd(w)))
        k.wr(k.rcu_gp[0] + me, k.sel(k.and_(go, kind == DEFERRED_RCU), gp, 0))
    k.result(k.sel(go, v >> 5, 0))


@prim("void __deferred_done(void *item)", (ANY_PTR,))
def deferred_done(k, r):
    """A worker is done with its item: forget it (the item itself is not touched: it may be freed)."""
    me = k.me()
    k.wr(k.worker_runs[0] + me - k.nhost, 0)
    if k.softirq:
        k.wr(k.softirq[0] + me, 0)


#: the primitives that read or free memory their pointer arguments do not point into (every list node, the
#: objects of the kfree_rcu queue): the atomic-section analysis (analysis.py) counts them as touching anything
SCANS = frozenset({"list_empty", "list_is_singular", "list_first", "list_next", "list_first_rcu", "list_next_rcu",
                   "rcu_read_unlock", "kfree_rcu", "rcu_barrier"})
#: the primitives that use the CPU hotplug lock: a model that calls one gets it (machine.py's layout)
HOTPLUG_USERS = frozenset({"cpus_read_lock", "cpus_read_unlock", "cpus_write_lock", "cpus_write_unlock",
                           "lockdep_assert_cpus_held"})
#: the primitives that use the RCU cells: a model that calls one gets them (machine.py's layout)
#: the primitives that defer work: a model that calls one gets worker threads and their cells (machine.py)
DEFERRED_USERS = frozenset({"init_work", "timer_setup", "call_rcu"})
RCU_USERS = frozenset({"rcu_read_lock", "rcu_read_unlock", "synchronize_rcu", "synchronize_rcu_wait", "kfree_rcu",
                       "call_rcu",
                       "rcu_dereference_check", "list_first_rcu", "list_next_rcu"})


# ---------------------------------------------------------------- IDR
# idr_capacity entries of two cells each: id + 1 (0: empty) and the pointer, sorted by id and
# packed at the front.


def _idr(k, r, name, kind="idr"):
    i = k.cell(r, kind, f"{name} on")
    cap = k.idr_capacity
    keys = [k.rd(i, 2 * n) for n in range(cap)]
    ptrs = [k.rd(i, 2 * n + 1) for n in range(cap)]
    return i, keys, ptrs


def _idr_store(k, i, keys, ptrs):
    for n in range(len(keys)):
        k.wr(i, keys[n], 2 * n)
        k.wr(i, ptrs[n], 2 * n + 1)


def _idr_lookup(k, keys, ptrs, id_):
    hits = [k.and_(keys[n] != 0, keys[n] - 1 == id_) for n in range(len(keys))]
    found = 0
    for n in reversed(range(len(keys))):
        found = k.sel(hits[n], ptrs[n], found)
    return hits, found


@prim("void *idr_find(const struct idr *idr, unsigned long id)", ("idr", "int"), _VOIDP)
def idr_find(k, r, id_):
    _, keys, ptrs = _idr(k, r, "idr_find")
    k.result(_idr_lookup(k, keys, ptrs, id_)[1])


def _remove(k, i, keys, ptrs, id_):
    """Drop the (unique) entry of id_ and close the gap; its pointer, or NULL."""
    hits, found = _idr_lookup(k, keys, ptrs, id_)
    gone = 0
    new_k, new_p = [], []
    cap = len(keys)
    for n in range(cap):
        gone = k.or_(gone, hits[n])
        new_k.append(k.sel(gone, keys[n + 1] if n + 1 < cap else 0, keys[n]))
        new_p.append(k.sel(gone, ptrs[n + 1] if n + 1 < cap else 0, ptrs[n]))
    _idr_store(k, i, new_k, new_p)
    return found


@prim("void *idr_remove(struct idr *idr, unsigned long id)", ("idr", "int"), _VOIDP)
def idr_remove(k, r, id_):
    i, keys, ptrs = _idr(k, r, "idr_remove")
    k.result(_remove(k, i, keys, ptrs, id_))


def _lowest_free(k, keys, start, past):
    """The lowest id from start on that is free or past the end of the range: one of start..start+cap."""
    cap = len(keys)

    def used(v):
        return k.or_(*[k.and_(keys[n] != 0, keys[n] - 1 == v) for n in range(cap)])
    new = start + cap
    for d in reversed(range(cap)):
        v = start + d
        new = k.sel(k.or_(k.not_(used(v)), past(v)), v, new)
    return new


def _insert(k, i, keys, ptrs, new, ptr, what):
    """Insert (new, ptr), new not present, keeping the entries sorted; the bound when they are all taken."""
    cap = len(keys)
    count = 0
    for n in range(cap):
        count = count + k.sel(keys[n] != 0, 1, 0)
    if k.fork(count >= cap):
        k.bound(f"{what} needed more than idr_capacity = {cap} entries", "raise idr_capacity in the spec's [bounds]")
    pos = 0
    for n in range(cap):
        pos = pos + k.sel(k.and_(keys[n] != 0, keys[n] - 1 < new), 1, 0)
    new_k, new_p = [], []
    for n in range(cap):
        prev_k = keys[n - 1] if n else 0
        prev_p = ptrs[n - 1] if n else 0
        new_k.append(k.sel(pos > n, keys[n], k.sel(pos == n, new + 1, prev_k)))
        new_p.append(k.sel(pos > n, ptrs[n], k.sel(pos == n, ptr, prev_p)))
    _idr_store(k, i, new_k, new_p)


@prim("int idr_alloc(struct idr *idr, void *ptr, int start, int end, gfp_t gfp)", ("idr", ANY_PTR, "int", "int"),
      INT)
def idr_alloc(k, r, ptr, start, end):
    i, keys, ptrs = _idr(k, r, "idr_alloc")
    if k.fork(start < 0):
        k.warn("assertion", lambda n: f"idr_alloc with negative start {n.int(start)} (WARN_ON_ONCE in the kernel)")
        k.result(-EINVAL)
        return

    def past(v):  # at or past the end of the range; end <= 0: the range is [start, INT_MAX]
        return k.or_(k.and_(end > 0, v >= end), k.and_(end <= 0, v > INT_MAX))
    new = _lowest_free(k, keys, start, past)
    if k.fork(past(new)):
        k.result(-ENOSPC)
        return
    _insert(k, i, keys, ptrs, new, ptr, "an IDR")
    k.result(new)


# ---------------------------------------------------------------- XArray
# The same entries as an IDR: idr_capacity (index + 1, pointer) pairs, sorted by index. An entry is never
# NULL: storing NULL erases.
ULONG_MAX = 2**64 - 1


@prim("void *xa_load(struct xarray *xa, unsigned long index)", ("xarray", "int"), _VOIDP)
def xa_load(k, r, index):
    _, keys, ptrs = _idr(k, r, "xa_load", "xarray")
    k.result(_idr_lookup(k, keys, ptrs, index)[1])


@prim("void *xa_erase(struct xarray *xa, unsigned long index)", ("xarray", "int"), _VOIDP)
def xa_erase(k, r, index):
    i, keys, ptrs = _idr(k, r, "xa_erase", "xarray")
    k.result(_remove(k, i, keys, ptrs, index))


@prim("void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)", ("xarray", "int", ANY_PTR),
      _VOIDP)
def xa_store(k, r, index, entry):
    """Store entry at index, replacing what was there (returned); storing NULL erases."""
    i, keys, ptrs = _idr(k, r, "xa_store", "xarray")
    hits, found = _idr_lookup(k, keys, ptrs, index)
    if k.fork(entry == 0):
        k.result(_remove(k, i, keys, ptrs, index))
        return
    if k.fork(k.or_(*hits)):
        for n in range(len(keys)):
            k.wr(i, k.sel(hits[n], entry, ptrs[n]), 2 * n + 1)
    else:
        _insert(k, i, keys, ptrs, index, entry, "an XArray")
    k.result(found)


@prim("int xa_insert(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)", ("xarray", "int", ANY_PTR),
      INT)
def xa_insert(k, r, index, entry):
    """Store entry at index unless an entry is there (-EBUSY)."""
    i, keys, ptrs = _idr(k, r, "xa_insert", "xarray")
    hits, _ = _idr_lookup(k, keys, ptrs, index)
    if k.fork(k.or_(*hits)):
        k.result(-EBUSY)
        return
    if k.fork(entry != 0):
        _insert(k, i, keys, ptrs, index, entry, "an XArray")
    k.result(0)


@prim("int xa_alloc(struct xarray *xa, u32 *id, void *entry, u32 min, u32 max, gfp_t gfp)",
      ("xarray", "int_ptr", ANY_PTR, "int", "int"), INT)
def xa_alloc(k, r, idp, entry, lo, hi):
    """Store entry at the lowest free index in [min, max] and write the index to *id; -EBUSY if there is none.
    The limit is written XA_LIMIT(min, max) or xa_limit_32b (macros for the two arguments)."""
    i, keys, ptrs = _idr(k, r, "xa_alloc", "xarray")
    idc = k.cell(idp, "int_ptr", "xa_alloc's id at")
    new = _lowest_free(k, keys, lo, lambda v: v > hi)
    if k.fork(new > hi):
        k.result(-EBUSY)
        return
    _insert(k, i, keys, ptrs, new, entry, "an XArray")
    k.wr(idc, new)
    k.result(0)


@prim("bool xa_empty(const struct xarray *xa)", ("xarray",), BOOL)
def xa_empty(k, r):
    _, keys, _ = _idr(k, r, "xa_empty", "xarray")
    k.result(k.sel(keys[0] == 0, 1, 0))


@prim("void xa_destroy(struct xarray *xa)", ("xarray",))
def xa_destroy(k, r):
    """Remove every entry (the entries themselves are not freed, as in the kernel)."""
    i, keys, ptrs = _idr(k, r, "xa_destroy", "xarray")
    _idr_store(k, i, [0] * len(keys), [0] * len(keys))


@prim("unsigned long __xa_find(struct xarray *xa, unsigned long start)", ("xarray", "int"), INT)
def xa_find(k, r, start):
    """The lowest index at or after start that holds an entry, or ULONG_MAX (xa_for_each's step)."""
    _, keys, _ = _idr(k, r, "xa_for_each over", "xarray")
    out = -1
    for n in reversed(range(len(keys))):
        out = k.sel(k.and_(keys[n] != 0, keys[n] - 1 >= start), keys[n] - 1, out)
    k.result(out)


# ---------------------------------------------------------------- lists (membership: a node's cell holds its head)


@prim("void list_add(struct list_head *new, struct list_head *head)", ("list_head", "list_head"), private=True)
def list_add(k, node, head):
    i = k.cell(node, "list_head", "list_add of")
    k.cell(head, "list_head", "list_add to")
    if k.fork(k.rd(i) != 0):
        k.fail("assertion", lambda n: f"list_add of {n.cell(i)}, which is already on a list (list corruption)")
    k.wr(i, head)


def _list_init(name):
    def init(k, node):
        k.wr(k.cell(node, "list_head", f"{name} of"), 0)
    return init


prim("void list_del_init(struct list_head *entry)", ("list_head",), private=True,
     name="list_del_init")(_list_init("list_del_init"))
prim("void INIT_LIST_HEAD(struct list_head *list)", ("list_head",), private=True,
     name="init_list_head")(_list_init("INIT_LIST_HEAD"))


@prim("void list_del(struct list_head *entry)", ("list_head",), private=True)
def list_del(k, node):
    i = k.cell(node, "list_head", "list_del of")
    if k.fork(k.rd(i) == 0):
        k.fail("assertion", lambda n: f"list_del of {n.cell(i)}, which is not on a list (list corruption)")
    k.wr(i, 0)


def list_is_empty(k, i, head):
    """Is the list at head (its cell i) empty: not itself a node on a list, and no live node on it."""
    empty = k.sel(k.rd(i) != 0, 0, 1)
    for j in k.list_cells:
        empty = k.sel(k.and_(k.rd(j) == head, k.live(j)), 0, empty)
    return empty


@prim("int list_empty(const struct list_head *head)", ("list_head",), BOOL, private=True)
def list_empty(k, head):
    k.result(list_is_empty(k, k.cell(head, "list_head", "list_empty of"), head))


def _list_after(k, head, after):
    """The address of the first live node on `head` whose cell comes after cell index `after` (cell order
    is the iteration order: lists model membership, not order), or NULL."""
    out = 0
    for j in reversed(k.list_cells):
        out = k.sel(k.and_(k.rd(j) == head, k.live(j), after < j), k.base + j, out)
    return out


@prim("struct list_head *__list_first(const struct list_head *head)", ("list_head",), _VOIDP)
def list_first(k, head):
    """The first node of a list_for_each_entry walk, or NULL on an empty list."""
    k.cell(head, "list_head", "list_for_each_entry over")
    k.result(_list_after(k, head, -1))


@prim("struct list_head *__list_next(const struct list_head *head, struct list_head *pos)",
      ("list_head", "list_head"), _VOIDP)
def list_next(k, head, pos):
    """The node after `pos` in a list_for_each_entry walk, or NULL at the end. `pos` must still be on the
    list: a walk that goes on from a node deleted in the loop body follows LIST_POISON in the kernel."""
    k.cell(head, "list_head", "list_for_each_entry over")
    i = k.cell(pos, "list_head", "list_for_each_entry step from")
    if k.fork(k.rd(i) != head):
        k.fail("assertion", lambda n: f"list_for_each_entry goes on from {n.cell(i)}, which is no longer on the "
                                      f"list (list_del inside the loop: use list_for_each_entry_safe)",
               key="list-walk-deleted")
    k.result(_list_after(k, head, i))


@prim("struct list_head *__list_first_rcu(const struct list_head *head, int cond)", ("list_head", "int"), _VOIDP)
def list_first_rcu(k, head, cond):
    """The first node of a list_for_each_entry_rcu walk; `cond` is its optional lockdep condition (0 if none)."""
    k.cell(head, "list_head", "list_for_each_entry_rcu over")
    _rcu_context(k, "list_for_each_entry_rcu()", cond != 0)
    k.result(_list_after(k, head, -1))


@prim("struct list_head *__list_next_rcu(const struct list_head *head, struct list_head *pos, int cond)",
      ("list_head", "list_head", "int"), _VOIDP)
def list_next_rcu(k, head, pos, cond):
    """As __list_next, but a node deleted by list_del_rcu still leads on (readers may see it)."""
    k.cell(head, "list_head", "list_for_each_entry_rcu over")
    i = k.cell(pos, "list_head", "list_for_each_entry_rcu step from")
    _rcu_context(k, "list_for_each_entry_rcu()", cond != 0)
    k.result(_list_after(k, head, i))


@prim("int list_is_singular(const struct list_head *head)", ("list_head",), BOOL, private=True)
def list_is_singular(k, head):
    i = k.cell(head, "list_head", "list_is_singular of")
    count = 0
    for j in k.list_cells:
        count = count + k.sel(k.and_(k.rd(j) == head, k.live(j)), 1, 0)
    k.result(k.sel(k.and_(k.rd(i) == 0, count == 1), 1, 0))


@prim("void list_move(struct list_head *list, struct list_head *head)", ("list_head", "list_head"), private=True)
def list_move(k, node, head):
    i = k.cell(node, "list_head", "list_move of")
    k.cell(head, "list_head", "list_move to")
    if k.fork(k.rd(i) == 0):
        k.fail("assertion", lambda n: f"list_move of {n.cell(i)}, which is not on a list (list corruption)")
    k.wr(i, head)


@prim("int hlist_unhashed(const struct hlist_node *h)", ("list_head",), BOOL, private=True)
def hlist_unhashed(k, node):
    k.result(k.sel(k.rd(k.cell(node, "list_head", "hlist_unhashed of")) == 0, 1, 0))


# ---------------------------------------------------------------- cpumasks


@prim("bool cpumask_empty(const struct cpumask *mask)", ("cpumask",), BOOL, private=True)
def cpumask_empty(k, r):
    k.result(k.sel(k.rd(k.cell(r, "cpumask", "cpumask_empty of")) != 0, 0, 1))


@prim("unsigned int cpumask_first(const struct cpumask *mask)", ("cpumask",), UINT, private=True)
def cpumask_first(k, r):
    v = k.rd(k.cell(r, "cpumask", "cpumask_first of"))
    out = k.ncpu
    for c in reversed(range(k.ncpu)):
        out = k.sel((v >> c) & 1 != 0, c, out)
    k.result(out)


@prim("void cpumask_clear(struct cpumask *mask)", ("cpumask",), private=True)
def cpumask_clear(k, r):
    k.wr(k.cell(r, "cpumask", "cpumask_clear of"), 0)


def _cpu_arg(k, name, cpu):
    if k.fork(k.or_(cpu < 0, cpu >= k.ncpu)):
        k.fail("out-of-bounds", lambda n: f"{name}: CPU {n.int(cpu)} is not below nr_cpu_ids ({k.ncpu})")


def _mask_bit(name, op):
    def bit(k, cpu, r):
        i = k.cell(r, "cpumask", f"{name} of")
        _cpu_arg(k, name, cpu)
        v = k.rd(i)
        if op == "set":
            k.wr(i, v | (1 << cpu))
        elif op == "clear":
            k.wr(i, v & ~(1 << cpu))
        else:
            k.result(k.sel((v >> cpu) & 1 != 0, 1, 0))
    return bit


prim("void cpumask_set_cpu(unsigned int cpu, struct cpumask *mask)", ("int", "cpumask"), private=True,
     name="cpumask_set_cpu")(_mask_bit("cpumask_set_cpu", "set"))
prim("void cpumask_clear_cpu(unsigned int cpu, struct cpumask *mask)", ("int", "cpumask"), private=True,
     name="cpumask_clear_cpu")(_mask_bit("cpumask_clear_cpu", "clear"))
prim("bool cpumask_test_cpu(int cpu, const struct cpumask *mask)", ("int", "cpumask"), BOOL, private=True,
     name="cpumask_test_cpu")(_mask_bit("cpumask_test_cpu", "test"))


# ---------------------------------------------------------------- CPUs
# A CPU's state cell: 0 offline, 1 online, 2 running a spawned kernel; its image cell: the object it runs.

OFFLINE, ONLINE, RUNNING = 0, 1, 2


@prim("bool cpu_online(unsigned int cpu)", ("int",), BOOL)
def cpu_online(k, cpu):
    _cpu_arg(k, "cpu_online", cpu)
    k.result(k.sel(k.rd(k.cpu_cell(cpu, "state")) == ONLINE, 1, 0))


@prim("int add_cpu(unsigned int cpu)", ("int",), INT)
def add_cpu(k, cpu):
    _cpu_arg(k, "add_cpu", cpu)
    k.wr(k.cpu_cell(cpu, "state"), ONLINE)
    k.wr(k.cpu_cell(cpu, "image"), 0)
    k.result(0)


@prim("int remove_cpu(unsigned int cpu)", ("int",), INT)
def remove_cpu(k, cpu):
    _cpu_arg(k, "remove_cpu", cpu)
    if k.fork(cpu < k.nhost):
        k.result(-EBUSY)  # host CPUs run the model's threads and stay online
        return
    st = k.cpu_cell(cpu, "state")
    v = k.rd(st)
    k.wr(st, k.sel(v == ONLINE, OFFLINE, v))
    k.result(0)


@prim("int multikernel_kick_ap(unsigned int cpu, void *mem)", ("int", ANY_PTR), INT)
def multikernel_kick_ap(k, cpu, mem):
    """Start `mem` (an object: the image that holds the entry point) on an offline CPU."""
    _cpu_arg(k, "multikernel_kick_ap", cpu)
    target = k.object_base(mem, "multikernel_kick_ap of")
    st = k.cpu_cell(cpu, "state")
    if k.fork(k.rd(st) == ONLINE):
        k.fail("assertion", lambda n: f"multikernel_kick_ap on CPU{n.int(cpu)}, which is online: INIT/SIPI resets "
                                      f"a CPU the host kernel is running on")
    k.wr(st, RUNNING)
    k.wr(k.cpu_cell(cpu, "image"), target)
    k.result(0)


# ---------------------------------------------------------------- queries (invariants only)

for _name in ("kref_read", "refcount_read", "atomic_read", "list_empty", "cpumask_empty"):
    QUERIES[_name] = PRIMS[_name]


@prim("bool mutex_is_locked(struct mutex *lock)", ("mutex",), BOOL, query=True)
def mutex_is_locked(k, r):
    k.result(k.sel(k.rd(k.cell(r, "mutex", "mutex_is_locked of")) != 0, 1, 0))


@prim("bool cpu_online(unsigned int cpu)", ("int",), BOOL, query=True, name="cpu_online")
def cpu_online_query(k, cpu):
    """As an invariant reads it: false for a CPU number out of range (the primitive reports out-of-bounds)."""
    ok = k.and_(cpu >= 0, cpu < k.ncpu)
    k.result(k.sel(k.and_(ok, k.rd(k.cpu_cell(k.sel(ok, cpu, 0), "state")) == ONLINE), 1, 0))


@prim("bool cpu_executes(const void *mem)", (ANY_PTR,), BOOL, query=True)
def cpu_executes(k, mem):
    """Is any CPU running a spawned kernel from the object mem points into (freed or not)?"""
    target = k.object_of(mem)
    hit = 0
    for c in range(k.ncpu):
        hit = k.or_(hit, k.and_(k.rd(k.cpu_cell(c, "state")) == RUNNING, k.rd(k.cpu_cell(c, "image")) == target))
    k.result(k.sel(hit, 1, 0))
