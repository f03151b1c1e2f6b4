// mkverify: error = "local variable 'copy' of type struct obj is not supported"
// mkverify: where = "unsupported-struct-local.c:9:13"
// mkverify: hint = "kzalloc"
struct obj { int state; };
static struct obj instance;

int peek(void)
{
	struct obj copy;

	copy.state = instance.state;
	return copy.state;
}
