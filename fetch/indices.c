/* indices: fetching a suite's Packages indices, checked against the
 * Release, and decompressing them for the resolver; the cache keeps them
 * decompressed, by the hash the Release gives them so. */
#include "indices.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>

#include "../core/base/hash.h"
#include "cache.h"
#include "http.h"
#include "sources.h"
#include "unxz.h"

/* In order of preference: smallest download first. */
static const char *const exts[] = { ".xz", ".gz", ".zst", "" };

/* Whether the Release lists want.  debian-security lists its components as
 * "updates/main" while the files live under main/: a last part matching
 * counts, as it does for apt. */
static bool listed(const struct strvec *have, const char *want)
{
	if (!have->n || strvec_has(have, want))
		return true;
	for (size_t i = 0; i < have->n; i++) {
		const char *slash = strrchr(have->v[i], '/');
		if (slash && !strcmp(slash + 1, want))
			return true;
	}
	return false;
}

static int check_listed(const struct strvec *have, const char *want, const char *suite,
                        const char *what)
{
	if (listed(have, want))
		return 0;
	cleanup_free char *list = strvec_join(have, " ");
	xb_error("suite %s has no %s %s (it has: %s)", suite, what, want, list);
	return -XB_ENOTFOUND;
}

static int write_entry(struct archive *a, int fd, const char *src, const char *tmp,
                       struct xb_hash *h)
{
	size_t bufsize = 1 << 16;
	cleanup_free char *buf = xmalloc(bufsize);
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, bufsize);
		if (n == 0)
			return 0;
		if (n < 0) {
			xb_error("decompressing %s: %s", src, archive_error_string(a));
			return -XB_EPARSE;
		}
		xb_hash_update(h, buf, (size_t)n);
		int rc = xb_write_all(fd, buf, (size_t)n);
		if (rc < 0) {
			xb_error("writing %s: %s", tmp, strerror(-rc));
			return rc;
		}
	}
}

/* With libarchive's raw format: gz, zst or plain (by content). */
static int decompress_other(const char *src, int fd, const char *tmp, struct xb_hash *h)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int rc = 0;

	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, src, 1 << 16) != ARCHIVE_OK) {
		xb_error("decompressing %s: %s", src, archive_error_string(a));
		rc = -XB_EPARSE;
		goto out;
	}
	int r = archive_read_next_header(a, &e);
	if (r == ARCHIVE_OK || r == ARCHIVE_WARN) {
		rc = write_entry(a, fd, src, tmp, h);
	} else if (r != ARCHIVE_EOF) { /* EOF: an empty index */
		xb_error("decompressing %s: %s", src, archive_error_string(a));
		rc = -XB_EPARSE;
	}
out:
	archive_read_free(a);
	return rc;
}

/* Decompresses src (xz, gz, zst or plain, by content) to dest; xz, the
 * archive's own, on every core.  sha256 gets the SHA256 of what it wrote.
 * Reports errors. */
static int decompress(const char *src, const char *dest, char *sha256)
{
	struct xb_hash *h = xb_hash_new(XB_SHA256);
	cleanup_free char *tmp = xasprintf("%s.part", dest);
	cleanup_fd int in = open(src, O_RDONLY | O_CLOEXEC);
	unsigned char head[6];
	int rc = 0, fd = -1;

	if (in < 0) {
		rc = -errno;
		xb_error("opening %s: %s", src, strerror(-rc));
		goto out;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		rc = -errno;
		xb_error("creating %s: %s", tmp, strerror(-rc));
		goto out;
	}
	ssize_t n = pread(in, head, sizeof(head), 0);
	if (n >= 0 && fetch_unxz_is_xz(head, (size_t)n))
		rc = fetch_unxz(in, fd, h, src, tmp);
	else
		rc = decompress_other(src, fd, tmp, h);
	if (rc < 0)
		goto out;
	int closed = close(fd);
	fd = -1;
	if (closed < 0 || rename(tmp, dest) < 0) {
		rc = -errno;
		xb_error("writing %s: %s", dest, strerror(-rc));
	}
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	xb_hash_final_hex(h, sha256); /* frees h */
	return rc;
}

/* The indices of COMPONENT/binary-ARCH that the Release lists, best
 * first (into f[] and ext[], at most ARRAY_SIZE(exts)); their number. */
static size_t list_indices(const struct fetch_release *r, const char *component, const char *arch,
                           const struct fetch_release_file **f, const char **ext)
{
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
		cleanup_free char *p = component ? xasprintf("%s/binary-%s/Packages%s", component, arch,
		                                             exts[i])
		                                 : xasprintf("Packages%s", exts[i]);
		if ((f[n] = fetch_release_find(r, p)))
			ext[n++] = exts[i];
	}
	return n;
}

/* Downloads f to dest, by hash when the Release offers it: a by-hash URL
 * never changes content, so it cannot race a mirror update. */
