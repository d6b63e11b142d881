/* secondstage: what must run inside the target: the preinst scripts, as
 * dpkg would run them before unpacking ("install"), then the postinst
 * scripts ("configure") in debootstrap's phases (the essential set, the
 * rest of the required set, the others), each package after its
 * dependencies; then dpkg --configure --pending runs the triggers.
 * Everything else was done natively.
 *
 * Under emulation the scripts are nearly all of a foreign bootstrap's time
 * and each runs on one core, so up to `jobs` run at once where that cannot
 * change the result: after their dependencies, and never beside another
 * script that uses the same registry (maintscript.h), which sees them in
 * install order.  Each script's output reaches the log whole. */
#ifndef XB_SECONDSTAGE_H
#define XB_SECONDSTAGE_H

#include "../pkgset/resolve.h"

struct secondstage {
	const struct xb_pkg *pkgs; /* install order, phase by phase */
	size_t n;
	int log_fd;                /* scripts' output goes here unless verbose; -1: inherit */
	const char *log_name;      /* where the user finds that log, for messages */
	unsigned jobs;             /* scripts at once, at least 1 */
	enum { SECONDSTAGE_ALL, SECONDSTAGE_ESSENTIAL, SECONDSTAGE_REST } part;
	/* ESSENTIAL: the preinsts and the essential set; REST: the others
	 * (an --essential-hook runs between the two). */
	int ready_fd;              /* -1: the tree is unpacked; else the unpack goes on
	                              beside the preinsts and tells here how far it is
	                              (core/dpkg/unpack.h): each preinst starts once the
	                              essential set, debconf, its own package and those
	                              before it are in, those that name dpkg's or apt's
	                              tools once the whole unpack and its database are;
	                              the postinsts after it all */
};

/* The second stage's exit code when the unpack beside it failed (which
 * says why itself). */
#define SECONDSTAGE_UNPACK_FAILED 3

/* Runs inside the chroot (as emu_launch_run's fn): returns 0 or an exit code. */
int secondstage_run(void *ctx);

/* Native preparation and clean-up around it: a policy-rc.d that keeps
 * daemons from starting (written before, removed after). */
int secondstage_prepare(const char *target);
int secondstage_cleanup(const char *target);

#endif
