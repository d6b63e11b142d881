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

static int on_xferinfo(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	(void)ctx, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return xb_interrupted ? 1 : 0;
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
	SET(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SET(CURLOPT_LOW_SPEED_TIME, x->f->stall_timeout);
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

/* Turns a failed transfer's curl code into a reported error code. */
static int xfer_curl_error(struct xfer *x, CURLcode c)
{
	long status = 0;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);

	if (c == CURLE_ABORTED_BY_CALLBACK)
		return -XB_EINTR;
	if (c == CURLE_WRITE_ERROR && x->too_long) {
		if (x->size)
			xb_error("downloading %s: longer than the expected %" PRIu64 " bytes",
			         x->url, x->size);
		else
			xb_error("downloading %s: larger than the limit of %" PRIu64 " bytes",
			         x->url, x->f->max_size);
		return -XB_ESIZE;
	}
	if (c == CURLE_WRITE_ERROR && x->write_err) {
		xb_error("downloading %s: writing %s: %s", x->url, x->dest, strerror(-x->write_err));
		return x->write_err;
	}
	if (c == CURLE_HTTP_RETURNED_ERROR || c == CURLE_FILE_COULDNT_READ_FILE ||
	    c == CURLE_REMOTE_FILE_NOT_FOUND) {
		bool not_found = status == 404 || status == 410 || c != CURLE_HTTP_RETURNED_ERROR;
		if (not_found && x->quiet_404)
			return -XB_ENOTFOUND;
		if (c != CURLE_HTTP_RETURNED_ERROR)
			xb_error("downloading %s: no such file", x->url);
		else
			xb_error("downloading %s: server answered HTTP %ld", x->url, status);
		return not_found ? -XB_ENOTFOUND : -XB_EHTTP;
	}
	if (c == CURLE_OPERATION_TIMEDOUT) {
		curl_off_t connected = 0;
		curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &connected);
		if (!connected && !str_starts_with(x->url, "file:"))
			xb_error("downloading %s: could not connect within %ld s", x->url,
			         x->f->connect_timeout);
		else
			xb_error("downloading %s: timed out (no data for %ld s)", x->url,
			         x->f->stall_timeout);
		return -XB_ENET;
	}
	/* libcurl's messages start with a capital; ours are lower case. */
	cleanup_free char *why = xstrdup(x->errbuf[0] ? x->errbuf : curl_easy_strerror(c));
	size_t caps = 0;
	for (size_t i = 0; why[i] && why[i] != ' '; i++)
		caps += isupper((unsigned char)why[i]) != 0;
	if (caps == 1 && isupper((unsigned char)why[0])) /* a word, not "OpenSSL" */
		why[0] = (char)tolower((unsigned char)why[0]);
	xb_error("downloading %s: %s", x->url, why);
	return -XB_ENET;
}

/* Ends a transfer that curl reported done with code c: checks it and
 * renames it into place, or reports why not.  Always releases x. */
static int xfer_finish(struct xfer *x, CURLcode c)
{
	int r = 0;
	char hex[65];

	if (c != CURLE_OK) {
		r = xfer_curl_error(x, c);
		goto out;
	}
	if (xb_interrupted) {
		r = -XB_EINTR;
		goto out;
	}
	if (x->size && x->got != x->size) {
		xb_error("downloading %s: %" PRIu64 " bytes, expected %" PRIu64, x->url, x->got,
		         x->size);
		r = -XB_ESIZE;
		goto out;
	}
	xb_hash_final_hex(x->hash, hex);
	x->hash = NULL;
	if (x->sha256 && strcasecmp(hex, x->sha256) != 0) {
		xb_error("downloading %s: SHA256 mismatch (expected %s, got %s)", x->url, x->sha256,
		         hex);
		r = -XB_EHASH;
		goto out;
	}
	r = outfile_commit(&x->out);
out:
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

int fetch_http_file(const char *url, const char *dest, uint64_t size, const char *sha256,
               bool quiet_404, const struct fetch_http_opts *o)
{
	struct fetcher f;
	struct xfer x = { .f = &f, .url = url, .dest = dest, .sha256 = sha256, .size = size,
	                  .quiet_404 = quiet_404, .out = OUTFILE_INIT };

	fetcher_init(&f, o);
	f.total = size;
	if (xb_interrupted)
		return -XB_EINTR;
	int r = xfer_start(&x);
	if (r < 0)
		return r;
	r = xfer_finish(&x, curl_easy_perform(x.easy));
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
	int jobs;
	int err; /* first failure */
};

static int batch_add(struct batch *b)
{
	size_t i = b->next++;
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
		if (!rr && b->f.o && b->f.o->done)
			rr = b->f.o->done(b->f.o->done_ctx, i);
		b->items[i].result = rr;
		if (rr < 0 && r == 0)
			r = rr;
	}
	return r;
}

static int batch_run(struct batch *b)
{
	while (b->next < b->n || b->active > 0) {
		if (xb_interrupted)
			return -XB_EINTR;
		while (b->next < b->n && b->active < (size_t)b->jobs) {
			int r = batch_add(b);
			if (r < 0)
				return r;
		}
		int running;
		CURLMcode mc = curl_multi_perform(b->multi, &running);
		if (mc == CURLM_OK)
			mc = curl_multi_poll(b->multi, NULL, 0, 200, NULL);
		if (mc != CURLM_OK) {
			xb_error("downloading: %s", curl_multi_strerror(mc));
			return -XB_ENET;
		}
		int r = batch_reap(b);
		if (r < 0)
			return r;
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
	if (b.multi)
		curl_multi_cleanup(b.multi);
	progress_tick(&b.f, true);
	return r;
}
