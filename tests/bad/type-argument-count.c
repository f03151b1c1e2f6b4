// mkverify: error = "set_state() takes 2 arguments, 1 given"
// mkverify: where = "type-argument-count.c:15:2"
// mkverify: hint = "set_state is defined at type-argument-count.c:7:13"
struct obj { int state; };
static struct obj *instance;

static void set_state(struct obj *o, int v)
{
	if (o)
		o->state = v;
}

void poke(void)
{
	set_state(instance);
}
