/* gpgv: the trust decision on a signed Release (see gpgv.h).  Only the
 * text gpgv vouched for is ever parsed; without a check, the signed part
 * of the clearsigned file after a warning. */
#include "gpgv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "../core/base/deb822.h"
#include "../core/base/spawn.h"

static const char BEGIN_SIGNED[] = "-----BEGIN PGP SIGNED MESSAGE-----";
static const char BEGIN_SIG[] = "-----BEGIN PGP SIGNATURE-----";
static const char END_SIG[] = "-----END PGP SIGNATURE-----";

bool fetch_gpgv_is_clearsigned(const char *text, size_t len)
{
	return memmem(text, len, BEGIN_SIGNED, sizeof(BEGIN_SIGNED) - 1) != NULL;
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
int fetch_gpgv_check_frame(const char *t, size_t len, const char *url)
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
void fetch_gpgv_strip(const char *t, size_t len, struct strbuf *out)
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
	bool good, valid, bad, nodata; /* valid: by a key of ours, with a strong digest */
	struct strvec nopubkey, expired, revoked, weak;
};

static void sigstate_release(struct sigstate *s)
{
	strvec_clear(&s->weak);
	strvec_clear(&s->nopubkey);
	strvec_clear(&s->expired);
	strvec_clear(&s->revoked);
}

static void add_key(struct strvec *sv, const char *id)
{
	if (id && !strvec_has(sv, id))
		strvec_push(sv, id);
}

/* The digest algorithms apt no longer accepts a signature made with
 * (RFC 4880 numbers, the VALIDSIG status's hash-algo field), or NULL. */
static const char *weak_digest(const char *algo)
{
	static const char *const names[] = { [1] = "MD5", [2] = "SHA1", [3] = "RIPEMD160" };
	char *end;
	long n = strtol(algo, &end, 10);
	return !*end && n > 0 && n < (long)ARRAY_SIZE(names) ? names[n] : NULL;
}

/* VALIDSIG FPR DATE TIMESTAMP EXPIRE VERSION RESERVED PUBKEY-ALGO HASH-ALGO ... */
static void add_valid(const struct strvec *w, struct sigstate *s)
{
	const char *weak = w->n > 9 ? weak_digest(w->v[9]) : NULL;
	if (w->n <= 9)
		return;
	if (weak)
		add_key(&s->weak, weak);
	else
		s->valid = true;
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
			add_valid(&w, s);
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

/* As apt does: trusted when at least one signature is good, by a valid
 * key from the keyrings and with a strong digest, and none is bad.  Other signatures by keys we do
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
	if (s->weak.n)
		what = "signed with a weak digest, which apt refuses", keys = &s->weak;
	else if (s->nopubkey.n)
		what = "signed by a key not in the keyring", keys = &s->nopubkey;
	else if (s->expired.n)
		what = "signed by an expired key", keys = &s->expired;
	else if (s->revoked.n)
		what = "signed by a revoked key", keys = &s->revoked;
	if (keys) {
		cleanup_free char *ids = strvec_join(keys, ", ");
		xb_error("verifying %s: %s (%s)", url, what, ids);
	} else if (s->nodata || code == 0) {
		xb_error("verifying %s: not signed", url);
	} else {
		xb_error("verifying %s: gpgv failed (exit %d)", url, code);
	}
	return -XB_EBADSIG;
}

/* Keyrings as gpgv takes them: armored ones converted to binary, and
 * names given a '/' (gpgv looks up bare names in its home directory). */
static int prepare_keyrings(const struct fetch_gpgv *g, const char *homedir, const char *url,
                            struct strvec *rings)
{
	const struct strvec *in = g->keyrings;
	if (!in || !in->n) {
		xb_error("verifying %s: no keyring to check it against", url);
		return -XB_EBADSIG;
	}
	if (mkdir(homedir, 0700) < 0 && errno != EEXIST) {
		int e = -errno;
		xb_error("creating %s: %s", homedir, strerror(-e));
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
			strvec_pushf(rings, "%s%s", strchr(k, '/') ? "" : "./", k);
			continue;
		}
		cleanup_free char *out = xasprintf("%skeyring%zu.gpg", g->stem, i);
		cleanup_strvec struct strvec argv = STRVEC_INIT;
		strvec_pushl(&argv, "gpg", "--homedir", homedir, "--batch", "--yes", "--quiet",
		             "--dearmor", "--output", out, k, NULL);
		struct spawn_opts so = SPAWN_OPTS_INIT;
		so.in_fd = -2;
		int code = 0;
		int r = xb_spawn(argv.v, &so, &code);
		if (r == -XB_ECHILD && code != 126 && code != 127) /* else xb_spawn said why */
			xb_error("converting keyring %s: gpg --dearmor failed (exit %d)", k, code);
		if (r < 0)
			return r;
		strvec_push(rings, out);
	}
	return 0;
}

/* Runs gpgv on sig (and data, for a detached signature); with output,
 * the signed text is written there. */
static int run_gpgv(const struct fetch_gpgv *g, const char *homedir, const char *url,
                    const char *output, const char *sig, const char *data)
{
	cleanup_strvec struct strvec argv = STRVEC_INIT, rings = STRVEC_INIT;
	cleanup_strbuf struct strbuf status = STRBUF_INIT;
	struct sigstate s = { 0 };
	cleanup_fd int devnull = -1;
	int code = 0;

	int rc = prepare_keyrings(g, homedir, url, &rings);
	if (rc < 0)
		return rc;
	strvec_pushl(&argv, "gpgv", "--homedir", homedir, "--status-fd", "1", NULL);
	for (size_t i = 0; i < rings.n; i++)
		strvec_pushl(&argv, "--keyring", rings.v[i], NULL);
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

int fetch_gpgv_verify(const struct fetch_gpgv *g, const char *url, const char *sig,
                      const char *data, const char *output)
{
	cleanup_free char *homedir = xasprintf("%sgnupg", g->stem);
	int rc = run_gpgv(g, homedir, url, output, sig, data);
	xb_rm_rf_at(AT_FDCWD, homedir);
	return rc;
}
