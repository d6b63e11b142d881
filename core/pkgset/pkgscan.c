/* pkgscan: Packages files mapped, scanned into stanzas and loaded into
 * libsolv; per-solvable lookup of the fields libsolv does not keep.
 * See pkgscan.h. */
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <solv/bitmap.h>
#include <solv/repo.h>
#include <solv/repo_deb.h>

#include "pkgscan.h"

#include "../base/dpkgver.h"
#include "../base/policy.h"

/* What the scan looks for: slot is a PKGSCAN_* index or -1; solv says
 * whether the line goes into the copy libsolv reads.  Handing libsolv only
 * what it solves with (no Description, Recommends, Suggests, checksums)
 * more than halves its loading time, and Recommends can then never be
 * installed. */
#define FIELD(name, slot, solv) { name, sizeof(name) - 1, slot, solv }
static const struct {
	const char *name;
	size_t len;
	int slot;
	bool solv;
} scan_fields[] = {
	FIELD("Package", PKGSCAN_PACKAGE, true),
	FIELD("Version", PKGSCAN_VERSION, true),
	FIELD("Architecture", PKGSCAN_ARCH, true),
	FIELD("Priority", PKGSCAN_PRIORITY, false),
	FIELD("Essential", PKGSCAN_ESSENTIAL, false),
	FIELD("Multi-Arch", PKGSCAN_MULTIARCH, true),
	FIELD("Filename", PKGSCAN_FILENAME, false),
	FIELD("Size", PKGSCAN_SIZE, false),
	FIELD("SHA256", PKGSCAN_SHA256, false),
	FIELD("Depends", -1, true),
	FIELD("Pre-Depends", -1, true),
	FIELD("Recommends", -1, true), /* only followed with APT::Install-Recommends */
	FIELD("Provides", -1, true),
	FIELD("Conflicts", -1, true),
	FIELD("Breaks", -1, true),
	FIELD("Replaces", -1, true),
};
#undef FIELD

/* A field's value as an offset into the mapping; files are < 4 GiB. */
struct slice {
	uint32_t off, len;
};

struct pkgscan_stanza {
	struct slice f[PKGSCAN_NFIELDS];
	uint64_t key; /* key_hash of Package, Version, Architecture */
	unsigned traits; /* PKGSCAN_ESSENTIAL_YES etc., read while the page is in */
};

struct pkgscan_file {
	const char *path;
	char *buf;               /* the mmap'd file (NULL when empty) */
	size_t len;
	size_t dropped;          /* bytes from buf given back by drop_scanned */
	struct pkgscan_stanza *st;
	size_t n, alloc;
	uint32_t *ht;            /* stanza index + 1 by (name, version, arch); 0 free */
	size_t ht_mask;
	Repo *repo;
};

static uint64_t stanza_hash(const struct pkgscan_file *pf, const struct pkgscan_stanza *s);

static bool slice_is(const char *buf, struct slice s, const char *value)
{
	return s.len == strlen(value) && !strncasecmp(buf + s.off, value, s.len);
}

static unsigned traits_of(const struct pkgscan_file *pf, const struct pkgscan_stanza *s)
{
	const struct slice prio = s->f[PKGSCAN_PRIORITY];
	return (slice_is(pf->buf, s->f[PKGSCAN_ESSENTIAL], "yes") ? PKGSCAN_ESSENTIAL_YES : 0) |
	       (slice_is(pf->buf, prio, "required") ? PKGSCAN_REQUIRED : 0) |
	       (slice_is(pf->buf, prio, "important") ? PKGSCAN_IMPORTANT : 0) |
	       (slice_is(pf->buf, prio, "standard") ? PKGSCAN_STANDARD : 0);
}

/* Names and versions become paths and arguments later: a stanza whose
 * Package, Version or Architecture policy would not allow is refused, and
 * so, as apt refuses it, is one without a Package or a Version (libsolv
 * would take an empty "Package:" for a package named "", and a package
 * without a Version for one of version ""). */
