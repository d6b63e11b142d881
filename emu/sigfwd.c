/* sigfwd: signals noted and passed on while a namespace runs (see sigfwd.h). */
#include "sigfwd.h"

#include "../core/base/spawn.h"
#include "../core/base/util.h"

#include <errno.h>
#include <sys/wait.h>

static volatile sig_atomic_t caught;
static void on_signal(int sig) { caught = sig; }
static const int fwd_signals[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
_Static_assert(ARRAY_SIZE(fwd_signals) == ARRAY_SIZE(((struct emu_sigfwd *)0)->old),
               "one saved disposition per signal");

void emu_sigfwd_catch(struct emu_sigfwd *s)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	caught = 0;
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaction(fwd_signals[i], &sa, &s->old[i]);
}

void emu_sigfwd_restore(const struct emu_sigfwd *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaction(fwd_signals[i], &s->old[i], NULL);
	if (caught)
		raise(caught);
}

/* Killing the child takes its PID namespace's init (PDEATHSIG) and so
 * every process in it down. */
void emu_sigfwd_forward(pid_t pid, bool kill_all)
{
	if (caught && kill_all)
		kill(pid, SIGKILL);
	else if (caught == SIGTERM || caught == SIGHUP)
		kill(pid, caught);
}

int emu_sigfwd_wait(pid_t pid, bool kill_all)
{
	int ws;
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR)
			return 255;
		emu_sigfwd_forward(pid, kill_all);
	}
	return xb_wait_code(ws);
}
