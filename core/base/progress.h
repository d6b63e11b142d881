/* progress: one line per phase on stderr, and on a terminal a bar that is
 * redrawn in place (bytes downloaded, packages unpacked or configured).
 * Callbacks are cheap and may be called often; drawing is rate-limited. */
#ifndef XB_PROGRESS_H
#define XB_PROGRESS_H

#include "util.h"

struct progress {
	const char *what;   /* "downloading" */
	bool bytes;         /* show sizes in MB, else counts */
	bool tty;           /* stderr is a terminal and not -q */
	long long last_ms;  /* last redraw */
	bool drawn;
};

void progress_begin(struct progress *p, const char *what, bool bytes);
void progress_update(struct progress *p, uint64_t done, uint64_t total);
/* Clears the bar; the caller prints the phase's summary line after. */
void progress_end(struct progress *p);

/* Adapters matching the fetch/ and unpack/ callback types; ctx is a
 * struct progress. */
void progress_cb_bytes(void *ctx, uint64_t done, uint64_t total);
void progress_cb_count(void *ctx, size_t done, size_t total);

/* Monotonic milliseconds, for phase timings. */
long long progress_now_ms(void);

#endif