static int check_stanza(const struct pkgscan_file *pf, const struct pkgscan_stanza *s)
{
	const struct slice n = s->f[PKGSCAN_PACKAGE], v = s->f[PKGSCAN_VERSION], a = s->f[PKGSCAN_ARCH];
	const char *b = pf->buf, *bad = NULL;
	struct slice what = n;
	cleanup_free char *version = v.len ? xstrndup(b + v.off, v.len) : NULL;
	if (!n.len)
		bad = "without a Package field";
	else if (!policy_package_ok(b + n.off, n.len))
		bad = "with an invalid Package field";
	else if (!version)
		bad = "without a Version field";
	else if (dpkgver_valid(version) < 0)
		bad = "with an invalid Version field", what = v;
	else if (a.len && !policy_arch_ok(b + a.off, a.len))
		bad = "with an invalid Architecture field", what = a;
	if (!bad)
		return 0;
	xb_error("reading %s: a stanza %s%s%.*s", pf->path, bad, what.len ? ": " : "",
	         (int)(what.len > 80 ? 80 : what.len), b + what.off);
	return -XB_EPARSE;
}

static int push_stanza(struct pkgscan_file *pf, struct pkgscan_stanza *cur)
{
	int r = check_stanza(pf, cur);
	if (r < 0)
		return r;
	cur->key = stanza_hash(pf, cur);
	cur->traits = traits_of(pf, cur);
	if (pf->n == pf->alloc) {
		pf->alloc = pf->alloc ? 2 * pf->alloc : 1024;
		pf->st = xrealloc(pf->st, pf->alloc * sizeof(*pf->st));
	}
	pf->st[pf->n++] = *cur;
	return 0;
}

/* Which scan_fields[] entry the line [p, colon) names, or -1. */
static int field_of(const char *p, const char *colon)
{
	size_t nlen = (size_t)(colon - p);
	for (size_t i = 0; i < ARRAY_SIZE(scan_fields); i++)
		if (scan_fields[i].len == nlen &&
		    strncasecmp(p, scan_fields[i].name, nlen) == 0)
			return (int)i;
	return -1;
}

/* libsolv gets the trimmed text in pieces of about this size, so that no
 * copy of the whole index is ever in memory. */
#define SOLV_CHUNK (1u << 20)

static int feed_solv(Pool *pool, struct pkgscan_file *pf, struct strbuf *solv)
{
	if (!solv->len)
		return 0;
	FILE *f = fmemopen(solv->buf, solv->len, "r");
	if (!f) {
		xb_error("reading %s: %s", pf->path, strerror(errno));
		return -XB_EPARSE;
	}
	int r = repo_add_debpackages(pf->repo, f, REPO_NO_INTERNALIZE | REPO_REUSE_REPODATA);
	fclose(f);
	strbuf_reset(solv);
	if (r) {
		xb_error("parsing %s: %s", pf->path, pool_errstr(pool));
		return -XB_EPARSE;
	}
	return 0;
}

/* The scan reads the file once, front to back; pages behind it are
 * dropped as it goes (they come back from the file if a chosen package's
 * stanza is read later), so that the whole file is never resident. */
static void drop_scanned(struct pkgscan_file *pf, const char *p)
{
	const size_t chunk = 4u << 20;
	size_t done = (size_t)(p - pf->buf) & ~(chunk - 1);
	if (done > pf->dropped) {
		madvise(pf->buf + pf->dropped, done - pf->dropped, MADV_DONTNEED);
		pf->dropped = done;
	}
}

/* Scans one Packages file for the fields above, and copies the lines
 * libsolv needs into solv.  Nothing else is copied. */
static int scan_stanzas(Pool *pool, struct pkgscan_file *pf, struct strbuf *solv)
{
	const char *p = pf->buf, *end = pf->buf + pf->len;
	struct pkgscan_stanza cur;
	bool any = false, keep = false;

	memset(&cur, 0, sizeof(cur));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *colon, *v, *ve;
		int i;
		if (!nl)
			nl = end;
		if (p == nl || (*p == '\r' && p + 1 == nl)) {
			if (any) {
				if (push_stanza(pf, &cur) < 0)
					return -XB_EPARSE;
				memset(&cur, 0, sizeof(cur));
				strbuf_addch(solv, '\n');
				any = false;
				if (solv->len >= SOLV_CHUNK && feed_solv(pool, pf, solv) < 0)
					return -XB_EPARSE;
			}
			keep = false;
		} else if (*p == ' ' || *p == '\t') {
			if (keep)
				strbuf_add(solv, p, (size_t)(nl - p) + 1);
		} else if (*p != '#' && (colon = memchr(p, ':', (size_t)(nl - p))) &&
			   (i = field_of(p, colon)) >= 0) {
			keep = scan_fields[i].solv;
			if (keep) {
				strbuf_add(solv, p, (size_t)(nl - p));
				strbuf_addch(solv, '\n');
			}
			any = true;
			if (scan_fields[i].slot < 0)
				goto next;
			for (v = colon + 1; v < nl && (*v == ' ' || *v == '\t'); v++)
				;
			for (ve = nl; ve > v && (ve[-1] == ' ' || ve[-1] == '\t' ||
						 ve[-1] == '\r'); ve--)
				;
			cur.f[scan_fields[i].slot].off = (uint32_t)(v - pf->buf);
			cur.f[scan_fields[i].slot].len = (uint32_t)(ve - v);
		} else {
			keep = false;
		}
next:
		p = nl + 1;
		drop_scanned(pf, p);
	}
	if (any) {
		if (push_stanza(pf, &cur) < 0)
			return -XB_EPARSE;
		strbuf_addch(solv, '\n');
	}
	return feed_solv(pool, pf, solv);
}

