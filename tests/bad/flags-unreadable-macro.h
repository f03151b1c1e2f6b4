// mkverify: error = "cannot read FOO_ID_MASK, needed as the mask of the field FOO_ID: FOO_ID_MASK is a string, not an integer"
// mkverify: where = "flags-unreadable-macro.h:6:21"
// mkverify: hint = "mkverify flags reads integer constant expressions"
#define FOO_ENABLE	0x1
#define FOO_VERSION	"1.0"		/* unreadable, but nobody needs it: ignored */
#define FOO_ID_MASK	"0xff00"
#define FOO_ID(id)	(((id) << 8) & FOO_ID_MASK)
