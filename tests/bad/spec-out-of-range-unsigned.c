// mkverify: error = "domain value -1 is out of range for parameter 'slot' of type unsigned int (0..4294967295)"
// mkverify: where = "spec-out-of-range-unsigned.toml:3:21"
// mkverify: hint = "give values the parameter can hold"
static unsigned int last;

void take(unsigned int slot)
{
	last = slot;
}
