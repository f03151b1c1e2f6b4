// mkverify: error = "model file is not valid UTF-8"
// mkverify: where = "not-utf8.c:6:7"
// mkverify: hint = "UTF-8"
static int counter;

/* café: the counter */
void bump(void)
{
	counter++;
}
