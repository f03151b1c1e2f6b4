// mkverify: error = "recursion is not supported (walk -> walk)"
// mkverify: where = "unsupported-recursion.c:12:3"
// mkverify: hint = "bounded loop"
struct node { int depth; struct node *next; };
static struct node *head;

static int walk(struct node *n)
{
	if (!n)
		return 0;
	return 1 +
		walk(n->next);
}

int count(void)
{
	return walk(head);
}
