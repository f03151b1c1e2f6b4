// mkverify: error = "function pointers are not supported"
// mkverify: where = "unsupported-function-pointer.c:6:8"
// mkverify: hint = "call the function directly"
struct ops {
	int state;
	void (*close)(int how);
};
static struct ops *instance;

void shut(void)
{
	if (instance)
		instance->state = 0;
}
