/* bootstrap: the pipeline of one bootstrap, stage by stage:
 * indices -> resolve -> download -> unpack -> emulator -> second stage ->
 * finish.  Each stage is a call with plain data between them. */
#include "bootstrap.h"

#include "finish.h"
#include "../base/progress.h"
#include "../pkgset/resolve.h"
#include "../secondstage/secondstage.h"
#include "../dpkg/unpack.h"
#include "../../emu/emulator.h"
#include "../../emu/launch.h"
#include "../../fetch/cache.h"
#include "../../fetch/http.h"
#include "../../fetch/indices.h"
#include "../../fetch/mirror.h"
#include "../../fetch/release.h"

#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

struct run {
	const struct xb_plan *plan;
	const char *root;         /* the tree being built: the target directory, or */
	char *root_owned;         /* WORKDIR/root when the target is an archive */
	char *workdir;            /* host temporary directory, removed at the end */
	struct strvec packages;   /* decompressed Packages files */
	struct strvec pkg_mirror; /* the mirror serving each of them */
	struct mirror_entries sources; /* the plan's, and --updates' once known */
	struct xb_pkg *pkgs;
	size_t n_pkgs;
	struct strvec debs;       /* local path of each package's .deb */
	struct fetch_cache cache;
	FILE *log;
};

/* An archive TARGET may be replaced, but not be a directory; its
 * directory must exist (checked here, not after the whole run). */
static int check_archive_target(const char *target)
{
	struct stat st;
	if (!strcmp(target, "-"))
		return 0;
	if (stat(target, &st) == 0 && S_ISDIR(st.st_mode)) {
		xb_error("%s is a directory; an archive needs a file name", target);
		return -EISDIR;
	}
	cleanup_free char *dir = xstrdup(target);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else if (slash)
		dir[1] = '\0';
	if (slash && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		xb_error("cannot write %s: no directory %s", target, dir);
		return -ENOENT;
	}
	return 0;
}

/* TARGET must be a new or empty directory, and never the host's root. */
static int check_target(const char *target)
{
	struct stat st;
	char *real = realpath(target, NULL);
	bool is_root = real && !strcmp(real, "/");
	free(real);
	if (is_root) {
		xb_error("refusing to bootstrap into %s: it is the root directory", target);
		return -XB_EUSAGE;
	}
	if (stat(target, &st) < 0) {
		if (errno != ENOENT) {
			xb_error("checking %s: %s", target, strerror(errno));
			return -errno;
		}
		int r = xb_mkdir_p_at(AT_FDCWD, target, 0755);
		if (r)
			xb_error("creating %s: %s", target, strerror(-r));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		xb_error("%s exists and is not a directory", target);
		return -ENOTDIR;
	}
	DIR *d = opendir(target);
	struct dirent *e;
	bool empty = true;
	if (!d) {
		xb_error("reading %s: %s", target, strerror(errno));
		return -errno;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "lost+found"))
			empty = false;
	closedir(d);
	if (!empty) {
		xb_error("%s is not empty; xboot bootstraps into a new or empty directory", target);
		return -ENOTEMPTY;
	}
	return 0;
}

/* --updates: SUITE-updates from the first mirror and SUITE-security from
 * the host's security archive, by codename (the alias paths of -updates
 * and -security are not what the archive keeps current). */
static int add_updates(struct run *run, const char *codename)
{
	struct mirror_entries *e = &run->sources;
	cleanup_free char *security = mirror_from_apt(NULL, true);
	if (!security) {
		xb_error("--updates: no security archive in the host's apt configuration");
		return -XB_EUSAGE;
	}
	cleanup_free char *upd = xasprintf("deb %s %s-updates", e->uris.v[0], codename);
	cleanup_free char *sec = xasprintf("deb %s %s-security", security, codename);
	int r = mirror_parse_arg(upd, e);
	return r ? r : mirror_parse_arg(sec, e);
}

static int fetch_source(struct run *run, size_t m, const struct release_opts *ro,
                        char **codename)
{
	const struct xb_plan *p = run->plan;
	const struct mirror_entries *e = &run->sources;
	const char *uri = e->uris.v[m], *suite = *e->suites.v[m] ? e->suites.v[m] : p->suite;
	cleanup_strvec struct strvec comps = STRVEC_INIT;
	struct release rel = { 0 };
	size_t before = run->packages.n;

	strvec_split(&comps, e->components.v[m], ",");
	int r = release_fetch(uri, suite, ro, &rel);
	if (!r) {
		bool alias = rel.codename && strcmp(rel.codename, suite);
		xb_info("%s: suite %s%s%s%s, signature verified", uri, suite, alias ? " (" : "",
		        alias ? rel.codename : "", alias ? ")" : "");
		r = indices_fetch(uri, suite, &rel, comps.n ? &comps : &p->components, p->arch->deb,
		                  run->workdir, (int)m, &run->packages);
		if (!*codename)
			*codename = xstrdup(rel.codename ? rel.codename : suite);
	}
	release_release(&rel);
	for (size_t i = before; !r && i < run->packages.n; i++)
		strvec_push(&run->pkg_mirror, uri);
	return r;
}

