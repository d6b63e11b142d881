/* stages: fetching, resolving and unpacking (see stages.h). */
#include "stages.h"

#include "aptlists.h"
#include "localdebs.h"
#include "offline.h"
#include "../base/progress.h"
#include "../base/timings.h"
#include "../dpkg/dpkgfilter.h"
#include "../dpkg/unpack.h"
#include "../../fetch/indices.h"
#include "../../fetch/release.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

double stage_seconds_since(long long t0)
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

/* The source's verified Release, as apt's lists for the hooks. */
static int stage_release_lists(struct run *run, const struct fetch_source *e,
                               const struct fetch_release *rel)
{
	cleanup_free char *prefix = aptlists_prefix(e->tree_uri ? e->tree_uri : e->uri, e->suite);
	int r = 0;
	for (size_t i = 0; !r && i < rel->kept.n; i++) {
		const char *file = strrchr(rel->kept.v[i], '_');
		cleanup_free char *name = xasprintf("%s%s", prefix, file ? file + 1 : rel->kept.v[i]);
		r = aptlists_stage(run->workdir, APT_LISTS, rel->kept.v[i], name);
	}
	return r;
}

/* The source's indices of arch (from run->packages' first, their SHA256
 * in sums), as apt's lists. */
static int stage_lists(struct run *run, const struct fetch_source *e, const char *arch,
                       size_t first, const struct strvec *sums)
{
	cleanup_free char *prefix = aptlists_prefix(e->tree_uri ? e->tree_uri : e->uri, e->suite);
	bool flat = fetch_source_is_flat(e->suite);
	int r = 0;
	for (size_t i = 0; !r && i < (flat ? 1 : e->components.n); i++) {
		cleanup_free char *name =
			flat ? xasprintf("%sPackages", prefix)
			     : xasprintf("%s%s_binary-%s_Packages", prefix, e->components.v[i], arch);
		for (char *c = name + strlen(prefix); *c; c++)
			*c = *c == '/' ? '_' : *c;
		r = aptlists_stage(run->workdir, APT_LISTS, run->packages.v[first + i], name);
		/* the configured-tree cache's key names them by it, unread */
		if (!r && i < sums->n)
			strvec_pushf(&run->list_sums, "%s %s", sums->v[i], name);
	}
	return r;
}

/* --make-tarball: the source's Release files, where the tarball's
 * mirror-M keeps them. */
static void offline_release(struct run *run, size_t m, const struct fetch_release *rel)
{
	const struct fetch_source *e = &run->sources.v[m];
	cleanup_free char *mirror = offline_mirror_dir(m);
	cleanup_free char *dist = fetch_source_dist_url(mirror, e->suite);
	for (size_t i = 0; i < rel->kept.n; i++) {
		const char *file = strrchr(rel->kept.v[i], '_');
		strvec_pushl(&run->offline, rel->kept.v[i], NULL);
		strvec_pushf(&run->offline, "%s/%s", dist, file ? file + 1 : rel->kept.v[i]);
	}
}

/* And its indices of arch. */
static void offline_indices(struct run *run, size_t m, const char *arch, size_t first)
{
	const struct fetch_source *e = &run->sources.v[m];
	cleanup_free char *mirror = offline_mirror_dir(m);
	cleanup_free char *dist = fetch_source_dist_url(mirror, e->suite);
	bool flat = fetch_source_is_flat(e->suite);
	for (size_t i = 0; i < (flat ? 1 : e->components.n); i++) {
		strvec_push(&run->offline, run->packages.v[first + i]);
		if (flat)
			strvec_pushf(&run->offline, "%s/Packages", dist);
		else
			strvec_pushf(&run->offline, "%s/%s/binary-%s/Packages", dist, e->components.v[i],
			             arch);
	}
}

/* The architectures whose indices a source gives: the tree's, then the
 * foreign ones, those its arch= option leaves out dropped; a flat
 * repository's one index holds every architecture. */
static void source_archs(const struct run *run, const struct fetch_source *e, struct strvec *out)
{
	const struct xb_plan *p = run->plan;
	if (fetch_source_has_arch(e, p->arch->deb))
		strvec_push(out, p->arch->deb);
	for (size_t i = 0; i < p->foreign_archs.n && !(out->n && fetch_source_is_flat(e->suite)); i++)
		if (fetch_source_has_arch(e, p->foreign_archs.v[i]))
			strvec_push(out, p->foreign_archs.v[i]);
}

