/*
 * _explore: the C enumerator. Breadth-first exploration of an mkverify
 * program, lowered by mkverify/engines/native.py to one int64 array (the
 * "image": header, tables, bytecode). The semantics are machine.py's, step
 * for step; tests/test_native.py holds the two engines to the same
 * reachable-state counts, verdicts and shortest-trace lengths.
 *
 * Pieces, in file order:
 *   image     validation of everything Python hands over (never trust it)
 *   layout    fixed-width, bit-packed states; a field that outgrows its
 *             width is widened and every stored state repacked
 *   machine   expression evaluation, one step, state checks, and the core: the
 *             micro-programs core.trace compiles each kernel primitive of
 *             kernel.py into (urun), the only meaning of a primitive here
 *   explore   layer-by-layer BFS over N partitions (one per thread): phase A
 *             expands the frontier into per-partition streams, phase B
 *             inserts each stream in order; with one thread the numbering of
 *             states is exactly the reference explorer's
 *
 * A violation is reported as a key (check code and the identity Python uses
 * to tell findings apart) with the state or step it was found at; Python
 * replays the trace with machine.py to render it, so text is produced once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int64_t i64;
typedef uint64_t u64;
typedef uint32_t u32;

static inline u64 mix64(u64 h);

/* ------------------------------------------------------------------ codes shared with native.py */

#define MAGIC 0x6d6b7665726679LL /* "mkverify" */
#define VERSION 5
#define MAXPARGS 6 /* arguments of a primitive (xa_alloc has 5) */
enum { INV_ALWAYS = 1, INV_WITNESS = 2 }; /* the flags of an invariant record (native.py) */

enum {
    H_MAGIC, H_VERSION, H_NCELLS, H_BASE, H_NTHREADS, H_NCPU, H_NFUNCS, H_FUNCS, H_NSLOTS, H_SLOTS,
    H_NPOOLS, H_POOLS, H_CELLS, H_INIT, H_CPUCELLS, H_NCHOICES, H_CHOICES, H_NLC, H_LCS, H_NINV,
    H_INVS, H_NCTX, H_CTXS, H_ROOTS, H_NSITES, H_MAXDEPTH, H_MAXLOC, H_ALLOCFAIL, H_IDRCAP,
    H_LEAKED, H_NLOCS, H_REDUCE, H_NSTRUCTS, H_LEVELS, H_SYMPOOLS, H_ATOMIC, H_NPROGS, H_PROGS, H_NKEYS,
    H_MAXREGS, H_SYMTHREADS, H_RCUDEPTH, H_NWORKERS, H_HOSTCH, H_NDEFER, H_DEFER, H_WRUNS, H_SIZE
};

/* cell kinds */
enum { K_INT, K_PTR, K_STATUS, K_SITE, K_CPUSTATE, K_CPUIMAGE, K_IDRKEY, K_IDRPTR, K_LIST, K_LOCK,
       K_SCALAR, K_CPUMASK, K_RWSEM, K_RWLOCK, K_COMPLETION, K_WORK, K_TIMER, K_RCUHEAD, K_KOBJECT,
       K_KTYPE, K_NKINDS };

/* instructions */
enum { I_SET, I_LOAD, I_STORE, I_PRIM, I_BRANCH, I_JUMP, I_CALL, I_RET, I_CHECK, I_N };

/* expression bytecode (postfix) */
enum { E_END, E_CONST, E_VAR, E_ADDC, E_INDEX, E_BIN, E_NOT, E_NEG, E_BNOT, E_CAST, E_JZ, E_JNZ,
       E_BOOL, E_DEREF, E_QUERY, E_HOLDS, E_N };

enum { B_ADD, B_SUB, B_MUL, B_DIV, B_MOD, B_SHL, B_SHR, B_AND, B_OR, B_XOR, B_EQ, B_NE, B_LT, B_LE,
       B_GT, B_GE, B_N };


/* micro-operations: what a kernel primitive of kernel.py compiles to (core.trace). Their opcodes (U_*), the
   operators of U_BIN (UB_*), a program's flags (PF_*) and the cell classes (NCLASS) are generated from
   mkverify/core.py into _core.h; registers are indices into Mach.regs. */
#include "_core.h"
/* a micro-program record (H_PROGS): ops offset, op count, registers, flags, arguments */
#define PREC 5
/* how a micro-program runs: a step, a probe (does it wait? nothing changes), an invariant's query */
enum { UM_STEP, UM_PROBE, UM_QUERY };
#define MAXREGS (1 << 20)
#define NBOUNDS 16 /* bound messages a model may have: a bound's key is loc * NBOUNDS + message */
/* the cell kinds each class of _core.h accepts (core.CELL_CLASSES): one kind, or any lock for class 10, any
   deferred item for class 14 */
#define KB(k) ((i64)1 << (k))
static const i64 CLASS_KINDS[NCLASS] = {KB(K_SCALAR), KB(K_LOCK), KB(K_LIST), KB(K_CPUMASK), KB(K_IDRKEY), KB(K_PTR),
                                        KB(K_RWSEM), KB(K_RWLOCK), KB(K_COMPLETION), KB(K_INT),
                                        KB(K_LOCK) | KB(K_RWSEM) | KB(K_RWLOCK), KB(K_WORK), KB(K_TIMER),
                                        KB(K_RCUHEAD), KB(K_WORK) | KB(K_TIMER) | KB(K_RCUHEAD), KB(K_KOBJECT),
                                        KB(K_KTYPE)};

/* violation keys: what makes two violations the same finding (machine.py's Violation.key) */
enum {
    V_NULL, V_UAF, V_WILD, V_OOB, V_DIV0, V_ASSERTION, V_INVALID_FREE, V_DOUBLE_FREE, V_ILLEGAL,
    V_FREED_ON_LIST, V_FREED_LOCKED, V_HELD_AT_RETURN, V_CPU_EXECUTES_FREED, V_DEADLOCK, V_DANGLING,
    V_LEAK, V_INVARIANT, V_N
};

#define DEFERRED_PENDING 1 /* kernel.py: the pending bit of a work item, timer or rcu_head cell */
#define FREE 0
#define LIVE 1
#define FREED 2
#define OFFLINE 0
#define ONLINE 1
#define RUNNING 2
#define SILENT_BUDGET 100000
#define INT_MAX32 2147483647LL
#define ENOSPC_ 28
#define EBUSY_ 16
#define EINVAL_ 22
#define MAXHOST 16
#define KEYLEN (2 + MAXHOST)
#define ESTACK 64

/* ------------------------------------------------------------------ the validated model */

typedef struct {
    i64 nlocals, nparams, body_len;
    const i64 *pcoff;   /* body_len offsets of instruction records */
    const i64 *locinfo; /* per local: bits, signed, isptr */
    const i64 *dead;    /* per pc: offset of a list (n, indices...) */
    const i64 *movers;  /* per pc: 1 a lock-protected access, 2 an unlock: a left mover (analysis.py) */
} Func;

typedef struct {
    i64 base, status, site, size, struct_id;
} Slot;

typedef struct {
    const i64 *img;
    Py_ssize_t n;
    i64 ncells, base, nthreads, ncpu, nfuncs, nslots, npools, nchoices, nlc, ninv, nctx, nsites;
    i64 maxdepth, maxloc, allocfail, idrcap, leaked, nlocs, reduce, nstructs, atomic;
    Func *funcs;
    Slot *slots;
    const i64 *pools;   /* first slot, count */
    const i64 *cells;   /* kind, owner, lifecycle */
    const i64 *init;
    const i64 *cpucells;
    const i64 *choices; /* nchoices offsets: fi, nargs, args */
    const i64 *lcs;     /* nlc offsets: n, pairs */
    const i64 *invs;    /* ninv: pool, expr, always */
    const i64 *ctxs;    /* nctx: func, table offset */
    const i64 *roots;   /* per func: root ctx or -1 */
    i64 *ptr_cells, nptr; /* cells holding pointers */
    i64 *list_cells, nlist;
    i64 *lock_cells, nlockc;
    int symthreads;      /* host threads are interchangeable (no per-CPU cell, such as RCU's, names them) */
    i64 rcudepth;        /* the first of the per-thread RCU nesting cells (kernel.py), or -1 */
    i64 nworkers;        /* the last nworkers threads are workers (machine.py), the others host CPUs */
    i64 nhost;           /* nthreads - nworkers */
    i64 hostch;          /* host threads start choices 0..hostch-1, workers the rest: one per deferred cell */
    i64 ndefer;          /* the deferred item cells (work, timer, rcu_head), in the order of their choices */
    const i64 *defer;
    const i64 *wruns;    /* per worker: its runs cell (the address of the item it runs, or 0) */
    i64 nslot_total;    /* slots of the working vector: cells + threads */
    i64 tsize;          /* per thread: the depth, then its frames */
    i64 foff[256];      /* per stack level: offset of its frame in the thread's slots */
    const i64 *sympool; /* per pool: 1 if its slots are interchangeable (native.py decides) */
    i64 *slot_pool;     /* per slot: its pool if that pool is symmetric, else -1 */
    i64 nloc[256];      /* per stack level: locals of the largest function that can run there */
    i64 nprogs, nkeys, maxregs;
    const i64 *progs;   /* nprogs records of PREC words: the primitives' micro-programs */
} Model;

static PyObject *ExploreError; /* malformed image: a bug in the lowering, never a crash */

static int bad(const char *what, i64 a, i64 b)
{
    PyErr_Format(ExploreError, "invalid program image: %s (%lld, %lld)", what, (long long)a, (long long)b);
    return -1;
}

#define NEED(c, what, a, b) do { if (!(c)) return bad(what, (a), (b)); } while (0)

static int in_img(const Model *m, i64 off, i64 len)
{
    return off >= H_SIZE && len >= 0 && off <= m->n && len <= m->n - off;
}

/* validate one expression: known ops, operands in range, stack never under- or overflows. inv: 0 in a
 * step, 1 in an invariant, 2 in the sub-expression of an E_HOLDS (which cannot hold another) */
static int check_expr(const Model *m, i64 off, i64 nlocals, int inv)
{
    static const signed char NOPS[E_N] = {[E_END] = 0, [E_CONST] = 1, [E_VAR] = 1, [E_ADDC] = 1, [E_INDEX] = 3,
                                          [E_BIN] = 4, [E_NOT] = 0, [E_NEG] = 2, [E_BNOT] = 2, [E_CAST] = 2,
                                          [E_JZ] = 1, [E_JNZ] = 1, [E_BOOL] = 0, [E_DEREF] = 1, [E_QUERY] = 2,
                                          [E_HOLDS] = 1};
    i64 sp = 0, pc = off;
    i64 jt[ESTACK], js[ESTACK]; /* pending forward jumps: target, stack depth expected there */
    int nj = 0;
    NEED(in_img(m, off, 1), "expression offset", off, 0);
    for (;;) {
        NEED(pc >= off && pc < m->n, "expression runs off the image", off, pc);
        for (int k = 0; k < nj; k++) {
            NEED(jt[k] >= pc, "jump into an operand", off, jt[k]);
            if (jt[k] == pc) {
                NEED(js[k] == sp, "jump target stack depth", off, pc);
                jt[k] = jt[--nj];
                js[k] = js[nj];
                k--;
            }
        }
        i64 op = m->img[pc];
        NEED(op >= 0 && op < E_N, "unknown expression op", op, pc);
        int nops = NOPS[op], pop = 0, push = 1;
        NEED(pc + nops < m->n, "expression operands run off the image", off, pc);
        const i64 *a = m->img + pc + 1;
        switch (op) {
        case E_END: NEED(sp == 1 && nj == 0, "expression leaves a stack of", sp, off); return 0;
        case E_CONST: break;
        case E_VAR: NEED(a[0] >= 0 && a[0] < nlocals, "local out of range", a[0], nlocals); break;
        case E_ADDC: pop = 1; break;
        case E_INDEX: pop = 2; NEED(a[0] > 0 && a[1] >= 0 && a[2] >= 0 && a[2] < m->nlocs, "index shape", off, pc); break;
        case E_BIN: pop = 2;
            NEED(a[0] >= 0 && a[0] < B_N && a[1] >= 0 && a[1] <= 64 && (a[2] == 0 || a[2] == 1) && a[3] >= 0 &&
                 a[3] < m->nlocs, "binary op", off, pc);
            break;
        case E_NOT: case E_BOOL: pop = 1; break;
        case E_NEG: case E_BNOT: case E_CAST: pop = 1;
            NEED(a[0] >= 0 && a[0] <= 64 && (a[1] == 0 || a[1] == 1), "width", off, pc); break;
        case E_JZ: case E_JNZ: pop = 1;
            NEED(a[0] > pc + 1 && a[0] < m->n, "jump", off, pc); break;
        case E_DEREF: NEED(inv, "Deref outside an invariant", off, pc); pop = 1; break;
        case E_QUERY: NEED(inv, "query outside an invariant", off, pc);
            NEED(a[0] >= 0 && a[0] < m->nprogs && (m->progs[PREC * a[0] + 3] & PF_QUERY) && a[1] == 1 &&
                 m->progs[PREC * a[0] + 4] == 1, "query", off, pc);
            pop = 1;
            break;
        case E_HOLDS: NEED(inv == 1, "E_HOLDS outside an invariant, or nested", off, pc); pop = 0;
            if (check_expr(m, a[0], nlocals, 2)) return -1;
            break;
        }
        NEED(sp >= pop, "expression stack underflow", off, pc);
        sp = sp - pop + push;
        NEED(sp <= ESTACK, "expression too deep", off, pc);
        if (op == E_JZ || op == E_JNZ) {
            NEED(nj < ESTACK, "too many jumps", off, pc);
            jt[nj] = a[0];
            js[nj++] = sp; /* taken: the operand stays (as 0 or 1) */
            sp -= 1;       /* fall-through: popped */
        }
        pc += 1 + nops;
    }
}

/* the micro-programs: every operand in range, branches forward only (a program ends), a call last */
static int check_progs(const Model *m)
{
    for (i64 p = 0; p < m->nprogs; p++) {
        const i64 *pg = m->progs + PREC * p;
        i64 nops = pg[1], nr = pg[2];
        NEED(nops >= 1 && nops < (1 << 20) && in_img(m, pg[0], UREC * nops), "program ops", p, nops);
        NEED(nr >= 0 && nr <= m->maxregs, "program registers", p, nr);
        NEED(pg[3] >= 0 && pg[3] < (1 << 7) && pg[4] >= 0 && pg[4] <= MAXPARGS, "program flags", p, pg[3]);
        int query = (pg[3] & PF_QUERY) != 0;
        NEED(!query || pg[3] == PF_QUERY, "a query with effects", p, pg[3]);
        for (i64 k = 0; k < nops; k++) {
            const i64 *o = m->img + pg[0] + UREC * k;
#define REG(x) NEED((x) >= 0 && (x) < nr, "register", p, k)
#define REG_OR_NONE(x) NEED((x) >= -1 && (x) < nr, "register", p, k)
            switch (o[0]) {
            case U_END: break;
            case U_ARG: REG(o[1]); NEED(o[2] >= 0 && o[2] < pg[4], "argument", p, k); break;
            case U_CONST: case U_ME: case U_ALLOC: case U_CHOICE: REG(o[1]); break;
            case U_BIN: REG(o[1]); REG(o[3]); REG(o[4]); NEED(o[2] >= 0 && o[2] < UB_N, "operator", p, k); break;
            case U_NOT: case U_BNOT: REG(o[1]); REG(o[2]); break;
            case U_SEL: REG(o[1]); REG(o[2]); REG(o[3]); REG(o[4]); break;
            case U_WRAP: REG(o[1]); REG(o[2]); NEED(o[3] >= 0 && o[3] <= 64 && (o[4] == 0 || o[4] == 1), "wrap", p, k);
                break;
            case U_CELL: REG(o[1]); REG(o[2]); NEED(o[3] >= 0 && o[3] < NCLASS, "cell class", p, k); break;
            case U_RD: REG(o[1]); REG(o[2]); NEED(o[3] >= 0 && o[3] < m->ncells, "offset", p, k); break;
            case U_WR: REG(o[1]); REG(o[3]); NEED(o[2] >= 0 && o[2] < m->ncells, "offset", p, k); break;
            case U_CPUCELL: REG(o[1]); REG(o[2]); NEED(o[3] == 0 || o[3] == 1, "cpu cell", p, k); break;
            case U_OBJBASE: case U_OBJOF: REG(o[1]); REG(o[2]); break;
            case U_LIVE: REG(o[1]); NEED(o[2] >= 0 && o[2] < m->ncells, "cell", p, k); break;
            case U_BR: REG(o[1]); NEED(o[2] > k && o[2] < nops, "branch target", p, k); break;
            case U_FAIL: case U_WARN:
                NEED(o[1] >= 0 && o[1] < m->nkeys, "key", p, k); REG_OR_NONE(o[2]); REG_OR_NONE(o[3]); break;
            case U_AWAIT: REG(o[1]); REG(o[2]); REG(o[3]); break;
            case U_BOUND: NEED(o[1] >= 0 && o[1] < NBOUNDS, "bound", p, k); break;
            case U_RESULT: case U_FREE: REG(o[1]); break;
            case U_CALL: REG(o[1]); NEED(k + 1 < nops && o[UREC] == U_END, "a call ends its program", p, k); break;
            default: return bad("unknown micro-operation", o[0], k);
            }
            NEED(!query || (o[0] != U_WR && o[0] != U_OBJBASE && (o[0] <= U_BR || o[0] == U_RESULT)),
                 "a query's operation writes or reports", p, k);
#undef REG
#undef REG_OR_NONE
        }
        /* the interpreter runs without a bound check: no path may run past the last operation */
        i64 last = m->img[pg[0] + UREC * (nops - 1)];
        NEED(last == U_END || last == U_FAIL || last == U_BOUND, "a program must end in end, fail or bound", p, last);
    }
    return 0;
}

