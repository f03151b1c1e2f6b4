// mkverify: error = "'s' is defined with a body but no parameter list"
// mkverify: where = "fuzz-definition-without-parameters.c:10:8"
// mkverify: hint = "write s(void)"
/*
 * Found by tests/fuzz/fuzz_frontend.py: pycparser reads 'static s { ... }'
 * as a definition of s without a declarator list, which crashed lowering.
 */
static int x;

static s{
	x = 1;
}

void f(void)
{
}
