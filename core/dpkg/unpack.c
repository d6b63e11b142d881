/* unpack: .deb extraction (core/dpkg/debfile) on all cores in a child
 * chrooted into the target, and the dpkg database (core/dpkg/dpkgdb and
 * dpkgtrig) written from the same child.
 *
 * The child enters the target with chroot(".") and reads each .deb through
 * a descriptor the parent opened: the parent sends it over a socket as
 * soon as the file is whole (cached, or downloaded and verified), so
 * extraction runs while the rest still downloads, and every path the child
 * writes, including through symlinks planted by packages, is resolved by
 * the kernel inside the target.  The child sends one record per package
 * (and one for the database) back over a pipe; the parent turns them into
 * progress calls and its return code. */
#include "unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "debfile.h"
#include "dpkgdb.h"
#include "dpkgtrig.h"
#include "../base/dpkgver.h"
#include "../base/progress.h"
#include "../base/spawn.h"
#include "../base/timings.h"

/* What the child sends back: index < n is a package, n the database. */
struct record {
	uint32_t index;
	int32_t code;
};

/* The packages of one run, for replaces_one_of(). */
struct unpack_set {
	const struct unpack_item *items;
	size_t n;
};

/* Whether version is in the range "(OP VERSION" that v starts with;
 * anything else is taken as a range it is in. */
static bool in_range(const char *v, const char *version)
{
	char op[3] = { 0 };
	v += strspn(v, " \t\n(");
	size_t n = strspn(v, "<=>");
	if (!version || n == 0 || n > 2)
		return true;
	memcpy(op, v, n);
	v += n;
	v += strspn(v, " \t\n");
	size_t len = strcspn(v, " \t\n)");
	if (!len)
		return true;
	cleanup_free char *want = xstrndup(v, len);
	return dpkgver_check(version, op, want);
}

bool unpack_replaces_one_of(const char *replaces, const char *self,
                            const struct unpack_item *items, size_t n)
{
	const char *v = replaces;
	while (v && *v) {
		v += strspn(v, " \t\n,|");
		size_t len = strcspn(v, " \t\n,|(:");
		const char *rest = v + len + strcspn(v + len, "(,|");
		for (size_t i = 0; len && i < n; i++) {
			const char *name = items[i].name;
			if (name && strlen(name) == len && !memcmp(name, v, len) && strcmp(name, self) &&
			    (*rest != '(' || in_range(rest, items[i].version)))
				return true;
		}
		v += len;
		v += strcspn(v, ",|");
	}
	return false;
}

/* The package replaces another of the set: both may ship a path, and the
 * replacing one is extracted after the other, as dpkg would, not
 * concurrently with it. */
static bool replaces_one_of(const struct debinfo *pkg, void *ctx)
{
	const struct unpack_set *set = ctx;
	return unpack_replaces_one_of(deb822_get(&pkg->control, "Replaces"), pkg->name,
	                              set->items, set->n);
}

static void send_record(int fd, size_t index, int code)
{
	struct record rec = { (uint32_t)index, code };
	/* A lost record shows up in the parent as a missing one. */
	(void)xb_write_all(fd, &rec, sizeof(rec));
}

/* Work shared by the threads of the child: the receiver takes each
 * package's .deb as it comes, the workers extract them in install order
 * (as dpkg would: a package's paths may go through a link its dependency
 * ships), each as soon as its .deb is here. */
struct pool {
	const struct unpack_item *items;
	int *fds; /* -1 until received; closed by child_run */
	struct debinfo *pkgs;
	bool *deferred;
	bool *done;  /* in the tree, its info files written */
	size_t n;
	int rootfd, out, in;
	int ready;   /* where the length of the prefix that is done goes; -1: nowhere */
	size_t prefix;
	pthread_mutex_t lock; /* guards what follows */
	pthread_cond_t more;
	size_t received, next;
	bool closed; /* nothing more will come */
	long long all_in; /* when the last .deb came: what the run waits for starts */
	int failed;
};

