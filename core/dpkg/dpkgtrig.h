/* dpkgtrig: var/lib/dpkg/triggers, dpkg's registry of triggers: which
 * packages are interested in which triggers (triggers/File for file
 * triggers, triggers/NAME for explicit ones), written as dpkg's unpack
 * would from each package's triggers control member; and the activations
 * that configuring packages sets off (triggers/Unincorp), which dpkg, run
 * at the end of the second stage, incorporates before running the trigger
 * scripts.  Paths are relative to rootfd; errors are reported here. */
#ifndef XB_DPKGTRIG_H
#define XB_DPKGTRIG_H

#include "debinfo.h"
#include "../pkgset/resolve.h"

/* The interest files of triggers/ in memory.  Start from DPKGTRIG_INIT,
 * fill with dpkgtrig_load(); dpkgtrig_release() frees. */
struct dpkgtrig_file;
struct dpkgtrig {
	struct dpkgtrig_file *f;
	size_t n, alloc;
};
#define DPKGTRIG_INIT { NULL, 0, 0 }
int dpkgtrig_load(int rootfd, struct dpkgtrig *ts);
void dpkgtrig_release(struct dpkgtrig *ts);

/* The unpacked packages' interests replace what the registry held for
 * them; the files that changed are written. */
int dpkgtrig_add_interests(int rootfd, struct dpkgtrig *ts, const struct debinfo *pkgs, size_t n);

/* Configuring a package activates the triggers its triggers control file
 * names with activate*; dpkg marks an interested package triggers-pending
 * when that one is configured already.  For pkgs[from..to) (pkgs is the
 * install order, which the second stage follows where it matters), appends
 * those activations to triggers/Unincorp, without an awaiting package. */
int dpkgtrig_activate(int rootfd, const struct dpkgtrig *ts, const struct xb_pkg *pkgs, size_t n,
                      size_t from, size_t to);

/* What dpkg does with the activations a postinst made (dpkg-trigger):
 * incorporated right after the script, they mark only packages configured
 * by then; one not yet configured will run its postinst instead.  Called
 * after the postinst of pkgs[j], this drops the lines of triggers/Unincorp
 * whose trigger no package before j is interested in. */
int dpkgtrig_drop_early(int rootfd, const struct dpkgtrig *ts, const struct xb_pkg *pkgs, size_t n,
                        size_t j);

#endif
