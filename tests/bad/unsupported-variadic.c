// mkverify: error = "variadic functions are not supported (log_event)"
// mkverify: where = "unsupported-variadic.c:6:33"
// mkverify: hint = "fixed parameters"
static int last;

static void log_event(int code, ...)
{
	last = code;
}

void go(void)
{
	log_event(1, 2, 3);
}
