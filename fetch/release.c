/* release: fetching, verifying and parsing a suite's Release file.  Owns the
 * trust decision: the text parsed is only ever what gpgv vouched for (or,
 * with --no-check-sig, the signed part of the file, after a warning). */
#include "release.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>

#include "../core/base/deb822.h"
#include "../core/base/spawn.h"
#include "http.h"

/* Clock skew tolerated for a Release dated in the future. */
#define MAX_FUTURE_SECONDS (10 * 60)
/* Cap on InRelease/Release/Release.gpg downloads (Debian's are < 1 MiB). */
#define MAX_RELEASE_SIZE ((uint64_t)64 << 20)

static const char BEGIN_SIGNED[] = "-----BEGIN PGP SIGNED MESSAGE-----";
static const char BEGIN_SIG[] = "-----BEGIN PGP SIGNATURE-----";
static const char END_SIG[] = "-----END PGP SIGNATURE-----";

/* ---- parsing ---- */

int release_parse_date(const char *s, time_t *out)
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

static int add_file_line(struct release *r, char *line)
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
	struct release_file *f = &r->files[r->n_files++];
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
	return v ? release_parse_date(v, out) : 0;
}

/* release_parse() with the reason for a failure, for release_fetch() to
 * report next to the URL. */
static int parse_release(const char *text, size_t len, struct release *r, const char **why)
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
	release_release(r);
	return rc;
}

int release_parse(const char *text, size_t len, struct release *out)
{
	const char *why;
	return parse_release(text, len, out, &why);
}

const struct release_file *release_find(const struct release *r, const char *path)
{
	for (size_t i = 0; i < r->n_files; i++)
		if (!strcmp(r->files[i].path, path))
			return &r->files[i];
	return NULL;
}

void release_release(struct release *r)
{
	free(r->suite);
	free(r->codename);
	strvec_clear(&r->components);
	strvec_clear(&r->architectures);
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i].path);
	free(r->files);
	memset(r, 0, sizeof(*r));
}

/* ---- the clearsign frame ---- */

/* Returns the line starting at *pos without its end of line (trailing
 * white space dropped) and advances *pos past it; NULL at the end. */
