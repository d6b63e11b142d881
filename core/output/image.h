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

/* How a tool is told the time: not at all (the variables that would
 * change its output taken away), E2FSPROGS_FAKE_TIME, or SOURCE_DATE_EPOCH
 * (mtools, mkfs.btrfs), each from o->source_date_epoch when there is one. */
enum image_tool_time { IMAGE_TIME_NONE, IMAGE_TIME_E2FS, IMAGE_TIME_SDE };

/* A tool in PATH or the sbin directories a user's PATH may lack; NULL when
 * none (the caller frees the path). */
char *image_find_tool(const char *name);

/* image_find_tool, or NULL after "writing TARGET: NAME not found; install
 * PACKAGE" is reported. */
char *image_need_tool(const char *target, const char *name, const char *package);

/* Runs argv with stdin in_fd (-2: /dev/null) and stdout on stderr (stdout
 * may be the user's pipe).  With errs, stdout is dropped and stderr lines
 * are collected there instead (debugfs says nothing but errors after its
 * banner, and exits 0 anyway).  A failure is reported, naming target. */
int image_run_tool(struct strvec *argv, const struct output_opts *o, enum image_tool_time t,
                   int in_fd, const char *target, struct strbuf *errs);

/* A UUID (random, or with an epoch >= 0 one that depends only on epoch and
 * salt, so that images of the same tree are equal).  The caller frees it. */
char *image_uuid(long long epoch, unsigned salt);

/* The tree as a file system of type fs ("ext4" or "btrfs") in the file
 * path (an empty file the caller made), with the UUID uuid, *bytes large (0: the tree plus 30 %,
 * in whole MiB; set to the size made).  Messages name target.  Refuses
 * o->map_owner, and a *bytes far below what the tree needs (-ENOSPC). */
int image_make_fs(const char *rootdir, const char *path, const char *fs, const char *uuid,
                  uint64_t *bytes, const char *target, const struct output_opts *o);

#endif
