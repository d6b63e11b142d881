/* cmd: the subcommands, dispatched from a table (dispatch.c).  Each parses
 * its options into a struct and calls into core/pipeline, which decides
 * and runs; only code here turns error codes into exit statuses. */
#ifndef XB_CMD_H
#define XB_CMD_H

#include "../core/base/util.h"

#include <getopt.h>

int cmd_dispatch(int argc, char **argv);
int cmd_bootstrap(int argc, char **argv);
int cmd_enter(int argc, char **argv);
int cmd_boot(int argc, char **argv);
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
/* A subcommand lists its long options once, as OPTIONS(OPT, FLAG) of
 * OPT("name", ID) (with an argument) and FLAG("name", ID) (without), and
 * other names of some of them as ALIASES(OPT, FLAG) with the same IDs;
 * CMD_OPTIONS_ALIASED(OPTIONS, ALIASES) (or CMD_OPTIONS(OPTIONS)) makes
 * from these an enum of OPT_ID values above 255 and getopt's table
 * `options`, which ends with the options every subcommand has: -q/--quiet
 * and -s/--silent, -v/--verbose, -d/--debug, -h/--help.  cmd_verbosity()
 * handles all but -h (true when c was one of them). */
#define CMD_OPT_ENUM(name, id) OPT_##id,
#define CMD_OPT_ARG(name, id) { name, required_argument, NULL, OPT_##id },
#define CMD_OPT_FLAG(name, id) { name, no_argument, NULL, OPT_##id },
#define CMD_SHORT_OPTIONS "qsvdh"
#define CMD_COMMON_OPTIONS                                                        \
	{ "quiet", no_argument, NULL, 'q' }, { "silent", no_argument, NULL, 's' },   \
	{ "verbose", no_argument, NULL, 'v' }, { "debug", no_argument, NULL, 'd' },  \
	{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
#define CMD_NO_ALIASES(opt, flag)
#define CMD_OPTIONS_ALIASED(list, aliases)                                          \
	enum { OPT_BASE = 255, list(CMD_OPT_ENUM, CMD_OPT_ENUM) };                    \
	static const struct option options[] = { list(CMD_OPT_ARG, CMD_OPT_FLAG)       \
		aliases(CMD_OPT_ARG, CMD_OPT_FLAG) CMD_COMMON_OPTIONS }
#define CMD_OPTIONS(list) CMD_OPTIONS_ALIASED(list, CMD_NO_ALIASES)
bool cmd_verbosity(int c);
/* --opt=s as a number from 1 to max into *v; reports and returns
 * -XB_EUSAGE otherwise. */
int cmd_number(const char *opt, const char *s, long max, long *v);
/* The index of s among words[n], or the usage error "--opt=s: expected
 * a, b or c" (-XB_EUSAGE). */
int cmd_one_of(const char *opt, const char *s, const char *const *words, size_t n);
/* Exit status for a negative error code. */
int cmd_exit_code(int r);
/* SIGINT/SIGTERM set xb_interrupted; a second one exits at once. */
void cmd_install_signal_handlers(void);

#endif
