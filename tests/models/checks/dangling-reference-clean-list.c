// mkverify: expect = "ok"
/*
 * The repaired dangling-reference-trigger-list: client_remove() takes the
 * client off client_list in the same critical section that removes it from
 * the IDR, before freeing it.
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
	if (c)
		list_del(&c->node);
	mutex_unlock(&client_lock);
	if (!c)
		return -ENOENT;
	kfree(c);
	return 0;
}
