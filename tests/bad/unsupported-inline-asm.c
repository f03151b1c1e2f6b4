// mkverify: error = "inline assembly is not supported"
// mkverify: where = "unsupported-inline-asm.c:9:2"
// mkverify: hint = "model what the assembly does in C"
static int counter;

void bump(void)
{
	counter++;
	asm volatile("mfence" ::: "memory");
}
