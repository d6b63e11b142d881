/* bootstrap: runs one bootstrap as a plan describes it. */
#ifndef XB_BOOTSTRAP_H
#define XB_BOOTSTRAP_H

#include "plan.h"

/* Builds p->target.  Every error is reported once where it happens; the
 * return value is 0 or the negative code. */
int bootstrap_run(const struct xb_plan *p);

#endif
