/* overlay: a session's writes kept off what it enters — a tmpfs overlay on
 * a directory (--ephemeral), only /etc and /var writable (--volatile), and
 * an image file (squashfs, ext2/3/4, a tar or cpio of any compression
 * libarchive reads, an OCI layout or its tar) unpacked into a tmpfs.  All
 * of it is mounted in the session's own mount namespace, so it goes with
 * the namespace however the session ends, SIGKILL of xboot included. */
#ifndef XB_EMU_OVERLAY_H
#define XB_EMU_OVERLAY_H

#include "../core/base/util.h"
#include "binfmt.h"

enum emu_image_kind {
	EMU_IMAGE_NONE,     /* a directory that is a root file system */
	EMU_IMAGE_SQUASHFS,
	EMU_IMAGE_EXT,      /* ext2, ext3 or ext4 */
	EMU_IMAGE_ARCHIVE,  /* tar or cpio, compressed or not */
	EMU_IMAGE_OCI,      /* an OCI image layout: a directory or its tar */
};

/* What path is, by its content (magic numbers, an OCI layout's files).
 * Reports: -errno when it cannot be opened, -XB_EUSAGE for a file that is
 * none of these. */
int emu_image_kind(const char *path, enum emu_image_kind *kind);

/* In the namespace's init, the root mounted at root (*rootfd on it):
 * a tmpfs overlay over it, *rootfd reopened on the overlay.  Reports. */
int emu_overlay_ephemeral(const char *root, int *rootfd);
/* A tmpfs mounted at root and the image (of kind; image_fd open on it, a
 * file or an OCI layout's directory, opened by the host's user and
 * inherited, so that root of the namespace need not reach its path)
 * unpacked into it, as the namespace's root; *rootfd reopened on it.
 * image is the path, for messages.  Reports. */
int emu_overlay_image(const char *image, int image_fd, enum emu_image_kind kind, const char *root,
                      int *rootfd);
/* An unpacked image's architecture (its root at rootfd), known only now: a
 * foreign one needs its emulator among bf (the registered ones), else one
 * line names the package to install (-ENOENT). */
int emu_overlay_image_arch(int rootfd, const struct emu_binfmt *bf, size_t n);
/* --volatile, once the root's own mounts are made: its etc and var bound
 * onto themselves writable, the root itself read-only.  Reports. */
int emu_overlay_volatile(const char *root, int rootfd);

#endif
