// mkverify: error = "taking the address of local 'v' is not supported"
// mkverify: where = "unsupported-address-of-local.c:11:7"
// mkverify: hint = "make it a global"
static int *slot;

void publish(void)
{
	int v = 1;
	int *p;

	p = &v;
	slot = p;
}
