/* http: downloads with libcurl.  Each transfer streams into an unnamed
 * file (O_TMPFILE) in its destination's directory while a SHA256 is
 * updated and the byte count checked; only a transfer whose size and hash
 * are right gets a name (core/base/outfile: at once renamed to dest), so
 * dest is either absent or verified, and nothing is left behind even when
 * xboot is killed.  Where O_TMPFILE is not supported, the named temporary
 * file is created up front and unlinked on every other outcome. */
#include "http.h"

#include "../core/base/outfile.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <strings.h>
#include <time.h>

#include "../core/base/hash.h"

#define FETCH_USER_AGENT "xboot/" XB_VERSION
#define FETCH_MAX_REDIRS 5L
#define FETCH_DEFAULT_JOBS 8
#define FETCH_DEFAULT_TIMEOUT 30L /* seconds, to connect and of silence */
#define FETCH_PROGRESS_NS 100000000LL /* at most ~10 progress calls a second */

/* What all transfers of one call share: options and the progress sum. */
struct fetcher {
	const struct fetch_http_opts *o;
	long connect_timeout, stall_timeout;
	uint64_t max_size;
	uint64_t done, total;
	int64_t last_progress_ns;
};

/* One transfer in flight; owns its easy handle, temp file and hash. */
struct xfer {
	struct fetcher *f;
	const char *url, *dest, *sha256; /* not owned */
	uint64_t size;                   /* expected, 0 = unknown */
	bool quiet_404;
	CURL *easy;
	struct outfile out; /* the temporary file, renamed to dest once verified */
	struct xb_hash *hash;
	uint64_t got;
	bool too_long;
	int write_err; /* -errno from writing the temp file */
	bool stalled;  /* on_xferinfo stopped it: no data for stall_timeout */
	curl_off_t seen;      /* bytes when on_xferinfo last looked */
	int64_t quiet_since;  /* since when no byte came; 0: not started */
	int tries;     /* made before this one */
	int64_t due_ns; /* when to try again */
	char errbuf[CURL_ERROR_SIZE];
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void progress_tick(struct fetcher *f, bool force)
{
	if (!f->o || !f->o->progress)
		return;
	int64_t now = now_ns();
	if (!force && now - f->last_progress_ns < FETCH_PROGRESS_NS)
		return;
	f->last_progress_ns = now;
	f->o->progress(f->o->progress_ctx, f->done, f->total);
}

/* Whether the run stops: Ctrl-C, or the caller's cancel. */
static bool stopping(const struct fetcher *f)
{
	return xb_interrupted || (f->o && f->o->cancel && __atomic_load_n(f->o->cancel, __ATOMIC_RELAXED));
}

static void fetcher_init(struct fetcher *f, const struct fetch_http_opts *o)
{
	memset(f, 0, sizeof(*f));
	f->o = o;
	f->connect_timeout = o && o->connect_timeout_s > 0 ? o->connect_timeout_s : FETCH_DEFAULT_TIMEOUT;
	f->stall_timeout = o && o->stall_timeout_s > 0 ? o->stall_timeout_s : FETCH_DEFAULT_TIMEOUT;
	f->max_size = o && o->max_size ? o->max_size : (uint64_t)1 << 30;
}

static size_t on_data(char *data, size_t sz, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;
	size_t n = sz * nmemb;
	uint64_t limit = x->size ? x->size : x->f->max_size;

	if (x->got + n > limit) {
		/* Stop at once rather than store what cannot be right. */
		x->too_long = true;
		return 0;
	}
	int r = xb_write_all(x->out.fd, data, n);
	if (r < 0) {
		x->write_err = r;
		return 0;
	}
	xb_hash_update(x->hash, data, n);
	x->got += n;
	x->f->done += n;
	progress_tick(x->f, false);
	return n;
}

/* libcurl's low-speed check averages over its last seconds: a stall after
 * a few bytes was seen only some seconds late.  Here the clock of silence
 * starts at the last byte (or once the request is out), so "no data for
 * N s" is what happened. */
static int on_xferinfo(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct xfer *x = ctx;
	(void)dltotal, (void)ultotal, (void)ulnow;
	if (stopping(x->f))
		return 1;
	int64_t now = now_ns();
	curl_off_t sent = 0;
	if (dlnow != x->seen || !x->quiet_since ||
	    (curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &sent) == CURLE_OK && !sent)) {
		x->seen = dlnow;
		x->quiet_since = now; /* connecting is CURLOPT_CONNECTTIMEOUT's */
		return 0;
	}
	x->stalled = now - x->quiet_since >= x->f->stall_timeout * 1000000000LL;
	return x->stalled;
}

