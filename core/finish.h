/* finish: the files a bootstrapped system gets at the end, as debootstrap
 * and mmdebstrap users expect them: apt sources, hostname, fstab, an empty
 * machine-id, and no apt lists or caches left behind. */
#ifndef XB_FINISH_H
#define XB_FINISH_H

#include "plan.h"

int finish_target(const struct xb_plan *p);

#endif
