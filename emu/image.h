/* image: what an image file given to enter is (squashfs, ext2/3/4, a tar
 * or cpio of any compression libarchive reads, an OCI layout or its tar),
 * and its tree unpacked into a directory: by unsquashfs and debugfs, by
 * libarchive, OCI layers with their whiteouts.  Nothing it holds lands
 * outside that directory. */
#ifndef XB_EMU_IMAGE_H
#define XB_EMU_IMAGE_H

#include "../core/base/util.h"

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

/* Unpacks the image (of kind; image_fd open on it, a file or an OCI
 * layout's directory; image its path, for messages) into the directory
 * at rootfd, as who calls it: owners, modes, times and xattrs kept, what
 * cannot be made there (device nodes in a user namespace) left out with
 * one warning.  With image_mnt (an fd of the image's attached read-only
 * mount, else -1), a squashfs or ext* image's tool runs in a jail (see
 * jail.h) that holds only it, the image and the tree.  Reports. */
int emu_image_unpack(const char *image, int image_fd, enum emu_image_kind kind, int image_mnt,
                     int rootfd);

#endif
