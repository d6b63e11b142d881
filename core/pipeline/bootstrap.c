/* bootstrap: the pipeline of one bootstrap, stage by stage:
 * indices -> resolve -> download -> unpack -> second stage -> finish ->
 * output, with the hooks between them.  Each stage is a call with plain
 * data between them (struct run holds what one stage hands the next). */
#include "bootstrap.h"

#include "aptlists.h"
#include "aptopts.h"
#include "configure.h"
#include "localdebs.h"
#include "finish.h"
#include "setup.h"
#include "../base/inroot.h"
#include "../base/progress.h"
#include "../dpkg/debfile.h"
#include "../dpkg/dpkgfilter.h"
#include "../dpkg/unpack.h"
#include "../pkgset/order.h"
#include "../pkgset/resolve.h"
#include "../../emu/userns.h"
#include "../../fetch/cache.h"
#include "../../fetch/http.h"
#include "../../fetch/indices.h"
#include "../../fetch/release.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>

struct run {
	const struct xb_plan *plan;
	const char *root;         /* the tree being built: the target directory, or */
	char *root_owned;         /* WORKDIR/root when the target is an archive */
	char *workdir;            /* host temporary directory, removed at the end */
	struct fetch_http_opts http; /* the plan's timeouts and parallelism */
	struct fetch_sources sources; /* the plan's, and --updates' once the codename is known */
	struct strvec packages;   /* decompressed Packages files */
	struct strvec pkg_mirror; /* the mirror serving each of them */
	struct strvec pkg_suite;  /* and its suite (LOCALDEBS_SUITE for --include's .debs) */
	struct strvec include;    /* the plan's, and NAME=VERSION/(local) for each .deb */
	struct strvec keyrings;   /* the plan's, and those the setup hooks put in the tree */
	bool hooks_sources_list;  /* a setup hook wrote etc/apt/sources.list: it stays */
	char *log_name;           /* where the user finds the log, for messages */
	struct aptopts apt;       /* what of --aptopt the native work honours */
	struct xb_pkg *pkgs;
	size_t n_pkgs;
	struct strvec debs;       /* local path of each package's .deb */
	struct fetch_cache cache;
	FILE *log;
	struct hooks_env hooks;   /* where and how hooks run */
};

static double seconds_since(long long t0)
{
	return (double)(progress_now_ms() - t0) / 1000.0;
}

/* --updates: CODENAME-updates from the first mirror and CODENAME-security
 * from the host's security archive (the template's suffixes): the alias
 * paths of -updates and -security are not what the archive keeps current. */
static void add_updates(struct run *run, const char *codename)
{
	const struct xb_plan *p = run->plan;
	cleanup_free char *upd = xasprintf("%s%s", codename, p->tmpl.updates_suffix);
	cleanup_free char *sec = xasprintf("%s%s", codename, p->tmpl.security_suffix);
	cleanup_free char *uri = xstrdup(run->sources.v[0].uri);
	fetch_sources_add(&run->sources, uri, upd, &p->components);
	fetch_sources_add(&run->sources, p->security_uri, sec, &p->components);
}

/* The source's verified Release and its indices (from run->packages'
 * first), as apt's lists for the hooks. */
static int stage_lists(struct run *run, const struct fetch_source *e,
                       const struct fetch_release *rel, size_t first)
{
	cleanup_free char *prefix = aptlists_prefix(e->uri, e->suite);
	int r = 0;
	for (size_t i = 0; !r && i < rel->kept.n; i++) {
		const char *file = strrchr(rel->kept.v[i], '_');
		cleanup_free char *name = xasprintf("%s%s", prefix, file ? file + 1 : rel->kept.v[i]);
		r = aptlists_stage(run->workdir, APT_LISTS, rel->kept.v[i], name);
	}
	if (!r && fetch_source_is_flat(e->suite)) {
		cleanup_free char *name = xasprintf("%sPackages", prefix);
		return aptlists_stage(run->workdir, APT_LISTS, run->packages.v[first], name);
	}
	for (size_t i = 0; !r && i < e->components.n; i++) {
		cleanup_free char *name = xasprintf("%s%s_binary-%s_Packages", prefix,
		                                    e->components.v[i], run->plan->arch->deb);
		for (char *c = name + strlen(prefix); *c; c++)
			*c = *c == '/' ? '_' : *c;
		r = aptlists_stage(run->workdir, APT_LISTS, run->packages.v[first + i], name);
	}
	return r;
}

