"""The built-in checks: stable ids (a public interface; only ever added to),
with the descriptions every report uses."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckInfo:
    id: str
    short: str
    full: str
    help: str


CHECKS = {c.id: c for c in (
    CheckInfo("null-dereference", "NULL pointer dereference",
              "A thread read or wrote memory through a NULL pointer (or a pointer derived from NULL).",
              "Check the pointer before using it, or make sure the path that leaves it NULL cannot reach the access."),
    CheckInfo("use-after-free", "use after free",
              "A thread accessed an object (a field, a refcount, a lock) after it was freed.",
              "Hold a reference (kref_get) for as long as the object is used, or do the lookup and the use under the "
              "lock that the free also takes."),
    CheckInfo("dangling-reference", "dangling reference",
              "At a quiescent state a global, a live object or an IDR still points at a freed object, an object was "
              "freed while still on a list, or a CPU executes memory that was freed.",
              "Clear every pointer to the object (and take it off lists) before freeing it, or keep the object alive "
              "while anything can reach it."),
    CheckInfo("double-free", "double free",
              "kfree() of an object that was already freed.",
              "Make exactly one path responsible for the free, usually the kref release function."),
    CheckInfo("invalid-free", "invalid free",
              "kfree() of a pointer that is not the start of an allocated object (a global, or a member).",
              "Free the object itself, e.g. container_of(member, struct T, field)."),
    CheckInfo("refcount-underflow", "refcount underflow (double put)",
              "kref_put()/refcount_dec_and_test() on a count that is already zero: one reference was dropped twice.",
              "Pair every put with exactly one get (or with kref_init)."),
    CheckInfo("get-after-release", "get after release",
              "kref_get()/refcount_inc() on a count that already reached zero: the object is being released.",
              "Use kref_get_unless_zero() where a lookup can race with the final put, or take the reference under "
              "the lock that protects the lookup structure."),
    CheckInfo("leak", "leak",
              "At a quiescent state a live object is no longer reachable from any global, IDR, list or running CPU: "
              "nothing can ever free it.",
              "Free the object on every path that drops the last pointer to it, and put every reference that was taken."),
    CheckInfo("lock-imbalance", "lock imbalance",
              "A lock was released by a thread that does not hold it, or an entry point returned with a lock held.",
              "Release every lock on every return path, and only the locks this path took."),
    CheckInfo("deadlock", "deadlock",
              "Threads wait for each other's locks in a cycle (or a thread takes a lock it already holds).",
              "Take locks in one global order, and never re-take a lock already held."),
    CheckInfo("assertion", "assertion failed",
              "A BUG_ON()/WARN_ON() condition held, or a primitive was misused in a way the kernel reports "
              "(list corruption, starting an online CPU, division by zero).",
              "The trace shows how the asserted condition became true."),
    CheckInfo("out-of-bounds", "out-of-bounds access",
              "An array index (or CPU number) outside its bounds.",
              "Check the index against the array size (ARRAY_SIZE) or nr_cpu_ids."),
    CheckInfo("illegal-transition", "illegal lifecycle transition",
              "A store moved an object's state field along a transition its lifecycle spec does not allow.",
              "Either the code skips a step of the documented lifecycle, or the spec is missing a transition."),
    CheckInfo("invariant", "invariant violated",
              "A user invariant from the spec is false for a live object.",
              "The trace ends in the first state where the invariant fails."),
    CheckInfo("rcu-usage", "suspicious RCU usage",
              "An RCU-protected pointer was read (rcu_dereference, list_for_each_entry_rcu) outside an RCU read-side "
              "section and without the update-side lock its _check/_protected condition names: lockdep-RCU's "
              "\"suspicious rcu_dereference_check() usage\".",
              "Read it between rcu_read_lock() and rcu_read_unlock(), or, on the update side, use "
              "rcu_dereference_protected(p, lockdep_is_held(&lock)) under that lock."),
    CheckInfo("sleep-in-atomic", "sleeping in atomic context",
              "A function that may sleep (mutex_lock, synchronize_rcu, ...) ran inside an RCU read-side section or "
              "while the CPU held a spinlock: the kernel's \"BUG: sleeping function called from invalid context\".",
              "Move the sleeping call out of the section (drop the spinlock or rcu_read_unlock first, holding a "
              "reference), or use the non-sleeping form (kfree_rcu instead of synchronize_rcu + kfree)."),
    CheckInfo("pending-on-free", "deferred work pending on a freed object",
              "An object was freed while its work item or timer was still pending, or while its call_rcu callback "
              "had not run: the callback would run on freed memory (debugobjects' \"ODEBUG: free active object\").",
              "Cancel before the free and wait for a running callback: cancel_work_sync, cancel_delayed_work_sync or "
              "timer_delete_sync (timer_shutdown_sync where the timer must not be re-armed); rcu_barrier before "
              "freeing what call_rcu callbacks use."),
    # the flag checks (mkverify flags, and mkverify check with a [flags] spec): no trace, a counterexample
    CheckInfo("flag-alias", "flag field aliasing",
              "Two distinct values of a field's range (or of its allocator's ids) encode to the same bits.",
              "Widen the field's mask to hold every value, or reject values the field cannot hold where they "
              "are made (the allocator)."),
    CheckInfo("flag-roundtrip", "flag field round trip",
              "Decoding an encoded value does not give the value back.",
              "Make the decoder the inverse of the encoder: the same mask and shift."),
    CheckInfo("flag-overlap", "overlapping flags",
              "Two flags or fields that are combined in one word share bits.",
              "Give each flag its own bit, and keep fields clear of the flags they are combined with."),
    CheckInfo("flag-rejected", "encodable value rejected",
              "A flag or an encoded field value of a set is refused by the set's validation (its accept mask "
              "or expression).",
              "Add the flag and the field's mask to the validation mask."),
    CheckInfo("flag-range", "allocator range not encodable",
              "The allocator hands out ids that the field cannot encode.",
              "Bound the allocator by the field (e.g. idr_alloc(..., 1, FIELD_MAX + 1, ...)), or widen the field."),
)}
