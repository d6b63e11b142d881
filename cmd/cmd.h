/* cmd: the subcommands.  Each parses its options into a struct and calls
 * into core/; only code here turns error codes into exit statuses. */
#ifndef XB_CMD_H
#define XB_CMD_H

#include "../core/base/util.h"

int cmd_dispatch(int argc, char **argv);
int cmd_bootstrap(int argc, char **argv);
int cmd_enter(int argc, char **argv);
/* Exit status for a negative error code. */
int cmd_exit_code(int r);
/* SIGINT/SIGTERM set xb_interrupted; a second one exits at once. */
void cmd_install_signal_handlers(void);

#endif
