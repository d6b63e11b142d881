/* overlay: tmpfs overlays and unpacked images for a session (see overlay.h). */
#include "overlay.h"

#include "../core/base/fileio.h"
#include "../core/base/inroot.h"
#include "../core/base/spawn.h"
#include "caps.h"
#include "fsfd.h"
#include "jail.h"
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

/* A tmpfs on *rootfd's directory; *rootfd is then the tmpfs's. */
static int cover_with_tmpfs(const char *root, int *rootfd)
{
	static const char *const opts[] = { "mode=0755" };
	int t = emu_fsfd_new("tmpfs", opts, ARRAY_SIZE(opts), 0);
	int r = t < 0 ? t : emu_fsfd_attach(t, *rootfd);
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
		int o = emu_fsfd_new("overlay", opts, n, 0);
		if (o >= 0 && (r = emu_fsfd_attach(o, *rootfd)) == 0) {
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
		int r = c < 0 ? -errno : emu_fsfd_attach(c, d);
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

void emu_overlay_fuse_prepare(const char *image, int image_fd, enum emu_image_kind kind,
                              struct emu_fuse_prep *p)
{
	const char *drv = fuse_driver(kind);
	struct stat a, b;
	if (!drv)
		return;
	/* The helpers get the image through a read-only mount of its own, so
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
		xb_closep(&p->image);
		p->image = -1;
	} else if (!(p->driver = emu_jail_which(drv))) {
		p->err = -ENOPKG;
	} else if ((p->dev = open("/dev/fuse", O_RDWR | O_CLOEXEC)) < 0) {
		p->err = -errno;
		p->what = "/dev/fuse";
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
	    (xb_verbosity < 2 && dup2(devnull, 2) < 0) || dup2(c, 3) < 0 || emu_jail_enter(jail) < 0 ||
	    close_range(4, ~0u, 0) < 0 || emu_caps_bound(0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || emu_seccomp_load() < 0)
		_exit(126);
	emu_jail_exec(path, argv);
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
	if (xb_waitpid(pid, &ws) < 0 && r == 0)
		r = -ECHILD;
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
                            int image, int lowerfd)
{
	cleanup_free char *fdopt = xasprintf("fd=%d", p->dev);
	/* the kernel checks modes (default_permissions), as it would on disk */
	const char *const opts[] = { "source=xboot-image", fdopt, "rootmode=40000", "user_id=0",
		                     "group_id=0", "allow_other", "default_permissions" };
	cleanup_fd int mnt = emu_fsfd_new("fuse", opts, ARRAY_SIZE(opts), MOUNT_ATTR_RDONLY);
	cleanup_fd int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	cleanup_fd int jail = -1;
	int r = mnt < 0 ? mnt : devnull < 0 ? -errno : 0;
	if (r == 0 && (jail = emu_jail_make(rootfd, image, -1)) < 0)
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
		r = emu_fsfd_attach(mnt, lowerfd);
	if (r < 0 && pid > 0) {
		int ws;
		kill(pid, SIGKILL);
		xb_waitpid(pid, &ws);
	}
	/* Once the driver has answered (its copy made) or is gone: this
	 * namespace keeps none of the jail. */
	emu_jail_drop(&jail);
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

/* p->image attached on rootfd's .xboot-image, where the helpers' jails
 * bind it from: its fd, or -1 (the helpers then run as before, with the
 * host in view). */
static int attach_image(int rootfd, struct emu_fuse_prep *p)
{
	if (p->image < 0 || xb_write_file_at(rootfd, ".xboot-image", "", 0, 0600) < 0)
		return -1;
	int at = openat(rootfd, ".xboot-image", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	int r = at < 0 ? -errno : emu_fsfd_attach(p->image, at);
	if (at >= 0)
		close(at);
	xb_closep(&p->image);
	p->image = -1;
	return r < 0 ? -1 : openat(rootfd, ".xboot-image", O_PATH | O_NOFOLLOW | O_CLOEXEC);
}

static void detach_image(int rootfd, int *image)
{
	cleanup_free char *at = xasprintf("/proc/self/fd/%d/.xboot-image", rootfd);
	if (*image >= 0)
		umount2(at, MNT_DETACH | UMOUNT_NOFOLLOW);
	xb_closep(image);
	*image = -1;
	unlinkat(rootfd, ".xboot-image", 0);
}

int emu_overlay_image(const char *image, int image_fd, enum emu_image_kind kind,
                      struct emu_fuse_prep *p, const char *root, int *rootfd)
{
	int r = cover_with_tmpfs(root, rootfd);
	if (r < 0)
		return r;
	int img = attach_image(*rootfd, p);
	cleanup_fd int lower = -1, top = -1;
	if (p->dev < 0) {
		say_unpacking(image, kind, p->err, p->what);
		goto unpack;
	}
	r = mkdirat(*rootfd, ".xboot-lower", 0755) < 0 ? -errno : 0;
	if (r == 0 && (lower = openat(*rootfd, ".xboot-lower", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0)
		r = img < 0 ? -ENOENT : fuse_mount_image(kind, p, *rootfd, img, lower);
	/* the mounted root, not the directory under it */
	if (r == 0 && (top = openat(*rootfd, ".xboot-lower", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0 && (r = overlay_on_tmpfs(rootfd, top)) == 0) {
		xb_debug("entering %s: mounted read-only through %s", image, fuse_driver(kind));
		close(img);
		return 0;
	}
	emu_overlay_fuse_release(p);
	undo_fuse(*rootfd);
	say_unpacking(image, kind, r, NULL);
unpack:
	r = emu_image_unpack(image, image_fd, kind, img, *rootfd);
	detach_image(*rootfd, &img);
	return r;
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
