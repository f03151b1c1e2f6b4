// mkverify: error = "type error: incompatible pointer types: struct obj * assigned to struct other *"
// mkverify: where = "type-incompatible-pointers.c:12:2"
// mkverify: hint = "cast explicitly"
struct obj { int state; };
struct other { int state; };
static struct obj *instance;

void swap(void)
{
	struct other *p;

	p = instance;
	if (p)
		p->state = 1;
}
