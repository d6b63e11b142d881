/* release: fetching, verifying and parsing a suite's Release file.  Owns the
 * trust decision: the text parsed is only ever what gpgv vouched for (or,
 * with --no-check-sig, the signed part of the file, after a warning). */
#include "release.h"
#include "sources.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>

#include "../core/base/deb822.h"
#include "gpgv.h"
#include "http.h"

/* Clock skew tolerated for a Release dated in the future. */
#define MAX_FUTURE_SECONDS (10 * 60)
/* Cap on InRelease/Release/Release.gpg downloads (Debian's are < 1 MiB). */
#define MAX_RELEASE_SIZE ((uint64_t)64 << 20)

/* ---- parsing ---- */

int fetch_release_parse_date(const char *s, time_t *out)
{
	static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun",
		                              "jul", "aug", "sep", "oct", "nov", "dec" };
	const char *comma = strchr(s, ',');
	const char *p = comma ? comma + 1 : s;
	int day, year, h, m, sec = 0, n = 0, mon = -1;
	char mname[10];
	if (sscanf(p, " %d %9s %d %d:%d%n", &day, mname, &year, &h, &m, &n) != 5)
		return -XB_EPARSE;
	p += n;
	if (*p == ':') {
		if (sscanf(p, ":%d%n", &sec, &n) != 1)
			return -XB_EPARSE;
		p += n;
	}
	for (size_t i = 0; i < ARRAY_SIZE(months); i++)
		if (strlen(mname) >= 3 && !strncasecmp(mname, months[i], 3))
			mon = (int)i;
	while (isspace((unsigned char)*p))
		p++;
	long off = 0;
	if (*p == '+' || *p == '-') {
		if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]) ||
		    !isdigit((unsigned char)p[3]) || !isdigit((unsigned char)p[4]))
			return -XB_EPARSE;
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600L + ((p[3] - '0') * 10 + (p[4] - '0')) * 60L;
		if (*p == '-')
			off = -off;
		p += 5;
	} else if (!strncasecmp(p, "UTC", 3) || !strncasecmp(p, "GMT", 3)) {
		p += 3;
	} else if (*p == 'Z' || !strncasecmp(p, "UT", 2)) {
		p += *p == 'Z' ? 1 : 2;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p || mon < 0 || day < 1 || day > 31 || year < 1970 || h > 23 || h < 0 || m < 0 ||
	    m > 59 || sec < 0 || sec > 60)
		return -XB_EPARSE;
	struct tm tm = { .tm_year = year - 1900, .tm_mon = mon, .tm_mday = day,
		         .tm_hour = h, .tm_min = m, .tm_sec = sec };
	*out = timegm(&tm) - off;
	return 0;
}

static bool is_sha256_hex(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return i == 64;
}

static int add_file_line(struct fetch_release *r, char *line)
{
	char *save = NULL;
	char *hex = strtok_r(line, " \t", &save);
	char *size = strtok_r(NULL, " \t", &save);
	char *path = strtok_r(NULL, " \t", &save);
	char *end = NULL;
	if (!path || strtok_r(NULL, " \t", &save) || !is_sha256_hex(hex) || !isdigit((unsigned char)*size))
		return -XB_EPARSE;
	errno = 0;
	unsigned long long sz = strtoull(size, &end, 10);
	if (*end || errno)
		return -XB_EPARSE;
	r->files = xrealloc(r->files, (r->n_files + 1) * sizeof(*r->files));
	struct fetch_release_file *f = &r->files[r->n_files++];
	f->path = xstrdup(path);
	f->size = sz;
	for (int i = 0; i < 65; i++)
		f->sha256[i] = (char)tolower((unsigned char)hex[i]);
	return 0;
}

static int parse_date_field(const struct deb822 *p, const char *name, time_t *out)
{
	const char *v = deb822_get(p, name);
	*out = 0;
	return v ? fetch_release_parse_date(v, out) : 0;
}

