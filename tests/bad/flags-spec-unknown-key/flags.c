static int loads;

void load(void)
{
	loads++;
}
