/* jail: a root of its own for an image's helper (see jail.h). */
#include "jail.h"

#include "../core/base/fileio.h"
#include "../core/base/inroot.h"
#include "../core/base/strbuf.h"
#include "fsfd.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* Bound read-only from the host, or the same symlink (merged /usr). */
static const char *const host_dirs[] = { "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32" };

static int add_host_dirs(int t)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(host_dirs); i++) {
		cleanup_free char *host = xasprintf("/%s", host_dirs[i]);
		cleanup_strbuf struct strbuf to = STRBUF_INIT;
		struct stat st;
		if (lstat(host, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode) && (r = xb_readlink_at(AT_FDCWD, host, &to)) == 0)
			r = symlinkat(to.buf, t, host_dirs[i]) < 0 ? -errno : 0;
		else if (S_ISDIR(st.st_mode))
			r = mkdirat(t, host_dirs[i], 0755) < 0
			            ? -errno
			            : emu_fsfd_bind_ro(AT_FDCWD, host, t, host_dirs[i]);
	}
	/* the loader's cache, where the host has one */
	if (r == 0 && access("/etc/ld.so.cache", R_OK) == 0) {
		r = mkdirat(t, "etc", 0755) < 0 ? -errno
		                                : xb_write_file_at(t, "etc/ld.so.cache", "", 0, 0644);
		r = r < 0 ? r : emu_fsfd_bind_ro(AT_FDCWD, "/etc/ld.so.cache", t, "etc/ld.so.cache");
	}
	return r;
}

/* dest's own mount, not what is mounted below it (the jail itself). */
static int add_dest(int t, int dest)
{
	cleanup_fd int c = open_tree(dest, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (c < 0 || mkdirat(t, "dest", 0755) < 0)
		return -errno;
	cleanup_fd int at = openat(t, "dest", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return at < 0 ? -errno : emu_fsfd_attach(c, at);
}

int emu_jail_make(int parentfd, int image, int dest)
{
	static const char *const opts[] = { "mode=0755" };
	cleanup_fd int t = -1;
	if (mkdirat(parentfd, ".xboot-helper", 0755) < 0 && errno != EEXIST)
		return -errno;
	cleanup_fd int at = openat(parentfd, ".xboot-helper", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int r = at < 0 ? -errno : (t = emu_fsfd_new("tmpfs", opts, ARRAY_SIZE(opts), 0)) < 0 ? t : 0;
	if (r == 0)
		r = emu_fsfd_attach(t, at);
	if (r == 0)
		r = add_host_dirs(t);
	if (r == 0)
		r = xb_write_file_at(t, "image", "", 0, 0644);
	if (r == 0)
		r = emu_fsfd_bind_ro(image, "", t, "image");
	if (r == 0 && dest >= 0)
		r = add_dest(t, dest);
	if (r < 0) {
		int j = steal_fd(&t);
		emu_jail_drop(&j);
		inroot_rm_rf(parentfd, ".xboot-helper");
		return r;
	}
	return steal_fd(&t);
}

int emu_jail_enter(int jail)
{
	/* the working directory moves with the copy: pivot_root(".", ".") */
	if (fchdir(jail) < 0 || unshare(CLONE_NEWNS) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return -errno;
	return 0;
}

void emu_jail_drop(int *jail)
{
	if (*jail >= 0) {
		cleanup_free char *at = xasprintf("/proc/self/fd/%d", *jail);
		umount2(at, MNT_DETACH);
		close(*jail);
		*jail = -1;
	}
}

char *emu_jail_which(const char *prog)
{
	const char *path = getenv("PATH");
	cleanup_free char *dirs = xstrdup(path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *p = xasprintf("%s/%s", d, prog);
		if (*d == '/' && access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

void emu_jail_exec(const char *path, char *const *argv)
{
	char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	execve(path, argv, env);
	_exit(127);
}
