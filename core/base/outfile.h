/* outfile: the temporary file an output (core/output) or a download
 * (fetch/http) is written to until it is complete, then renamed over its
 * target, so the target is either complete or untouched and nothing is
 * left behind on failure.  Where the file system has O_TMPFILE the file has no name until
 * it is complete, so even a killed run leaves nothing behind; images need
 * a name for the tool to write to. */
#ifndef XB_OUTFILE_H
#define XB_OUTFILE_H

#include "util.h"

/* Start from OUTFILE_INIT; outfile_release() frees what it holds. */
struct outfile {
	const char *target; /* not owned */
	char *tmp;          /* the temporary name, owned */
	int fd;
	bool anon; /* fd is an O_TMPFILE: tmp does not exist yet */
};
#define OUTFILE_INIT { .fd = -1 }

/* Creates the temporary file in target's directory, without a name where
 * anon_ok and the file system allows.  Reports and returns -errno. */
int outfile_open(struct outfile *of, const char *target, bool anon_ok);
/* Names the finished file target (closing of->fd).  Reports and returns
 * -errno; of must still be released. */
int outfile_commit(struct outfile *of);
/* Drops whatever is left of an output that was not committed. */
void outfile_release(struct outfile *of);

#endif
