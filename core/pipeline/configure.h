/* configure: the second stage as the pipeline runs it — the emulator put
 * into a foreign tree, a policy-rc.d that keeps daemons from starting,
 * the maintainer scripts run in the contained namespaces of emu/launch
 * (core/secondstage), and the --essential-hook between the essential set
 * and the rest; policy-rc.d and the emulator removed once hooks are done. */
#ifndef XB_CONFIGURE_H
#define XB_CONFIGURE_H

#include "plan.h"
#include "../pkgset/resolve.h"

/* Before the unpack: the emulator found and put into a foreign tree (so
 * that a host without one fails before any download), and policy-rc.d.
 * Reports errors. */
int configure_prepare(const struct xb_plan *p, const char *root);

/* Configures pkgs[0..n) (the install order), unpacked in he->root, or
 * being unpacked there and ready_fd telling how far
 * (core/secondstage/secondstage.h; -1: unpacked); the essential hooks run
 * as he says; the scripts' output goes to log_fd (-1: where xboot's goes),
 * which the user finds as log_name.  policy-rc.d and the emulator stay
 * for the customize hooks.  Reports errors, but for the unpack's (then
 * -XB_ECHILD); -XB_EINTR when interrupted. */
int configure_tree(const struct xb_plan *p, const struct hooks_env *he, const struct xb_pkg *pkgs,
                   size_t n, int log_fd, const char *log_name, int ready_fd);

/* Once the customize hooks have run: policy-rc.d gone, and with
 * --remove-emulator the emulator.  Reports errors. */
int configure_done(const struct xb_plan *p, const char *root);

#endif