static int load_model(Model *m, const i64 *img, Py_ssize_t n)
{
    memset(m, 0, sizeof *m);
    m->img = img;
    m->n = n;
    NEED(n >= H_SIZE, "image shorter than its header", n, H_SIZE);
    NEED(img[H_MAGIC] == MAGIC && img[H_VERSION] == VERSION, "magic or version", img[H_MAGIC], img[H_VERSION]);
    m->ncells = img[H_NCELLS]; m->base = img[H_BASE]; m->nthreads = img[H_NTHREADS]; m->ncpu = img[H_NCPU];
    m->nfuncs = img[H_NFUNCS]; m->nslots = img[H_NSLOTS]; m->npools = img[H_NPOOLS];
    m->nchoices = img[H_NCHOICES]; m->nlc = img[H_NLC]; m->ninv = img[H_NINV]; m->nctx = img[H_NCTX];
    m->nsites = img[H_NSITES]; m->maxdepth = img[H_MAXDEPTH]; m->maxloc = img[H_MAXLOC];
    m->allocfail = img[H_ALLOCFAIL]; m->idrcap = img[H_IDRCAP]; m->leaked = img[H_LEAKED];
    m->nlocs = img[H_NLOCS]; m->reduce = img[H_REDUCE]; m->nstructs = img[H_NSTRUCTS];
    m->atomic = img[H_ATOMIC];
    m->nprogs = img[H_NPROGS]; m->nkeys = img[H_NKEYS]; m->maxregs = img[H_MAXREGS];
    m->symthreads = img[H_SYMTHREADS] != 0;
    m->rcudepth = img[H_RCUDEPTH];
    m->nworkers = img[H_NWORKERS]; m->hostch = img[H_HOSTCH]; m->ndefer = img[H_NDEFER];
    NEED(m->nprogs >= 0 && m->nprogs < (1 << 16) && m->nkeys >= 0 && m->nkeys < (1 << 16), "programs", m->nprogs,
         m->nkeys);
    NEED(m->maxregs >= 1 && m->maxregs <= MAXREGS, "registers", m->maxregs, MAXREGS);
    NEED(in_img(m, img[H_PROGS], PREC * m->nprogs), "program table", img[H_PROGS], m->nprogs);
    m->progs = img + img[H_PROGS];
    NEED(m->atomic == 0 || m->atomic == 1, "atomic sections flag", m->atomic, 0);
    NEED(m->ncells > 0 && m->ncells < (1 << 24), "cell count", m->ncells, 0);
    NEED(m->base > 0 && m->base < (1 << 24), "base", m->base, 0);
    NEED(m->nthreads >= 1 && m->nthreads <= MAXHOST, "threads (1..16)", m->nthreads, MAXHOST);
    NEED(m->nworkers >= 0 && m->nworkers < m->nthreads, "worker threads", m->nworkers, m->nthreads);
    m->nhost = m->nthreads - m->nworkers;
    NEED(m->ndefer >= 0 && m->ndefer < (1 << 16) && in_img(m, img[H_DEFER], m->ndefer), "deferred cells", m->ndefer,
         img[H_DEFER]);
    NEED(in_img(m, img[H_WRUNS], m->nworkers), "worker cells", img[H_WRUNS], m->nworkers);
    m->defer = img + img[H_DEFER];
    m->wruns = img + img[H_WRUNS];
    NEED(m->rcudepth == -1 || (m->rcudepth >= 0 && m->rcudepth <= m->ncells - m->nthreads), "rcu depth cells",
         m->rcudepth, 0);
    NEED(m->ncpu >= m->nhost && m->ncpu <= 64, "CPUs", m->ncpu, m->nhost);
    NEED(m->nfuncs > 0 && m->nfuncs < (1 << 16), "functions", m->nfuncs, 0);
    NEED(m->nslots >= 0 && m->nslots < (1 << 16), "pool slots", m->nslots, 0);
    NEED(m->npools >= 0 && m->npools < (1 << 16), "pools", m->npools, 0);
    NEED(m->nchoices >= 0 && m->nchoices < (1 << 16), "entry choices", m->nchoices, 0);
    NEED(m->hostch >= 0 && m->hostch <= m->nchoices && m->nchoices - m->hostch == (m->nworkers ? m->ndefer : 0),
         "worker choices", m->hostch, m->nchoices);
    /* table sizes are bounded before they are multiplied by their record sizes (a fuzzed image overflowed) */
    NEED(m->nlc >= 0 && m->nlc < (1 << 24) && m->ninv >= 0 && m->ninv < (1 << 24), "tables", m->nlc, m->ninv);
    NEED(m->nctx >= 0 && m->nctx < (1 << 24) && m->nsites >= 1 && m->nsites < (1 << 24), "tables", m->nctx,
         m->nsites);
    NEED(m->maxdepth >= 1 && m->maxdepth < 256 && m->maxloc >= 0 && m->maxloc < 4096, "frame bounds",
         m->maxdepth, m->maxloc);
    NEED(m->idrcap >= 0 && m->idrcap < 4096, "idr capacity", m->idrcap, 0);
    NEED(m->leaked == m->nthreads + 1, "leaked owner", m->leaked, m->nthreads);
    NEED(m->nlocs >= 1 && m->nlocs < (1 << 24) && m->nstructs >= 0 && m->nstructs < (1 << 24), "locs", m->nlocs,
         m->nstructs);
    NEED(in_img(m, img[H_CELLS], 3 * m->ncells), "cells", img[H_CELLS], m->ncells);
    NEED(in_img(m, img[H_INIT], m->ncells), "init", img[H_INIT], m->ncells);
    NEED(in_img(m, img[H_CPUCELLS], 2 * m->ncpu), "cpu cells", img[H_CPUCELLS], m->ncpu);
    NEED(in_img(m, img[H_SLOTS], 5 * m->nslots), "slots", img[H_SLOTS], m->nslots);
    NEED(in_img(m, img[H_POOLS], 2 * m->npools), "pools", img[H_POOLS], m->npools);
    NEED(in_img(m, img[H_FUNCS], 7 * m->nfuncs), "functions", img[H_FUNCS], m->nfuncs);
    NEED(in_img(m, img[H_CHOICES], m->nchoices), "choices", img[H_CHOICES], m->nchoices);
    NEED(in_img(m, img[H_LCS], m->nlc), "lifecycles", img[H_LCS], m->nlc);
    NEED(in_img(m, img[H_INVS], 3 * m->ninv), "invariants", img[H_INVS], m->ninv);
    NEED(in_img(m, img[H_CTXS], 2 * m->nctx), "contexts", img[H_CTXS], m->nctx);
    NEED(in_img(m, img[H_ROOTS], m->nfuncs), "roots", img[H_ROOTS], m->nfuncs);
    m->cells = img + img[H_CELLS];
    m->init = img + img[H_INIT];
    m->cpucells = img + img[H_CPUCELLS];
    m->pools = img + img[H_POOLS];
    m->choices = img + img[H_CHOICES];
    m->lcs = img + img[H_LCS];
    m->invs = img + img[H_INVS];
    m->ctxs = img + img[H_CTXS];
    m->roots = img + img[H_ROOTS];

    for (i64 i = 0; i < m->ncells; i++) {
        i64 k = m->cells[3 * i], o = m->cells[3 * i + 1], lc = m->cells[3 * i + 2];
        NEED(k >= 0 && k < K_NKINDS, "cell kind", i, k);
        NEED(o >= -2 && o < m->nslots, "cell owner", i, o);
        NEED(lc >= -1 && lc < m->nlc, "cell lifecycle", i, lc);
        NEED(k != K_STATUS || (m->init[i] >= 0 && m->init[i] <= 2), "status init", i, m->init[i]);
    }
    for (i64 c = 0; c < m->ncpu; c++) {
        i64 s = m->cpucells[2 * c], im = m->cpucells[2 * c + 1];
        NEED(s >= 0 && s < m->ncells && m->cells[3 * s] == K_CPUSTATE, "cpu state cell", c, s);
        NEED(im >= 0 && im < m->ncells && m->cells[3 * im] == K_CPUIMAGE, "cpu image cell", c, im);
    }
    m->slots = PyMem_Calloc(m->nslots ? m->nslots : 1, sizeof(Slot));
    m->funcs = PyMem_Calloc(m->nfuncs, sizeof(Func));
    m->ptr_cells = PyMem_Calloc(m->ncells, sizeof(i64));
    m->list_cells = PyMem_Calloc(m->ncells, sizeof(i64));
    m->lock_cells = PyMem_Calloc(m->ncells, sizeof(i64));
    if (!m->slots || !m->funcs || !m->ptr_cells || !m->list_cells || !m->lock_cells) {
        PyErr_NoMemory();
        return -1;
    }
    for (i64 s = 0; s < m->nslots; s++) {
        const i64 *r = img + img[H_SLOTS] + 5 * s;
        Slot *sl = &m->slots[s];
        sl->base = r[0]; sl->status = r[1]; sl->site = r[2]; sl->size = r[3]; sl->struct_id = r[4];
        NEED(sl->status >= 0 && sl->status < m->ncells && m->cells[3 * sl->status] == K_STATUS, "slot status", s, 0);
        NEED(sl->site >= 0 && sl->site < m->ncells && m->cells[3 * sl->site] == K_SITE, "slot site", s, 0);
        NEED(sl->size >= 0 && sl->size <= m->ncells && sl->base >= m->base &&
             sl->base - m->base <= m->ncells - sl->size, "slot extent", s, sl->size);
        for (i64 k = 0; k < sl->size; k++)
            NEED(m->cells[3 * (sl->base - m->base + k) + 1] == s, "slot cell owner", s, k);
        NEED(sl->struct_id >= 0 && sl->struct_id < m->nstructs, "slot struct", s, sl->struct_id);
    }
    for (i64 p = 0; p < m->npools; p++)
        NEED(m->pools[2 * p] >= 0 && m->pools[2 * p + 1] >= 0 && m->pools[2 * p] <= m->nslots &&
             m->pools[2 * p + 1] <= m->nslots - m->pools[2 * p], "pool range", p, 0);
    for (i64 i = 0; i < m->ncells; i++) {
        i64 k = m->cells[3 * i];
        if (k == K_PTR || k == K_IDRPTR || k == K_CPUIMAGE || k == K_LIST)
            m->ptr_cells[m->nptr++] = i;
        if (k == K_LIST)
            m->list_cells[m->nlist++] = i;
        if (k == K_LOCK || k == K_RWSEM || k == K_RWLOCK) /* writers hold rw cells as owners hold locks */
            m->lock_cells[m->nlockc++] = i;
    }
    for (i64 d = 0; d < m->ndefer; d++)
        NEED(m->defer[d] >= 0 && m->defer[d] < m->ncells && (m->cells[3 * m->defer[d]] == K_WORK ||
             m->cells[3 * m->defer[d]] == K_TIMER || m->cells[3 * m->defer[d]] == K_RCUHEAD), "deferred cell", d,
             m->defer[d]);
    for (i64 u = 0; u < m->nworkers; u++)
        NEED(m->wruns[u] >= 0 && m->wruns[u] < m->ncells && m->cells[3 * m->wruns[u]] == K_INT, "worker cell", u,
             m->wruns[u]);
    NEED(in_img(m, img[H_LEVELS], m->maxdepth), "levels", img[H_LEVELS], m->maxdepth);
    NEED(in_img(m, img[H_SYMPOOLS], m->npools), "symmetric pools", img[H_SYMPOOLS], m->npools);
    m->sympool = img + img[H_SYMPOOLS];
    /* renaming threads or slots would move a worker's runs cell and its choices' items (native.py) */
    NEED(m->nworkers == 0 || !m->symthreads, "thread symmetry with workers", m->nworkers, m->symthreads);
    for (i64 p = 0; p < m->npools && m->nworkers; p++)
        NEED(m->sympool[p] == 0, "pool symmetry with workers", p, m->sympool[p]);
    m->slot_pool = PyMem_Calloc((size_t)m->nslots + 1, sizeof(i64));
    if (!m->slot_pool) {
        PyErr_NoMemory();
        return -1;
    }
    for (i64 s = 0; s < m->nslots; s++)
        m->slot_pool[s] = -1;
    for (i64 p = 0; p < m->npools; p++) {
        NEED(m->sympool[p] == 0 || m->sympool[p] == 1, "symmetric pool flag", p, m->sympool[p]);
        if (!m->sympool[p])
            continue;
        i64 k = m->pools[2 * p + 1];
        NEED(k <= 8, "a symmetric pool has at most 8 slots", p, k);
        for (i64 r = 0; r < k; r++)
            m->slot_pool[m->pools[2 * p] + r] = p;
    }
    m->tsize = 1;
    for (i64 l = 0; l < m->maxdepth; l++) {
        i64 n = img[img[H_LEVELS] + l];
        NEED(n >= 0 && n <= m->maxloc, "level locals", l, n);
        m->nloc[l] = n;
        m->foff[l] = m->tsize;
        m->tsize += 3 + n;
    }
    m->nslot_total = m->ncells + m->nthreads * m->tsize;
    NEED(m->nslot_total < (1 << 22), "state too large", m->nslot_total, 0);

    if (check_progs(m)) return -1;
    for (i64 f = 0; f < m->nfuncs; f++) {
        const i64 *r = img + img[H_FUNCS] + 7 * f;
        Func *fn = &m->funcs[f];
        fn->nlocals = r[0]; fn->nparams = r[1]; fn->body_len = r[2];
        NEED(fn->nlocals >= 0 && fn->nlocals <= m->maxloc && fn->nparams >= 0 && fn->nparams <= fn->nlocals,
             "function locals", f, fn->nlocals);
        NEED(fn->body_len >= 1 && in_img(m, r[3], fn->body_len) && in_img(m, r[4], 3 * fn->nlocals) &&
             in_img(m, r[5], fn->body_len) && in_img(m, r[6], fn->body_len), "function tables", f, fn->body_len);
        fn->pcoff = img + r[3];
        fn->locinfo = img + r[4];
        fn->dead = img + r[5];
        fn->movers = img + r[6];
        for (i64 j = 0; j < fn->nlocals; j++)
            NEED(fn->locinfo[3 * j] >= 0 && fn->locinfo[3 * j] <= 64, "local width", f, j);
        for (i64 pc = 0; pc < fn->body_len; pc++) {
            NEED(fn->movers[pc] >= 0 && fn->movers[pc] <= 2, "mover flag", f, pc);
            i64 d = fn->dead[pc];
            NEED(in_img(m, d, 1) && in_img(m, d + 1, img[d]), "dead list", f, pc);
            for (i64 j = 0; j < img[d]; j++)
                NEED(img[d + 1 + j] >= 0 && img[d + 1 + j] < fn->nlocals, "dead local", f, pc);
        }
    }
    /* instruction records, now that every function's shape is known */
    for (i64 f = 0; f < m->nfuncs; f++) {
        Func *fn = &m->funcs[f];
        for (i64 pc = 0; pc < fn->body_len; pc++) {
            i64 o = fn->pcoff[pc];
            NEED(in_img(m, o, 2), "instruction offset", f, pc);
            const i64 *r = img + o;
            NEED(r[1] >= 0 && r[1] < m->nlocs, "instruction loc", f, pc);
            i64 L = fn->nlocals;
            switch (r[0]) {
            case I_SET:
                NEED(in_img(m, o, 4) && r[2] >= 0 && r[2] < L, "set", f, pc);
                if (check_expr(m, r[3], L, 0)) return -1;
                break;
            case I_LOAD:
                NEED(in_img(m, o, 4) && r[2] >= -1 && r[2] < L, "load", f, pc);
                if (check_expr(m, r[3], L, 0)) return -1;
                break;
            case I_STORE:
                NEED(in_img(m, o, 6) && r[4] >= 0 && r[4] <= 64 && (r[5] == 0 || r[5] == 1), "store", f, pc);
                if (check_expr(m, r[2], L, 0) || check_expr(m, r[3], L, 0)) return -1;
                break;
            case I_PRIM: {
                NEED(in_img(m, o, 7) && r[2] >= 0 && r[2] < m->nprogs && r[3] >= -1 && r[3] < L && r[5] >= 0 &&
                     r[5] <= MAXPARGS && in_img(m, o, 7 + r[5]), "primitive", f, pc);
                for (i64 a = 0; a < r[5]; a++)
                    if (check_expr(m, r[7 + a], L, 0)) return -1;
                const i64 *pg = m->progs + PREC * r[2];
                NEED(r[5] == pg[4], "primitive arity", r[2], r[5]);
                if (pg[3] & PF_ALLOC)
                    NEED(r[4] >= 0 && r[4] < m->npools, "allocation pool", f, r[4]);
                if (pg[3] & PF_CALL)
                    NEED(r[4] >= -1 && r[4] < m->nfuncs && (r[4] < 0 || m->funcs[r[4]].nlocals >= 1), "callee", f,
                         r[4]);
                NEED(r[6] >= 0 && r[6] < (1 << MAXPARGS), "pointer-argument mask", f, pc);
                break;
            }
            case I_BRANCH:
                NEED(in_img(m, o, 5) && r[3] >= 0 && r[3] < fn->body_len && r[4] >= 0 && r[4] < fn->body_len,
                     "branch", f, pc);
                if (check_expr(m, r[2], L, 0)) return -1;
                break;
            case I_JUMP:
                NEED(in_img(m, o, 3) && r[2] >= 0 && r[2] < fn->body_len, "jump", f, pc);
                break;
            case I_CALL: {
                NEED(in_img(m, o, 5) && r[2] >= 0 && r[2] < m->nfuncs && r[3] >= -1 && r[3] < L && r[4] >= 0 &&
                     in_img(m, o, 5 + r[4]), "call", f, pc);
                NEED(r[4] == m->funcs[r[2]].nparams, "call arity", f, pc);
                for (i64 a = 0; a < r[4]; a++)
                    if (check_expr(m, r[5 + a], L, 0)) return -1;
                break;
            }
            case I_RET:
                NEED(in_img(m, o, 3), "ret", f, pc);
                if (r[2] >= 0 && check_expr(m, r[2], L, 0)) return -1;
                break;
            case I_CHECK:
                NEED(in_img(m, o, 4) && (r[2] == 0 || r[2] == 1), "check", f, pc);
                if (check_expr(m, r[3], L, 0)) return -1;
                break;
            default:
                return bad("unknown instruction", r[0], pc);
            }
            if (r[0] != I_BRANCH && r[0] != I_JUMP && r[0] != I_RET)
                NEED(pc + 1 < fn->body_len, "falls off the end of a function", f, pc);
        }
    }
    for (i64 c = 0; c < m->nchoices; c++) {
        i64 o = m->choices[c];
        NEED(in_img(m, o, 2) && img[o] >= 0 && img[o] < m->nfuncs && img[o + 1] == m->funcs[img[o]].nparams &&
             in_img(m, o + 2, img[o + 1]), "entry choice", c, o);
        NEED(m->roots[img[o]] >= 0 && m->roots[img[o]] < m->nctx, "entry root context", c, img[o]);
        /* a worker's start step runs the function's first instruction: a primitive (machine.py step) */
        NEED(c < m->hostch || (m->funcs[img[o]].body_len > 0 &&
                               img[m->funcs[img[o]].pcoff[0]] == I_PRIM), "worker choice", c, img[o]);
        /* and its one argument is the address of its item (machine.py entry_choices) */
        NEED(c < m->hostch || (img[o + 1] == 1 && img[o + 2] == m->base + m->defer[c - m->hostch]),
             "worker choice item", c, img[o + 1]);
    }
    for (i64 l = 0; l < m->nlc; l++) {
        i64 o = m->lcs[l];
        NEED(in_img(m, o, 1) && img[o] >= 0 && in_img(m, o + 1, 2 * img[o]), "lifecycle", l, o);
    }
    for (i64 v = 0; v < m->ninv; v++) {
        NEED(m->invs[3 * v] >= -1 && m->invs[3 * v] < m->npools, "invariant pool", v, m->invs[3 * v]);
        NEED(m->invs[3 * v + 2] >= 0 && m->invs[3 * v + 2] <= (INV_ALWAYS | INV_WITNESS), "invariant flags", v,
             m->invs[3 * v + 2]);
        if (check_expr(m, m->invs[3 * v + 1], 1, 1)) return -1;
    }
    for (i64 c = 0; c < m->nctx; c++) {
        i64 f = m->ctxs[2 * c], o = m->ctxs[2 * c + 1];
        NEED(f >= 0 && f < m->nfuncs && in_img(m, o, m->funcs[f].body_len), "context", c, f);
        for (i64 pc = 0; pc < m->funcs[f].body_len; pc++) {
            const i64 *r = img + m->funcs[f].pcoff[pc];
            i64 t = img[o + pc];
            i64 pf = r[0] == I_PRIM ? m->progs[PREC * r[2] + 3] : 0;
            if (r[0] == I_CALL || (r[0] == I_PRIM && (pf & PF_CALL) && r[4] >= 0)) {
                i64 callee = r[0] == I_CALL ? r[2] : r[4];
                NEED(t >= 0 && t < m->nctx && m->ctxs[2 * t] == callee, "call context", c, pc);
            } else if (r[0] == I_PRIM && (pf & (PF_ALLOC | PF_FREE))) {
                NEED(t >= 1 && t < m->nsites, "site", c, pc);
            }
        }
    }
    for (i64 f = 0; f < m->nfuncs; f++)
        NEED(m->roots[f] >= -1 && m->roots[f] < m->nctx, "root", f, m->roots[f]);
    return 0;
}

static void free_model(Model *m)
{
    PyMem_Free(m->slots);
    PyMem_Free(m->funcs);
    PyMem_Free(m->ptr_cells);
    PyMem_Free(m->list_cells);
    PyMem_Free(m->lock_cells);
    PyMem_Free(m->slot_pool);
}

/* ------------------------------------------------------------------ machine: one step on an unpacked state
 *
 * The working vector: cells [0, ncells), then per host thread t at
 * TB(t) = ncells + t * tsize: the stack depth, then one frame per level of
 * the stack, (function, pc, return destination, locals), with room for the
 * locals of the largest function that can run at that level. Frames above
 * the depth are all zero, so equal machine.py states are equal vectors.
 */

typedef struct { i64 k[KEYLEN]; } Key;

#define MAXVIOL 64
#define MAXTRANS 64

enum { S_OK, S_FATAL, S_BOUND, S_ERR };   /* outcome of a step */
enum { EV_OK, EV_STOP, EV_FAULT };        /* outcome of an expression */
enum { ERR_NONE, ERR_BUDGET, ERR_U64, ERR_INTERNAL, ERR_KIND };

typedef struct {
    const Model *m;
    i64 *w;                 /* the state being stepped */
    int t;                  /* the running thread */
    Key stop;               /* the violation an expression or primitive stops with */
    Key viol[MAXVIOL];      /* violations of this step (fatal last) */
    int nviol;
    i64 trans[MAXTRANS][4]; /* lifecycle transitions taken: lifecycle, from, to, call context of the store */
    int ntrans;
    int err;                /* ERR_*: a model the machine cannot run */
    i64 err_loc, err_aux;
    i64 bound_loc;          /* the bound hit: its instruction's loc * NBOUNDS + its message (U_BOUND) */
    i64 *regs;              /* the registers of the micro-programs (Model.maxregs) */
    unsigned char *exhausted; /* per pool: seen full at a kzalloc */
    unsigned char *witnessed; /* per invariant record: a witness (INV_WITNESS) seen true */
} Mach;

#define TB(m, t) ((m)->ncells + (i64)(t) * (m)->tsize)
#define FRAME(m, w, t, l) ((w) + TB(m, t) + (m)->foff[l])
#define IMG(m, o) ((m)->img + (o))

static inline i64 wrap(i64 v, i64 bits, i64 sgn)
{
    if (bits == 0 || bits == 64)
        return v;
    if (bits == 1)
        return v != 0;
    u64 mask = (((u64)1) << bits) - 1;
    u64 u = (u64)v & mask;
    if (sgn && (u >> (bits - 1)))
        return (i64)(u | ~mask);
    return (i64)u;
}

static inline void key0(Key *k, i64 code, i64 a, i64 b, i64 c)
{
    memset(k, 0, sizeof *k);
    k->k[0] = code; k->k[1] = a; k->k[2] = b; k->k[3] = c;
}

static inline int stopk(Mach *x, i64 code, i64 a, i64 b, i64 c)
{
    key0(&x->stop, code, a, b, c);
    return EV_STOP;
}

static void note(Mach *x, const Key *k)
{
    if (x->nviol < MAXVIOL)
        x->viol[x->nviol++] = *k;
}

static void note3(Mach *x, i64 code, i64 a, i64 b, i64 c)
{
    Key k;
    key0(&k, code, a, b, c);
    note(x, &k);
}

/* region of an address: 0 null, 1 wild, 2 global, 3 machine, 4 slot (slot id in *sid) */
enum { R_NULL, R_WILD, R_GLOBAL, R_MACHINE, R_SLOT };

static inline int region(const Model *m, i64 addr, i64 *sid, i64 *idx)
{
    if (addr < m->base) { *idx = (i64)((u64)addr - (u64)m->base); return R_NULL; } /* addr may be INT64_MIN */
    i64 i = addr - m->base;
    *idx = i;
    if (i >= m->ncells) return R_WILD;
    i64 o = m->cells[3 * i + 1];
    if (o == -1) return R_GLOBAL;
    if (o == -2) return R_MACHINE;
    *sid = o;
    return R_SLOT;
}

static inline int cell_live(const Model *m, const i64 *w, i64 j)
{
    i64 o = m->cells[3 * j + 1];
    return o < 0 || w[m->slots[o].status] == LIVE;
}

/* the cell of an invariant's read, or a fault */
static int inv_cell(const Model *m, const i64 *w, i64 addr, i64 *i)
{
    i64 sid = -1;
    int r = region(m, addr, &sid, i);
    if (r == R_NULL || r == R_WILD || r == R_MACHINE)
        return EV_FAULT;
    if (r == R_SLOT && w[m->slots[sid].status] != LIVE)
        return EV_FAULT;
    return EV_OK;
}

static int urun(Mach *x, i64 prog, const i64 *a, i64 loc, i64 dst, i64 aux, i64 choice, int mode, i64 *wait,
                i64 *out);

/* evaluate the expression at `pc` over `lv`: EV_OK with *out, EV_STOP (x->stop set) or EV_FAULT */
static int eval(Mach *x, i64 pc, const i64 *lv, i64 *out)
{
    const Model *m = x->m;
    const i64 *c = m->img;
    i64 st[ESTACK];
    int sp = 0;
    for (;;) {
        switch (c[pc]) {
        case E_END:
            *out = st[0];
            return EV_OK;
        case E_CONST: st[sp++] = c[pc + 1]; pc += 2; break;
        case E_VAR: st[sp++] = lv[c[pc + 1]]; pc += 2; break;
        case E_ADDC: st[sp - 1] = (i64)((u64)st[sp - 1] + (u64)c[pc + 1]); pc += 2; break; /* wraps */
        case E_INDEX: {
            i64 idx = st[--sp];
            if (idx < 0 || idx >= c[pc + 1])
                return stopk(x, V_OOB, c[pc + 3], 0, 0);
            st[sp - 1] = (i64)((u64)st[sp - 1] + (u64)idx * (u64)c[pc + 2]);
            pc += 4;
            break;
        }
        case E_BIN: {
            i64 op = c[pc + 1], bits = c[pc + 2], sg = c[pc + 3];
            i64 b = st[--sp], a = st[sp - 1], r;
            switch (op) {
            case B_EQ: r = a == b; break;
            case B_NE: r = a != b; break;
            case B_LT: r = a < b; break;
            case B_LE: r = a <= b; break;
            case B_GT: r = a > b; break;
            case B_GE: r = a >= b; break;
            case B_DIV: case B_MOD: {
                if (b == 0)
                    return stopk(x, V_DIV0, c[pc + 4], 0, 0);
                __int128 A = a, B = b;
                __int128 q = (A < 0 ? -A : A) / (B < 0 ? -B : B);
                if ((A < 0) != (B < 0))
                    q = -q;
                r = wrap((i64)(op == B_DIV ? q : A - q * B), bits, sg);
                break;
            }
            case B_SHL: {
                i64 nb = bits ? bits : 64;
                i64 s = ((b % nb) + nb) % nb;
                r = wrap((i64)((u64)a << s), bits, sg);
                break;
            }
            case B_SHR: {
                i64 nb = bits ? bits : 64;
                i64 s = ((b % nb) + nb) % nb;
                if (!sg && a < 0 && nb < 64)
                    a &= (i64)((((u64)1) << nb) - 1);
                r = wrap(a >> s, bits, sg);
                break;
            }
            case B_ADD: r = wrap((i64)((u64)a + (u64)b), bits, sg); break;
            case B_SUB: r = wrap((i64)((u64)a - (u64)b), bits, sg); break;
            case B_MUL: r = wrap((i64)((u64)a * (u64)b), bits, sg); break;
            case B_AND: r = wrap(a & b, bits, sg); break;
            case B_OR: r = wrap(a | b, bits, sg); break;
            default: r = wrap(a ^ b, bits, sg); break;
            }
            if (bits == 64 && !sg && r < 0 && op <= B_XOR) {
                x->err = ERR_U64;
                x->err_loc = c[pc + 4];
                return EV_FAULT;
            }
            st[sp - 1] = r;
            pc += 5;
            break;
        }
        case E_NOT: st[sp - 1] = !st[sp - 1]; pc += 1; break;
        case E_BOOL: st[sp - 1] = st[sp - 1] != 0; pc += 1; break;
        case E_NEG: st[sp - 1] = wrap((i64)(0 - (u64)st[sp - 1]), c[pc + 1], c[pc + 2]); pc += 3; break;
        case E_BNOT: st[sp - 1] = wrap(~st[sp - 1], c[pc + 1], c[pc + 2]); pc += 3; break;
        case E_CAST: st[sp - 1] = wrap(st[sp - 1], c[pc + 1], c[pc + 2]); pc += 3; break;
        case E_JZ:
            if (st[sp - 1] == 0) { st[sp - 1] = 0; pc = c[pc + 1]; }
            else { sp--; pc += 2; }
            break;
        case E_JNZ:
            if (st[sp - 1] != 0) { st[sp - 1] = 1; pc = c[pc + 1]; }
            else { sp--; pc += 2; }
            break;
        case E_DEREF: {
            i64 i;
            if (inv_cell(m, x->w, st[sp - 1], &i))
                return EV_FAULT;
            st[sp - 1] = x->w[i];
            pc += 2;
            break;
        }
        case E_QUERY: {
            i64 v;
            if (urun(x, c[pc + 1], &st[sp - 1], 0, -1, -1, 0, UM_QUERY, NULL, &v))
                return EV_FAULT;
            st[sp - 1] = v;
            pc += 3;
            break;
        }
        case E_HOLDS: { /* 1 if the sub-expression is non-zero without a fault (vacuity.py), else 0 */
            i64 v = 0;
            int e = eval(x, c[pc + 1], lv, &v);
            if (x->err == ERR_U64)
                x->err = ERR_NONE;
            st[sp++] = e == EV_OK && v != 0;
            pc += 2;
            break;
        }
        default:
            x->err = ERR_INTERNAL;
            return EV_FAULT;
        }
    }
}

