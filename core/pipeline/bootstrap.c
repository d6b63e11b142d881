/* bootstrap: the pipeline of one bootstrap, stage by stage: setup (hooks)
 * -> indices -> resolve -> download -> unpack (core/pipeline/stages) ->
 * second stage -> finish -> output, with the hooks between them.  Each
 * stage is a call with plain data between them (struct run, stages.h,
 * holds what one stage hands the next). */
#include "bootstrap.h"

#include "aptlists.h"
#include "bootable.h"
#include "configure.h"
#include "finish.h"
#include "offline.h"
#include "setup.h"
#include "stages.h"
#include "treecache.h"
#include "../base/inroot.h"
#include "../base/progress.h"
#include "../base/timings.h"
#include "../dpkg/debfile.h"
#include "../pkgset/order.h"
#include "../secondstage/secondstage.h"
#include "../secondstage/twostage.h"
#include "../../emu/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>



/* The log: --logfile on the host, else var/log/xboot.log in the tree
 * (resolved inside it: a setup hook may have put anything there). */
static int open_log(struct run *run, bool append)
{
	const char *host = run->plan->logfile;
	int fd;
	if (host) {
		fd = open(host, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			xb_error("--logfile=%s: %s", host, strerror(errno));
			return -errno;
		}
	} else {
		cleanup_fd int rootfd = open(run->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		cleanup_free char *last = NULL;
		cleanup_fd int dir = rootfd < 0 ? -1 : inroot_parent(rootfd, "var/log/xboot.log", true, &last);
		fd = dir < 0 ? -1 : openat(dir, last, O_RDWR | O_CREAT | (append ? O_APPEND : O_TRUNC) |
		                                          O_NOFOLLOW | O_CLOEXEC, 0644);
	}
	if (fd >= 0 && (run->log = fdopen(fd, "w")))
		xb_set_log(run->log);
	/* An archive's tree goes away: a failed run keeps its log beside it. */
	if (host)
		run->log_name = xstrdup(host);
	else if (run->root_owned && run->plan->format != OUTPUT_DIR)
		run->log_name = xasprintf("%s.log", run->plan->target);
	else
		run->log_name = xasprintf("var/log/xboot.log in %s", run->root);
	return 0;
}

/* The tree's log of a failed archive run, to TARGET.log. */
static void keep_log(const struct run *run)
{
	const struct xb_plan *p = run->plan;
	if (!run->log || p->logfile || p->format == OUTPUT_DIR || p->stop != PLAN_STOP_NONE ||
	    !strcmp(p->target, "-") || p->format == OUTPUT_NULL)
		return;
	fflush(run->log);
	cleanup_strbuf struct strbuf text = STRBUF_INIT;
	cleanup_fd int fd = dup(fileno(run->log));
	if (fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 && xb_read_fd(fd, &text) == 0 &&
	    xb_write_file_at(AT_FDCWD, run->log_name, text.buf, text.len, 0644) == 0)
		xb_info("the log of this run is in %s", run->log_name);
}

static void run_release(struct run *run)
{
	if (run->workdir)
		xb_rm_rf_at(AT_FDCWD, run->workdir);
	free(run->workdir);
	free(run->root_owned);
	free(run->log_name);
	aptopts_release(&run->apt);
	fetch_sources_release(&run->sources);
	strvec_clear(&run->packages);
	strvec_clear(&run->list_sums);
	strvec_clear(&run->pkg_mirror);
	strvec_clear(&run->pkg_suite);
	strvec_clear(&run->pkg_offline);
	strvec_clear(&run->offline);
	strvec_clear(&run->include);
	strvec_clear(&run->keyrings);
	strvec_clear(&run->debs);
	resolve_free(run->pkgs, run->n_pkgs);
	if (run->cache.dir)
		fetch_cache_close(&run->cache);
	if (run->log) {
		xb_set_log(NULL);
		fclose(run->log);
	}
}

/* The host's temporary directory of the run, and for an archive the tree
 * in it that the archive is made from. */
static int make_workdir(struct run *run, bool archive)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/xboot.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		int e = -errno;
		xb_error("creating a temporary directory %s: %s", dir, strerror(errno));
		free(dir);
		return e;
	}
	run->workdir = dir;
	if (!archive) {
		if (!(run->root = run->root_owned = realpath(run->plan->target, NULL))) {
			xb_error("%s: %s", run->plan->target, strerror(errno));
			return -errno;
		}
		return 0;
	}
	run->root = run->root_owned = xasprintf("%s/root", dir);
	if (mkdir(run->root, 0755) < 0) {
		xb_error("creating %s: %s", run->root, strerror(errno));
		return -errno;
	}
	return 0;
}

