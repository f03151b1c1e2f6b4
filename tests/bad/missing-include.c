// mkverify: error = "preprocessor: obj_table.h: No such file or directory"
// mkverify: where = "missing-include.c:5:10"
// mkverify: hint = "prelude"
#include <linux/kref.h>
#include "obj_table.h"

static int counter;

void bump(void)
{
	counter++;
}
