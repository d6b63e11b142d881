/* timings: the --timings table (see timings.h). */
#include "timings.h"

#include <errno.h>
#include <sched.h>
#include <sys/mman.h>

#include "progress.h"

#define TIMINGS_MAX 32
#define TIMINGS_SLOW 8

struct timing {
	char phase[40];
	long long ms;
	long long work_ms; /* the scripts' own times, added up */
	long long beside_ms; /* of its span, what ran beside other phases (not in ms) */
	unsigned scripts;
};

struct slow {
	char what[64];
	long long ms;
};

/* TIMINGS_MAX phases, then TIMINGS_SLOW scripts, slowest first, then a
 * lock; shared with children, which add to it while others do (the
 * download thread, the unpack, the second stage beside it) */
static struct timing *table;
static struct slow *slowest;
static char *lock;

/* Held for a few instructions; one killed holding it is waited for a
 * while only, as a figure off is better than a run that hangs.  Whether
 * it was taken: only then is it given back. */
static bool take(void)
{
	for (int i = 0; i < 100000; i++) {
		if (!__atomic_test_and_set(lock, __ATOMIC_ACQUIRE))
			return true;
		sched_yield();
	}
	return false;
}

static void give(bool taken)
{
	if (taken)
		__atomic_clear(lock, __ATOMIC_RELEASE);
}

int timings_enable(void)
{
	if (table)
		return 0;
	size_t len = TIMINGS_MAX * sizeof(*table) + TIMINGS_SLOW * sizeof(*slowest) + 1;
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	table = m;
	slowest = (struct slow *)(table + TIMINGS_MAX);
	lock = (char *)(slowest + TIMINGS_SLOW);
	return 0;
}

bool timings_enabled(void)
{
	return table != NULL;
}

static struct timing *entry(const char *phase)
{
	for (size_t i = 0; i < TIMINGS_MAX; i++) {
		if (!table[i].phase[0])
			snprintf(table[i].phase, sizeof(table[i].phase), "%s", phase);
		if (!strcmp(table[i].phase, phase))
			return &table[i];
	}
	return NULL;
}

void timings_since(const char *phase, long long t0)
{
	if (!table)
		return;
	bool taken = take();
	struct timing *t = entry(phase);
	if (t)
		t->ms += progress_now_ms() - t0;
	give(taken);
}

void timings_beside(const char *phase, long long t0, long long alone)
{
	if (!table)
		return;
	bool taken = take();
	struct timing *t = entry(phase);
	long long now = progress_now_ms();
	if (alone > now)
		alone = now;
	if (alone < t0)
		alone = t0;
	if (t) {
		t->ms += now - alone;
		t->beside_ms += alone - t0;
	}
	give(taken);
}

static void add_script(const char *phase, const char *script, const char *pkg, long long ms)
{
	struct timing *t = entry(phase);
	if (!t)
		return;
	t->work_ms += ms;
	t->scripts++;
	size_t at = TIMINGS_SLOW;
	while (at > 0 && slowest[at - 1].ms < ms)
		at--;
	if (at == TIMINGS_SLOW)
		return;
	memmove(&slowest[at + 1], &slowest[at], (TIMINGS_SLOW - 1 - at) * sizeof(*slowest));
	snprintf(slowest[at].what, sizeof(slowest[at].what), "%s of %s", script, pkg);
	slowest[at].ms = ms;
}

void timings_script(const char *phase, const char *script, const char *pkg, long long ms)
{
	if (!table)
		return;
	bool taken = take();
	add_script(phase, script, pkg, ms);
	give(taken);
}

void timings_print(long long total_ms)
{
	if (!table)
		return;
	long long sum = 0;
	double total = total_ms > 0 ? (double)total_ms : 1.0;
	fprintf(stderr, "xboot: where the time went (--timings):\n");
	for (size_t i = 0; i < TIMINGS_MAX && table[i].phase[0]; i++) {
		sum += table[i].ms;
		fprintf(stderr, "xboot:   %-28s %8.2f s %5.1f %%\n", table[i].phase,
		        (double)table[i].ms / 1000.0, 100.0 * (double)table[i].ms / total);
		/* how far the scripts ran side by side */
		long long span = table[i].ms + table[i].beside_ms;
		if (table[i].scripts && span > 0)
			fprintf(stderr, "xboot:     %u scripts, %.2f s of their own, %.1f at once\n",
			        table[i].scripts, (double)table[i].work_ms / 1000.0,
			        (double)table[i].work_ms / (double)span);
		if (table[i].beside_ms > 0)
			fprintf(stderr, "xboot:     and %.2f s before, beside the download and unpack\n",
			        (double)table[i].beside_ms / 1000.0);
	}
	long long rest = total_ms - sum > 0 ? total_ms - sum : 0;
	fprintf(stderr, "xboot:   %-28s %8.2f s %5.1f %%\n", "other (set-up, clean-up)",
	        (double)rest / 1000.0, 100.0 * (double)rest / total);
	fprintf(stderr, "xboot:   %-28s %8.2f s\n", "total", (double)total_ms / 1000.0);
	for (size_t i = 0; i < TIMINGS_SLOW && slowest[i].what[0]; i++)
		fprintf(stderr, "xboot:   %s %8.2f s  %s\n", i ? "                " : "slowest scripts:",
		        (double)slowest[i].ms / 1000.0, slowest[i].what);
}
