/* binfmt: registering emulators for one run only, in the private
 * binfmt_misc instance that Linux >= 6.7 gives each user namespace, and
 * checking the host's entries on older kernels. */
#ifndef XB_EMU_BINFMT_H
#define XB_EMU_BINFMT_H

#include "arch.h"

struct emu_binfmt {
	const struct emu_arch *arch;
	char *emulator; /* host path, opened at registration (F flag) */
};

/* Mounts binfmt_misc at ROOT/proc/sys/fs/binfmt_misc (ROOT's /proc must be
 * mounted; a detached mount is used when that fails) and registers each
 * entry there.  Must run in a new user and mount namespace.  Without
 * private instances, checks that the host has a usable entry for each.
 * Reports errors. */
int emu_binfmt_setup(int rootfd, const char *root, const struct emu_binfmt *v, size_t n);

#endif