static int fetch_source(struct run *run, size_t m, const struct fetch_release_opts *defaults,
                        char **codename)
{
	const struct fetch_source *e = &run->sources.v[m];
	struct fetch_release rel = { 0 };
	struct fetch_release_opts own = *defaults;
	const struct fetch_release_opts *ro = &own;
	cleanup_strvec struct strvec keys = STRVEC_INIT;
	size_t before = run->packages.n;
	bool trusted;

	if (!fetch_source_has_arch(e, run->plan->arch->deb))
		return 0;
	strvec_pushv(&keys, defaults->keyrings);
	int r = fetch_source_trust(e, run->workdir, m, &keys, &trusted);
	own.keyrings = &keys;
	own.no_check_sig |= trusted;
	if (!r)
		r = fetch_release_get(e->uri, e->suite, ro, &rel);
	if (!r) {
		bool alias = rel.codename && strcmp(rel.codename, e->suite);
		xb_info("%s: suite %s%s%s%s, %s", e->uri, e->suite, alias ? " (" : "",
		        alias ? rel.codename : "", alias ? ")" : "",
		        ro->no_check_sig ? "signature NOT checked" : "signature verified");
		struct fetch_indices_req q = { e->uri, e->suite, &rel, &e->components,
			                       run->plan->arch->deb, run->workdir, (int)m, &run->http };
		r = fetch_indices_get(&q, &run->packages);
		if (!*codename)
			*codename = xstrdup(rel.codename ? rel.codename : e->suite);
	}
	if (!r)
		r = stage_lists(run, e, &rel, before);
	fetch_release_free(&rel);
	for (size_t i = before; !r && i < run->packages.n; i++) {
		strvec_push(&run->pkg_mirror, e->uri);
		strvec_push(&run->pkg_suite, e->suite);
	}
	return r;
}

/* --include's .deb files, as one more index. */
static int add_local_debs(struct run *run)
{
	cleanup_free char *index = NULL;
	if (!run->plan->local_debs.n)
		return 0;
	int r = localdebs_index(&run->plan->local_debs, run->workdir, &index, &run->include);
	if (r < 0)
		return r;
	strvec_push(&run->packages, index);
	strvec_push(&run->pkg_mirror, LOCALDEBS_MIRROR);
	strvec_push(&run->pkg_suite, LOCALDEBS_SUITE);
	return 0;
}

static int stage_indices(struct run *run)
{
	const struct xb_plan *p = run->plan;
	struct fetch_release_opts ro = { &run->keyrings,
		                         p->ignore_valid_until || run->apt.no_valid_until, p->no_check_sig,
		                         p->allow_suite_change, run->workdir, &run->http };
	cleanup_free char *codename = NULL;
	int r = 0;

	for (size_t m = 0; !r && m < run->sources.n; m++) {
		r = fetch_source(run, m, &ro, &codename);
		if (!r && m == 0 && p->updates)
			add_updates(run, codename);
	}
	strvec_pushv(&run->include, &p->include);
	return r ? r : add_local_debs(run);
}

static int stage_resolve(struct run *run)
{
	const struct xb_plan *p = run->plan;
	struct resolve_req req = { p->arch->deb, run->packages.v, run->packages.n,
		                   &p->variant->select, &p->variant->packages, &run->include,
		                   &p->exclude, run->pkg_suite.v, run->apt.recommends };
	int r = resolve_packages(&req, &run->pkgs, &run->n_pkgs);
	/* The pool is gone; give its tens of MB back, so that the children
	 * forked later do not carry them. */
	malloc_trim(0);
	if (r)
		return r;
	uint64_t bytes = 0;
	for (size_t i = 0; i < run->n_pkgs; i++)
		bytes += run->pkgs[i].size;
	xb_info("resolved %s %s: %zu packages, %.1f MB to download", p->variant->name,
	        p->arch->deb, run->n_pkgs, (double)bytes / 1e6);
	return 0;
}

/* Where each package's .deb is, named by its hash (never by a field of
 * the index); those not there yet, or not whole, become items to download. */
static int plan_downloads(struct run *run, struct fetch_http_item *items, struct strvec *urls,
                          size_t *n, uint64_t *bytes)
{
	for (size_t i = 0; i < run->n_pkgs; i++) {
		const struct xb_pkg *k = &run->pkgs[i];
		cleanup_free char *path = fetch_cache_path(&run->cache, k->sha256);
		if (!path) {
			xb_error("package %s: malformed SHA256 in the index", k->name);
			return -XB_EPARSE;
		}
		strvec_push(&run->debs, path);
		if (fetch_cache_has(&run->cache, k->sha256, k->size))
			continue;
		cleanup_free char *url = fetch_http_url(run->pkg_mirror.v[k->source], k->filename);
		strvec_push(urls, url);
		items[(*n)++] = (struct fetch_http_item){ NULL, run->debs.v[i], k->size, k->sha256, 0 };
		*bytes += k->size;
	}
	for (size_t i = 0; i < *n; i++)
		items[i].url = urls->v[i];
	return 0;
}

