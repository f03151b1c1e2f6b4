#define LD_UNLOAD	0x1
#define LD_ON_CRASH	0x2
#define LD_MULTI	0x10
#define LD_ID_MASK	0xff00
#define LD_ID_SHIFT	8
#define LD_ID(id)	(((id) << LD_ID_SHIFT) & LD_ID_MASK)
#define LD_GET_ID(f)	(((f) & LD_ID_MASK) >> LD_ID_SHIFT)
#define LD_FLAGS	(LD_UNLOAD | LD_ON_CRASH | LD_MULTI | LD_ID_MASK)