static int stage_indices(struct run *run)
{
	const struct xb_plan *p = run->plan;
	struct release_opts ro = { &p->keyrings, p->ignore_valid_until, p->no_check_sig, run->workdir };
	cleanup_free char *codename = NULL;
	int r = 0;

	for (size_t i = 0; i < p->sources.uris.n; i++) {
		strvec_push(&run->sources.uris, p->sources.uris.v[i]);
		strvec_push(&run->sources.suites, p->sources.suites.v[i]);
		strvec_push(&run->sources.components, p->sources.components.v[i]);
	}
	for (size_t m = 0; !r && m < run->sources.uris.n; m++) {
		r = fetch_source(run, m, &ro, &codename);
		if (!r && m == 0 && p->updates)
			r = add_updates(run, codename);
	}
	return r;
}

static int stage_resolve(struct run *run)
{
	const struct xb_plan *p = run->plan;
	struct resolve_req req = { p->arch->deb, run->packages.v, run->packages.n, p->variant,
	                           &p->include, &p->exclude };
	int r = resolve_packages(&req, &run->pkgs, &run->n_pkgs);
	/* The pool is gone; give its tens of MB back, so that the children
	 * forked later do not carry them. */
	malloc_trim(0);
	if (r)
		return r;
	uint64_t bytes = 0;
	for (size_t i = 0; i < run->n_pkgs; i++)
		bytes += run->pkgs[i].size;
	xb_info("resolved %s %s: %zu packages, %.1f MB to download", p->variant, p->arch->deb,
	        run->n_pkgs, (double)bytes / 1e6);
	return 0;
}

static int stage_download(struct run *run)
{
	const struct xb_plan *p = run->plan;
	struct fetch_item *items = xcalloc(run->n_pkgs, sizeof(*items));
	struct strvec urls = STRVEC_INIT;
	size_t n = 0;
	uint64_t bytes = 0;
	int r = 0;

	if (p->no_cache) {
		cleanup_free char *dir = xasprintf("%s/debs", run->workdir);
		if ((r = xb_mkdir_p_at(AT_FDCWD, dir, 0755)) < 0)
			xb_error("creating %s: %s", dir, strerror(-r));
	} else {
		r = cache_open(&run->cache, p->cache_dir);
	}
	for (size_t i = 0; !r && i < run->n_pkgs; i++) {
		const struct xb_pkg *k = &run->pkgs[i];
		if (p->no_cache) {
			strvec_pushf(&run->debs, "%s/debs/%s_%s.deb", run->workdir, k->name, k->version);
		} else {
			cleanup_free char *path = cache_path(&run->cache, k->sha256);
			if (!path) {
				xb_error("package %s: malformed SHA256 in the index", k->name);
				r = -XB_EPARSE;
				break;
			}
			strvec_push(&run->debs, path);
			if (cache_has(&run->cache, k->sha256, k->size))
				continue;
		}
		strvec_pushf(&urls, "%s/%s", run->pkg_mirror.v[k->source], k->filename);
		items[n] = (struct fetch_item){ NULL, run->debs.v[i], k->size, k->sha256, 0 };
		bytes += k->size;
		n++;
	}
	for (size_t i = 0; i < n; i++)
		items[i].url = urls.v[i];
	if (!r && n) {
		struct progress pr;
		struct fetch_opts fo = FETCH_OPTS_INIT;
		long long t0 = progress_now_ms();
		fo.jobs = p->jobs;
		fo.progress = progress_cb_bytes;
		fo.progress_ctx = &pr;
		progress_begin(&pr, "downloading", true);
		r = fetch_many(items, n, &fo);
		progress_end(&pr);
		if (!r)
			xb_info("downloaded %zu packages (%.1f MB) in %.1f s", n, (double)bytes / 1e6,
			        (double)(progress_now_ms() - t0) / 1000.0);
	} else if (!r) {
		xb_info("all %zu packages found in the cache", run->n_pkgs);
	}
	strvec_clear(&urls);
	free(items);
	return r;
}

