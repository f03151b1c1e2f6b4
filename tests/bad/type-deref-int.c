// mkverify: error = "type error: '*' applied to 'counter' of type int, which is not a pointer"
// mkverify: where = "type-deref-int.c:8:10"
// mkverify: hint = "drop the '*'"
static int counter;

int peek(void)
{
	return *counter;
}