/* The cache, or with --no-cache one in the work directory, which goes
 * with it. */
static int open_store(struct run *run)
{
	if (!run->plan->no_cache)
		return fetch_cache_open(&run->cache, run->plan->cache_dir);
	cleanup_free char *dir = xasprintf("%s/debs", run->workdir);
	return fetch_cache_open(&run->cache, dir);
}

static int stage_download(struct run *run)
{
	struct fetch_http_item *items = xcalloc(run->n_pkgs, sizeof(*items));
	cleanup_strvec struct strvec urls = STRVEC_INIT;
	size_t n = 0;
	uint64_t bytes = 0;
	int r = open_store(run);

	if (!r)
		r = plan_downloads(run, items, &urls, &n, &bytes);
	if (!r && n) {
		struct progress pr;
		struct fetch_http_opts fo = run->http;
		long long t0 = progress_now_ms();
		fo.progress = progress_cb_bytes;
		fo.progress_ctx = &pr;
		progress_begin(&pr, "downloading", true);
		r = fetch_http_many(items, n, &fo);
		progress_end(&pr);
		if (!r)
			xb_info("downloaded %zu packages (%.1f MB) in %.1f s", n, (double)bytes / 1e6,
			        seconds_since(t0));
	} else if (!r) {
		xb_info("all %zu packages found in the cache", run->n_pkgs);
	}
	free(items);
	return r;
}

static int stage_unpack(struct run *run)
{
	struct unpack_item *items = xcalloc(run->n_pkgs, sizeof(*items));
	struct dpkgfilter filter = DPKGFILTER_INIT;
	struct progress pr;
	long long t0 = progress_now_ms();

	/* --dpkgopt's path filters, as dpkg applies them to what it unpacks */
	for (size_t i = 0; i < run->plan->dpkgopts.n; i++) {
		cleanup_strbuf struct strbuf text = STRBUF_INIT;
		const char *opt = run->plan->dpkgopts.v[i];
		dpkgfilter_add_option(&filter, xb_read_file(opt, &text) == 0 ? text.buf : opt);
	}
	for (size_t i = 0; i < run->n_pkgs; i++)
		items[i] = (struct unpack_item){ run->debs.v[i], run->pkgs[i].name, &filter };
	progress_begin(&pr, "unpacking", false);
	int r = unpack_debs(run->root, items, run->n_pkgs, progress_cb_count, &pr);
	progress_end(&pr);
	free(items);
	dpkgfilter_release(&filter);
	if (!r)
		xb_info("unpacked %zu packages in %.1f s", run->n_pkgs, seconds_since(t0));
	return r;
}

/* The log: --logfile on the host, else var/log/xboot.log in the tree
 * (resolved inside it: a setup hook may have put anything there). */
static int open_log(struct run *run)
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
		fd = dir < 0 ? -1 : openat(dir, last, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
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
	strvec_clear(&run->pkg_mirror);
	strvec_clear(&run->pkg_suite);
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
	if (stdout_fd >= 0 && dup2(stdout_fd, STDOUT_FILENO) < 0) {
		xb_error("writing the tar to standard output: %s", strerror(errno));
		return -errno;
	}
	int r = output_write(run->root, p->target, p->format, &oo);
	if (!r && p->format != OUTPUT_NULL)
		xb_info("wrote %s (%s) in %.1f s", p->target, output_format_name(p->format),
		        seconds_since(t0));
	return r;
}

/* Whether base-files ships merged /usr's links itself (trixie's does,
 * bookworm's has directories there). */
