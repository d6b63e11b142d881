/* bootdisk: what a disk image holds for `xboot boot`: its machine (from
 * the root partition's GPT type, emu/vm), and on its EFI system partition
 * (read with mtools, never mounted) the kernel its loader would start,
 * copied out for the KVM probe, and that loader: systemd-boot (256 or
 * later when a command rides on its SMBIOS string) or, for U-Boot, the
 * ESP's extlinux.conf. */
#ifndef XB_BOOTDISK_H
#define XB_BOOTDISK_H

#include "../base/util.h"

struct emu_vm;

struct bootdisk {
	const char *path;          /* the disk image */
	const char *name;          /* what messages call it: the user's IMAGE */
	const char *arch;          /* --arch, or NULL */
	const char *work;          /* a directory for the loader's copy */
	const char *kernel;        /* where the kernel is copied */
	bool uboot, cmd;           /* --firmware=u-boot; a command will run */
	const struct emu_vm *vm;   /* in: known already, or NULL; out: the machine */
	char *esp;                 /* out: PATH@@OFFSET, as mtools takes it */
};

/* Fills vm and esp and copies the kernel out; what is missing (a GPT, an
 * ESP, a kernel, the loader, mtools) is reported, naming d->name. */
int bootdisk_inspect(struct bootdisk *d);
void bootdisk_release(struct bootdisk *d);

#endif
