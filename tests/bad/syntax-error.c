// mkverify: error = "syntax error before '}'"
// mkverify: where = "syntax-error.c:10:1"
// mkverify: hint = "is a ';' missing at the end of line 9?"
struct obj { int state; };
static struct obj *global;

void set(int v)
{
	global->state = v
}