static uint64_t key_hash(const char *n, size_t nl, const char *v, size_t vl,
			 const char *a, size_t al)
{
	uint64_t h = 1469598103934665603ull;
	const char *parts[3] = { n, v, a };
	size_t lens[3] = { nl, vl, al };
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < lens[k]; i++)
			h = (h ^ (unsigned char)parts[k][i]) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h;
}

static uint64_t stanza_hash(const struct pkgscan_file *pf, const struct pkgscan_stanza *s)
{
	const char *b = pf->buf;
	return key_hash(b + s->f[PKGSCAN_PACKAGE].off, s->f[PKGSCAN_PACKAGE].len,
			b + s->f[PKGSCAN_VERSION].off, s->f[PKGSCAN_VERSION].len,
			b + s->f[PKGSCAN_ARCH].off, s->f[PKGSCAN_ARCH].len);
}

static void index_stanzas(struct pkgscan_file *pf)
{
	size_t size = 16;
	while (size < 2 * pf->n)
		size *= 2;
	pf->ht = xcalloc(size, sizeof(*pf->ht));
	pf->ht_mask = size - 1;
	for (size_t i = 0; i < pf->n; i++) {
		size_t j = pf->st[i].key & pf->ht_mask;
		while (pf->ht[j])
			j = (j + 1) & pf->ht_mask;
		pf->ht[j] = (uint32_t)(i + 1);
	}
}

/* By the 64-bit key alone: comparing the strings would read every page
 * of the file back into memory, and among some 10^5 keys a collision has
 * a chance of about 10^-9. */
static const struct pkgscan_stanza *find_stanza(const struct pkgscan_file *pf,
						const char *n, const char *v,
						const char *a)
{
	uint64_t key = key_hash(n, strlen(n), v, strlen(v), a, strlen(a));
	for (size_t j = key & pf->ht_mask; pf->ht[j]; j = (j + 1) & pf->ht_mask) {
		const struct pkgscan_stanza *s = &pf->st[pf->ht[j] - 1];
		if (s->key == key)
			return s;
	}
	return NULL;
}

/* Maps one file, scans it and hands it to libsolv as its own repo. */
static int load_file(Pool *pool, struct pkgscan_file *pf)
{
	cleanup_fd int fd = open(pf->path, O_RDONLY | O_CLOEXEC);
	cleanup_strbuf struct strbuf solv = STRBUF_INIT;
	struct stat st;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		xb_error("reading %s: %s", pf->path, strerror(-r));
		return r;
	}
	pf->repo = repo_create(pool, pf->path);
	if (st.st_size == 0)
		return 0;
	if ((uint64_t)st.st_size >= UINT32_MAX) {
		xb_error("reading %s: file too large", pf->path);
		return -XB_EPARSE;
	}
	pf->len = (size_t)st.st_size;
	pf->buf = mmap(NULL, pf->len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (pf->buf == MAP_FAILED) {
		r = -errno;
		pf->buf = NULL;
		xb_error("reading %s: %s", pf->path, strerror(-r));
		return r;
	}
	madvise(pf->buf, pf->len, MADV_SEQUENTIAL);
	strbuf_grow(&solv, SOLV_CHUNK + (64u << 10));
	r = scan_stanzas(pool, pf, &solv);
	madvise(pf->buf, pf->len, MADV_DONTNEED);
	repo_internalize(pf->repo);
	if (!r)
		index_stanzas(pf);
	return r;
}