/* Drops the temp file and everything else the transfer holds. */
static void xfer_release(struct xfer *x)
{
	if (x->easy)
		curl_easy_cleanup(x->easy);
	x->easy = NULL;
	outfile_release(&x->out);
	if (x->hash)
		xb_hash_free(x->hash);
	x->hash = NULL;
}

/* Prepares x (its url/dest/size/sha256/f already set): temp file, hash and
 * a configured easy handle.  Reports errors; on failure x holds nothing. */
static int xfer_start(struct xfer *x)
{
	x->out = (struct outfile)OUTFILE_INIT;
	x->got = 0;
	x->too_long = false;
	x->write_err = 0;
	x->stalled = false;
	x->seen = 0;
	x->quiet_since = 0;
	x->errbuf[0] = '\0';
	int r = outfile_open(&x->out, x->dest, true);
	if (r < 0)
		return r;
	x->hash = xb_hash_new(XB_SHA256);
	x->easy = curl_easy_init();
	if (!x->easy) {
		xb_error("downloading %s: cannot create a libcurl handle", x->url);
		xfer_release(x);
		return -ENOMEM;
	}
	CURL *e = x->easy;
	CURLcode c = CURLE_OK;
	/* Each setting below is known to this libcurl; collect the first failure. */
#define SET(opt, val) do { if (c == CURLE_OK) c = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_URL, x->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https,file");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, FETCH_MAX_REDIRS);
	SET(CURLOPT_USERAGENT, FETCH_USER_AGENT);
	SET(CURLOPT_FAILONERROR, 1L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, x->f->connect_timeout);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, on_xferinfo);
	SET(CURLOPT_XFERINFODATA, x);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_PRIVATE, x);
	if (x->f->o && x->f->o->proxy && str_starts_with(x->url, "http://"))
		SET(CURLOPT_PROXY, strcmp(x->f->o->proxy, "DIRECT") ? x->f->o->proxy : "");
#undef SET
	if (c != CURLE_OK) {
		xb_error("downloading %s: setting up libcurl: %s", x->url, curl_easy_strerror(c));
		xfer_release(x);
		return -EINVAL;
	}
	return 0;
}

/* A failed try: its code, what to say (empty: nothing, as for a quiet 404
 * or an interruption), and whether another try may fare better. */
struct failure {
	int code;
	bool transient;
	struct strbuf why;
};

static int fail(struct failure *f, int code, bool transient, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct failure *f, int code, bool transient, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&f->why, fmt, ap);
	va_end(ap);
	f->transient = transient;
	return f->code = code;
}

