// mkverify: error = "pointer arithmetic is not supported"
// mkverify: where = "unsupported-pointer-arithmetic.c:11:6"
// mkverify: hint = "array"
struct obj { int state; };
static struct obj *instance;

void next(void)
{
	struct obj *o = instance;

	o = o + 1;
	if (o)
		o->state = 1;
}
