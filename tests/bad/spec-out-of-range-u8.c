// mkverify: error = "domain value 300 is out of range for parameter 'id' of type unsigned char (0..255)"
// mkverify: where = "spec-out-of-range-u8.toml:5:19"
// mkverify: hint = "give values the parameter can hold"
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
