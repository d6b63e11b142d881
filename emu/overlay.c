/* overlay: tmpfs overlays and unpacked images for a session (see overlay.h). */
#include "overlay.h"

#include "../core/base/fileio.h"
#include "../core/base/inroot.h"
#include "../core/base/spawn.h"
#include "caps.h"
#include "emulator.h"
#include "image.h"
#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <dirent.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* ---- mounts ---- */

/* Everything here goes by file descriptor: the root may lie below
 * directories that root of the namespace may not pass (only the host
 * user's), and a path could be swapped meanwhile. */

/* A new file system of type with the options ("key=value", or "key" for a
 * flag), as a detached mount, nosuid, nodev and with attrs: its fd, or
 * -errno. */
static int new_fs_attr(const char *type, const char *const *opts, size_t n, unsigned attrs)
{
	cleanup_fd int fs = fsopen(type, FSOPEN_CLOEXEC);
	int r = fs < 0 ? -errno : 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		cleanup_free char *key = xstrdup(opts[i]);
		char *eq = strchr(key, '=');
		if (eq)
			*eq++ = 0;
		if (fsconfig(fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, eq, 0) < 0)
			r = -errno;
	}
	if (r == 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		r = -errno;
	int mnt = r < 0 ? r : fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | attrs);
	return mnt < 0 && r == 0 ? -errno : mnt;
}

static int new_fs(const char *type, const char *const *opts, size_t n)
{
	return new_fs_attr(type, opts, n, 0);
}

