/* mounts: mount points resolved inside the root, then the mounts on them.
 * Mounting goes through the O_PATH fd of the target ("/proc/self/fd/N" or
 * move_mount), never through a path the rootfs could redirect. */
#include "mounts.h"

#include "../core/base/inroot.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* mkdir with exactly mode (whatever the umask), set through an fd of the
 * new directory: a path could meanwhile have become a symlink out of the
 * root.  Returns that fd or -errno. */
static int make_dir(int dirfd, const char *name, mode_t mode)
{
	if (mkdirat(dirfd, name, mode) < 0)
		return -errno;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && fchmod(fd, mode) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd < 0 ? -errno : fd;
}

/* Opens ROOT/path as an O_PATH fd to mount on: its directory is resolved
 * inside the root (created when missing), the last component must not be
 * a symlink (-XB_EUNSAFE).  A missing last component is created as a
 * directory with mode dir_mode when it is non-zero.  Reports errors. */
static int open_mount_point(int rootfd, const char *root, const char *path, mode_t dir_mode,
                            int *fd)
{
	const char *rel = path + strspn(path, "/");
	cleanup_free char *last = NULL;
	cleanup_fd int pfd = inroot_parent(rootfd, rel, true, &last);
	if (pfd == -EINVAL) {
		xb_error("%s/%s: not a usable mount point", root, rel);
		return -XB_EUNSAFE;
	}
	if (pfd < 0) {
		xb_error("resolving %s/%s: %s", root, rel, strerror(-pfd));
		return pfd;
	}
	int t = openat(pfd, last, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (t < 0 && errno == ENOENT && dir_mode && (t = make_dir(pfd, last, dir_mode)) < 0)
		errno = -t;
	struct stat st;
	if (t < 0 || fstat(t, &st) < 0) {
		int r = -errno;
		xb_error("opening mount point %s/%s: %s", root, rel, strerror(-r));
		if (t >= 0)
			close(t);
		return r;
	}
	if (S_ISLNK(st.st_mode)) {
		close(t);
		xb_error("%s/%s is a symlink; refusing to mount there", root, rel);
		return -XB_EUNSAFE;
	}
	*fd = t;
	return 0;
}

/* Mounts a filesystem of type on the O_PATH fd; what is for messages. */
static int mount_fs(int fd, const char *what, const char *type, unsigned long flags, const char *data)
{
	char at[32];
	snprintf(at, sizeof(at), "/proc/self/fd/%d", fd);
	if (mount(type, at, type, flags, data) < 0) {
		int r = -errno;
		xb_error("mounting %s on %s: %s", type, what, strerror(-r));
		return r;
	}
	return 0;
}

/* Binds the host's src onto fd, with the MOUNT_ATTR_* flags in attr. */
/* Kernels before 5.12 (and valgrind) lack mount_setattr(), before 5.2
 * open_tree(): bind and remount through the fd's /proc path instead.
 * The read-only flag then holds for the top mount only. */
static int bind_classic(int fd, const char *src, bool rec, uint64_t attr)
{
	char at[64];
	snprintf(at, sizeof(at), "/proc/self/fd/%d", fd);
	unsigned long flags = MS_BIND | (rec ? MS_REC : 0);
	if (mount(src, at, NULL, flags, NULL) < 0)
		return -errno;
	if (!attr)
		return 0;
	unsigned long ro = (attr & MOUNT_ATTR_RDONLY ? MS_RDONLY : 0) |
	                   (attr & MOUNT_ATTR_NOSUID ? MS_NOSUID : 0) |
	                   (attr & MOUNT_ATTR_NODEV ? MS_NODEV : 0) |
	                   (attr & MOUNT_ATTR_NOEXEC ? MS_NOEXEC : 0);
	/* The new mount is on top of fd's dentry, which the magic link would
	 * name: reach it by the path fd was resolved to.  Nothing in the
	 * tree runs yet that could move it meanwhile. */
	char *path = realpath(at, NULL);
	int r = !path || mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | ro, NULL) < 0 ? -errno : 0;
	free(path);
	return r;
}

static int bind_on(int fd, const char *what, const char *src, bool rec, uint64_t attr)
{
	unsigned int recf = rec ? AT_RECURSIVE : 0;
	cleanup_fd int tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | recf);
	struct mount_attr ma = { .attr_set = attr };
	int r = 0;
	if (tree < 0 ||
	    (attr && mount_setattr(tree, "", AT_EMPTY_PATH | recf, &ma, sizeof(ma)) < 0) ||
	    move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		r = errno == ENOSYS ? bind_classic(fd, src, rec, attr) : -errno;
	if (r < 0)
		xb_error("binding %s on %s: %s", src, what, strerror(-r));
	return r;
}

