/* hooks: the user's commands run on the host at fixed points of a
 * bootstrap, as mmdebstrap users know them: --setup-hook (the empty tree,
 * before anything is downloaded), --extract-hook (everything unpacked,
 * nothing configured), --essential-hook (the essential set configured),
 * --customize-hook (all done, before the tree becomes an archive), and
 * --hook-dir.  A hook is a shell command with the tree as $1, or one of
 * the special forms copy-in, copy-out, sync-in and sync-out. */
#ifndef XB_HOOKS_H
#define XB_HOOKS_H

#include "../base/util.h"

enum hook_kind { HOOK_SETUP, HOOK_EXTRACT, HOOK_ESSENTIAL, HOOK_CUSTOMIZE, HOOK_NKINDS };

struct hooks {
	struct strvec cmds[HOOK_NKINDS]; /* in the order given */
	struct strvec dirs;              /* --hook-dir, in the order given */
};

bool hooks_any(const struct hooks *h, enum hook_kind k);
void hooks_release(struct hooks *h);

/* Runs the hooks of kind k on target, each to its end; the first that
 * fails stops the run with one error naming it and its exit status
 * (-XB_ECHILD).  Hook directories' executables named KIND* run after the
 * commands, in name order, each as `FILE TARGET`. */
int hooks_run(const struct hooks *h, enum hook_kind k, const char *target);

#endif