/* the cell at addr for a step's access, or a fatal violation at instruction loc */
static int cellof(Mach *x, i64 addr, i64 loc, i64 *i)
{
    const Model *m = x->m;
    i64 sid = -1;
    switch (region(m, addr, &sid, i)) {
    case R_SLOT:
        if (x->w[m->slots[sid].status] == LIVE)
            return EV_OK;
        return stopk(x, V_UAF, loc, 0, 0);
    case R_GLOBAL:
        return EV_OK;
    case R_NULL:
        return stopk(x, V_NULL, loc, 0, 0);
    default:
        return stopk(x, V_WILD, loc, 0, 0);
    }
}

/* the site of the kzalloc/kfree being executed by thread t: its whole call path */
static i64 site_here(const Model *m, const i64 *w, int t)
{
    i64 depth = w[TB(m, t)];
    const i64 *f0 = FRAME(m, w, t, 0);
    i64 ctx = m->roots[f0[0]];
    for (i64 l = 0; l < depth; l++) {
        const i64 *f = FRAME(m, w, t, l);
        i64 tab = m->ctxs[2 * ctx + 1];
        i64 v = m->img[tab + f[1] - 1];
        if (l == depth - 1)
            return v;
        ctx = v;
    }
    return 0;
}

/* the call context of thread t's innermost frame: which call path from an entry point it runs in */
static i64 ctx_here(const Model *m, const i64 *w, int t)
{
    i64 depth = w[TB(m, t)];
    i64 ctx = m->roots[FRAME(m, w, t, 0)[0]];
    for (i64 l = 0; l + 1 < depth; l++)
        ctx = m->img[m->ctxs[2 * ctx + 1] + FRAME(m, w, t, l)[1] - 1];
    return ctx;
}

static inline i64 *top(const Model *m, i64 *w, int t)
{
    return FRAME(m, w, t, w[TB(m, t)] - 1);
}

static void ret_to(Mach *x, i64 dst, i64 v)
{
    if (dst < 0)
        return;
    const Model *m = x->m;
    i64 *f = top(m, x->w, x->t);
    const i64 *li = m->funcs[f[0]].locinfo;
    f[3 + dst] = wrap(v, li[3 * dst], li[3 * dst + 1]);
}

static int push_frame(Mach *x, i64 fi, i64 dst)
{
    const Model *m = x->m;
    i64 *tb = x->w + TB(m, x->t);
    if (tb[0] >= m->maxdepth || m->funcs[fi].nlocals > m->nloc[tb[0]]) {
        x->err = ERR_INTERNAL; /* the lowering computed too small a stack */
        return -1;
    }
    i64 *f = FRAME(m, x->w, x->t, tb[0]);
    tb[0]++;
    f[0] = fi; f[1] = 0; f[2] = dst;
    /* locals are zero: frames above the depth always are */
    return 0;
}

static void pop_frame(Mach *x)
{
    const Model *m = x->m;
    i64 *tb = x->w + TB(m, x->t);
    tb[0]--;
    memset(FRAME(m, x->w, x->t, tb[0]), 0, sizeof(i64) * (size_t)(3 + m->nloc[tb[0]]));
}

static int lc_allowed(const Model *m, i64 lc, i64 a, i64 b)
{
    const i64 *r = IMG(m, m->lcs[lc]);
    for (i64 k = 0; k < r[0]; k++)
        if (r[1 + 2 * k] == a && r[2 + 2 * k] == b)
            return 1;
    return 0;
}

static int kfree_(Mach *x, i64 p, i64 loc)
{
    const Model *m = x->m;
    i64 *w = x->w;
    if (p == 0)
        return EV_OK;
    i64 sid = -1, i;
    if (region(m, p, &sid, &i) != R_SLOT || m->slots[sid].base != p)
        return stopk(x, V_INVALID_FREE, loc, 0, 0);
    const Slot *s = &m->slots[sid];
    if (w[s->status] == FREED)
        return stopk(x, V_DOUBLE_FREE, loc, 0, 0);
    for (i64 k = 0; k < s->size; k++) {
        i64 j = s->base - m->base + k;
        i64 kind = m->cells[3 * j];
        if (kind == K_LIST && w[j])
            note3(x, V_FREED_ON_LIST, loc, 0, 0);
        if (kind == K_LOCK && w[j])
            note3(x, V_FREED_LOCKED, loc, 0, 0);
        w[j] = 0;
    }
    w[s->status] = FREED;
    w[s->site] = site_here(m, w, x->t);
    return EV_OK;
}

static inline i64 ubin(i64 op, i64 a, i64 b)
{
    switch (op) {
    case UB_ADD: return (i64)((u64)a + (u64)b);
    case UB_SUB: return (i64)((u64)a - (u64)b);
    case UB_MUL: return (i64)((u64)a * (u64)b);
    case UB_AND: return a & b;
    case UB_OR: return a | b;
    case UB_XOR: return a ^ b;
    case UB_SHL: return (b < 0 || b > 63) ? 0 : (i64)((u64)a << b);
    case UB_SHR: return (b < 0 || b > 63) ? (a < 0 ? -1 : 0) : a >> b;
    case UB_EQ: return a == b;
    case UB_NE: return a != b;
    case UB_LT: return a < b;
    case UB_LE: return a <= b;
    case UB_GT: return a > b;
    default: return a >= b;
    }
}

enum { UP_BLOCKED = 3 }; /* a probe's answer: the primitive waits (its await's cell and owner in wait[]) */

/* Run micro-program `prog` over arguments a, for an instruction at loc (its result to local dst, aux its pool
   or callee). UM_STEP executes it (the instruction's pc already advanced); UM_PROBE ends at the first effect and
   changes nothing: UP_BLOCKED when an await does not hold, else EV_OK; UM_QUERY is an invariant's read: a
   cell that is NULL, wild or freed is EV_FAULT, the result goes to *out. */
static int urun(Mach *x, i64 prog, const i64 *a, i64 loc, i64 dst, i64 aux, i64 choice, int mode, i64 *wait,
                i64 *out)
{
    const Model *m = x->m;
    i64 *w = x->w;
    int t = x->t;
    const i64 *pg = m->progs + PREC * prog;
    const i64 *ops = m->img + pg[0];
    i64 nops = pg[1];
    i64 *R = x->regs;
    int probe = mode == UM_PROBE;
    (void)nops; /* check_progs: every path ends in U_END, U_FAIL or U_BOUND, and branches stay inside */
    /* threaded dispatch (labels as values, GNU C): the micro-operations are validated at load */
    static const void *const JUMP[U_N] = {
        [U_END] = &&u_end, [U_ARG] = &&u_arg, [U_CONST] = &&u_const, [U_ME] = &&u_me, [U_BIN] = &&u_bin,
        [U_NOT] = &&u_not, [U_BNOT] = &&u_bnot, [U_SEL] = &&u_sel, [U_WRAP] = &&u_wrap, [U_CELL] = &&u_cell,
        [U_RD] = &&u_rd, [U_WR] = &&u_wr, [U_CPUCELL] = &&u_cpucell, [U_OBJBASE] = &&u_objbase,
        [U_OBJOF] = &&u_objof, [U_LIVE] = &&u_live, [U_BR] = &&u_br, [U_FAIL] = &&u_fail, [U_WARN] = &&u_warn,
        [U_AWAIT] = &&u_await, [U_BOUND] = &&u_bound, [U_RESULT] = &&u_result, [U_CALL] = &&u_call,
        [U_ALLOC] = &&u_alloc, [U_FREE] = &&u_free, [U_CHOICE] = &&u_choice};
    const i64 *o = ops;
#define NEXT() do { o += UREC; goto *JUMP[o[0]]; } while (0)
    goto *JUMP[o[0]];
u_end:
    return EV_OK;
u_arg: R[o[1]] = a[o[2]]; NEXT();
u_const: R[o[1]] = o[2]; NEXT();
u_me: R[o[1]] = t; NEXT();
u_bin: R[o[1]] = ubin(o[2], R[o[3]], R[o[4]]); NEXT();
u_not: R[o[1]] = !R[o[2]]; NEXT();
u_bnot: R[o[1]] = ~R[o[2]]; NEXT();
u_sel: R[o[1]] = R[o[2]] ? R[o[3]] : R[o[4]]; NEXT();
u_wrap: R[o[1]] = wrap(R[o[2]], o[3], o[4]); NEXT();
u_cell: {
    i64 addr = R[o[2]], sid = -1, c;
    if (mode == UM_QUERY) {
        if (inv_cell(m, w, addr, &c))
            return EV_FAULT;
        R[o[1]] = c;
        NEXT();
    }
    int rg = region(m, addr, &sid, &c);
    if ((rg == R_GLOBAL || (rg == R_SLOT && w[m->slots[sid].status] == LIVE)) &&
        !((CLASS_KINDS[o[3]] >> m->cells[3 * c]) & 1)) {
        if (probe)
            return EV_OK;
        x->err = ERR_KIND;
        x->err_loc = loc;
        x->err_aux = c * NCLASS + o[3]; /* the class: native.py names it as machine.py does */
        return EV_FAULT;
    }
    if (cellof(x, addr, loc, &c))
        return probe ? EV_OK : EV_STOP;
    R[o[1]] = c;
    NEXT();
}
u_rd: {
    i64 j = R[o[2]] + o[3];
    if (j < 0 || j >= m->ncells)  /* only a hostile image: the front end keeps a primitive in its object */
        return probe ? EV_OK : mode == UM_QUERY ? EV_FAULT : stopk(x, V_WILD, loc, 0, 0);
    R[o[1]] = w[j];
    NEXT();
}
u_wr: {
    i64 j = R[o[1]] + o[2];
    if (probe)
        return EV_OK;
    if (j < 0 || j >= m->ncells)
        return stopk(x, V_WILD, loc, 0, 0);
    w[j] = R[o[3]];
    NEXT();
}
u_cpucell: {
    i64 c = R[o[2]];
    if (c < 0 || c >= m->ncpu) { x->err = ERR_INTERNAL; x->err_loc = loc; return probe ? EV_OK : EV_FAULT; }
    R[o[1]] = m->cpucells[2 * c + o[3]];
    NEXT();
}
u_objbase: {
    i64 addr = R[o[2]], sid = -1, c;
    int rg = region(m, addr, &sid, &c);
    if (rg != R_GLOBAL && cellof(x, addr, loc, &c))
        return probe ? EV_OK : EV_STOP;
    R[o[1]] = rg == R_SLOT ? m->slots[sid].base : addr;
    NEXT();
}
u_objof: {
    i64 sid = -1, c;
    R[o[1]] = region(m, R[o[2]], &sid, &c) == R_SLOT ? m->slots[sid].base : R[o[2]];
    NEXT();
}
u_live: R[o[1]] = cell_live(m, w, o[2]); NEXT();
u_br:
    if (!R[o[1]]) {
        o = ops + UREC * o[2];
        goto *JUMP[o[0]];
    }
    NEXT();
u_fail:
    if (probe)
        return EV_OK;
    return stopk(x, V_N + o[1], loc, o[2] >= 0 ? R[o[2]] : 0, o[3] >= 0 ? R[o[3]] : 0);
u_warn:
    if (probe)
        return EV_OK;
    note3(x, V_N + o[1], loc, o[2] >= 0 ? R[o[2]] : 0, o[3] >= 0 ? R[o[3]] : 0);
    NEXT();
u_await:
    if (!R[o[1]]) {
        if (probe) {
            wait[0] = R[o[2]];
            wait[1] = R[o[3]];
            return UP_BLOCKED;
        }
        x->err = ERR_INTERNAL; /* the enumerator runs only enabled steps */
        x->err_loc = loc;
        return EV_FAULT;
    }
    NEXT();
u_bound:
    if (probe)
        return EV_OK;
    x->bound_loc = loc * NBOUNDS + o[1];
    return EV_FAULT;
u_result:
    if (probe)
        return EV_OK;
    if (mode == UM_QUERY)
        *out = R[o[1]];
    else
        ret_to(x, dst, R[o[1]]);
    NEXT();
u_call:
    if (probe)
        return EV_OK;
    if (aux >= 0) {
        if (push_frame(x, aux, -1))
            return EV_FAULT;
        top(m, w, t)[3] = R[o[1]];
    }
    NEXT();
u_choice:
    R[o[1]] = choice == 1;
    NEXT();
u_alloc: {
    if (probe)
        return EV_OK;
    if (choice == 1) {
        R[o[1]] = 0;
        NEXT();
    }
    i64 first = m->pools[2 * aux], cnt = m->pools[2 * aux + 1], sid = -1;
    for (i64 s = first; s < first + cnt; s++)
        if (w[m->slots[s].status] == FREE) { sid = s; break; }
    if (sid < 0) { x->err = ERR_INTERNAL; x->err_loc = loc; return EV_FAULT; }
    const Slot *sl = &m->slots[sid];
    w[sl->status] = LIVE;
    w[sl->site] = site_here(m, w, t);
    R[o[1]] = sl->base;
    NEXT();
}
u_free:
    if (probe)
        return EV_OK;
    if (kfree_(x, R[o[1]], loc))
        return EV_STOP;
    NEXT();
#undef NEXT
}

/* Run the micro-program of primitive instruction r (its arguments evaluated over the top frame's locals). */
static int uop(Mach *x, const i64 *r, i64 choice, int probe, i64 *wait)
{
    i64 a[MAXPARGS] = {0};
    const i64 *lv = top(x->m, x->w, x->t) + 3;
    for (i64 k = 0; k < r[5]; k++) {
        int e = eval(x, r[7 + k], lv, &a[k]);
        if (e)
            return probe ? EV_OK : e;
    }
    return urun(x, r[2], a, r[1], r[3], r[4], choice, probe ? UM_PROBE : UM_STEP, wait, NULL);
}

/* Does thread t, stopped at primitive r in state w, wait? (its await's cell and owner) */
static int prim_waits(Mach *x, const i64 *w, int t, const i64 *r, i64 *cell, i64 *owner)
{
    if (!(x->m->progs[PREC * r[2] + 3] & PF_AWAITS))
        return 0;
    /* x->stop is not saved: a probe may overwrite it (an argument or cell that stops the step), but it is
       read only right after the step that set it, and no probe runs in between */
    i64 *saved_w = x->w;
    int saved_t = x->t, saved_err = x->err;
    i64 saved_loc = x->err_loc;
    x->w = (i64 *)w;
    x->t = t;
    i64 wt[2];
    int e = uop(x, r, 0, 1, wt);
    x->w = saved_w; x->t = saved_t; x->err = saved_err; x->err_loc = saved_loc;
    if (e != UP_BLOCKED)
        return 0;
    *cell = wt[0];
    *owner = wt[1];
    return 1;
}

/* execute the visible instruction r of the top frame (its pc already advanced) */
static int execute(Mach *x, const i64 *r, i64 choice)
{
    const Model *m = x->m;
    i64 *w = x->w;
    i64 *f = top(m, w, x->t);
    f[1] += 1;
    i64 *lv = f + 3;
    i64 addr, i, v;
    int e;
    switch (r[0]) {
    case I_LOAD:
        if ((e = eval(x, r[3], lv, &addr))) return e;
        if (cellof(x, addr, r[1], &i)) return EV_STOP;
        ret_to(x, r[2], w[i]);
        return EV_OK;
    case I_STORE: {
        if ((e = eval(x, r[2], lv, &addr))) return e;
        if (cellof(x, addr, r[1], &i)) return EV_STOP;
        if ((e = eval(x, r[3], lv, &v))) return e;
        v = wrap(v, r[4], r[5]);
        i64 old = w[i];
        w[i] = v;
        i64 lc = m->cells[3 * i + 2];
        if (lc >= 0 && old != v) {
            if (x->ntrans < MAXTRANS) {
                x->trans[x->ntrans][0] = lc; x->trans[x->ntrans][1] = old; x->trans[x->ntrans][2] = v;
                x->trans[x->ntrans][3] = ctx_here(m, w, x->t);
                x->ntrans++;
            }
            if (!lc_allowed(m, lc, old, v))
                note3(x, V_ILLEGAL, r[1], old, v);
        }
        return EV_OK;
    }
    default:
        return uop(x, r, choice, 0, NULL);
    }
}

static int private_slot(Mach *x, i64 addr)
{
    const Model *m = x->m;
    const i64 *w = x->w;
    i64 sid = -1, i;
    if (region(m, addr, &sid, &i) != R_SLOT)
        return 0;
    const Slot *s = &m->slots[sid];
    if (w[s->status] != LIVE)
        return 0;
    if (m->nworkers)
        for (i64 k = s->base - m->base; k < s->base - m->base + s->size; k++) {
            i64 kind = m->cells[3 * k];
            if ((kind == K_WORK || kind == K_TIMER || kind == K_RCUHEAD) && (w[k] & DEFERRED_PENDING))
                return 0; /* a worker may start on it */
        }
    i64 lo = s->base, hi = s->base + (s->size > 1 ? s->size : 1);
    for (i64 k = 0; k < m->nptr; k++) {
        i64 j = m->ptr_cells[k], v = w[j];
        if (!v || !cell_live(m, w, j))
            continue;
        if ((lo <= v && v < hi) || (m->cells[3 * j + 1] == sid && m->cells[3 * j] == K_LIST))
            return 0;
    }
    for (int u = 0; u < m->nthreads; u++) {
        if (u == x->t)
            continue;
        i64 depth = w[TB(m, u)];
        for (i64 l = 0; l < depth; l++) {
            const i64 *f = FRAME(m, w, u, l);
            const Func *fn = &m->funcs[f[0]];
            for (i64 j = 0; j < fn->nlocals; j++)
                if (fn->locinfo[3 * j + 2] && lo <= f[3 + j] && f[3 + j] < hi)
                    return 0;
        }
    }
    return 1;
}

/* does this visible instruction touch only objects no other thread can reach? (machine.py private_access) */
static int private_access(Mach *x, const i64 *r)
{
    const Model *m = x->m;
    i64 *lv = top(m, x->w, x->t) + 3;
    i64 vals[MAXPARGS];
    int n = 0;
    Key saved = x->stop;
    if (r[0] == I_PRIM) {
        if (!(m->progs[PREC * r[2] + 3] & PF_PRIVATE))
            return 0;
        for (i64 k = 0; k < r[5]; k++)
            if ((r[6] >> k) & 1) {
                if (eval(x, r[7 + k], lv, &vals[n])) { x->stop = saved; return 0; }
                n++;
            }
    } else {
        if (eval(x, r[0] == I_LOAD ? r[3] : r[2], lv, &vals[0])) { x->stop = saved; return 0; }
        n = 1;
    }
    if (x->err)
        return 0;
    if (!n)
        return 0;
    for (int k = 0; k < n; k++)
        if (!private_slot(x, vals[k]))
            return 0;
    i64 c, o;
    if (r[0] == I_PRIM && prim_waits(x, x->w, x->t, r, &c, &o))
        return 0; /* it waits for another thread: the step must be able to block */
    return 1;
}

static void returned(Mach *x, i64 loc)
{
    const Model *m = x->m;
    i64 *w = x->w;
    for (i64 k = 0; k < m->nlockc; k++) {
        i64 i = m->lock_cells[k];
        if (w[i] == x->t + 1 && cell_live(m, w, i)) {
            note3(x, V_HELD_AT_RETURN, loc, i, 0);
            w[i] = m->leaked;
        } else if (w[i] < 0 && w[i] > INT64_MIN && ((-w[i]) >> x->t & 1) && cell_live(m, w, i)) {
            /* a read lock: this thread's bit becomes the bit of "a task that returned" (machine.py) */
            note3(x, V_HELD_AT_RETURN, loc, i, 0);
            w[i] = -(((-w[i]) & ~((i64)1 << x->t)) | ((i64)1 << m->nthreads));
        }
    }
    if (m->rcudepth >= 0) /* a read-side section left open stays with the task that returned (kernel.py) */
        w[m->rcudepth + x->t] = 0;
}

