/* timings: the --timings table (see timings.h). */
#include "timings.h"

#include <errno.h>
#include <sys/mman.h>

#include "progress.h"

#define TIMINGS_MAX 32

struct timing {
	char phase[40];
	long long ms;
};

static struct timing *table; /* TIMINGS_MAX entries, shared with children */

int timings_enable(void)
{
	if (table)
		return 0;
	void *m = mmap(NULL, TIMINGS_MAX * sizeof(*table), PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	table = m;
	return 0;
}

bool timings_enabled(void)
{
	return table != NULL;
}

void timings_since(const char *phase, long long t0)
{
	if (!table)
		return;
	long long ms = progress_now_ms() - t0;
	for (size_t i = 0; i < TIMINGS_MAX; i++) {
		if (!table[i].phase[0])
			snprintf(table[i].phase, sizeof(table[i].phase), "%s", phase);
		if (!strcmp(table[i].phase, phase)) {
			table[i].ms += ms;
			return;
		}
	}
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
	}
	long long rest = total_ms - sum > 0 ? total_ms - sum : 0;
	fprintf(stderr, "xboot:   %-28s %8.2f s %5.1f %%\n", "other (set-up, clean-up)",
	        (double)rest / 1000.0, 100.0 * (double)rest / total);
	fprintf(stderr, "xboot:   %-28s %8.2f s\n", "total", (double)total_ms / 1000.0);
}
