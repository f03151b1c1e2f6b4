// mkverify: error = "unions are not supported"
// mkverify: where = "unsupported-union.c:6:8"
// mkverify: hint = "use a struct"
struct obj {
	int state;
	union {
		int id;
		unsigned int raw;
	} key;
};
static struct obj *instance;

void set(void)
{
	if (instance)
		instance->state = 1;
}
