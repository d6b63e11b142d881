/* error: the error codes and the messages of the whole tree.
 *
 * Library functions return 0 or a negative code, either -errno or one of
 * the -XB_E* codes below.  The function that understands an error reports
 * it once with xb_error() and returns the code; callers just propagate it.
 * Only cmd/ turns a code into an exit status. */
#ifndef XB_ERROR_H
#define XB_ERROR_H

#include <stdbool.h>
#include <stdio.h>

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

/* A static description of code (negative or not): ours, or strerror's. */
const char *xb_strerror(int code);

/* Messages go to stderr as one line each, "xboot: error: ..." and so on.
 * Verbosity: 0 quiet (errors only), 1 normal, 2 verbose, 3 debug; the
 * log gets every message whatever the verbosity.
 * Each saves and restores errno. */
extern int xb_verbosity;
void xb_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void xb_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* shown unless -q */
void xb_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* shown with -v */
/* While on (calls nest), errors are not shown: for a probe whose failure
 * is an answer, not a problem.  The log still gets them. */
void xb_mute_errors(bool on);
/* How many errors were shown, in this process and, once xb_error_init()
 * has run (before the first fork), in the children it forks: a failure
 * that none reported can still be named once. */
void xb_error_init(void);
unsigned xb_errors_shown(void);
/* Also append every message to this log (may be NULL); not owned. */
void xb_set_log(FILE *log);

/* Set by the SIGINT/SIGTERM handler that cmd/ installs; long loops poll it. */
extern volatile int xb_interrupted;

#endif
