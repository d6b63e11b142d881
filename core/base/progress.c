/* progress: a single-line bar on a terminal, nothing otherwise. */
#include "progress.h"

#include <time.h>

long long progress_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void progress_begin(struct progress *p, const char *what, bool bytes)
{
	p->what = what;
	p->bytes = bytes;
	p->tty = xb_verbosity >= 1 && isatty(2);
	p->last_ms = 0;
	p->drawn = false;
}

void progress_update(struct progress *p, uint64_t done, uint64_t total)
{
	if (!p->tty)
		return;
	long long now = progress_now_ms();
	if (done < total && now - p->last_ms < 100)
		return;
	p->last_ms = now;
	char bar[31];
	size_t fill = total ? (size_t)(done * 30 / total) : 0;
	if (fill > 30)
		fill = 30;
	memset(bar, '#', fill);
	memset(bar + fill, '.', 30 - fill);
	bar[30] = '\0';
	if (p->bytes)
		fprintf(stderr, "\r\033[Kxboot: %s [%s] %.1f/%.1f MB", p->what, bar,
		        (double)done / 1e6, (double)total / 1e6);
	else
		fprintf(stderr, "\r\033[Kxboot: %s [%s] %llu/%llu", p->what, bar,
		        (unsigned long long)done, (unsigned long long)total);
	fflush(stderr);
	p->drawn = true;
}

void progress_end(struct progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = false;
}

void progress_cb_bytes(void *ctx, uint64_t done, uint64_t total)
{
	progress_update(ctx, done, total);
}

void progress_cb_count(void *ctx, size_t done, size_t total)
{
	progress_update(ctx, done, total);
}
