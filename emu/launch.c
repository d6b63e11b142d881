/* launch: xboot → child (new namespaces; waits) → grandchild (PID 1 of the
 * new PID namespace: mounts, binfmt, pivot_root, seccomp, fn).  The parent
 * writes the child's id maps, or without a user namespace prepares the
 * host's binfmt_misc; both children die with their parent
 * (PR_SET_PDEATHSIG), so a killed xboot leaves no mounts or processes. */
#include "launch.h"
#include "binfmt.h"
#include "contain.h"
#include "emulator.h"
#include "overlay.h"
#include "idmap.h"
#include "mounts.h"
#include "seccomp.h"
#include "sigfwd.h"
#include "../core/base/inroot.h"
#include "../core/base/spawn.h"

#include <errno.h>
#include <grp.h>
#include <linux/close_range.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define SETUP_FAILED 125 /* a child's exit code after it reported an error */

struct launch {
	const struct emu_launch_opts *o;
	int (*fn)(void *ctx);
	void *ctx;
	struct emu_binfmt *bf;
	size_t nbf;
	bool root_foreign; /* bf[0] is the root's own architecture */
	int sock;          /* the children's end of the socketpair */
	bool userns;       /* in a new user namespace (else real root, no binfmt of our own) */
	bool gid5;         /* gid 5 (tty) is mapped, for devpts */
	pid_t parent;
	int waiter;        /* the grandchild's: a pidfd of the child, or -1 */
	struct emu_contain ct; /* how root inside is kept from the host */
	int image_fd;      /* o->image, opened by the parent, or -1 */
	struct emu_fuse_prep fuse; /* for o->image's FUSE driver */
};

/* What the child tells the parent after unshare(): the namespaces are
 * there, with or without a user namespace. */
enum { UNSHARED_USERNS = 0, UNSHARED_NO_USERNS = 1 };

static int send_int(int fd, int v)
{
	return xb_write_all(fd, &v, sizeof(v));
}

/* 0 and *v, or -EPIPE when the other side closed without a word.  A signal
 * caught meanwhile (during the set-up) kills fwd when it is > 0. */
static int recv_int(int fd, int *v, pid_t fwd)
{
	ssize_t n;
	while ((n = read(fd, v, sizeof(*v))) < 0 && errno == EINTR)
		if (fwd > 0)
			emu_sigfwd_forward(fwd, true);
	return n == (ssize_t)sizeof(*v) ? 0 : -EPIPE;
}

static void child_exit(int code)
{
	fflush(NULL);
	_exit(code);
}

static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	strcpy(ifr.ifr_name, "lo");
	int r = s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ? -errno : 0;
	ifr.ifr_flags |= IFF_UP;
	if (r == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		r = -errno;
	if (s >= 0)
		close(s);
	if (r < 0)
		xb_error("bringing up lo in the new network namespace: %s", strerror(-r));
	return r;
}

static int set_hostname(int rootfd, const struct emu_launch_opts *o)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	const char *name = o->hostname;
	if (!name) {
		/* The root's file: only a small regular one is read. */
		if (inroot_read_file(rootfd, "etc/hostname", 4096, &sb) < 0)
			strbuf_reset(&sb);
		char *s = str_trim(sb.buf);
		if (*s)
			s[strcspn(s, "\n")] = '\0';
		/* A name the kernel would refuse is not worth failing over. */
		name = *s && strlen(s) <= 64 ? s : "xboot";
	}
	if (sethostname(name, strlen(name)) < 0) {
		int r = -errno;
		xb_error("setting the hostname to %s: %s", name, strerror(-r));
		return r;
	}
	return 0;
}

/* pivot_root rather than chroot: a chrooted process may not create user
 * namespaces (the kernel refuses CLONE_NEWUSER with EPERM), and programs
 * inside (unshare, nested xboot, sandboxes) need to.  Where xboot itself
 * runs chrooted, the current root is no mount point and pivot_root fails
 * with EINVAL; chroot is all there is then. */
