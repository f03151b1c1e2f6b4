// mkverify: error = "host_cpus (4) cannot exceed cpus (2)"
// mkverify: where = "spec-impossible-host-cpus.toml:3:13"
// mkverify: hint = "raise cpus"
static int x;

void f(void)
{
	x = 1;
}
