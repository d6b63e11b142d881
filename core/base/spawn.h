/* spawn: the one way xboot runs another program.  Everything is prepared
 * before fork(); the child only dup2()s, optionally chroots, and execs.  An
 * exec failure comes back over a close-on-exec pipe and is reported here. */
#ifndef XB_SPAWN_H
#define XB_SPAWN_H

#include "util.h"

struct spawn_opts {
	char *const *envp;     /* NULL: inherit the environment */
	int root_fd;           /* >= 0: fchdir() to it and chroot(".") first */
	const char *cwd;       /* chdir() after the chroot; NULL: "/" if chrooted */
	int in_fd, out_fd, err_fd; /* -1: inherit; in_fd -2: /dev/null */
	struct strbuf *capture; /* non-NULL: child's stdout appended here */
	bool quiet_exec_error;  /* don't report a failed exec (caller will) */
	bool die_with_parent;   /* SIGKILLed when this process ends, however it ends */
};
#define SPAWN_OPTS_INIT { NULL, -1, NULL, -1, -1, -1, NULL, false, false }

/* Runs argv[0] (searched in PATH unless it contains a '/') and waits.
 * Returns 0 when it exits 0; -XB_ECHILD otherwise, with *status set as a
 * shell would (exit code, 126/127 for exec failures, 128+N for signal N);
 * status may be NULL.  Reports a failure to start it (pipe, fork, exec),
 * not a non-zero exit. */
int xb_spawn(char *const *argv, const struct spawn_opts *o, int *status);

/* Starts argv as xb_spawn() does, without waiting: returns 0 with *pid
 * running, for the caller to reap (o->capture must be NULL); -XB_ECHILD
 * with *status 126 or 127 when the exec failed (reported, reaped); another
 * negative code when it could not fork (reported). */
int xb_spawn_start(char *const *argv, const struct spawn_opts *o, pid_t *pid, int *status);

/* waitpid(pid, wstatus, 0), again after a signal: 0 or -errno. */
int xb_waitpid(pid_t pid, int *wstatus);

/* Converts a waitpid() status into a shell-style exit code. */
int xb_wait_code(int wstatus);

#endif
