/* offline: the offline tarball (see offline.h). */
#include "offline.h"

#include "copy.h"
#include "../output/output.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

char *offline_mirror_dir(size_t m)
{
	return xasprintf("mirror-%zu", m);
}

/* One file into the staging tree at rel, its directories made. */
static int stage_file(const char *top, const char *src, const char *rel)
{
	cleanup_free char *dst = xasprintf("%s/%s", top, rel);
	char *slash = strrchr(dst, '/');
	*slash = '\0';
	int r = xb_mkdir_p_at(AT_FDCWD, dst, 0755);
	*slash = '/';
	if (!r)
		r = xb_link_or_copy(src, dst);
	if (r < 0 && r != -EEXIST)
		xb_error("--make-tarball: staging %s: %s", src, strerror(-r));
	return r == -EEXIST ? 0 : r;
}

/* The sources as given, each naming its mirror in the tarball. */
static void sources_text(const struct run *run, struct strbuf *sb)
{
	for (size_t m = 0; m < run->sources.n; m++) {
		const struct fetch_source *e = &run->sources.v[m];
		if (e->in_tree)
			continue;
		strbuf_addf(sb, "deb [xboot-offline=mirror-%zu", m);
		for (size_t i = 0; i < e->options.n; i++)
			if (!strchr(e->options.v[i], '\n') && !strchr(e->options.v[i], ' '))
				strbuf_addf(sb, " %s", e->options.v[i]);
		strbuf_addf(sb, "] %s %s", e->tree_uri ? e->tree_uri : e->uri, e->suite);
		for (size_t i = 0; i < e->components.n; i++)
			strbuf_addf(sb, " %s", e->components.v[i]);
		strbuf_addch(sb, '\n');
	}
}

int offline_write(const struct run *run, const char *file)
{
	cleanup_free char *top = xasprintf("%s/offline-out", run->workdir);
	cleanup_strbuf struct strbuf list = STRBUF_INIT;
	int r = xb_mkdir_p_at(AT_FDCWD, top, 0755);
	for (size_t i = 0; !r && i + 1 < run->offline.n; i += 2)
		r = stage_file(top, run->offline.v[i], run->offline.v[i + 1]);
	for (size_t i = 0; !r && i < run->n_pkgs; i++) {
		const struct xb_pkg *k = &run->pkgs[i];
		if (!run->pkg_offline.v[k->source][0])
			continue; /* --include's own .debs: given again offline */
		cleanup_free char *rel = xasprintf("%s/%s", run->pkg_offline.v[k->source], k->filename);
		r = stage_file(top, run->debs.v[i], rel);
	}
	sources_text(run, &list);
	cleanup_free char *srcs = xasprintf("%s/" OFFLINE_SOURCES, top);
	if (!r && (r = xb_write_file_at(AT_FDCWD, srcs, list.buf, list.len, 0644)) < 0)
		xb_error("--make-tarball: writing %s: %s", srcs, strerror(-r));
	if (r < 0)
		return r;
	enum output_format f = OUTPUT_TAR;
	struct output_opts oo = OUTPUT_OPTS_INIT;
	oo.source_date_epoch = run->plan->source_date_epoch;
	if (output_format_of_target(file, &f) < 0 || !output_format_is_stream(f) || f == OUTPUT_CPIO)
		f = OUTPUT_TAR;
	r = output_write(top, file, f, &oo);
	if (!r)
		xb_info("wrote %s: %zu packages and the indices of %zu sources", file, run->n_pkgs,
		        run->sources.n);
	return r;
}

/* Each source of the tarball: served from its directory there, named in
 * the tree as it was given. */
static int take_sources(struct run *run, const char *dir)
{
	cleanup_free char *path = xasprintf("%s/" OFFLINE_SOURCES, dir);
	struct fetch_sources found = FETCH_SOURCES_INIT;
	int r = fetch_sources_parse_arg(path, false, &found);
	fetch_sources_release(&run->sources);
	for (size_t i = 0; !r && i < found.n; i++) {
		const struct fetch_source *e = &found.v[i];
		const char *mirror = NULL;
		cleanup_strvec struct strvec options = STRVEC_INIT;
		for (size_t k = 0; k < e->options.n; k++) {
			if (str_starts_with(e->options.v[k], "xboot-offline="))
				mirror = e->options.v[k] + 14;
			else
				strvec_push(&options, e->options.v[k]);
		}
		if (!mirror || strchr(mirror, '/') || strstr(mirror, "..")) {
			xb_error("--unpack-tarball: %s names no mirror of its own", path);
			r = -XB_EPARSE;
			break;
		}
		cleanup_free char *uri = xasprintf("file://%s/%s", dir, mirror);
		struct fetch_source *n = fetch_sources_add(&run->sources, uri, e->suite, &e->components);
		strvec_pushv(&n->options, &options);
		n->tree_uri = xstrdup(e->uri);
	}
	fetch_sources_release(&found);
	return r;
}

int offline_open(struct run *run, const char *file)
{
	cleanup_free char *what = xasprintf("--unpack-tarball=%s", file);
	cleanup_free char *dir = xasprintf("%s/offline", run->workdir);
	int r = copy_tar_into_tree(run->workdir, file, "offline", what);
	if (!r)
		r = take_sources(run, dir);
	if (!r)
		xb_info("bootstrapping from %s, with no network", file);
	return r;
}