/* every silent instruction up to the next visible one (folding private accesses) or the return to idle */
static int run_silent(Mach *x)
{
    const Model *m = x->m;
    i64 *w = x->w;
    int t = x->t;
    long budget = SILENT_BUDGET;
    while (w[TB(m, t)] > 0) {
        i64 *f = top(m, w, t);
        const Func *fn = &m->funcs[f[0]];
        const i64 *r = IMG(m, fn->pcoff[f[1]]);
        i64 *lv = f + 3, v;
        int e;
        if (--budget < 0) {
            x->err = ERR_BUDGET;
            x->err_loc = r[1];
            x->err_aux = f[0];
            return S_ERR;
        }
        switch (r[0]) {
        case I_LOAD: case I_STORE: case I_PRIM:
            /* the step goes on through accesses to private objects, and (atomic sections) through left
               movers: an access to data a held lock protects everywhere, or an unlock */
            if ((m->atomic && fn->movers[f[1]]) || (m->reduce && private_access(x, r))) {
                e = execute(x, r, 0);
                if (e == EV_STOP) return S_FATAL;
                if (e == EV_FAULT) return x->err ? S_ERR : S_BOUND;
                continue;
            }
            if (x->err) return S_ERR;
            return S_OK;
        case I_SET:
            if ((e = eval(x, r[3], lv, &v))) return e == EV_STOP ? S_FATAL : S_ERR;
            lv[r[2]] = wrap(v, fn->locinfo[3 * r[2]], fn->locinfo[3 * r[2] + 1]);
            f[1]++;
            break;
        case I_BRANCH:
            if ((e = eval(x, r[2], lv, &v))) return e == EV_STOP ? S_FATAL : S_ERR;
            f[1] = v ? r[3] : r[4];
            break;
        case I_JUMP:
            f[1] = r[2];
            break;
        case I_CALL: {
            i64 args[64];
            i64 na = r[4];
            const Func *cf = &m->funcs[r[2]];
            for (i64 k = 0; k < na && k < 64; k++)
                if ((e = eval(x, r[5 + k], lv, &args[k]))) return e == EV_STOP ? S_FATAL : S_ERR;
            f[1]++;
            if (push_frame(x, r[2], r[3])) return S_ERR;
            i64 *nf = top(m, w, t);
            for (i64 k = 0; k < na && k < 64; k++)
                nf[3 + k] = wrap(args[k], cf->locinfo[3 * k], cf->locinfo[3 * k + 1]);
            break;
        }
        case I_RET: {
            v = 0;
            if (r[2] >= 0 && (e = eval(x, r[2], lv, &v))) return e == EV_STOP ? S_FATAL : S_ERR;
            i64 dst = f[2];
            pop_frame(x);
            if (w[TB(m, t)] > 0) ret_to(x, dst, v);
            else returned(x, r[1]);
            break;
        }
        case I_CHECK:
            if ((e = eval(x, r[3], lv, &v))) return e == EV_STOP ? S_FATAL : S_ERR;
            if (v) {
                if (r[2] == 1) { stopk(x, V_ASSERTION, r[1], 0, 0); return S_FATAL; }
                note3(x, V_ASSERTION, r[1], 0, 0);
            }
            f[1]++;
            break;
        }
    }
    return S_OK;
}

/* the end of a step: dead locals zeroed, unreferenced freed slots reclaimed (machine.py finish) */
static void finish(Mach *x)
{
    const Model *m = x->m;
    i64 *w = x->w;
    int t = x->t;
    i64 depth = w[TB(m, t)];
    for (i64 l = 0; l < depth; l++) {
        i64 *f = FRAME(m, w, t, l);
        const i64 *d = IMG(m, m->funcs[f[0]].dead[f[1]]);
        for (i64 k = 0; k < d[0]; k++)
            f[3 + d[1 + k]] = 0;
        if (l + 1 < depth) {
            i64 dst = FRAME(m, w, t, l + 1)[2];
            if (dst >= 0)
                f[3 + dst] = 0;
        }
    }
    int anyfreed = 0;
    for (i64 s = 0; s < m->nslots; s++)
        if (w[m->slots[s].status] == FREED) { anyfreed = 1; break; }
    if (!anyfreed)
        return;
    for (i64 s = 0; s < m->nslots; s++) {
        const Slot *sl = &m->slots[s];
        if (w[sl->status] != FREED)
            continue;
        i64 lo = sl->base, hi = sl->base + (sl->size > 1 ? sl->size : 1);
        int held = 0;
        for (i64 k = 0; k < m->nptr && !held; k++) {
            i64 j = m->ptr_cells[k], v = w[j];
            if (v && lo <= v && v < hi && cell_live(m, w, j))
                held = 1;
        }
        for (int u = 0; u < m->nthreads && !held; u++) {
            i64 dp = w[TB(m, u)];
            for (i64 l = 0; l < dp && !held; l++) {
                const i64 *f = FRAME(m, w, u, l);
                const Func *fn = &m->funcs[f[0]];
                for (i64 j = 0; j < fn->nlocals; j++)
                    if (fn->locinfo[3 * j + 2] && f[3 + j] && lo <= f[3 + j] && f[3 + j] < hi) { held = 1; break; }
            }
        }
        if (!held) {
            w[sl->status] = FREE;
            w[sl->site] = 0;
        }
    }
}

/* is a deferred item of a global or a live object pending (machine.py any_pending)? */
static int pending_items(const Model *m, const i64 *w)
{
    for (i64 d = 0; d < m->ndefer; d++)
        if ((w[m->defer[d]] & DEFERRED_PENDING) && cell_live(m, w, m->defer[d]))
            return 1;
    return 0;
}

/* may idle worker thread t start choice k (machine.py worker_may_start): its item is pending, and no worker
   runs it */
static int worker_may_start(const Model *m, const i64 *w, i64 k)
{
    i64 j = m->defer[k - m->hostch], addr = m->base + j;
    if (!(w[j] & DEFERRED_PENDING))
        return 0;
    for (i64 u = 0; u < m->nworkers; u++)
        if (w[m->wruns[u]] == addr)
            return 0;
    return 1;
}

/* label = t * nlab + k: k < nchoices starts entry choice k, else runs with choice k - nchoices */
static int step(Mach *x, const i64 *src, i64 *dst, int t, i64 k)
{
    const Model *m = x->m;
    memcpy(dst, src, sizeof(i64) * m->nslot_total);
    x->w = dst;
    x->t = t;
    x->nviol = 0;
    x->ntrans = 0;
    int s;
    if (k < m->nchoices) {
        const i64 *c = IMG(m, m->choices[k]);
        if (push_frame(x, c[0], -1)) return S_ERR;
        i64 *f = top(m, dst, t);
        for (i64 j = 0; j < c[1]; j++)
            f[3 + j] = c[2 + j];
        if (k >= m->hostch) { /* a worker's start takes its item (__deferred_take) in the same step */
            int e = execute(x, IMG(m, m->funcs[c[0]].pcoff[0]), 0);
            if (e == EV_STOP) { note(x, &x->stop); return S_FATAL; }
            if (e == EV_FAULT) return x->err ? S_ERR : S_BOUND;
        }
    } else {
        i64 *f = top(m, dst, t);
        const i64 *r = IMG(m, m->funcs[f[0]].pcoff[f[1]]);
        int e = execute(x, r, k - m->nchoices);
        if (e == EV_STOP) { note(x, &x->stop); return S_FATAL; }
        if (e == EV_FAULT) return x->err ? S_ERR : S_BOUND;
    }
    s = run_silent(x);
    if (s == S_FATAL) { note(x, &x->stop); return S_FATAL; }
    if (s != S_OK)
        return s;
    finish(x);
    return S_OK;
}

/* (cell, owner) when thread t is stopped at a primitive that waits (machine.py lock_wait) */
static int lock_wait(Mach *x, const i64 *w, int t, i64 *cell, i64 *owner, i64 *loc)
{
    const Model *m = x->m;
    if (w[TB(m, t)] == 0)
        return 0;
    const i64 *f = FRAME(m, w, t, w[TB(m, t)] - 1);
    const i64 *r = IMG(m, m->funcs[f[0]].pcoff[f[1]]);
    if (r[0] != I_PRIM || !prim_waits(x, w, t, r, cell, owner))
        return 0;
    *loc = r[1];
    return 1;
}

/* a deadlock finding: the waiting places of threads who[0..n-1], sorted (machine.py's key) */
static void note_deadlock(Mach *x, const i64 *wloc, const int *who, int n)
{
    Key k;
    memset(&k, 0, sizeof k);
    k.k[0] = V_DEADLOCK;
    i64 locs[MAXHOST];
    for (int q = 0; q < n; q++)
        locs[q] = wloc[who[q]];
    for (int p = 1; p < n; p++)
        for (int q = p; q > 0 && locs[q - 1] > locs[q]; q--) {
            i64 tmp = locs[q]; locs[q] = locs[q - 1]; locs[q - 1] = tmp;
        }
    k.k[1] = n;
    for (int q = 0; q < n; q++)
        k.k[2 + q] = locs[q];
    note(x, &k);
}

/* the labels enabled in w, in machine.py's order; returns their number */
static int enabled(Mach *x, const i64 *w, i64 *labels)
{
    const Model *m = x->m;
    i64 nlab = m->nchoices + 2;
    int n = 0;
    for (int t = 0; t < m->nthreads; t++) {
        i64 depth = w[TB(m, t)];
        if (depth == 0) {
            if (t < m->nhost) {
                for (i64 k = 0; k < m->hostch; k++)
                    labels[n++] = t * nlab + k;
            } else {
                for (i64 k = m->hostch; k < m->nchoices; k++)
                    if (worker_may_start(m, w, k))
                        labels[n++] = t * nlab + k;
            }
            continue;
        }
        i64 c, o, l;
        int blocked = lock_wait(x, w, t, &c, &o, &l);
        const i64 *f = FRAME(m, w, t, depth - 1);
        const i64 *r = IMG(m, m->funcs[f[0]].pcoff[f[1]]);
        if (r[0] == I_PRIM && (m->progs[PREC * r[2] + 3] & PF_CHOICE)) {
            /* the failing outcome never waits (core.trace checks it) */
            if (!blocked)
                labels[n++] = t * nlab + m->nchoices;
            labels[n++] = t * nlab + m->nchoices + 1;
            continue;
        }
        if (blocked)
            continue;
        if (r[0] == I_PRIM && (m->progs[PREC * r[2] + 3] & PF_ALLOC)) {
            i64 first = m->pools[2 * r[4]], cnt = m->pools[2 * r[4] + 1];
            int fr = 0;
            for (i64 s = first; s < first + cnt; s++)
                if (w[m->slots[s].status] == FREE) { fr = 1; break; }
            if (!fr)
                x->exhausted[r[4]] = 1;
            if (fr)
                labels[n++] = t * nlab + m->nchoices;
            if (m->allocfail || !fr)
                labels[n++] = t * nlab + m->nchoices + 1;
            continue;
        }
        labels[n++] = t * nlab + m->nchoices;
    }
    return n;
}

/* state properties (machine.py check_state): violations appended to x->viol */
static void check_state(Mach *x, const i64 *w)
{
    const Model *m = x->m;
    x->nviol = 0;
    i64 sid, i;
    for (i64 c = 0; c < m->ncpu; c++)
        if (w[m->cpucells[2 * c]] == RUNNING) {
            sid = -1;
            if (region(m, w[m->cpucells[2 * c + 1]], &sid, &i) == R_SLOT && w[m->slots[sid].status] == FREED)
                note3(x, V_CPU_EXECUTES_FREED, m->slots[sid].struct_id, w[m->slots[sid].site], 0);
        }
    /* deadlock: the first wait-for cycle, from the lowest waiting thread */
    {
        i64 wcell[MAXHOST], wown[MAXHOST], wloc[MAXHOST];
        int waits[MAXHOST];
        int cycle = 0;
        for (int t = 0; t < m->nthreads; t++)
            waits[t] = lock_wait(x, w, t, &wcell[t], &wown[t], &wloc[t]);
        for (int t = 0; t < m->nthreads; t++) {
            if (!waits[t])
                continue;
            int seen[MAXHOST], ns = 0;
            seen[ns++] = t;
            i64 u = wown[t] > 0 ? wown[t] - 1 : -1; /* an owner cell of a hostile image may hold INT64_MIN */
            for (;;) {
                if (u < 0 || u >= m->nthreads || !waits[u])
                    break;
                int dup = 0;
                for (int q = 0; q < ns; q++)
                    if (seen[q] == u) dup = 1;
                if (dup)
                    break;
                seen[ns++] = (int)u;
                u = wown[u] > 0 ? wown[u] - 1 : -1;
            }
            if (u == t) {
                note_deadlock(x, wloc, seen, ns);
                cycle = 1;
                break;
            }
        }
        /* no cycle, but every thread waits, and none at a primitive that can give up, or is an idle worker
           with nothing to start (machine.py) */
        int stuck = !cycle && m->nthreads > 0, nstuck = 0;
        int who[MAXHOST];
        for (int t = 0; t < m->nthreads && stuck; t++) {
            if (!waits[t] && t >= m->nhost && w[TB(m, t)] == 0) {
                for (i64 k = m->hostch; k < m->nchoices && stuck; k++)
                    if (worker_may_start(m, w, k))
                        stuck = 0;
                continue;
            }
            if (!waits[t]) { stuck = 0; break; }
            const i64 *f = FRAME(m, w, t, w[TB(m, t)] - 1);
            const i64 *r = IMG(m, m->funcs[f[0]].pcoff[f[1]]);
            if (m->progs[PREC * r[2] + 3] & PF_CHOICE)
                stuck = 0;
            who[nstuck++] = t;
        }
        if (stuck && nstuck > 0)
            note_deadlock(x, wloc, who, nstuck);
    }
    int quiet = 1;
    for (int t = 0; t < m->nthreads; t++)
        if (w[TB(m, t)]) quiet = 0;
    if (quiet) {
        /* dangling: a freed object something other than a CPU still points into */
        for (i64 s = 0; s < m->nslots; s++) {
            const Slot *sl = &m->slots[s];
            if (w[sl->status] != FREED)
                continue;
            i64 lo = sl->base, hi = sl->base + (sl->size > 1 ? sl->size : 1);
            for (i64 k = 0; k < m->nptr; k++) {
                i64 j = m->ptr_cells[k], v = w[j];
                if (v && lo <= v && v < hi && cell_live(m, w, j) && m->cells[3 * j] != K_CPUIMAGE) {
                    note3(x, V_DANGLING, sl->struct_id, w[sl->site], 0);
                    break;
                }
            }
        }
        /* leaks: live objects not reachable from globals, running CPUs, or lists */
        unsigned char reached[1 << 16];
        int anylive = 0;
        for (i64 s = 0; s < m->nslots; s++) {
            reached[s] = 0;
            if (w[m->slots[s].status] == LIVE) anylive = 1;
        }
        /* a live object with a pending deferred item is reached (machine.py pending_slots) */
        for (i64 d = 0; d < m->ndefer; d++) {
            i64 j = m->defer[d], o = m->cells[3 * j + 1];
            if (o >= 0 && (w[j] & DEFERRED_PENDING) && w[m->slots[o].status] == LIVE)
                reached[o] = 1;
        }
        if (anylive) {
            int changed = 1;
            while (changed) {
                changed = 0;
                for (i64 k = 0; k < m->nptr; k++) {
                    i64 j = m->ptr_cells[k], v = w[j];
                    if (!v)
                        continue;
                    i64 ts = -1, ti;
                    int rg = region(m, v, &ts, &ti);
                    i64 tgt = (rg == R_SLOT && w[m->slots[ts].status] == LIVE) ? ts : -1;
                    i64 o = m->cells[3 * j + 1];
                    int src = o < 0 || reached[o];
                    if (src) {
                        if (tgt >= 0 && !reached[tgt]) { reached[tgt] = 1; changed = 1; }
                    } else if (m->cells[3 * j] == K_LIST && cell_live(m, w, j) &&
                               (rg == R_GLOBAL || (tgt >= 0 && reached[tgt]))) {
                        reached[o] = 1;
                        changed = 1;
                    }
                }
            }
            for (i64 s = 0; s < m->nslots; s++)
                if (w[m->slots[s].status] == LIVE && !reached[s])
                    note3(x, V_LEAK, m->slots[s].struct_id, w[m->slots[s].site], 0);
        }
    }
    /* quiescent invariants hold at rest: every thread idle and no deferred item pending (machine.py) */
    int rest = quiet && !(m->nworkers && pending_items(m, w));
    for (i64 v = 0; v < m->ninv; v++) {
        i64 flags = m->invs[3 * v + 2];
        if (!((flags & INV_ALWAYS) || rest))
            continue;
        i64 pool = m->invs[3 * v];
        if (pool < 0 || ((flags & INV_WITNESS) && x->witnessed[v]))
            continue;
        for (i64 s = m->pools[2 * pool]; s < m->pools[2 * pool] + m->pools[2 * pool + 1]; s++) {
            if (w[m->slots[s].status] != LIVE)
                continue;
            i64 self = m->slots[s].base, ok = 0;
            const i64 *saved = x->w;
            x->w = (i64 *)w;
            int e = eval(x, m->invs[3 * v + 1], &self, &ok);
            x->w = (i64 *)saved;
            if (x->err == ERR_U64)
                x->err = ERR_NONE;
            if (flags & INV_WITNESS) {
                /* spec coverage, not a check: does the expression ever hold (without a fault)? */
                if (!e && ok) {
                    x->witnessed[v] = 1;
                    break;
                }
                continue; /* a fault witnesses nothing */
            }
            if (e || !ok) {
                note3(x, V_INVARIANT, v, 0, 0);
                break;
            }
        }
    }
}

/* ------------------------------------------------------------------ symmetry of host CPUs
 *
 * Host threads are anonymous: nothing in a model can ask which CPU runs it,
 * so states that differ by a renaming of threads are the same up to that
 * renaming (the renaming applies to their stacks and to the owners of held
 * locks). The canonical member of an orbit orders threads by their stack
 * (the slots of the working vector, compared as signed integers), then by
 * the lock cells they hold; threads equal in both are identical, so the
 * order is unique. native.py replays traces through _explore.canonical().
 */

static int cmp_threads(const Model *m, const i64 *w, int a, int b)
{
    const i64 *x = w + TB(m, a), *y = w + TB(m, b);
    for (i64 k = 0; k < m->tsize; k++)
        if (x[k] != y[k])
            return x[k] < y[k] ? -1 : 1;
    /* the lock cells each holds, ascending; a list that is a prefix of the other comes first */
    i64 i = 0, j = 0;
    for (;;) {
        while (i < m->nlockc && w[m->lock_cells[i]] != a + 1) i++;
        while (j < m->nlockc && w[m->lock_cells[j]] != b + 1) j++;
        if (i >= m->nlockc || j >= m->nlockc)
            return (i >= m->nlockc) == (j >= m->nlockc) ? 0 : (i >= m->nlockc ? -1 : 1);
        if (m->lock_cells[i] != m->lock_cells[j])
            return m->lock_cells[i] < m->lock_cells[j] ? -1 : 1;
        i++;
        j++;
    }
}

/* rename threads of w into canonical order; scratch holds nhost * tsize words */
static void canonical_threads(const Model *m, i64 *w, i64 *scratch)
{
    int order[MAXHOST], n = (int)m->nthreads, moved = 0;
    for (int t = 0; t < n; t++)
        order[t] = t;
    for (int p = 1; p < n; p++)
        for (int q = p; q > 0 && cmp_threads(m, w, order[q - 1], order[q]) > 0; q--) {
            int tmp = order[q]; order[q] = order[q - 1]; order[q - 1] = tmp;
            moved = 1;
        }
    if (!moved)
        return;
    int pos[MAXHOST];
    for (int t = 0; t < n; t++)
        pos[order[t]] = t;
    memcpy(scratch, w + m->ncells, sizeof(i64) * (size_t)(n * m->tsize));
    for (int t = 0; t < n; t++)
        memcpy(w + TB(m, t), scratch + (i64)order[t] * m->tsize, sizeof(i64) * (size_t)m->tsize);
    for (i64 k = 0; k < m->nlockc; k++) {
        i64 c = m->lock_cells[k], v = w[c];
        if (v >= 1 && v <= n)
            w[c] = pos[v - 1] + 1;
    }
}

/* ------------------------------------------------------------------ symmetry of pool slots
 *
 * The slots of a pool are interchangeable when nothing orders or prints
 * addresses (native.py checks: no relational comparison of pointers, no
 * pointer cast to an integer). Renaming slots moves their cells (status,
 * site, the object) and rewrites every pointer into them: pointer cells and
 * the pointer locals of every frame. The canonical state is the least vector
 * over every renaming of the slots of symmetric pools, each followed by the
 * canonical order of threads; both renamings commute, so this is a canonical
 * form of the whole group: one state per orbit.
 */

typedef struct {
    int npools, pool[64], k[64]; /* the symmetric pools (at most 64, of at most 8 slots) and their sizes */
} Perms;

static int next_lex(unsigned char *a, int k)
{
    int i = k - 2;
    while (i >= 0 && a[i] >= a[i + 1]) i--;
    if (i < 0) return 0;
    int j = k - 1;
    while (a[j] <= a[i]) j--;
    unsigned char t = a[i]; a[i] = a[j]; a[j] = t;
    for (int l = i + 1, r = k - 1; l < r; l++, r--) { t = a[l]; a[l] = a[r]; a[r] = t; }
    return 1;
}

static int perms_init(const Model *m, Perms *P)
{
    memset(P, 0, sizeof *P);
    if (m->nslots > (1 << 12))
        return 0; /* canonical() keeps its renaming on the stack: no slot symmetry for more slots */
    for (i64 p = 0; p < m->npools && P->npools < 64; p++) {
        if (!m->sympool[p] || m->pools[2 * p + 1] < 2)
            continue;
        int q = P->npools++;
        P->pool[q] = (int)p;
        P->k[q] = (int)m->pools[2 * p + 1];
    }
    return 0;
}

static inline int lexcmp(const i64 *a, const i64 *b, i64 n)
{
    for (i64 k = 0; k < n; k++)
        if (a[k] != b[k]) return a[k] < b[k] ? -1 : 1;
    return 0;
}

/* v = w with slot s renamed to to[s] (every slot of the model; identity outside symmetric pools) */
static void apply_slots(const Model *m, const i64 *to, const i64 *w, i64 *v)
{
    memcpy(v, w, sizeof(i64) * (size_t)m->nslot_total);
    for (i64 s = 0; s < m->nslots; s++) {
        if (to[s] == s)
            continue;
        const Slot *a = &m->slots[s], *b = &m->slots[to[s]];
        v[b->status] = w[a->status];
        v[b->site] = w[a->site];
        memcpy(v + (b->base - m->base), w + (a->base - m->base), sizeof(i64) * (size_t)a->size);
    }
#define REN(x) do { i64 _v = (x), _s = -1, _i; \
        if (region(m, _v, &_s, &_i) == R_SLOT && to[_s] != _s) \
            (x) = m->slots[to[_s]].base + (_v - m->slots[_s].base); } while (0)
    for (i64 k = 0; k < m->nptr; k++)
        REN(v[m->ptr_cells[k]]);
    for (int t = 0; t < m->nthreads; t++) {
        i64 depth = v[TB(m, t)];
        for (i64 l = 0; l < depth; l++) {
            i64 *f = FRAME(m, v, t, l);
            const Func *fn = &m->funcs[f[0]];
            for (i64 j = 0; j < fn->nlocals; j++)
                if (fn->locinfo[3 * j + 2])
                    REN(f[3 + j]);
        }
    }
#undef REN
}

/* What a slot looks like without its name: status, site, and its cells, with a pointer into a
   symmetric slot reduced to "some slot" (which one depends on names). */
static u64 slot_key(const Model *m, const i64 *w, i64 s)
{
    const Slot *sl = &m->slots[s];
    u64 h = mix64((u64)w[sl->status] * 0x9e3779b97f4a7c15ULL + (u64)w[sl->site]);
    for (i64 c = 0; c < sl->size; c++) {
        i64 j = sl->base - m->base + c, v = w[j], k = m->cells[3 * j], sid = -1, i;
        if ((k == K_PTR || k == K_IDRPTR || k == K_LIST) && region(m, v, &sid, &i) == R_SLOT && m->slot_pool[sid] >= 0)
            v = -0x5eed; /* into a symmetric slot */
        h = mix64(h ^ ((u64)v + 0x632be59bd9b4e019ULL * (u64)(c + 1)));
    }
    return h;
}