static int mount_fs_at(int rootfd, const char *root, const char *path, mode_t mode,
		       const char *type, unsigned long flags, const char *data)
{
	cleanup_fd int fd = -1;
	int r = open_mount_point(rootfd, root, path, mode, &fd);
	if (r < 0)
		return r;
	cleanup_free char *what = xasprintf("%s/%s", root, path);
	return mount_fs(fd, what, type, flags, data);
}

/* The device nodes are the host's, bound onto empty files: a user
 * namespace cannot create usable nodes. */
static int dev_nodes(int devfd, const char *root)
{
	static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		cleanup_free char *src = xasprintf("/dev/%s", nodes[i]);
		cleanup_free char *what = xasprintf("%s/dev/%s", root, nodes[i]);
		int f = openat(devfd, nodes[i], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (f >= 0) {
			close(f);
			f = openat(devfd, nodes[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (f < 0) {
			int r = -errno;
			xb_error("creating %s: %s", what, strerror(-r));
			return r;
		}
		int r = bind_on(f, what, src, false, 0);
		close(f);
		if (r < 0)
			return r;
	}
	return 0;
}

static int dev_links(int devfd, const char *root)
{
	static const char *const links[][2] = {
		{ "ptmx", "pts/ptmx" }, { "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		if (symlinkat(links[i][1], devfd, links[i][0]) < 0) {
			int r = -errno;
			xb_error("creating %s/dev/%s: %s", root, links[i][0], strerror(-r));
			return r;
		}
	}
	return 0;
}

static int setup_dev(int rootfd, const char *root, bool gid5)
{
	int r = mount_fs_at(rootfd, root, "dev", 0755, "tmpfs", MS_NOSUID | MS_STRICTATIME,
			    "mode=0755");
	if (r < 0)
		return r;
	/* A fresh tmpfs of our own: plain *at() calls are safe in it. */
	cleanup_fd int devfd = inroot_open(rootfd, "dev", O_RDONLY | O_DIRECTORY, 0);
	if (devfd < 0) {
		xb_error("opening %s/dev: %s", root, strerror(-devfd));
		return devfd;
	}
	if (mkdirat(devfd, "pts", 0755) < 0 || mkdirat(devfd, "shm", 0755) < 0) {
		r = -errno;
		xb_error("creating directories in %s/dev: %s", root, strerror(-r));
		return r;
	}
	if ((r = dev_nodes(devfd, root)) < 0 || (r = dev_links(devfd, root)) < 0)
		return r;
	const char *pts_opts = gid5 ? "newinstance,ptmxmode=0666,mode=0620,gid=5"
					  : "newinstance,ptmxmode=0666,mode=0620";
	r = mount_fs_at(rootfd, root, "dev/pts", 0, "devpts", MS_NOSUID | MS_NOEXEC, pts_opts);
	if (r == 0)
		r = mount_fs_at(rootfd, root, "dev/shm", 0, "tmpfs", MS_NOSUID | MS_NODEV,
				"mode=1777");
	return r;
}

/* A missing etc/resolv.conf is created to bind over; a symlink (as with
 * systemd-resolved) is followed inside the root, and when it leads to no
 * file there the root keeps its own: a warning, not a failure. */
static int setup_resolv_conf(int rootfd, const char *root)
{
	cleanup_free char *last = NULL;
	cleanup_fd int etc = inroot_parent(rootfd, "etc/resolv.conf", false, &last);
	if (etc == -ENOENT) { /* a firmware tree without /etc: nothing to resolve with */
		xb_debug("not binding resolv.conf: %s has no etc", root);
		return 0;
	}
	if (etc < 0) {
		xb_warn("not binding resolv.conf: %s/etc: %s", root, strerror(-etc));
		return 0;
	}
	int f = openat(etc, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (f >= 0)
		close(f);
	cleanup_fd int fd = inroot_open(rootfd, "etc/resolv.conf", O_PATH, 0);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		xb_warn("not binding the host's resolv.conf: %s/etc/resolv.conf leads to no file "
			"inside %s", root, root);
		return 0;
	}
	cleanup_free char *what = xasprintf("%s/etc/resolv.conf", root);
	return bind_on(fd, what, "/etc/resolv.conf", false,
	               MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
}

/* A file to bind over: an empty one, its directories made as needed. */
static void make_bind_file(int rootfd, const char *dst)
{
	cleanup_free char *last = NULL;
	cleanup_fd int pfd = inroot_parent(rootfd, dst + strspn(dst, "/"), true, &last);
	int f = pfd < 0 ? -1 : openat(pfd, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (f >= 0)
		close(f);
}

char *emu_mounts_bind_src(const char *spec)
{
	return xstrndup(spec, strcspn(spec, ":"));
}

/* "SRC[:DST]": the mount point is created inside the root like SRC.  With
 * src_fd >= 0 the source is that detached mount (emu/contain prepared it
 * with its attributes), else SRC, bound here. */
static int setup_bind(int rootfd, const char *root, const char *spec, int src_fd, bool ro)
{
	cleanup_free char *src = emu_mounts_bind_src(spec);
	const char *dst = spec[strlen(src)] ? spec + strlen(src) + 1 : src;
	struct stat st;
	if (src_fd >= 0 ? fstat(src_fd, &st) < 0 : stat(src, &st) < 0) {
		int r = -errno;
		xb_error("binding %s: %s", src, strerror(-r));
		return r;
	}
	if (!S_ISDIR(st.st_mode))
		make_bind_file(rootfd, dst);
	cleanup_fd int fd = -1;
	int r = open_mount_point(rootfd, root, dst, S_ISDIR(st.st_mode) ? 0755 : 0, &fd);
	if (r < 0)
		return r;
	cleanup_free char *what = xasprintf("%s/%s", root, dst + strspn(dst, "/"));
	if (src_fd < 0)
		return bind_on(fd, what, src, true,
		               MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (ro ? MOUNT_ATTR_RDONLY : 0));
	if (move_mount(src_fd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		r = -errno;
		xb_error("binding %s on %s: %s", src, what, strerror(-r));
	}
	return r;
}

/* /var/lock links to /run/lock on Debian; a fresh /run needs it. */
static int make_run_lock(int rootfd, const char *root)
{
	cleanup_fd int run = inroot_open(rootfd, "run", O_PATH | O_DIRECTORY, 0);
	int lock = run < 0 ? run : make_dir(run, "lock", 01777);
	if (lock >= 0)
		close(lock);
	if (lock < 0) {
		int r = lock;
		xb_error("creating %s/run/lock: %s", root, strerror(-r));
		return r;
	}
	return 0;
}

int emu_mounts_root(const char *root, int tree_fd, int *rootfd)
{
	int r = 0;
	if (tree_fd >= 0) {
		if (move_mount(tree_fd, "", AT_FDCWD, root, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			r = -errno;
	} else {
		/* A bind of the root onto itself, nodev: a device node planted in
		 * the tree opens nothing. */
		cleanup_fd int at = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		r = at < 0 ? -errno : bind_on(at, root, root, true, MOUNT_ATTR_NODEV);
		if (r < 0)
			return r; /* reported */
	}
	/* Reopened: the fd must be on the new mount, where the rest goes. */
	if (r == 0 && (*rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = -errno;
	if (r < 0)
		xb_error("mounting %s as the root: %s", root, strerror(-r));
	return r;
}

/* ---- masks: what of /proc and /sys the host keeps to itself ---- */

/* As runc and nspawn mask them: read-only, hidden files, empty dirs. */
static const char *const proc_ro[] = { "sys", "sysrq-trigger", "irq", "bus", "fs", NULL };
static const char *const proc_hidden[] = { "kcore", "keys", "timer_list", "sched_debug",
	                                   "latency_stats", "timer_stats", "kallsyms", NULL };
static const char *const proc_empty[] = { "acpi", "scsi", "asound", NULL };
static const char *const sys_empty[] = { "firmware", "devices/virtual/powercap", NULL };

static const uint64_t MASK_ATTR = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                  MOUNT_ATTR_NOEXEC;

/* What a mask goes on: *t -1 when the kernel has no such entry. */
static int mask_target(int dirfd, const char *name, int flags, const char *what, int *t)
{
	*t = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC | flags);
	if (*t >= 0 || errno == ENOENT || errno == ENOTDIR)
		return 0;
	xb_error("masking %s: %s", what, strerror(errno));
	return -errno;
}

/* dirfd/name bound onto itself, read-only, with what is below it. */
static int rebind_ro(int dirfd, const char *name, const char *what)
{
	cleanup_fd int t = -1;
	int r = mask_target(dirfd, name, 0, what, &t);
	if (r < 0 || t < 0)
		return r;
	cleanup_free char *self = xasprintf("/proc/self/fd/%d", t);
	return bind_on(t, what, self, true, MASK_ATTR);
}

/* A file made empty: the host's /dev/null over it, read-only (not nodev:
 * reading it gives nothing, rather than an error that could pass for a
 * kernel without it). */
static int hide_file(int dirfd, const char *name, const char *what)
{
	cleanup_fd int t = -1;
	int r = mask_target(dirfd, name, 0, what, &t);
	return r < 0 || t < 0 ? r : bind_on(t, what, "/dev/null", false, MASK_ATTR & ~MOUNT_ATTR_NODEV);
}

static int empty_dir(int dirfd, const char *name, const char *what)
{
	cleanup_fd int t = -1;
	int r = mask_target(dirfd, name, O_DIRECTORY, what, &t);
	return r < 0 || t < 0 ? r : mount_fs(t, what, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV |
	                                                     MS_NOEXEC, "mode=0555");
}

/* The masks of top (proc or sys, our own mounts by now) under the root. */
static int mask(int rootfd, const char *root, const char *top, const char *const *ro,
                const char *const *hidden, const char *const *empty)
{
	cleanup_fd int dir = inroot_open(rootfd, top, O_PATH | O_DIRECTORY, 0);
	int r = dir < 0 ? dir : 0;
	for (size_t i = 0; !r && ro && ro[i]; i++) {
		cleanup_free char *what = xasprintf("%s/%s/%s", root, top, ro[i]);
		r = rebind_ro(dir, ro[i], what);
	}
	for (size_t i = 0; !r && hidden && hidden[i]; i++) {
		cleanup_free char *what = xasprintf("%s/%s/%s", root, top, hidden[i]);
		r = hide_file(dir, hidden[i], what);
	}
	for (size_t i = 0; !r && empty && empty[i]; i++) {
		cleanup_free char *what = xasprintf("%s/%s/%s", root, top, empty[i]);
		r = empty_dir(dir, empty[i], what);
	}
	if (dir < 0)
		xb_error("masking %s/%s: %s", root, top, strerror(-r));
	return r;
}

/* A fresh proc for the new PID namespace.  Where the kernel refuses one
 * (xboot in a sandbox whose /proc is masked, as ours is: the kernel's
 * mount_too_revealing), the /proc xboot has is bound instead, masks and
 * all: it shows the processes of the outer namespace too. */
static int mount_proc(int rootfd, const char *root)
{
	cleanup_fd int fd = -1;
	int r = open_mount_point(rootfd, root, "proc", 0555, &fd);
	char at[32];
	snprintf(at, sizeof(at), "/proc/self/fd/%d", fd);
	if (r < 0 || mount("proc", at, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
		return r;
	if (errno != EPERM) {
		r = -errno;
		xb_error("mounting proc on %s/proc: %s", root, strerror(-r));
		return r;
	}
	xb_debug("mounting proc on %s/proc: refused here; binding the /proc xboot has", root);
	cleanup_free char *what = xasprintf("%s/proc", root);
	return bind_on(fd, what, "/proc", true, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
	                                        MOUNT_ATTR_NOEXEC);
}

int emu_mounts_host_proc(void)
{
	cleanup_fd int hostfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = hostfd < 0 ? -errno : mount_proc(hostfd, "");
	if (r == 0)
		r = mask(hostfd, "", "proc", proc_ro, proc_hidden, proc_empty);
	return r;
}

int emu_mounts_setup(int rootfd, const struct emu_launch_opts *o, const int *bind_fd, bool gid5)
{
	const char *root = o->root;
	const uint64_t sys_attr = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				  MOUNT_ATTR_NOEXEC;
	cleanup_fd int sysfd = -1;
	int r = mount_proc(rootfd, root);
	if (r == 0)
		r = mask(rootfd, root, "proc", proc_ro, proc_hidden, proc_empty);
	if (r == 0)
		r = open_mount_point(rootfd, root, "sys", 0555, &sysfd);
	if (r == 0) {
		cleanup_free char *what = xasprintf("%s/sys", root);
		/* A fresh sysfs would need its own network namespace. */
		r = bind_on(sysfd, what, "/sys", true, sys_attr);
	}
	if (r == 0)
		r = mask(rootfd, root, "sys", NULL, NULL, sys_empty);
	if (r == 0)
		r = setup_dev(rootfd, root, gid5);
	if (r == 0)
		r = mount_fs_at(rootfd, root, "run", 0755, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	if (r == 0)
		r = make_run_lock(rootfd, root);
	if (r == 0 && !o->keep_tmp)
		r = mount_fs_at(rootfd, root, "tmp", 01777, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	if (r == 0 && o->resolv_conf)
		r = setup_resolv_conf(rootfd, root);
	size_t nrw = o->binds ? o->binds->n : 0, nro = o->ro_binds ? o->ro_binds->n : 0;
	for (size_t i = 0; r == 0 && i < nrw + nro; i++) {
		bool ro = i >= nrw;
		r = setup_bind(rootfd, root, ro ? o->ro_binds->v[i - nrw] : o->binds->v[i],
		               bind_fd ? bind_fd[i] : -1, ro);
	}
	return r;
}
