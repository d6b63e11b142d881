/* overlay: a session's writes kept off what it enters — a tmpfs overlay on
 * a directory (--ephemeral), only /etc and /var writable (--volatile), and
 * an image file (see image.h) under a tmpfs, mounted through its FUSE
 * driver (squashfs, ext2/3/4) or unpacked into the tmpfs.  All
 * of it is mounted in the session's own mount namespace, so it goes with
 * the namespace however the session ends, SIGKILL of xboot included. */
#ifndef XB_EMU_OVERLAY_H
#define XB_EMU_OVERLAY_H

#include "../core/base/util.h"
#include "binfmt.h"
#include "image.h"

/* In the namespace's init, the root mounted at root (*rootfd on it):
 * a tmpfs overlay over it, *rootfd reopened on the overlay.  Reports. */
int emu_overlay_ephemeral(const char *root, int *rootfd);
/* What mounting an image through FUSE needs, made in the new user
 * namespace before its root is taken on (as the host's user, who may open
 * /dev/fuse and reach the image's path), so that the connection belongs
 * to the namespace: /dev/fuse open, and the image on a read-only mount of
 * its own.  err (and what) say why not when dev is -1. */
struct emu_fuse_prep {
	int dev, image, err;
	const char *what; /* what err is about, or NULL for the driver */
	char *driver;     /* the driver's path */
};
#define EMU_FUSE_PREP_INIT { -1, -1, 0, NULL, NULL }
/* For an image of kind whose FUSE driver (squashfuse, fuse2fs) is
 * installed; image its path, image_fd open on it.  Reports nothing: the
 * image is unpacked instead. */
void emu_overlay_fuse_prepare(const char *image, int image_fd, enum emu_image_kind kind,
                              struct emu_fuse_prep *p);
void emu_overlay_fuse_release(struct emu_fuse_prep *p);
/* A tmpfs mounted at root and the image (of kind; image_fd open on it, a
 * file or an OCI layout's directory, opened by the host's user and
 * inherited, so that root of the namespace need not reach its path) in
 * it, as the namespace's root; *rootfd reopened on it.  With p prepared,
 * the image is mounted read-only through its driver under a tmpfs
 * overlay where that works, else unpacked into the tmpfs (p released
 * either way; -v says which).  image is the path, for messages.
 * Reports. */
int emu_overlay_image(const char *image, int image_fd, enum emu_image_kind kind,
                      struct emu_fuse_prep *p, const char *root, int *rootfd);
/* An unpacked image's architecture (its root at rootfd), known only now: a
 * foreign one needs its emulator among bf (the registered ones), else one
 * line names the package to install (-ENOENT). */
int emu_overlay_image_arch(int rootfd, const struct emu_binfmt *bf, size_t n);
/* --volatile, once the root's own mounts are made: its etc and var bound
 * onto themselves writable, the root itself read-only.  Reports. */
int emu_overlay_volatile(const char *root, int rootfd);

#endif
