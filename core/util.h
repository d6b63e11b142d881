/* util: what every module shares — error codes and messages, the growable
 * string (struct strbuf), the argv vector (struct strvec), cleanup helpers,
 * and small whole-file helpers.
 *
 * Error convention: library functions return 0 or a negative code, either
 * -errno or one of the -XB_E* codes below.  The function that understands an
 * error reports it once with xb_error() and returns the code; callers just
 * propagate it.  Only cmd/ turns a code into an exit status. */
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

enum {
	XB_EBASE = 1024,
	XB_EBADSIG,   /* signature missing, bad, or by an unknown key */
	XB_EHASH,     /* checksum mismatch */
	XB_ESIZE,     /* size mismatch, or download longer than expected */
	XB_EEXPIRED,  /* Valid-Until in the past / Date in the future */
	XB_EPARSE,    /* malformed input file */
	XB_EHTTP,     /* HTTP error status */
	XB_ENET,      /* transport error (DNS, connect, timeout) */
	XB_EUNSAT,    /* dependencies cannot be satisfied */
	XB_EUNSAFE,   /* an archive member would land outside the target */
	XB_ENOTFOUND, /* package, suite or file not found in an index */
	XB_EUSAGE,    /* bad command line */
	XB_ECHILD,    /* a helper program or script failed */
	XB_EINTR,     /* interrupted by a signal (Ctrl-C, SIGTERM) */
	XB_EARCH,     /* unknown or unsupported architecture */
	XB_ELAST
};

const char *xb_strerror(int code);

/* Messages.  Verbosity: 0 quiet, 1 normal, 2 verbose. */
extern int xb_verbosity;
void xb_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xb_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* shown unless -q */
void xb_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* shown with -v */
/* Also append every message to this log (may be NULL); not owned. */
void xb_set_log(FILE *log);

/* Set by the SIGINT/SIGTERM handler that cmd/ installs; long loops poll it. */
extern volatile int xb_interrupted;

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

/* A growable NUL-terminated string.  STRBUF_INIT or strbuf_init(); the
 * owner calls strbuf_release() (buf may then be reused after init). */
struct strbuf {
	char *buf;
	size_t len, alloc;
};
#define STRBUF_INIT { NULL, 0, 0 }
void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t n);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
void strbuf_reset(struct strbuf *sb);
/* Hands the buffer to the caller (free() it); sb is empty afterwards. */
char *strbuf_detach(struct strbuf *sb);
static inline const char *strbuf_str(const struct strbuf *sb) { return sb->buf ? sb->buf : ""; }
static inline void strbuf_releasep(struct strbuf *sb) { strbuf_release(sb); }
#define cleanup_strbuf __attribute__((cleanup(strbuf_releasep)))

/* A NULL-terminated vector of owned strings, usable as an argv. */
struct strvec {
	char **v;
	size_t n, alloc;
};
#define STRVEC_INIT { NULL, 0, 0 }
void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strvec_pushl(struct strvec *sv, ...); /* NULL-terminated list */
bool strvec_has(const struct strvec *sv, const char *s);
void strvec_clear(struct strvec *sv);
/* Splits s at each of the characters in seps, skipping empty fields. */
void strvec_split(struct strvec *sv, const char *s, const char *seps);
static inline void strvec_clearp(struct strvec *sv) { strvec_clear(sv); }
#define cleanup_strvec __attribute__((cleanup(strvec_clearp)))

/* Whole files.  read_file_at: reads path (relative to dirfd, or AT_FDCWD)
 * into sb (appends); returns 0 or -errno, reports nothing. */
int xb_read_fd(int fd, struct strbuf *sb);
int xb_read_file(const char *path, struct strbuf *sb);
/* Writes data to dirfd/path atomically (temporary name, fsync-less rename);
 * returns 0 or -errno, reports nothing. */
int xb_write_file_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode);
int xb_write_all(int fd, const void *data, size_t len);
/* mkdir -p relative to dirfd; returns 0 or -errno. */
int xb_mkdir_p_at(int dirfd, const char *path, mode_t mode);
/* rm -rf of dirfd/path, never crossing into other file systems. */
int xb_rm_rf_at(int dirfd, const char *path);

/* The CPUs this process may run on (its affinity, which taskset and
 * cgroup cpusets narrow), at least 1: how wide parallel work goes. */
int xb_ncpus(void);

bool str_starts_with(const char *s, const char *prefix);
bool str_ends_with(const char *s, const char *suffix);
/* Trims ASCII white space in place at both ends; returns s+leading. */
char *str_trim(char *s);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
