/* arch: the table of Debian architectures xboot knows: Debian name, qemu
 * name, binfmt_misc magic and mask, and what `uname -m` prints. */
#ifndef XB_EMU_ARCH_H
#define XB_EMU_ARCH_H

#include "../core/base/util.h"

struct emu_arch {
	const char *deb;     /* "armhf" */
	const char *qemu;    /* "arm": qemu-arm-static */
	const char *uname_m; /* "armv7l" */
	const char *magic;   /* binfmt_misc magic, \xNN escaped as the register file takes it */
	const char *mask;
	unsigned char elf_class;  /* ELFCLASS32/64 */
	unsigned char elf_data;   /* ELFDATA2LSB/MSB */
	uint16_t e_machine;
	const char *multilib; /* merged /usr's links besides bin, sbin, lib: "lib32 lib64" */
};

const struct emu_arch *emu_arch_find(const char *deb);
/* The table itself, for listing; *n set to its length. */
const struct emu_arch *emu_arch_all(size_t *n);
/* The host's architecture (as dpkg would name it), from compile-time macros. */
const struct emu_arch *emu_arch_host(void);
/* True when the host kernel runs a's binaries without an emulator. */
bool emu_arch_is_native(const struct emu_arch *a);
/* The architecture of an ELF file, or NULL when unknown/unreadable: path
 * resolved inside the root open at rootfd (its symlinks followed inside
 * it), or as it is when rootfd < 0. */
const struct emu_arch *emu_arch_of_elf(int rootfd, const char *path);
/* The architecture of a rootfs: its /bin/sh's, else dpkg's in its status
 * file; NULL when neither tells. */
const struct emu_arch *emu_arch_of_root(const char *rootdir);

/* The facts of an ELF header xboot looks at; interp (PT_INTERP) is
 * malloc'd, NULL for a static binary; emu_elf_release() frees it. */
struct emu_elf {
	unsigned char cls, data;
	uint16_t machine;
	uint32_t flags;
	char *interp;
};
/* Reads the ELF at fd; -XB_EPARSE when it is not one.  Reports nothing. */
int emu_elf_read(int fd, struct emu_elf *e);
void emu_elf_release(struct emu_elf *e);
#endif