static int change_root(int rootfd, const char *root)
{
	const char *what = "fchdir";
	if (fchdir(rootfd) < 0)
		goto fail;
	what = "pivot_root";
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		/* The old root is stacked on ".": detach it and all below it. */
		what = "detaching the old root";
		if (umount2(".", MNT_DETACH) < 0)
			goto fail;
	} else {
		if (errno != EINVAL)
			goto fail;
		xb_debug("pivot_root into %s: %s; using chroot", root, strerror(errno));
		what = "chroot";
		if (chroot(".") < 0)
			goto fail;
	}
	what = "chdir";
	if (chdir("/") == 0)
		return 0;
fail:;
	int r = -errno;
	xb_error("changing root to %s: %s: %s", root, what, strerror(-r));
	return r;
}

static bool same_dir(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* xboot itself chrooted (real root, no user namespace): "/" is no mount
 * point, so the mounts it lies on cannot be made private by name, and they
 * are the host's peers: a mount below would show on the host.  So step out
 * to the namespace's root (chroot to a directory below, then ".." from
 * outside it), make everything private there, and come back by fd.  Only
 * this process moves, inside its own new mount namespace. */
static int make_private_from_chroot(const char *below)
{
	cleanup_fd int old = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (old < 0 || chdir("/") < 0 || chroot(below) < 0)
		return -errno;
	for (int i = 0; i < 4096 && !same_dir(".", ".."); i++)
		if (chdir("..") < 0)
			return -errno;
	if (chroot(".") < 0)
		return -errno;
	int r = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ? -errno : 0;
	if (fchdir(old) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return -errno;
	return r;
}

static int make_private(const struct launch *l)
{
	int r = mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ? -errno : 0;
	if (r == -EINVAL && !l->userns)
		r = make_private_from_chroot(l->o->root);
	if (r < 0)
		xb_error("making the mount namespace private: %s", strerror(-r));
	return r;
}

/* Whether the child that waits for the namespace's init (outside it, so
 * getppid() cannot tell) is gone: its pidfd is readable then. */
static bool waiter_gone(int waiter)
{
	struct pollfd p = { .fd = waiter, .events = POLLIN };
	return waiter >= 0 && poll(&p, 1, 0) > 0;
}

/* Root of the new user namespace (its uid 0, the range's first id when
 * MAPPED), which the maps need not have made xboot: mount points are then
 * created as that root, through the idmapped tree with the owners real
 * root would give them.  Reports errors. */
static int become_root(const char *root, int waiter)
{
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
		int r = -errno;
		xb_error("entering %s: becoming root of its user namespace: %s", root, strerror(-r));
		return r;
	}
	setgroups(0, NULL); /* refused where setgroups is denied: harmless */
	/* The uid change made this process undumpable, its /proc files the
	 * host root's: the helper of emu_contain_lock() could not write its
	 * maps.  Its own uid is the only one that could trace it.  The change
	 * also cleared the death signal, which must stay: set again, and the
	 * parent checked, as it may have died meanwhile. */
	prctl(PR_SET_DUMPABLE, 1);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || waiter_gone(waiter))
		return -XB_ECHILD;
	return 0;
}

const char *emu_launch_root_path = NULL;
const char *emu_launch_scratch = NULL;

/* host_view: a tmpfs of the namespace's own on EMU_LAUNCH_SCRATCH (where
 * the parent could make that directory), and where root of the namespace
 * cannot reach the tree by its path (a directory on the way is the host
 * root's alone), the tree with its mounts at EMU_LAUNCH_ALIAS in it. */
