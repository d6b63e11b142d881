/* bootable: what makes a tree a machine that boots and that one can log
 * in to.  Logins: --root-password-file (hashed with yescrypt into
 * /etc/shadow) and --ssh-key (root's authorized_keys); never a password
 * of xboot's.  Disks: the identifiers (derived from SOURCE_DATE_EPOCH
 * when set), /etc/fstab by UUID where the tree still has Debian's
 * unconfigured one, and the EFI system partition's files staged on the
 * host: systemd-boot as the firmware's removable-media loader, a Boot
 * Loader Specification entry for the newest kernel of /boot with its
 * initrd, root=UUID= and the machine's serial console.  Every path of the
 * tree is resolved inside it (core/base/inroot). */
#ifndef XB_BOOTABLE_H
#define XB_BOOTABLE_H

#include "plan.h"

/* Root's password and ssh keys, as p says; nothing when it says none. */
int bootable_login(const struct xb_plan *p, const char *root);

/* A disk's layout, filled by bootable_disk(); bootable_release() frees it. */
struct bootable {
	struct output_disk disk;    /* its strings point into the fields below */
	char *esp_dir, *ids[5];     /* disk, ESP, root partition, root fs, FAT serial */
};

/* What a disk is made of besides the tree. */
struct bootable_in {
	const struct emu_vm *vm;
	long long epoch;            /* SOURCE_DATE_EPOCH, or -1 */
	const char *root_fs;        /* NULL: ext4 */
	uint64_t bytes;             /* the disk's size; 0: from the tree */
	const char *target;         /* for messages */
	const char *title;          /* the loader entry's: the suite */
	bool fstab;                 /* write /etc/fstab (else root is mounted rw by the
	                               kernel, and the tree is only read, unless epoch) */
};

/* Prepares root for a disk image and stages its ESP in workdir/esp.  A
 * tree without a kernel or without the loader gets a warning: the disk is
 * made, and will not boot.  bootable_disk() takes it all from the plan. */
int bootable_disk_of(const struct bootable_in *in, const char *root, const char *workdir,
                     struct bootable *b);
int bootable_disk(const struct xb_plan *p, const char *root, const char *workdir,
                  struct bootable *b);
void bootable_release(struct bootable *b);

#endif
