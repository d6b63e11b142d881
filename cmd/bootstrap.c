/* bootstrap: `xboot [OPTIONS] SUITE TARGET [MIRROR…]`. */
#include "cmd.h"

int cmd_bootstrap(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	xb_error("bootstrap: not implemented yet");
	return 2;
}
