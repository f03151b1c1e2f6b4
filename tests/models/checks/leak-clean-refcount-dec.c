// mkverify: expect = "ok"
/*
 * The twin of leak-trigger-refcount-dec.c, repaired: users drop their
 * reference with refcount_dec() while the table still holds its own, and
 * conn_shutdown() unpublishes the connection and puts the table's reference
 * with refcount_dec_and_test(), freeing the connection when it was the last.
 * Clean only if refcount_dec() really decrements: otherwise the count never
 * reaches zero and the unpublished connection leaks.
 */
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/slab.h>

struct conn {
	refcount_t ref;
	bool used;
};

static struct conn *table;
static DEFINE_MUTEX(table_lock);

int conn_open(void)
{
	struct conn *c = kzalloc(sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	refcount_set(&c->ref, 1);
	mutex_lock(&table_lock);
	if (table) {
		mutex_unlock(&table_lock);
		kfree(c);
		return -EBUSY;
	}
	table = c;
	mutex_unlock(&table_lock);
	return 0;
}

void conn_use(void)
{
	struct conn *c;

	mutex_lock(&table_lock);
	c = table;
	if (c) {
		refcount_inc(&c->ref);
		c->used = true;
		refcount_dec(&c->ref);	/* the table's reference is still held: not the last */
	}
	mutex_unlock(&table_lock);
}

void conn_shutdown(void)
{
	struct conn *c;

	mutex_lock(&table_lock);
	c = table;
	table = NULL;
	mutex_unlock(&table_lock);
	if (c && refcount_dec_and_test(&c->ref))
		kfree(c);
}