static int distro_links(const struct run *run, bool *yes)
{
	*yes = false;
	for (size_t i = 0; i < run->n_pkgs; i++)
		if (!strcmp(run->pkgs[i].name, "base-files"))
			return debfile_ships_symlink(run->debs.v[i], "bin", yes);
	return 0;
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

/* From the unpack to the customize hooks: what hooks may use is in place
 * (apt's lists, policy-rc.d, the emulator) until the clean-up. */
static int fill_tree(struct run *run)
{
	const struct xb_plan *p = run->plan;
	int r;
	if ((r = stage_unpack(run)) < 0 || (r = setup_options(p, run->root)) < 0 ||
	    (r = aptlists_install(run->workdir, APT_LISTS, run->root)) < 0 ||
	    (!p->unlink_debs && (r = keep_debs(run)) < 0) ||
	    (r = hooks_run(&p->hooks, HOOK_EXTRACT, &run->hooks)) < 0)
		return r;
	/* extract: unpacked, and no script of them runs */
	if (p->variant->scripts &&
	    (r = configure_tree(p, &run->hooks, run->pkgs, run->n_pkgs, run->log ? fileno(run->log) : -1,
	                        run->log_name)) < 0)
		return r;
	if ((r = finish_tree(p, run->hooks_sources_list ? NULL : &run->sources, run->root)) < 0 ||
	    (r = finish_apt_states(p, run->root, run->pkgs, run->n_pkgs)) < 0)
		return r;
	return hooks_run(&p->hooks, HOOK_CUSTOMIZE, &run->hooks);
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
	/* Without setup hooks, a run that fails before the download leaves
	 * TARGET untouched. */
	if (!hooks_any(&p->hooks, HOOK_SETUP))
		return 0;
	if ((r = setup_skeleton(p, run->root)) < 0 ||
	    (r = hooks_run(&p->hooks, HOOK_SETUP, &run->hooks)) < 0 || (r = open_log(run)) < 0)
		return r;
	cleanup_free char *list = xasprintf("%s/etc/apt/sources.list", run->root);
	run->hooks_sources_list = access(list, F_OK) == 0;
	return setup_tree_apt(p, run->root, &run->sources, &run->keyrings);
}

/* Everything after the download, in the tree. */
static int build_tree(struct run *run)
{
	const struct xb_plan *p = run->plan;
	bool links;
	int r;
	if (!hooks_any(&p->hooks, HOOK_SETUP) &&
	    ((r = setup_skeleton(p, run->root)) < 0 || (r = open_log(run)) < 0))
		return r;
	if ((r = distro_links(run, &links)) < 0 || (r = setup_merged_usr(p, run->root, links)) < 0 ||
	    (r = fill_tree(run)) < 0)
		return r;
	if (p->variant->scripts && (r = configure_done(p, run->root)) < 0)
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

/* --print-debs and --simulate: the resolved set on stdout. */
static int print_set(const struct run *run)
{
	uint64_t cached = 0;
	for (size_t i = 0; i < run->n_pkgs; i++) {
		const struct xb_pkg *k = &run->pkgs[i];
		if (run->plan->stop == PLAN_STOP_PRINT_DEBS) {
			printf("%s%s", i ? " " : "", k->name);
			continue;
		}
		bool have = fetch_cache_has(&run->cache, k->sha256, k->size);
		cached += have ? k->size : 0;
		printf("%s %s %s %llu%s\n", k->name, k->version, k->arch,
		       (unsigned long long)k->size, have ? " (cached)" : "");
	}
	if (run->plan->stop == PLAN_STOP_PRINT_DEBS)
		putchar('\n');
	else
		xb_info("would install %zu packages, configured in %s phases%s; %.1f MB of them cached",
		        run->n_pkgs, run->plan->variant->scripts ? "debootstrap's" : "no",
		        run->plan->variant->scripts ? "" : " (extract: no script runs)",
		        (double)cached / 1e6);
	return fflush(stdout) == 0 ? 0 : -errno;
}

static int run_stages(struct run *run, int stdout_fd)
{
	const struct xb_plan *p = run->plan;
	bool archive = p->format != OUTPUT_DIR || p->stop != PLAN_STOP_NONE;
	int r;
	if ((r = make_workdir(run, archive)) < 0)
		return r;
	prepare_hooks(run);
	if ((r = setup_tree(run)) < 0 || (r = stage_indices(run)) < 0 || (r = stage_resolve(run)) < 0)
		return r;
	if (p->stop == PLAN_STOP_PRINT_DEBS || p->stop == PLAN_STOP_SIMULATE)
		return (r = open_store(run)) < 0 ? r : print_set(run);
	if ((r = stage_download(run)) < 0 || p->stop == PLAN_STOP_DOWNLOAD)
		return r;
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
	aptopts_read(&p->aptopts, &run.apt);
	run.http.proxy = run.apt.http_proxy;
	run.http.jobs = p->jobs;
	run.http.connect_timeout_s = run.http.stall_timeout_s = p->timeout;
	if (strcmp(p->target, "-") || (r = divert_stdout(&stdout_fd)) == 0)
		r = run_stages(&run, stdout_fd);
	if (!r && p->stop == PLAN_STOP_NONE)
		xb_info("%s: %s %s %s ready in %.1f s (%zu packages)", p->target, p->suite,
		        p->arch->deb, p->variant->name, seconds_since(t0), run.n_pkgs);
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
