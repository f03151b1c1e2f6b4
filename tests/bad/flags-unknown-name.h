// mkverify: error = "'BAR_WRTIE' is not a macro of the headers read"
// mkverify: where = "flags-unknown-name.h:7:42"
// mkverify: hint = "did you mean 'BAR_WRITE'?"
#define BAR_READ	0x1
#define BAR_WRITE	0x2
#define BAR_SYNC	0x4
#define BAR_FLAGS	(BAR_READ | BAR_SYNC | BAR_WRTIE)
