/* finish: the files a bootstrapped system gets once the second stage is
 * done, as debootstrap and mmdebstrap users expect them: apt sources, the
 * host's hostname and resolv.conf, fstab, what apt and dpkg leave (their
 * locks, dpkg's arch, apt's marks of automatic installs), an empty
 * machine-id where a package made one; then, once the hooks have run, no
 * apt lists or caches, and none of the logs mmdebstrap removes. */
#ifndef XB_FINISH_H
#define XB_FINISH_H

#include "plan.h"
#include "../pkgset/resolve.h"

/* The files above, into the tree at root (sources.list from src; NULL:
 * the one a setup hook wrote stays), before the customize hooks.
 * Reports errors. */
int finish_tree(const struct xb_plan *p, const struct fetch_sources *src, const char *root);

/* After the customize hooks, mmdebstrap's clean-up, each step unless
 * --skip turned it off: apt's lists and caches emptied, /tmp emptied, the
 * logs with times removed; with SOURCE_DATE_EPOCH also what makes the
 * tree reproducible (no logs, no backups of the account files, password
 * ages from the epoch).  Reports errors. */
int finish_cleanup(const struct xb_plan *p, const char *root);
/* The paths of that clean-up that maintainer scripts write, for a second
 * stage run later (--foreign) to remove: appended to out. */
void finish_after_scripts(const struct xb_plan *p, struct strvec *out);

/* var/lib/apt/extended_states as mmdebstrap's trees have it: where apt
 * installs a variant that selects by priority after the essential set,
 * the packages outside that set that only came as dependencies are marked
 * Auto-Installed (sorted by name).  Reports errors. */
int finish_apt_states(const struct xb_plan *p, const char *root, const struct xb_pkg *pkgs,
                      size_t n);

#endif