/* What a failed transfer's curl code means. */
static int xfer_curl_error(struct xfer *x, CURLcode c, struct failure *f)
{
	long status = 0;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);

	if (c == CURLE_ABORTED_BY_CALLBACK && x->stalled)
		return fail(f, -XB_ENET, true, "timed out (no data for %ld s)", x->f->stall_timeout);
	if (c == CURLE_ABORTED_BY_CALLBACK)
		return f->code = -XB_EINTR;
	if (c == CURLE_WRITE_ERROR && x->too_long) {
		if (x->size)
			return fail(f, -XB_ESIZE, false, "longer than the expected %" PRIu64 " bytes",
			            x->size);
		return fail(f, -XB_ESIZE, false, "larger than the limit of %" PRIu64 " bytes",
		            x->f->max_size);
	}
	if (c == CURLE_WRITE_ERROR && x->write_err)
		return fail(f, x->write_err, false, "writing %s: %s", x->dest,
		            strerror(-x->write_err));
	if (c == CURLE_HTTP_RETURNED_ERROR || c == CURLE_FILE_COULDNT_READ_FILE ||
	    c == CURLE_REMOTE_FILE_NOT_FOUND) {
		bool not_found = status == 404 || status == 410 || c != CURLE_HTTP_RETURNED_ERROR;
		if (not_found && x->quiet_404)
			return f->code = -XB_ENOTFOUND;
		if (c != CURLE_HTTP_RETURNED_ERROR)
			return fail(f, -XB_ENOTFOUND, false, "no such file");
		return fail(f, not_found ? -XB_ENOTFOUND : -XB_EHTTP,
		            status == 408 || status == 429 || status >= 500,
		            "server answered HTTP %ld", status);
	}
	if (c == CURLE_OPERATION_TIMEDOUT) {
		/* A connection reused from the pool has no connect time, but it
		 * has a time when the request went out. */
		curl_off_t sent = 0;
		curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &sent);
		if (!sent && !status && !x->got && !str_starts_with(x->url, "file:"))
			return fail(f, -XB_ENET, true, "could not connect within %ld s",
			            x->f->connect_timeout);
		return fail(f, -XB_ENET, true, "timed out (no data for %ld s)", x->f->stall_timeout);
	}
	/* libcurl's messages start with a capital; ours are lower case. */
	cleanup_free char *why = xstrdup(x->errbuf[0] ? x->errbuf : curl_easy_strerror(c));
	size_t caps = 0;
	for (size_t i = 0; why[i] && why[i] != ' '; i++)
		caps += isupper((unsigned char)why[i]) != 0;
	if (caps == 1 && isupper((unsigned char)why[0])) /* a word, not "OpenSSL" */
		why[0] = (char)tolower((unsigned char)why[0]);
	return fail(f, -XB_ENET, true, "%s", why);
}

/* Checks a transfer that curl reported done with code c and renames it
 * into place, or says in f why not. */
static int xfer_check(struct xfer *x, CURLcode c, struct failure *f)
{
	char hex[65];

	if (c != CURLE_OK)
		return xfer_curl_error(x, c, f);
	if (stopping(x->f))
		return f->code = -XB_EINTR;
	if (x->size && x->got != x->size)
		return fail(f, -XB_ESIZE, x->got < x->size,
		            "%" PRIu64 " bytes, expected %" PRIu64, x->got, x->size);
	xb_hash_final_hex(x->hash, hex);
	x->hash = NULL;
	if (x->sha256 && strcasecmp(hex, x->sha256) != 0)
		return fail(f, -XB_EHASH, false, "SHA256 mismatch (expected %s, got %s)",
		            x->sha256, hex);
	return f->code = outfile_commit(&x->out);
}

/* The wait before try number tries + 2: 1 s, doubling, at most the cap. */
static long retry_delay(const struct fetch_http_opts *o, int tries)
{
	long cap = o->retry_delay_max_s, d = 1L << (tries < 20 ? tries : 20);
	return d < cap ? d : cap;
}

/* Ends a transfer that curl reported done with code c: it is in place, or
 * its failure is reported, once, as an error, or as a warning when it is
 * to be tried again (then x->due_ns says when, and 1 is returned).
 * Always releases x. */
static int xfer_finish(struct xfer *x, CURLcode c)
{
	struct failure f = { .why = STRBUF_INIT };
	const struct fetch_http_opts *o = x->f->o;
	int r = xfer_check(x, c, &f);

	if (r < 0 && f.transient && o && x->tries < o->retries && !stopping(x->f) &&
	    !str_starts_with(x->url, "file:")) {
		long delay = retry_delay(o, x->tries++);
		xb_warn("downloading %s: %s; trying again in %ld s (%d of %d)", x->url, f.why.buf,
		        delay, x->tries, o->retries);
		x->due_ns = now_ns() + delay * 1000000000LL;
		x->f->done -= x->got;
		r = 1;
	} else if (r < 0 && f.why.len && x->tries) {
		xb_error("downloading %s: %s; tried %d times", x->url, f.why.buf, x->tries + 1);
	} else if (r < 0 && f.why.len) {
		xb_error("downloading %s: %s", x->url, f.why.buf);
	}
	strbuf_release(&f.why);
	xfer_release(x);
	return r;
}

