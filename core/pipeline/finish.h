/* finish: the files a bootstrapped system gets once the second stage is
 * done, as debootstrap and mmdebstrap users expect them: apt sources,
 * hostname, fstab, an empty machine-id, and no apt lists or caches left
 * behind. */
#ifndef XB_FINISH_H
#define XB_FINISH_H

#include "plan.h"

/* The files above, into the tree at root (sources.list from src); with
 * SOURCE_DATE_EPOCH also what makes the tree reproducible (no logs with
 * times, password ages from the epoch). */
int finish_tree(const struct xb_plan *p, const struct fetch_sources *src, const char *root);

#endif
