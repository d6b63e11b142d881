/* http: downloads with libcurl (http, https, file URLs).  One file, or many
 * in parallel over the multi interface, each checked against an expected
 * size and SHA256 while it streams, written under a temporary name and
 * renamed into place only once verified.  http_proxy/https_proxy honoured. */
#ifndef XB_FETCH_HTTP_H
#define XB_FETCH_HTTP_H

#include "../core/base/util.h"

struct fetch_http_item {
	const char *url;    /* not owned */
	const char *dest;   /* final path; not owned */
	uint64_t size;      /* expected size; 0 = unknown (then max_size applies) */
	const char *sha256; /* expected lower-case hex; NULL = not checked */
	int result;         /* out: 0 or a negative code */
};

/* Progress: called from the fetching thread with bytes done so far (all
 * items) and the expected total (0 if unknown). */
typedef void (*fetch_http_progress_fn)(void *ctx, uint64_t done, uint64_t total);

struct fetch_http_opts {
	int jobs;               /* parallel transfers; <= 0 means 8 */
	long connect_timeout_s; /* 0 means the default, 30 */
	long stall_timeout_s;   /* abort when < 1 byte/s for this long; 0: the default, 30 */
	uint64_t max_size;      /* cap for items of unknown size; 0 = 1 GiB */
	fetch_http_progress_fn progress;
	void *progress_ctx;
	const char *proxy;      /* for http:// (apt's Acquire::http::Proxy); NULL: the
	                           environment's; "DIRECT": none */
	/* fetch_http_many: called as each item is in place, verified, with
	 * its index; a negative return stops the batch with that code (the
	 * callback reports its own failures). */
	int (*done)(void *ctx, size_t item);
	void *done_ctx;
	/* A try that failed for what may pass (no connection, a timeout, a
	 * body cut short, HTTP 408, 429 or 5xx; never a file:// URL) is made
	 * again up to this many times, as apt's Acquire::Retries, each after
	 * a wait that doubles from 1 s up to retry_delay_max_s (0: none). */
	int retries;
	long retry_delay_max_s;
	/* NULL, or a flag another thread sets to stop the downloads where
	 * they are (fetch_http_many returns -XB_EINTR, says nothing). */
	const int *cancel;
};
#define FETCH_HTTP_RETRIES 3 /* apt's defaults */
#define FETCH_HTTP_RETRY_DELAY_MAX 30L
#define FETCH_HTTP_OPTS_INIT \
	{ .retries = FETCH_HTTP_RETRIES, .retry_delay_max_s = FETCH_HTTP_RETRY_DELAY_MAX }

/* Global libcurl set-up; call once from main() before any thread. */
/* base + "/" + path, path's bytes that a URL's path cannot hold as they
 * are (%, space, #, ?, controls, non-ASCII) as %XX, as apt requests them:
 * a pool made from apt's cache holds names with a literal "%3a"
 * (caller frees). */
char *fetch_http_url(const char *base, const char *path);

int fetch_http_init(void);
void fetch_http_cleanup(void);

/* Downloads one URL to dest.  A 404 (or a missing file:// path) returns
 * -XB_ENOTFOUND and reports nothing when quiet_404 is set (InRelease ->
 * Release fallback); every other failure is reported once, naming the URL:
 * HTTP status (-XB_EHTTP), transport error/timeout (-XB_ENET), too long or
 * short (-XB_ESIZE), wrong SHA256 (-XB_EHASH); each try made again (see
 * retries) is a warning.  dest never exists after a failure. */
int fetch_http_file(const char *url, const char *dest, uint64_t size, const char *sha256,
               bool quiet_404, const struct fetch_http_opts *o);

/* Downloads all items in parallel; each item's result is set.  Returns 0
 * when all succeeded, else the first failing item's code (each failure is
 * reported once as in fetch_http_file).  Stops early when xb_interrupted is set
 * (returns -XB_EINTR, temporary files removed). */
int fetch_http_many(struct fetch_http_item *items, size_t n, const struct fetch_http_opts *o);

#endif
