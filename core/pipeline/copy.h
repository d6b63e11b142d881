/* copy: files from the host into a tree, as the copy-in and sync-in hooks
 * ask, without trusting what the tree holds: the host's files are read
 * here with libarchive and streamed as a tar through a pipe to a child
 * chrooted into the tree, which writes them there (as core/dpkg/unpack
 * does), so every path written, through whatever symlinks a package or a
 * script planted, resolves inside the tree.  Owners, modes, times and
 * extended attributes are kept, as cp -a keeps them. */
#ifndef XB_COPY_H
#define XB_COPY_H

#include "../base/util.h"

/* Copies srcs[0..n) into the tree at root: into the directory dst when
 * contents is false (each as itself, like cp -a SRC... DST; a single
 * source may be given dst's name when dst does not exist), or the
 * contents of the one directory srcs[0] into dst, which is made when
 * missing (sync-in).  what names the hook in messages.  Reports errors. */
int copy_into_tree(const char *root, char *const *srcs, size_t n, const char *dst, bool contents,
                   const char *what);

/* tar-in: the tarball's entries (any compression libarchive reads) into
 * the tree's directory dst, made when missing, by the same writer.
 * Reports errors. */
int copy_tar_into_tree(const char *root, const char *tarball, const char *dst, const char *what);

#endif