/* The source's indices of each of archs, with their apt lists and
 * --make-tarball's copies. */
static int fetch_source_indices(struct run *run, size_t m, const struct fetch_release *rel,
                                const struct strvec *archs)
{
	const struct fetch_source *e = &run->sources.v[m];
	int r = stage_release_lists(run, e, rel);
	if (!r && run->plan->make_tarball)
		offline_release(run, m, rel);
	for (size_t a = 0; !r && a < archs->n; a++) {
		size_t first = run->packages.n;
		/* As apt does: a foreign architecture a suite lacks is skipped. */
		if (strcmp(archs->v[a], run->plan->arch->deb) &&
		    !fetch_indices_has_arch(rel, e->suite, archs->v[a])) {
			xb_info("%s: suite %s has no %s packages, none taken from it", e->uri,
			        e->suite, archs->v[a]);
			continue;
		}
		cleanup_strvec struct strvec sums = STRVEC_INIT;
		struct fetch_indices_req q = { e->uri, e->suite, rel, &e->components,
			                       archs->v[a], run->workdir, (int)m, &run->http,
			                       run->cache.dir ? &run->cache : NULL, &sums };
		r = fetch_indices_get(&q, &run->packages);
		if (!r)
			r = stage_lists(run, e, archs->v[a], first, &sums);
		if (!r && run->plan->make_tarball)
			offline_indices(run, m, archs->v[a], first);
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
	cleanup_strvec struct strvec archs = STRVEC_INIT;
	size_t before = run->packages.n;
	bool trusted;

	source_archs(run, e, &archs);
	if (!archs.n)
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
		r = fetch_source_indices(run, m, &rel, &archs);
		if (!*codename)
			*codename = xstrdup(rel.codename ? rel.codename : e->suite);
	}
	fetch_release_free(&rel);
	cleanup_free char *mirror = offline_mirror_dir(m);
	for (size_t i = before; !r && i < run->packages.n; i++) {
		strvec_push(&run->pkg_mirror, e->uri);
		strvec_push(&run->pkg_suite, e->suite);
		strvec_push(&run->pkg_offline, mirror);
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
	strvec_push(&run->pkg_offline, "");
	return 0;
}

/* What a candidate mirror's InRelease says of SUITE: 2 Origin Debian,
 * 1 another origin, 0 not there (or not reachable). */
static int probe_mirror(const struct run *run, const char *uri, size_t n)
{
	struct fetch_http_opts fo = run->http;
	cleanup_free char *url = xasprintf("%s/dists/%s/InRelease", uri, run->plan->suite);
	cleanup_free char *dest = xasprintf("%s/probe-%zu", run->workdir, n);
	cleanup_strbuf struct strbuf text = STRBUF_INIT;
	fo.max_size = 1 << 20;
	fo.progress = NULL;
	xb_mute_errors(true);
	int r = fetch_http_file(url, dest, 0, NULL, true, &fo);
	xb_mute_errors(false);
	if (r < 0 || xb_read_file(dest, &text) < 0)
		return 0;
	unlink(dest);
	return strstr(text.buf, "\nOrigin: Debian\n") ? 2 : 1;
}

/* No MIRROR: of the host's mirrors, the first that carries SUITE with
 * Origin Debian, else the first that carries it (the plan's pick stays
 * where none does, and fails as it would have). */
static void pick_default_mirror(struct run *run)
{
	const struct strvec *c = &run->plan->mirror_candidates;
	size_t best = 0;
	int best_score = -1;
	for (size_t i = 0; c->n > 1 && i < c->n && best_score < 2; i++) {
		int score = probe_mirror(run, c->v[i], i);
		if (score > best_score) {
			best = i;
			best_score = score;
		}
	}
	if (best_score > 0 && best > 0) {
		free(run->sources.v[0].uri);
		run->sources.v[0].uri = xstrdup(c->v[best]);
		xb_debug("the host's mirror with %s: %s", run->plan->suite, c->v[best]);
	}
}

int stage_indices(struct run *run)
{
	const struct xb_plan *p = run->plan;
	struct fetch_release_opts ro = { &run->keyrings,
		                         p->ignore_valid_until || run->apt.no_valid_until, p->no_check_sig,
		                         p->allow_suite_change, run->workdir, &run->http };
	cleanup_free char *codename = NULL;
	int r = 0;

	if (p->mirror_candidates.n > 1 && !p->unpack_tarball)
		pick_default_mirror(run);
	/* The indices the cache keeps are the store's too. */
	if (!p->no_cache && (r = stage_open_store(run)) < 0)
		return r;
	for (size_t m = 0; !r && m < run->sources.n; m++) {
		r = fetch_source(run, m, &ro, &codename);
		if (!r && m == 0 && p->updates)
			add_updates(run, codename);
	}
	strvec_pushv(&run->include, &p->include);
	return r ? r : add_local_debs(run);
}

int stage_resolve(struct run *run)
{
	const struct xb_plan *p = run->plan;
	cleanup_strvec struct strvec wanted = STRVEC_INIT;
	strvec_pushv(&wanted, &p->variant->packages);
	strvec_pushv(&wanted, &p->boot_packages);
	struct resolve_req req = { p->arch->deb, &p->foreign_archs, run->packages.v, run->packages.n,
		                   &p->variant->select, &wanted, &run->include,
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
	cleanup_strbuf struct strbuf archs = STRBUF_INIT;
	strbuf_addstr(&archs, p->arch->deb);
	for (size_t i = 0; i < p->foreign_archs.n; i++)
		strbuf_addf(&archs, ",%s", p->foreign_archs.v[i]);
	xb_info("resolved %s %s: %zu packages, %.1f MB to download", p->variant->name,
	        archs.buf, run->n_pkgs, (double)bytes / 1e6);
	return 0;
}

/* The cache, or with --no-cache one in the work directory, which goes
 * with it. */
int stage_open_store(struct run *run)
{
	if (run->cache.dir)
		return 0;
	if (!run->plan->no_cache)
		return fetch_cache_open(&run->cache, run->plan->cache_dir);
	cleanup_free char *dir = xasprintf("%s/debs", run->workdir);
	return fetch_cache_open(&run->cache, dir);
}

/* Where each package's .deb is, named by its hash (never by a field of
 * the index). */
int stage_locate(struct run *run)
{
	for (size_t i = 0; i < run->n_pkgs; i++) {
		char *path = fetch_cache_path(&run->cache, run->pkgs[i].sha256);
		if (!path) {
			xb_error("package %s: malformed SHA256 in the index", run->pkgs[i].name);
			return -XB_EPARSE;
		}
		strvec_push(&run->debs, path);
		free(path);
	}
	return 0;
}

/* The downloads of one stage: the packages not in the store yet (or not
 * whole there), and what each item is. */
struct downloads {
	struct fetch_http_item *items;
	size_t *pkg;       /* the package of each item */
	struct strvec urls;
	size_t n;
	uint64_t bytes;
	bool *have;        /* per package: in the store, verified */
};

static void downloads_plan(struct run *run, struct downloads *b, ssize_t only)
{
	b->items = xcalloc(run->n_pkgs ? run->n_pkgs : 1, sizeof(*b->items));
	b->pkg = xcalloc(run->n_pkgs ? run->n_pkgs : 1, sizeof(*b->pkg));
	b->have = xcalloc(run->n_pkgs ? run->n_pkgs : 1, sizeof(bool));
	for (size_t i = 0; i < run->n_pkgs; i++) {
		const struct xb_pkg *k = &run->pkgs[i];
		if ((only >= 0 && i != (size_t)only) ||
		    (b->have[i] = fetch_cache_has(&run->cache, k->sha256, k->size)))
			continue;
		cleanup_free char *url = fetch_http_url(run->pkg_mirror.v[k->source], k->filename);
		strvec_push(&b->urls, url);
		b->pkg[b->n] = i;
		b->items[b->n++] = (struct fetch_http_item){ NULL, run->debs.v[i], k->size, k->sha256, 0 };
		b->bytes += k->size;
	}
	for (size_t i = 0; i < b->n; i++)
		b->items[i].url = b->urls.v[i];
}

static void downloads_release(struct downloads *b)
{
	free(b->items);
	free(b->pkg);
	free(b->have);
	strvec_clear(&b->urls);
}

/* Downloads them; each item, once verified, goes to done (if any); they
 * stop, quietly, when *cancel is set (cancel may be NULL). */
static int downloads_fetch(struct run *run, struct downloads *b, int (*done)(void *, size_t), void *ctx,
                           const int *cancel)
{
	struct progress pr;
	struct fetch_http_opts fo = run->http;
	fo.cancel = cancel;
	long long t0 = progress_now_ms();
	if (!b->n) {
		xb_info("all %zu packages found in the cache", run->n_pkgs);
		return 0;
	}
	fo.progress = progress_cb_bytes;
	fo.progress_ctx = &pr;
	fo.done = done;
	fo.done_ctx = ctx;
	progress_begin(&pr, "downloading", true);
	int r = fetch_http_many(b->items, b->n, &fo);
	progress_end(&pr);
	if (!r)
		xb_info("downloaded %zu packages (%.1f MB) in %.1f s", b->n, (double)b->bytes / 1e6,
		        stage_seconds_since(t0));
	return r;
}

int stage_download(struct run *run)
{
	struct downloads b = { .urls = STRVEC_INIT };
	int r = stage_open_store(run);
	if (!r)
		r = stage_locate(run);
	if (!r)
		downloads_plan(run, &b, -1);
	if (!r)
		r = downloads_fetch(run, &b, NULL, NULL, NULL);
	downloads_release(&b);
	return r;
}

int stage_fetch_one(struct run *run, size_t i)
{
	struct downloads b = { .urls = STRVEC_INIT };
	long long t0 = progress_now_ms();
	downloads_plan(run, &b, (ssize_t)i);
	int r = fetch_http_many(b.items, b.n, &run->http);
	downloads_release(&b);
	timings_since("download", t0);
	return r;
}

/* One unpack with the download beside it, in the caller's thread
 * (stage_unpack) or in one of its own (stage_unpack_begin). */
struct stage_unpack_job {
	struct run *run;
	struct unpack_item *items;
	struct dpkgfilter filter;
	struct downloads b;
	struct unpack_job *job;
	long long t0;
	int (*then)(void *ctx); /* after the unpack, before the second stage hears "all" */
	void *then_ctx;
	int ready[2];           /* the second stage's pipe (unpack.h's protocol) */
	int cancel;             /* set: the downloads stop where they are */
	pthread_t thread;
	int r;
};

/* A download is in place: the child unpacks it while the rest come. */
static int feed_one(void *ctx, size_t item)
{
	struct stage_unpack_job *j = ctx;
	return unpack_ready(j->job, j->b.pkg[item]);
}

/* The unpack started, the cached .debs handed to it. */
static int unpack_begin(struct stage_unpack_job *j)
{
	struct run *run = j->run;
	j->items = xcalloc(run->n_pkgs ? run->n_pkgs : 1, sizeof(*j->items));
	j->filter = (struct dpkgfilter)DPKGFILTER_INIT;
	j->b = (struct downloads){ .urls = STRVEC_INIT };
	j->t0 = progress_now_ms();
	/* --dpkgopt's path filters, as dpkg applies them to what it unpacks */
	for (size_t i = 0; i < run->plan->dpkgopts.n; i++) {
		cleanup_strbuf struct strbuf text = STRBUF_INIT;
		const char *opt = run->plan->dpkgopts.v[i];
		dpkgfilter_add_option(&j->filter, xb_read_file(opt, &text) == 0 ? text.buf : opt);
	}
	for (size_t i = 0; i < run->n_pkgs; i++)
		j->items[i] = (struct unpack_item){ run->debs.v[i], run->pkgs[i].name, &j->filter,
		                                    run->pkgs[i].version };
	downloads_plan(run, &j->b, -1);
	int r = unpack_start(run->root, j->items, run->n_pkgs, j->ready[1], &j->job);
	/* the cached ones first, then each download as it is verified */
	for (size_t i = 0; !r && i < run->n_pkgs; i++)
		if (j->b.have[i])
			r = unpack_ready(j->job, i);
	return r;
}

/* The downloads, the unpack's end; r: how the beginning went. */
static int unpack_rest(struct stage_unpack_job *j, int r)
{
	struct progress pr;
	if (!r)
		r = downloads_fetch(j->run, &j->b, feed_one, j, &j->cancel);
	timings_since("download", j->t0); /* the unpack's own time begins where it ends */
	if (j->job) {
		progress_begin(&pr, "unpacking", false);
		/* a send the child refused: its own error is the one to report */
		r = unpack_finish(j->job, r == -XB_ECHILD ? 0 : r, progress_cb_count, &pr);
		j->job = NULL;
		progress_end(&pr);
	}
	if (!r)
		xb_info("unpacked %zu packages in %.1f s", j->run->n_pkgs, stage_seconds_since(j->t0));
	return r;
}

static void unpack_release(struct stage_unpack_job *j)
{
	downloads_release(&j->b);
	free(j->items);
	dpkgfilter_release(&j->filter);
	for (int i = 0; i < 2; i++)
		if (j->ready[i] >= 0)
			close(j->ready[i]);
	free(j);
}

int stage_unpack(struct run *run)
{
	struct stage_unpack_job *j = xcalloc(1, sizeof(*j));
	*j = (struct stage_unpack_job){ .run = run, .ready = { -1, -1 } };
	int r = unpack_rest(j, unpack_begin(j));
	unpack_release(j);
	return r;
}

/* The thread beside the second stage; signals are the main thread's. */
static void *unpack_thread(void *arg)
{
	struct stage_unpack_job *j = arg;
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	j->r = unpack_rest(j, 0);
	if (!j->r && j->then)
		j->r = j->then(j->then_ctx);
	/* The last word waits for room (the unpack's counts, dropped when
	 * the pipe was full, are gone with it); where nobody reads any more,
	 * EPIPE (SIGPIPE is blocked here). */
	uint32_t v = j->r ? UNPACK_READY_FAILED : UNPACK_READY_ALL;
	int fl = fcntl(j->ready[1], F_GETFL);
	if (fl >= 0)
		fcntl(j->ready[1], F_SETFL, fl & ~O_NONBLOCK);
	(void)xb_write_all(j->ready[1], &v, sizeof(v));
	close(steal_fd(&j->ready[1]));
	return NULL;
}

int stage_unpack_begin(struct run *run, int (*then)(void *ctx), void *ctx,
                       struct stage_unpack_job **out, int *ready_fd)
{
	struct stage_unpack_job *j = xcalloc(1, sizeof(*j));
	*j = (struct stage_unpack_job){ .run = run, .then = then, .then_ctx = ctx,
		                        .ready = { -1, -1 } };
	*out = NULL;
	/* The unpack's counts never wait for a reader: each says all before
	 * it, so one dropped is no loss. */
	int r = pipe2(j->ready, O_CLOEXEC) < 0 ? -errno : 0;
	if (!r && fcntl(j->ready[1], F_SETFL, O_NONBLOCK) < 0)
		r = -errno;
	if (r < 0)
		xb_error("unpacking into %s: pipe: %s", run->root, strerror(-r));
	if (!r)
		r = unpack_begin(j);
	if (!r && (r = -pthread_create(&j->thread, NULL, unpack_thread, j)) < 0)
		xb_error("unpacking into %s: cannot start a thread: %s", run->root, strerror(-r));
	if (r < 0) {
		/* the unpack's own failure is reported as it ends */
		int rr = unpack_rest(j, r);
		unpack_release(j);
		return rr ? rr : r;
	}
	*ready_fd = j->ready[0];
	*out = j;
	return 0;
}

int stage_unpack_end(struct stage_unpack_job *j, bool stop)
{
	if (!j)
		return 0;
	/* nobody reads any more: the last word gets EPIPE, never waits */
	close(steal_fd(&j->ready[0]));
	if (stop)
		__atomic_store_n(&j->cancel, 1, __ATOMIC_RELAXED);
	pthread_join(j->thread, NULL);
	/* what the stop cut short is no failure of its own */
	int r = stop && j->r == -XB_EINTR && !xb_interrupted ? 0 : j->r;
	unpack_release(j);
	return r;
}

/* --print-debs and --simulate: the resolved set on stdout. */
int stage_print_set(const struct run *run)
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
