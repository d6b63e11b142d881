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
/* A tmpfs mounted at root and the image (of kind; image_fd open on it, a
 * file or an OCI layout's directory, opened by the host's user and
 * inherited, so that root of the namespace need not reach its path) in
 * it, as the namespace's root; *rootfd reopened on it.  With *fuse_fd
 * (from emu_overlay_fuse_open, else -1; closed here, -1 afterwards) the
 * image is mounted read-only through its driver under a tmpfs overlay,
 * else unpacked into the tmpfs.
 * image is the path, for messages.  Reports. */
int emu_overlay_image(const char *image, int image_fd, enum emu_image_kind kind, int *fuse_fd,
                      const char *root, int *rootfd);
/* /dev/fuse opened for an image of kind whose FUSE driver (squashfuse,
 * fuse2fs) is installed: its fd (close-on-exec), or -errno.  Called in
 * the new user namespace before its root is taken on (as the host's
 * user, who may open /dev/fuse), so that the connection belongs to the
 * namespace.  Given to emu_overlay_image, the image is mounted through
 * the driver rather than unpacked, where the driver can. */
int emu_overlay_fuse_open(enum emu_image_kind kind);
/* An unpacked image's architecture (its root at rootfd), known only now: a
 * foreign one needs its emulator among bf (the registered ones), else one
 * line names the package to install (-ENOENT). */
int emu_overlay_image_arch(int rootfd, const struct emu_binfmt *bf, size_t n);
/* --volatile, once the root's own mounts are made: its etc and var bound
 * onto themselves writable, the root itself read-only.  Reports. */
int emu_overlay_volatile(const char *root, int rootfd);

#endif
