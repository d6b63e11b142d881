/* spawn: fork + exec with an argv, errors back over a CLOEXEC pipe. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

int xb_wait_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

static void child_fail(int errfd, int stage)
{
	int e[2] = { errno, stage };
	if (write(errfd, e, sizeof(e)) < 0) { /* the parent sees status 127 */ }
	_exit(127);
}

static void child(char *const *argv, const struct spawn_opts *o, int errfd, int capfd,
                  pid_t parent)
{
	/* SIGKILL with the parent, even when the parent is SIGKILLed; a parent
	 * already gone before the prctl took effect is caught by the check */
	if (o->die_with_parent &&
	    (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent))
		child_fail(errfd, 1);
	if (o->in_fd == -2) {
		int n = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (n < 0 || dup2(n, 0) < 0)
			child_fail(errfd, 1);
	} else if (o->in_fd >= 0 && dup2(o->in_fd, 0) < 0) {
		child_fail(errfd, 1);
	}
	if (capfd >= 0 && dup2(capfd, 1) < 0)
		child_fail(errfd, 1);
	if (capfd < 0 && o->out_fd >= 0 && dup2(o->out_fd, 1) < 0)
		child_fail(errfd, 1);
	if (o->err_fd >= 0 && dup2(o->err_fd, 2) < 0)
		child_fail(errfd, 1);
	if (o->root_fd >= 0 && (fchdir(o->root_fd) < 0 || chroot(".") < 0))
		child_fail(errfd, 2);
	if (o->cwd ? chdir(o->cwd) < 0 : (o->root_fd >= 0 && chdir("/") < 0))
		child_fail(errfd, 3);
	if (o->envp)
		execvpe(argv[0], argv, o->envp);
	else
		execvp(argv[0], argv);
	child_fail(errfd, 4);
}

int xb_waitpid(pid_t pid, int *wstatus)
{
	while (waitpid(pid, wstatus, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

static int reap(pid_t pid)
{
	int ws;
	return xb_waitpid(pid, &ws) < 0 ? 255 : xb_wait_code(ws);
}

static int report_pipe(char *const *argv)
{
	int e = errno;
	xb_error("cannot run %s: pipe: %s", argv[0], strerror(e));
	return -e;
}

/* Forks and execs, with cap_w (or -1) as the child's stdout.  Returns 0
 * with *pid running; -XB_ECHILD when the exec failed (the child reaped,
 * *code 126 or 127); another negative code when fork failed. */
static int start(char *const *argv, const struct spawn_opts *o, int cap_w, pid_t *pid, int *code)
{
	int errpipe[2];
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return report_pipe(argv);
	fflush(NULL);
	pid_t parent = getpid();
	*pid = fork();
	if (*pid < 0) {
		int e = -errno;
		close(errpipe[0]);
		close(errpipe[1]);
		xb_error("cannot run %s: fork: %s", argv[0], strerror(-e));
		return e;
	}
	if (*pid == 0)
		child(argv, o, errpipe[1], cap_w, parent);
	close(errpipe[1]);
	/* Returns at the exec (close-on-exec) or with the child's error. */
	int e[2] = { 0, 0 };
	ssize_t n;
	do
		n = read(errpipe[0], e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(errpipe[0]);
	if (n != (ssize_t)sizeof(e))
		return 0;
	static const char *const what[] = { "", "redirect", "chroot", "chdir", "exec" };
	reap(*pid);
	*code = (e[1] == 4 && e[0] == ENOENT) ? 127 : 126;
	if (!o->quiet_exec_error)
		xb_error("cannot run %s: %s: %s", argv[0], what[e[1] & 3 ? e[1] : 4], strerror(e[0]));
	return -XB_ECHILD;
}

static const struct spawn_opts defaults = SPAWN_OPTS_INIT;

int xb_spawn_start(char *const *argv, const struct spawn_opts *o, pid_t *pid, int *status)
{
	int code = 0;
	int r = start(argv, o ? o : &defaults, -1, pid, &code);
	if (status)
		*status = code;
	return r;
}

int xb_spawn(char *const *argv, const struct spawn_opts *o, int *status)
{
	int cap[2] = { -1, -1 }, code = 0;
	pid_t pid;
	if (!o)
		o = &defaults;
	if (o->capture && pipe2(cap, O_CLOEXEC) < 0)
		return report_pipe(argv);
	int r = start(argv, o, cap[1], &pid, &code);
	if (cap[1] >= 0) {
		close(cap[1]);
		if (!r)
			xb_read_fd(cap[0], o->capture);
		close(cap[0]);
	}
	if (!r)
		code = reap(pid);
	else if (r != -XB_ECHILD)
		return r;
	if (status)
		*status = code;
	return code ? -XB_ECHILD : 0;
}