char *fetch_http_url(const char *base, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/", base);
	for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
		if (*c <= 0x20 || *c >= 0x7f || strchr("%#?\"<>\\^`{|}", *c))
			strbuf_addf(&sb, "%%%02X", *c);
		else
			strbuf_addch(&sb, (char)*c);
	}
	return strbuf_detach(&sb);
}

int fetch_http_init(void)
{
	CURLcode c = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (c != CURLE_OK) {
		xb_error("initialising libcurl: %s", curl_easy_strerror(c));
		return -XB_ENET;
	}
	return 0;
}

void fetch_http_cleanup(void)
{
	curl_global_cleanup();
}

/* Sleeps until due_ns, or until the run stops (Ctrl-C, or the caller's
 * cancel: a failed unpack must not wait out a download's retry delay). */
static int wait_until(const struct fetcher *f, int64_t due_ns)
{
	for (int64_t now; !stopping(f) && (now = now_ns()) < due_ns;) {
		int64_t ns = due_ns - now < FETCH_PROGRESS_NS ? due_ns - now : FETCH_PROGRESS_NS;
		struct timespec ts = { 0, (long)ns };
		nanosleep(&ts, NULL);
	}
	return stopping(f) ? -XB_EINTR : 0;
}

int fetch_http_file(const char *url, const char *dest, uint64_t size, const char *sha256,
               bool quiet_404, const struct fetch_http_opts *o)
{
	struct fetcher f;
	struct xfer x = { .f = &f, .url = url, .dest = dest, .sha256 = sha256, .size = size,
	                  .quiet_404 = quiet_404, .out = OUTFILE_INIT };
	int r;

	fetcher_init(&f, o);
	f.total = size;
	do {
		if (stopping(&f) || (x.tries && wait_until(&f, x.due_ns) < 0))
			return -XB_EINTR;
		if ((r = xfer_start(&x)) < 0)
			return r;
		r = xfer_finish(&x, curl_easy_perform(x.easy));
	} while (r > 0);
	progress_tick(&f, true);
	return r;
}

/* The state of one fetch_http_many() call. */
struct batch {
	struct fetcher f;
	CURLM *multi;
	struct fetch_http_item *items;
	struct xfer *xf; /* one per item, started lazily */
	size_t n, next, active;
	size_t *later, n_later; /* items waiting to be tried again */
	int jobs;
};

/* Starts item i, for the first time or again. */
static int batch_start(struct batch *b, size_t i)
{
	struct xfer *x = &b->xf[i];

	x->f = &b->f;
	x->url = b->items[i].url;
	x->dest = b->items[i].dest;
	x->size = b->items[i].size;
	x->sha256 = b->items[i].sha256;
	int r = xfer_start(x);
	if (r < 0)
		return b->items[i].result = r;
	CURLMcode mc = curl_multi_add_handle(b->multi, x->easy);
	if (mc != CURLM_OK) {
		xb_error("downloading %s: %s", x->url, curl_multi_strerror(mc));
		xfer_release(x);
		return b->items[i].result = -XB_ENET;
	}
	b->active++;
	return 0;
}