/* Package i is done: a longer prefix of the set is, perhaps. */
static void mark_done(struct pool *pl, size_t i)
{
	if (pl->ready < 0)
		return;
	pthread_mutex_lock(&pl->lock);
	pl->done[i] = true;
	size_t p = pl->prefix;
	while (p < pl->n && pl->done[p])
		p++;
	if (p != pl->prefix) {
		uint32_t v = (uint32_t)(pl->prefix = p);
		/* four bytes to a pipe: whole; one dropped (the pipe full, or
		 * nobody reading) is no loss, as each says all before it */
		(void)xb_write_all(pl->ready, &v, sizeof(v));
	}
	pthread_mutex_unlock(&pl->lock);
}

static int extract_index(struct pool *pl, size_t i, bool allow_defer)
{
	struct unpack_set set = { pl->items, pl->n };
	/* Messages name the package: the cache's file names are hashes. */
	const char *deb = pl->items[i].name ? pl->items[i].name : pl->items[i].deb;
	pl->pkgs[i].filter = pl->items[i].filter;
	int r = debfile_unpack(deb, pl->fds[i], &pl->pkgs[i], pl->rootfd,
	                       allow_defer ? replaces_one_of : NULL, &set, &pl->deferred[i]);
	if (!r && pl->deferred[i] && allow_defer)
		return 0; /* extracted later, alone */
	if (!r)
		r = dpkgdb_write_info(pl->rootfd, &pl->pkgs[i]);
	debinfo_drop_files(&pl->pkgs[i]);
	send_record(pl->out, i, r);
	if (!r)
		mark_done(pl, i);
	return r;
}

/* One message from the parent: a package's index and its .deb's
 * descriptor; 0 at the end of the stream, -1 on a malformed message. */