/* Merged /usr: the root's own links, made before anything is unpacked so
 * that packages shipping /bin/x land in /usr/bin/x (bookworm's base-files
 * does not ship them; trixie's does, and replaces them with the same). */
static int stage_skeleton(struct run *run)
{
	static const char *const dirs[] = { "usr/bin", "usr/sbin", "usr/lib", "var/lib/dpkg",
		                            "var/log", "etc", "tmp", "proc", "sys", "dev", "run", "root" };
	static const char *const links[][2] = { { "bin", "usr/bin" }, { "sbin", "usr/sbin" }, { "lib", "usr/lib" } };
	const struct xb_plan *p = run->plan;
	cleanup_fd int fd = open(run->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = fd < 0 ? -errno : 0;

	for (size_t i = 0; !r && i < ARRAY_SIZE(dirs); i++)
		r = xb_mkdir_p_at(fd, dirs[i], !strcmp(dirs[i], "tmp") ? 01777 : 0755);
	if (!r)
		fchmodat(fd, "tmp", 01777, 0);
	for (size_t i = 0; !r && p->merged_usr && i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][1], fd, links[i][0]) < 0 && errno != EEXIST)
			r = -errno;
	if (!r && p->merged_usr && !strcmp(p->arch->deb, "amd64")) {
		r = xb_mkdir_p_at(fd, "usr/lib64", 0755);
		if (!r && symlinkat("usr/lib64", fd, "lib64") < 0 && errno != EEXIST)
			r = -errno;
	}
	if (r)
		xb_error("preparing %s: %s", run->root, strerror(-r));
	return r;
}

static int stage_unpack(struct run *run)
{
	struct unpack_item *items = xcalloc(run->n_pkgs, sizeof(*items));
	struct progress pr;
	long long t0 = progress_now_ms();

	for (size_t i = 0; i < run->n_pkgs; i++)
		items[i] = (struct unpack_item){ run->debs.v[i], run->pkgs[i].name };
	progress_begin(&pr, "unpacking", false);
	int r = unpack_debs(run->root, items, run->n_pkgs, progress_cb_count, &pr);
	progress_end(&pr);
	free(items);
	if (!r)
		xb_info("unpacked %zu packages in %.1f s", run->n_pkgs,
		        (double)(progress_now_ms() - t0) / 1000.0);
	return r;
}

/* One launch of (part of) the second stage. */
static int launch_part(const struct launch_opts *lo, struct secondstage *ss)
{
	int code = 0;
	int r = launch_run(lo, secondstage_run, ss, &code);
	if (r)
		return r;
	if (xb_interrupted)
		return -XB_EINTR;
	if (code)
		return code == 130 ? -XB_EINTR : -XB_ECHILD;
	return 0;
}

static int stage_second(struct run *run)
{
	const struct xb_plan *p = run->plan;
	struct launch_opts lo = LAUNCH_OPTS_INIT;
	struct secondstage ss = { run->pkgs, run->n_pkgs, run->log ? fileno(run->log) : -1,
	                          (unsigned)(p->script_jobs > 0 ? p->script_jobs : xb_ncpus()),
	                          SECONDSTAGE_ALL };
	bool foreign = !emu_arch_is_native(p->arch);
	long long t0 = progress_now_ms();
	int r;

	if (foreign) {
		cleanup_free char *emu = NULL;
		if ((r = emu_find_emulator(p->arch, &emu)) < 0)
			return r;
		if ((r = emu_install_emulator(p->arch, emu, run->root)) < 0)
			return r;
		xb_info("running the second stage under %s", emu);
	}
	if ((r = secondstage_prepare(run->root)) < 0)
		return r;
	lo.root = run->root;
	lo.arch = foreign ? p->arch : NULL;
	lo.keep_tmp = true;
	lo.hostname = "localhost";
	lo.kill_on_signal = true;
	if (hooks_any(&p->hooks, HOOK_ESSENTIAL)) {
		ss.part = SECONDSTAGE_ESSENTIAL;
		r = launch_part(&lo, &ss);
		if (!r)
			r = hooks_run(&p->hooks, HOOK_ESSENTIAL, run->root);
		ss.part = SECONDSTAGE_REST;
	}
	if (!r)
		r = launch_part(&lo, &ss);
	int rc = secondstage_cleanup(run->root);
	if (r)
		return r;
	if (rc)
		return rc;
	xb_info("configured %zu packages in %.1f s", run->n_pkgs,
	        (double)(progress_now_ms() - t0) / 1000.0);
	if (foreign && p->remove_emulator)
		return emu_remove_emulator(p->arch, run->root);
	return 0;
}

