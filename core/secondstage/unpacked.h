/* unpacked: what the second stage knows of the unpack that runs beside it
 * (core/dpkg/unpack.h's protocol): how many packages, from the first in
 * install order on, are in the tree, and whether all are, with the dpkg
 * database. */
#ifndef XB_UNPACKED_H
#define XB_UNPACKED_H

#include "../base/util.h"

struct unpacked {
	int fd;        /* the pipe it tells; -1: the tree was whole from the start */
	size_t n;      /* packages in all */
	size_t prefix; /* in the tree, from the first on */
	bool all;      /* the tree and its database whole */
	long long all_ms; /* since when (progress_now_ms()); 0: from the start */
	bool failed;   /* the unpack failed (and said why, itself) */
};

void unpacked_init(struct unpacked *u, int fd, size_t n);
/* Takes in what the unpack said; with block, waits until it says
 * something.  Returns 0, or -XB_EINTR when interrupted. */
int unpacked_learn(struct unpacked *u, bool block);
/* Waits until at least want packages are in, all are, or it failed;
 * unpacked_wait_all until the database is written too (or it failed). */
int unpacked_wait(struct unpacked *u, size_t want);
int unpacked_wait_all(struct unpacked *u);
/* Whether the unpack may still tell of more. */
static inline bool unpacked_coming(const struct unpacked *u) { return !u->all && !u->failed; }

#endif
