// mkverify: expect = "violations"
// mkverify: checks = ["dangling-reference"]
// mkverify: trace = 12
/*
 * An object freed while it is still on a list. Clients are found by id in
 * client_idr and also sit on client_list (for broadcasts). client_remove()
 * takes the client out of the IDR and frees it, but never list_del()s it:
 * the list keeps a freed node, and the next walk of client_list touches
 * freed memory.
 */
#include <linux/idr.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct client {
	int id;
	struct list_head node;
};

static DEFINE_MUTEX(client_lock);
static DEFINE_IDR(client_idr);
static LIST_HEAD(client_list);

int client_add(void)
{
	struct client *c = kzalloc(sizeof(*c), GFP_KERNEL);
	int id;

	if (!c)
		return -ENOMEM;
	mutex_lock(&client_lock);
	id = idr_alloc(&client_idr, c, 1, 0, GFP_KERNEL);
	if (id < 0) {
		mutex_unlock(&client_lock);
		kfree(c);
		return id;
	}
	c->id = id;
	list_add(&c->node, &client_list);
	mutex_unlock(&client_lock);
	return id;
}

int client_remove(int id)
{
	struct client *c;

	mutex_lock(&client_lock);
	c = idr_remove(&client_idr, id);
	/* BUG: c->node is still on client_list */
	mutex_unlock(&client_lock);
	if (!c)
		return -ENOENT;
	kfree(c);
	return 0;
}