static char *next_line(const char *t, size_t len, size_t *pos)
{
	if (*pos >= len)
		return NULL;
	const char *s = t + *pos, *nl = memchr(s, '\n', len - *pos);
	size_t n = nl ? (size_t)(nl - s) : len - *pos;
	*pos += n + (nl ? 1 : 0);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* apt refuses an InRelease with anything outside the signed block; gpgv
 * would ignore it, but such a file is a sign of tampering. */
static int check_frame(const char *t, size_t len, const char *url)
{
	size_t pos = 0;
	cleanup_free char *first = next_line(t, len, &pos);
	if (!first || strcmp(first, BEGIN_SIGNED)) {
		if (memmem(t, len, BEGIN_SIGNED, sizeof(BEGIN_SIGNED) - 1))
			xb_error("verifying %s: text before the signed message", url);
		else
			xb_error("verifying %s: not signed", url);
		return -XB_EBADSIG;
	}
	for (char *line; (line = next_line(t, len, &pos));) {
		bool end = !strcmp(line, END_SIG);
		free(line);
		if (!end)
			continue;
		for (; pos < len; pos++) {
			if (!isspace((unsigned char)t[pos])) {
				xb_error("verifying %s: text after the signature", url);
				return -XB_EBADSIG;
			}
		}
		return 0;
	}
	xb_error("verifying %s: not signed (no signature block)", url);
	return -XB_EBADSIG;
}

/* The signed text of a clearsigned file, armor headers dropped and dash
 * escapes undone; only for --no-check-sig (else gpgv writes it). */
static void strip_clearsign(const char *t, size_t len, struct strbuf *out)
{
	size_t pos = 0;
	char *line;
	free(next_line(t, len, &pos));
	while ((line = next_line(t, len, &pos))) { /* armor headers ("Hash:") */
		bool blank = !*line;
		free(line);
		if (blank)
			break;
	}
	while ((line = next_line(t, len, &pos))) {
		bool end = !strcmp(line, BEGIN_SIG);
		if (!end) {
			strbuf_addstr(out, str_starts_with(line, "- ") ? line + 2 : line);
			strbuf_addch(out, '\n');
		}
		free(line);
		if (end)
			break;
	}
}

/* ---- gpgv ---- */

struct sigstate {
	bool good, valid, bad, nodata;
	struct strvec nopubkey, expired, revoked;
};

static void sigstate_release(struct sigstate *s)
{
	strvec_clear(&s->nopubkey);
	strvec_clear(&s->expired);
	strvec_clear(&s->revoked);
}

static void add_key(struct strvec *sv, const char *id)
{
	if (id && !strvec_has(sv, id))
		strvec_push(sv, id);
}

static void parse_status(const char *status, struct sigstate *s)
{
	size_t pos = 0;
	for (char *line; (line = deb822_next_line(status, &pos)); free(line)) {
		cleanup_strvec struct strvec w = STRVEC_INIT;
		strvec_split(&w, line, " ");
		if (w.n < 2 || strcmp(w.v[0], "[GNUPG:]"))
			continue;
		const char *kw = w.v[1], *arg = w.n > 2 ? w.v[2] : NULL;
		if (!strcmp(kw, "GOODSIG"))
			s->good = true;
		else if (!strcmp(kw, "VALIDSIG"))
			s->valid = true;
		else if (!strcmp(kw, "BADSIG"))
			s->bad = true;
		else if (!strcmp(kw, "NODATA"))
			s->nodata = true;
		else if (!strcmp(kw, "NO_PUBKEY"))
			add_key(&s->nopubkey, arg);
		else if (!strcmp(kw, "ERRSIG") && w.n > 7 && !strcmp(w.v[7], "9"))
			add_key(&s->nopubkey, arg); /* rc 9: no public key */
		else if (!strcmp(kw, "EXPKEYSIG"))
			add_key(&s->expired, arg);
		else if (!strcmp(kw, "REVKEYSIG"))
			add_key(&s->revoked, arg);
	}
}

static char *join(const struct strvec *sv)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < sv->n; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", sv->v[i]);
	return strbuf_detach(&sb);
}

/* As apt does: trusted when at least one signature is good and by a valid
 * key from the keyrings, and none is bad.  Other signatures by keys we do
 * not have (Debian signs with several) do not matter. */
static int judge(const struct sigstate *s, const char *url, int code)
{
	const char *what = NULL;
	const struct strvec *keys = NULL;
	if (s->bad) {
		xb_error("verifying %s: bad signature", url);
		return -XB_EBADSIG;
	}
	if (s->good && s->valid)
		return 0;
	if (s->nopubkey.n)
		what = "signed by a key not in the keyring", keys = &s->nopubkey;
	else if (s->expired.n)
		what = "signed by an expired key", keys = &s->expired;
	else if (s->revoked.n)
		what = "signed by a revoked key", keys = &s->revoked;
	if (keys) {
		cleanup_free char *ids = join(keys);
		xb_error("verifying %s: %s (%s)", url, what, ids);
	} else if (s->nodata || code == 0) {
		xb_error("verifying %s: not signed", url);
	} else {
		xb_error("verifying %s: gpgv failed (exit %d)", url, code);
	}
	return -XB_EBADSIG;
}

struct rel_ctx {
	const char *mirror, *suite;
	const struct release_opts *o;
	char *base;    /* URL of dists/SUITE */
	char *stem;    /* WORKDIR/<mirror and suite>_ : prefix of local files */
	char *homedir; /* empty GnuPG home, so ~/.gnupg is never read */
	struct strvec rings;
	const char *url; /* the file whose text is parsed */
	struct strbuf text;
};

