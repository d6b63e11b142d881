/* dispatch: the table of subcommands; "xboot [OPTIONS] SUITE TARGET" is the
 * default (bootstrap) command. */
#include "cmd.h"

#include <signal.h>

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "enter", cmd_enter },
	{ "boot", cmd_boot },
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
	/* Each failure is reported where it is understood; one that was not
	 * still gets its line rather than a bare exit status. */
	if (xb_errors_shown() == 0)
		xb_error("failed: %s (nothing said why: a bug worth reporting)", xb_strerror(r));
	return 1;
}

int cmd_number(const char *opt, const char *s, long max, long *v)
{
	char *end;
	*v = strtol(s, &end, 10);
	if (!*s || *end || *v < 1 || *v > max) {
		xb_error("--%s=%s: expected a number from 1 to %ld", opt, s, max);
		return -XB_EUSAGE;
	}
	return 0;
}

int cmd_one_of(const char *opt, const char *s, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, words[i]))
			return (int)i;
	cleanup_strbuf struct strbuf list = STRBUF_INIT;
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&list, "%s%s", i ? (i + 1 == n ? " or " : ", ") : "", words[i]);
	xb_error("--%s=%s: expected %s", opt, s, list.buf);
	return -XB_EUSAGE;
}

bool cmd_verbosity(int c)
{
	switch (c) {
	case 'q': case 's': xb_verbosity = 0; return true;
	case 'v': xb_verbosity = 2; return true;
	case 'd': xb_verbosity = 3; return true;
	default: return false;
	}
}

static const char *option_name(const struct option *options, int c)
{
	for (size_t i = 0; options[i].name; i++)
		if (options[i].val == c)
			return options[i].name;
	return "?";
}

int cmd_exclusive(struct cmd_excl *x, int c)
{
	for (size_t i = 0; i < x->n && i < 32; i++) {
		for (int k = 0; k < 2; k++) {
			if (x->pairs[i][k] != c)
				continue;
			if (x->seen & (1ull << (2 * i + !k))) {
				xb_error("--%s and --%s cannot be used together",
				         option_name(x->options, x->pairs[i][!k]), option_name(x->options, c));
				return -XB_EUSAGE;
			}
			x->seen |= 1ull << (2 * i + k);
		}
	}
	return 0;
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
