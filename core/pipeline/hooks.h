/* hooks: the user's commands at fixed points of a bootstrap, as
 * mmdebstrap users know them: --setup-hook (the empty tree, before
 * anything is downloaded), --extract-hook (everything unpacked, nothing
 * configured), --essential-hook (the essential set configured),
 * --customize-hook (all done, before the clean-up and the archive), and
 * --hook-dir.  A hook is a shell command with the tree as $1, one of the
 * special forms (copy-in, copy-out, sync-in, sync-out, tar-in, tar-out,
 * upload, download), which xboot runs itself, or with --chrooted-*-hook
 * a shell command run inside the tree.
 *
 * Commands run contained, as the second stage does (emu/launch): in new
 * namespaces where root is the tree's root and no host root, the tree
 * with its /proc, /sys, /dev, and for a foreign tree the emulator in a
 * private binfmt_misc, so that `chroot "$1" CMD` runs CMD; they see the
 * host's files with the permissions that root of the tree has there: an
 * unprivileged user's, so a hook reads root-only host files only through
 * the special forms.  $1 is the tree's absolute path, or where that leads
 * through a directory only the host's root may enter, another path where
 * the same tree is mounted. */
#ifndef XB_HOOKS_H
#define XB_HOOKS_H

#include "../base/util.h"
#include "../../emu/arch.h"

enum hook_kind { HOOK_SETUP, HOOK_EXTRACT, HOOK_ESSENTIAL, HOOK_CUSTOMIZE, HOOK_NKINDS };

/* A command of cmds[] that starts with this byte is a --chrooted-*-hook. */
#define HOOK_CHROOTED '\x01'

struct hooks {
	struct strvec cmds[HOOK_NKINDS]; /* in the order given */
	struct strvec dirs;              /* --hook-dir, in the order given */
};

/* Where and how hooks run: what mmdebstrap tells its hooks. */
struct hooks_env {
	const char *root;             /* the tree, absolute */
	const struct emu_arch *arch;  /* the tree's architecture; NULL: the host's */
	const char *mode;             /* "root" or "unshare" */
	const char *format;           /* the output's --format name */
	const char *arch_name;        /* its Debian name */
	const char *workdir;          /* the run's host directory (apt.conf goes there where
	                                 the sandbox has no directory of its own) */
};

bool hooks_any(const struct hooks *h, enum hook_kind k);
/* Whether a hook of kind k is a special form that copies host files in. */
bool hooks_read_host(const struct hooks *h, enum hook_kind k);
void hooks_release(struct hooks *h);

/* Runs the hooks of kind k, each to its end; the first that fails stops
 * the run with one error naming it and its exit status (-XB_ECHILD).
 * Hook directories' executables named KIND* run after the commands, in
 * name order, each as `FILE TARGET`. */
int hooks_run(const struct hooks *h, enum hook_kind k, const struct hooks_env *env);

#endif
