/* platforms: --platforms=A,B,...: one OCI image of several architectures.
 * Each platform's tree is built by xboot itself, run again with --arch=A
 * and the same options (args) into an image layout of its own, as many at
 * once as there are cores (an emulated second stage keeps about one busy),
 * each run's log in a file of its own; then core/output/oci merges the
 * layouts into one image whose index lists every platform.  A platform
 * that fails stops the others (the processes this started, by pid). */
#ifndef XB_PLATFORMS_H
#define XB_PLATFORMS_H

#include "plan.h"

/* p holds the plan as cmd/ parsed it (plan_complete() not run); args are
 * the options to hand each run, every word of them but --platforms'. */
int platforms_run(struct xb_plan *p, const struct strvec *args);

#endif
