/* test-fetch: fetch/http and fetch/cache over file:// URLs only (hermetic):
 * good and bad downloads leave either a verified dest or nothing at all. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "../../core/base/hash.h"
#include "../../fetch/cache.h"
#include "../../fetch/http.h"
#include "tap.h"

static char *tmpdir;

static char *tpath(const char *name) { return xasprintf("%s/%s", tmpdir, name); }

static char *turl(const char *name) { return xasprintf("file://%s/%s", tmpdir, name); }

static bool exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

/* Counts names in dir containing ".part-": none may survive a fetch. */
static int count_parts(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".part-"))
			n++;
	closedir(d);
	return n;
}

/* Writes len bytes of a pattern seeded by seed; its sha256 into hex. */
static void make_file(const char *name, size_t len, unsigned seed, char *hex)
{
	cleanup_free char *p = tpath(name);
	cleanup_free char *buf = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)((i * 31 + seed) & 0xff);
	if (xb_write_file_at(AT_FDCWD, p, buf, len, 0644) < 0)
		abort();
	xb_hash_buf(XB_SHA256, buf, len, hex);
}

/* Expected failures: their messages go to a log checked here, not stderr. */
static char *logbuf;
static size_t loglen;
static FILE *logfp;
static int saved_stderr = -1;

static void quiet_begin(void)
{
	logfp = open_memstream(&logbuf, &loglen);
	xb_set_log(logfp);
	fflush(stderr);
	saved_stderr = dup(2);
	int null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	close(null);
}

/* Returns whether exactly one message containing want was logged (none if
 * want is NULL). */
static bool quiet_end(const char *want)
{
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	xb_set_log(NULL);
	fclose(logfp);
	size_t lines = 0;
	for (size_t i = 0; i < loglen; i++)
		lines += logbuf[i] == '\n';
	bool ok = want ? lines == 1 && strstr(logbuf, want) : lines == 0;
	if (!ok)
		printf("# log was: %s\n", logbuf);
	free(logbuf);
	logbuf = NULL;
	return ok;
}

static uint64_t last_done, last_total;
static int progress_calls;
static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	last_done = done;
	last_total = total;
	progress_calls++;
}

static void test_single(void)
{
	char hex[65], other[65];
	cleanup_free char *url = turl("src.bin"), *dest = tpath("out/dest.bin");
	cleanup_free char *outdir = tpath("out");
	struct fetch_http_opts o = FETCH_HTTP_OPTS_INIT;
	o.progress = on_progress;

	make_file("src.bin", 100000, 7, hex);
	xb_hash_buf(XB_SHA256, "x", 1, other);
	mkdir(outdir, 0755);

	int r = fetch_http_file(url, dest, 100000, hex, false, &o);
	CHECK(r == 0, "good download: %d", r);
	struct stat st;
	CHECK(stat(dest, &st) == 0 && st.st_size == 100000, "dest has the right size");
	CHECK(progress_calls > 0 && last_done == 100000 && last_total == 100000,
	      "progress ended at %llu/%llu", (unsigned long long)last_done,
	      (unsigned long long)last_total);
	unlink(dest);

	r = fetch_http_file(url, dest, 0, NULL, false, &o);
	CHECK(r == 0 && exists(dest), "unknown size, no hash: %d", r);
	unlink(dest);

	quiet_begin();
	r = fetch_http_file(url, dest, 100000, other, false, &o);
	CHECK(quiet_end("SHA256 mismatch"), "hash mismatch reported once");
	CHECK(r == -XB_EHASH, "wrong sha256: %d", r);
	CHECK(!exists(dest), "no dest after a hash mismatch");
	CHECK(count_parts(outdir) == 0, "no .part file after a hash mismatch");

	quiet_begin();
	r = fetch_http_file(url, dest, 5000, NULL, false, &o);
	CHECK(quiet_end("longer than the expected 5000 bytes"), "cut-off reported once");
	CHECK(r == -XB_ESIZE, "longer than expected: %d", r);
	CHECK(!exists(dest) && count_parts(outdir) == 0, "nothing left after cut-off");

	quiet_begin();
	r = fetch_http_file(url, dest, 200000, NULL, false, &o);
	CHECK(quiet_end("100000 bytes, expected 200000"), "short file reported once");
	CHECK(r == -XB_ESIZE, "shorter than expected: %d", r);
	CHECK(!exists(dest) && count_parts(outdir) == 0, "nothing left after short file");

	o.max_size = 1000;
	quiet_begin();
	r = fetch_http_file(url, dest, 0, NULL, false, &o);
	CHECK(quiet_end("limit of 1000 bytes"), "max_size reported once");
	CHECK(r == -XB_ESIZE, "over max_size: %d", r);
	CHECK(!exists(dest) && count_parts(outdir) == 0, "nothing left after max_size");
	o.max_size = 0;

	cleanup_free char *missing = turl("missing.bin");
	quiet_begin();
	r = fetch_http_file(missing, dest, 0, NULL, true, &o);
	CHECK(quiet_end(NULL), "quiet 404 reports nothing");
	CHECK(r == -XB_ENOTFOUND, "quiet missing file: %d", r);
	CHECK(!exists(dest) && count_parts(outdir) == 0, "nothing left after not found");
	quiet_begin();
	r = fetch_http_file(missing, dest, 0, NULL, false, &o);
	CHECK(quiet_end("no such file"), "loud 404 reported once");
	CHECK(r == -XB_ENOTFOUND && !exists(dest), "loud missing file: %d", r);

	xb_interrupted = 1;
	r = fetch_http_file(url, dest, 100000, hex, false, &o);
	xb_interrupted = 0;
	CHECK(r == -XB_EINTR && !exists(dest), "interrupted: %d", r);
}

