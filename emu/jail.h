/* jail: a root of its own for a helper program that parses what may be a
 * hostile image (the FUSE driver, unsquashfs, debugfs): a tmpfs with the
 * host's programs read-only (/usr, the /bin and /lib* links or
 * directories, the loader's cache), the image read-only at /image and,
 * for a helper that unpacks, the tree it fills at /dest.  Nothing else of
 * the host's is in it, so a helper the image subverts reaches nothing the
 * session could not. */
#ifndef XB_EMU_JAIL_H
#define XB_EMU_JAIL_H

#include "../core/base/util.h"

/* Made by the namespace's init while it still sees the host: a tmpfs on
 * parentfd's ".xboot-helper" (made here), image (an fd of the image's
 * attached read-only mount) bound at /image, dest (or -1: none) bound
 * writable at /dest, without what is mounted below it.  Its fd, or
 * -errno. */
int emu_jail_make(int parentfd, int image, int dest);
/* In the child that is to exec the helper: a mount namespace of its own,
 * the jail its root (pivot_root); 0 or -errno.  The caller keeps the
 * jail made until the helper has entered it (emu_jail_drop after). */
int emu_jail_enter(int jail);
/* The jail gone from the caller's namespace (an entered helper keeps its
 * copy); *jail is -1 after.  The empty .xboot-helper stays, for the
 * caller to remove where no helper's root is on it. */
void emu_jail_drop(int *jail);
/* prog's path in $PATH, absolute (malloc'd), or NULL. */
char *emu_jail_which(const char *prog);
/* Runs path (found by emu_jail_which; the jail has it where it is under
 * /usr or a /bin, /lib* of the host's) with argv and only PATH in the
 * environment; returns only on failure, with _exit(127). */
__attribute__((noreturn)) void emu_jail_exec(const char *path, char *const *argv);

#endif