static bool arch_wanted(Id arch, const Id *archs, size_t n_archs)
{
	for (size_t i = 0; i < n_archs; i++)
		if (archs[i] == arch)
			return true;
	return arch == ARCH_ALL;
}

/* Ties every solvable to its stanza, and marks considered only those of
 * our architectures and "all". */
static void attach_meta(struct pkgscan *ps, const Id *archs, size_t n_archs)
{
	Pool *pool = ps->pool;
	Map *considered = xcalloc(1, sizeof(*considered));

	ps->meta = xcalloc(pool->nsolvables, sizeof(*ps->meta));
	ps->meta_buf = xcalloc(pool->nsolvables, sizeof(*ps->meta_buf));
	map_init(considered, pool->nsolvables);
	for (size_t i = 0; i < ps->n_files; i++) {
		struct pkgscan_file *pf = &ps->files[i];
		Solvable *s;
		Id p;
		FOR_REPO_SOLVABLES(pf->repo, p, s) {
			if (!arch_wanted(s->arch, archs, n_archs))
				continue;
			map_set(considered, p);
			ps->meta[p] = find_stanza(pf, pool_id2str(pool, s->name),
						  pool_id2str(pool, s->evr),
						  pool_id2str(pool, s->arch));
			ps->meta_buf[p] = pf->buf;
		}
	}
	pool->considered = considered;
}

int pkgscan_load(struct pkgscan *ps, Pool *pool, char *const *paths, size_t n,
		 const Id *archs, size_t n_archs)
{
	int r;

	ps->pool = pool;
	ps->n_files = n;
	ps->files = xcalloc(n + 1, sizeof(*ps->files));
	for (size_t i = 0; i < n; i++) {
		ps->files[i].path = paths[i];
		if ((r = load_file(pool, &ps->files[i])) < 0)
			return r;
	}
	attach_meta(ps, archs, n_archs);
	return 0;
}

void pkgscan_release(struct pkgscan *ps)
{
	for (size_t i = 0; i < ps->n_files; i++) {
		struct pkgscan_file *pf = &ps->files[i];
		if (pf->buf)
			munmap(pf->buf, pf->len);
		free(pf->st);
		free(pf->ht);
	}
	free(ps->files);
	free(ps->meta);
	free(ps->meta_buf);
	/* considered was allocated here, so it is freed here, and the pool
	 * left without it. */
	if (ps->pool && ps->pool->considered) {
		map_free(ps->pool->considered);
		free(ps->pool->considered);
		ps->pool->considered = NULL;
	}
}

/* The value of field in the stanza of solvable p, not NUL-terminated (*len
 * bytes), or NULL when p has no stanza or the field is absent or empty. */
static const char *field_value(const struct pkgscan *ps, Id p, enum pkgscan_field field,
			       size_t *len)
{
	const struct pkgscan_stanza *st = ps->meta[p];
	if (!st || !st->f[field].len)
		return NULL;
	*len = st->f[field].len;
	return ps->meta_buf[p] + st->f[field].off;
}

bool pkgscan_is(const struct pkgscan *ps, Id p, enum pkgscan_field field,
		const char *value)
{
	size_t len;
	const char *v = field_value(ps, p, field, &len);
	return v && len == strlen(value) && strncasecmp(v, value, len) == 0;
}

char *pkgscan_dup(const struct pkgscan *ps, Id p, enum pkgscan_field field)
{
	size_t len;
	const char *v = field_value(ps, p, field, &len);
	return v ? xstrndup(v, len) : NULL;
}

int pkgscan_source(const struct pkgscan *ps, Id p)
{
	const Solvable *s = ps->pool->solvables + p;
	int source = 0;
	for (size_t i = 0; i < ps->n_files; i++)
		if (ps->files[i].repo == s->repo)
			source = (int)i;
	return source;
}

unsigned pkgscan_traits(const struct pkgscan *ps, Id p)
{
	return ps->meta[p] ? ps->meta[p]->traits : 0;
}

int pkgscan_file_of(const struct pkgscan *ps, const Repo *repo)
{
	for (size_t i = 0; i < ps->n_files; i++)
		if (ps->files[i].repo == repo)
			return (int)i;
	return -1;
}