/* Collects finished transfers; returns the first failure among them. */
static int batch_reap(struct batch *b)
{
	CURLMsg *m;
	int left, r = 0;

	while ((m = curl_multi_info_read(b->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		void *p = NULL;
		CURLcode c = m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
		struct xfer *x = p;
		curl_multi_remove_handle(b->multi, x->easy);
		b->active--;
		size_t i = (size_t)(x - b->xf);
		int rr = xfer_finish(x, c);
		if (rr > 0) {
			b->later[b->n_later++] = i;
			continue;
		}
		if (!rr && b->f.o && b->f.o->done)
			rr = b->f.o->done(b->f.o->done_ctx, i);
		b->items[i].result = rr;
		if (rr < 0 && r == 0)
			r = rr;
	}
	return r;
}

/* Starts what may start: items whose wait is over first, then new ones.
 * Returns how long until the next wait ends (at most max_ms), or an error. */
static long batch_fill(struct batch *b, long max_ms)
{
	int64_t now = now_ns();
	long wait_ms = max_ms;

	for (size_t k = 0; k < b->n_later && b->active < (size_t)b->jobs;) {
		size_t i = b->later[k];
		if (b->xf[i].due_ns > now) {
			long ms = (long)((b->xf[i].due_ns - now) / 1000000) + 1;
			wait_ms = ms < wait_ms ? ms : wait_ms;
			k++;
			continue;
		}
		b->later[k] = b->later[--b->n_later];
		int r = batch_start(b, i);
		if (r < 0)
			return r;
	}
	while (b->next < b->n && b->active < (size_t)b->jobs) {
		int r = batch_start(b, b->next++);
		if (r < 0)
			return r;
	}
	return wait_ms;
}

static int batch_run(struct batch *b)
{
	while (b->next < b->n || b->active > 0 || b->n_later > 0) {
		if (stopping(&b->f))
			return -XB_EINTR;
		long wait_ms = batch_fill(b, 200);
		if (wait_ms < 0)
			return (int)wait_ms;
		int running;
		size_t active = b->active;
		CURLMcode mc = curl_multi_perform(b->multi, &running);
		int r = mc == CURLM_OK ? batch_reap(b) : 0;
		if (r < 0)
			return r;
		/* A transfer that ended in the perform is reaped before any wait:
		 * the poll would not wake for it (its connection goes idle in the
		 * pool), and its slot or the batch's end would wait wait_ms. */
		if (mc == CURLM_OK && b->active == active)
			mc = curl_multi_poll(b->multi, NULL, 0, (int)wait_ms, NULL);
		if (mc != CURLM_OK) {
			xb_error("downloading: %s", curl_multi_strerror(mc));
			return -XB_ENET;
		}
	}
	return 0;
}

int fetch_http_many(struct fetch_http_item *items, size_t n, const struct fetch_http_opts *o)
{
	struct batch b = { .items = items, .n = n };
	int r;

	fetcher_init(&b.f, o);
	b.jobs = o && o->jobs > 0 ? o->jobs : FETCH_DEFAULT_JOBS;
	bool all_sized = true;
	for (size_t i = 0; i < n; i++) {
		items[i].result = 1; /* not finished yet */
		b.f.total += items[i].size;
		all_sized = all_sized && items[i].size;
	}
	if (!all_sized)
		b.f.total = 0;
	if (n == 0)
		return 0;
	b.multi = curl_multi_init();
	if (!b.multi) {
		xb_error("downloading: cannot create a libcurl multi handle");
		r = -ENOMEM;
		goto out;
	}
	/* One connection pool for all transfers; at most jobs at once. */
	curl_multi_setopt(b.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)b.jobs);
	curl_multi_setopt(b.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)b.jobs);
	curl_multi_setopt(b.multi, CURLMOPT_MAXCONNECTS, (long)b.jobs);
	b.xf = xcalloc(n, sizeof(*b.xf));
	b.later = xcalloc(n, sizeof(*b.later));
	for (size_t i = 0; i < n; i++)
		b.xf[i].out = (struct outfile)OUTFILE_INIT;
	r = batch_run(&b);
out:
	/* Whatever is still in flight is abandoned: its temp file goes. */
	for (size_t i = 0; b.xf && i < n; i++) {
		if (b.xf[i].easy)
			curl_multi_remove_handle(b.multi, b.xf[i].easy);
		xfer_release(&b.xf[i]);
	}
	for (size_t i = 0; i < n; i++)
		if (items[i].result > 0)
			items[i].result = r < 0 ? r : -XB_EINTR;
	free(b.xf);
	free(b.later);
	if (b.multi)
		curl_multi_cleanup(b.multi);
	progress_tick(&b.f, true);
	return r;
}