static int host_scratch(int rootfd, const struct emu_launch_opts *o)
{
	const char *top = EMU_LAUNCH_SCRATCH;
	struct stat st;
	emu_launch_root_path = o->root;
	if (stat(top, &st) == 0 && mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") == 0)
		emu_launch_scratch = top;
	if (access(o->root, X_OK) == 0)
		return 0;
	cleanup_fd int t = (int)syscall(SYS_open_tree, rootfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
	                                                        AT_RECURSIVE | AT_EMPTY_PATH);
	if (t < 0 || !emu_launch_scratch || mkdir(EMU_LAUNCH_ALIAS, 0755) < 0 ||
	    move_mount(t, "", AT_FDCWD, EMU_LAUNCH_ALIAS, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		int r = emu_launch_scratch ? -errno : -EACCES;
		xb_error("%s: unreachable for the sandbox's root, and so is %s: %s", o->root,
		         EMU_LAUNCH_ALIAS, strerror(-r));
		return r;
	}
	emu_launch_root_path = EMU_LAUNCH_ALIAS;
	return 0;
}

/* Everything between the new namespaces and fn; runs as PID 1. */
static int setup(struct launch *l)
{
	const struct emu_launch_opts *o = l->o;
	cleanup_fd int rootfd = -1;
	/* Still as xboot's host uid: the root may lie below directories only
	 * the host's root may pass, which the range's root may not. */
	int r = make_private(l);
	if (r == 0)
		r = emu_mounts_root(o->root, l->ct.tree_fd, &rootfd);
	/* Only where pivot_root moves the driver's root into the session's
	 * and the session's capabilities are bounded in a namespace of its own. */
	if (r == 0 && o->image && l->userns)
		emu_overlay_fuse_prepare(o->image, l->image_fd, o->image_kind, &l->fuse);
	else if (o->image)
		l->fuse.err = -ENOSYS;
	if (r == 0 && l->userns)
		r = become_root(o->root, l->waiter);
	/* As root of the namespace: what it writes is the namespace's. */
	if (r == 0 && o->image)
		r = emu_overlay_image(o->image, l->image_fd, o->image_kind, &l->fuse, o->root, &rootfd);
	emu_overlay_fuse_release(&l->fuse);
	if (r == 0 && o->image)
		r = emu_overlay_image_arch(rootfd, l->bf, l->nbf);
	else if (r == 0 && (o->ephemeral || o->volatile_))
		r = emu_overlay_ephemeral(o->root, &rootfd);
	if (r == 0)
		r = emu_mounts_setup(rootfd, o, l->ct.bind_fd, l->gid5);
	if (r == 0 && o->volatile_)
		r = emu_overlay_volatile(o->root, rootfd);
	if (r == 0 && o->net_none)
		r = lo_up();
	if (r == 0)
		r = set_hostname(rootfd, o);
	/* Without a user namespace the binfmt_misc instance is the host's,
	 * which the parent has prepared. */
	if (r == 0 && l->userns)
		r = emu_binfmt_setup(rootfd, o->root, l->bf, l->nbf);
	if (r == 0 && !o->host_view)
		r = change_root(rootfd, o->root);
	if (r == 0 && o->host_view)
		r = host_scratch(rootfd, o);
	if (r == 0 && o->host_view)
		r = emu_mounts_host_proc();
	/* Mounts locked: a namespace of the command's own cannot undo them. */
	if (r == 0 && l->userns)
		r = emu_contain_lock();
	if (r == 0 && o->seccomp)
		r = emu_seccomp_load();
	if (r == 0)
		r = emu_contain_caps(&l->ct, o->caps_add, o->caps_drop);
	/* Nothing of xboot's but stdin, stdout and stderr reaches a program
	 * run inside (a caller's `7</` would hand it the host's root). */
	if (r == 0 && close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
		r = -errno;
	return r;
}

static void free_binfmts(struct emu_binfmt *v, size_t n);

static void grandchild(struct launch *l)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || waiter_gone(l->waiter))
		_exit(SETUP_FAILED);
	/* Signals ignored here would stay ignored in what fn executes. */
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	unsigned shown = xb_errors_shown();
	int r = setup(l);
	if (r < 0 && xb_errors_shown() == shown)
		xb_error("setting up the sandbox of %s: %s", l->o->root, xb_strerror(r));
	/* The parent says which protection holds before fn says anything. */
	int go = -1;
	if (send_int(l->sock, r) < 0 || (r == 0 && recv_int(l->sock, &go, 0) < 0))
		r = -XB_ECHILD;
	close(l->sock);
	/* Registered by now; fn never returns here to the caller's free. */
	free_binfmts(l->bf, l->nbf);
	l->bf = NULL;
	l->nbf = 0;
	if (r < 0)
		child_exit(SETUP_FAILED);
	r = l->fn(l->ctx);
	child_exit(r & 0xff);
}

static void child(struct launch *l)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != l->parent)
		_exit(SETUP_FAILED);
	/* Ctrl-C reaches the namespace's processes directly; this one waits
	 * for them.  SIGTERM/SIGHUP kill it, and with it the namespace. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
	if (l->o->net_none)
		flags |= CLONE_NEWNET;
	int r = unshare(flags | CLONE_NEWUSER) < 0 ? -errno : 0;
	/* Refused to a chrooted process (EPERM) or past the namespace limit:
	 * real root can do without one. */
	l->userns = r == 0;
	if ((r == -EPERM || r == -ENOSPC) && geteuid() == 0)
		r = unshare(flags) < 0 ? -errno : 0;
	if (r < 0)
		xb_error("entering %s: creating namespaces: %s", l->o->root, strerror(-r));
	int ok = -1;
	if (send_int(l->sock, r < 0 ? r : l->userns ? UNSHARED_USERNS : UNSHARED_NO_USERNS) < 0 ||
	    r < 0 || recv_int(l->sock, &ok, 0) < 0 || ok < 0)
		child_exit(SETUP_FAILED);
	l->gid5 = ok == 1;
	if (!l->userns)
		emu_contain_no_userns(&l->ct, "user namespaces are refused here (chrooted?)");
	l->waiter = (int)syscall(SYS_pidfd_open, getpid(), 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		xb_error("entering %s: fork: %s", l->o->root, strerror(-r));
		send_int(l->sock, r);
		child_exit(SETUP_FAILED);
	}
	if (pid == 0)
		grandchild(l);
	close(l->sock);
	if (l->waiter >= 0)
		close(l->waiter);
	int ws;
	child_exit(xb_waitpid(pid, &ws) < 0 ? SETUP_FAILED : xb_wait_code(ws));
}

