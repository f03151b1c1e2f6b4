// mkverify: error = "type error: cannot convert struct obj * to int"
// mkverify: where = "type-pointer-to-int.c:11:2"
// mkverify: hint = "pointers and integers do not mix"
struct obj { int state; };
static struct obj *instance;

int peek(void)
{
	int v;

	v = instance;
	return v;
}
