// mkverify: error = "empty argument domain"
// mkverify: where = "spec-empty-domain.toml:5:15"
// mkverify: hint = "at least one value"
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
