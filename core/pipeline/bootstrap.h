/* bootstrap: runs one bootstrap as a completed plan describes it: the
 * stages of the pipeline, in order (see bootstrap.c), from the signed
 * indices to the output. */
#ifndef XB_BOOTSTRAP_H
#define XB_BOOTSTRAP_H

#include "plan.h"

/* Builds p->target.  Every error is reported once where it happens; the
 * return value is 0 or the negative code. */
int bootstrap_run(const struct xb_plan *p);

#endif