/* What hooks are told (core/pipeline/hooks). */
static void prepare_hooks(struct run *run)
{
	const struct xb_plan *p = run->plan;
	run->hooks = (struct hooks_env){ run->root, emu_arch_is_native(p->arch) ? NULL : p->arch,
		                         p->mode == PLAN_MODE_UNSHARE ? "unshare" : "root",
		                         output_format_name(p->format), p->arch->deb, run->workdir };
}

static int write_output(const struct run *run, int stdout_fd)
{
	const struct xb_plan *p = run->plan;
	struct output_opts oo = OUTPUT_OPTS_INIT;
	long long t0 = progress_now_ms();
	oo.source_date_epoch = p->source_date_epoch;
	oo.dev_nodes = p->dev_nodes;
	cleanup_free char *ref = plan_oci_ref(p);
	struct output_oci oci = { p->arch->deb, ref, p->oci_descriptor };
	struct bootable disk = { 0 };
	oo.oci = &oci;
	oo.disk = &disk.disk;
	if (stdout_fd >= 0 && dup2(stdout_fd, STDOUT_FILENO) < 0) {
		xb_error("writing the tar to standard output: %s", strerror(errno));
		return -errno;
	}
	int r = p->format == OUTPUT_DISK ? bootable_disk(p, run->root, run->workdir, &disk) : 0;
	if (!r)
		r = output_write(run->root, p->target, p->format, &oo);
	bootable_release(&disk);
	timings_since("output", t0);
	if (!r && p->format != OUTPUT_NULL)
		xb_info("wrote %s (%s) in %.1f s", p->target, output_format_name(p->format),
		        stage_seconds_since(t0));
	return r;
}

/* Whether base-files ships merged /usr's links itself (trixie's does,
 * bookworm's has directories there). */
static int distro_links(struct run *run, bool *yes)
{
	*yes = false;
	ssize_t i = resolve_find(run->pkgs, run->n_pkgs, "base-files");
	if (i < 0)
		return 0;
	int r = stage_fetch_one(run, (size_t)i);
	return r ? r : debfile_ships_symlink(run->debs.v[i], "bin", yes);
}

/* --skip=essential/unlink: the essential set's .debs in the tree's
 * apt archives, under apt's names, for the hooks (cleanup/apt/cache
 * removes them unless skipped too). */
static int keep_debs(const struct run *run)
{
	int r = 0;
	for (size_t i = 0; !r && i < run->n_pkgs; i++) {
		const struct xb_pkg *k = &run->pkgs[i];
		if (k->phase != ORDER_ESSENTIAL)
			continue;
		cleanup_strbuf struct strbuf name = STRBUF_INIT;
		strbuf_addf(&name, "%s_", k->name);
		for (const char *c = k->version; *c; c++) /* apt's name for an epoch's colon */
			*c == ':' ? strbuf_addstr(&name, "%3a") : strbuf_addch(&name, *c);
		strbuf_addf(&name, "_%s.deb", k->arch);
		r = aptlists_stage(run->workdir, APT_ARCHIVES, run->debs.v[i], name.buf);
	}
	return r ? r : aptlists_install(run->workdir, APT_ARCHIVES, run->root);
}

