// mkverify: expect = "violations"
// mkverify: checks = ["leak"]
/*
 * refcount_dec() on what may be the last reference. The table holds one
 * reference to its connection and each user holds one while it works.
 * conn_shutdown() marks the connection dying and drops the table's
 * reference with refcount_dec(), which is only right while a user still
 * holds one: with no user, the count reaches zero and nothing will ever
 * free the connection (the kernel WARNs "decrement hit 0; leaking memory").
 * The table still points at it, so only refcount_dec's own check sees it.
 */
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/slab.h>

struct conn {
	refcount_t ref;
	bool dying;
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
	if (c && !c->dying) {
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
	if (c && !c->dying) {
		c->dying = true;
		refcount_dec(&c->ref);	/* BUG: with no user, this is the last reference */
	}
	mutex_unlock(&table_lock);
}