static void free_binfmts(struct emu_binfmt *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].emulator);
	free(v);
}

/* The emulators to register: the root's, when foreign, and with
 * all_emulators every installed one the kernel cannot do without. */
static int collect_binfmts(const struct emu_launch_opts *o, struct emu_binfmt **out, size_t *n,
			   bool *root_foreign)
{
	size_t na;
	const struct emu_arch *all = emu_arch_targets(&na);
	struct emu_binfmt *v = xcalloc(na + 1, sizeof(*v));
	size_t k = 0;
	if (o->arch && !emu_arch_is_native(o->arch)) {
		int r = emu_emulator_find(o->arch, &v[0].emulator);
		if (r < 0) {
			free(v);
			return r;
		}
		static bool said; /* one -v line a process, as emu_contain_say()'s */
		v[k].root = true;
		v[k].say = !said;
		said = true;
		v[k++].arch = o->arch;
	}
	*root_foreign = k > 0;
	for (size_t i = 0; o->all_emulators && i < na; i++) {
		bool dup = emu_arch_is_native(&all[i]);
		for (size_t j = 0; j < k && !dup; j++)
			dup = !strcmp(v[j].arch->qemu, all[i].qemu);
		if (!dup && (v[k].emulator = emu_emulator_path(&all[i], NULL)))
			v[k++].arch = &all[i];
	}
	*out = v;
	*n = k;
	return 0;
}

/* No user namespace: the root's architecture, when foreign, runs through
 * the host's binfmt_misc; *how says through what. */
static int host_strategy(const struct launch *l, struct emu_host_binfmt *hb, char **how)
{
	if (!l->root_foreign) {
		if (l->nbf)
			*how = xstrdup("other architectures run only where the host's binfmt_misc "
			               "has entries");
		return 0;
	}
	cleanup_free char *via = NULL;
	int r = emu_binfmt_host_setup(l->o->root, &l->bf[0], hb, &via);
	if (r == 0)
		*how = xasprintf("%s programs run through %s", l->bf[0].arch->deb, via);
	return r;
}

/* The child's user namespace mapped: an unprivileged range, or what
 * emu_idmap_write gives (each id xboot has, or an ordinary user's). */
static int map_ids(struct launch *l, pid_t pid, bool *gid5)
{
	if (l->ct.mode != EMU_CONTAIN_MAPPED)
		return emu_idmap_write(pid, gid5);
	*gid5 = true;
	return emu_idmap_write_range(pid, l->ct.range.base, EMU_IDRANGE_SIZE);
}