/* --foreign: the scripts are left for the board, with the policy-rc.d
 * they run under and what the clean-up removes after them. */
static int leave_second_stage(struct run *run)
{
	cleanup_strvec struct strvec remove = STRVEC_INIT;
	finish_after_scripts(run->plan, &remove);
	int r = secondstage_prepare(run->root);
	return r ? r : twostage_write(run->root, run->pkgs, run->n_pkgs, &remove);
}

/* What the scripts find in the tree besides the packages. */
static int after_unpack(void *ctx)
{
	struct run *run = ctx;
	int r = setup_options(run->plan, run->root);
	return r ? r : aptlists_install(run->workdir, APT_LISTS, run->root);
}

/* Whether the preinsts may begin while the rest unpacks: where nothing
 * else comes between (an extract hook, --skip=essential/unlink's .debs),
 * scripts run side by side at all, and no SOURCE_DATE_EPOCH asks for the
 * same tree each time (a directory's time is whichever came last, the
 * package's or a script's change). */
static bool unpack_beside(const struct xb_plan *p)
{
	unsigned jobs = (unsigned)(p->script_jobs > 0 ? p->script_jobs : xb_ncpus());
	return jobs > 1 && p->unlink_debs && !hooks_any(&p->hooks, HOOK_EXTRACT) &&
	       p->source_date_epoch < 0;
}

/* The whole unpack, and what comes before any script. */
static int unpack_whole(struct run *run)
{
	const struct xb_plan *p = run->plan;
	int r;
	if ((r = stage_unpack(run)) < 0 || (r = after_unpack(run)) < 0 ||
	    (!p->unlink_debs && (r = keep_debs(run)) < 0))
		return r;
	return hooks_run(&p->hooks, HOOK_EXTRACT, &run->hooks);
}

static int configure_scripts(struct run *run)
{
	const struct xb_plan *p = run->plan;
	int log_fd = run->log ? fileno(run->log) : -1, ready, r;
	struct stage_unpack_job *j;
	if (!unpack_beside(p))
		return (r = unpack_whole(run)) < 0 ? r
		       : configure_tree(p, &run->hooks, run->pkgs, run->n_pkgs, log_fd, run->log_name, -1);
	if ((r = stage_unpack_begin(run, after_unpack, run, &j, &ready)) < 0)
		return r;
	r = configure_tree(p, &run->hooks, run->pkgs, run->n_pkgs, log_fd, run->log_name, ready);
	/* A failure of the second stage stops the download; one of the unpack
	 * (reported there) is what stopped the second stage, quietly. */
	int ru = stage_unpack_end(j, r < 0);
	return ru ? ru : r;
}

/* From the unpack to the second stage's end: what the configured-tree
 * cache keeps. */
static int configure_fresh(struct run *run, struct treecache *tc)
{
	const struct xb_plan *p = run->plan;
	int r;
	/* extract: unpacked, and no script of them runs */
	if (!p->variant->scripts || p->two_stage) {
		if ((r = unpack_whole(run)) < 0)
			return r;
		return p->two_stage && p->variant->scripts ? leave_second_stage(run) : 0;
	}
	if ((r = configure_prepare(p, run->root)) < 0)
		return r;
	r = configure_scripts(run);
	if (!r && !xb_interrupted) {
		long long t0 = progress_now_ms();
		if (run->log)
			fflush(run->log);
		treecache_store(tc, run, p->cache_max ? p->cache_max : TREECACHE_MAX_DEFAULT);
		timings_since("configured-tree cache", t0);
	}
	return r;
}

/* From the unpack (or the cache's configured tree) to the customize
 * hooks: what hooks may use is in place (apt's lists, policy-rc.d, the
 * emulator) until the clean-up. */