int fetch_release_parse(const char *text, size_t len, struct fetch_release *r, const char **why)
{
	cleanup_deb822 struct deb822 p = DEB822_INIT;
	size_t pos = 0;
	const char *v;

	memset(r, 0, sizeof(*r));
	int rc = deb822_parse(text, len, &pos, &p);
	if (rc <= 0) {
		*why = rc < 0 ? "malformed line" : "empty file";
		return -XB_EPARSE;
	}
	if ((v = deb822_get(&p, "Suite")))
		r->suite = xstrdup(v);
	if ((v = deb822_get(&p, "Codename")))
		r->codename = xstrdup(v);
	if ((v = deb822_get(&p, "Components")))
		strvec_split(&r->components, v, " \t\n");
	if ((v = deb822_get(&p, "Architectures")))
		strvec_split(&r->architectures, v, " \t\n");
	v = deb822_get(&p, "Acquire-By-Hash");
	r->by_hash = v && !strcasecmp(v, "yes");
	rc = -XB_EPARSE;
	if (parse_date_field(&p, "Date", &r->date) < 0) {
		*why = "bad Date field";
		goto fail;
	}
	if (parse_date_field(&p, "Valid-Until", &r->valid_until) < 0) {
		*why = "bad Valid-Until field";
		goto fail;
	}
	v = deb822_get(&p, "SHA256");
	pos = 0;
	for (char *line; v && (line = deb822_next_line(v, &pos));) {
		int e = add_file_line(r, line);
		free(line);
		if (e < 0) {
			*why = "malformed SHA256 line";
			goto fail;
		}
	}
	if (!r->n_files) {
		*why = "no SHA256 checksums";
		goto fail;
	}
	return 0;
fail:
	fetch_release_free(r);
	return rc;
}

const struct fetch_release_file *fetch_release_find(const struct fetch_release *r, const char *path)
{
	for (size_t i = 0; i < r->n_files; i++)
		if (!strcmp(r->files[i].path, path))
			return &r->files[i];
	return NULL;
}

void fetch_release_free(struct fetch_release *r)
{
	free(r->suite);
	free(r->codename);
	strvec_clear(&r->components);
	strvec_clear(&r->architectures);
	strvec_clear(&r->kept);
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i].path);
	free(r->files);
	memset(r, 0, sizeof(*r));
}

struct rel_ctx {
	const char *mirror, *suite;
	const struct fetch_release_opts *o;
	char *base;    /* URL of dists/SUITE */
	char *stem;    /* WORKDIR/<mirror and suite>_ : prefix of local files */
	struct fetch_gpgv gpgv;
	const char *url; /* the file whose text is parsed */
	struct strbuf text;
};

static int read_or_report(const char *path, struct strbuf *sb)
{
	int rc = xb_read_file(path, sb);
	if (rc < 0)
		xb_error("reading %s: %s", path, strerror(-rc));
	return rc;
}

/* ---- fetching ---- */

static int get(struct rel_ctx *c, const char *name, char **url, char **path, bool quiet_404)
{
	struct fetch_http_opts fo = *c->o->http;
	fo.max_size = MAX_RELEASE_SIZE;
	fo.progress = NULL;
	*url = xasprintf("%s/%s", c->base, name);
	*path = xasprintf("%s%s", c->stem, name);
	return fetch_http_file(*url, *path, 0, NULL, quiet_404, &fo);
}

static void warn_unchecked(const char *url)
{
	xb_warn("not checking the signature of %s (--no-check-sig, or trusted=yes): only its dates, and the "
	        "indices and packages against its hashes, are checked", url);
}

static int verify_inrelease(struct rel_ctx *c, const char *url, const char *path)
{
	cleanup_strbuf struct strbuf raw = STRBUF_INIT;
	cleanup_free char *signed_text = xasprintf("%sInRelease.signed", c->stem);
	int rc = read_or_report(path, &raw);
	if (rc < 0)
		return rc;
	if (c->o->no_check_sig) {
		warn_unchecked(url);
		/* A local unsigned repository may serve plain text as InRelease. */
		if (!fetch_gpgv_is_clearsigned(raw.buf, raw.len)) {
			strbuf_add(&c->text, raw.buf, raw.len);
			return 0;
		}
		if ((rc = fetch_gpgv_check_frame(raw.buf, raw.len, url)) < 0)
			return rc;
		fetch_gpgv_strip(raw.buf, raw.len, &c->text);
		return 0;
	}
	if ((rc = fetch_gpgv_check_frame(raw.buf, raw.len, url)) < 0)
		return rc;
	if ((rc = fetch_gpgv_verify(&c->gpgv, url, path, NULL, signed_text)) < 0)
		return rc;
	return read_or_report(signed_text, &c->text);
}

/* The fallback for mirrors without InRelease: Release + Release.gpg. */
static int verify_detached(struct rel_ctx *c, char **url)
{
	cleanup_free char *path = NULL, *sig_url = NULL, *sig_path = NULL;
	int rc = get(c, "Release", url, &path, true);
	if (rc == -XB_ENOTFOUND) {
		xb_error("suite %s not found on %s (no %s/InRelease or Release)", c->suite,
		         c->mirror, c->base);
		return rc;
	}
	if (rc < 0)
		return rc;
	if (c->o->no_check_sig) {
		warn_unchecked(*url);
		return read_or_report(path, &c->text);
	}
	rc = get(c, "Release.gpg", &sig_url, &sig_path, true);
	if (rc == -XB_ENOTFOUND) {
		xb_error("verifying %s: not signed (no InRelease or Release.gpg)", *url);
		return -XB_EBADSIG;
	}
	if (rc < 0 || (rc = fetch_gpgv_verify(&c->gpgv, *url, sig_path, path, NULL)) < 0)
		return rc;
	return read_or_report(path, &c->text);
}

