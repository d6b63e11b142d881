/* main: the xboot entry point; dispatches to one cmd_<name>() per subcommand. */
#include "cmd.h"

int main(int argc, char **argv)
{
	xb_error_init();
	return cmd_dispatch(argc, argv);
}