static int fill_tree(struct run *run, struct treecache *tc, bool hit)
{
	const struct xb_plan *p = run->plan;
	int r = hit ? 0 : configure_fresh(run, tc);
	long long t0 = progress_now_ms();
	if (r < 0 ||
	    (r = finish_tree(p, run->hooks_sources_list ? NULL : &run->sources, run->root)) < 0 ||
	    (r = finish_apt_states(p, run->root, run->pkgs, run->n_pkgs)) < 0 ||
	    (r = bootable_login(p, run->root)) < 0)
		return r;
	timings_since("finish (apt, logins)", t0);
	return p->two_stage ? 0 : hooks_run(&p->hooks, HOOK_CUSTOMIZE, &run->hooks);
}

/* Before anything is fetched: the run's sources and keyrings, and with
 * setup hooks the empty tree, the hooks, and what they left in its
 * etc/apt. */
static int setup_tree(struct run *run)
{
	const struct xb_plan *p = run->plan;
	int r;
	for (size_t i = 0; i < p->sources.n; i++) {
		const struct fetch_source *e = &p->sources.v[i];
		strvec_pushv(&fetch_sources_add(&run->sources, e->uri, e->suite, &e->components)->options,
		             &e->options);
	}
	strvec_pushv(&run->keyrings, &p->keyrings);
	if (p->unpack_tarball && (r = offline_open(run, p->unpack_tarball)) < 0)
		return r;
	/* Without setup hooks, a run that fails before the download leaves
	 * TARGET untouched. */
	if (!hooks_any(&p->hooks, HOOK_SETUP))
		return 0;
	if ((r = setup_skeleton(p, run->root)) < 0 ||
	    (r = hooks_run(&p->hooks, HOOK_SETUP, &run->hooks)) < 0 || (r = open_log(run, false)) < 0)
		return r;
	cleanup_free char *list = xasprintf("%s/etc/apt/sources.list", run->root);
	run->hooks_sources_list = access(list, F_OK) == 0;
	return setup_tree_apt(p, run->root, &run->sources, &run->keyrings);
}

/* A configured tree from the cache, where there is one for these inputs;
 * the log goes on where its run left it.  The snapshot holds no device
 * node (a tar's run makes none, nor does unshare mode): the skeleton
 * makes /dev's where this run would. */
static int from_cache(struct run *run, struct treecache *tc, bool *hit)
{
	long long t0 = progress_now_ms();
	int r = treecache_prepare(tc, run);
	if (!r)
		r = treecache_restore(tc, run, hit);
	if (!r && *hit && !(r = setup_skeleton(run->plan, run->root)))
		r = open_log(run, true);
	timings_since("configured-tree cache", t0);
	return r;
}

/* Everything after the resolution, in the tree: the download goes with
 * the unpack, and a tree from the cache needs none. */
static int build_tree(struct run *run)
{
	const struct xb_plan *p = run->plan;
	struct treecache tc = { .lock_fd = -1 };
	bool links, hit = false;
	int r = stage_open_store(run);
	if (!r)
		r = from_cache(run, &tc, &hit);
	if (!r && !hit)
		r = stage_locate(run);
	if (!r && !hit && !hooks_any(&p->hooks, HOOK_SETUP) &&
	    !(r = setup_skeleton(p, run->root)))
		r = open_log(run, false);
	if (!r && !hit && !(r = distro_links(run, &links)))
		r = setup_merged_usr(p, run->root, links);
	if (!r)
		r = fill_tree(run, &tc, hit);
	treecache_release(&tc);
	if (r < 0)
		return r;
	if (p->variant->scripts && !p->two_stage && (r = configure_done(p, run->root)) < 0)
		return r;
	return finish_cleanup(p, run->root);
}

/* A tar on stdout: until it is written there, whatever a maintainer
 * script prints goes to stderr.  *saved gets the real stdout. */
static int divert_stdout(int *saved)
{
	if ((*saved = dup(STDOUT_FILENO)) >= 0 && dup2(STDERR_FILENO, STDOUT_FILENO) >= 0)
		return 0;
	int e = errno;
	xb_error("redirecting standard output: %s", strerror(e));
	if (*saved >= 0)
		close(steal_fd(saved));
	return -e;
}

