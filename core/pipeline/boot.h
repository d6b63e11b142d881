/* boot: `xboot boot IMAGE|DIR [-- CMD...]`: a disk image (core/output/disk's
 * GPT, an ESP with a loader and a kernel; for a directory, one made of it
 * in the work directory, the tree only read) booted under qemu-system of its
 * architecture (emu/vm) with Debian's UEFI firmware (or, for armhf, its
 * U-Boot, which boots the ESP's extlinux.conf as a board does), under KVM where the
 * host's architecture matches and a probe guest really runs (a kernel of
 * the image must print its banner), under TCG otherwise.  Without CMD the
 * serial console is the terminal.  With CMD, the console goes to a log
 * and a line of progress is shown; CMD is a script on a small disk of its
 * own, started by a systemd.run= that reaches the guest's systemd-boot as
 * SMBIOS io.systemd.boot.kernel-cmdline-extra (the image is not changed
 * for it), runs once the system is up (systemctl
 * is-system-running --wait), its output comes back through a virtio
 * console, and the guest powers off; the exit status is CMD's.  qemu is
 * this process's child and dies with it (PR_SET_PDEATHSIG), SIGKILL
 * included. */
#ifndef XB_BOOT_H
#define XB_BOOT_H

#include "../base/util.h"

enum boot_accel { BOOT_ACCEL_AUTO, BOOT_ACCEL_KVM, BOOT_ACCEL_TCG };

struct boot_opts {
	const char *image;
	const char *arch;       /* NULL: from the root partition's GPT type */
	struct strvec argv;     /* CMD; empty: the console on the terminal */
	long timeout;           /* seconds; 0: none */
	long memory;            /* MiB */
	long cpus;              /* 0: min(2, the host's) */
	bool net_none;          /* --network=none */
	bool uboot;             /* --firmware=u-boot: U-Boot's distro boot, no CMD */
	enum boot_accel accel;
};
#define BOOT_OPTS_INIT { NULL, NULL, STRVEC_INIT, 0, 1024, 0, false, false, BOOT_ACCEL_AUTO }

/* Boots; *code gets CMD's exit status (or qemu's without CMD).  Errors
 * (no kernel, no firmware, a timeout, a guest that stopped before CMD
 * ran: the console's last lines) are reported; -ETIMEDOUT for the
 * timeout. */
int boot_run(const struct boot_opts *o, int *code);
void boot_opts_release(struct boot_opts *o);

#endif
