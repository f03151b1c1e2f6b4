/*
 * The mkverify prelude: the kernel primitives the simulated machine gives
 * meaning to. It is included before every model file, so models read like
 * kernel code and may also #include <linux/...> the usual headers (they are
 * empty here). Types whose only member starts with __mkverify_ are opaque:
 * the engine knows them by that name and keeps one cell for each (an IDR
 * keeps two cells an entry). The primitives' declarations are not here: the
 * front end includes them after this file, generated from mkverify/kernel.py,
 * where each is defined. See docs/model-language.md for each primitive's
 * exact meaning, including what it reports.
 */
#ifndef _MKVERIFY_PRELUDE_H
#define _MKVERIFY_PRELUDE_H

typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef unsigned long size_t;
typedef long ssize_t;
typedef unsigned int gfp_t;
typedef long long loff_t;

#define GFP_KERNEL 0u
#define GFP_ATOMIC 0u
#define INT_MAX 2147483647
#define UINT_MAX 4294967295u

/* errno values, as in include/uapi/asm-generic/errno-base.h */
#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define EINTR 4
#define EIO 5
#define ENXIO 6
#define E2BIG 7
#define EBADF 9
#define EAGAIN 11
#define ENOMEM 12
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ERANGE 34
#define ENOSYS 38
#define ENOTSUPP 524

/* compiler and annotation noise */
#define likely(x) (x)
#define unlikely(x) (x)
#define __user
#define __init
#define __exit
#define __rcu
#define __must_check
#define __always_inline inline
#define noinline
#define EXPORT_SYMBOL(x)
#define EXPORT_SYMBOL_GPL(x)
#define READ_ONCE(x) (x)
#define WRITE_ONCE(x, val) ((x) = (val))
#define ARRAY_SIZE(a) __mkverify_array_size(a)
#define container_of(ptr, type, member) ((type *)__mkverify_container_of((ptr), #member))
#define cpu_relax() ((void)0)
#define might_sleep() ((void)0)
#define smp_mb() ((void)0)

/* printing has no effect on the machine */
#define pr_info(...) ((void)0)
#define pr_err(...) ((void)0)
#define pr_warn(...) ((void)0)
#define pr_debug(...) ((void)0)
#define pr_notice(...) ((void)0)
#define printk(...) ((void)0)

/* opaque kernel types */
struct kref { int __mkverify_kref; };
typedef struct { int __mkverify_refcount; } refcount_t;
typedef struct { int __mkverify_atomic; } atomic_t;
struct mutex { int __mkverify_mutex; };
typedef struct { int __mkverify_spinlock; } spinlock_t;
struct list_head { int __mkverify_list_head; };
struct cpumask { int __mkverify_cpumask; };
typedef struct cpumask cpumask_var_t[1];
typedef struct cpumask cpumask_t;
struct idr { int __mkverify_idr; };
struct xarray { int __mkverify_xarray; };
struct rw_semaphore { int __mkverify_rwsem; };
typedef struct { int __mkverify_rwlock; } rwlock_t;
struct completion { int __mkverify_completion; };
/* hlists are the same membership lists as struct list_head */
struct hlist_head { int __mkverify_list_head; };
struct hlist_node { int __mkverify_list_head; };
/* the link kfree_rcu/call_rcu use in the kernel: here one cell nothing uses */
struct rcu_head { int __mkverify_rcu_head; };
#define callback_head rcu_head

#define ATOMIC_INIT(i) { (i) }
#define REFCOUNT_INIT(i) { (i) }
#define DEFINE_MUTEX(name) struct mutex name = { 0 }
/* objects come zeroed from kzalloc, and zero is unlocked */
#define mutex_init(lock) ((void)(lock))
#define spin_lock_init(lock) ((void)(lock))
#define DEFINE_SPINLOCK(name) spinlock_t name = { 0 }
#define DEFINE_IDR(name) struct idr name = { 0 }
#define LIST_HEAD(name) struct list_head name = { 0 }

#define HLIST_HEAD(name) struct hlist_head name = { 0 }

/* XArrays (the IDR's entries, any index): the limit of xa_alloc is two arguments here */
#define DEFINE_XARRAY(name) struct xarray name = { 0 }
#define DEFINE_XARRAY_ALLOC(name) DEFINE_XARRAY(name)
#define xa_init(xa) ((void)(xa))
#define xa_init_flags(xa, flags) ((void)(xa))
#define XA_LIMIT(min, max) (min), (max)
#define xa_limit_32b 0, 4294967295u
#define xa_limit_31b 0, 2147483647
#define xa_limit_16b 0, 65535
#define XA_FLAGS_ALLOC 0
#define xa_for_each(xa, index, entry) \
    for (index = __xa_find(xa, 0), entry = xa_load(xa, index); entry; \
         index = __xa_find(xa, (index) + 1), entry = xa_load(xa, index))