/* Keyrings as gpgv takes them: armored ones converted to binary, and
 * names given a '/' (gpgv looks up bare names in its home directory). */
static int prepare_keyrings(struct rel_ctx *c, const char *url)
{
	const struct strvec *in = c->o->keyrings;
	if (!in || !in->n) {
		xb_error("verifying %s: no keyring to check it against", url);
		return -XB_EBADSIG;
	}
	if (mkdir(c->homedir, 0700) < 0 && errno != EEXIST) {
		int e = -errno;
		xb_error("creating %s: %s", c->homedir, strerror(-e));
		return e;
	}
	for (size_t i = 0; i < in->n; i++) {
		const char *k = in->v[i];
		if (access(k, R_OK) < 0) {
			int e = -errno;
			xb_error("reading keyring %s: %s", k, strerror(-e));
			return e;
		}
		if (!str_ends_with(k, ".asc")) {
			strvec_pushf(&c->rings, "%s%s", strchr(k, '/') ? "" : "./", k);
			continue;
		}
		cleanup_free char *out = xasprintf("%skeyring%zu.gpg", c->stem, i);
		cleanup_strvec struct strvec argv = STRVEC_INIT;
		strvec_pushl(&argv, "gpg", "--homedir", c->homedir, "--batch", "--yes", "--quiet",
		             "--dearmor", "--output", out, k, NULL);
		struct spawn_opts so = SPAWN_OPTS_INIT;
		so.in_fd = -2;
		int code = 0;
		if (xb_spawn(argv.v, &so, &code) < 0) {
			xb_error("converting keyring %s: gpg --dearmor failed (exit %d)", k, code);
			return -XB_ECHILD;
		}
		strvec_push(&c->rings, out);
	}
	return 0;
}

/* Runs gpgv on sig (and data, for a detached signature); with output,
 * the signed text is written there. */
static int run_gpgv(struct rel_ctx *c, const char *url, const char *output, const char *sig,
                    const char *data)
{
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	cleanup_strbuf struct strbuf status = STRBUF_INIT;
	struct sigstate s = { 0 };
	cleanup_fd int devnull = -1;
	int code = 0;

	int rc = prepare_keyrings(c, url);
	if (rc < 0)
		return rc;
	strvec_pushl(&argv, "gpgv", "--homedir", c->homedir, "--status-fd", "1", NULL);
	for (size_t i = 0; i < c->rings.n; i++)
		strvec_pushl(&argv, "--keyring", c->rings.v[i], NULL);
	if (output) {
		unlink(output);
		strvec_pushl(&argv, "--output", output, NULL);
	}
	strvec_push(&argv, sig);
	if (data)
		strvec_push(&argv, data);

	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.in_fd = -2;
	so.capture = &status;
	if (xb_verbosity < 2 && (devnull = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0)
		so.err_fd = devnull;
	xb_spawn(argv.v, &so, &code);
	if (code == 126 || code == 127)
		return -XB_ECHILD; /* gpgv could not run; xb_spawn said why */
	xb_debug("gpgv on %s: exit %d\n%s", url, code, status.buf);
	parse_status(status.buf, &s);
	rc = judge(&s, url, code);
	sigstate_release(&s);
	return rc;
}

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
	struct fetch_opts fo = FETCH_OPTS_INIT;
	fo.max_size = MAX_RELEASE_SIZE;
	*url = xasprintf("%s/%s", c->base, name);
	*path = xasprintf("%s%s", c->stem, name);
	return fetch_file(*url, *path, 0, NULL, quiet_404, &fo);
}