static FILE *open_log(const char *target)
{
	cleanup_free char *path = xasprintf("%s/var/log/xboot.log", target);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	return fd >= 0 ? fdopen(fd, "w") : NULL;
}

static void run_release(struct run *run)
{
	if (run->workdir)
		xb_rm_rf_at(AT_FDCWD, run->workdir);
	free(run->workdir);
	free(run->root_owned);
	strvec_clear(&run->packages);
	strvec_clear(&run->pkg_mirror);
	mirror_entries_release(&run->sources);
	strvec_clear(&run->debs);
	resolve_free(run->pkgs, run->n_pkgs);
	if (run->cache.dir)
		cache_close(&run->cache);
	if (run->log) {
		xb_set_log(NULL);
		fclose(run->log);
	}
}

static int make_workdir(struct run *run)
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
	return 0;
}

/* An archive is made from a tree built in the work directory. */
static int make_archive_root(struct run *run)
{
	char *root = xasprintf("%s/root", run->workdir);
	run->root_owned = root;
	run->root = root;
	if (mkdir(root, 0755) < 0) {
		xb_error("creating %s: %s", root, strerror(errno));
		return -errno;
	}
	return 0;
}

static int write_output(const struct run *run, int stdout_fd)
{
	const struct xb_plan *p = run->plan;
	struct output_opts oo = OUTPUT_OPTS_INIT;
	long long t0 = progress_now_ms();
	oo.source_date_epoch = p->source_date_epoch;
	if (stdout_fd >= 0 && dup2(stdout_fd, STDOUT_FILENO) < 0) {
		xb_error("writing the tar to standard output: %s", strerror(errno));
		return -errno;
	}
	int r = output_write(run->root, p->target, p->format, &oo);
	if (!r)
		xb_info("wrote %s (%s) in %.1f s", p->target, output_format_name(p->format),
		        (double)(progress_now_ms() - t0) / 1000.0);
	return r;
}

int bootstrap_run(const struct xb_plan *p)
{
	struct run run = { .plan = p, .root = p->target };
	bool archive = p->format != OUTPUT_DIR;
	long long t0 = progress_now_ms();
	int r, stdout_fd = -1;

	if ((r = archive ? check_archive_target(p->target) : check_target(p->target)) < 0)
		return r;
	/* A tar on stdout: until it is written there, whatever a maintainer
	 * script prints goes to stderr. */
	if (!strcmp(p->target, "-") && ((stdout_fd = dup(STDOUT_FILENO)) < 0 ||
	                                dup2(STDERR_FILENO, STDOUT_FILENO) < 0)) {
		int e = errno;
		xb_error("redirecting standard output: %s", strerror(e));
		if (stdout_fd >= 0)
			close(stdout_fd);
		return -e;
	}
	if ((r = make_workdir(&run)) < 0 || (archive && (r = make_archive_root(&run)) < 0))
		goto out;
	if ((r = stage_indices(&run)) < 0 || (r = stage_resolve(&run)) < 0)
		goto out;
	if ((r = stage_download(&run)) < 0)
		goto out;
	if (xb_interrupted) {
		r = -XB_EINTR;
		goto out;
	}
	if ((r = stage_skeleton(&run)) < 0 || (r = hooks_run(&p->hooks, HOOK_SETUP, run.root)) < 0)
		goto out;
	if ((run.log = open_log(run.root)))
		xb_set_log(run.log);
	if ((r = stage_unpack(&run)) < 0 || (r = finish_config(p, run.root)) < 0 ||
	    (r = hooks_run(&p->hooks, HOOK_EXTRACT, run.root)) < 0 || (r = stage_second(&run)) < 0)
		goto out;
	if ((r = finish_target(p, &run.sources, run.root)) < 0 ||
	    (r = hooks_run(&p->hooks, HOOK_CUSTOMIZE, run.root)) < 0)
		goto out;
	if (archive && (r = write_output(&run, stdout_fd)) < 0)
		goto out;
	xb_info("%s: %s %s %s ready in %.1f s (%zu packages)", p->target, p->suite, p->arch->deb,
	        p->variant, (double)(progress_now_ms() - t0) / 1000.0, run.n_pkgs);
out:
	if (r == -XB_EINTR || (r < 0 && xb_interrupted)) {
		xb_error("interrupted; nothing is left mounted");
		r = -XB_EINTR;
	}
	if (stdout_fd >= 0)
		close(stdout_fd);
	run_release(&run);
	return r;
}