#define INIT_HLIST_HEAD(h) INIT_LIST_HEAD((struct list_head *)(h))

/* RCU (docs/model-language.md#rcu): rcu_read_lock/unlock, synchronize_rcu and kfree_rcu are primitives */
#define rcu_dereference(p) rcu_dereference_check(p, 0)
#define rcu_dereference_raw(p) (p)
#define rcu_access_pointer(p) (p)
#define rcu_assign_pointer(p, v) ((p) = (v))
#define RCU_INIT_POINTER(p, v) ((p) = (v))
#define rcu_dereference_bh(p) rcu_dereference(p)
#define rcu_dereference_sched(p) rcu_dereference(p)
#define rcu_read_lock_bh() rcu_read_lock()
#define rcu_read_unlock_bh() rcu_read_unlock()
#define synchronize_rcu_expedited() synchronize_rcu()
#define synchronize_net() synchronize_rcu()
#define kvfree_rcu(...) kfree_rcu(__VA_ARGS__)
#define kfree_rcu_mightsleep(p) kfree_rcu(p)
#define lockdep_assert_held_once(l) lockdep_assert_held(l)

/* list walks: entries in the order of their cells (lists model membership, not order) */
#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define hlist_entry(ptr, type, member) container_of(ptr, type, member)
#define list_first_entry(head, type, member) container_of(__list_first(head), type, member)
#define list_first_entry_or_null(head, type, member) __mkverify_list_entry(0, head, (type *)0, #member)
#define list_for_each_entry(pos, head, member) \
    for (pos = __mkverify_list_entry(0, head, pos, #member); pos; pos = __mkverify_list_entry(1, head, pos, #member))
#define list_for_each_entry_safe(pos, n, head, member) \
    for (pos = __mkverify_list_entry(0, head, pos, #member), n = __mkverify_list_entry(1, head, pos, #member); \
         pos; pos = n, n = __mkverify_list_entry(1, head, pos, #member))
#define list_for_each_entry_continue(pos, head, member) \
    for (pos = __mkverify_list_entry(1, head, pos, #member); pos; pos = __mkverify_list_entry(1, head, pos, #member))
#define list_for_each_entry_rcu(pos, head, member, ...) \
    for (pos = __mkverify_list_entry(2, head, pos, #member, ##__VA_ARGS__); pos; \
         pos = __mkverify_list_entry(3, head, pos, #member, ##__VA_ARGS__))
#define hlist_for_each_entry(pos, head, member) list_for_each_entry(pos, (struct list_head *)(head), member)
#define hlist_for_each_entry_safe(pos, n, head, member) \
    list_for_each_entry_safe(pos, n, (struct list_head *)(head), member)
#define hlist_for_each_entry_rcu(pos, head, member, ...) \
    list_for_each_entry_rcu(pos, (struct list_head *)(head), member, ##__VA_ARGS__)

#define DECLARE_COMPLETION(name) struct completion name = { 0 }
#define DECLARE_COMPLETION_ONSTACK(name) DECLARE_COMPLETION(name)
#define wait_for_completion_io(x) wait_for_completion(x)
#define wait_for_completion_killable_timeout(x, t) wait_for_completion_timeout(x, t)
#define wait_for_completion_interruptible_timeout(x, t) wait_for_completion_timeout(x, t)
#define msecs_to_jiffies(m) (m)
#define HZ 100
#define ERESTARTSYS 512

/* wait queues: a wait looks at its condition again and again (each look reads memory, steps), so no
   wake-up is needed; wake_up does nothing */
struct wait_queue_head { int __mkverify_waitq; };
typedef struct wait_queue_head wait_queue_head_t;
#define DECLARE_WAIT_QUEUE_HEAD(name) wait_queue_head_t name = { 0 }
#define init_waitqueue_head(wq) ((void)(wq))
#define wake_up(wq) ((void)(wq))
#define wake_up_all(wq) ((void)(wq))
#define wake_up_interruptible(wq) ((void)(wq))
#define wake_up_interruptible_all(wq) ((void)(wq))
#define wait_event(wq, cond) ((void)__mkverify_wait_event(0, cond))
#define wait_event_interruptible(wq, cond) __mkverify_wait_event(1, cond)
#define wait_event_killable(wq, cond) __mkverify_wait_event(1, cond)
#define wait_event_timeout(wq, cond, timeout) __mkverify_wait_event(2, cond)
#define wait_event_interruptible_timeout(wq, cond, timeout) __mkverify_wait_event(2, cond)

/* deferred execution (docs/model-language.md#deferred-execution): work items, timers and call_rcu
   callbacks run on worker threads at any later point (delays are not modelled) */
struct work_struct { int __mkverify_work; };
struct delayed_work { struct work_struct work; };
struct timer_list { int __mkverify_timer; };
struct workqueue_struct { int __mkverify_unused; };
#define system_wq ((struct workqueue_struct *)0)
#define system_unbound_wq system_wq
#define system_highpri_wq system_wq
#define system_long_wq system_wq
#define INIT_DELAYED_WORK(dw, fn) INIT_WORK(&(dw)->work, fn)
#define INIT_WORK_ONSTACK(w, fn) INIT_WORK(w, fn)
#define schedule_work(w) __queue_work(w)
#define queue_work(wq, w) __queue_work(w)
#define queue_work_on(cpu, wq, w) __queue_work(w)
#define schedule_delayed_work(dw, delay) __queue_work(&(dw)->work)
#define queue_delayed_work(wq, dw, delay) __queue_work(&(dw)->work)
#define mod_delayed_work(wq, dw, delay) __mod_delayed_work(&(dw)->work)
#define cancel_delayed_work(dw) cancel_work(&(dw)->work)
#define cancel_delayed_work_sync(dw) cancel_work_sync(&(dw)->work)
#define flush_delayed_work(dw) flush_work(&(dw)->work)
#define delayed_work_pending(dw) work_pending(&(dw)->work)
#define to_delayed_work(w) container_of(w, struct delayed_work, work)
#define del_timer(t) timer_delete(t)
#define del_timer_sync(t) timer_delete_sync(t)
#define timer_shutdown_sync(t) timer_delete_sync(t)
#define timer_shutdown(t) timer_delete(t)
#define from_timer(var, t, member) __mkverify_from_timer(var, t, #member)
#define timer_container_of(var, t, member) __mkverify_from_timer(var, t, #member)
#define jiffies 0
#define usecs_to_jiffies(u) (u)

/* kobjects (docs/model-language.md#kobjects): a reference count whose release is the kobj_type's */
struct kobject { int __mkverify_kobject; };
struct kobj_type { int __mkverify_ktype; };
#define kobject_init_and_add(kobj, ktype, parent, ...) (kobject_init(kobj, ktype), 0)
#define kobject_add(kobj, parent, ...) (0)
#define kobject_del(kobj) ((void)(kobj))
#define kobject_uevent(kobj, action) (0)

/* reader-writer locks: zero is unlocked */
#define DECLARE_RWSEM(name) struct rw_semaphore name = { 0 }
#define DEFINE_RWLOCK(name) rwlock_t name = { 0 }
#define init_rwsem(sem) ((void)(sem))
#define rwlock_init(lock) ((void)(lock))
#define down_read_nested(sem, sub) down_read(sem)
#define down_write_nested(sem, sub) down_write(sem)
#define read_lock_irq(l) read_lock(l)
#define read_unlock_irq(l) read_unlock(l)
#define read_lock_bh(l) read_lock(l)
#define read_unlock_bh(l) read_unlock(l)
#define read_lock_irqsave(l, f) read_lock(l)
#define read_unlock_irqrestore(l, f) read_unlock(l)
#define write_lock_irq(l) write_lock(l)
#define write_unlock_irq(l) write_unlock(l)
#define write_lock_bh(l) write_lock(l)
#define write_unlock_bh(l) write_unlock(l)
#define write_lock_irqsave(l, f) write_lock(l)
#define write_unlock_irqrestore(l, f) write_unlock(l)
#define get_online_cpus() cpus_read_lock()
#define put_online_cpus() cpus_read_unlock()

/* reader-writer and sleeping lock forms that are the plain ones here */
#define mutex_lock_nested(l, sub) mutex_lock(l)
#define spin_lock_bh(l) spin_lock(l)
#define spin_unlock_bh(l) spin_unlock(l)

/* other names of primitives */
#define atomic_cmpxchg_acquire atomic_cmpxchg
#define atomic_set_release atomic_set
#define atomic_read_acquire atomic_read

#define spin_lock_irqsave(l, f) spin_lock(l)
#define spin_unlock_irqrestore(l, f) spin_unlock(l)
#define spin_lock_irq(l) spin_lock(l)
#define spin_unlock_irq(l) spin_unlock(l)
#define alloc_cpumask_var(mask, gfp) (true)
#define zalloc_cpumask_var(mask, gfp) (true)
#define free_cpumask_var(mask) ((void)0)
/* invariants only: is any CPU executing from this object's memory? */
bool cpu_executes(const void *mem);
bool mutex_is_locked(struct mutex *lock);

/* assertions */
void BUG_ON(long cond);
bool WARN_ON(long cond);
#define WARN_ON_ONCE(c) WARN_ON(c)
#define BUG() BUG_ON(1)

/* front-end builtins behind the macros above */
void *__mkverify_container_of(const void *ptr, const char *member);
void *__mkverify_list_entry();
int __mkverify_wait_event();
unsigned long __mkverify_array_size();
void *__mkverify_from_timer();

#endif /* _MKVERIFY_PRELUDE_H */
