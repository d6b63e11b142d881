/* secondstage: the maintainer scripts inside the target, phase by phase
 * (core/secondstage/phase), and the database as dpkg --configure would
 * leave it. */
#include "secondstage.h"
#include "phase.h"
#include "../pkgset/order.h"

#include "../base/inroot.h"
#include "../base/progress.h"
#include "../base/spawn.h"
#include "../base/timings.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

static const char policy_rc_d_text[] = "#!/bin/sh\n# written by xboot for the bootstrap; removed after it\nexit 101\n";

/* policy-rc.d, inside the target (it has packages in it by now). */
static int policy_rc_d(const char *target, bool write)
{
	cleanup_fd int rootfd = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
	const char *path = "usr/sbin/policy-rc.d";
	int r = rootfd < 0 ? -errno
	        : write ? inroot_write_file(rootfd, path, policy_rc_d_text, sizeof(policy_rc_d_text) - 1, 0755)
	                : inroot_unlink(rootfd, path);
	if (r)
		xb_error("%s %s/%s: %s", write ? "writing" : "removing", target, path, strerror(-r));
	return r;
}

int secondstage_prepare(const char *target) { return policy_rc_d(target, true); }
int secondstage_cleanup(const char *target) { return policy_rc_d(target, false); }

/* Where the packages of phase and those before it end (the install order
 * is in phases). */
static size_t phase_end(const struct secondstage *s, int phase)
{
	size_t i = 0;
	while (i < s->n && s->pkgs[i].phase <= phase)
		i++;
	return i;
}

static int run_scripts(const struct secondstage *s, struct phase_db *db, const char *script,
                       size_t from, size_t to, const char *phase)
{
	struct progress pr;
	bool pre = !strcmp(script, "preinst");
	/* Preinsts begin beside the unpack once what any may use is in the
	 * tree (the essential set, debconf) and each its own package and those
	 * before it, as dpkg runs each before its own unpack; postinsts after
	 * it. */
	ssize_t dc = resolve_find(s->pkgs, s->n, "debconf");
	size_t first = phase_end(s, ORDER_ESSENTIAL);
	if (dc >= 0 && (size_t)dc >= first)
		first = (size_t)dc + 1;
	int r = pre ? unpacked_wait(&db->un, first) : phase_db_whole(db);
	if (r || db->un.failed)
		return r ? r : -XB_ECHILD;
	long long t0 = progress_now_ms();
	if (!pre)
		progress_begin(&pr, "configuring", false);
	r = phase_run(s, db, script, from, to, phase, pre ? NULL : &pr);
	if (!pre)
		progress_end(&pr);
	if (!r && !xb_interrupted)
		r = phase_db_whole(db);
	/* what ran beside the unpack is counted in the unpack's time */
	timings_beside(phase, t0, db->un.all ? db->un.all_ms : progress_now_ms());
	if (r || xb_interrupted)
		return r;
	/* Activations by preinsts find no package configured: dpkg drops them. */
	if (pre)
		return dpkgtrig_drop_early(db->rootfd, &db->triggers, s->pkgs, s->n, 0);
	return dpkgtrig_activate(db->rootfd, &db->triggers, s->pkgs, s->n, from, to);
}

/* dpkg itself: it incorporates the trigger activations and runs the
 * trigger scripts.  Last, with --configure --pending, it would also
 * configure anything left unconfigured; after the essential set alone
 * (for an --essential-hook), --triggers-only leaves the rest unpacked, and
 * --force-depends lets essential packages' triggers run before the
 * libraries they depend on are configured, as their postinsts just did. */
static int run_dpkg(const struct secondstage *s, bool last)
{
	cleanup_strvec struct strvec env = STRVEC_INIT;
	struct spawn_opts o = SPAWN_OPTS_INIT;
	char *final[] = { "dpkg", "--configure", "--pending", NULL };
	char *essential[] = { "dpkg", "--force-depends", "--triggers-only", "--pending", NULL };
	int status;
	long long t0 = progress_now_ms();
	phase_base_env(&env);
	o.envp = env.v;
	o.in_fd = -2;
	if (phase_quiet(s))
		o.out_fd = o.err_fd = s->log_fd;
	int r = xb_spawn(last ? final : essential, &o, &status);
	timings_since("triggers (dpkg --configure)", t0);
	if (r == -XB_ECHILD && status != 126 && status != 127)
		xb_error("processing the triggers failed (dpkg exit status %d)%s%s", status,
		         phase_quiet(s) ? "; its output is in " : "", phase_quiet(s) ? s->log_name : "");
	return r;
}


/* The postinsts phase by phase, as debootstrap configures: the essential
 * set, then the rest of the required set, then the others, each phase
 * done before the next begins (scripts use the earlier phases without
 * declaring so: ucf calls awk).  dpkg, run last, takes the journal of
 * configured packages into the status file (as it would after its own
 * crash), before an --essential-hook reads it. */
static int run_parts(const struct secondstage *s, struct phase_db *db)
{
	size_t n_ess = phase_end(s, ORDER_ESSENTIAL), n_req = phase_end(s, ORDER_REQUIRED);
	int r;
	if (s->part != SECONDSTAGE_REST) {
		if ((r = run_scripts(s, db, "preinst", 0, s->n, "preinst")) < 0 ||
		    (r = run_scripts(s, db, "postinst", 0, n_ess, "postinst: essential")) < 0)
			return r;
		if (s->part == SECONDSTAGE_ESSENTIAL)
			return xb_interrupted ? 0 : run_dpkg(s, false);
	}
	if ((r = run_scripts(s, db, "postinst", n_ess, n_req, "postinst: required")) < 0 ||
	    xb_interrupted ||
	    (r = run_scripts(s, db, "postinst", n_req, s->n, "postinst: the rest")) < 0 ||
	    xb_interrupted)
		return r;
	return run_dpkg(s, true);
}

int secondstage_run(void *ctx)
{
	const struct secondstage *s = ctx;
	struct phase_db db = { .rootfd = -1, .status = DPKGDB_STATUS_INIT, .triggers = DPKGTRIG_INIT };
	unsigned shown = xb_errors_shown();
	int r = 0;

	unpacked_init(&db.un, s->ready_fd, s->n);
	/* dpkg runs every script with this umask, whatever its caller's. */
	umask(022);
	if ((db.rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = -errno;
		xb_error("second stage: opening the root: %s", strerror(-r));
	}
	if (!r && (!db.un.all || !(r = phase_db_whole(&db))))
		r = run_parts(s, &db);
	dpkgdb_status_release(&db.status);
	dpkgtrig_release(&db.triggers);
	if (db.rootfd >= 0)
		close(db.rootfd);
	/* The unpack beside it failed: that says why, and the run stops. */
	if (db.un.failed)
		return SECONDSTAGE_UNPACK_FAILED;
	if (r < 0 && r != -XB_EINTR && xb_errors_shown() == shown)
		xb_error("the second stage failed: %s", xb_strerror(r));
	return xb_interrupted || r == -XB_EINTR ? 130 : r ? 1 : 0;
}