static void fmt_time(time_t t, char *buf, size_t n)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%a, %d %b %Y %H:%M:%S UTC", &tm))
		snprintf(buf, n, "%lld", (long long)t);
}

static int check_release(const struct fetch_release *r, const struct rel_ctx *c)
{
	char when[64];
	time_t now = time(NULL);
	if (r->valid_until && r->valid_until < now) {
		fmt_time(r->valid_until, when, sizeof(when));
		if (!c->o->ignore_valid_until) {
			xb_error("%s: expired on %s (Valid-Until); --ignore-valid-until overrides",
			         c->url, when);
			return -XB_EEXPIRED;
		}
		xb_warn("%s: expired on %s (Valid-Until); ignored (--ignore-valid-until)", c->url, when);
	}
	if (r->date > now + MAX_FUTURE_SECONDS) {
		fmt_time(r->date, when, sizeof(when));
		xb_error("%s: dated %s, in the future (is the clock right?)", c->url, when);
		return -XB_EEXPIRED;
	}
	/* A validly signed Release of another suite is no answer to this one
	 * (a flat repository's path is no suite). */
	if (fetch_source_is_flat(c->suite))
		return 0;
	if ((r->suite && !strcmp(r->suite, c->suite)) || (r->codename && !strcmp(r->codename, c->suite)))
		return 0;
	const char *s = r->suite ? r->suite : "(none)", *cn = r->codename ? r->codename : "(none)";
	if (!c->o->allow_suite_change) {
		xb_error("%s: asked for suite %s, but it is Suite %s, Codename %s; "
		         "--allow-suite-change accepts it", c->url, c->suite, s, cn);
		return -XB_EBADSIG;
	}
	xb_warn("%s: asked for suite %s, but it is Suite %s, Codename %s; accepted "
	        "(--allow-suite-change)", c->url, c->suite, s, cn);
	return 0;
}

/* WORKDIR/<mirror without scheme>_dists_<suite>_ with '/' as '_', so that
 * several mirrors and suites can share a work directory. */
static char *file_stem(const char *workdir, const char *mirror, const char *suite)
{
	const char *s = strstr(mirror, "://");
	char *name = xasprintf("%s_dists_%s_", s ? s + 3 : mirror, suite);
	for (char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-+_", *p))
			*p = '_';
	char *stem = xasprintf("%s/%s", workdir, name);
	free(name);
	return stem;
}

int fetch_release_get(const char *mirror, const char *suite, const struct fetch_release_opts *o,
                  struct fetch_release *out)
{
	struct rel_ctx c = { .mirror = mirror, .suite = suite, .o = o, .text = STRBUF_INIT };
	char *url = NULL, *path = NULL;
	const char *why = NULL;
	bool detached = false;

	memset(out, 0, sizeof(*out));
	c.base = fetch_source_dist_url(mirror, suite);
	c.stem = file_stem(o->workdir, mirror, suite);
	c.gpgv = (struct fetch_gpgv){ o->keyrings, c.stem };
	int rc = get(&c, "InRelease", &url, &path, true);
	if (rc == 0) {
		rc = verify_inrelease(&c, url, path);
	} else if (rc == -XB_ENOTFOUND) {
		free(url);
		url = NULL;
		detached = true;
		rc = verify_detached(&c, &url);
	}
	if (rc < 0)
		goto out;
	c.url = url;
	if ((rc = fetch_release_parse(c.text.buf, c.text.len, out, &why)) < 0) {
		xb_error("parsing %s: %s", url, why);
		goto out;
	}
	if ((rc = check_release(out, &c)) < 0) {
		fetch_release_free(out);
		goto out;
	}
	if (detached) {
		cleanup_free char *sig = xasprintf("%sRelease.gpg", c.stem);
		strvec_pushf(&out->kept, "%sRelease", c.stem);
		if (access(sig, F_OK) == 0) /* else unsigned, and not checked */
			strvec_push(&out->kept, sig);
	} else {
		strvec_pushf(&out->kept, "%sInRelease", c.stem);
	}
out:
	free(url);
	free(path);
	free(c.base);
	free(c.stem);
	strbuf_release(&c.text);
	return rc;
}
