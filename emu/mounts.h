/* mounts: the file systems a rootfs gets inside emu_launch_run()'s private
 * mount namespace — /proc, a read-only /sys, a minimal /dev, /run, /tmp,
 * the host's resolv.conf and the caller's binds — each mount point
 * resolved inside the root and refused when it is a symlink. */
#ifndef XB_EMU_MOUNTS_H
#define XB_EMU_MOUNTS_H

#include "launch.h"

/* Mounts everything emu_launch_run() promises under the root.  Needs to run in
 * a new mount namespace with propagation already private.  gid5: gid 5
 * (tty) is mapped, so devpts may give it to new ptys.  Reports errors. */
int emu_mounts_setup(int rootfd, const struct emu_launch_opts *o, bool gid5);

#endif
