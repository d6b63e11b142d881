/* disk: a raw GPT disk image made from a root tree, with no loop device
 * and no privilege: the EFI system partition is a FAT file system made by
 * mkfs.fat and filled by mtools (mcopy) from a directory on the host, the
 * root partition a file system made by image.h from the tree, the
 * partition table written by sfdisk into the image file, and both
 * partitions copied in at their offsets, holes kept.  What goes into the
 * ESP, and every identifier, is output_disk's (core/pipeline/machine).
 * With an epoch, the same tree and identifiers give the same bytes. */
#ifndef XB_DISK_H
#define XB_DISK_H

#include "output.h"

/* Writes the disk of rootdir to the file target (through a temporary
 * file, core/base/outfile), as o->disk says.  Errors are reported; a
 * missing tool names its package. */
int disk_write(const char *rootdir, const char *target, const struct output_opts *o);

/* The EFI system partition's GPT type (compared without case: sfdisk
 * prints GUIDs in upper case, disk_partitions in lower). */
#define DISK_ESP_TYPE "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"

/* A partition of a GPT disk: its type as a lower-case GUID string, and
 * where it is in bytes. */
struct disk_part {
	char type[37];
	uint64_t offset, bytes;
};

/* Reads the GPT of the disk image at path into parts (at most max of
 * them, *n set): -XB_EPARSE for a file with no GPT (reported). */
int disk_partitions(const char *path, struct disk_part *parts, size_t max, size_t *n);

#endif
