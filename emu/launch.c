/* launch: xboot → child (new namespaces; waits) → grandchild (PID 1 of the
 * new PID namespace: mounts, binfmt, chroot, seccomp, fn).  The parent
 * writes the child's id maps; both children die with their parent
 * (PR_SET_PDEATHSIG), so a killed xboot leaves no mounts or processes. */
#include "launch.h"
#include "binfmt.h"
#include "emulator.h"
#include "mounts.h"
#include "seccomp.h"
#include "../core/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define SETUP_FAILED 125 /* a child's exit code after it reported an error */

struct launch {
	const struct launch_opts *o;
	int (*fn)(void *ctx);
	void *ctx;
	struct emu_binfmt *bf;
	size_t nbf;
	int sock;        /* the children's end of the socketpair */
	bool full_idmap; /* every host id mapped (we are root) */
	pid_t parent;
};

static int send_int(int fd, int v)
{
	return xb_write_all(fd, &v, sizeof(v));
}

static void forward_caught(pid_t pid, bool kill_all);

/* 0 and *v, or -EPIPE when the other side closed without a word.  A signal
 * caught meanwhile (during the set-up) kills fwd when it is > 0. */
static int recv_int(int fd, int *v, pid_t fwd)
{
	ssize_t n;
	while ((n = read(fd, v, sizeof(*v))) < 0 && errno == EINTR)
		if (fwd > 0)
			forward_caught(fwd, true);
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

static int set_hostname(int rootfd, const struct launch_opts *o)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	const char *name = o->hostname;
	if (!name) {
		int fd = emu_open_at_root(rootfd, "etc/hostname", O_RDONLY);
		if (fd >= 0) {
			xb_read_fd(fd, &sb);
			close(fd);
		}
		char *s = sb.buf ? str_trim(sb.buf) : NULL;
		if (s)
			s[strcspn(s, "\n")] = '\0';
		/* A name the kernel would refuse is not worth failing over. */
		name = s && *s && strlen(s) <= 64 ? s : "xboot";
	}
	if (sethostname(name, strlen(name)) < 0) {
		int r = -errno;
		xb_error("setting the hostname to %s: %s", name, strerror(-r));
		return r;
	}
	return 0;
}

/* Everything between the new namespaces and fn; runs as PID 1. */
static int setup(struct launch *l)
{
	const struct launch_opts *o = l->o;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		int r = -errno;
		xb_error("making the mount namespace private: %s", strerror(-r));
		return r;
	}
	cleanup_fd int rootfd = open(o->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		int r = -errno;
		xb_error("opening %s: %s", o->root, strerror(-r));
		return r;
	}
	int r = emu_mounts_setup(rootfd, o, l->full_idmap);
	if (r == 0 && o->net_none)
		r = lo_up();
	if (r == 0)
		r = set_hostname(rootfd, o);
	if (r == 0)
		r = emu_binfmt_setup(rootfd, o->root, l->bf, l->nbf);
	if (r < 0)
		return r;
	if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		r = -errno;
		xb_error("changing root to %s: %s", o->root, strerror(-r));
		return r;
	}
	return o->seccomp ? emu_seccomp_load() : 0;
}

static void grandchild(struct launch *l)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Signals ignored here would stay ignored in what fn executes. */
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	int r = setup(l);
	send_int(l->sock, r);
	close(l->sock);
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
	int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
	if (l->o->net_none)
		flags |= CLONE_NEWNET;
	int r = unshare(flags) < 0 ? -errno : 0;
	if (r < 0)
		xb_error("entering %s: creating namespaces: %s", l->o->root, strerror(-r));
	int ok = -1;
	if (send_int(l->sock, r) < 0 || r < 0 || recv_int(l->sock, &ok, 0) < 0 || ok < 0)
		child_exit(SETUP_FAILED);
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
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			child_exit(SETUP_FAILED);
	child_exit(xb_wait_code(ws));
}

