/* finish: the files a bootstrapped system gets at the end, as debootstrap
 * and mmdebstrap users expect them: apt sources, hostname, fstab, an empty
 * machine-id, and no apt lists or caches left behind; the user's apt and
 * dpkg options. */
#ifndef XB_FINISH_H
#define XB_FINISH_H

#include "plan.h"

/* The files above, into the tree at root (sources.list from sources); with SOURCE_DATE_EPOCH also
 * what makes the tree reproducible (no logs with times, password ages
 * from the epoch). */
int finish_target(const struct xb_plan *p, const struct mirror_entries *sources,
                  const char *root);
/* --aptopt and --dpkgopt into etc/apt/apt.conf.d/99xboot and
 * etc/dpkg/dpkg.cfg.d/99xboot, before anything runs in the tree. */
int finish_config(const struct xb_plan *p, const char *root);

#endif
