/* mounts: the file systems a rootfs gets inside launch_run()'s private
 * mount namespace — /proc, a read-only /sys, a minimal /dev, /run, /tmp,
 * the host's resolv.conf and the caller's binds — each mount point
 * resolved inside the root and refused when it is a symlink. */
#ifndef XB_EMU_MOUNTS_H
#define XB_EMU_MOUNTS_H

#include "launch.h"

/* openat2(rootfd, path, flags|O_CLOEXEC) with RESOLVE_IN_ROOT and
 * RESOLVE_NO_MAGICLINKS; "" is the root itself.  fd or -errno, quiet. */
int emu_open_at_root(int rootfd, const char *path, int flags);

/* Opens ROOT/path as an O_PATH fd to mount on: everything but the last
 * component is resolved inside rootfd (RESOLVE_IN_ROOT), the last must not
 * be a symlink (-XB_EUNSAFE).  A missing last component is created as a
 * directory with mode dir_mode when it is non-zero.  root is for messages.
 * Reports errors. */
int emu_mount_target(int rootfd, const char *root, const char *path, mode_t dir_mode, int *fd);

/* Mounts a filesystem of type on the O_PATH fd; what is for messages. */
int emu_mount_fs(int fd, const char *what, const char *type, unsigned long flags, const char *data);

/* Mounts everything launch_run() promises under the root.  Needs to run in
 * a new mount namespace with propagation already private.  gid5: gid 5
 * (tty) is mapped, so devpts may give it to new ptys.  Reports errors. */
int emu_mounts_setup(int rootfd, const struct launch_opts *o, bool gid5);

#endif
