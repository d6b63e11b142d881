/* binfmt: registering emulators for one run only, in the private
 * binfmt_misc instance that Linux >= 6.7 gives each user namespace, and
 * checking the host's entries on older kernels. */
#ifndef XB_EMU_BINFMT_H
#define XB_EMU_BINFMT_H

#include "arch.h"

struct emu_binfmt {
	const struct emu_arch *arch;
	char *emulator; /* host path, opened at registration (F flag) */
	bool root;      /* the root's own architecture (the others: for roots nested in it) */
	bool say;       /* the -v line names it: once a process, as emu_contain_say() */
};

/* Mounts binfmt_misc at ROOT/proc/sys/fs/binfmt_misc (ROOT's /proc must be
 * mounted; a detached mount is used when that fails) and registers each
 * entry there.  Must run in a new user and mount namespace.  Without
 * private instances, checks that the host has a usable entry for the
 * root's own architecture (the others are left to whatever the host has).
 * With -v, one line names the architecture, the emulator and how it is
 * registered, for the entry with say.  Reports errors. */
int emu_binfmt_setup(int rootfd, const char *root, const struct emu_binfmt *v, size_t n);

/* The host's own binfmt_misc, for when no user namespace can be had (xboot
 * running chrooted, as real root), reached through a detached mount that
 * shows in no mount table. */
struct emu_host_binfmt {
	int mntfd;  /* the detached mount, or -1 */
	char *name; /* the entry registered for this run (malloc'd), or NULL */
};
#define EMU_HOST_BINFMT_INIT { -1, NULL }

/* Makes b's architecture run through the host's binfmt_misc: an enabled
 * entry for it whose interpreter exists (on the host with the F flag, else
 * inside root) is reused; otherwise a temporary entry xboot-QEMU-PID with
 * the F flag and b->emulator is registered, which emu_binfmt_host_release()
 * removes.  *how (malloc'd) says which, naming the emulator, for the
 * caller's one message.
 * Reports errors, saying what to install or enable. */
int emu_binfmt_host_setup(const char *root, const struct emu_binfmt *b,
			  struct emu_host_binfmt *h, char **how);
/* Removes the temporary entry, if any, and the mount.  Idempotent. */
void emu_binfmt_host_release(struct emu_host_binfmt *h);

#endif
