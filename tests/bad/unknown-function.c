// mkverify: error = "unknown function 'obj_relaese'"
// mkverify: where = "unknown-function.c:17:3"
// mkverify: hint = "did you mean 'obj_release'?"
struct obj { int state; };
static struct obj *instance;

static void obj_release(struct obj *o)
{
	o->state = 0;
}

void drop(void)
{
	struct obj *o = instance;

	if (o)
		obj_relaese(o);
}
