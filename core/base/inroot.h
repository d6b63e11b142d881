/* inroot: paths of an untrusted tree opened as if the tree were "/":
 * absolute symlinks and ".." never leave it.  openat2() with
 * RESOLVE_IN_ROOT does this in the kernel (Linux >= 5.6); where it is
 * missing (older kernels, valgrind) the same walk is done here, one
 * component at a time, with O_NOFOLLOW and readlinkat().  Every host-side
 * open, mkdir or mount point inside a tree that a .deb, a script or a
 * rootfs given to `enter` could have planted symlinks in goes through here.
 * Nothing here reports: the caller knows what the path is for. */
#ifndef XB_INROOT_H
#define XB_INROOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct strbuf;

/* openat2(rootfd, path, flags | O_CLOEXEC) with RESOLVE_IN_ROOT,
 * RESOLVE_NO_MAGICLINKS and the extra resolve flags (only
 * RESOLVE_NO_SYMLINKS is honoured by the fallback).  "" is the root.
 * Returns the fd or -errno. */
int inroot_open(int rootfd, const char *path, int flags, uint64_t resolve);

/* The fallback alone, for the tests that compare it with the kernel. */
int inroot_open_walk(int rootfd, const char *path, int flags, uint64_t resolve);

/* Splits path into the directory that holds its last component and that
 * component: returns an O_PATH fd of the directory, resolved inside the
 * root (its missing directories created, mode 0755, when make_parents),
 * and sets *last (malloc'd, the caller frees it) to the last component,
 * trailing slashes dropped.  A path with no usable last component ("",
 * "/", one ending in "." or "..") is -EINVAL. */
int inroot_parent(int rootfd, const char *path, bool make_parents, char **last);

/* mkdir -p of dir inside the root, each component resolved inside it. */
int inroot_mkdir_p(int rootfd, const char *dir, mode_t mode);

/* Reads the regular file path inside the root into sb (appends), at most
 * max bytes: -EFBIG when it is larger; -EINVAL when it is no regular file
 * (a FIFO or a device there neither blocks nor feeds this process). */
int inroot_read_file(int rootfd, const char *path, size_t max, struct strbuf *sb);
/* Opens the regular file path inside the root for reading; -EINVAL when
 * it is something else. */
int inroot_open_regular(int rootfd, const char *path);

/* The writes of fileio.h with path resolved inside the root: its
 * directories (made when missing) inside it, the last component never
 * followed (a symlink there is replaced, or removed, not written through). */
int inroot_write_file(int rootfd, const char *path, const void *data, size_t len, mode_t mode);
/* Removes path (a missing one is no error). */
int inroot_unlink(int rootfd, const char *path);
/* rm -rf of path, never leaving its file system. */
int inroot_rm_rf(int rootfd, const char *path);

#endif
