/* phase: one phase of maintainer scripts (see phase.h). */
#include "phase.h"

#include "../dpkg/dpkgdb.h"
#include "debconfsplit.h"
#include "maintscript.h"
#include "../base/progress.h"
#include "../base/spawn.h"
#include "../base/timings.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

void phase_base_env(struct strvec *env)
{
	strvec_pushl(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	             "HOME=/root", "LC_ALL=C.UTF-8", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive",
	             "DEBCONF_NONINTERACTIVE_SEEN=true", "DPKG_ADMINDIR=/" DPKGDB, "DPKG_ROOT=",
	             "TERM=dumb", NULL);
}

static const char *dpkg_version(const struct secondstage *s)
{
	ssize_t i = resolve_find(s->pkgs, s->n, "dpkg");
	return i < 0 ? "" : s->pkgs[i].version;
}

bool phase_quiet(const struct secondstage *s)
{
	return s->log_fd >= 0 && xb_verbosity < 2;
}

struct job {
	const struct xb_pkg *p;
	char *script;   /* path inside the target; NULL: the package has none */
	unsigned cls;   /* maintscript classes of the script (and config) */
	enum { JOB_WAITING, JOB_RUNNING, JOB_DONE } state;
	pid_t pid;
	int pidfd;      /* while it runs, to wait for it beside the unpack; -1: none */
	int out;        /* memfd holding the script's output, or -1 */
	long long t0;   /* when it started */
	const struct job *waits_for; /* what it waited for last, for -d */
	bool needs_all; /* may start only once the unpack and its database are whole */
	bool debconf_copy; /* uses debconf, on a copy of its own (debconfsplit.h) */
	struct strvec undiverted; /* of MAINTSCRIPT_UNDIVERT (maintscript.h) */
};

/* What a script must not start before: the whole unpack and its database
 * (the dpkg tools read it, and its status comes at the unpack's end; the
 * others read what all packages ship). */
#define NEEDS_ALL                                                                             \
	(MAINTSCRIPT_GLOBAL | MAINTSCRIPT_DIVERT | MAINTSCRIPT_DIVERT_ADD | MAINTSCRIPT_UNDIVERT | \
	 MAINTSCRIPT_STATUS | MAINTSCRIPT_TRIGGERS | MAINTSCRIPT_STATOVERRIDE |                    \
	 MAINTSCRIPT_STATOVERRIDE_READ | MAINTSCRIPT_CACERTS | MAINTSCRIPT_LDCONFIG)

/* Whether a preinst's text may read the dpkg database where its classes
 * do not say so: a dpkg tool (dpkg -s, dpkg-query of fields configuring
 * leaves alone, a path under /var/lib/dpkg, perl's Dpkg), apt's.  Not
 * dpkg --compare-versions, which reads nothing, nor
 * dpkg-maintscript-helper, which does nothing in a preinst run for an
 * install (no version before), as each is here; DPKG_ROOT and the like
 * are variables. */
static bool reads_db(const char *text)
{
	if (strstr(text, "Dpkg::") || strstr(text, "apt-get") || strstr(text, "apt-cache") ||
	    strstr(text, "aptitude"))
		return true;
	for (const char *p = text; (p = strstr(p, "dpkg")); p += 4) {
		if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
			continue;
		const char *after = p + 4;
		if (str_starts_with(after, "-maintscript-helper"))
			continue;
		after += strspn(after, " \t");
		if (after > p + 4 && str_starts_with(after, "--compare-versions"))
			continue;
		return true;
	}
	return false;
}

/* The unpack done, its database read (once). */
int phase_db_whole(struct phase_db *db)
{
	int r = unpacked_wait_all(&db->un);
	if (r || db->loaded)
		return r;
	if (db->un.failed)
		return -XB_ECHILD;
	if (!(r = dpkgdb_status_load(db->rootfd, &db->status)))
		r = dpkgtrig_load(db->rootfd, &db->triggers);
	db->loaded = !r;
	return r;
}

