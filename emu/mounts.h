/* mounts: the file systems a rootfs gets inside emu_launch_run()'s private
 * mount namespace — the root itself (nodev), /proc and /sys with the
 * masks of runc and nspawn (read-only /proc/sys, sysrq-trigger, irq, bus,
 * fs; hidden kcore, keys, timer_list and the like; read-only /sys), a
 * minimal /dev, /run, /tmp, the host's resolv.conf and the caller's binds
 * (nosuid, nodev) — each mount point resolved inside the root and refused
 * when it is a symlink. */
#ifndef XB_EMU_MOUNTS_H
#define XB_EMU_MOUNTS_H

#include "launch.h"

/* Makes root a mount of its own, on which the rest goes: the detached
 * idmapped tree of emu/contain when tree_fd >= 0, else a bind of root onto
 * itself; *rootfd gets an O_PATH fd of it.  Reports errors. */
int emu_mounts_root(const char *root, int tree_fd, int *rootfd);

/* Mounts everything emu_launch_run() promises under the root.  Needs to run in
 * a new mount namespace with propagation already private.  bind_fd: NULL,
 * or the binds' sources (emu_contain's bind_fd).  gid5: gid 5 (tty) is
 * mapped, so devpts may give it to new ptys.  Reports errors. */
int emu_mounts_setup(int rootfd, const struct emu_launch_opts *o, const int *bind_fd, bool gid5);

/* With the host's file system in view (emu_launch_opts.host_view): the
 * host's /proc covered by one of the new PID namespace, masked as the
 * root's is.  Reports errors. */
int emu_mounts_host_proc(void);

/* The SRC of a bind's "SRC[:DST]"; the caller frees it. */
char *emu_mounts_bind_src(const char *spec);

#endif