/* The canonical member of w's orbit, in place. Slots are ordered by slot_key, which names do not
   change; only slots that tie (and are not free: free slots are all zero and nothing points into
   them, so their order changes nothing) are tried in every order. The least vector over those
   arrangements, each followed by the canonical order of threads, is the same for every member of
   an orbit: a canonical form, one state per orbit. best and cand are scratch vectors. */
static void canonical(const Model *m, Perms *P, i64 *w, int threads, i64 *best, i64 *cand, i64 *scratch)
{
    if (!P->npools) {
        if (threads)
            canonical_threads(m, w, scratch);
        return;
    }
    i64 to[1 << 12]; /* perms_init allows slot symmetry only up to this many slots */
    for (i64 s = 0; s < m->nslots; s++)
        to[s] = s;
    /* per symmetric pool: slots sorted by key; groups of tied live slots to permute */
    int ord[64][8], gstart[64][8], glen[64][8], ng[64], cur[64][8][8];
    for (int q = 0; q < P->npools; q++) {
        int k = P->k[q];
        i64 first = m->pools[2 * P->pool[q]];
        u64 key[8];
        for (int r = 0; r < k; r++) {
            ord[q][r] = r;
            key[r] = slot_key(m, w, first + r);
        }
        for (int x = 1; x < k; x++)
            for (int y = x; y > 0 && key[ord[q][y - 1]] > key[ord[q][y]]; y--) {
                int t = ord[q][y]; ord[q][y] = ord[q][y - 1]; ord[q][y - 1] = t;
            }
        ng[q] = 0;
        for (int x = 0; x < k;) {
            int y = x + 1;
            while (y < k && key[ord[q][y]] == key[ord[q][x]]) y++;
            if (y - x > 1 && w[m->slots[first + ord[q][x]].status] != FREE) {
                int g = ng[q]++;
                gstart[q][g] = x;
                glen[q][g] = y - x;
                for (int z = 0; z < y - x; z++) cur[q][g][z] = z;
            }
            x = y;
        }
    }
    int first_round = 1;
    for (;;) {
        /* the arrangement: position x of pool q holds slot ord[q][x], tied groups in order cur */
        for (int q = 0; q < P->npools; q++) {
            i64 first = m->pools[2 * P->pool[q]];
            int pos[8];
            for (int x = 0; x < P->k[q]; x++) pos[x] = ord[q][x];
            for (int g = 0; g < ng[q]; g++)
                for (int z = 0; z < glen[q][g]; z++)
                    pos[gstart[q][g] + z] = ord[q][gstart[q][g] + cur[q][g][z]];
            for (int x = 0; x < P->k[q]; x++)
                to[first + pos[x]] = first + x;
        }
        apply_slots(m, to, w, cand);
        if (threads)
            canonical_threads(m, cand, scratch);
        if (first_round || lexcmp(cand, best, m->nslot_total) < 0)
            memcpy(best, cand, sizeof(i64) * (size_t)m->nslot_total);
        first_round = 0;
        /* next combination of orders of the tied groups */
        int q = 0, g = 0, more = 0;
        for (q = 0; q < P->npools && !more; q++)
            for (g = 0; g < ng[q] && !more; g++) {
                unsigned char a[8];
                for (int z = 0; z < glen[q][g]; z++) a[z] = (unsigned char)cur[q][g][z];
                if (next_lex(a, glen[q][g])) {
                    more = 1;
                } else {
                    for (int z = 0; z < glen[q][g]; z++) a[z] = (unsigned char)z; /* wrap, carry on */
                }
                for (int z = 0; z < glen[q][g]; z++) cur[q][g][z] = a[z];
            }
        if (!more)
            break;
    }
    memcpy(w, best, sizeof(i64) * (size_t)m->nslot_total);
}

/* ------------------------------------------------------------------ layout: bit-packed states
 *
 * Slot s of the working vector takes width[s] bits holding v - lo[s]. Python
 * proposes widths from the types; a value that does not fit widens its slot
 * (unsigned while every value seen is >= 0, two's complement after) and
 * every stored state is repacked, so widths follow the values the model
 * really takes, and a state's encoding is never lossy.
 */

typedef struct {
    i64 n;                /* slots */
    unsigned char *width; /* bits per slot */
    i64 *lo;              /* bias per slot */
    i64 bits, words, sbytes;
    i64 *bitoff;          /* per slot: offset of its bits in the packed state */
    i64 *nz, nnz;         /* the slots that take bits (the others are always zero) */
} Layout;

static const int LADDER[] = {1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64};

static void layout_sizes(Layout *L)
{
    i64 b = 0;
    L->nnz = 0;
    for (i64 s = 0; s < L->n; s++) {
        L->bitoff[s] = b;
        if (L->width[s])
            L->nz[L->nnz++] = s;
        b += L->width[s];
    }
    L->bits = b;
    L->words = (b + 63) / 64 + 1;
    L->sbytes = (b + 7) / 8;
    if (L->sbytes == 0)
        L->sbytes = 1;
}

static inline int fits(const Layout *L, i64 s, i64 v)
{
    int wd = L->width[s];
    if (wd == 64)
        return 1;
    u64 u = (u64)v - (u64)L->lo[s];
    return (u >> wd) == 0;
}

/* widen slot s until v fits, keeping every value that fitted before */
static void widen(Layout *L, i64 s, i64 v)
{
    int wd = L->width[s];
    __int128 lo = L->lo[s];
    __int128 hi = wd == 0 ? lo : lo + ((((__int128)1) << wd) - 1);
    __int128 mn = v < lo ? v : lo, mx = v > hi ? v : hi;
    for (size_t k = 0; k < sizeof LADDER / sizeof LADDER[0]; k++) {
        int nw = LADDER[k];
        if (nw <= wd)
            continue;
        __int128 nlo = mn >= 0 ? 0 : -(((__int128)1) << (nw - 1));
        __int128 nhi = nlo + ((((__int128)1) << nw) - 1);
        if (mn >= nlo && mx <= nhi) {
            L->width[s] = (unsigned char)nw;
            L->lo[s] = (i64)nlo;
            layout_sizes(L);
            return;
        }
    }
}

/* pack w into buf (L->words u64); returns -1 with *ovf = slot when a value does not fit */
static int pack(const Layout *L, const i64 *w, u64 *buf, i64 *ovf)
{
    u64 acc = 0;
    int nb = 0; /* bits already in acc, always < 64 */
    i64 o = 0;
    for (i64 s = 0; s < L->n; s++) {
        int wd = L->width[s];
        if (!fits(L, s, w[s])) {
            *ovf = s;
            return -1;
        }
        if (!wd)
            continue;
        u64 u = (u64)w[s] - (u64)L->lo[s];
        acc |= u << nb;
        if (nb + wd >= 64) {
            buf[o++] = acc;
            int used = 64 - nb; /* bits of u now written */
            acc = used == 64 ? 0 : u >> used;
            nb = nb + wd - 64;
        } else {
            nb += wd;
        }
    }
    while (o < L->words) {
        buf[o++] = acc;
        acc = 0;
    }
    return 0;
}

/* the value of slot s (one that takes bits) in packed bytes readable for sbytes + 8 */
static inline i64 slot_value(const Layout *L, const unsigned char *p, i64 s)
{
    i64 off = L->bitoff[s];
    int wd = L->width[s], sh = (int)(off & 7);
    u64 v;
    memcpy(&v, p + (off >> 3), 8);
    v >>= sh;
    if (wd + sh > 64)
        v |= (u64)p[(off >> 3) + 8] << (64 - sh);
    if (wd < 64)
        v &= (((u64)1) << wd) - 1;
    return (i64)(v + (u64)L->lo[s]);
}

/* unpack from bytes (readable for sbytes + 8): every slot that takes no bits is zero */
static void unpackb(const Layout *L, const unsigned char *p, i64 *w)
{
    memset(w, 0, sizeof(i64) * (size_t)L->n);
    for (i64 k = 0; k < L->nnz; k++)
        w[L->nz[k]] = slot_value(L, p, L->nz[k]);
}

/* write slot s (whose value fits) into packed bytes */
static inline void patch(const Layout *L, unsigned char *p, i64 s, i64 val)
{
    i64 off = L->bitoff[s];
    int wd = L->width[s], sh = (int)(off & 7);
    u64 u = (u64)val - (u64)L->lo[s], v, mask = wd == 64 ? ~(u64)0 : (((u64)1) << wd) - 1;
    memcpy(&v, p + (off >> 3), 8);
    v = (v & ~(mask << sh)) | ((u & mask) << sh);
    memcpy(p + (off >> 3), &v, 8);
    if (wd + sh > 64) {
        unsigned char hi = (unsigned char)((u & mask) >> (64 - sh));
        unsigned char hm = (unsigned char)(mask >> (64 - sh));
        p[(off >> 3) + 8] = (unsigned char)((p[(off >> 3) + 8] & ~hm) | hi);
    }
}

static inline u64 mix64(u64 h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* ------------------------------------------------------------------ exploration */

typedef struct {
    u64 *w;
    i64 n, cap; /* words */
} Buf;

static int buf_need(Buf *b, i64 more, i64 *mem)
{
    if (b->n + more <= b->cap)
        return 0;
    i64 nc = b->cap ? b->cap * 2 : 4096;
    while (nc < b->n + more)
        nc *= 2;
    u64 *p = realloc(b->w, (size_t)nc * sizeof(u64));
    if (!p)
        return -1;
    __atomic_add_fetch(mem, (nc - b->cap) * (i64)sizeof(u64), __ATOMIC_RELAXED);
    b->w = p;
    b->cap = nc;
    return 0;
}

typedef struct {
    Key key;
    i64 len, gid, label; /* trace length; the state (label -1) or the parent of the step (label >= 0) */
    u64 ord;             /* which of the equally short candidates is kept: see ORD_STEP (content, not gid) */
} Finding;

/* Which trace is reported must not depend on the number of threads (issue 6: the same JSON for every
 * -j), and is the reference explorer's: the state found first in breadth-first order. Each state of a
 * layer has a rank, its place in that order; the steps out of a layer are ordered by (rank of the
 * source, label), ORD_STEP. A state's parent is the step into it with the lowest ORD_STEP, and a state's
 * rank its place among its layer's states by that lowest ORD_STEP (rank_layer); a finding is the
 * equally short candidate with the lowest ORD_STEP. None of it depends on which partition holds a
 * state or when its items arrive. (Fingerprint mode cannot find a stored state again, so there the
 * first arrival is the parent and a state's rank its gid: the same as the reference with -j 1.) */
#define ORD_STEP(rank, lab) (((u64)(rank) << 16) | ((u64)(lab) & 0xffff))

enum { IT_SUCC = 1, IT_FATAL = 2, IT_BOUND = 3 };
#define ITEM_HDR 4
#define ROOT_PARENT 0xffffffffu

struct Run;

/* A barrier whose number of parties can shrink (when a thread fails to start): pthread's cannot. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n, waiting;
    unsigned gen;
} Barrier;

static void bar_init(Barrier *b, int n)
{
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->n = n;
    b->waiting = 0;
    b->gen = 0;
}

static void bar_trip(Barrier *b)
{
    b->waiting = 0;
    b->gen++;
    pthread_cond_broadcast(&b->cv);
}

static void bar_wait(Barrier *b)
{
    pthread_mutex_lock(&b->mu);
    unsigned g = b->gen;
    if (++b->waiting >= b->n)
        bar_trip(b);
    else
        while (g == b->gen)
            pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
}

static void bar_resize(Barrier *b, int n)
{
    pthread_mutex_lock(&b->mu);
    b->n = n;
    if (b->waiting && b->waiting >= n)
        bar_trip(b);
    pthread_mutex_unlock(&b->mu);
}

static void bar_destroy(Barrier *b)
{
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
}

typedef struct __attribute__((aligned(64))) { /* one per thread: no cache line shared with another */
    struct Run *run;
    int id;
    /* storage of this partition */
    unsigned char **blk;     /* states in blocks of BLK, at stride sbytes (fingerprint mode: the frontier only) */
    i64 nblk, cblk, freed;   /* blocks allocated, block slots, blocks released */
    i64 n;                   /* states owned */
    u32 *parent;
    u64 *lkey;               /* exact: ORD_STEP of the parent of each state of the next layer (index - lend) */
    i64 lkcap;
    u64 *lrank;              /* exact: the rank of each state of the current layer (index - lstart) */
    i64 lrcap;
    u32 *hash;               /* exact: the low bits of each state's hash, for growing the table */
    uint16_t *label;
    unsigned char *dead;     /* one bit per state */
    i64 pcap;
    u32 *tab;                /* exact: local index + 1 */
    u64 *ftab;               /* fingerprint: fp (0 = empty) */
    i64 tcap;
    i64 lstart, lend, cursor, chunk_end;
    i64 transitions;
    Finding *fnd;
    int nfnd, cfnd;
    i64 (*cov)[4];
    int ncov, ccov;
    unsigned char *exhausted;
    unsigned char *witnessed;
    Buf *out;                /* phase A output to each partition */
    i64 *ws, *wd, *labels;
    u64 *pbuf, *pbase;   /* a successor's and its parent's packed states */
    i64 *scratch;        /* the threads, while they are reordered */
    i64 *best, *cand;    /* candidates for the canonical state */
    Perms perms;
    Mach mach;
    int ovf;
    i64 ovf_slot, ovf_val;
    int err, oom;
    int bound;
    i64 bound_loc;
} Part;

typedef struct Run {
    Model *m;
    Layout L;
    int N, fp, symmetry;
    int nloc;               /* Parts held here: all N (threads), or the one of a Partition object */
    int dist;               /* a Partition: max_states is this partition's share, refused only when passed */
    int by_memory;          /* a state's partition is the hash of its shared memory (its cells), not of all of it */
    i64 max_states, max_depth, max_memory;
    i64 peak;
    Part *parts;
    Barrier b1, b2;
    int cmd;                /* 0 phase A, 1 phase B, 2 exit */
    volatile int stop;      /* 1 max states, 2 IDR bound, 3 memory, 4 interrupted */
    i64 stop_loc;
    i64 layer;
    i64 chunk;
    i64 relayouts;          /* times the layout was widened */
    u64 *hmul;              /* per slot: the odd multiplier of the state hash */
    /* written by every thread: each on a cache line of its own, away from what they all read */
    i64 total __attribute__((aligned(64)));   /* states, all partitions */
    char pad1[56];
    i64 mem __attribute__((aligned(64)));     /* bytes allocated by the run */
    char pad2[56];
} Run;

static inline i64 gid_of(const Run *R, int p, i64 li) { return li * R->N + p; }

#define BLK_BITS 12
#define BLK (1 << BLK_BITS)

static inline unsigned char *state_at(const Run *R, Part *P, i64 li)
{
    return P->blk[li >> BLK_BITS] + (size_t)(li & (BLK - 1)) * (size_t)R->L.sbytes;
}

static inline size_t blk_bytes(const Run *R)
{
    return (size_t)BLK * (size_t)R->L.sbytes + 8; /* + 8: unpackb reads a word past a state's end */
}

static int grow_states(Run *R, Part *P)
{
    if (P->n < P->pcap && (P->n >> BLK_BITS) < P->nblk)
        return 0;
    if (P->n >= P->pcap) {
        i64 nc = P->pcap ? P->pcap + P->pcap / 2 : 1024;
        u32 *pa = realloc(P->parent, (size_t)nc * sizeof(u32));
        if (pa) P->parent = pa;
        uint16_t *la = realloc(P->label, (size_t)nc * sizeof(uint16_t));
        if (la) P->label = la;
        u32 *ha = R->fp ? P->hash : realloc(P->hash, (size_t)nc * sizeof(u32));
        if (ha) P->hash = ha;
        unsigned char *de = realloc(P->dead, (size_t)((nc + 7) / 8));
        if (de) P->dead = de;
        if (!pa || !la || !de || (!R->fp && !ha))
            return -1;
        memset(P->dead + (P->pcap + 7) / 8, 0, (size_t)((nc + 7) / 8 - (P->pcap + 7) / 8));
        __atomic_add_fetch(&R->mem, (nc - P->pcap) * (i64)(sizeof(u32) * (R->fp ? 1 : 2) + sizeof(uint16_t)) +
                           (nc - P->pcap) / 8,
                           __ATOMIC_RELAXED);
        P->pcap = nc;
    }
    if ((P->n >> BLK_BITS) >= P->nblk) {
        if (P->nblk == P->cblk) {
            i64 nc = P->cblk ? P->cblk * 2 : 64;
            unsigned char **nb = realloc(P->blk, (size_t)nc * sizeof(unsigned char *));
            if (!nb)
                return -1;
            P->blk = nb;
            P->cblk = nc;
        }
        unsigned char *b = malloc(blk_bytes(R));
        if (!b)
            return -1;
        __atomic_add_fetch(&R->mem, (i64)blk_bytes(R), __ATOMIC_RELAXED);
        P->blk[P->nblk++] = b;
    }
    return 0;
}


static int table_rebuild(Run *R, Part *P, i64 cap)
{
    if (R->fp) {
        u64 *nt = calloc((size_t)cap, sizeof(u64));
        if (!nt)
            return -1;
        for (i64 k = 0; k < P->tcap; k++) {
            u64 f = P->ftab[k];
            if (!f)
                continue;
            i64 h = (i64)(f & (u64)(cap - 1));
            while (nt[h])
                h = (h + 1) & (cap - 1);
            nt[h] = f;
        }
        __atomic_add_fetch(&R->mem, (cap - P->tcap) * (i64)sizeof(u64), __ATOMIC_RELAXED);
        free(P->ftab);
        P->ftab = nt;
    } else {
        u32 *nt = calloc((size_t)cap, sizeof(u32));
        if (!nt)
            return -1;
        for (i64 li = 0; li < P->n; li++) {
            i64 h = (i64)(P->hash[li] & (u64)(cap - 1));
            while (nt[h])
                h = (h + 1) & (cap - 1);
            nt[h] = (u32)(li + 1);
        }
        __atomic_add_fetch(&R->mem, (cap - P->tcap) * (i64)sizeof(u32), __ATOMIC_RELAXED);
        free(P->tab);
        P->tab = nt;
    }
    P->tcap = cap;
    return 0;
}

/* count one more state unless that passes the bound (all partitions share the count; a Partition's
 * bound is its share, -1 for none) */