/* Talks the child through the set-up; 0 once fn is running there. */
static int parent(struct launch *l, pid_t pid, int sock, struct emu_host_binfmt *hb)
{
	const char *root = l->o->root;
	cleanup_free char *how = NULL;
	int r, st;
	bool gid5 = true;
	if (recv_int(sock, &st, pid) < 0) {
		xb_error("entering %s: the child process died", root);
		return -XB_ECHILD;
	}
	if (st < 0)
		return st; /* the child reported it */
	if (st == UNSHARED_USERNS) {
		if (l->nbf)
			how = xstrdup("emulators in its own binfmt_misc instance");
		r = map_ids(l, pid, &gid5);
	} else {
		emu_contain_no_userns(&l->ct, "user namespaces are refused here (chrooted?)");
		r = host_strategy(l, hb, &how);
	}
	if (send_int(sock, r < 0 ? r : gid5) < 0 && r == 0) {
		xb_error("entering %s: the child process died", root);
		r = -XB_ECHILD;
	}
	if (r < 0)
		return r;
	if (recv_int(sock, &st, pid) < 0) {
		xb_error("setting up %s: the namespace's init died", root);
		return -XB_ECHILD;
	}
	/* Once it holds: a set-up that failed has said why, and that is all. */
	if (st == 0) {
		emu_contain_say(&l->ct, l->o->image ? l->o->image : root, how);
		if (send_int(sock, 0) < 0) {
			xb_error("setting up %s: the namespace's init died", root);
			return -XB_ECHILD;
		}
	}
	return st;
}

/* The child and, through it, the namespace's init; 0 once fn has run
 * there, with its result in *code. */
static int fork_children(struct launch *l, int sv[2], struct emu_host_binfmt *hb, int *code)
{
	int r;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		l->sock = sv[1];
		child(l);
	}
	close(sv[1]);
	if (pid < 0) {
		r = -errno;
		xb_error("entering %s: fork: %s", l->o->root, strerror(-r));
		return r;
	}
	r = parent(l, pid, sv[0], hb);
	if (r < 0)
		kill(pid, SIGKILL);
	int c = emu_sigfwd_wait(pid, l->o->kill_on_signal);
	if (r == 0)
		*code = c;
	return r;
}

/* Where host_view's namespace puts its tmpfs: only the host's root can
 * make it, and only a host root's sandbox can be kept from its paths. */
static void make_scratch_dir(void)
{
	if (geteuid() == 0 && mkdir(EMU_LAUNCH_SCRATCH, 0755) < 0 && errno != EEXIST)
		xb_debug("creating %s: %s", EMU_LAUNCH_SCRATCH, strerror(errno));
}

int emu_launch_run(const struct emu_launch_opts *o, int (*fn)(void *ctx), void *ctx, int *code)
{
	struct launch l = { .o = o, .fn = fn, .ctx = ctx, .parent = getpid(), .waiter = -1,
		            .image_fd = -1, .fuse = EMU_FUSE_PREP_INIT };
	struct emu_host_binfmt hb = EMU_HOST_BINFMT_INIT;
	struct stat st;
	if (stat(o->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int r = stat(o->root, &st) < 0 ? -errno : -ENOTDIR;
		xb_error("entering %s: %s", o->root, strerror(-r));
		return r;
	}
	int r = collect_binfmts(o, &l.bf, &l.nbf, &l.root_foreign);
	if (r < 0)
		return r;
	/* Opened as the host's user, inherited by the unpacking tools; no
	 * program of the session's gets it (setup() closes what is above 2). */
	if (o->image && (l.image_fd = open(o->image, O_RDONLY)) < 0) {
		r = -errno;
		xb_error("opening %s: %s", o->image, strerror(-r));
		free_binfmts(l.bf, l.nbf);
		return r;
	}
	if (o->host_view)
		make_scratch_dir();
	if ((r = emu_contain_prepare(o->root, o->binds, o->ro_binds, &l.ct)) < 0) {
		free_binfmts(l.bf, l.nbf);
		xb_closep(&l.image_fd);
		return r;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		xb_error("entering %s: socketpair: %s", o->root, strerror(-r));
		free_binfmts(l.bf, l.nbf);
		emu_contain_release(&l.ct);
		xb_closep(&l.image_fd);
		return r;
	}
	struct emu_sigfwd sig;
	emu_sigfwd_catch(&sig);
	r = fork_children(&l, sv, &hb, code);
	/* The namespace is gone: nothing runs through the entry any more. */
	emu_binfmt_host_release(&hb);
	close(sv[0]);
	free_binfmts(l.bf, l.nbf);
	emu_contain_release(&l.ct);
	emu_sigfwd_restore(&sig);
	xb_closep(&l.image_fd);
	return r;
}