struct phase {
	const struct secondstage *s;
	struct phase_db *db;
	const char *script;  /* "preinst" or "postinst" */
	const char *timing;  /* its name in --timings */
	struct job *jobs;    /* in install order */
	size_t *order;       /* the order start_ready tries them in (phase_order) */
	size_t n;
	size_t from;         /* position of jobs[0] in s->pkgs */
	size_t known;        /* jobs read so far: those whose packages are in the tree */
	struct progress *pr; /* packages configured; NULL for preinsts */
	struct debconfsplit debconf;
	bool copies;         /* debconf users on copies of the database */
	bool base_names;     /* base-passwd's users and groups are there */
};

/* Is there a program of this name in the PATH of the scripts (or, for
 * insserv, where update-rc.d looks for it)? */
static bool installed(const char *tool)
{
	if (!strcmp(tool, "insserv") && access("/usr/lib/insserv/insserv", X_OK) == 0)
		return true;
	static const char *const dirs[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
		                            "/usr/bin", "/sbin", "/bin" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		cleanup_free char *path = xasprintf("%s/%s", dirs[i], tool);
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
}

/* Adds the classes of the script at path to the job's; -ENOENT when
 * there is none.  An unreadable script runs alone.  Before the tree is
 * whole, any tool may still come: each is taken as there. */
static int add_classes(const char *path, struct job *jb, bool whole)
{
	cleanup_strbuf struct strbuf text = STRBUF_INIT;
	int r = xb_read_file(path, &text);
	if (r == -ENOENT)
		return r;
	jb->cls |= r < 0 ? MAINTSCRIPT_GLOBAL
	                 : maintscript_classes(text.buf, text.len, whole ? installed : NULL,
	                                       &jb->undiverted);
	jb->needs_all |= r < 0 || (jb->cls & NEEDS_ALL) || reads_db(text.buf);
	return 0;
}

/* The order start_ready tries the jobs in: where more are ready than can
 * run, those with the longest chain of scripts waiting on them (through
 * dependencies and shared registries) first, so that the chain that ends
 * the phase starts as early as it can; install order between equals.
 * Any order of ready jobs is one that a run of one script at a time
 * could have taken; that run itself keeps dpkg's, install order. */
static void phase_order(struct phase *ph)
{
	size_t n = ph->n;
	for (size_t i = 0; i < n; i++)
		ph->order[i] = i;
	if (ph->s->jobs <= 1)
		return;
	/* below[j]: the longest chain of scripts after j; with j's own, its
	 * height.  As if what removes diversions will find none to remove. */
	size_t *below = xcalloc(n + 1, sizeof(size_t));
	const unsigned guess = ~(unsigned)MAINTSCRIPT_UNDIVERT;
#define HEIGHT(j) (below[j] + (ph->jobs[j].script != NULL))
	for (size_t j = n; j-- > 0;) {
		const struct job *jb = &ph->jobs[j];
		size_t h = HEIGHT(j);
		for (size_t d = 0; d < jb->p->n_deps; d++) {
			size_t pos = jb->p->deps[d];
			if (pos >= ph->from && pos < ph->from + j && below[pos - ph->from] < h)
				below[pos - ph->from] = h;
		}
		for (size_t k = 0; k < j && jb->script; k++)
			if (ph->jobs[k].script && below[k] < h &&
			    maintscript_conflict(ph->jobs[k].cls & guess, jb->cls & guess))
				below[k] = h;
	}
	for (size_t i = 1; i < n; i++) { /* a stable insertion sort: n is a few hundred */
		size_t k = i;
		for (; k > 0 && HEIGHT(ph->order[k - 1]) < HEIGHT(i); k--)
			ph->order[k] = ph->order[k - 1];
		ph->order[k] = i;
	}
#undef HEIGHT
	free(below);
}

/* Job j, its package in the tree: its script and what that touches. */
static void job_init(struct phase *ph, size_t j)
{
	struct job *jb = &ph->jobs[j];
	const char *script = ph->script;
	bool whole = ph->db->un.all;
	cleanup_free char *info = dpkgdb_info_name(jb->p->name, jb->p->arch, jb->p->multi_arch &&
	                                           !strcmp(jb->p->multi_arch, "same"));
	jb->script = xasprintf("/" DPKGDB "/info/%s.%s", info, script);
	if (add_classes(jb->script, jb, whole) == -ENOENT) {
		free(xb_steal(&jb->script));
		return;
	}
	/* The debconf frontend runs the config script first. */
	cleanup_free char *config = xasprintf("/" DPKGDB "/info/%s.config", info);
	if (!strcmp(script, "postinst"))
		add_classes(config, jb, whole);
	/* no status changes while the preinsts run; diversions do */
	if ((jb->cls & MAINTSCRIPT_STATUS) && !strcmp(script, "preinst"))
		jb->cls = (jb->cls & ~(unsigned)MAINTSCRIPT_STATUS) | MAINTSCRIPT_DIVERT;
	if (jb->cls & MAINTSCRIPT_BASE_NAMES)
		jb->cls = (jb->cls & ~(unsigned)MAINTSCRIPT_BASE_NAMES) |
		          (ph->base_names ? 0 : MAINTSCRIPT_ACCOUNTS);
	if (ph->copies && (jb->cls & MAINTSCRIPT_DEBCONF)) {
		jb->debconf_copy = true;
		jb->cls &= ~(unsigned)MAINTSCRIPT_DEBCONF;
		xb_debug("the %s of %s uses debconf: on a copy of the database", script, jb->p->name);
	}
}

/* The jobs whose packages the unpack has put in the tree since. */
static void phase_learn(struct phase *ph)
{
	size_t in = ph->db->un.prefix > ph->from ? ph->db->un.prefix - ph->from : 0;
	if (in > ph->n)
		in = ph->n;
	if (in <= ph->known)
		return;
	while (ph->known < in)
		job_init(ph, ph->known++);
	phase_order(ph);
}

static void phase_init(struct phase *ph, const struct secondstage *s, struct phase_db *db,
                       const char *script, size_t from, size_t to)
{
	*ph = (struct phase){ .s = s, .db = db, .script = script, .n = to - from, .from = from,
		              .jobs = xcalloc(to - from + 1, sizeof(struct job)),
		              .order = xcalloc(to - from + 1, sizeof(size_t)) };
	ph->copies = s->jobs > 1 && debconfsplit_begin(&ph->debconf, db->rootfd);
	/* base-passwd's users and groups are there once it is configured */
	ssize_t bp = resolve_find(s->pkgs, s->n, "base-passwd");
	ph->base_names = !strcmp(script, "postinst") && bp >= 0 && (size_t)bp < from;
	for (size_t j = 0; j < ph->n; j++) {
		ph->jobs[j].p = &s->pkgs[from + j];
		ph->jobs[j].out = ph->jobs[j].pidfd = -1;
		ph->jobs[j].undiverted = (struct strvec)STRVEC_INIT;
		ph->order[j] = j;
	}
	phase_learn(ph);
}

static void phase_release(struct phase *ph)
{
	debconfsplit_end(&ph->debconf);
	for (size_t j = 0; j < ph->n; j++) {
		free(ph->jobs[j].script);
		strvec_clear(&ph->jobs[j].undiverted);
		if (ph->jobs[j].out >= 0)
			close(ph->jobs[j].out);
		if (ph->jobs[j].pidfd >= 0)
			close(ph->jobs[j].pidfd);
	}
	free(ph->jobs);
	free(ph->order);
}

/* A script that removes only diversions the packages it names hold
 * moves a file only if one of them holds a diversion when it runs.  What
 * the registry holds now stays so but for what scripts before it do
 * (those after it wait for it): once none of those that may add one is
 * left, none held now means none then; one held now, once none that may
 * remove it is left either. */
static void settle_undivert(struct phase *ph, size_t j)
{
	struct job *jb = &ph->jobs[j];
	bool removers = false;
	for (size_t k = 0; k < j; k++) {
		const struct job *e = &ph->jobs[k];
		if (e->state == JOB_DONE || !e->script)
			continue;
		if (e->cls & (MAINTSCRIPT_GLOBAL | MAINTSCRIPT_DIVERT_ADD))
			return;
		removers |= (e->cls & (MAINTSCRIPT_DIVERT | MAINTSCRIPT_UNDIVERT)) != 0;
	}
	/* A registry that cannot be read (said once) is taken as holding some. */
	int held = dpkgdb_diverted_by(ph->db->rootfd, &jb->undiverted);
	if (held > 0 && removers)
		return;
	jb->cls = (jb->cls & ~(unsigned)MAINTSCRIPT_UNDIVERT) | (held ? MAINTSCRIPT_GLOBAL : 0);
	xb_debug("the %s of %s removes diversions of %s, which %s", ph->script, jb->p->name,
	         jb->undiverted.n ? jb->undiverted.v[0] : "?",
	         held ? "holds some (or cannot be read): alone" : "holds none: beside others");
}

/* Can job j start?  Its dependencies in this phase that come before it are
 * done (a later one closes a cycle, which dpkg breaks too), and no earlier
 * script that shares a registry with it is waiting or running: each
 * registry sees the scripts in install order. */
static bool ready(struct phase *ph, size_t j)
{
	struct job *jb = &ph->jobs[j];
	const struct job *by = NULL;
	const char *why = "its dependency";
	/* the packages up to its own in the tree; the database for dpkg's tools */
	if (j >= ph->known || (jb->needs_all && !ph->db->loaded))
		return false;
	if (jb->cls & MAINTSCRIPT_UNDIVERT)
		settle_undivert(ph, j);
	for (size_t d = 0; d < jb->p->n_deps && !by; d++) {
		size_t pos = jb->p->deps[d]; /* before this phase: done; after j: a cycle */
		if (pos >= ph->from && pos < ph->from + j && ph->jobs[pos - ph->from].state != JOB_DONE)
			by = &ph->jobs[pos - ph->from];
	}
	for (size_t k = 0; k < j && jb->script && !by; k++)
		if (ph->jobs[k].state != JOB_DONE && ph->jobs[k].script &&
		    maintscript_conflict(ph->jobs[k].cls, jb->cls)) {
			by = &ph->jobs[k];
			why = "a registry they share";
		}
	/* -d: why a script waits (each time the reason changes), for tuning
	 * the classes */
	if (by && by != jb->waits_for && xb_verbosity >= 3)
		xb_debug("the %s of %s waits for %s (%s; classes %#x, %#x)", ph->script, jb->p->name,
		         by->p->name, why, jb->cls, by->cls);
	jb->waits_for = by;
	return !by;
}

/* The line dpkg prints before a script's output. */
static void add_header(const struct phase *ph, const struct job *jb, struct strbuf *text)
{
	strbuf_addf(text, "%s %s (%s) ...\n",
	            strcmp(ph->script, "preinst") ? "Setting up" : "Preparing to unpack",
	            jb->p->name, jb->p->version);
}

static int start_job(struct phase *ph, struct job *jb)
{
	const struct secondstage *s = ph->s;
	const struct xb_pkg *p = jb->p;
	cleanup_strvec struct strvec env = STRVEC_INIT;
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	struct spawn_opts o = SPAWN_OPTS_INIT;
	int status, r;

	phase_base_env(&env);
	strvec_pushf(&env, "DPKG_MAINTSCRIPT_PACKAGE=%s", p->name);
	strvec_pushf(&env, "DPKG_MAINTSCRIPT_ARCH=%s", p->arch);
	strvec_pushf(&env, "DPKG_MAINTSCRIPT_NAME=%s", ph->script);
	strvec_push(&env, "DPKG_MAINTSCRIPT_PACKAGE_REFCOUNT=1");
	strvec_push(&env, "DPKG_MAINTSCRIPT_DEBUG=0");
	strvec_pushf(&env, "DPKG_RUNNING_VERSION=%s", dpkg_version(s));
	/* debconf names a preinst's package from dpkg's tmp.ci/control, which
	 * scripts side by side cannot share: the name it would read there */
	if (!strcmp(ph->script, "preinst")) {
		strvec_pushf(&env, "DEBCONF_PACKAGE=%s", p->name);
		strvec_pushl(&argv, jb->script, "install", NULL);
	} else {
		strvec_pushl(&argv, jb->script, "configure", "", NULL);
	}
	if (jb->debconf_copy &&
	    (r = debconfsplit_start(&ph->debconf, ph->from + (size_t)(jb - ph->jobs), p->name, &env)) < 0)
		return r;
	/* Side by side, outputs would interleave: each goes to the log whole. */
	if (phase_quiet(s) && (jb->out = memfd_create("xboot-script", MFD_CLOEXEC)) < 0) {
		xb_error("running the %s of %s: memfd_create: %s", ph->script, p->name, strerror(errno));
		return -errno;
	}
	o.envp = env.v;
	o.in_fd = -2;
	o.out_fd = o.err_fd = jb->out;
	if (jb->out < 0) { /* shown as it comes, where the script's output goes */
		cleanup_strbuf struct strbuf head = STRBUF_INIT;
		add_header(ph, jb, &head);
		xb_write_all(STDOUT_FILENO, head.buf, head.len);
	}
	if ((r = xb_spawn_start(argv.v, &o, &jb->pid, &status)) < 0)
		return r;
	if (unpacked_coming(&ph->db->un))
		jb->pidfd = (int)syscall(SYS_pidfd_open, jb->pid, 0);
	jb->state = JOB_RUNNING;
	jb->t0 = progress_now_ms();
	xb_debug("running the %s of %s", ph->script, p->name);
	return 0;
}

static void flush_output(const struct phase *ph, struct job *jb)
{
	if (jb->out < 0)
		return;
	cleanup_strbuf struct strbuf text = STRBUF_INIT;
	add_header(ph, jb, &text);
	if (lseek(jb->out, 0, SEEK_SET) == 0)
		xb_read_fd(jb->out, &text);
	xb_write_all(ph->s->log_fd, text.buf, text.len);
	close(steal_fd(&jb->out));
}

/* A job that ended: its output to the log, its status in the database.
 * Only the first failure is reported (a script killed by the signal that
 * stops the run is no failure of its own); *err keeps it. */
static void job_done(struct phase *ph, struct job *jb, int code, int *err)
{
	if (jb->script) {
		long long ms = progress_now_ms() - jb->t0;
		xb_debug("the %s of %s took %.2f s", ph->script, jb->p->name, (double)ms / 1000.0);
		timings_script(ph->timing, ph->script, jb->p->name, ms);
	}
	/* What it changed in its copy, whether it failed or not, as debconf
	 * saves on the way out either way. */
	if (jb->debconf_copy && jb->state == JOB_RUNNING) {
		int r = debconfsplit_merge(&ph->debconf, ph->from + (size_t)(jb - ph->jobs), jb->p->name);
		if (r && !*err)
			*err = r;
	}
	jb->state = JOB_DONE;
	if (jb->pidfd >= 0)
		close(steal_fd(&jb->pidfd));
	flush_output(ph, jb);
	if (code) {
		bool signalled = code == 130 || code == 143;
		if (!*err && !signalled)
			xb_error("the %s script of %s failed (exit status %d)%s%s", ph->script,
			         jb->p->name, code, phase_quiet(ph->s) ? "; its output is in " : "",
			         phase_quiet(ph->s) ? ph->s->log_name : "");
		if (!*err)
			*err = signalled ? -XB_EINTR : -XB_ECHILD;
		return;
	}
	if (ph->pr) {
		size_t done = 0;
		for (size_t j = 0; j < ph->n; j++)
			done += ph->jobs[j].state == JOB_DONE;
		progress_update(ph->pr, ph->from + done, ph->s->n);
	}
	if (strcmp(ph->script, "postinst"))
		return;
	struct phase_db *db = ph->db;
	int r = dpkgdb_status_installed(db->rootfd, &db->status, jb->p->name, jb->p->arch);
	if (!r && (jb->cls & MAINTSCRIPT_TRIGGERS))
		r = dpkgtrig_drop_early(db->rootfd, &db->triggers, ph->s->pkgs, ph->s->n,
		                        (size_t)(jb->p - ph->s->pkgs));
	if (r && !*err)
		*err = r;
}

/* Starts what can start; returns how many jobs are running. */
static size_t start_ready(struct phase *ph, size_t *left, int *err)
{
	size_t running = 0;
	for (size_t j = 0; j < ph->n; j++)
		running += ph->jobs[j].state == JOB_RUNNING;
	for (size_t i = 0; i < ph->n && !*err && !xb_interrupted; i++) {
		size_t j = ph->order[i];
		struct job *jb = &ph->jobs[j];
		if (jb->state != JOB_WAITING || (jb->script && running >= (ph->s->jobs ? ph->s->jobs : 1)) || !ready(ph, j))
			continue;
		if (!jb->script) {
			(*left)--;
			job_done(ph, jb, 0, err);
			i = (size_t)-1; /* a dependency is done: look again from the start */
			continue;
		}
		if ((*err = start_job(ph, jb)) < 0)
			break;
		running++;
	}
	return running;
}

/* The job pid was, ended with wait status ws. */
static void reaped(struct phase *ph, pid_t pid, int ws, size_t *left, int *err)
{
	for (size_t j = 0; j < ph->n; j++) {
		struct job *jb = &ph->jobs[j];
		if (jb->state == JOB_RUNNING && jb->pid == pid) {
			(*left)--;
			job_done(ph, jb, xb_wait_code(ws), err);
		}
	}
	/* Another pid: an orphan of a script, reparented to us. */
}

/* Beside the unpack, with room for more: waits until a script ends or the
 * unpack tells of more, whichever comes first; then takes in the news and
 * reaps what ended.  Without pidfds, it looks again every 20 ms. */
static int await_either(struct phase *ph, size_t *left, int *err)
{
	struct pollfd p[9] = { { .fd = ph->db->un.fd, .events = POLLIN } };
	nfds_t n = 1;
	bool all_fds = true;
	for (size_t j = 0; j < ph->n; j++)
		if (ph->jobs[j].state == JOB_RUNNING) {
			if (ph->jobs[j].pidfd >= 0 && n < ARRAY_SIZE(p))
				p[n++] = (struct pollfd){ .fd = ph->jobs[j].pidfd, .events = POLLIN };
			else
				all_fds = false;
		}
	if (poll(p, n, all_fds ? -1 : 20) < 0 && errno == EINTR && xb_interrupted)
		return -XB_EINTR;
	int r = unpacked_learn(&ph->db->un, false), ws;
	if (r)
		return r;
	phase_learn(ph);
	for (pid_t pid; (pid = waitpid(-1, &ws, WNOHANG)) > 0;)
		reaped(ph, pid, ws, left, err);
	return 0;
}

static int run_phase(struct phase *ph)
{
	size_t left = ph->n;
	int err = 0;
	while (left) {
		/* what needs the database may start once it is written */
		int r = ph->db->un.all && !ph->db->loaded ? phase_db_whole(ph->db) : 0;
		if (r && !err)
			err = r;
		size_t running = start_ready(ph, &left, &err);
		bool coming = unpacked_coming(&ph->db->un) && !err;
		if (!running && !coming)
			break;
		if (coming && running < (ph->s->jobs ? ph->s->jobs : 1)) {
			if ((r = await_either(ph, &left, &err)) && !err)
				err = r;
			continue;
		}
		int ws;
		pid_t pid = waitpid(-1, &ws, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			xb_error("waiting for the %s scripts: %s", ph->script, strerror(errno));
			return -errno;
		}
		reaped(ph, pid, ws, &left, &err);
	}
	/* ready() looks only backwards: the first waiting job can start once
	 * those before it are done, so jobs are left over only after an error
	 * (or the unpack's failure). */
	if (!err && ph->db->un.failed)
		err = -XB_ECHILD;
	return err;
}

int phase_run(const struct secondstage *s, struct phase_db *db, const char *script, size_t from,
              size_t to, const char *timing, struct progress *pr)
{
	struct phase ph;
	phase_init(&ph, s, db, script, from, to);
	ph.timing = timing;
	ph.pr = pr;
	int r = run_phase(&ph);
	phase_release(&ph);
	return r;
}