static int admit(Run *R)
{
    i64 cap = R->dist ? R->max_states : R->max_states ? R->max_states : -1;
    for (;;) {
        i64 t = __atomic_load_n(&R->total, __ATOMIC_RELAXED);
        if (cap >= 0 && t >= cap)
            return 0;
        if (__atomic_compare_exchange_n(&R->total, &t, t + 1, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return 1;
    }
}

/* insert a packed state with hash h; returns its local index, or -1 if already present, -2 on no memory,
   -3 when the state bound leaves no room for it */
/* the state's local index, -1 when it is already stored (exact mode: its index in *dup), -2 out of
 * memory, -3 the state bound */
static i64 insert(Run *R, Part *P, const unsigned char *s, u64 h, i64 *dup)
{
    if ((P->n + 1) * 10 > P->tcap * 7 && table_rebuild(R, P, P->tcap * 2))
        return -2;
    i64 mask = P->tcap - 1;
    i64 k = (i64)(h & (u64)mask);
    if (R->fp) {
        u64 f = h ? h : 1;
        for (;;) {
            u64 e = P->ftab[k];
            if (!e)
                break;
            if (e == f)
                return -1;
            k = (k + 1) & mask;
        }
        if (!admit(R))
            return -3;
        if (grow_states(R, P))
            return -2;
        P->ftab[k] = f;
    } else {
        for (;;) {
            u32 e = P->tab[k];
            if (!e)
                break;
            if (!memcmp(state_at(R, P, e - 1), s, (size_t)R->L.sbytes)) {
                *dup = (i64)e - 1;
                return -1;
            }
            k = (k + 1) & mask;
        }
        if (!admit(R))
            return -3;
        if (grow_states(R, P))
            return -2;
        P->tab[k] = (u32)(P->n + 1);
    }
    i64 li = P->n++;
    memcpy(state_at(R, P, li), s, (size_t)R->L.sbytes);
    if (!R->fp)
        P->hash[li] = (u32)h;
    return li;
}

static void record(Part *P, const Key *k, i64 len, i64 gid, i64 label, u64 ord)
{
    for (int q = 0; q < P->nfnd; q++) {
        Finding *f = &P->fnd[q];
        if (memcmp(&f->key, k, sizeof *k))
            continue;
        if (len < f->len || (len == f->len && (ord < f->ord || (ord == f->ord && (gid < f->gid ||
                                                                                 (gid == f->gid && label < f->label)))))) {
            f->len = len; f->gid = gid; f->label = label; f->ord = ord;
        }
        return;
    }
    if (P->nfnd == P->cfnd) {
        int nc = P->cfnd ? P->cfnd * 2 : 16;
        Finding *nf = realloc(P->fnd, (size_t)nc * sizeof(Finding));
        if (!nf) { P->oom = 1; return; }
        P->fnd = nf;
        P->cfnd = nc;
    }
    Finding *f = &P->fnd[P->nfnd++];
    f->key = *k; f->len = len; f->gid = gid; f->label = label; f->ord = ord;
}

static void cover(Part *P, const Mach *x)
{
    for (int k = 0; k < x->ntrans; k++) {
        int seen = 0;
        for (int q = 0; q < P->ncov && !seen; q++)
            seen = !memcmp(P->cov[q], x->trans[k], sizeof(i64) * 4);
        if (seen)
            continue;
        if (P->ncov == P->ccov) {
            int nc = P->ccov ? P->ccov * 2 : 16;
            i64 (*nv)[4] = realloc(P->cov, (size_t)nc * sizeof *nv);
            if (!nv) { P->oom = 1; return; }
            P->cov = nv;
            P->ccov = nc;
        }
        memcpy(P->cov[P->ncov++], x->trans[k], sizeof(i64) * 4);
    }
}

static inline int part_of(const Run *R, u64 h)
{
    return R->N == 1 ? 0 : (int)((h >> 40) % (u64)R->N);
}

/* The partition of a state by its shared memory only (by_memory): a step that changes only its thread's
 * frames (most of them) leaves the state in its partition, so only steps that write shared memory cross
 * to another process. The sum is vec_hash's over the cells, kept up to date the same way. */
/* A state hashes to sum(value[s] * R[s]) over its slots (R[s] odd and random): zero slots add
   nothing, so the hash does not depend on the layout, and a step updates it by what it changed. */
/* the hash of an unpacked state, and its cells' part in *ms */
static inline u64 vec_hash(const Layout *L, i64 ncells, const i64 *w, const u64 *R, u64 *ms)
{
    u64 hm = 0, h = 0; /* two plain loops over every slot: the compiler vectorises them */
    for (i64 k = 0; k < ncells; k++)
        hm += (u64)w[k] * R[k];
    for (i64 k = ncells; k < L->n; k++)
        h += (u64)w[k] * R[k];
    *ms = hm;
    return h + hm;
}

/* vec_hash of a packed state, without unpacking it */
static u64 packed_hash(const Layout *L, const unsigned char *p, const u64 *R)
{
    u64 h = 0;
    for (i64 k = 0; k < L->nnz; k++)
        h += (u64)slot_value(L, p, L->nz[k]) * R[L->nz[k]];
    return h;
}

static inline int owner(const Run *R, u64 h, u64 msum)
{
    return part_of(R, R->by_memory ? mix64(msum ^ 0x5bd1e9955bd1e995ULL) : h);
}

/* phase A: expand this partition's share of the frontier into item streams */
static void phase_a(Run *R, Part *P)
{
    const Model *m = R->m;
    Mach *x = &P->mach;
    i64 nlab = m->nchoices + 2;
    for (int q = 0; q < R->N; q++)
        P->out[q].n = 0;
    const Layout *L = &R->L;
    unsigned char *base = (unsigned char *)P->pbase;
    for (i64 li = P->cursor; li < P->chunk_end; li++) {
        if ((P->dead[li >> 3] >> (li & 7)) & 1)
            continue;
        memcpy(base, state_at(R, P, li), (size_t)L->sbytes);
        unpackb(L, base, P->ws);
        u64 ms;
        u64 hs = vec_hash(L, m->ncells, P->ws, R->hmul, &ms);
        x->w = P->ws;
        int nl = enabled(x, P->ws, P->labels);
        i64 pg = gid_of(R, P->id, li);
        for (int k = 0; k < nl; k++) {
            i64 lab = P->labels[k];
            int t = (int)(lab / nlab);
            int s = step(x, P->ws, P->wd, t, lab % nlab);
            if (s == S_ERR) {
                P->err = x->err ? x->err : ERR_INTERNAL;
                return;
            }
            cover(P, x);
            int dest = P->id;
            u64 h = 0;
            if (s == S_OK) {
                if (R->symmetry)
                    canonical(m, &P->perms, P->wd, m->symthreads, P->best, P->cand, P->scratch);
                /* the successor's encoding: the parent's with the slots the step changed rewritten */
                unsigned char *out = (unsigned char *)P->pbuf;
                memcpy(out, base, (size_t)L->sbytes + 8);
                u64 sum = hs, msum = ms;
                const i64 *ws = P->ws, *wd = P->wd;
                for (i64 j = 0; j < L->n; j++) {
                    if ((j & 7) == 0) { /* skip runs of eight unchanged slots at once (the vectors are padded) */
                        u64 d = 0;
                        for (int q = 0; q < 8; q++)
                            d |= (u64)(wd[j + q] ^ ws[j + q]);
                        if (!d) {
                            j += 7;
                            continue;
                        }
                    }
                    if (wd[j] == ws[j])
                        continue;
                    if (!fits(L, j, wd[j])) {
                        P->ovf = 1;
                        P->ovf_slot = j;
                        P->ovf_val = wd[j];
                        return;
                    }
                    patch(L, out, j, wd[j]);
                    sum += ((u64)wd[j] - (u64)ws[j]) * R->hmul[j];
                    if (j < m->ncells)
                        msum += ((u64)wd[j] - (u64)ws[j]) * R->hmul[j];
                }
                h = mix64(sum);
                dest = owner(R, h, msum);
            }
            if (s == S_BOUND)
                P->bound_loc = x->bound_loc;
            /* the step's violations, then (for a successor) the state's, then the state */
            int nv = x->nviol, nsv = 0;
            Key stepv[MAXVIOL];
            if (nv)
                memcpy(stepv, x->viol, sizeof(Key) * (size_t)nv);
            if (s == S_OK) {
                check_state(x, P->wd);
                nsv = x->nviol;
            }
            Buf *b = &P->out[dest];
            i64 need = ITEM_HDR + (i64)(nv + nsv) * KEYLEN + (s == S_OK ? R->L.words : 0);
            if (buf_need(b, need, &R->mem)) { P->oom = 1; return; }
            u64 *it = b->w + b->n;
            it[0] = (u64)(s == S_OK ? IT_SUCC : s == S_FATAL ? IT_FATAL : IT_BOUND) | ((u64)nv << 8) |
                    ((u64)nsv << 16);
            it[1] = (u64)pg;
            it[2] = ORD_STEP(R->fp ? (u64)pg : P->lrank[li - P->lstart], lab); /* label and order (phase B) */
            it[3] = s == S_BOUND ? (u64)x->bound_loc : h; /* where a bound was hit: the stream carries it */
            if (nv)
                memcpy(it + ITEM_HDR, stepv, sizeof(Key) * (size_t)nv);
            if (nsv)
                memcpy(it + ITEM_HDR + (i64)nv * KEYLEN, x->viol, sizeof(Key) * (size_t)nsv);
            if (s == S_OK)
                memcpy(it + ITEM_HDR + (i64)(nv + nsv) * KEYLEN, P->pbuf, sizeof(u64) * (size_t)R->L.words);
            b->n += need;
            if (s == S_BOUND)
                return; /* the reference explorer stops at the first bound it hits */
        }
    }
}

/* phase B: insert the items addressed to this partition, in stream order */
typedef struct { u64 key; i64 li; int p; } Ranked;

/* at the end of a layer (exact mode): the rank of each state of the next one, by its parent's ORD_STEP,
 * which is unique (one state per source and label); -1 out of memory. The sources' ranks are dense
 * (0 .. the layer's size - 1), so a counting sort by source rank, then by label within the few states
 * of one source, orders them in linear time (qsort took 0.7 s of a 5 s run with two threads). */
static int rank_layer(Run *R)
{
    i64 total = 0, sources = 0;
    for (int p = 0; p < R->N; p++) {
        total += R->parts[p].n - R->parts[p].lend;
        sources += R->parts[p].lend - R->parts[p].lstart;
    }
    if (!total)
        return 0;
    Ranked *all = malloc((size_t)total * sizeof(Ranked));
    i64 *start = calloc((size_t)sources + 1, sizeof(i64));
    if (!all || !start) {
        free(all);
        free(start);
        return -1;
    }
    i64 bytes = total * (i64)sizeof(Ranked) + (sources + 1) * (i64)sizeof(i64); /* counted for the peak */
    R->mem += bytes;
    if (R->mem > R->peak)
        R->peak = R->mem;
    for (int p = 0; p < R->N; p++) {
        Part *P = &R->parts[p];
        i64 n = P->n - P->lend;
        if (n > P->lrcap) {
            u64 *nr = realloc(P->lrank, (size_t)n * sizeof(u64));
            if (!nr) { free(all); free(start); R->mem -= bytes; return -1; }
            __atomic_add_fetch(&R->mem, (n - P->lrcap) * (i64)sizeof(u64), __ATOMIC_RELAXED);
            P->lrank = nr;
            P->lrcap = n;
        }
        for (i64 j = 0; j < n; j++) {
            u64 src = P->lkey[j] >> 16;
            if (src >= (u64)sources) { /* cannot happen: a source is a state of the layer just expanded */
                free(all); free(start); R->mem -= bytes;
                return -1;
            }
            start[src + 1]++;
        }
    }
    for (i64 r = 0; r < sources; r++)
        start[r + 1] += start[r];
    for (int p = 0; p < R->N; p++) {
        Part *P = &R->parts[p];
        for (i64 j = 0; j < P->n - P->lend; j++) {
            Ranked *e = &all[start[P->lkey[j] >> 16]++];
            e->key = P->lkey[j];
            e->li = j;
            e->p = p;
        }
    }
    /* now start[r] is the end of source r's states; order each source's few states by label */
    for (i64 r = 0, lo = 0; r < sources; lo = start[r++]) {
        for (i64 a = lo + 1; a < start[r]; a++) {
            Ranked x = all[a];
            i64 b = a;
            for (; b > lo && all[b - 1].key > x.key; b--)
                all[b] = all[b - 1];
            all[b] = x;
        }
    }
    for (i64 k = 0; k < total; k++)
        R->parts[all[k].p].lrank[all[k].li] = (u64)k;
    free(all);
    free(start);
    R->mem -= bytes;
    return 0;
}

/* insert one stream of items (phase A's format) in order: phase B of a thread, absorb() of a Partition */
static void absorb(Run *R, Part *P, const u64 *w, i64 n)
{
    i64 pos = 0;
    while (pos < n) {
        if (R->stop)
            return;
        const u64 *it = w + pos;
        int type = (int)(it[0] & 0xff);
        int nv = (int)((it[0] >> 8) & 0xff), nsv = (int)((it[0] >> 16) & 0xff);
        i64 pg = (i64)it[1], lab = (i64)(it[2] & 0xffff);
        u64 ord = it[2], h = it[3];
        pos += ITEM_HDR + (i64)(nv + nsv) * KEYLEN + (type == IT_SUCC ? R->L.words : 0);
        if (type == IT_BOUND) {
            R->stop = 2;
            R->stop_loc = (i64)it[3];
            return;
        }
        P->transitions++;
        const Key *ks = (const Key *)(it + ITEM_HDR);
        for (int k = 0; k < nv; k++)
            record(P, &ks[k], R->layer + 1, pg, lab, ord);
        if (type != IT_SUCC)
            continue;
        const unsigned char *s = (const unsigned char *)(it + ITEM_HDR + (i64)(nv + nsv) * KEYLEN);
        i64 dup = -1;
        i64 li = insert(R, P, s, h, &dup);
        if (li == -2) { P->oom = 1; return; }
        if (li == -3) { R->stop = 1; return; }
        if (li < 0) {
            /* found again in the layer that found it: keep the parent with the lowest ord */
            if (dup >= P->lend && ord < P->lkey[dup - P->lend]) {
                P->lkey[dup - P->lend] = ord;
                P->parent[dup] = (u32)pg;
                P->label[dup] = (uint16_t)lab;
                for (int k = 0; k < nsv; k++) /* its violations: now found at this earlier step */
                    record(P, &ks[nv + k], R->layer + 1, gid_of(R, P->id, dup), -1, ord);
            }
            continue;
        }
        P->parent[li] = (u32)pg;
        P->label[li] = (uint16_t)lab;
        if (!R->fp) {
            i64 k = li - P->lend;
            if (k >= P->lkcap) {
                i64 nc = P->lkcap ? P->lkcap * 2 : 1024;
                while (nc <= k) nc *= 2;
                u64 *nk = realloc(P->lkey, (size_t)nc * sizeof(u64));
                if (!nk) { P->oom = 1; return; }
                __atomic_add_fetch(&R->mem, (nc - P->lkcap) * (i64)sizeof(u64), __ATOMIC_RELAXED);
                P->lkey = nk;
                P->lkcap = nc;
            }
            P->lkey[k] = ord;
        }
        if (nsv) {
            P->dead[li >> 3] |= (unsigned char)(1 << (li & 7));
            for (int k = 0; k < nsv; k++)
                record(P, &ks[nv + k], R->layer + 1, gid_of(R, P->id, li), -1, ord);
        }
        if (!R->dist && R->max_states && __atomic_load_n(&R->total, __ATOMIC_RELAXED) >= R->max_states) {
            R->stop = 1;
            return;
        }
    }
}

static void phase_b(Run *R, Part *P)
{
    for (int src = 0; src < R->N && !R->stop && !P->oom; src++)
        absorb(R, P, R->parts[src].out[P->id].w, R->parts[src].out[P->id].n);
}

static void *worker(void *arg)
{
    Part *P = arg;
    Run *R = P->run;
    for (;;) {
        bar_wait(&R->b1);
        if (R->cmd == 2)
            break;
        if (R->cmd == 0)
            phase_a(R, P);
        else
            phase_b(R, P);
        bar_wait(&R->b2);
    }
    return NULL;
}

static void run_phase(Run *R, int cmd)
{
    R->cmd = cmd;
    if (R->N == 1) {
        if (cmd == 0) phase_a(R, &R->parts[0]);
        else if (cmd == 1) phase_b(R, &R->parts[0]);
        return;
    }
    bar_wait(&R->b1);
    if (cmd == 2)
        return;
    if (cmd == 0) phase_a(R, &R->parts[0]);
    else phase_b(R, &R->parts[0]);
    bar_wait(&R->b2);
}

/* widen the layout and repack every stored state (all threads are parked): by the overflows the local
 * partitions met, or (a Partition) by the (slot, value) pairs of every partition, in partition order */
static int relayout(Run *R, const i64 *pairs, i64 npairs)
{
    i64 n = R->L.n;
    Layout old = R->L; /* its own arrays: widen() rewrites R->L's */
    old.width = malloc((size_t)n);
    old.lo = malloc(sizeof(i64) * (size_t)n);
    old.bitoff = malloc(sizeof(i64) * (size_t)n);
    old.nz = malloc(sizeof(i64) * (size_t)n);
    i64 *w = malloc(sizeof(i64) * (size_t)R->m->nslot_total);
    int rc = -1;
    if (!old.width || !old.lo || !old.bitoff || !old.nz || !w)
        goto out;
    memcpy(old.width, R->L.width, (size_t)n);
    memcpy(old.lo, R->L.lo, sizeof(i64) * (size_t)n);
    layout_sizes(&old);
    for (i64 k = 0; pairs && k < npairs; k++)
        widen(&R->L, pairs[2 * k], pairs[2 * k + 1]);
    for (int p = 0; p < R->nloc; p++) {
        Part *P = &R->parts[p];
        if (P->ovf && !pairs)
            widen(&R->L, P->ovf_slot, P->ovf_val);
        P->ovf = 0;
    }
    for (int p = 0; p < R->nloc; p++) {
        Part *P = &R->parts[p];
        /* pack writes whole words: the successor buffers grow with the layout */
        free(P->pbuf);
        free(P->pbase);
        P->pbuf = calloc((size_t)R->L.words + 2, sizeof(u64));
        P->pbase = calloc((size_t)R->L.words + 2, sizeof(u64));
        if (!P->pbuf || !P->pbase)
            goto out;
        for (i64 k = P->freed; k < P->nblk; k++) {
            unsigned char *na = malloc(blk_bytes(R));
            if (!na)
                goto out;
            for (i64 j = 0; j < BLK && (k << BLK_BITS) + j < P->n; j++) {
                unpackb(&old, P->blk[k] + (size_t)j * (size_t)old.sbytes, w);
                i64 slot;
                if (pack(&R->L, w, P->pbuf, &slot)) {
                    free(na);
                    goto out;
                }
                memcpy(na + (size_t)j * (size_t)R->L.sbytes, P->pbuf, (size_t)R->L.sbytes);
            }
            __atomic_add_fetch(&R->mem, (i64)BLK * (R->L.sbytes - old.sbytes), __ATOMIC_RELAXED);
            free(P->blk[k]);
            P->blk[k] = na;
        }
        /* hashes do not depend on the layout: the table stays as it is */
    }
    rc = 0;
out:
    free(w); free(old.width); free(old.lo); free(old.bitoff); free(old.nz);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int setup_part(Run *R, Part *P, int id)
{
    const Model *m = R->m;
    P->run = R;
    P->id = id;
    P->out = calloc((size_t)R->N, sizeof(Buf));
    P->ws = calloc((size_t)m->nslot_total + 8, sizeof(i64)); /* + 8: read (always zero) by the skip above */
    P->wd = calloc((size_t)m->nslot_total + 8, sizeof(i64));
    P->labels = calloc((size_t)(m->nthreads * (m->nchoices + 2) + 1), sizeof(i64));
    P->pbuf = calloc((size_t)R->L.words + 2, sizeof(u64));
    P->pbase = calloc((size_t)R->L.words + 2, sizeof(u64));
    P->scratch = calloc((size_t)m->nslot_total + 1, sizeof(i64));
    P->best = calloc((size_t)m->nslot_total + 8, sizeof(i64));
    P->cand = calloc((size_t)m->nslot_total + 8, sizeof(i64));
    if (!P->best || !P->cand || perms_init(m, &P->perms))
        return -1;
    P->exhausted = calloc((size_t)m->npools + 1, 1);
    P->witnessed = calloc((size_t)m->ninv + 1, 1);
    P->mach.m = m;
    P->mach.exhausted = P->exhausted;
    P->mach.witnessed = P->witnessed;
    P->mach.regs = calloc((size_t)m->maxregs + 1, sizeof(i64));
    if (!P->mach.regs)
        return -1;
    if (!P->out || !P->ws || !P->wd || !P->labels || !P->pbuf || !P->pbase || !P->scratch || !P->exhausted ||
        !P->witnessed)
        return -1;
    return table_rebuild(R, P, 1024);
}

static void free_part(Run *R, Part *P)
{
    if (P->out)
        for (int q = 0; q < R->N; q++)
            free(P->out[q].w);
    free(P->out); free(P->ws); free(P->wd); free(P->labels); free(P->pbuf); free(P->pbase); free(P->scratch); free(P->exhausted);
    free(P->witnessed);
    free(P->best); free(P->cand); free(P->mach.regs);
    for (i64 k = 0; k < P->nblk; k++)
        free(P->blk[k]);
    free(P->blk); free(P->parent); free(P->lkey); free(P->lrank); free(P->hash); free(P->label); free(P->dead); free(P->tab); free(P->ftab);
    free(P->fnd); free(P->cov);
}

static PyObject *path_of(Run *R, i64 gid, i64 last)
{
    PyObject *l = PyList_New(0);
    if (!l)
        return NULL;
    if (last >= 0) {
        PyObject *v = PyLong_FromLongLong(last);
        if (!v || PyList_Append(l, v)) { Py_XDECREF(v); Py_DECREF(l); return NULL; }
        Py_DECREF(v);
    }
    i64 g = gid;
    for (;;) {
        Part *P = &R->parts[g % R->N];
        i64 li = g / R->N;
        u32 par = P->parent[li];
        if (par == ROOT_PARENT)
            break;
        PyObject *v = PyLong_FromLongLong(P->label[li]);
        if (!v || PyList_Append(l, v)) { Py_XDECREF(v); Py_DECREF(l); return NULL; }
        Py_DECREF(v);
        g = par;
    }
    if (PyList_Reverse(l)) { Py_DECREF(l); return NULL; }
    return l;
}

static int any_enabled(Run *R)
{
    for (int p = 0; p < R->nloc; p++) {
        Part *P = &R->parts[p];
        for (i64 li = P->lstart; li < P->lend; li++) {
            if ((P->dead[li >> 3] >> (li & 7)) & 1)
                continue;
            unpackb(&R->L, state_at(R, P, li), P->ws);
            P->mach.w = P->ws;
            if (enabled(&P->mach, P->ws, P->labels) > 0)
                return 1;
        }
    }
    return 0;
}

/* a private copy of the image Python passed, validated into m; NULL with an exception set */
static i64 *load_image(const Py_buffer *img, Model *m)
{
    if (img->len % 8) {
        PyErr_SetString(ExploreError, "the image is an array of int64");
        return NULL;
    }
    i64 *image = malloc((size_t)img->len + 8);
    if (!image) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(image, img->buf, (size_t)img->len);
    if (load_model(m, image, img->len / 8)) {
        free(image);
        return NULL;
    }
    return image;
}

/* The layout, the hash multipliers and the local partitions (ids first .. first + nloc - 1) of a run whose
 * model, N, nloc and options are set; -1 with an exception set. */
static int run_setup(Run *R, const Py_buffer *wid, const Py_buffer *los, int first)
{
    const Model *m = R->m;
    if (los->len % 8) {
        PyErr_SetString(ExploreError, "the biases are an array of int64");
        return -1;
    }
    if (m->nthreads * (m->nchoices + 2) > 65535) {
        PyErr_SetString(ExploreError, "too many entry choices for the label encoding");
        return -1;
    }
    if (wid->len != m->nslot_total || los->len / 8 != m->nslot_total) {
        PyErr_Format(ExploreError, "layout has %zd widths and %zd biases for %lld slots", wid->len, los->len / 8,
                     (long long)m->nslot_total);
        return -1;
    }
    R->L.n = m->nslot_total;
    R->L.width = malloc((size_t)m->nslot_total + 1);
    R->L.lo = malloc(sizeof(i64) * (size_t)m->nslot_total + 8);
    R->L.bitoff = malloc(sizeof(i64) * (size_t)m->nslot_total + 8);
    R->L.nz = malloc(sizeof(i64) * (size_t)m->nslot_total + 8);
    if (!R->L.width || !R->L.lo || !R->L.bitoff || !R->L.nz) { PyErr_NoMemory(); return -1; }
    memcpy(R->L.width, wid->buf, (size_t)m->nslot_total);
    memcpy(R->L.lo, los->buf, sizeof(i64) * (size_t)m->nslot_total);
    for (i64 s = 0; s < m->nslot_total; s++)
        if (R->L.width[s] > 64 || (R->L.width[s] < 64 && R->L.width[s] > 0 &&
                                   R->L.lo[s] < -((i64)1 << (R->L.width[s] - 1)))) {
            PyErr_Format(ExploreError, "slot %lld: width %d with bias %lld does not fit", (long long)s,
                         R->L.width[s], (long long)R->L.lo[s]);
            return -1;
        }
    layout_sizes(&R->L);
    R->hmul = malloc(sizeof(u64) * (size_t)m->nslot_total + 8);
    if (!R->hmul) { PyErr_NoMemory(); return -1; }
    for (i64 k = 0; k < m->nslot_total; k++)
        R->hmul[k] = mix64((u64)k * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL) | 1;
    R->parts = aligned_alloc(64, (size_t)R->nloc * sizeof(Part));
    if (!R->parts) { PyErr_NoMemory(); return -1; }
    memset(R->parts, 0, (size_t)R->nloc * sizeof(Part));
    for (int p = 0; p < R->nloc; p++)
        if (setup_part(R, &R->parts[p], first + p)) { PyErr_NoMemory(); return -1; }
    return 0;
}

/* the initial state, stored by the partition its hash names if that one is local; -1 out of memory */
static int run_seed(Run *R)
{
    const Model *m = R->m;
    Part *P0 = &R->parts[0];
    i64 *w0 = P0->wd;
    memset(w0, 0, sizeof(i64) * (size_t)m->nslot_total);
    memcpy(w0, m->init, sizeof(i64) * (size_t)m->ncells);
    i64 slot;
    while (pack(&R->L, w0, P0->pbuf, &slot)) {
        widen(&R->L, slot, w0[slot]);
        for (int p = 0; p < R->nloc; p++) {
            Part *P = &R->parts[p];
            free(P->pbuf);
            free(P->pbase);
            P->pbuf = calloc((size_t)R->L.words + 2, sizeof(u64));
            P->pbase = calloc((size_t)R->L.words + 2, sizeof(u64));
            if (!P->pbuf || !P->pbase)
                return -1;
        }
    }
    u64 ms, h = mix64(vec_hash(&R->L, m->ncells, w0, R->hmul, &ms));
    int p = owner(R, h, ms) - R->parts[0].id;
    if (p >= 0 && p < R->nloc) {
        Part *P = &R->parts[p];
        i64 dup = -1;
        i64 li = insert(R, P, (unsigned char *)P0->pbuf, h, &dup);
        if (li < 0)
            return -1;
        P->parent[li] = ROOT_PARENT;
        P->label[li] = 0;
        check_state(&P->mach, w0);
        if (P->mach.nviol) {
            P->dead[0] |= 1;
            for (int k = 0; k < P->mach.nviol; k++)
                record(P, &P->mach.viol[k], 0, gid_of(R, P->id, li), -1, 0);
        }
        if (!R->fp) { /* the initial state's rank */
            P->lrank = calloc(1, sizeof(u64));
            if (!P->lrank)
                return -1;
            P->lrcap = 1;
        }
    }
    for (int q = 0; q < R->nloc; q++) {
        R->parts[q].lstart = 0;
        R->parts[q].lend = R->parts[q].n;
    }
    return 0;
}

static void run_free(Run *R)
{
    if (R->parts)
        for (int p = 0; p < R->nloc; p++)
            free_part(R, &R->parts[p]);
    free(R->parts);
    free(R->L.width);
    free(R->L.lo);
    free(R->L.bitoff);
    free(R->L.nz);
    free(R->hmul);
    R->parts = NULL;
    R->L.width = NULL;
    R->L.lo = R->L.bitoff = R->L.nz = NULL;
    R->hmul = NULL;
}

static const char *kwlist[] = {"image", "widths", "los", "jobs", "max_states", "max_depth", "max_memory",
                               "fingerprint", "progress", "chunk", "symmetry", "stop", NULL};

static PyObject *py_explore(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    Py_buffer img = {0}, wid = {0}, los = {0};
    int jobs = 1, fp = 0, symmetry = 0;
    long long max_states = 0, max_depth = 0, max_memory = 0, chunk = 4096;
    PyObject *progress = Py_None, *stop = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "y*y*y*|iLLLpOLpO", (char **)kwlist, &img, &wid, &los, &jobs,
                                     &max_states, &max_depth, &max_memory, &fp, &progress, &chunk,
                                     &symmetry, &stop))
        return NULL;
    PyObject *result = NULL;
    Model m;
    Run R;
    memset(&R, 0, sizeof R);
    memset(&m, 0, sizeof m);
    int threads_started = 0;
    pthread_t *tids = NULL;
    i64 *image = NULL;
    if (jobs < 1 || jobs > 256 || max_states < 0 || max_depth < 0 || max_memory < 0 || chunk < 1 ||
        (progress != Py_None && !PyCallable_Check(progress)) || (stop != Py_None && !PyCallable_Check(stop))) {
        PyErr_SetString(ExploreError, "invalid bounds: jobs 1..256, non-negative limits, callable progress "
                        "and stop");
        goto done;
    }
    if (!(image = load_image(&img, &m)))
        goto done;
    R.m = &m;
    R.N = R.nloc = jobs;
    R.fp = fp;
    R.symmetry = symmetry;
    R.max_states = max_states;
    R.max_depth = max_depth;
    R.max_memory = max_memory;
    R.chunk = chunk;
    if (run_setup(&R, &wid, &los, 0))
        goto done;
    if (run_seed(&R)) { PyErr_NoMemory(); goto done; }
    if (R.max_states == 1)
        R.stop = 1;

    if (R.N > 1) {
        tids = calloc((size_t)R.N, sizeof(pthread_t));
        if (!tids) { PyErr_NoMemory(); goto done; }
        bar_init(&R.b1, R.N);
        bar_init(&R.b2, R.N);
        for (int p = 1; p < R.N; p++) {
            if (pthread_create(&tids[p], NULL, worker, &R.parts[p])) {
                PyErr_Format(ExploreError, "cannot start thread %d of %d", p + 1, R.N);
                bar_resize(&R.b1, p); /* the threads started so far and this one: they stop below */
                bar_resize(&R.b2, p);
                goto done;
            }
            threads_started = p;
        }
    }

    int err = 0, oom = 0;
    double t0 = now_s(), last_check = t0, last_progress = t0;
    PyThreadState *ts = PyEval_SaveThread();
    while (!R.stop && !err && !oom) {
        i64 live = 0;
        for (int p = 0; p < R.N; p++) {
            Part *P = &R.parts[p];
            for (i64 li = P->lstart; li < P->lend; li++)
                if (!((P->dead[li >> 3] >> (li & 7)) & 1)) live++;
            P->cursor = P->lstart;
        }
        if (!live)
            break;
        if (R.max_depth && R.layer >= R.max_depth) {
            if (any_enabled(&R))
                R.stop = 5;
            break;
        }
        for (;;) {
            int more = 0;
            for (int p = 0; p < R.N; p++) {
                Part *P = &R.parts[p];
                P->chunk_end = P->cursor + R.chunk < P->lend ? P->cursor + R.chunk : P->lend;
                if (P->cursor < P->lend) more = 1;
            }
            if (!more)
                break;
            run_phase(&R, 0);
            int ovf = 0;
            for (int p = 0; p < R.N; p++) {
                ovf |= R.parts[p].ovf;
                if (R.parts[p].err) err = R.parts[p].err;
                oom |= R.parts[p].oom;
            }
            if (err || oom)
                break;
            if (ovf) {
                R.relayouts++;
                if (relayout(&R, NULL, 0)) { oom = 1; break; }
                continue; /* redo the chunk with the wider layout */
            }
            run_phase(&R, 1);
            for (int p = 0; p < R.N; p++) {
                R.parts[p].cursor = R.parts[p].chunk_end;
                oom |= R.parts[p].oom;
            }
            if (R.mem > R.peak)
                R.peak = R.mem;
            if (R.max_memory && R.mem > R.max_memory && !R.stop)
                R.stop = 3;
            double t = now_s();
            if (t - last_check > 0.05) {
                last_check = t;
                PyEval_RestoreThread(ts);
                if (PyErr_CheckSignals()) {
                    PyErr_Clear();
                    if (!R.stop) R.stop = 4;
                }
                if (stop != Py_None && !R.stop) { /* mkverify/limits.py: a deadline or a signal */
                    PyObject *why = PyObject_CallNoArgs(stop);
                    if (!why || PyObject_IsTrue(why) != 0) R.stop = 4;
                    PyErr_Clear();
                    Py_XDECREF(why);
                }
                if (progress != Py_None && t - last_progress > 0.5) {
                    last_progress = t;
                    i64 tr = 0;
                    for (int p = 0; p < R.N; p++) tr += R.parts[p].transitions;
                    PyObject *r = PyObject_CallFunction(progress, "LLLdL", (long long)R.total, (long long)tr,
                                                        (long long)R.layer, t - t0, (long long)R.mem);
                    if (!r) { PyErr_Clear(); if (!R.stop) R.stop = 4; }
                    Py_XDECREF(r);
                }
                ts = PyEval_SaveThread();
            }
            if (R.stop || oom)
                break;
        }
        if (err || oom)
            break;
        i64 newlive = 0;
        for (int p = 0; p < R.N; p++) {
            Part *P = &R.parts[p];
            for (i64 li = P->lend; li < P->n; li++)
                if (!((P->dead[li >> 3] >> (li & 7)) & 1)) newlive++;
        }
        if (newlive)
            R.layer++;
        if (!R.fp && !R.stop && rank_layer(&R)) { oom = 1; break; } /* a stopped run needs no ranks */
        for (int p = 0; p < R.N; p++) {
            Part *P = &R.parts[p];
            P->lstart = P->lend;
            P->lend = P->n;
            /* fingerprint mode keeps only the frontier: the fingerprints remember the rest */
            for (; R.fp && P->freed < (P->lstart >> BLK_BITS); P->freed++) {
                free(P->blk[P->freed]);
                P->blk[P->freed] = NULL;
                R.mem -= (i64)blk_bytes(&R);
            }
        }
    }
    double seconds = now_s() - t0;
    if (R.N > 1) {
        run_phase(&R, 2);
        for (int p = 1; p <= threads_started; p++)
            pthread_join(tids[p], NULL);
        threads_started = 0;
    }
    PyEval_RestoreThread(ts);
    if (R.mem > R.peak)
        R.peak = R.mem;
    if (oom) {
        PyErr_SetString(PyExc_MemoryError, "the enumerator ran out of memory");
        goto done;
    }

    /* the result */
    {
        i64 tr = 0;
        for (int p = 0; p < R.N; p++)
            tr += R.parts[p].transitions;
        PyObject *fl = PyList_New(0), *cov = PyList_New(0), *ex = PyList_New(0), *wl = PyList_New(0);
        PyObject *wit = PyList_New(0);
        result = PyDict_New();
        if (!fl || !cov || !ex || !wl || !wit || !result)
            goto fail;
        /* findings: per key the shortest, then lowest (state, label), over all partitions */
        for (int p = 0; p < R.N; p++)
            for (int q = 0; q < R.parts[p].nfnd; q++)
                if (p) record(&R.parts[0], &R.parts[p].fnd[q].key, R.parts[p].fnd[q].len, R.parts[p].fnd[q].gid,
                              R.parts[p].fnd[q].label, R.parts[p].fnd[q].ord);
        Part *P0 = &R.parts[0];
        for (int q = 0; q < P0->nfnd; q++) {
            Finding *f = &P0->fnd[q];
            PyObject *key = PyTuple_New(KEYLEN);
            if (!key) goto fail;
            for (int k = 0; k < KEYLEN; k++)
                PyTuple_SET_ITEM(key, k, PyLong_FromLongLong(f->key.k[k]));
            PyObject *path = path_of(&R, f->gid, f->label);
            PyObject *item = path ? Py_BuildValue("(NLN)", key, (long long)f->len, path) : NULL;
            if (!path) Py_DECREF(key);
            if (!item || PyList_Append(fl, item)) { Py_XDECREF(item); goto fail; }
            Py_DECREF(item);
        }
        for (int p = 0; p < R.N; p++)
            for (int q = 0; q < R.parts[p].ncov; q++) {
                PyObject *c = Py_BuildValue("(LLLL)", (long long)R.parts[p].cov[q][0], (long long)R.parts[p].cov[q][1],
                                            (long long)R.parts[p].cov[q][2], (long long)R.parts[p].cov[q][3]);
                if (!c || PyList_Append(cov, c)) { Py_XDECREF(c); goto fail; }
                Py_DECREF(c);
            }
        for (i64 v = 0; v < m.ninv; v++) {
            int any = 0;
            for (int p = 0; p < R.N; p++) any |= R.parts[p].witnessed[v];
            if (any) {
                PyObject *c = PyLong_FromLongLong(v);
                if (!c || PyList_Append(wit, c)) { Py_XDECREF(c); goto fail; }
                Py_DECREF(c);
            }
        }
        for (i64 k = 0; k < m.npools; k++) {
            int any = 0;
            for (int p = 0; p < R.N; p++) any |= R.parts[p].exhausted[k];
            if (any) {
                PyObject *c = PyLong_FromLongLong(k);
                if (!c || PyList_Append(ex, c)) { Py_XDECREF(c); goto fail; }
                Py_DECREF(c);
            }
        }
        for (i64 s = 0; s < m.nslot_total; s++) {
            PyObject *c = PyLong_FromLong(R.L.width[s]);
            if (!c || PyList_Append(wl, c)) { Py_XDECREF(c); goto fail; }
            Py_DECREF(c);
        }
        static const char *stops[] = {"", "states", "bound", "memory", "interrupted", "depth"};
        PyObject *err_o = Py_None;
        Py_INCREF(Py_None);
        if (err) {
            Py_DECREF(err_o);
            i64 eloc = 0, eaux = 0;
            for (int p = 0; p < R.N; p++)
                if (R.parts[p].err) { eloc = R.parts[p].mach.err_loc; eaux = R.parts[p].mach.err_aux; break; }
            static const char *errs[] = {"", "budget", "u64", "internal", "kind"};
            err_o = Py_BuildValue("(sLL)", errs[err], (long long)eloc, (long long)eaux);
            if (!err_o) goto fail;
        }
        if (PyDict_SetItemString(result, "error", err_o)) { Py_DECREF(err_o); goto fail; }
        Py_DECREF(err_o);
#define SET(k, v) do { PyObject *_o = (v); if (!_o || PyDict_SetItemString(result, k, _o)) { Py_XDECREF(_o); goto fail; } Py_DECREF(_o); } while (0)
        SET("states", PyLong_FromLongLong(R.total));
        SET("transitions", PyLong_FromLongLong(tr));
        SET("depth", PyLong_FromLongLong(R.layer));
        SET("seconds", PyFloat_FromDouble(seconds));
        SET("stop", PyUnicode_FromString(stops[R.stop]));
        SET("stop_loc", PyLong_FromLongLong(R.stop_loc));
        SET("memory", PyLong_FromLongLong(R.peak));
        SET("state_bytes", PyLong_FromLongLong(R.L.sbytes));
        SET("jobs", PyLong_FromLong(R.N));
        SET("relayouts", PyLong_FromLongLong(R.relayouts));
        PyDict_SetItemString(result, "findings", fl);
        PyDict_SetItemString(result, "coverage", cov);
        PyDict_SetItemString(result, "exhausted", ex);
        PyDict_SetItemString(result, "witnessed", wit);
        PyDict_SetItemString(result, "widths", wl);
        Py_DECREF(fl); Py_DECREF(cov); Py_DECREF(ex); Py_DECREF(wl); Py_DECREF(wit);
        fl = cov = ex = wl = wit = NULL;
#undef SET
        goto done;
    fail:
        Py_XDECREF(fl); Py_XDECREF(cov); Py_XDECREF(ex); Py_XDECREF(wl); Py_XDECREF(wit);
        Py_CLEAR(result);
    }
done:
    if (threads_started) {
        run_phase(&R, 2);
        for (int p = 1; p <= threads_started; p++)
            pthread_join(tids[p], NULL);
    }
    if (R.N > 1 && tids) {
        bar_destroy(&R.b1);
        bar_destroy(&R.b2);
    }
    free(tids);
    run_free(&R);
    free_model(&m);
    free(image);
    PyBuffer_Release(&img);
    PyBuffer_Release(&wid);
    PyBuffer_Release(&los);
    return result;
}

static PyObject *py_canonical(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer img = {0};
    PyObject *vec;
    Model m;
    memset(&m, 0, sizeof m);
    if (!PyArg_ParseTuple(args, "y*O", &img, &vec))
        return NULL;
    PyObject *out = NULL;
    i64 *image = NULL, *w = NULL, *best = NULL, *cand = NULL, *scratch = NULL;
    Perms P;
    memset(&P, 0, sizeof P);
    PyObject *seq = PySequence_Fast(vec, "a vector is a sequence of ints");
    if (!seq)
        goto done;
    if (!(image = load_image(&img, &m)))
        goto done;
    if (PySequence_Fast_GET_SIZE(seq) != m.nslot_total) {
        PyErr_Format(ExploreError, "a vector of %zd slots for a model of %lld", PySequence_Fast_GET_SIZE(seq),
                     (long long)m.nslot_total);
        goto done;
    }
    size_t bytes = sizeof(i64) * (size_t)(m.nslot_total + 8);
    w = calloc(1, bytes); best = calloc(1, bytes); cand = calloc(1, bytes); scratch = calloc(1, bytes);
    if (!w || !best || !cand || !scratch || perms_init(&m, &P)) { PyErr_NoMemory(); goto done; }
    for (i64 k = 0; k < m.nslot_total; k++) {
        w[k] = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(seq, k));
        if (w[k] == -1 && PyErr_Occurred())
            goto done;
    }
    /* a vector from outside: its frames must name functions and stay inside their levels */
    for (int t = 0; t < m.nthreads; t++) {
        i64 depth = w[TB(&m, t)];
        if (depth < 0 || depth > m.maxdepth) { PyErr_SetString(ExploreError, "stack depth"); goto done; }
        for (i64 l = 0; l < depth; l++) {
            i64 fi = FRAME(&m, w, t, l)[0];
            if (fi < 0 || fi >= m.nfuncs || m.funcs[fi].nlocals > m.nloc[l]) {
                PyErr_SetString(ExploreError, "frame");
                goto done;
            }
        }
    }
    canonical(&m, &P, w, m.symthreads, best, cand, scratch);
    out = PyTuple_New(m.nslot_total);
    if (!out)
        goto done;
    for (i64 k = 0; k < m.nslot_total; k++)
        PyTuple_SET_ITEM(out, k, PyLong_FromLongLong(w[k]));
done:
    Py_XDECREF(seq);
    free(w); free(best); free(cand); free(scratch);
    free_model(&m);
    free(image);
    PyBuffer_Release(&img);
    return out;
}

