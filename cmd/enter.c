/* enter: `xboot enter DIR [CMD…]` (issue 4; not yet implemented). */
#include "cmd.h"

int cmd_enter(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	xb_error("enter: not implemented yet");
	return 2;
}
