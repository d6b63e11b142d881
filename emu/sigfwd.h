/* sigfwd: what xboot does with the signals it gets while a namespace runs
 * (Ctrl-C belongs to the namespace's processes, SIGTERM and SIGHUP take the
 * namespace down), and the waiting that passes them on. */
#ifndef XB_EMU_SIGFWD_H
#define XB_EMU_SIGFWD_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct emu_sigfwd {
	struct sigaction old[4]; /* the caller's dispositions, put back by restore */
};

/* From now on SIGINT, SIGQUIT, SIGTERM and SIGHUP are only noted. */
void emu_sigfwd_catch(struct emu_sigfwd *s);
/* The caller's dispositions back; a signal noted meanwhile is raised
 * again, so that the caller's own disposition sees it. */
void emu_sigfwd_restore(const struct emu_sigfwd *s);
/* A signal noted: pid gets SIGKILL if kill_all (a bootstrap stops at any),
 * else only SIGTERM and SIGHUP are passed on (an interactive session
 * leaves Ctrl-C to the terminal's foreground group). */
void emu_sigfwd_forward(pid_t pid, bool kill_all);
/* Waits for pid, forwarding what is noted meanwhile: its exit code as a
 * shell gives it, or 255 when it cannot be waited for. */
int emu_sigfwd_wait(pid_t pid, bool kill_all);

#endif
