// mkverify: error = "bounds.cpus must be an integer in 1..64, not 0"
// mkverify: where = "spec-impossible-bound.toml:2:8"
// mkverify: hint = "2 or 3 CPUs"
static int x;

void f(void)
{
	x = 1;
}
