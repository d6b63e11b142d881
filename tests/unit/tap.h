/* tap: a minimal test harness for the C unit tests.  CHECK() counts a
 * result; tap_done() prints "N passed, N failed" and returns the exit code. */
#ifndef XB_TAP_H
#define XB_TAP_H
#include <stdio.h>

static int tap_pass, tap_fail;
#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (cond) {                                                \
			tap_pass++;                                        \
		} else {                                                   \
			tap_fail++;                                        \
			printf("not ok %s:%d: ", __FILE__, __LINE__);      \
			printf(__VA_ARGS__);                               \
			printf("\n");                                      \
		}                                                          \
	} while (0)

static inline int tap_done(void)
{
	printf("%d passed, %d failed\n", tap_pass, tap_fail);
	return tap_fail ? 1 : 0;
}
#endif