static int receive_one(int sock, uint32_t *index, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { index, sizeof(*index) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
		             .msg_controllen = sizeof(u.buf) };
	ssize_t got;
	while ((got = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (got <= 0)
		return 0;
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (got != sizeof(*index) || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(fd, CMSG_DATA(c), sizeof(*fd));
	return 1;
}

static void *receiver(void *arg)
{
	struct pool *pl = arg;
	for (;;) {
		uint32_t i = 0;
		int fd = -1, got = receive_one(pl->in, &i, &fd);
		pthread_mutex_lock(&pl->lock);
		bool ok = got > 0 && i < pl->n && pl->fds[i] < 0;
		if (ok) {
			pl->fds[i] = fd;
			pl->received++;
		} else if (fd >= 0) {
			close(fd);
		}
		if (!ok || pl->received == pl->n) {
			pl->closed = true;
			pl->all_in = progress_now_ms();
		}
		bool done = pl->closed;
		pthread_cond_broadcast(&pl->more);
		pthread_mutex_unlock(&pl->lock);
		if (done)
			return NULL;
	}
}

/* The next package to extract, or n when there is none left (or a
 * failure stops the others). */
static size_t next_index(struct pool *pl)
{
	pthread_mutex_lock(&pl->lock);
	while (!pl->failed && pl->next < pl->n && pl->fds[pl->next] < 0 && !pl->closed)
		pthread_cond_wait(&pl->more, &pl->lock);
	size_t i = pl->failed || pl->next == pl->n || pl->fds[pl->next] < 0 ? pl->n : pl->next++;
	pthread_mutex_unlock(&pl->lock);
	return i;
}

static void *worker(void *arg)
{
	struct pool *pl = arg;
	for (size_t i; (i = next_index(pl)) < pl->n;) {
		int r = extract_index(pl, i, true);
		if (!r)
			continue;
		pthread_mutex_lock(&pl->lock);
		if (!pl->failed)
			pl->failed = r;
		pthread_cond_broadcast(&pl->more);
		pthread_mutex_unlock(&pl->lock);
		/* The parent's next send fails: it stops downloading what
		 * would not be unpacked. */
		shutdown(pl->in, SHUT_RDWR);
	}
	return NULL;
}

/* Packages are independent but for paths one of them Replaces: those are
 * deferred by the workers and extracted afterwards, in order.  A stream
 * the parent ended early (its download failed: it says why) is -XB_EINTR
 * here, and reported by nobody. */
static int extract_all(struct pool *pl)
{
	int cpus = xb_ncpus();
	size_t nt = cpus > 4 ? 4 : (size_t)cpus, started = 0;
	pthread_t tid[4], rx;
	if (pthread_create(&rx, NULL, receiver, pl) != 0) {
		xb_error("unpacking: cannot start a thread");
		return -ENOMEM;
	}
	while (started + 1 < nt && pthread_create(&tid[started], NULL, worker, pl) == 0)
		started++;
	worker(pl);
	for (size_t t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	shutdown(pl->in, SHUT_RDWR);
	pthread_join(rx, NULL);
	if (!pl->failed && pl->received < pl->n)
		pl->failed = -XB_EINTR;
	for (size_t i = 0; !pl->failed && i < pl->n; i++) {
		if (!pl->deferred[i])
			continue;
		debinfo_release(&pl->pkgs[i]);
		memset(&pl->pkgs[i], 0, sizeof(pl->pkgs[i]));
		pl->deferred[i] = false;
		if (lseek(pl->fds[i], 0, SEEK_SET) < 0)
			pl->failed = -errno;
		else
			pl->failed = extract_index(pl, i, false);
	}
	return pl->failed;
}

/* The unpacked packages into triggers/ and the status file. */
static int commit(int rootfd, const struct debinfo *pkgs, size_t n)
{
	struct dpkgtrig ts = DPKGTRIG_INIT;
	struct dpkgdb_status st = DPKGDB_STATUS_INIT;
	int r = dpkgtrig_load(rootfd, &ts);
	if (!r)
		r = dpkgtrig_add_interests(rootfd, &ts, pkgs, n);
	if (!r && !(r = dpkgdb_status_load(rootfd, &st))) {
		dpkgdb_status_unpacked(&st, pkgs, n);
		r = dpkgdb_status_write(rootfd, &st);
	}
	dpkgtrig_release(&ts);
	dpkgdb_status_release(&st);
	return r;
}

static int child_run(const char *target, int tfd, const struct unpack_item *items, size_t n,
                     int in, int out, int ready)
{
	struct pool pl = { .items = items, .fds = xmalloc((n ? n : 1) * sizeof(int)),
		           .pkgs = xcalloc(n, sizeof(*pl.pkgs)), .deferred = xcalloc(n, sizeof(bool)),
		           .done = xcalloc(n ? n : 1, sizeof(bool)), .n = n, .rootfd = -1,
		           .out = out, .in = in, .ready = ready, .lock = PTHREAD_MUTEX_INITIALIZER,
		           .more = PTHREAD_COND_INITIALIZER };
	int r = 0;
	for (size_t i = 0; i < n; i++)
		pl.fds[i] = -1;

	if (fchdir(tfd) < 0 || chroot(".") < 0 || chdir("/") < 0 ||
	    (pl.rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = -errno;
		xb_error("unpacking into %s: entering the target: %s", target, strerror(errno));
		send_record(out, n, r);
		goto out;
	}
	umask(022);
	/* where nobody reads the counts any more, writing them is no failure */
	signal(SIGPIPE, SIG_IGN);
	if (!(r = dpkgdb_init(pl.rootfd)) && !(r = extract_all(&pl))) {
		/* What the run waited for: the unpack beside the download is
		 * the download's time. */
		timings_since("unpack", pl.all_in);
		long long t0 = progress_now_ms();
		r = commit(pl.rootfd, pl.pkgs, n);
		timings_since("dpkg database", t0);
	}
	if (r != -XB_EINTR)
		send_record(out, n, r);
out:
	for (size_t j = 0; j < n; j++) {
		debinfo_release(&pl.pkgs[j]);
		if (pl.fds[j] >= 0)
			close(pl.fds[j]);
	}
	free(pl.fds);
	free(pl.pkgs);
	free(pl.deferred);
	free(pl.done);
	if (pl.rootfd >= 0)
		close(pl.rootfd);
	return r;
}

/* Every .deb is open at once in the child; make room if there are many. */
static void raise_fd_limit(size_t n)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= n + 64)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > n + 64 ? n + 64 : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* Reads records until the child closes the pipe; returns the first error
 * the child reported, or 0 and *db_ok when all went through. */
static int collect(int fd, size_t n, unpack_progress_fn progress, void *ctx, bool *db_ok)
{
	struct record rec;
	size_t have = 0, done = 0;
	int first = 0;
	for (;;) {
		ssize_t got = read(fd, (char *)&rec + have, sizeof(rec) - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return first;
		have += (size_t)got;
		if (have < sizeof(rec))
			continue;
		have = 0;
		if (rec.code && !first)
			first = rec.code;
		else if (!rec.code && rec.index < n && progress)
			progress(ctx, ++done, n);
		else if (!rec.code && rec.index == n)
			*db_ok = true;
	}
}

static int wait_child(pid_t pid, const char *target, int r, bool db_ok)
{
	int st, w = xb_waitpid(pid, &st);
	if (w < 0)
		return w;
	if (r)
		return r;
	if (!WIFEXITED(st) || WEXITSTATUS(st) || !db_ok) {
		xb_error("unpacking into %s: the unpacking process failed (status %d)", target,
		         xb_wait_code(st));
		return -XB_ECHILD;
	}
	return 0;
}

struct unpack_job {
	const char *target; /* not owned */
	const struct unpack_item *items;
	size_t n;
	pid_t pid;
	int sock; /* (index, descriptor) messages to the child */
	int rec;  /* its records */
};

int unpack_start(const char *target, const struct unpack_item *items, size_t n, int ready_fd,
                 struct unpack_job **out)
{
	int tfd = -1, sv[2] = { -1, -1 }, pfd[2] = { -1, -1 }, r = 0;

	*out = NULL;
	raise_fd_limit(n);
	tfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0) {
		r = -errno;
		xb_error("unpacking into %s: %s", target, strerror(errno));
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(pfd, O_CLOEXEC) < 0) {
		r = -errno;
		xb_error("unpacking into %s: %s", target, strerror(errno));
		goto out;
	}
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		xb_error("unpacking into %s: fork: %s", target, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(sv[0]);
		close(pfd[0]);
		_exit(child_run(target, tfd, items, n, sv[1], pfd[1], ready_fd) ? 1 : 0);
	}
	struct unpack_job *j = xmalloc(sizeof(*j));
	*j = (struct unpack_job){ target, items, n, pid, steal_fd(&sv[0]), steal_fd(&pfd[0]) };
	*out = j;
out:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (pfd[i] >= 0)
			close(pfd[i]);
	}
	if (tfd >= 0)
		close(tfd);
	return r;
}

int unpack_ready(struct unpack_job *j, size_t i)
{
	int fd = open(j->items[i].deb, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		xb_error("opening %s: %s", j->items[i].deb, strerror(e));
		return -e;
	}
	uint32_t index = (uint32_t)i;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = { &index, sizeof(index) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
		             .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	ssize_t sent;
	while ((sent = sendmsg(j->sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	close(fd);
	/* The child stopped (it failed, and says why in unpack_finish). */
	return sent < 0 ? -XB_ECHILD : 0;
}

int unpack_finish(struct unpack_job *j, int why, unpack_progress_fn progress, void *ctx)
{
	bool db_ok = false;
	int st;
	/* The end of the stream, whoever else holds the socket (a child forked
	 * meanwhile, as the second stage beside the unpack is). */
	shutdown(j->sock, SHUT_WR);
	close(steal_fd(&j->sock));
	int r = collect(j->rec, j->n, why ? NULL : progress, ctx, &db_ok);
	if (!why)
		r = wait_child(j->pid, j->target, r, db_ok);
	else /* cut short: the caller reported why; the child said nothing */
		xb_waitpid(j->pid, &st);
	close(j->rec);
	free(j);
	return why ? why : r;
}

int unpack_debs(const char *target, const struct unpack_item *items, size_t n,
                unpack_progress_fn progress, void *ctx)
{
	struct unpack_job *j;
	int r = unpack_start(target, items, n, -1, &j);
	for (size_t i = 0; !r && i < n; i++)
		r = unpack_ready(j, i);
	/* A send the child refused: its own error is the one to report. */
	return j ? unpack_finish(j, r == -XB_ECHILD ? 0 : r, progress, ctx) : r;
}
