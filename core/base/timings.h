/* timings: where a run's time went, for --timings.  Phases are named by
 * xboot (never by input), kept in the order first seen, each the sum of
 * its spans.  The table is in shared memory (MAP_SHARED, made by
 * timings_enable() before any fork), so the second stage, a forked child
 * in its sandbox, adds its phases to the parent's table. */
#ifndef XB_TIMINGS_H
#define XB_TIMINGS_H

#include "util.h"

/* Turns the table on; until then the calls below do nothing.  0 or -errno. */
int timings_enable(void);
bool timings_enabled(void);
/* Adds the milliseconds since t0 (progress_now_ms()) to phase. */
void timings_since(const char *phase, long long t0);
/* The same for a phase that ran beside others from t0 on and alone from
 * alone on (>= t0): only that part counts in the table, which adds up;
 * the rest is said under it, and how many of its scripts ran at once is
 * over the whole. */
void timings_beside(const char *phase, long long t0, long long alone);
/* One maintainer script's run of ms, counted in phase (whose own time
 * timings_since gives): how many ran, their own times added up, and the
 * slowest of the run by name (pkg is a package name, cut to fit). */
void timings_script(const char *phase, const char *script, const char *pkg, long long ms);
/* The table on stderr, whatever the verbosity: one line per phase with
 * its seconds and share of total_ms, then the total and what the phases
 * do not cover (set-up, checks, clean-up); under each phase with scripts,
 * how many ran side by side on average; last, the slowest scripts. */
void timings_print(long long total_ms);

#endif
