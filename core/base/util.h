/* util: what every module of the tree includes — allocation that cannot
 * fail, cleanup attributes, small string helpers, the CPU count — and,
 * through it, the error codes and messages (error.h), the growable string
 * (strbuf.h), the argv vector (strvec.h) and whole-file helpers (fileio.h). */
#ifndef XB_UTIL_H
#define XB_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fileio.h"
#include "strbuf.h"
#include "strvec.h"

/* Allocation that cannot fail (aborts with a message on OOM). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Cleanup attributes, as bubblewrap has them. */
static inline void xb_freep(void *p) { free(*(void **)p); }
static inline void xb_closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void xb_fclosep(FILE **f) { if (*f) fclose(*f); }
#define cleanup_free __attribute__((cleanup(xb_freep)))
#define cleanup_fd __attribute__((cleanup(xb_closep)))
#define cleanup_file __attribute__((cleanup(xb_fclosep)))
static inline void *xb_steal(void *pp) { void **p = pp; void *v = *p; *p = NULL; return v; }
#define steal_pointer(pp) xb_steal(pp)
static inline int steal_fd(int *fd) { int v = *fd; *fd = -1; return v; }

/* The CPUs this process may run on (its affinity, which taskset and
 * cgroup cpusets narrow), at least 1: how wide parallel work goes. */
int xb_ncpus(void);

bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);
/* Trims ASCII white space in place at both ends; returns s+leading. */
char *str_trim(char *s);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