#define NMANY 20

static void test_many(void)
{
	char hex[NMANY][65];
	char *urls[NMANY], *dests[NMANY];
	struct fetch_http_item items[NMANY];
	cleanup_free char *outdir = tpath("many");
	struct fetch_http_opts o = FETCH_HTTP_OPTS_INIT;
	o.jobs = 4;
	o.progress = on_progress;
	uint64_t total = 0;

	mkdir(outdir, 0755);
	for (int i = 0; i < NMANY; i++) {
		cleanup_free char *name = xasprintf("m%d.bin", i);
		size_t len = 1000 + (size_t)i * 3001;
		make_file(name, len, (unsigned)i, hex[i]);
		urls[i] = turl(name);
		dests[i] = xasprintf("%s/m%d.deb", outdir, i);
		items[i] = (struct fetch_http_item){ urls[i], dests[i], len, hex[i], 1 };
		total += len;
	}

	int r = fetch_http_many(items, NMANY, &o);
	CHECK(r == 0, "fetch_http_many all good: %d", r);
	int good = 0;
	for (int i = 0; i < NMANY; i++)
		good += items[i].result == 0 && exists(dests[i]);
	CHECK(good == NMANY, "%d of %d fetched", good, NMANY);
	CHECK(last_done == total && last_total == total, "many progress %llu/%llu",
	      (unsigned long long)last_done, (unsigned long long)last_total);
	for (int i = 0; i < NMANY; i++)
		unlink(dests[i]);

	/* One bad hash among them: the batch fails with its code, nothing of
	 * the bad item is left, and no temporary file anywhere. */
	items[7].sha256 = hex[8];
	quiet_begin();
	r = fetch_http_many(items, NMANY, &o);
	CHECK(quiet_end("m7.bin: SHA256 mismatch"), "batch failure reported once");
	CHECK(r == -XB_EHASH, "fetch_http_many with one bad: %d", r);
	CHECK(items[7].result == -XB_EHASH, "bad item result %d", items[7].result);
	CHECK(!exists(dests[7]), "bad item dest absent");
	int bad = 0;
	for (int i = 0; i < NMANY; i++) {
		if (items[i].result == 0 && !exists(dests[i]))
			bad++;
		if (items[i].result != 0 && exists(dests[i]))
			bad++;
		if (items[i].result > 0)
			bad++;
	}
	CHECK(bad == 0, "results agree with files (%d wrong)", bad);
	CHECK(count_parts(outdir) == 0, "no .part file after fetch_http_many failure");

	CHECK(fetch_http_many(items, 0, &o) == 0, "empty batch");

	for (int i = 0; i < NMANY; i++) {
		unlink(dests[i]);
		free(urls[i]);
		free(dests[i]);
	}
}

static void test_cache(void)
{
	struct fetch_cache c;
	char hex[65];
	cleanup_free char *dir = tpath("cache/nested");

	CHECK(fetch_cache_open(&c, dir) == 0, "fetch_cache_open");
	cleanup_free char *sub = tpath("cache/nested/sha256");
	cleanup_free char *lock = tpath("cache/nested/.lock");
	CHECK(exists(sub) && exists(lock), "cache dirs and lock made");

	make_file("c.bin", 4242, 3, hex);
	cleanup_free char *p = fetch_cache_path(&c, hex);
	cleanup_free char *want = xasprintf("%s/sha256/%s.deb", dir, hex);
	CHECK(p && !strcmp(p, want), "fetch_cache_path %s", p ? p : "(null)");
	CHECK(!fetch_cache_has(&c, hex, 4242), "absent before the download");

	cleanup_free char *url = turl("c.bin");
	CHECK(fetch_http_file(url, p, 4242, hex, false, NULL) == 0, "fetch into cache");
	CHECK(fetch_cache_has(&c, hex, 4242), "present after the download");
	CHECK(!fetch_cache_has(&c, hex, 4241), "wrong size is not present");
	/* Eight bytes changed in place: same name and size, other content. */
	int fd = open(p, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "tampered", 8, 100) == 8, "tamper with the cached file");
	close(fd);
	CHECK(!fetch_cache_has(&c, hex, 4242), "a tampered file is not present");
	CHECK(!exists(p), "... and is removed");
	/* Cut short: another size than asked, and not its name's content. */
	CHECK(fetch_http_file(url, p, 4242, hex, false, NULL) == 0, "fetch into cache again");
	CHECK(truncate(p, 4000) == 0, "cut the cached file short");
	CHECK(!fetch_cache_has(&c, hex, 4242), "a file cut short is not present");
	CHECK(!exists(p), "... and is removed, so that a link can take its name");

	char *bad = fetch_cache_path(&c, "../../etc/passwd");
	CHECK(bad == NULL, "fetch_cache_path refuses a non-hash");
	CHECK(!fetch_cache_has(&c, "../x", 0), "fetch_cache_has refuses a non-hash");
	fetch_cache_close(&c);
	CHECK(c.dir == NULL && c.lock_fd == -1, "fetch_cache_close resets");

	char *d = fetch_cache_default_dir();
	CHECK(d && (geteuid() != 0 || !strcmp(d, "/var/cache/xboot")), "default dir %s", d);
	free(d);
}

int main(void)
{
	char tmpl[] = "/tmp/xb-test-fetch.XXXXXX";
	tmpdir = mkdtemp(tmpl);
	if (!tmpdir || fetch_http_init() < 0)
		return 1;
	test_single();
	test_many();
	test_cache();
	fetch_http_cleanup();
	xb_rm_rf_at(AT_FDCWD, tmpdir);
	return tap_done();
}