static int download(const struct fetch_indices_req *q, const struct fetch_release_file *f,
                    const char *dest, bool quiet_404)
{
	const char *mirror = q->mirror, *suite = q->suite;
	struct fetch_http_opts fo = *q->http;
	fo.progress = NULL;
	cleanup_free char *dist = fetch_source_dist_url(mirror, suite);
	cleanup_free char *url = xasprintf("%s/%s", dist, f->path);
	if (q->release->by_hash) {
		const char *slash = strrchr(f->path, '/');
		int dirlen = slash ? (int)(slash - f->path) : 0;
		cleanup_free char *hurl = xasprintf("%s/%.*s%sby-hash/SHA256/%s", dist, dirlen,
		                                    f->path, slash ? "/" : "", f->sha256);
		int rc = fetch_http_file(hurl, dest, f->size, f->sha256, true, &fo);
		if (rc != -XB_ENOTFOUND)
			return rc;
		xb_debug("%s not found, trying %s", hurl, url);
	}
	return fetch_http_file(url, dest, f->size, f->sha256, quiet_404, &fo);
}

/* One listed index into out: decompressed, or renamed into place, its
 * SHA256 into sha256 (65 bytes); and into the cache when it is what the
 * Release says the plain index is. */
static int fetch_one(const struct fetch_indices_req *q, const struct fetch_release_file *f,
                     const char *ext, const char *out, bool quiet_404,
                     const struct fetch_release_file *plain, char *sha256)
{
	cleanup_free char *dl = xasprintf("%s%s", out, *ext ? ext : ".download");
	int rc = download(q, f, dl, quiet_404);
	if (rc < 0)
		return rc;
	if (*ext) {
		rc = decompress(dl, out, sha256);
		unlink(dl);
	} else if (rename(dl, out) < 0) {
		rc = -errno;
		xb_error("renaming %s to %s: %s", dl, out, strerror(-rc));
		unlink(dl);
	} else {
		snprintf(sha256, 65, "%s", f->sha256);
	}
	if (rc == 0 && q->cache && plain && !strcmp(sha256, plain->sha256))
		fetch_cache_keep_index(q->cache, out, sha256);
	return rc;
}

/* The plain index as the Release lists it (whether the mirror has it or
 * not), when the cache holds it whole: its path there. */
static char *cached(const struct fetch_indices_req *q, const struct fetch_release_file *plain)
{
	if (!q->cache || !plain || !fetch_cache_has_index(q->cache, plain->sha256, plain->size))
		return NULL;
	xb_debug("%s/%s: from the cache", q->suite, plain->path);
	return fetch_cache_index_path(q->cache, plain->sha256);
}

/* The best index the Release lists, or where a mirror lacks that file
 * (an offline copy keeps the plain one only), the next, as apt does. */
static int fetch_component(const struct fetch_indices_req *q, const char *component,
                           struct strvec *paths)
{
	const struct fetch_release_file *f[ARRAY_SIZE(exts)];
	const char *ext[ARRAY_SIZE(exts)];
	size_t n = list_indices(q->release, component, q->arch, f, ext);
	if (!n && !component) {
		xb_error("flat repository %s/%s has no Packages index in its Release", q->mirror,
		         q->suite);
		return -XB_ENOTFOUND;
	}
	if (!n) {
		xb_error("suite %s has no index %s/binary-%s/Packages in its Release", q->suite,
		         component, q->arch);
		return -XB_ENOTFOUND;
	}
	cleanup_free char *plain_path = component ? xasprintf("%s/binary-%s/Packages", component,
	                                                      q->arch)
	                                          : xstrdup("Packages");
	const struct fetch_release_file *plain = fetch_release_find(q->release, plain_path);
	char *have = cached(q, plain);
	if (have) {
		strvec_push(paths, have);
		if (q->sha256s)
			strvec_push(q->sha256s, plain->sha256);
		free(have);
		return 0;
	}
	cleanup_free char *name = xstrdup(component ? component : "flat");
	for (char *p = name; *p; p++)
		if (*p == '/')
			*p = '_';
	cleanup_free char *out = component ? xasprintf("%s/%d_%s_%s_Packages", q->workdir, q->index,
	                                               name, q->arch)
	                                   : xasprintf("%s/%d_flat_Packages", q->workdir, q->index);
	int rc = -XB_ENOTFOUND;
	char sha256[65];
	for (size_t i = 0; i < n && rc == -XB_ENOTFOUND; i++)
		rc = fetch_one(q, f[i], ext[i], out, i + 1 < n, plain, sha256);
	if (rc == 0)
		strvec_push(paths, out);
	if (rc == 0 && q->sha256s)
		strvec_push(q->sha256s, sha256);
	return rc;
}

bool fetch_indices_has_arch(const struct fetch_release *r, const char *suite, const char *arch)
{
	return fetch_source_is_flat(suite) || listed(&r->architectures, arch);
}

int fetch_indices_get(const struct fetch_indices_req *q, struct strvec *paths)
{
	const struct fetch_release *r = q->release;
	if (fetch_source_is_flat(q->suite))
		return fetch_component(q, NULL, paths);
	int rc = check_listed(&r->architectures, q->arch, q->suite, "architecture");
	for (size_t i = 0; rc == 0 && i < q->components->n; i++)
		rc = check_listed(&r->components, q->components->v[i], q->suite, "component");
	for (size_t i = 0; rc == 0 && i < q->components->n; i++)
		rc = fetch_component(q, q->components->v[i], paths);
	return rc;
}
