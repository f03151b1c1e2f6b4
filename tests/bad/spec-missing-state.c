// mkverify: error = "lifecycle state 'OBJ_GONE' is not a constant of enum obj_state"
// mkverify: where = "spec-missing-state.toml:10:52"
// mkverify: hint = "enum obj_state has OBJ_NEW, OBJ_LIVE, OBJ_DEAD"
#include <linux/slab.h>

enum obj_state { OBJ_NEW, OBJ_LIVE, OBJ_DEAD };
struct obj { enum obj_state state; int id; };
static struct obj *instance;

void make(u8 id)
{
	struct obj *o = kzalloc(sizeof(*o), GFP_KERNEL);

	if (!o)
		return;
	o->id = id;
	o->state = OBJ_LIVE;
	instance = o;
}
