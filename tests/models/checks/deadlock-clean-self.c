// mkverify: expect = "ok"
/*
 * The repaired deadlock-trigger-self: client_remove() removes the client
 * from the IDR directly under the client_lock it holds (idr_remove()
 * returns the entry), instead of calling the locking lookup helper.
 */
#include <linux/idr.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct client {
	int id;
};

static DEFINE_MUTEX(client_lock);
static DEFINE_IDR(client_idr);

int client_add(void)
{
	struct client *c = kzalloc(sizeof(*c), GFP_KERNEL);
	int id;

	if (!c)
		return -ENOMEM;
	mutex_lock(&client_lock);
	id = idr_alloc(&client_idr, c, 1, 0, GFP_KERNEL);
	if (id > 0)
		c->id = id;
	mutex_unlock(&client_lock);
	if (id < 0)
		kfree(c);
	return id;
}

static struct client *client_find(int id)
{
	struct client *c;

	mutex_lock(&client_lock);
	c = idr_find(&client_idr, id);
	mutex_unlock(&client_lock);
	return c;
}

bool client_exists(int id)
{
	return client_find(id) != NULL;
}

int client_remove(int id)
{
	struct client *c;

	mutex_lock(&client_lock);
	c = idr_remove(&client_idr, id);
	mutex_unlock(&client_lock);
	if (!c)
		return -ENOENT;
	kfree(c);
	return 0;
}
