// mkverify: error = "unbounded loop"
// mkverify: where = "unsupported-unbounded-loop.c:9:2"
// mkverify: hint = "break"
static int counter;

void spin(void)
{
	counter = 1;
	while (1) {
	}
}
