/* vm: the virtual machine of each architecture xboot makes disks for and
 * boots: what the firmware looks for (the removable-media EFI loader's
 * name), the GPT type of the root partition (the Discoverable Partitions
 * Specification's), whether its boards' U-Boot wants an extlinux.conf
 * (distro boot), the serial console of qemu's machine, and the
 * qemu-system binary, machine and firmware (Debian's files and packages). */
#ifndef XB_EMU_VM_H
#define XB_EMU_VM_H

#include "../core/base/util.h"

struct emu_vm {
	const char *deb;          /* "arm64" */
	const char *efi;          /* "aa64": EFI/BOOT/BOOTAA64.EFI, systemd-bootaa64.efi */
	const char *root_type;    /* GPT partition type of its root */
	const char *console;      /* "ttyAMA0": the kernel's console= on qemu's machine */
	const char *qemu;         /* "qemu-system-aarch64" */
	const char *qemu_package; /* "qemu-system-arm" */
	const char *machine;      /* qemu's -machine: "virt" */
	const char *cpu;          /* qemu's -cpu under TCG */
	const char *fw_code, *fw_vars; /* the UEFI firmware (pflash), NULL: none packaged */
	const char *fw_package;
	bool extlinux;            /* boards boot it with U-Boot's distro boot: extlinux.conf */
	const char *uboot;        /* U-Boot for qemu's machine (u-boot-qemu), NULL: none */
	int tcg_cpus;             /* processors under TCG: 1 where a second emulated one
	                             can run code the kernel just patched (x86's text_poke) */
};

/* NULL for an architecture xboot makes no disk for. */
const struct emu_vm *emu_vm_find(const char *deb);
/* The machine whose root partition has the GPT type (lower case), or NULL. */
const struct emu_vm *emu_vm_by_root_type(const char *type);
/* "amd64, arm64, ..." for messages (static). */
const char *emu_vm_names(void);

#endif
