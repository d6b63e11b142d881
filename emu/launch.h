/* launch: running native code and programs inside a rootfs, foreign or
 * native, in private namespaces, so that nothing leaks onto the host.
 *
 * emu_launch_run() decides first how root inside is kept from the host
 * (emu/contain: an unprivileged id range and an idmapped tree when xboot is
 * the host's root), then forks a child into new user (when it can be had),
 * mount, PID, UTS and IPC namespaces (mount propagation made private
 * before anything is mounted), with PR_SET_PDEATHSIG so that SIGKILL of
 * xboot takes the whole namespace down.  The child's child is PID 1 of the
 * namespace; it mounts the root (nodev), /proc and /sys with their masks, a
 * minimal /dev, /run and /tmp tmpfs, optionally the host's resolv.conf and
 * the caller's binds (emu/mounts), each mount target resolved inside the
 * root and refused when it does not resolve inside; registers the
 * emulator(s) in a private binfmt_misc instance (kernel >= 6.7, F flag, so
 * the emulator need not be inside the root), falling back to the host's
 * entry; makes the root "/" with pivot_root (or, for host_view, leaves
 * the host's "/" with the prepared root at its path) (so that programs inside may
 * create user namespaces); locks the mounts in a user namespace of the
 * command's own; optionally loads the seccomp filter; bounds the
 * capabilities (emu/caps); closes every fd above 2; and calls fn(ctx),
 * whose return value becomes the exit code.
 *
 * Where no user namespace can be made (xboot itself chrooted: the kernel
 * refuses CLONE_NEWUSER) and xboot is root, the same namespaces are made
 * without one, and a foreign root runs through the host's binfmt_misc: an
 * enabled entry for it, or a temporary one that the parent removes after
 * the namespace is gone.  One message says which was used. */
#ifndef XB_EMU_LAUNCH_H
#define XB_EMU_LAUNCH_H

#include "arch.h"

struct emu_launch_opts {
	const char *root;             /* the rootfs directory */
	const struct emu_arch *arch;  /* the root's architecture; NULL: native */
	bool all_emulators;           /* also register every emulator installed on the host */
	bool net_none;                /* new network namespace with lo up */
	bool resolv_conf;             /* bind the host's resolv.conf read-only */
	bool seccomp;                 /* load the host-protection filter before fn */
	bool keep_tmp;                /* don't mount tmpfs on /tmp (second stage) */
	const char *hostname;         /* NULL: from ROOT/etc/hostname, else "xboot" */
	const struct strvec *binds;   /* "SRC[:DST]" read-write binds; may be NULL */
	const struct strvec *ro_binds;/* read-only binds; may be NULL */
	bool kill_on_signal;          /* SIGINT/TERM/HUP to xboot kill the namespace */
	bool host_view;               /* fn sees the host's "/" (no pivot_root), the root
	                                 prepared at its own path, /proc the namespace's:
	                                 for hooks, which chroot into the root themselves */
	uint64_t caps_add, caps_drop; /* 1 << CAP_*: --capability, --drop-capability */
	bool ephemeral;               /* writes to a tmpfs overlay over root (emu/overlay) */
	bool volatile_;               /* only etc and var writable, the rest read-only */
	const char *image;            /* an image file (or OCI layout) unpacked into a
	                                 tmpfs at root, an empty directory; NULL: none */
	int image_kind;               /* enum emu_image_kind of image */
};
#define EMU_LAUNCH_OPTS_INIT { .root = NULL }

/* In fn, with host_view: the path of the root as fn sees it: o->root, or
 * where a directory on the way is the host root's alone, EMU_LAUNCH_ALIAS
 * (mounted in the namespace only); and a directory fn may write and the
 * namespace's root reach (a tmpfs on EMU_LAUNCH_SCRATCH), or NULL where
 * there could be none (xboot no host root). */
extern const char *emu_launch_root_path;
extern const char *emu_launch_scratch;
#define EMU_LAUNCH_SCRATCH "/run/xboot"
#define EMU_LAUNCH_ALIAS EMU_LAUNCH_SCRATCH "/root"

/* Runs fn(ctx) inside the prepared root.  Returns 0 and sets *code to fn's
 * result (or 128+N when the namespace's init was killed by signal N), or a
 * negative error when the set-up failed (reported once). */
int emu_launch_run(const struct emu_launch_opts *o, int (*fn)(void *ctx), void *ctx, int *code);

#endif