static int run_stages(struct run *run, int stdout_fd)
{
	const struct xb_plan *p = run->plan;
	bool archive = p->format != OUTPUT_DIR || p->stop != PLAN_STOP_NONE;
	int r;
	if ((r = make_workdir(run, archive)) < 0)
		return r;
	prepare_hooks(run);
	if ((r = setup_tree(run)) < 0)
		return r;
	long long t0 = progress_now_ms();
	if ((r = stage_indices(run)) < 0)
		return r;
	timings_since("indices (fetch, verify)", t0);
	t0 = progress_now_ms();
	if ((r = stage_resolve(run)) < 0)
		return r;
	timings_since("resolve", t0);
	if (p->stop == PLAN_STOP_PRINT_DEBS || p->stop == PLAN_STOP_SIMULATE)
		return (r = stage_open_store(run)) < 0 ? r : stage_print_set(run);
	if (p->stop == PLAN_STOP_DOWNLOAD) {
		t0 = progress_now_ms();
		r = stage_download(run);
		timings_since("download", t0);
		return r || !p->make_tarball ? r : offline_write(run, p->make_tarball);
	}
	if (xb_interrupted)
		return -XB_EINTR;
	if ((r = build_tree(run)) < 0)
		return r;
	return archive ? write_output(run, stdout_fd) : 0;
}

/* What the process needs before the first stage: in unshare mode the
 * user namespace (before any thread: the whole run moves into it), and
 * libcurl. */
static int enter_process(const struct xb_plan *p)
{
	int r = p->mode == PLAN_MODE_UNSHARE ? emu_userns_become_root() : 0;
	return r < 0 ? r : fetch_http_init();
}

int bootstrap_run(const struct xb_plan *p)
{
	struct run run = { .plan = p, .root = p->target, .http = FETCH_HTTP_OPTS_INIT };
	long long t0 = progress_now_ms();
	int stdout_fd = -1;
	int r = p->stop == PLAN_STOP_NONE ? setup_check_target(p) : 0;

	if (r < 0 || (r = enter_process(p)) < 0)
		return r;
	if (p->timings && (r = timings_enable()) < 0) {
		xb_error("--timings: %s", strerror(-r));
		return r;
	}
	aptopts_read(&p->aptopts, &run.apt);
	run.http.proxy = run.apt.http_proxy;
	run.http.jobs = p->jobs;
	run.http.connect_timeout_s = run.http.stall_timeout_s = p->timeout;
	if (run.apt.retries >= 0)
		run.http.retries = (int)run.apt.retries;
	if (run.apt.retry_delay_max >= 0)
		run.http.retry_delay_max_s = run.apt.retry_delay_max;
	if (run.apt.no_retry_delay)
		run.http.retry_delay_max_s = 0;
	if (strcmp(p->target, "-") || (r = divert_stdout(&stdout_fd)) == 0)
		r = run_stages(&run, stdout_fd);
	if (!r && p->stop == PLAN_STOP_NONE && p->two_stage)
		xb_info("%s: the first stage of %s %s %s is done in %.1f s (%zu packages); the "
		        "second: chroot TARGET /debootstrap/debootstrap --second-stage", p->target,
		        p->suite, p->arch->deb, p->variant->name, stage_seconds_since(t0), run.n_pkgs);
	else if (!r && p->stop == PLAN_STOP_NONE)
		xb_info("%s: %s %s %s ready in %.1f s (%zu packages)", p->target, p->suite,
		        p->arch->deb, p->variant->name, stage_seconds_since(t0), run.n_pkgs);
	if (!r)
		timings_print(progress_now_ms() - t0);
	if (r == -XB_EINTR || (r < 0 && xb_interrupted)) {
		xb_error("interrupted; nothing is left mounted");
		r = -XB_EINTR;
	}
	if (stdout_fd >= 0)
		close(stdout_fd);
	if (r < 0)
		keep_log(&run);
	run_release(&run);
	fetch_http_cleanup();
	return r;
}
