// mkverify: error = "cannot read WIDE_ID_MASK, needed as the mask of the field WIDE_ID: shift count 32 is not less than the width of int (32 bits)"
// mkverify: where = "flags-bad-shift.h:4:28"
// mkverify: hint = "widen the left operand first (1ULL << n)"
#define WIDE_ID_MASK	(0xff << 32)
#define WIDE_ID(x)	(((x) << 32) & WIDE_ID_MASK)