static int verify_inrelease(struct rel_ctx *c, const char *url, const char *path)
{
	cleanup_strbuf struct strbuf raw = STRBUF_INIT;
	cleanup_free char *signed_text = xasprintf("%sInRelease.signed", c->stem);
	int rc = read_or_report(path, &raw);
	if (rc < 0)
		return rc;
	if (c->o->no_check_sig) {
		xb_warn("not checking the signature of %s (--no-check-sig)", url);
		/* A local unsigned repository may serve plain text as InRelease. */
		if (!memmem(raw.buf, raw.len, BEGIN_SIGNED, sizeof(BEGIN_SIGNED) - 1)) {
			strbuf_add(&c->text, raw.buf, raw.len);
			return 0;
		}
		if ((rc = check_frame(raw.buf, raw.len, url)) < 0)
			return rc;
		strip_clearsign(raw.buf, raw.len, &c->text);
		return 0;
	}
	if ((rc = check_frame(raw.buf, raw.len, url)) < 0)
		return rc;
	if ((rc = run_gpgv(c, url, signed_text, path, NULL)) < 0)
		return rc;
	return read_or_report(signed_text, &c->text);
}

/* The fallback for mirrors without InRelease: Release + Release.gpg. */
static int verify_detached(struct rel_ctx *c, char **url)
{
	cleanup_free char *path = NULL, *sig_url = NULL, *sig_path = NULL;
	int rc = get(c, "Release", url, &path, true);
	if (rc == -XB_ENOTFOUND) {
		xb_error("suite %s not found on %s (no dists/%s/InRelease or Release)", c->suite,
		         c->mirror, c->suite);
		return rc;
	}
	if (rc < 0)
		return rc;
	if (c->o->no_check_sig) {
		xb_warn("not checking the signature of %s (--no-check-sig)", *url);
		return read_or_report(path, &c->text);
	}
	rc = get(c, "Release.gpg", &sig_url, &sig_path, true);
	if (rc == -XB_ENOTFOUND) {
		xb_error("verifying %s: not signed (no InRelease or Release.gpg)", *url);
		return -XB_EBADSIG;
	}
	if (rc < 0 || (rc = run_gpgv(c, *url, NULL, sig_path, path)) < 0)
		return rc;
	return read_or_report(path, &c->text);
}

static void fmt_time(time_t t, char *buf, size_t n)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%a, %d %b %Y %H:%M:%S UTC", &tm))
		snprintf(buf, n, "%lld", (long long)t);
}

static int check_release(const struct release *r, const struct rel_ctx *c)
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
	if (!(r->suite && !strcmp(r->suite, c->suite)) &&
	    !(r->codename && !strcmp(r->codename, c->suite)))
		xb_warn("%s: asked for suite %s, but it is Suite %s, Codename %s", c->url, c->suite,
		        r->suite ? r->suite : "(none)", r->codename ? r->codename : "(none)");
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

int release_fetch(const char *mirror, const char *suite, const struct release_opts *o,
                  struct release *out)
{
	struct rel_ctx c = { .mirror = mirror, .suite = suite, .o = o, .rings = STRVEC_INIT, .text = STRBUF_INIT };
	char *url = NULL, *path = NULL;
	const char *why = NULL;

	memset(out, 0, sizeof(*out));
	c.base = xasprintf("%s/dists/%s", mirror, suite);
	c.stem = file_stem(o->workdir, mirror, suite);
	c.homedir = xasprintf("%sgnupg", c.stem);
	int rc = get(&c, "InRelease", &url, &path, true);
	if (rc == 0) {
		rc = verify_inrelease(&c, url, path);
	} else if (rc == -XB_ENOTFOUND) {
		free(url);
		url = NULL;
		rc = verify_detached(&c, &url);
	}
	if (rc < 0)
		goto out;
	c.url = url;
	if ((rc = parse_release(c.text.buf, c.text.len, out, &why)) < 0) {
		xb_error("parsing %s: %s", url, why);
		goto out;
	}
	if ((rc = check_release(out, &c)) < 0)
		release_release(out);
out:
	free(url);
	free(path);
	free(c.base);
	free(c.stem);
	if (c.homedir)
		xb_rm_rf_at(AT_FDCWD, c.homedir);
	free(c.homedir);
	strvec_clear(&c.rings);
	strbuf_release(&c.text);
	return rc;
}
