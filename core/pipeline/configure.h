/* configure: the second stage as the pipeline runs it — the emulator put
 * into a foreign tree, a policy-rc.d that keeps daemons from starting,
 * the maintainer scripts run in the contained namespaces of emu/launch
 * (core/secondstage), and the --essential-hook between the essential set
 * and the rest. */
#ifndef XB_CONFIGURE_H
#define XB_CONFIGURE_H

#include "plan.h"
#include "../pkgset/resolve.h"

/* Configures pkgs[0..n) (the install order), unpacked in root; the
 * scripts' output goes to log_fd (-1: where xboot's goes).  Reports
 * errors; -XB_EINTR when interrupted. */
int configure_tree(const struct xb_plan *p, const char *root, const struct xb_pkg *pkgs,
                   size_t n, int log_fd);

#endif
