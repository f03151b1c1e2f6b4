// mkverify: error = "spec is not valid UTF-8"
// mkverify: where = "spec-not-utf8.toml:1:10"
// mkverify: hint = "UTF-8"
static int counter;

void bump(void)
{
	counter++;
}
