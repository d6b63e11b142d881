/* userns: entering a user namespace as its root (see userns.h).  The id
 * maps must be written from outside the namespace, so a helper forked
 * before unshare() writes them (emu/idmap) once told the namespace exists. */
#include "userns.h"

#include "idmap.h"
#include "../core/base/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/wait.h>

/* An ordinary user needs the uidmap tools and both ranges: without the
 * range, packages' files owned by _apt, man and the like could not exist. */
static int check_tools(void)
{
	if (geteuid() == 0)
		return 0;
	if (access("/usr/bin/newuidmap", X_OK) < 0 || access("/usr/bin/newgidmap", X_OK) < 0) {
		xb_error("--mode=unshare needs newuidmap and newgidmap: install the uidmap package");
		return -ENOENT;
	}
	struct passwd *pw = getpwuid(geteuid());
	const char *name = pw ? pw->pw_name : "USER";
	static const char *const files[] = { "/etc/subuid", "/etc/subgid" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		unsigned long id = i ? getegid() : geteuid();
		if (!emu_idmap_subid_range(files[i], id, name)) {
			xb_error("--mode=unshare needs a subordinate range for %s in %s: add one "
			         "(usermod --add-sub%cids 100000-165535 %s)",
			         name, files[i], i ? 'g' : 'u', name);
			return -ENOENT;
		}
	}
	return 0;
}

static int unshare_failed(int e)
{
	if (e == EPERM || e == ENOSPC || e == EINVAL)
		xb_error("user namespaces are switched off here: set the sysctl "
		         "user.max_user_namespaces above 0 (and, where AppArmor restricts them, "
		         "kernel.apparmor_restrict_unprivileged_userns=0)");
	else
		xb_error("creating a user namespace: %s", strerror(e));
	return -e;
}

/* This process as /proc names it: where /proc belongs to an outer PID
 * namespace (bound in, as a sandbox whose /proc is masked gets it), its
 * number there, not getpid()'s. */
static pid_t proc_self_pid(void)
{
	char buf[32];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
	if (n <= 0)
		return getpid();
	buf[n] = '\0';
	long v = strtol(buf, NULL, 10);
	return v > 0 ? (pid_t)v : getpid();
}

int emu_userns_enter(int flags)
{
	int p[2], st, r;
	if (pipe2(p, O_CLOEXEC) < 0) {
		xb_error("creating a user namespace: pipe: %s", strerror(errno));
		return -errno;
	}
	pid_t me = proc_self_pid();
	fflush(NULL);
	pid_t h = fork();
	if (h == 0) {
		char c;
		bool gid5;
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 && emu_idmap_write(me, &gid5) == 0 ? 0 : 1);
	}
	close(p[0]);
	if (h < 0) {
		close(p[1]);
		xb_error("creating a user namespace: fork: %s", strerror(errno));
		return -errno;
	}
	r = unshare(CLONE_NEWUSER | flags) < 0 ? unshare_failed(errno) : 0;
	if (r == 0 && write(p[1], "x", 1) != 1)
		r = -EPIPE;
	close(p[1]);
	/* A wait that fails (valgrind's, at times) says nothing: becoming
	 * root below fails where the maps are not written. */
	st = 0;
	xb_waitpid(h, &st);
	if (r == 0 && (!WIFEXITED(st) || WEXITSTATUS(st))) {
		xb_error("creating a user namespace: writing its id maps failed");
		r = -XB_ECHILD;
	}
	if (r == 0 && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
		r = -errno;
		xb_error("becoming root in the user namespace: %s", strerror(-r));
	}
	if (r == 0)
		setgroups(0, NULL); /* refused where setgroups is denied: harmless */
	return r;
}

int emu_userns_become_root(void)
{
	int r = check_tools();
	return r < 0 ? r : emu_userns_enter(0);
}
