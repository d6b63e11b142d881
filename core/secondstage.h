/* secondstage: what must run inside the target: the preinst scripts, as
 * dpkg would run them before unpacking ("install"), then dpkg --configure,
 * the essential set first.  Everything else was done natively. */
#ifndef XB_SECONDSTAGE_H
#define XB_SECONDSTAGE_H

#include "resolve.h"

struct secondstage {
	const struct xb_pkg *pkgs; /* install order: essential first */
	size_t n;
	int log_fd;                /* scripts' output goes here unless verbose; -1: inherit */
	enum { SECONDSTAGE_ALL, SECONDSTAGE_ESSENTIAL, SECONDSTAGE_REST } part;
	/* ESSENTIAL: the preinsts and the essential set; REST: the others
	 * (an --essential-hook runs between the two). */
};

/* Runs inside the chroot (as launch_run's fn): returns 0 or an exit code. */
int secondstage_run(void *ctx);

/* Native preparation and clean-up around it: a policy-rc.d that keeps
 * daemons from starting (written before, removed after). */
int secondstage_prepare(const char *target);
int secondstage_cleanup(const char *target);

#endif
