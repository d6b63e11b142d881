/* dispatch: the table of subcommands; "xboot [OPTIONS] SUITE TARGET" is the
 * default (bootstrap) command. */
#include "cmd.h"

#include <signal.h>

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "enter", cmd_enter },
	{ "bootstrap", cmd_bootstrap },
};

int cmd_exit_code(int r)
{
	if (r >= 0)
		return r;
	if (r == -XB_EUSAGE)
		return 2;
	if (r == -XB_EINTR)
		return 130;
	return 1;
}

static void on_signal(int sig)
{
	if (xb_interrupted) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
	xb_interrupted = sig;
}

void cmd_install_signal_handlers(void)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int cmd_dispatch(int argc, char **argv)
{
	if (argc > 1)
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			if (!strcmp(argv[1], commands[i].name))
				return commands[i].fn(argc - 1, argv + 1);
	return cmd_bootstrap(argc, argv);
}