static int write_proc(pid_t pid, const char *file, const char *text)
{
	cleanup_free char *path = xasprintf("/proc/%ld/%s", (long)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int r = fd < 0 ? -errno : xb_write_all(fd, text, strlen(text));
	if (fd >= 0)
		close(fd);
	if (r < 0)
		xb_error("writing %s: %s", path, strerror(-r));
	return r;
}

/* The first range of /etc/subuid or /etc/subgid for the user, if any. */
static bool subid_range(const char *file, unsigned long id, const char *name,
			unsigned long *start, unsigned long *count)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	cleanup_strvec struct strvec lines = STRVEC_INIT;
	cleanup_free char *idstr = xasprintf("%lu", id);
	if (xb_read_file(file, &sb) < 0)
		return false;
	strvec_split(&lines, strbuf_str(&sb), "\n");
	for (size_t i = 0; i < lines.n; i++) {
		cleanup_strvec struct strvec f = STRVEC_INIT;
		strvec_split(&f, lines.v[i], ":");
		if (f.n == 3 && (!strcmp(f.v[0], idstr) || (name && !strcmp(f.v[0], name)))) {
			*start = strtoul(f.v[1], NULL, 10);
			*count = strtoul(f.v[2], NULL, 10);
			if (*count > 65536)
				*count = 65536;
			return *count > 0;
		}
	}
	return false;
}

/* Non-root: the user becomes 0, and with newuidmap and a subordinate
 * range 1..65536 map onto that range too; else only the user is mapped. */
static int map_user(pid_t pid, const char *tool, const char *file, unsigned long id,
		    const char *name, bool *mapped)
{
	unsigned long start, count;
	*mapped = false;
	if (access(tool, X_OK) < 0 || !subid_range(file, id, name, &start, &count))
		return 0;
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	strvec_pushl(&argv, tool, NULL);
	strvec_pushf(&argv, "%ld", (long)pid);
	strvec_pushl(&argv, "0", NULL);
	strvec_pushf(&argv, "%lu", id);
	strvec_pushl(&argv, "1", "1", NULL);
	strvec_pushf(&argv, "%lu", start);
	strvec_pushf(&argv, "%lu", count);
	int st;
	if (xb_spawn(argv.v, NULL, &st) < 0) {
		xb_error("mapping ids with %s: exit status %d", tool, st);
		return -XB_ECHILD;
	}
	*mapped = true;
	return 0;
}

static int write_idmaps(pid_t pid)
{
	if (geteuid() == 0) {
		/* Identity: files in the root keep their real owners. */
		int r = write_proc(pid, "uid_map", "0 0 4294967295\n");
		return r < 0 ? r : write_proc(pid, "gid_map", "0 0 4294967295\n");
	}
	const char *name = getenv("USER");
	bool umapped, gmapped;
	int r = map_user(pid, "/usr/bin/newuidmap", "/etc/subuid", geteuid(), name, &umapped);
	if (r == 0)
		r = map_user(pid, "/usr/bin/newgidmap", "/etc/subgid", getegid(), name, &gmapped);
	if (r < 0)
		return r;
	cleanup_free char *u = xasprintf("0 %lu 1\n", (unsigned long)geteuid());
	cleanup_free char *g = xasprintf("0 %lu 1\n", (unsigned long)getegid());
	if (!umapped && (r = write_proc(pid, "uid_map", u)) < 0)
		return r;
	if (!gmapped && ((r = write_proc(pid, "setgroups", "deny")) < 0 ||
			 (r = write_proc(pid, "gid_map", g)) < 0))
		return r;
	return 0;
}

static void free_binfmts(struct emu_binfmt *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].emulator);
	free(v);
}

/* The emulators to register: the root's, when foreign, and with
 * all_emulators every installed one the kernel cannot do without. */
