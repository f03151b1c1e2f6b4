// mkverify: error = "floating-point types are not supported ('float')"
// mkverify: where = "unsupported-float.c:4:25"
// mkverify: hint = "integer"
struct obj { int state; float load; };
static struct obj *instance;

void set(void)
{
	if (instance)
		instance->state = 1;
}
