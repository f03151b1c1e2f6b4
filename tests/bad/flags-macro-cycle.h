// mkverify: error = "macro CYC_ID_MASK is defined in terms of itself (CYC_ID_MASK -> CYC_BITS -> CYC_ID_MASK)"
// mkverify: where = "flags-macro-cycle.h:5:19"
// mkverify: hint = "define it without the cycle"
#define CYC_ID_MASK	(CYC_BITS << 4)
#define CYC_BITS	(CYC_ID_MASK >> 4)
#define CYC_ID(x)	(((x) << 4) & CYC_ID_MASK)
