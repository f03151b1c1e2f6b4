// mkverify: error = "unknown identifier 'instnace'"
// mkverify: where = "unknown-identifier.c:12:11"
// mkverify: hint = "did you mean 'instance'?"
struct obj { int state; };
static struct obj *instance;

int peek(void)
{
	struct obj *o;

	o = instance;
	if (o != instnace)
		return -1;
	return o ? o->state : 0;
}
