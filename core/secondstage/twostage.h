/* twostage: debootstrap's --foreign.  The first stage does all the native
 * work; instead of running the maintainer scripts it leaves in the tree a
 * second stage that runs on the board itself, with the tree's own shell and
 * dpkg and no xboot or emulator: /debootstrap/debootstrap --second-stage,
 * the command board builders' scripts already call.  It runs what
 * secondstage.h runs, in the same order: the preinsts as dpkg runs them for
 * a new install, then dpkg configures debootstrap's phases one after the
 * other (essential, required, the rest), then the triggers; then the
 * clean-up the first stage would have made after its own second stage. */
#ifndef XB_TWOSTAGE_H
#define XB_TWOSTAGE_H

#include "../pkgset/resolve.h"

#define TWOSTAGE_DIR "debootstrap"

/* Writes TARGET/debootstrap/ (the script, the package list in install
 * order, its settings) for pkgs[0..n); the paths in remove (relative to
 * the root) are removed once the scripts have run.  Errors are reported. */
int twostage_write(const char *target, const struct xb_pkg *pkgs, size_t n,
                   const struct strvec *remove);

#endif
