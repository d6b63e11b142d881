/* dbstate: what configuring a package changes in the dpkg database, for a
 * second stage that runs the postinst scripts itself (see secondstage.h):
 * the package's status, and the triggers its configuration activates.
 * dpkg, run once at the end, incorporates those and runs the trigger
 * scripts.  Paths are relative to rootfd; errors are reported here. */
#ifndef XB_DBSTATE_H
#define XB_DBSTATE_H

#include "../pkgset/resolve.h"

/* The package's stanza in the status file becomes "install ok installed",
 * without the pending triggers that its postinst subsumed. */
int dbstate_mark_installed(int rootfd, const struct xb_pkg *p);

/* Configuring a package activates the triggers its triggers control file
 * names with activate*; dpkg marks an interested package triggers-pending
 * when that one is configured already.  For pkgs[from..to) (pkgs is the
 * install order, which the second stage follows where it matters), appends
 * those activations to triggers/Unincorp, without an awaiting package. */
int dbstate_activate_triggers(int rootfd, const struct xb_pkg *pkgs, size_t n, size_t from,
                              size_t to);

/* What dpkg does with the activations a postinst made (dpkg-trigger):
 * incorporated right after the script, they mark only packages configured
 * by then; one not yet configured will run its postinst instead.  Called
 * after the postinst of pkgs[j], this drops the lines of triggers/Unincorp
 * whose trigger no package before j is interested in. */
int dbstate_drop_early_activations(int rootfd, const struct xb_pkg *pkgs, size_t n, size_t j);

/* "name" or "name:arch" for Multi-Arch: same: how info/ files are named.
 * The caller frees it. */
char *dbstate_info_name(const struct xb_pkg *p);

#endif