/* mnt mounted on the directory onto is; 0 or -errno. */
static int attach(int mnt, int onto)
{
	return move_mount(mnt, "", onto, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0 ? -errno
	                                                                                            : 0;
}

/* A tmpfs on *rootfd's directory; *rootfd is then the tmpfs's. */
static int cover_with_tmpfs(const char *root, int *rootfd)
{
	static const char *const opts[] = { "mode=0755" };
	int t = new_fs("tmpfs", opts, ARRAY_SIZE(opts));
	int r = t < 0 ? t : attach(t, *rootfd);
	if (r < 0) {
		xb_error("mounting a tmpfs on %s: %s", root, strerror(-r));
		if (t >= 0)
			close(t);
		return r;
	}
	close(*rootfd);
	*rootfd = t;
	return 0;
}

/* An overlay of lowerfd's tree under a tmpfs upper layer, mounted on
 * *rootfd (a tmpfs, which holds the upper and work directories and which
 * it covers); *rootfd reopened on it.  In a user namespace trusted.*
 * xattrs are out of reach: userxattr where the kernel takes it.  0 or
 * -errno, not reported. */
static int overlay_on_tmpfs(int *rootfd, int lowerfd)
{
	int r = 0;
	if (mkdirat(*rootfd, ".xboot-upper", 0755) < 0 || mkdirat(*rootfd, ".xboot-work", 0700) < 0)
		r = -errno;
	cleanup_free char *lower = xasprintf("lowerdir=/proc/self/fd/%d", lowerfd);
	cleanup_free char *upper = xasprintf("upperdir=/proc/self/fd/%d/.xboot-upper", *rootfd);
	cleanup_free char *work = xasprintf("workdir=/proc/self/fd/%d/.xboot-work", *rootfd);
	const char *const opts[] = { lower, upper, work, "userxattr" };
	for (size_t n = ARRAY_SIZE(opts); r == 0 && n >= 3; n--) {
		int o = new_fs("overlay", opts, n);
		if (o >= 0 && (r = attach(o, *rootfd)) == 0) {
			close(*rootfd);
			*rootfd = o;
			return 0;
		}
		if (o >= 0)
			close(o);
		if (n == 3)
			r = o < 0 ? o : r;
	}
	return r;
}

/* The tree stays reachable through lowerfd once the tmpfs covers it. */
int emu_overlay_ephemeral(const char *root, int *rootfd)
{
	cleanup_fd int lowerfd = dup(*rootfd);
	int r = lowerfd < 0 ? -errno : cover_with_tmpfs(root, rootfd);
	if (r == 0 && (r = overlay_on_tmpfs(rootfd, lowerfd)) < 0)
		xb_error("mounting a tmpfs overlay on %s: %s", root, strerror(-r));
	return r;
}

int emu_overlay_volatile(const char *root, int rootfd)
{
	static const char *const rw[] = { "etc", "var" };
	for (size_t i = 0; i < ARRAY_SIZE(rw); i++) {
		/* Resolved inside the tree: a planted etc -> / binds nothing of the host's. */
		cleanup_fd int d = inroot_open(rootfd, rw[i], O_PATH | O_DIRECTORY, 0);
		if (d < 0)
			continue;
		cleanup_fd int c = open_tree(d, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		int r = c < 0 ? -errno : attach(c, d);
		if (r < 0) {
			xb_error("--volatile: binding %s/%s: %s", root, rw[i], strerror(-r));
			return r;
		}
	}
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
	if (mount_setattr(rootfd, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0) {
		int r = -errno;
		xb_error("--volatile: making %s read-only: %s", root, strerror(-r));
		return r;
	}
	return 0;
}

/* ---- images through FUSE ---- */

/* A squashfs or ext2/3/4 image is mounted, not unpacked, where its FUSE
 * driver is installed and /dev/fuse may be opened: nothing is copied, so
 * a large firmware image costs neither time nor memory.  The kernel's own
 * squashfs and ext4 are never given the image: what a hostile one holds
 * is parsed by a program of the namespace's, not by the host's kernel.
 * xboot mounts the FUSE file system itself and hands the driver the
 * connection as /dev/fd/N (libfuse 3), so the driver needs no right to
 * mount anything. */
static const char *fuse_driver(enum emu_image_kind kind)
{
	return kind == EMU_IMAGE_SQUASHFS ? "squashfuse" : kind == EMU_IMAGE_EXT ? "fuse2fs" : NULL;
}

/* prog's path in $PATH (malloc'd), or NULL. */
static char *in_path(const char *prog)
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

void emu_overlay_fuse_prepare(const char *image, int image_fd, enum emu_image_kind kind,
                              struct emu_fuse_prep *p)
{
	const char *drv = fuse_driver(kind);
	struct stat a, b;
	if (!drv)
		return;
	if (!(p->driver = in_path(drv))) {
		p->err = -ENOPKG;
		return;
	}
	if ((p->dev = open("/dev/fuse", O_RDWR | O_CLOEXEC)) < 0) {
		p->err = -errno;
		p->what = "/dev/fuse";
		return;
	}
	/* The driver gets the image through a read-only mount of its own, so
	 * that even one that opens it for writing (fuse2fs 1.47.3 does, with
	 * -o ro) cannot change it.  The mount is cloned from the namespace's
	 * view of the path, checked to be the file xboot opened. */
	p->image = open_tree(AT_FDCWD, image, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	if (p->image < 0 || mount_setattr(p->image, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0 ||
	    fstat(p->image, &a) < 0 || fstat(image_fd, &b) < 0) {
		p->err = -errno;
	} else if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		p->err = -ESTALE;
	}
	if (p->err < 0) {
		p->what = "a read-only mount of it";
		emu_overlay_fuse_release(p);
	}
}

void emu_overlay_fuse_release(struct emu_fuse_prep *p)
{
	free(p->driver);
	p->driver = NULL;
	xb_closep(&p->dev);
	xb_closep(&p->image);
	p->dev = p->image = -1;
}

/* ---- the driver's own root ---- */

/* What a program of the host's needs to run, bound read-only from the
 * host (or, for a symlink of merged /usr, the same symlink). */
static const char *const jail_dirs[] = { "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32" };

/* A clone of the host's path (a directory, recursively, or a file),
 * read-only, attached on the entry name of dirfd. */
static int bind_ro(const char *host, int dirfd, const char *name)
{
	cleanup_fd int c = open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	if (c < 0 || mount_setattr(c, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof(ro)) < 0)
		return -errno;
	cleanup_fd int at = openat(dirfd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	return at < 0 ? -errno : attach(c, at);
}

/* The driver's root, made by the namespace's init while it still sees the
 * host: a tmpfs at rootfd's .xboot-helper (under the overlay, out of the
 * session's sight) with the host's programs read-only and the image's
 * read-only mount at /image; nothing else of the host's, so that a driver
 * the image subverts reaches nothing a session could not.  Its fd, or
 * -errno. */
static int make_jail(int rootfd, int *image)
{
	static const char *const opts[] = { "mode=0755" };
	cleanup_fd int t = -1;
	if (mkdirat(rootfd, ".xboot-helper", 0755) < 0)
		return -errno;
	cleanup_fd int at = openat(rootfd, ".xboot-helper", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = at < 0 ? -errno : (t = new_fs("tmpfs", opts, ARRAY_SIZE(opts))) < 0 ? t : attach(t, at);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(jail_dirs); i++) {
		cleanup_free char *host = xasprintf("/%s", jail_dirs[i]);
		cleanup_strbuf struct strbuf to = STRBUF_INIT;
		struct stat st;
		if (lstat(host, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode) && (r = xb_readlink_at(AT_FDCWD, host, &to)) == 0)
			r = symlinkat(to.buf, t, jail_dirs[i]) < 0 ? -errno : 0;
		else if (S_ISDIR(st.st_mode))
			r = mkdirat(t, jail_dirs[i], 0755) < 0 ? -errno : bind_ro(host, t, jail_dirs[i]);
	}
	/* the loader's cache, where the host has one */
	if (r == 0 && access("/etc/ld.so.cache", R_OK) == 0) {
		r = mkdirat(t, "etc", 0755) < 0 ? -errno : xb_write_file_at(t, "etc/ld.so.cache", "", 0, 0644);
		r = r < 0 ? r : bind_ro("/etc/ld.so.cache", t, "etc/ld.so.cache");
	}
	if (r == 0)
		r = xb_write_file_at(t, "image", "", 0, 0644);
	cleanup_fd int img = r < 0 ? -1 : openat(t, "image", O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (r == 0)
		r = img < 0 ? -errno : attach(*image, img);
	if (r == 0) {
		xb_closep(image);
		*image = -1;
	}
	return r < 0 ? r : steal_fd(&t);
}

/* The driver's process: the connection as fd 3, the jail as its root
 * (pivot_root in a mount namespace of its own), no capability and no way
 * to gain one, the session's seccomp filter, and no environment of
 * xboot's.  path is where xboot found it, which the jail holds where it
 * is below /usr or /bin.  What it parses may be hostile, and the session could
 * look into it (same uid): it holds nothing the session does not. */
static void exec_driver(const char *path, char **argv, int conn, int jail, int devnull)
{
	int c = fcntl(conn, F_DUPFD, 10);
	if (c < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
	    (xb_verbosity < 2 && dup2(devnull, 2) < 0) || dup2(c, 3) < 0 || fchdir(jail) < 0 ||
	    /* the working directory moves with the copy: pivot_root(".", ".") */
	    unshare(CLONE_NEWNS) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0 || close_range(4, ~0u, 0) < 0 ||
	    emu_caps_bound(0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    emu_seccomp_load() < 0)
		_exit(126);
	char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	execve(path, argv, env);
	_exit(127);
}

/* Whether the driver answers: a statfs of the new file system, from a
 * child given 30 s (the driver reads the image's tables first, and a
 * request waits for its answer killably only).  0 or -errno. */
static int answers(int mnt)
{
	pid_t pid = fork();
	if (pid == 0) {
		struct statfs sf;
		_exit(fstatfs(mnt, &sf) < 0 ? (errno & 0x7f) : 0);
	}
	if (pid < 0)
		return -errno;
	cleanup_fd int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd pl = { .fd = pfd, .events = POLLIN };
	int n, ws = 0, r = 0;
	while ((n = pfd < 0 ? -1 : poll(&pl, 1, 30000)) < 0 && errno == EINTR)
		;
	if (n != 1) {
		r = -ETIMEDOUT;
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (r == 0 && (!WIFEXITED(ws) || WEXITSTATUS(ws)))
		r = WIFEXITED(ws) ? -WEXITSTATUS(ws) : -ECONNABORTED;
	return r;
}

/* The image mounted read-only on lowerfd's directory (in rootfd's tmpfs),
 * its driver running in the foreground as a child of the namespace's
 * init, which lives as long as the session and whose end kills it.  The
 * connection is the driver's alone once it runs: one that went away
 * leaves a file system that fails at once (ENOTCONN).  0, or -errno or
 * -XB_ECHILD with nothing mounted and no driver left, for the caller to
 * unpack instead. */
static int fuse_mount_image(enum emu_image_kind kind, struct emu_fuse_prep *p, int rootfd,
                            int lowerfd)
{
	cleanup_free char *fdopt = xasprintf("fd=%d", p->dev);
	/* the kernel checks modes (default_permissions), as it would on disk */
	const char *const opts[] = { "source=xboot-image", fdopt, "rootmode=40000", "user_id=0",
		                     "group_id=0", "allow_other", "default_permissions" };
	cleanup_fd int mnt = new_fs_attr("fuse", opts, ARRAY_SIZE(opts), MOUNT_ATTR_RDONLY);
	cleanup_fd int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	cleanup_fd int jail = -1;
	int r = mnt < 0 ? mnt : devnull < 0 ? -errno : 0;
	if (r == 0 && (jail = make_jail(rootfd, &p->image)) < 0)
		r = jail;
	char *sq[] = { "squashfuse", "-f", "/image", "/dev/fd/3", NULL };
	char *e2[] = { "fuse2fs", "/image", "/dev/fd/3", "-f", "-o", "ro,fakeroot", NULL };
	pid_t pid = r < 0 ? -1 : fork();
	if (pid == 0)
		exec_driver(p->driver, kind == EMU_IMAGE_EXT ? e2 : sq, p->dev, jail, devnull);
	if (r == 0 && pid < 0)
		r = -errno;
	emu_overlay_fuse_release(p);
	if (r == 0 && (r = answers(mnt)) == 0)
		r = attach(mnt, lowerfd);
	if (r < 0 && pid > 0) {
		int ws;
		kill(pid, SIGKILL);
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
	}
	/* Once the driver has answered (its copy made) or is gone: this
	 * namespace keeps none of the jail. */
	if (jail >= 0) {
		cleanup_free char *at = xasprintf("/proc/self/fd/%d", jail);
		umount2(at, MNT_DETACH);
	}
	return r;
}

/* ---- images ---- */

static void say_unpacking(const char *image, enum emu_image_kind kind, int err, const char *what)
{
	const char *drv = fuse_driver(kind);
	if (!drv)
		return;
	if (what)
		xb_debug("entering %s: unpacking it into a tmpfs (%s: %s)", image, what, strerror(-err));
	else if (err == -ENOPKG)
		xb_debug("entering %s: unpacking it into a tmpfs (%s is not installed)", image, drv);
	else if (err == -ENOSYS)
		xb_debug("entering %s: unpacking it into a tmpfs (no user namespace)", image);
	else
		xb_debug("entering %s: unpacking it into a tmpfs (%s could not mount it: %s)", image,
		         drv, err == -XB_ECHILD ? "it failed" : strerror(-err));
}

/* What the FUSE attempt left in the tmpfs goes before unpacking there:
 * the mount (by its path in the tmpfs, whether or not it was reopened)
 * and the directories. */
static void undo_fuse(int rootfd)
{
	cleanup_free char *at = xasprintf("/proc/self/fd/%d/.xboot-lower", rootfd);
	umount2(at, MNT_DETACH);
	static const char *const dirs[] = { ".xboot-lower", ".xboot-upper", ".xboot-work/work",
		                            ".xboot-work", ".xboot-helper" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		unlinkat(rootfd, dirs[i], AT_REMOVEDIR);
}

int emu_overlay_image(const char *image, int image_fd, enum emu_image_kind kind,
                      struct emu_fuse_prep *p, const char *root, int *rootfd)
{
	int r = cover_with_tmpfs(root, rootfd);
	if (r < 0)
		return r;
	if (p->dev < 0) {
		say_unpacking(image, kind, p->err, p->what);
		return emu_image_unpack(image, image_fd, kind, *rootfd);
	}
	cleanup_fd int lower = -1, top = -1;
	r = mkdirat(*rootfd, ".xboot-lower", 0755) < 0 ? -errno : 0;
	if (r == 0 && (lower = openat(*rootfd, ".xboot-lower", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0)
		r = fuse_mount_image(kind, p, *rootfd, lower);
	/* the mounted root, not the directory under it */
	if (r == 0 && (top = openat(*rootfd, ".xboot-lower", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0 && (r = overlay_on_tmpfs(rootfd, top)) == 0) {
		xb_debug("entering %s: mounted read-only through %s", image, fuse_driver(kind));
		return 0;
	}
	emu_overlay_fuse_release(p);
	undo_fuse(*rootfd);
	say_unpacking(image, kind, r, NULL);
	return emu_image_unpack(image, image_fd, kind, *rootfd);
}

int emu_overlay_image_arch(int rootfd, const struct emu_binfmt *bf, size_t n)
{
	cleanup_free char *at = xasprintf("/proc/self/fd/%d", rootfd);
	cleanup_free char *emu = NULL;
	const struct emu_arch *a = NULL;
	int r = emu_arch_detect(at, &a);
	if (a)
		xb_debug("entering the image: its programs are %s%s", a->deb,
		         emu_arch_is_native(a) ? ", the host's own" : "");
	if (r < 0 || !a || emu_arch_is_native(a))
		return r;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(bf[i].arch->qemu, a->qemu))
			return 0;
	return emu_emulator_find(a, &emu) < 0 ? -ENOENT : 0;
}
