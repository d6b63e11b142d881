/* walk: a depth-first walk of a root tree in a fixed order, for the
 * outputs (output.c, image.c): each directory's names in strcmp() order,
 * a directory before its contents, so the order depends on nothing
 * but the names.  Mount points are visited but not entered (a /proc left
 * mounted must not end up in an archive or image). */
#ifndef XB_WALK_H
#define XB_WALK_H

#include <sys/stat.h>
#include <sys/types.h>

#include "../base/util.h"

/* The caller fills rootdir, path (STRBUF_INIT; the caller releases it),
 * visit and ctx; walk_tree() fills the rest. */
struct walk {
	const char *rootdir;
	dev_t dev;
	struct strbuf path; /* "." for the root, "./etc/passwd" below it */
	/* Called for every entry, the root first, with the directory it is in
	 * and its name there; returns 0 to go on or a negative code, having
	 * reported the error. */
	int (*visit)(struct walk *w, int dfd, const char *name, const struct stat *st);
	void *ctx;
};

/* Walks the tree at w->rootdir; stops at the first error of the walk
 * (reported here) or of visit, and returns it, or -XB_EINTR. */
int walk_tree(struct walk *w);
/* Reports "WHAT ROOTDIR/PATH: strerror(e)" for the entry being visited;
 * returns -e. */
int walk_fail(struct walk *w, const char *what, int e);
/* What an archive or image leaves out (a device node, FIFO or socket, as
 * a static string for messages), or NULL. */
const char *walk_special_kind(mode_t mode);

#endif
