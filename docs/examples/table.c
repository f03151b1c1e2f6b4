/*
 * A table of refcounted objects, looked up by id: the pattern of
 * mk_instance_find() in the multikernel series, with a bug in obj_find().
 */
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#define MAX_OBJS 2

enum obj_state { OBJ_NEW, OBJ_LIVE, OBJ_DEAD };

struct obj {
	int id;
	enum obj_state state;
	struct kref ref;
};

static DEFINE_MUTEX(table_lock);	/* protects table */
static DEFINE_IDR(table);		/* holds one reference on each object */

static void obj_release(struct kref *kref)
{
	struct obj *o = container_of(kref, struct obj, ref);

	kfree(o);
}

int obj_create(void)
{
	struct obj *o;
	int id;

	o = kzalloc(sizeof(*o), GFP_KERNEL);
	if (!o)
		return -ENOMEM;
	kref_init(&o->ref);
	mutex_lock(&table_lock);
	id = idr_alloc(&table, o, 1, MAX_OBJS + 1, GFP_KERNEL);
	if (id < 0) {
		mutex_unlock(&table_lock);
		kfree(o);
		return id;
	}
	o->id = id;
	o->state = OBJ_LIVE;
	mutex_unlock(&table_lock);
	return id;
}

/* returns a counted reference, or NULL */
static struct obj *obj_find(int id)
{
	struct obj *o;

	mutex_lock(&table_lock);
	o = idr_find(&table, id);
	mutex_unlock(&table_lock);
	if (o)
		kref_get(&o->ref);	/* BUG: the reference is taken after the unlock */
	return o;
}

int obj_use(int id)
{
	struct obj *o = obj_find(id);

	if (!o)
		return -ENOENT;
	if (o->state == OBJ_LIVE)
		o->id = id;	/* stands for any use of the object */
	kref_put(&o->ref, obj_release);
	return 0;
}

int obj_destroy(int id)
{
	struct obj *o;

	mutex_lock(&table_lock);
	o = idr_remove(&table, id);
	mutex_unlock(&table_lock);
	if (!o)
		return -ENOENT;
	o->state = OBJ_DEAD;
	kref_put(&o->ref, obj_release);
	return 0;
}
