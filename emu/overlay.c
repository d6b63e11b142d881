/* overlay: tmpfs overlays and unpacked images for a session (see overlay.h). */
#include "overlay.h"

#include "../core/base/fileio.h"
#include "../core/base/inroot.h"
#include "../core/base/spawn.h"
#include "emulator.h"
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statfs.h>

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
 * xattrs are out of reach: userxattr where the kernel takes it. */
static int overlay_on_tmpfs(const char *root, int *rootfd, int lowerfd)
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
	xb_error("mounting a tmpfs overlay on %s: %s", root, strerror(-r));
	return r;
}

/* The tree stays reachable through lowerfd once the tmpfs covers it. */
int emu_overlay_ephemeral(const char *root, int *rootfd)
{
	cleanup_fd int lowerfd = dup(*rootfd);
	int r = lowerfd < 0 ? -errno : cover_with_tmpfs(root, rootfd);
	return r < 0 ? r : overlay_on_tmpfs(root, rootfd, lowerfd);
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

static bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	cleanup_free char *dirs = xstrdup(path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		cleanup_free char *p = xasprintf("%s/%s", d, prog);
		if (access(p, X_OK) == 0)
			return true;
	}
	return false;
}

int emu_overlay_fuse_open(enum emu_image_kind kind)
{
	const char *drv = fuse_driver(kind);
	if (!drv || !in_path(drv))
		return -ENOENT;
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The image mounted read-only on lowerfd's directory, its driver running
 * (daemonised: it lives as long as the namespace's PID 1).  *fuse_fd is
 * the driver's alone afterwards (closed here): a driver that went away
 * leaves a connection that fails at once (ENOTCONN) rather than one that
 * waits for an answer forever.  0, or -errno or -XB_ECHILD with nothing
 * mounted, for the caller to unpack instead. */
static int fuse_mount_image(int image_fd, enum emu_image_kind kind, int *fuse_fd, int lowerfd)
{
	cleanup_free char *fdopt = xasprintf("fd=%d", *fuse_fd);
	/* the kernel checks modes (default_permissions), as it would on disk */
	const char *const opts[] = { "source=xboot-image", fdopt, "rootmode=40000", "user_id=0",
		                     "group_id=0", "allow_other", "default_permissions" };
	cleanup_fd int mnt = new_fs_attr("fuse", opts, ARRAY_SIZE(opts), MOUNT_ATTR_RDONLY);
	int conn = mnt < 0 ? -1 : dup(*fuse_fd); /* inherited: the driver's end */
	xb_closep(fuse_fd);
	*fuse_fd = -1;
	if (mnt < 0 || conn < 0)
		return mnt < 0 ? mnt : -errno;
	cleanup_free char *img = xasprintf("/proc/self/fd/%d", image_fd);
	cleanup_free char *dev = xasprintf("/dev/fd/%d", conn);
	char *sq[] = { "squashfuse", img, dev, NULL };
	char *e2[] = { "fuse2fs", img, dev, "-o", "ro,fakeroot", NULL };
	struct spawn_opts so = SPAWN_OPTS_INIT;
	cleanup_fd int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	so.in_fd = -2;
	so.out_fd = devnull;
	so.err_fd = xb_verbosity >= 2 ? -1 : devnull;
	so.quiet_exec_error = true;
	int status, r = xb_spawn(kind == EMU_IMAGE_EXT ? e2 : sq, &so, &status);
	close(conn);
	struct statfs sf;
	if (r == 0 && fstatfs(mnt, &sf) < 0)
		r = -errno;
	return r < 0 ? r : attach(mnt, lowerfd);
}

/* ---- images ---- */

int emu_overlay_image(const char *image, int image_fd, enum emu_image_kind kind, int *fuse_fd,
                      const char *root, int *rootfd)
{
	int r = cover_with_tmpfs(root, rootfd);
	if (r < 0)
		return r;
	if (*fuse_fd < 0) {
		if (fuse_driver(kind))
			xb_debug("entering %s: unpacking it into a tmpfs (%s%s)", image,
			         *fuse_fd == -ENOENT ? fuse_driver(kind) : "/dev/fuse: ",
			         *fuse_fd == -ENOENT ? " is not installed" : strerror(-*fuse_fd));
		return emu_image_unpack(image, image_fd, kind, *rootfd);
	}
	if (mkdirat(*rootfd, ".xboot-lower", 0755) < 0)
		return -errno;
	cleanup_fd int lower = openat(*rootfd, ".xboot-lower", O_PATH | O_DIRECTORY | O_CLOEXEC);
	r = lower < 0 ? -errno : fuse_mount_image(image_fd, kind, fuse_fd, lower);
	if (r == 0) {
		/* the mounted root, not the directory under it */
		cleanup_fd int top = openat(*rootfd, ".xboot-lower", O_PATH | O_DIRECTORY | O_CLOEXEC);
		xb_debug("entering %s: mounted read-only through %s", image, fuse_driver(kind));
		return top < 0 ? -errno : overlay_on_tmpfs(root, rootfd, top);
	}
	xb_debug("entering %s: %s could not mount it (%s): unpacking it into a tmpfs", image,
	         fuse_driver(kind), r == -XB_ECHILD ? "it failed" : strerror(-r));
	unlinkat(*rootfd, ".xboot-lower", AT_REMOVEDIR);
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