/* ------------------------------------------------------------------ one partition of a distributed run */

/*
 * A Partition is one of the N partitions of a run whose others live in other processes: the Ray engine
 * (mkverify/engines/distributed.py) holds one per actor and drives py_explore's layer loop call by call.
 * expand() is phase A on the next chunk of the layer; absorb() is phase B on the streams addressed here,
 * in partition order; end_layer() hands over the parents' keys, from which the driver ranks the next layer
 * (rank_layer's order, over all partitions), and next_layer() takes the ranks back; parents() is one step
 * of path_of. Threads and Partitions run the same phase_a, absorb, insert and relayout.
 *
 * A stream to another partition travels in a wire format: per item, varints for the type and violation
 * counts, the source state's gid and the step's rank as differences from the item before, and the label;
 * then the violation keys; then the successor as the bytes that differ from the successor before (a bit
 * per group of eight bytes, a mask byte per group that differs, then its bytes that differ). On v2 with
 * no reduction an item takes about 35 bytes (4.5 of varints, 10 of masks, 18 changed) where phase A's
 * takes 32 plus the state. The hash is not sent: the receiver recomputes it from the state. A stream
 * starts with the layout's generation and state size and ends with a checksum, and every read is
 * bounds-checked: a stream that does not parse is an ExploreError, never a crash.
 */

typedef struct {
    PyObject_HEAD
    Model m;
    i64 *image;
    Run R;
    Buf in;         /* a decoded stream */
    i64 sent, received; /* wire bytes */
    int ready;
} PartitionObject;

static inline u64 zz(i64 v) { return ((u64)v << 1) ^ (u64)(v >> 63); }
static inline i64 unzz(u64 v) { return (i64)(v >> 1) ^ -(i64)(v & 1); }

