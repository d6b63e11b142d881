/* image: squashfs and ext4 images of a root tree, made by spawning
 * mksquashfs (squashfs-tools) and mke2fs (e2fsprogs) after a walk of the
 * tree (walk.h) that sizes an ext4 image and lists the device nodes, FIFOs
 * and sockets to leave out: by mksquashfs -ef, and by debugfs after
 * mke2fs -d.  output.c calls it; what images promise is said in output.h. */
#ifndef XB_IMAGE_H
#define XB_IMAGE_H

#include "output.h"

/* Writes the tree at rootdir to the file target as an image of format f
 * (OUTPUT_SQUASHFS or OUTPUT_EXT4), through a temporary file (core/base/outfile).
 * Refuses target "-" and o->map_owner.  Errors are reported once; returns
 * 0 or a negative code (-ENOENT with the package to install when the tool
 * is missing). */
int image_write(const char *rootdir, const char *target, enum output_format f,
                const struct output_opts *o);

#endif
