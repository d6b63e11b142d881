/* arch: the architectures qemu-user runs (the table is data, in
 * emu/archtab.c): Debian and qemu names, binfmt_misc magic and mask, what
 * `uname -m` prints; which of them xboot bootstraps; and telling the
 * architecture of an ELF file or of a whole rootfs. */
#ifndef XB_EMU_ARCH_H
#define XB_EMU_ARCH_H

#include "../core/base/util.h"

struct emu_arch {
	const char *deb;     /* Debian's (or debian-ports') name, "armhf"; qemu's where there is none */
	const char *qemu;    /* "arm": qemu-arm-static */
	const char *uname_m; /* "armv7l" */
	const char *magic;   /* binfmt_misc magic, \xNN escaped as the register file takes it: qemu's */
	const char *mask;
	unsigned char elf_class;  /* ELFCLASS32/64 */
	unsigned char elf_data;   /* ELFDATA2LSB/MSB */
	uint16_t e_machine;
	const char *multilib; /* merged /usr's links besides bin, sbin, lib: "lib32 lib64" */
	bool bootstrap;       /* xboot makes trees of it (emu_arch_find, emu_arch_all) */
};

/* The architectures xboot bootstraps, by Debian name; NULL for any other. */
const struct emu_arch *emu_arch_find(const char *deb);
/* Those, for listing and checking; *n set to their number. */
const struct emu_arch *emu_arch_all(size_t *n);
/* Every qemu-user target, those first; *n set to their number. */
const struct emu_arch *emu_arch_targets(size_t *n);
/* A target by Debian or qemu name ("powerpc" or "ppc"); NULL when none. */
const struct emu_arch *emu_arch_by_name(const char *name);
/* `enter --arch=NAME`: emu_arch_by_name(), else one line naming the known
 * names and -XB_EUSAGE. */
int emu_arch_named(const char *name, const struct emu_arch **a);
/* A magic or mask of the table as bytes, at most max of them; their number. */
size_t emu_arch_bytes(const char *escaped, unsigned char *out, size_t max);

/* The host's architecture (as dpkg would name it), from compile-time macros. */
const struct emu_arch *emu_arch_host(void);
/* True when the host kernel runs a's binaries without an emulator. */
bool emu_arch_is_native(const struct emu_arch *a);
/* The architecture of an ELF file, or NULL when unknown/unreadable: path
 * resolved inside the root open at rootfd (its symlinks followed inside
 * it), or as it is when rootfd < 0. */
const struct emu_arch *emu_arch_of_elf(int rootfd, const char *path);
/* The architecture of a rootfs: the ELF header of its /bin/sh, else of
 * /bin/busybox or /sbin/init, else dpkg's in its status file, else the
 * ELF header of the first program in bin, sbin, usr/bin or usr/sbin; every
 * path resolved inside the root.  *a is NULL when nothing tells (the tree
 * runs natively).  -XB_EARCH, reported, when the ELF that tells is of no
 * architecture qemu-user runs. */
int emu_arch_detect(const char *rootdir, const struct emu_arch **a);
/* The same without messages: NULL where emu_arch_detect() fails too. */
const struct emu_arch *emu_arch_of_root(const char *rootdir);

/* The facts of an ELF header xboot looks at; interp (PT_INTERP) is
 * malloc'd, NULL for a static binary; emu_elf_release() frees it. */
struct emu_elf {
	unsigned char head[64]; /* the file's first bytes, for binfmt's magic */
	unsigned char cls, data;
	uint16_t type, machine;
	uint32_t flags;
	char *interp;
};
/* Reads the ELF at fd; -XB_EPARSE when it is not one.  Reports nothing. */
int emu_elf_read(int fd, struct emu_elf *e);
void emu_elf_release(struct emu_elf *e);
/* The target whose magic and mask e's header matches, as binfmt_misc
 * matches it, with armhf and armel (one magic) told apart; NULL for none. */
const struct emu_arch *emu_arch_of_header(const struct emu_elf *e);
#endif
