// mkverify: error = "preprocessor: linux/netdevice.h: No such file or directory"
// mkverify: where = "missing-kernel-header.c:5:10"
// mkverify: hint = "kref"
#include <linux/kref.h>
#include <linux/netdevice.h>

static int counter;

void bump(void)
{
	counter++;
}
