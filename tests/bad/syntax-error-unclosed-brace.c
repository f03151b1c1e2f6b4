// mkverify: error = "syntax error: this '{' is never closed"
// mkverify: where = "syntax-error-unclosed-brace.c:7:1"
// mkverify: hint = "add the matching '}'"
static int counter;

void bump(int v)
{
	counter++;
	if (v > 1) {
		counter++;
}
