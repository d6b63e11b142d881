/* unpack: .deb extraction (core/dpkg/debfile) on all cores in a child
 * chrooted into the target, and the dpkg database (core/dpkg/dpkgdb and
 * dpkgtrig) written from the same child.
 *
 * The parent opens every .deb before fork(); the child enters the target
 * with chroot(".") and reads them through the inherited descriptors, so
 * every path it writes, including through symlinks planted by packages, is
 * resolved by the kernel inside the target.  The child sends one record per
 * package (and one for the database) back over a pipe; the parent turns
 * them into progress calls and its return code. */
#include "unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "debfile.h"
#include "dpkgdb.h"
#include "dpkgtrig.h"
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

/* Whether the package's Replaces names another package of the set: then
 * both may ship a path, and the replacing one must be extracted after the
 * other, as dpkg would, not concurrently with it. */
static bool replaces_one_of(const struct debinfo *pkg, void *ctx)
{
	const struct unpack_set *set = ctx;
	const char *v = deb822_get(&pkg->control, "Replaces");
	while (v && *v) {
		v += strspn(v, " \t\n,|");
		size_t len = strcspn(v, " \t\n,|(:");
		for (size_t i = 0; len && i < set->n; i++) {
			const char *name = set->items[i].name;
			if (name && strlen(name) == len && !memcmp(name, v, len) &&
			    strcmp(name, pkg->name))
				return true;
		}
		v += len;
		v += strcspn(v, ",|");
	}
	return false;
}

static void send_record(int fd, size_t index, int code)
{
	struct record rec = { (uint32_t)index, code };
	/* A lost record shows up in the parent as a missing one. */
	(void)xb_write_all(fd, &rec, sizeof(rec));
}

/* Work shared by the extraction threads of the child. */
struct pool {
	const struct unpack_item *items;
	const int *fds;
	struct debinfo *pkgs;
	bool *deferred;
	size_t n;
	int rootfd, out;
	pthread_mutex_t lock; /* guards next and failed */
	size_t next;
	int failed;
};

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
	return r;
}

static void *worker(void *arg)
{
	struct pool *pl = arg;
	for (;;) {
		pthread_mutex_lock(&pl->lock);
		size_t i = pl->failed ? pl->n : pl->next++;
		pthread_mutex_unlock(&pl->lock);
		if (i >= pl->n)
			return NULL;
		int r = extract_index(pl, i, true);
		if (r) {
			pthread_mutex_lock(&pl->lock);
			if (!pl->failed)
				pl->failed = r;
			pthread_mutex_unlock(&pl->lock);
		}
	}
}

/* Packages are independent but for paths one of them Replaces: those are
 * deferred by the workers and extracted afterwards, in order. */
static int extract_all(struct pool *pl)
{
	int cpus = xb_ncpus();
	size_t nt = cpus > 4 ? 4 : (size_t)cpus, started = 0;
	pthread_t tid[4];
	while (started + 1 < nt && pthread_create(&tid[started], NULL, worker, pl) == 0)
		started++;
	worker(pl);
	for (size_t t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
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

static int child_run(const char *target, int tfd, const struct unpack_item *items,
                     const int *fds, size_t n, int out)
{
	struct pool pl = { items, fds, xcalloc(n, sizeof(*pl.pkgs)), xcalloc(n, sizeof(bool)),
	                   n, -1, out, PTHREAD_MUTEX_INITIALIZER, 0, 0 };
	int r = 0;

	if (fchdir(tfd) < 0 || chroot(".") < 0 || chdir("/") < 0 ||
	    (pl.rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = -errno;
		xb_error("unpacking into %s: entering the target: %s", target, strerror(errno));
		send_record(out, n, r);
		goto out;
	}
	umask(022);
	long long t0 = progress_now_ms();
	if (!(r = dpkgdb_init(pl.rootfd)) && !(r = extract_all(&pl))) {
		timings_since("unpack", t0);
		t0 = progress_now_ms();
		r = commit(pl.rootfd, pl.pkgs, n);
		timings_since("dpkg database", t0);
	}
	send_record(out, n, r);
out:
	for (size_t j = 0; j < n; j++)
		debinfo_release(&pl.pkgs[j]);
	free(pl.pkgs);
	free(pl.deferred);
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
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (r)
		return r;
	if (!WIFEXITED(st) || WEXITSTATUS(st) || !db_ok) {
		xb_error("unpacking into %s: the unpacking process failed (status %d)", target,
		         xb_wait_code(st));
		return -XB_ECHILD;
	}
	return 0;
}

int unpack_debs(const char *target, const struct unpack_item *items, size_t n,
                unpack_progress_fn progress, void *ctx)
{
	int tfd = -1, pfd[2] = { -1, -1 }, r = 0;
	int *fds = xmalloc((n ? n : 1) * sizeof(*fds));
	size_t opened = 0;
	bool db_ok = false;

	raise_fd_limit(n);
	tfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0) {
		r = -errno;
		xb_error("unpacking into %s: %s", target, strerror(errno));
		goto out;
	}
	for (; opened < n; opened++) {
		fds[opened] = open(items[opened].deb, O_RDONLY | O_CLOEXEC);
		if (fds[opened] < 0) {
			r = -errno;
			xb_error("opening %s: %s", items[opened].deb, strerror(errno));
			goto out;
		}
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = -errno;
		xb_error("unpacking into %s: pipe: %s", target, strerror(errno));
		goto out;
	}
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		xb_error("unpacking into %s: fork: %s", target, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(pfd[0]);
		r = child_run(target, tfd, items, fds, n, pfd[1]);
		_exit(r ? 1 : 0);
	}
	close(pfd[1]);
	pfd[1] = -1;
	r = collect(pfd[0], n, progress, ctx, &db_ok);
	r = wait_child(pid, target, r, db_ok);
out:
	for (size_t i = 0; i < opened; i++)
		close(fds[i]);
	free(fds);
	for (int i = 0; i < 2; i++)
		if (pfd[i] >= 0)
			close(pfd[i]);
	if (tfd >= 0)
		close(tfd);
	return r;
}