static int collect_binfmts(const struct launch_opts *o, struct emu_binfmt **out, size_t *n)
{
	size_t na;
	const struct emu_arch *all = emu_arch_all(&na);
	struct emu_binfmt *v = xcalloc(na + 1, sizeof(*v));
	size_t k = 0;
	if (o->arch && !emu_arch_is_native(o->arch)) {
		int r = emu_find_emulator(o->arch, &v[0].emulator);
		if (r < 0) {
			free(v);
			return r;
		}
		v[k++].arch = o->arch;
	}
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

static volatile sig_atomic_t caught;
static void on_signal(int sig) { caught = sig; }
static const int fwd_signals[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };

/* While the namespace runs, xboot must not die of Ctrl-C (which the
 * namespace's processes get themselves); SIGTERM and SIGHUP are passed
 * on, which takes the namespace down. */
static void catch_signals(struct sigaction *old)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	caught = 0;
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaction(fwd_signals[i], &sa, &old[i]);
}

static void restore_signals(const struct sigaction *old)
{
	for (size_t i = 0; i < ARRAY_SIZE(fwd_signals); i++)
		sigaction(fwd_signals[i], &old[i], NULL);
	/* Now the caller's own disposition sees it. */
	if (caught)
		raise(caught);
}

/* A bootstrap stops at any of them: killing the child takes its PID
 * namespace's init (PDEATHSIG) and so every process in it down.  An
 * interactive session leaves Ctrl-C to the terminal's foreground group. */
static void forward_caught(pid_t pid, bool kill_all)
{
	if (caught && kill_all)
		kill(pid, SIGKILL);
	else if (caught == SIGTERM || caught == SIGHUP)
		kill(pid, caught);
}

static int wait_child(pid_t pid, bool kill_all)
{
	int ws;
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR)
			return 255;
		forward_caught(pid, kill_all);
	}
	return xb_wait_code(ws);
}

/* Talks the child through the set-up; 0 once fn is running there. */
static int parent(pid_t pid, int sock, const char *root)
{
	int r, st;
	if (recv_int(sock, &st, pid) < 0) {
		xb_error("entering %s: the child process died", root);
		return -XB_ECHILD;
	}
	if (st < 0)
		return st; /* the child reported it */
	r = write_idmaps(pid);
	if (send_int(sock, r) < 0 && r == 0)
		r = -XB_ECHILD;
	if (r < 0)
		return r;
	if (recv_int(sock, &st, pid) < 0) {
		xb_error("setting up %s: the namespace's init died", root);
		return -XB_ECHILD;
	}
	return st;
}

int launch_run(const struct launch_opts *o, int (*fn)(void *ctx), void *ctx, int *code)
{
	struct launch l = { .o = o, .fn = fn, .ctx = ctx, .parent = getpid(),
			    .full_idmap = geteuid() == 0 };
	struct stat st;
	if (stat(o->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		int r = stat(o->root, &st) < 0 ? -errno : -ENOTDIR;
		xb_error("entering %s: %s", o->root, strerror(-r));
		return r;
	}
	int r = collect_binfmts(o, &l.bf, &l.nbf);
	if (r < 0)
		return r;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		xb_error("entering %s: socketpair: %s", o->root, strerror(-r));
		free_binfmts(l.bf, l.nbf);
		return r;
	}
	struct sigaction old[ARRAY_SIZE(fwd_signals)];
	catch_signals(old);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		l.sock = sv[1];
		child(&l);
	}
	close(sv[1]);
	if (pid < 0) {
		r = -errno;
		xb_error("entering %s: fork: %s", o->root, strerror(-r));
	} else {
		r = parent(pid, sv[0], o->root);
		if (r < 0)
			kill(pid, SIGKILL);
		int c = wait_child(pid, o->kill_on_signal);
		if (r == 0)
			*code = c;
	}
	close(sv[0]);
	free_binfmts(l.bf, l.nbf);
	restore_signals(old);
	return r;
}
