// mkverify: error = "syntax error: this '}' has no matching '{'"
// mkverify: where = "syntax-error-extra-brace.c:10:1"
// mkverify: hint = "remove it"
static int counter;

void bump(void)
{
	counter++;
	}
}
}
