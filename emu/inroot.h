/* inroot: opening a path of an untrusted tree as if the tree were "/":
 * absolute symlinks and ".." never leave it.  openat2() with
 * RESOLVE_IN_ROOT does this in the kernel (Linux >= 5.6); where it is
 * missing (older kernels, valgrind) the same walk is done here, one
 * component at a time, with O_NOFOLLOW and readlinkat(). */
#ifndef XB_EMU_INROOT_H
#define XB_EMU_INROOT_H

#include "../core/util.h"

/* openat2(rootfd, path, flags | O_CLOEXEC) with RESOLVE_IN_ROOT,
 * RESOLVE_NO_MAGICLINKS and the extra resolve flags (only
 * RESOLVE_NO_SYMLINKS is honoured by the fallback).  "" is the root.
 * Returns the fd or -errno; quiet. */
int emu_inroot_open(int rootfd, const char *path, int flags, uint64_t resolve);

/* The fallback alone, for the tests that compare it with the kernel. */
int emu_inroot_open_walk(int rootfd, const char *path, int flags, uint64_t resolve);

#endif
