// mkverify: error = "syntax error: the C parser cannot read the declaration that ends here"
// mkverify: where = "fuzz-parser-two-struct-specifiers.c:12:2"
// mkverify: hint = "missing ';'"
/*
 * Found by tests/fuzz/fuzz_frontend.py: two struct specifiers in a row made
 * pycparser 3 fail with an AttributeError (a traceback, exit 4) instead of a
 * syntax error.
 */
struct list_head
struct kimage {
	int id;
};

void f(void)
{
}