static inline unsigned char *put_var(unsigned char *o, u64 v)
{
    while (v >= 0x80) {
        *o++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *o++ = (unsigned char)v;
    return o;
}

/* a varint at *p (not past end); -1 when the stream ends inside it or it is longer than 64 bits */
static inline int get_var(const unsigned char **p, const unsigned char *end, u64 *v)
{
    u64 r = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        if (*p >= end)
            return -1;
        unsigned char c = *(*p)++;
        r |= (u64)(c & 0x7f) << sh;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* A stream ends with this checksum of the bytes before it (tests/test_distributed.py computes it too): a
 * stream damaged on its way is refused before it is parsed. Every read of the parser is bounds-checked
 * besides, but a stream with a valid checksum is trusted to hold states its sender's layout packed. */
static u64 wire_sum(const unsigned char *p, i64 n)
{
    u64 h = 0x9e3779b97f4a7c15ULL ^ (u64)n;
    i64 k = 0;
    for (; k + 8 <= n; k += 8) {
        u64 w;
        memcpy(&w, p + k, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    u64 w = 0;
    memcpy(&w, p + k, (size_t)(n - k));
    h = (h ^ w) * 0xff51afd7ed558ccdULL;
    return mix64(h);
}

/* phase A's stream b in the wire format; NULL with an exception set */
static PyObject *wire_encode(const Run *R, const Buf *b)
{
    i64 sb = R->L.sbytes;
    /* an item takes at most its raw size plus a mask byte per 8 bytes of state, a bit per 64, and 40 more
       (its varints against the raw header's 32); there are at most b->n / ITEM_HDR items; + the stream's
       varints and checksum */
    Py_ssize_t cap = (Py_ssize_t)b->n * 8 + (Py_ssize_t)(b->n / ITEM_HDR + 1) * (sb / 8 + sb / 64 + 41) + 64;
    PyObject *out = PyBytes_FromStringAndSize(NULL, cap);
    if (!out)
        return NULL;
    unsigned char *o = (unsigned char *)PyBytes_AS_STRING(out);
    unsigned char *prev = calloc((size_t)sb + 8, 1);
    if (!prev) {
        Py_DECREF(out);
        return PyErr_NoMemory();
    }
    o = put_var(o, (u64)R->relayouts);
    o = put_var(o, (u64)sb);
    i64 pos = 0, ppg = 0, prank = 0;
    while (pos < b->n) {
        const u64 *it = b->w + pos;
        int type = (int)(it[0] & 0xff);
        int nv = (int)((it[0] >> 8) & 0xff), nsv = (int)((it[0] >> 16) & 0xff);
        i64 pg = (i64)it[1], rank = (i64)(it[2] >> 16);
        o = put_var(o, (u64)type | ((u64)nv << 2) | ((u64)nsv << 9));
        o = put_var(o, zz(pg - ppg));
        o = put_var(o, zz(rank - prank));
        o = put_var(o, it[2] & 0xffff);
        ppg = pg;
        prank = rank;
        if (type == IT_BOUND)
            o = put_var(o, zz((i64)it[3]));
        size_t kb = sizeof(Key) * (size_t)(nv + nsv);
        memcpy(o, it + ITEM_HDR, kb);
        o += kb;
        if (type == IT_SUCC) {
            /* the groups of 8 bytes that differ (a bit each), then per such group its bytes that differ
               (a bit each) and those bytes */
            const unsigned char *s = (const unsigned char *)(it + ITEM_HDR + (i64)(nv + nsv) * KEYLEN);
            i64 groups = (sb + 7) / 8;
            unsigned char *top = o;
            memset(top, 0, (size_t)((groups + 7) / 8));
            o += (groups + 7) / 8;
            for (i64 g = 0; g < groups; g++) {
                u64 a, c; /* s and prev are readable 8 bytes past sb, and zero there */
                memcpy(&a, s + 8 * g, 8);
                memcpy(&c, prev + 8 * g, 8);
                if (a == c)
                    continue;
                unsigned char mk = 0, *mask = o;
                for (int q = 0; q < 8 && 8 * g + q < sb; q++)
                    if (s[8 * g + q] != prev[8 * g + q])
                        mk |= (unsigned char)(1 << q);
                if (!mk)
                    continue;
                top[g >> 3] |= (unsigned char)(1 << (g & 7));
                *mask = mk;
                o++;
                for (int q = 0; q < 8; q++)
                    if ((mk >> q) & 1)
                        *o++ = (unsigned char)(s[8 * g + q] ^ prev[8 * g + q]);
            }
            memcpy(prev, s, (size_t)sb);
        }
        pos += ITEM_HDR + (i64)(nv + nsv) * KEYLEN + (type == IT_SUCC ? R->L.words : 0);
    }
    free(prev);
    u64 sum = wire_sum((const unsigned char *)PyBytes_AS_STRING(out), o - (unsigned char *)PyBytes_AS_STRING(out));
    memcpy(o, &sum, 8);
    o += 8;
    if (_PyBytes_Resize(&out, (Py_ssize_t)(o - (unsigned char *)PyBytes_AS_STRING(out))))
        return NULL;
    return out;
}

enum { WIRE_OK, WIRE_BAD, WIRE_NOMEM, WIRE_LAYOUT, WIRE_SUM };

/* a wire stream back into phase A's format in self->in (the hash recomputed): WIRE_*. Runs without the GIL */
static int wire_decode(PartitionObject *self, Part *P, const unsigned char *p, Py_ssize_t len)
{
    Run *R = &self->R;
    if (len < 8)
        return WIRE_BAD;
    u64 sum;
    memcpy(&sum, p + len - 8, 8);
    if (sum != wire_sum(p, len - 8))
        return WIRE_SUM;
    const unsigned char *end = p + len - 8;
    Buf *b = &self->in;
    b->n = 0;
    u64 gen, sb;
    if (get_var(&p, end, &gen) || get_var(&p, end, &sb))
        goto bad;
    if ((i64)gen != R->relayouts || (i64)sb != R->L.sbytes)
        return WIRE_LAYOUT;
    unsigned char *cur = (unsigned char *)P->pbuf; /* the successor before, then this one */
    memset(cur, 0, (size_t)(R->L.words + 2) * sizeof(u64));
    i64 pg = 0, rank = 0;
    while (p < end) {
        u64 hdr, dpg, drank, lab, loc = 0;
        if (get_var(&p, end, &hdr) || get_var(&p, end, &dpg) || get_var(&p, end, &drank) || get_var(&p, end, &lab))
            goto bad;
        int type = (int)(hdr & 3), nv = (int)((hdr >> 2) & 0x7f), nsv = (int)((hdr >> 9) & 0x7f);
        if (type < IT_SUCC || type > IT_BOUND || (hdr >> 16) || nv > MAXVIOL || nsv > MAXVIOL || lab > 0xffff)
            goto bad;
        pg += unzz(dpg);
        rank += unzz(drank);
        if (pg < 0 || pg >= (i64)ROOT_PARENT || rank < 0 || rank >= ((i64)1 << 47))
            goto bad;
        if (type == IT_BOUND && get_var(&p, end, &loc))
            goto bad;
        size_t kb = sizeof(Key) * (size_t)(nv + nsv);
        if ((size_t)(end - p) < kb)
            goto bad;
        i64 need = ITEM_HDR + (i64)(nv + nsv) * KEYLEN + (type == IT_SUCC ? R->L.words : 0);
        if (buf_need(b, need, &R->mem))
            return WIRE_NOMEM;
        u64 *it = b->w + b->n;
        it[0] = (u64)type | ((u64)nv << 8) | ((u64)nsv << 16);
        it[1] = (u64)pg;
        it[2] = ORD_STEP(rank, lab);
        it[3] = type == IT_BOUND ? (u64)unzz(loc) : 0;
        memcpy(it + ITEM_HDR, p, kb);
        p += kb;
        if (type == IT_SUCC) {
            i64 groups = (R->L.sbytes + 7) / 8;
            const unsigned char *top = p;
            if (end - p < (groups + 7) / 8)
                goto bad;
            p += (groups + 7) / 8;
            for (i64 g = 0; g < groups; g++) {
                if (!((top[g >> 3] >> (g & 7)) & 1))
                    continue;
                if (p >= end)
                    goto bad;
                unsigned char mk = *p++;
                for (int q = 0; q < 8; q++) {
                    if (!((mk >> q) & 1))
                        continue;
                    if (8 * g + q >= R->L.sbytes || p >= end)
                        goto bad;
                    cur[8 * g + q] ^= *p++;
                }
            }
            if (groups % 8 && (top[(groups - 1) >> 3] >> (groups % 8)))
                goto bad;
            /* the padding bits past the state's last slot are zero in every state this layout packs */
            if (R->L.bits % 8 && (cur[R->L.sbytes - 1] >> (R->L.bits % 8)))
                goto bad;
            memcpy(it + ITEM_HDR + (i64)(nv + nsv) * KEYLEN, cur, (size_t)R->L.words * sizeof(u64));
            it[3] = mix64(packed_hash(&R->L, cur, R->hmul));
        }
        b->n += need;
    }
    return WIRE_OK;
bad:
    return WIRE_BAD;
}

static int Partition_init(PartitionObject *self, PyObject *args, PyObject *kw)
{
    static const char *kws[] = {"image", "widths", "los", "parts", "index", "fingerprint", "symmetry",
                                "max_memory", "by_memory", NULL};
    Py_buffer img = {0}, wid = {0}, los = {0};
    int parts = 1, index = 0, fp = 0, symmetry = 0, by_memory = 1;
    long long max_memory = 0;
    if (self->ready) {
        PyErr_SetString(ExploreError, "a Partition is initialised once");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kw, "y*y*y*ii|ppLp", (char **)kws, &img, &wid, &los, &parts, &index,
                                     &fp, &symmetry, &max_memory, &by_memory))
        return -1;
    int rc = -1;
    if (parts < 1 || parts > 4096 || index < 0 || index >= parts || max_memory < 0) {
        PyErr_SetString(ExploreError, "invalid partition: parts 1..4096, index 0..parts-1, max_memory >= 0");
        goto out;
    }
    if (!(self->image = load_image(&img, &self->m)))
        goto out;
    Run *R = &self->R;
    R->m = &self->m;
    R->N = parts;
    R->nloc = 1;
    R->dist = 1;
    R->fp = fp;
    R->symmetry = symmetry;
    R->max_memory = max_memory;
    R->max_states = -1;
    R->by_memory = by_memory;
    if (run_setup(R, &wid, &los, index))
        goto out;
    if (run_seed(R)) {
        PyErr_NoMemory();
        goto out;
    }
    R->peak = R->mem;
    self->ready = 1;
    rc = 0;
out:
    PyBuffer_Release(&img);
    PyBuffer_Release(&wid);
    PyBuffer_Release(&los);
    return rc;
}

static void Partition_dealloc(PartitionObject *self)
{
    run_free(&self->R);
    free(self->in.w);
    free_model(&self->m);
    free(self->image);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

#define READY(self) do { if (!(self)->ready) { PyErr_SetString(ExploreError, "the Partition is not initialised"); \
                                               return NULL; } } while (0)

static i64 live_states(Part *P, i64 from, i64 to)
{
    i64 live = 0;
    for (i64 li = from; li < to; li++)
        if (!((P->dead[li >> 3] >> (li & 7)) & 1))
            live++;
    return live;
}

static PyObject *Partition_live(PartitionObject *self, PyObject *noargs)
{
    (void)noargs;
    READY(self);
    Part *P = &self->R.parts[0];
    P->cursor = P->lstart;
    return PyLong_FromLongLong(live_states(P, P->lstart, P->lend));
}

/* expand(chunk) -> (status, streams): phase A on the next `chunk` states of the layer. streams[q] is the
 * wire stream to partition q, None for this one (absorb reads it here) */
static PyObject *Partition_expand(PartitionObject *self, PyObject *args)
{
    long long chunk;
    if (!PyArg_ParseTuple(args, "L", &chunk))
        return NULL;
    READY(self);
    if (chunk < 1) {
        PyErr_SetString(ExploreError, "chunk >= 1");
        return NULL;
    }
    Run *R = &self->R;
    Part *P = &R->parts[0];
    P->chunk_end = P->cursor + chunk < P->lend ? P->cursor + chunk : P->lend;
    P->err = P->oom = P->ovf = 0;
    Py_BEGIN_ALLOW_THREADS
    phase_a(R, P);
    Py_END_ALLOW_THREADS
    if (R->mem > R->peak)
        R->peak = R->mem;
    PyObject *streams = PyList_New(R->N);
    if (!streams)
        return NULL;
    i64 sent = 0, nonempty = 0;
    for (int q = 0; q < R->N; q++) {
        PyObject *s;
        if (q == P->id || P->ovf || P->err || P->oom) {
            s = Py_None;
            Py_INCREF(s);
        } else if (!(s = wire_encode(R, &P->out[q]))) {
            Py_DECREF(streams);
            return NULL;
        } else {
            sent += PyBytes_GET_SIZE(s);
            nonempty += P->out[q].n > 0;
        }
        PyList_SET_ITEM(streams, q, s);
    }
    self->sent += sent;
    static const char *errs[] = {"", "budget", "u64", "internal", "kind"};
    PyObject *err = P->err ? Py_BuildValue("(sLL)", errs[P->err], (long long)P->mach.err_loc,
                                           (long long)P->mach.err_aux) : (Py_INCREF(Py_None), Py_None);
    PyObject *ovf = P->ovf ? Py_BuildValue("(LL)", (long long)P->ovf_slot, (long long)P->ovf_val)
                           : (Py_INCREF(Py_None), Py_None);
    PyObject *status = (err && ovf) ? Py_BuildValue("{sLsNsNsisLsLsL}", "rest", (long long)(P->lend - P->chunk_end),
                                                    "error", err, "overflow", ovf, "oom", P->oom,
                                                    "sent", (long long)sent, "streams", (long long)nonempty,
                                                    "memory", (long long)R->mem)
                                    : NULL;
    if (!status) {
        Py_XDECREF(err);
        Py_XDECREF(ovf);
        Py_DECREF(streams);
        return NULL;
    }
    return Py_BuildValue("(NN)", status, streams);
}

/* widen(pairs): widen the layout by the (slot, value) overflows of every partition, in partition order,
 * and repack; every partition gets the same pairs, so all keep the same layout */
static PyObject *Partition_widen(PartitionObject *self, PyObject *args)
{
    PyObject *seq;
    if (!PyArg_ParseTuple(args, "O", &seq))
        return NULL;
    READY(self);
    Run *R = &self->R;
    PyObject *fast = PySequence_Fast(seq, "widen takes a sequence of (slot, value) pairs");
    if (!fast)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    i64 *pairs = malloc(sizeof(i64) * (size_t)(2 * n + 1));
    if (!pairs) {
        Py_DECREF(fast);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        long long slot, val;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(fast, k), "LL", &slot, &val) || slot < 0 || slot >= R->L.n) {
            if (!PyErr_Occurred())
                PyErr_SetString(ExploreError, "widen: a slot out of range");
            free(pairs);
            Py_DECREF(fast);
            return NULL;
        }
        pairs[2 * k] = slot;
        pairs[2 * k + 1] = val;
    }
    Py_DECREF(fast);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = relayout(R, pairs, n);
    Py_END_ALLOW_THREADS
    free(pairs);
    if (rc)
        return PyErr_NoMemory();
    R->relayouts++;
    Py_RETURN_NONE;
}

/* absorb(budget, streams): phase B on the streams to this partition, in partition order (None: this
 * partition's own, from its last expand). budget: the states this partition may hold (-1: no bound) */
static PyObject *Partition_absorb(PartitionObject *self, PyObject *args)
{
    long long budget;
    PyObject *seq;
    if (!PyArg_ParseTuple(args, "LO", &budget, &seq))
        return NULL;
    READY(self);
    Run *R = &self->R;
    Part *P = &R->parts[0];
    PyObject *fast = PySequence_Fast(seq, "absorb takes a sequence of streams");
    if (!fast)
        return NULL;
    if (PySequence_Fast_GET_SIZE(fast) != R->N || budget < -1) {
        PyErr_Format(ExploreError, "absorb takes a stream from each of the %d partitions and a budget >= -1", R->N);
        Py_DECREF(fast);
        return NULL;
    }
    R->max_states = budget;
    for (int src = 0; src < R->N && !R->stop && !P->oom; src++) {
        PyObject *s = PySequence_Fast_GET_ITEM(fast, src);
        if (src == P->id) {
            if (s != Py_None) {
                PyErr_SetString(ExploreError, "a partition's own stream stays in it: pass None");
                Py_DECREF(fast);
                return NULL;
            }
            Py_BEGIN_ALLOW_THREADS
            absorb(R, P, P->out[src].w, P->out[src].n);
            Py_END_ALLOW_THREADS
            continue;
        }
        Py_buffer b;
        if (PyObject_GetBuffer(s, &b, PyBUF_SIMPLE)) {
            Py_DECREF(fast);
            return NULL;
        }
        self->received += b.len;
        int rc;
        Py_BEGIN_ALLOW_THREADS
        rc = wire_decode(self, P, b.buf, b.len);
        if (rc == WIRE_OK)
            absorb(R, P, self->in.w, self->in.n);
        Py_END_ALLOW_THREADS
        PyBuffer_Release(&b);
        if (rc == WIRE_NOMEM) {
            P->oom = 1;
        } else if (rc != WIRE_OK) {
            if (rc == WIRE_LAYOUT)
                PyErr_Format(ExploreError, "partition %d: the stream from partition %d has another layout", P->id, src);
            else if (rc == WIRE_SUM)
                PyErr_Format(ExploreError, "partition %d: the stream from partition %d fails its checksum", P->id,
                             src);
            else
                PyErr_Format(ExploreError, "partition %d: the stream from partition %d is malformed", P->id, src);
            Py_DECREF(fast);
            return NULL;
        }
    }
    Py_DECREF(fast);
    P->cursor = P->chunk_end;
    if (R->mem > R->peak)
        R->peak = R->mem;
    if (R->max_memory && R->mem > R->max_memory && !R->stop)
        R->stop = 3;
    static const char *stops[] = {"", "states", "bound", "memory", "interrupted", "depth"};
    return Py_BuildValue("{sLsLsssLsisL}", "states", (long long)P->n, "transitions", (long long)P->transitions,
                         "stop", stops[R->stop], "stop_loc", (long long)R->stop_loc, "oom", P->oom,
                         "memory", (long long)R->mem);
}

/* end_layer() -> (live states of the next layer, their parents' keys as uint64 bytes; None in fingerprint
 * mode): the driver ranks the next layer over all partitions by these keys (rank_layer's order) */
static PyObject *Partition_end_layer(PartitionObject *self, PyObject *noargs)
{
    (void)noargs;
    READY(self);
    Run *R = &self->R;
    Part *P = &R->parts[0];
    i64 n = P->n - P->lend;
    PyObject *keys;
    if (R->fp) {
        keys = Py_None;
        Py_INCREF(keys);
    } else if (!(keys = PyBytes_FromStringAndSize((const char *)P->lkey, (Py_ssize_t)(n * (i64)sizeof(u64))))) {
        return NULL;
    }
    return Py_BuildValue("(LN)", (long long)live_states(P, P->lend, P->n), keys);
}

/* next_layer(layer, ranks) -> live states of the new layer: ranks (uint64 bytes, one per state the layer
 * found, None in fingerprint mode or when the run is stopping) are its states' places in breadth-first order */
static PyObject *Partition_next_layer(PartitionObject *self, PyObject *args)
{
    long long layer;
    PyObject *ranks;
    if (!PyArg_ParseTuple(args, "LO", &layer, &ranks))
        return NULL;
    READY(self);
    Run *R = &self->R;
    Part *P = &R->parts[0];
    i64 n = P->n - P->lend;
    if (layer < R->layer || layer > R->layer + 1) {
        PyErr_SetString(ExploreError, "next_layer: the layer goes up by at most one");
        return NULL;
    }
    if (ranks != Py_None) {
        Py_buffer b;
        if (PyObject_GetBuffer(ranks, &b, PyBUF_SIMPLE))
            return NULL;
        int ok = !R->fp && b.len == (Py_ssize_t)(n * (i64)sizeof(u64));
        if (ok && n > P->lrcap) {
            u64 *nr = realloc(P->lrank, (size_t)n * sizeof(u64));
            if (!nr) {
                PyBuffer_Release(&b);
                return PyErr_NoMemory();
            }
            R->mem += (n - P->lrcap) * (i64)sizeof(u64);
            P->lrank = nr;
            P->lrcap = n;
        }
        if (ok && n)
            memcpy(P->lrank, b.buf, (size_t)b.len);
        PyBuffer_Release(&b);
        if (!ok) {
            PyErr_Format(ExploreError, "next_layer: %lld ranks expected", (long long)n);
            return NULL;
        }
    } else if (!R->fp && n && !R->stop) {
        PyErr_SetString(ExploreError, "next_layer: exact mode needs the ranks of the layer");
        return NULL;
    }
    R->layer = layer;
    P->lstart = P->lend;
    P->lend = P->n;
    for (; R->fp && P->freed < (P->lstart >> BLK_BITS); P->freed++) {
        free(P->blk[P->freed]);
        P->blk[P->freed] = NULL;
        R->mem -= (i64)blk_bytes(R);
    }
    P->cursor = P->lstart;
    return PyLong_FromLongLong(live_states(P, P->lstart, P->lend));
}

static PyObject *Partition_any_enabled(PartitionObject *self, PyObject *noargs)
{
    (void)noargs;
    READY(self);
    return PyBool_FromLong(any_enabled(&self->R));
}

/* parents(gids) -> uint64 bytes: for each gid (uint64 bytes, states of this partition) its parent's gid
 * (2^64 - 1 for the initial state) and the label of the step from it */
static PyObject *Partition_parents(PartitionObject *self, PyObject *args)
{
    Py_buffer b;
    if (!PyArg_ParseTuple(args, "y*", &b))
        return NULL;
    if (!self->ready || b.len % 8) {
        PyBuffer_Release(&b);
        PyErr_SetString(ExploreError, "parents takes uint64 gids");
        return NULL;
    }
    Run *R = &self->R;
    Part *P = &R->parts[0];
    Py_ssize_t n = b.len / 8;
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * 16);
    if (!out) {
        PyBuffer_Release(&b);
        return NULL;
    }
    u64 *o = (u64 *)PyBytes_AS_STRING(out);
    for (Py_ssize_t k = 0; k < n; k++) {
        u64 g;
        memcpy(&g, (const char *)b.buf + 8 * k, 8);
        i64 li = (i64)(g / (u64)R->N);
        if ((int)(g % (u64)R->N) != P->id || li >= P->n) {
            PyBuffer_Release(&b);
            Py_DECREF(out);
            PyErr_Format(ExploreError, "partition %d holds no state %llu", P->id, (unsigned long long)g);
            return NULL;
        }
        o[2 * k] = P->parent[li] == ROOT_PARENT ? ~(u64)0 : (u64)P->parent[li];
        o[2 * k + 1] = P->label[li];
    }
    PyBuffer_Release(&b);
    return out;
}

/* result() -> dict: this partition's part of py_explore's result: counts, findings as (key, length, gid,
 * label, ord), coverage, exhausted pools, witnessed invariants, widths, wire bytes */
static PyObject *Partition_result(PartitionObject *self, PyObject *noargs)
{
    (void)noargs;
    READY(self);
    Run *R = &self->R;
    Part *P = &R->parts[0];
    const Model *m = R->m;
    PyObject *fl = PyList_New(0), *cov = PyList_New(0), *ex = PyList_New(0), *wl = PyList_New(0);
    PyObject *wit = PyList_New(0), *result = NULL;
    if (!fl || !cov || !ex || !wl || !wit)
        goto fail;
    for (int q = 0; q < P->nfnd; q++) {
        Finding *f = &P->fnd[q];
        PyObject *key = PyTuple_New(KEYLEN);
        if (!key)
            goto fail;
        for (int k = 0; k < KEYLEN; k++)
            PyTuple_SET_ITEM(key, k, PyLong_FromLongLong(f->key.k[k]));
        PyObject *item = Py_BuildValue("(NLLLK)", key, (long long)f->len, (long long)f->gid, (long long)f->label,
                                       (unsigned long long)f->ord);
        if (!item || PyList_Append(fl, item)) { Py_XDECREF(item); goto fail; }
        Py_DECREF(item);
    }
    for (int q = 0; q < P->ncov; q++) {
        PyObject *c = Py_BuildValue("(LLLL)", (long long)P->cov[q][0], (long long)P->cov[q][1],
                                    (long long)P->cov[q][2], (long long)P->cov[q][3]);
        if (!c || PyList_Append(cov, c)) { Py_XDECREF(c); goto fail; }
        Py_DECREF(c);
    }
    for (i64 v = 0; v < m->ninv; v++)
        if (P->witnessed[v]) {
            PyObject *c = PyLong_FromLongLong(v);
            if (!c || PyList_Append(wit, c)) { Py_XDECREF(c); goto fail; }
            Py_DECREF(c);
        }
    for (i64 k = 0; k < m->npools; k++)
        if (P->exhausted[k]) {
            PyObject *c = PyLong_FromLongLong(k);
            if (!c || PyList_Append(ex, c)) { Py_XDECREF(c); goto fail; }
            Py_DECREF(c);
        }
    for (i64 s = 0; s < m->nslot_total; s++) {
        PyObject *c = PyLong_FromLong(R->L.width[s]);
        if (!c || PyList_Append(wl, c)) { Py_XDECREF(c); goto fail; }
        Py_DECREF(c);
    }
    result = Py_BuildValue("{sLsLsLsLsLsLsLsOsOsOsOsO}", "states", (long long)P->n, "transitions",
                           (long long)P->transitions, "memory", (long long)R->peak, "state_bytes",
                           (long long)R->L.sbytes, "relayouts", (long long)R->relayouts, "sent", (long long)self->sent,
                           "received", (long long)self->received, "findings", fl, "coverage", cov, "exhausted", ex,
                           "witnessed", wit, "widths", wl);
fail:
    Py_XDECREF(fl); Py_XDECREF(cov); Py_XDECREF(ex); Py_XDECREF(wl); Py_XDECREF(wit);
    return result;
}

static PyMethodDef Partition_methods[] = {
    {"live", (PyCFunction)Partition_live, METH_NOARGS, "live() -> live states of the current layer held here"},
    {"expand", (PyCFunction)Partition_expand, METH_VARARGS,
     "expand(chunk) -> (status, streams): phase A on the next chunk of the layer"},
    {"widen", (PyCFunction)Partition_widen, METH_VARARGS,
     "widen(pairs): widen the layout by every partition's (slot, value) overflows and repack"},
    {"absorb", (PyCFunction)Partition_absorb, METH_VARARGS,
     "absorb(budget, streams) -> status: phase B on the streams to this partition, in partition order"},
    {"end_layer", (PyCFunction)Partition_end_layer, METH_NOARGS,
     "end_layer() -> (live states found, their parents' keys)"},
    {"next_layer", (PyCFunction)Partition_next_layer, METH_VARARGS,
     "next_layer(layer, ranks) -> live states of the new layer"},
    {"any_enabled", (PyCFunction)Partition_any_enabled, METH_NOARGS,
     "any_enabled() -> whether a state of the current layer has a step"},
    {"parents", (PyCFunction)Partition_parents, METH_VARARGS, "parents(gids) -> (parent, label) pairs"},
    {"result", (PyCFunction)Partition_result, METH_NOARGS, "result() -> this partition's counts and findings"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject PartitionType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "mkverify._explore.Partition",
    .tp_basicsize = sizeof(PartitionObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Partition(image, widths, los, parts, index, fingerprint=False, symmetry=False, max_memory=0)\n\n"
              "One of `parts` partitions of a breadth-first run (mkverify/engines/distributed.py drives them).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Partition_init,
    .tp_dealloc = (destructor)Partition_dealloc,
    .tp_methods = Partition_methods,
};

static PyMethodDef methods[] = {
    {"canonical", py_canonical, METH_VARARGS,
     "canonical(image, vector) -> tuple\n\nThe canonical member of the vector's orbit under the renaming of host "
     "threads and of the slots of symmetric pools (what the enumerator stores with symmetry on)."},
    {"explore", (PyCFunction)(void (*)(void))py_explore, METH_VARARGS | METH_KEYWORDS,
     "explore(image, widths, los, jobs=1, max_states=0, max_depth=0, max_memory=0, fingerprint=False, "
     "progress=None, chunk=4096, symmetry=False, stop=None) -> dict\n\nBreadth-first exploration of a lowered "
     "program (mkverify/engines/native.py builds the image). progress(states, transitions, depth, seconds, memory) "
     "and stop() are called about every 50 ms; a true stop() ends the run with stop 'interrupted'."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "mkverify._explore",
                                       "The C enumerator (see mkverify/engines/native.py).", -1, methods,
                                       NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__explore(void)
{
    PyObject *mod = PyModule_Create(&moduledef);
    if (!mod)
        return NULL;
    ExploreError = PyErr_NewException("mkverify._explore.ExploreError", PyExc_ValueError, NULL);
    if (!ExploreError || PyModule_AddObject(mod, "ExploreError", ExploreError)) {
        Py_XDECREF(ExploreError);
        Py_DECREF(mod);
        return NULL;
    }
    Py_INCREF(ExploreError);
    PyModule_AddIntConstant(mod, "VERSION", VERSION);
    PyModule_AddIntConstant(mod, "KEYLEN", KEYLEN);
    if (PyType_Ready(&PartitionType) < 0)
        return NULL;
    Py_INCREF(&PartitionType);
    if (PyModule_AddObject(mod, "Partition", (PyObject *)&PartitionType)) {
        Py_DECREF(&PartitionType);
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
