/* test-release: fetch/release and fetch/indices against a throwaway
 * repository over file:// URLs, signed with a throwaway key (hermetic):
 * good, foreign-key, tampered, framed, expired, unsigned and missing
 * Release files, and Packages indices good, by hash and corrupted. */
#include <fcntl.h>
#include <sys/stat.h>

#include "../../core/base/hash.h"
#include "../../core/base/spawn.h"
#include "../../fetch/http.h"
#include "../../fetch/indices.h"
#include "../../fetch/release.h"
#include "tap.h"

static char *tmpdir, *home, *mirror, *work;
static struct strbuf packages = STRBUF_INIT, packages_xz = STRBUF_INIT;
static char packages_sha[65], packages_xz_sha[65];

static const char PACKAGES[] = "Package: hello\nVersion: 1.0\nArchitecture: armhf\n"
                               "Filename: pool/main/h/hello/hello_1.0_armhf.deb\n"
                               "Size: 3\nSHA256: 00\n\n"
                               "Package: base-files\nVersion: 13\nArchitecture: armhf\n";

static char *tpath(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *tpath(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	strbuf_addf(&sb, "%s/", tmpdir);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return strbuf_detach(&sb);
}

/* Runs argv quietly (stderr to /dev/null unless -v); returns its status. */
static int run(struct strvec *argv)
{
	struct spawn_opts so = SPAWN_OPTS_INIT;
	int code = 0, devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	so.in_fd = -2;
	so.err_fd = getenv("XB_TEST_VERBOSE") ? -1 : devnull;
	xb_spawn(argv->v, &so, &code);
	close(devnull);
	strvec_clear(argv);
	return code;
}

/* gpg in the test's own home, non-interactive; arguments NULL-terminated. */
static int gpg(const char *arg, ...)
{
	struct strvec argv = STRVEC_INIT;
	va_list ap;
	strvec_pushl(&argv, "gpg", "--homedir", home, "--batch", "--quiet", "--yes",
	             "--pinentry-mode", "loopback", "--passphrase", "", NULL);
	va_start(ap, arg);
	for (const char *a = arg; a; a = va_arg(ap, const char *))
		strvec_push(&argv, a);
	va_end(ap);
	return run(&argv);
}

static void put(const char *path, const void *data, size_t len)
{
	cleanup_free char *dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	if (xb_mkdir_p_at(AT_FDCWD, dir, 0755) < 0 ||
	    xb_write_file_at(AT_FDCWD, path, data, len, 0644) < 0)
		abort();
}

static char *get(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	if (xb_read_file(path, &sb) < 0)
		return NULL;
	return strbuf_detach(&sb);
}

static void fmt_date(time_t t, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%a, %d %b %Y %H:%M:%S UTC", &tm);
}

struct spec {
	const char *name;
	const char *signer;   /* uid; NULL: not signed */
	bool detached;        /* Release + Release.gpg instead of InRelease */
	long date, valid;     /* seconds from now; valid 0: no Valid-Until */
	bool no_sha, by_hash, plain_only, hash_only, corrupt_xz;
	const char *digest;   /* gpg --digest-algo; NULL: gpg's default */
};

static char *release_text(const struct spec *s)
{
	struct strbuf sb = STRBUF_INIT;
	char d[64];
	time_t now = time(NULL);
	fmt_date(now + s->date, d, sizeof(d));
	strbuf_addf(&sb, "Origin: xboot\nSuite: stable\nCodename: %s\nDate: %s\n", s->name, d);
	if (s->valid) {
		fmt_date(now + s->valid, d, sizeof(d));
		strbuf_addf(&sb, "Valid-Until: %s\n", d);
	}
	strbuf_addf(&sb, "Acquire-By-Hash: %s\n", s->by_hash ? "yes" : "no");
	strbuf_addstr(&sb, "Architectures: armhf amd64\nComponents: main\nDescription: test\n");
	if (s->no_sha)
		return strbuf_detach(&sb);
	strbuf_addstr(&sb, "SHA256:\n");
	if (!s->plain_only)
		strbuf_addf(&sb, " %s %zu main/binary-armhf/Packages.xz\n", packages_xz_sha,
		            packages_xz.len);
	strbuf_addf(&sb, " %s %zu main/binary-armhf/Packages\n", packages_sha, packages.len);
	return strbuf_detach(&sb);
}

/* Builds mirror/dists/NAME as s says. */
static void make_suite(const struct spec *s)
{
	cleanup_free char *dir = tpath("mirror/dists/%s", s->name);
	cleanup_free char *rel = xasprintf("%s/Release", dir);
	cleanup_free char *text = release_text(s);
	cleanup_free char *idx = xasprintf("%s/main/binary-armhf", dir);
	cleanup_free char *p = xasprintf("%s/Packages", idx);
	cleanup_free char *pxz = s->hash_only
	        ? xasprintf("%s/by-hash/SHA256/%s", idx, packages_xz_sha)
	        : xasprintf("%s/Packages.xz", idx);
	cleanup_free char *xz = xmalloc(packages_xz.len);

	memcpy(xz, packages_xz.buf, packages_xz.len);
	if (s->corrupt_xz)
		xz[packages_xz.len / 2] ^= 0x55;
	put(p, packages.buf, packages.len);
	put(pxz, xz, packages_xz.len);
	put(rel, text, strlen(text));
	if (!s->signer || !s->detached) {
		cleanup_free char *in = xasprintf("%s/InRelease", dir);
		if (!s->signer)
			put(in, text, strlen(text));
		else if (!s->detached && gpg("--local-user", s->signer, "--digest-algo",
		                             s->digest ? s->digest : "SHA256", "--clearsign",
		                             "--output", in, rel, NULL) != 0)
			abort();
		if (!s->detached)
			unlink(rel);
	} else {
		cleanup_free char *sig = xasprintf("%s/Release.gpg", dir);
		if (gpg("--local-user", s->signer, "--armor", "--detach-sign", "--output", sig, rel,
		        NULL) != 0)
			abort();
	}
}

static struct strvec keyrings = STRVEC_INIT;
static const struct fetch_http_opts http = FETCH_HTTP_OPTS_INIT;
static bool allow_suite_change;

static int fetch(const char *suite, bool ignore_valid, bool no_sig, struct fetch_release *r)
{
	struct fetch_release_opts o = { .keyrings = &keyrings, .ignore_valid_until = ignore_valid,
		                        .no_check_sig = no_sig, .allow_suite_change = allow_suite_change,
		                        .workdir = work, .http = &http };
	return fetch_release_get(mirror, suite, &o, r);
}

static struct strvec sums = STRVEC_INIT; /* the last get_indices()' */

static int get_indices(const char *suite, const struct fetch_release *r,
                       const struct strvec *comps, const char *arch, int index,
                       struct strvec *paths)
{
	struct fetch_indices_req q = { mirror, suite, r, comps, arch, work, index, &http, NULL, &sums };
	strvec_clear(&sums);
	return fetch_indices_get(&q, paths);
}

static void setup(void)
{
	home = tpath("%s", "gnupg");
	work = tpath("%s", "work");
	mirror = xasprintf("file://%s/mirror", tmpdir);
	if (mkdir(home, 0700) < 0 || mkdir(work, 0755) < 0)
		abort();
	if (gpg("--quick-gen-key", "xboot good <good@xboot.invalid>", "ed25519", "sign", "never",
	        NULL) ||
	    gpg("--quick-gen-key", "xboot other <other@xboot.invalid>", "ed25519", "sign", "never",
	        NULL))
		abort();
	cleanup_free char *ring = tpath("%s", "good.gpg"), *asc = tpath("%s", "good.asc");
	if (gpg("--output", ring, "--export", "good@xboot.invalid", NULL) ||
	    gpg("--armor", "--output", asc, "--export", "good@xboot.invalid", NULL))
		abort();
	strvec_push(&keyrings, ring);

	cleanup_free char *p = tpath("%s", "Packages"), *pxz = tpath("%s", "Packages.xz");
	strbuf_addstr(&packages, PACKAGES);
	put(p, packages.buf, packages.len);
	struct strvec xz = STRVEC_INIT;
	strvec_pushl(&xz, "xz", "-k", "-f", p, NULL);
	if (run(&xz) || xb_read_file(pxz, &packages_xz) < 0)
		abort();
	xb_hash_buf(XB_SHA256, packages.buf, packages.len, packages_sha);
	xb_hash_buf(XB_SHA256, packages_xz.buf, packages_xz.len, packages_xz_sha);
}

static void test_dates(void)
{
	time_t t = 0;
	CHECK(fetch_release_parse_date("Sat, 10 Aug 2024 09:13:42 UTC", &t) == 0 && t == 1723281222,
	      "rfc2822 UTC: %lld", (long long)t);
	CHECK(fetch_release_parse_date("10 Aug 2024 11:13:42 +0200", &t) == 0 && t == 1723281222,
	      "numeric zone: %lld", (long long)t);
	CHECK(fetch_release_parse_date("Sat,  10 aug 2024 09:13:42", &t) == 0 && t == 1723281222,
	      "no zone");
	CHECK(fetch_release_parse_date("Sat, 10 Aug 2024 09:13 GMT", &t) == 0 && t == 1723281180,
	      "no seconds");
	CHECK(fetch_release_parse_date("Sat, 10 Foo 2024 09:13:42 UTC", &t) < 0, "bad month");
	CHECK(fetch_release_parse_date("yesterday", &t) < 0, "garbage");
	CHECK(fetch_release_parse_date("Sat, 10 Aug 2024 09:13:42 UTC junk", &t) < 0, "trailing junk");
}

static void test_good(void)
{
	struct fetch_release r;
	int rc = fetch("good", false, false, &r);
	CHECK(rc == 0, "good InRelease: %d", rc);
	if (rc)
		return;
	CHECK(r.suite && !strcmp(r.suite, "stable"), "Suite");
	CHECK(r.codename && !strcmp(r.codename, "good"), "Codename");
	CHECK(r.date > 0 && r.valid_until > r.date, "Date, Valid-Until");
	CHECK(!r.by_hash, "Acquire-By-Hash");
	CHECK(r.n_files == 2, "files: %zu", r.n_files);
	CHECK(strvec_has(&r.components, "main") && strvec_has(&r.architectures, "amd64"),
	      "Components, Architectures");
	const struct fetch_release_file *f = fetch_release_find(&r, "main/binary-armhf/Packages.xz");
	CHECK(f && f->size == packages_xz.len && !strcmp(f->sha256, packages_xz_sha), "file entry");
	CHECK(!fetch_release_find(&r, "main/binary-armhf/Release"), "unlisted file");

	struct strvec comps = STRVEC_INIT, paths = STRVEC_INIT;
	strvec_push(&comps, "main");
	rc = get_indices("good", &r, &comps, "armhf", 3, &paths);
	CHECK(rc == 0 && paths.n == 1, "fetch_indices_get: %d", rc);
	if (rc == 0) {
		cleanup_free char *want = xasprintf("%s/3_main_armhf_Packages", work);
		cleanup_free char *got = get(paths.v[0]);
		CHECK(!strcmp(paths.v[0], want), "index path %s", paths.v[0]);
		CHECK(got && !strcmp(got, PACKAGES), "decompressed index");
		char hex[65];
		xb_hash_buf(XB_SHA256, PACKAGES, strlen(PACKAGES), hex);
		CHECK(sums.n == 1 && !strcmp(sums.v[0], hex), "the index's SHA256 given with it");
	}
	strvec_clear(&paths);
	rc = get_indices("good", &r, &comps, "arm64", 0, &paths);
	CHECK(rc == -XB_ENOTFOUND && paths.n == 0, "unknown architecture: %d", rc);
	strvec_clear(&comps);
	strvec_push(&comps, "contrib");
	rc = get_indices("good", &r, &comps, "armhf", 0, &paths);
	CHECK(rc == -XB_ENOTFOUND, "unknown component: %d", rc);
	strvec_clear(&comps);
	strvec_push(&comps, "main");
	rc = get_indices("good", &r, &comps, "amd64", 0, &paths);
	CHECK(rc == -XB_ENOTFOUND, "architecture without an index: %d", rc);
	/* debian-security's Release says "updates/main" for main/. */
	strvec_clear(&r.components);
	strvec_push(&r.components, "updates/main");
	rc = get_indices("good", &r, &comps, "armhf", 0, &paths);
	CHECK(rc == 0 && paths.n == 1, "component listed as updates/main: %d", rc);
	strvec_clear(&paths);
	strvec_clear(&comps);
	fetch_release_free(&r);

	/* The same with the key armored. */
	cleanup_free char *asc = tpath("%s", "good.asc");
	struct strvec saved = keyrings;
	keyrings = (struct strvec)STRVEC_INIT;
	strvec_push(&keyrings, asc);
	rc = fetch("good", false, false, &r);
	CHECK(rc == 0, "armored keyring: %d", rc);
	fetch_release_free(&r);
	strvec_clear(&keyrings);
	keyrings = saved;
}

/* Indices: fetched as s says, compared with PACKAGES; returns the code. */
static int index_case(const char *suite)
{
	struct fetch_release r;
	struct strvec comps = STRVEC_INIT, paths = STRVEC_INIT;
	int rc = fetch(suite, false, false, &r);
	if (rc)
		return 1000 + rc;
	strvec_push(&comps, "main");
	rc = get_indices(suite, &r, &comps, "armhf", 1, &paths);
	if (rc == 0) {
		cleanup_free char *got = get(paths.v[0]);
		if (!got || strcmp(got, PACKAGES))
			rc = 2000;
	}
	strvec_clear(&comps);
	strvec_clear(&paths);
	fetch_release_free(&r);
	return rc;
}

/* A copy of good's InRelease with text added before or after. */
static void reframe(const char *name, const char *before, const char *after)
{
	cleanup_free char *src = tpath("mirror/dists/%s/InRelease", "good");
	cleanup_free char *dst = tpath("mirror/dists/%s/InRelease", name);
	cleanup_free char *text = get(src);
	cleanup_free char *out = xasprintf("%s%s%s", before, text, after);
	put(dst, out, strlen(out));
}

/* good's InRelease under another suite's name, its text changed (the
 * signature no longer matches) or not (a validly signed other suite). */
static void tamper(const char *name, bool change)
{
	cleanup_free char *src = tpath("mirror/dists/%s/InRelease", "good");
	cleanup_free char *dst = tpath("mirror/dists/%s/InRelease", name);
	cleanup_free char *text = get(src);
	struct strbuf out = STRBUF_INIT;
	char *p = strstr(text, "armhf amd64"), *cn = strstr(text, "Codename: good\n");
	if (change) {
		memcpy(p, "armhf arm64", 11);
		*cn = '\0';
		strbuf_addf(&out, "%sCodename: %s\n%s", text, name, cn + strlen("Codename: good\n"));
	} else {
		strbuf_addstr(&out, text);
	}
	put(dst, out.buf, out.len);
	strbuf_release(&out);
}

static int code_of(const char *suite, bool ignore_valid, bool no_sig)
{
	struct fetch_release r;
	int rc = fetch(suite, ignore_valid, no_sig, &r);
	fetch_release_free(&r);
	return rc;
}

static void test_errors(void)
{
	int rc;
	CHECK((rc = code_of("det", false, false)) == 0, "Release + Release.gpg: %d", rc);
	CHECK((rc = code_of("detnosig", false, false)) == -XB_EBADSIG, "no Release.gpg: %d", rc);
	CHECK((rc = code_of("other", false, false)) == -XB_EBADSIG, "foreign key: %d", rc);
	CHECK((rc = code_of("unsigned", false, false)) == -XB_EBADSIG, "unsigned: %d", rc);
	CHECK((rc = code_of("appended", false, false)) == -XB_EBADSIG, "appended text: %d", rc);
	CHECK((rc = code_of("prepended", false, false)) == -XB_EBADSIG, "prepended text: %d", rc);
	CHECK((rc = code_of("appended", false, true)) == -XB_EBADSIG, "appended, no check: %d", rc);
	CHECK((rc = code_of("tampered", false, false)) == -XB_EBADSIG, "tampered: %d", rc);
	CHECK((rc = code_of("expired", false, false)) == -XB_EEXPIRED, "expired: %d", rc);
	CHECK((rc = code_of("expired", true, false)) == 0, "expired, ignored: %d", rc);
	CHECK((rc = code_of("future", false, false)) == -XB_EEXPIRED, "future Date: %d", rc);
	CHECK((rc = code_of("nosuch", false, false)) == -XB_ENOTFOUND, "missing suite: %d", rc);
	CHECK((rc = code_of("nosha", false, false)) == -XB_EPARSE, "no SHA256: %d", rc);
	CHECK((rc = code_of("weak", false, false)) == -XB_EBADSIG, "a SHA-1 signature: %d", rc);
	CHECK((rc = code_of("substituted", false, false)) == -XB_EBADSIG,
	      "a validly signed Release of another suite: %d", rc);
	allow_suite_change = true;
	CHECK((rc = code_of("substituted", false, false)) == 0, "... with --allow-suite-change: %d",
	      rc);
	allow_suite_change = false;

	struct fetch_release r;
	rc = fetch("other", false, true, &r);
	CHECK(rc == 0 && r.codename && !strcmp(r.codename, "other") && r.n_files == 2,
	      "foreign key with --no-check-sig: %d", rc);
	fetch_release_free(&r);
	rc = fetch("detnosig", false, true, &r);
	CHECK(rc == 0 && r.n_files == 2, "detached with --no-check-sig: %d", rc);
	fetch_release_free(&r);
	rc = fetch("unsigned", false, true, &r);
	CHECK(rc == 0 && r.n_files == 2, "plain InRelease with --no-check-sig: %d", rc);
	fetch_release_free(&r);
	rc = fetch("tampered", false, true, &r);
	CHECK(rc == 0 && strvec_has(&r.architectures, "arm64") && r.n_files == 2,
	      "clearsigned text with --no-check-sig: %d", rc);
	fetch_release_free(&r);

	struct strvec none = keyrings;
	keyrings = (struct strvec)STRVEC_INIT;
	CHECK((rc = code_of("good", false, false)) == -XB_EBADSIG, "no keyring: %d", rc);
	keyrings = none;
}

static void test_indices(void)
{
	int rc;
	CHECK((rc = index_case("byhash")) == 0, "by-hash only: %d", rc);
	CHECK((rc = index_case("byhashfallback")) == 0, "by-hash falling back: %d", rc);
	CHECK((rc = index_case("plain")) == 0, "uncompressed index: %d", rc);
	CHECK((rc = index_case("badidx")) == -XB_EHASH, "corrupted Packages.xz: %d", rc);
	cleanup_free char *left = xasprintf("%s/1_main_Packages.xz", work);
	CHECK(access(left, F_OK) < 0, "nothing left of a bad download");
}

int main(void)
{
	char tmpl[] = "/tmp/xb-test-release-XXXXXX";
	if (!(tmpdir = mkdtemp(tmpl)) || fetch_http_init() < 0)
		return 1;
	setup();
	static const struct spec specs[] = {
		{ .name = "good", .signer = "good@xboot.invalid", .valid = 86400 },
		{ .name = "det", .signer = "good@xboot.invalid", .detached = true },
		{ .name = "detnosig", .signer = NULL, .detached = true },
		{ .name = "other", .signer = "other@xboot.invalid", .valid = 86400 },
		{ .name = "unsigned", .signer = NULL },
		{ .name = "expired", .signer = "good@xboot.invalid", .date = -7200, .valid = -3600 },
		{ .name = "future", .signer = "good@xboot.invalid", .date = 86400 },
		{ .name = "nosha", .signer = "good@xboot.invalid", .no_sha = true },
		{ .name = "byhash", .signer = "good@xboot.invalid", .by_hash = true, .hash_only = true },
		{ .name = "byhashfallback", .signer = "good@xboot.invalid", .by_hash = true },
		{ .name = "plain", .signer = "good@xboot.invalid", .plain_only = true },
		{ .name = "badidx", .signer = "good@xboot.invalid", .corrupt_xz = true },
		{ .name = "weak", .signer = "good@xboot.invalid", .digest = "SHA1" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(specs); i++)
		make_suite(&specs[i]);
	/* detnosig: a Release with neither InRelease nor Release.gpg. */
	cleanup_free char *nosig_in = tpath("mirror/dists/%s/InRelease", "detnosig");
	unlink(nosig_in);
	reframe("appended", "", "Suite: evil\n");
	reframe("prepended", "Suite: evil\n\n", "");
	tamper("tampered", true);
	tamper("substituted", false);

	test_dates();
	test_good();
	test_errors();
	test_indices();

	struct strvec kill = STRVEC_INIT;
	strvec_pushl(&kill, "gpgconf", "--homedir", home, "--kill", "all", NULL);
	run(&kill);
	xb_rm_rf_at(AT_FDCWD, tmpdir);
	strvec_clear(&keyrings);
	strbuf_release(&packages);
	strbuf_release(&packages_xz);
	free(home);
	free(work);
	free(mirror);
	fetch_http_cleanup();
	strvec_clear(&sums);
	return tap_done();
}
