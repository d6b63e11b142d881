/* cmd: the subcommands.  Each parses its options into a struct and calls
 * into core/; only code here turns error codes into exit statuses. */
#ifndef XB_CMD_H
#define XB_CMD_H

#include "../core/base/util.h"

#include <getopt.h>

int cmd_dispatch(int argc, char **argv);
int cmd_bootstrap(int argc, char **argv);
int cmd_enter(int argc, char **argv);
/* Options that exclude each other, declared as pairs of getopt values:
 * cmd_exclusive(), called with each option parsed, refuses the second of a
 * pair with one line naming both (-XB_EUSAGE). */
struct cmd_excl {
	const struct option *options; /* getopt's table, for the names */
	const int (*pairs)[2];
	size_t n;
	uint64_t seen; /* bit 2i, 2i+1: the members of pair i */
};
#define CMD_EXCL_INIT(opts, excl) { opts, excl, ARRAY_SIZE(excl), 0 }
int cmd_exclusive(struct cmd_excl *x, int c);
/* Exit status for a negative error code. */
int cmd_exit_code(int r);
/* SIGINT/SIGTERM set xb_interrupted; a second one exits at once. */
void cmd_install_signal_handlers(void);

#endif
