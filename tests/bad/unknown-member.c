// mkverify: error = "struct obj has no member named 'refcnt'"
// mkverify: where = "unknown-member.c:11:14"
// mkverify: hint = "did you mean 'refcount'?"
struct obj { int state; int refcount; };
static struct obj *instance;

void get(void)
{
	struct obj *o = instance;

	if (o && o->refcnt > 0)
		o->refcount++;
}
