/* archtab: the rows of emu/arch.h's table, and nothing else. */
#include "archtab.h"

#include <elf.h>

/* Magic and mask as binfmt_misc's register file takes them, qemu's own
 * (Debian's /usr/lib/binfmt.d/qemu-*.conf; qemu's qemu-binfmt-conf.sh for
 * the targets Debian registers no entry for): the first 20 bytes of an ELF
 * header, e_ident then e_type and e_machine.  The masks let ET_EXEC and
 * ET_DYN through, and ignore EI_OSABI (some, only its upper bits). */
#define IDENT(cls, data) "\\x7f\\x45\\x4c\\x46\\x" cls "\\x" data "\\x01\\x00" \
	"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00"
#define LE32 IDENT("01", "01") "\\x02\\x00" /* e_type, then e_machine in that order */
#define BE32 IDENT("01", "02") "\\x00\\x02"
#define LE64 IDENT("02", "01") "\\x02\\x00"
#define BE64 IDENT("02", "02") "\\x00\\x02"
#define FF8 "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff"
#define ID7 "\\xff\\xff\\xff\\xff\\xff\\xff\\xff"
#define M_LE ID7 "\\x00" FF8 "\\xfe\\xff\\xff\\xff"
#define M_BE ID7 "\\x00" FF8 "\\xff\\xfe\\xff\\xff"
#define M_LE_OSABI ID7 "\\xfc" FF8 "\\xfe\\xff\\xff\\xff"
#define M_BE_OSABI ID7 "\\xfc" FF8 "\\xff\\xfe\\xff\\xff"
#define M_X86 "\\xff\\xff\\xff\\xff\\xff\\xfe\\xfe\\x00" FF8 "\\xfe\\xff\\xff\\xff"
#define M_PPC64LE ID7 "\\xfc" FF8 "\\xfe\\xff\\xff\\x00"
#define M_LOONG ID7 "\\xfc\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff"
/* MIPS also lets EI_ABIVERSION be 0 or 1. */
#define M_MIPS_LE ID7 "\\x00\\xfe\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff"
#define M_MIPS_BE ID7 "\\x00\\xfe\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff"
/* 32-bit MIPS is o32 or n32 by EF_MIPS_ABI2 (0x20) of e_flags, which
 * qemu's magic reaches: past e_version, e_entry, e_phoff and e_shoff, the
 * first byte of e_flags little-endian, the fourth big-endian. */
#define Z16 "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00"
#define O32_LE Z16 "\\x00"
#define N32_LE Z16 "\\x20"
#define ABI2_LE Z16 "\\x20"
#define O32_BE Z16 "\\x00\\x00\\x00\\x00"
#define N32_BE Z16 "\\x00\\x00\\x00\\x20"
#define ABI2_BE Z16 "\\x00\\x00\\x00\\x20"

/* Debian's name, qemu's, `uname -m` under qemu, ELF class and byte order,
 * e_machine as a number and as it lies in the header, the mask, the
 * multilib directories of merged /usr (debootstrap's table; bootstrapped
 * architectures only), and whether xboot bootstraps it. */
#define ROW(deb, qemu, uname, bits, order, em, magic, mask, libs, boot) \
	{ deb, qemu, uname, order##bits magic, mask, ELFCLASS##bits, ELFDATA2##order##SB, em, libs, boot }
#define ELFDATA2LESB ELFDATA2LSB
#define ELFDATA2BESB ELFDATA2MSB

const struct emu_arch emu_archtab[] = {
	/* What xboot bootstraps, first: emu_arch_all() is this part. */
	ROW("amd64", "x86_64", "x86_64", 64, LE, EM_X86_64, "\\x3e\\x00", M_X86, "lib32 lib64 libx32", true),
	ROW("arm64", "aarch64", "aarch64", 64, LE, EM_AARCH64, "\\xb7\\x00", M_LE, "", true),
	/* One magic, two Debian architectures: the float ABI in e_flags (or
	 * the loader's name) tells them apart (arch.c); qemu-arm's default CPU
	 * reports armv7l for both. */
	ROW("armhf", "arm", "armv7l", 32, LE, EM_ARM, "\\x28\\x00", M_LE, "", true),
	ROW("armel", "arm", "armv7l", 32, LE, EM_ARM, "\\x28\\x00", M_LE, "", true),
	ROW("i386", "i386", "i686", 32, LE, EM_386, "\\x03\\x00", M_X86, "lib64 libx32", true),
	ROW("ppc64el", "ppc64le", "ppc64le", 64, LE, EM_PPC64, "\\x15\\x00", M_PPC64LE, "lib64", true),
	ROW("riscv64", "riscv64", "riscv64", 64, LE, EM_RISCV, "\\xf3\\x00", M_LE, "", true),
	ROW("s390x", "s390x", "s390x", 64, BE, EM_S390, "\\x00\\x16", M_BE_OSABI, "lib32", true),
	ROW("mips64el", "mips64el", "mips64", 64, LE, EM_MIPS, "\\x08\\x00", M_MIPS_LE,
	    "lib32 lib64 libo32", true),
	ROW("mipsel", "mipsel", "mips", 32, LE, EM_MIPS, "\\x08\\x00" O32_LE, M_MIPS_LE ABI2_LE,
	    "lib32 lib64", true),

	/* debian-ports' (and Debian's of old). */
	ROW("mips", "mips", "mips", 32, BE, EM_MIPS, "\\x00\\x08" O32_BE, M_MIPS_BE ABI2_BE, "", false),
	ROW("powerpc", "ppc", "ppc", 32, BE, EM_PPC, "\\x00\\x14", M_BE_OSABI, "", false),
	/* ELFv1 and ELFv2 (e_flags 1 and 2) both run under qemu-ppc64. */
	ROW("ppc64", "ppc64", "ppc64", 64, BE, EM_PPC64, "\\x00\\x15", M_BE_OSABI, "", false),
	ROW("m68k", "m68k", "m68k", 32, BE, EM_68K, "\\x00\\x04", M_BE, "", false),
	ROW("sh4", "sh4", "sh4", 32, LE, EM_SH, "\\x2a\\x00", M_LE_OSABI, "", false),
	ROW("sparc64", "sparc64", "sparc64", 64, BE, EM_SPARCV9, "\\x00\\x2b", M_BE_OSABI, "", false),
	ROW("hppa", "hppa", "parisc", 32, BE, EM_PARISC, "\\x00\\x0f", M_BE, "", false),
	ROW("alpha", "alpha", "alpha", 64, LE, EM_ALPHA, "\\x26\\x90", M_LE, "", false),
	ROW("loong64", "loongarch64", "loongarch64", 64, LE, EM_LOONGARCH, "\\x02\\x01", M_LOONG, "",
	    false),

	/* The rest of qemu-user's targets, by qemu's names. */
	ROW("mipsn32", "mipsn32", "mips64", 32, BE, EM_MIPS, "\\x00\\x08" N32_BE, M_MIPS_BE ABI2_BE, "",
	    false),
	ROW("mipsn32el", "mipsn32el", "mips64", 32, LE, EM_MIPS, "\\x08\\x00" N32_LE, M_MIPS_LE ABI2_LE,
	    "", false),
	ROW("mips64", "mips64", "mips64", 64, BE, EM_MIPS, "\\x00\\x08", M_MIPS_BE, "", false),
	ROW("sh4eb", "sh4eb", "sh4eb", 32, BE, EM_SH, "\\x00\\x2a", M_BE_OSABI, "", false),
	ROW("sparc", "sparc", "sparc", 32, BE, EM_SPARC, "\\x00\\x02", M_BE_OSABI, "", false),
	ROW("sparc32plus", "sparc32plus", "sparc", 32, BE, EM_SPARC32PLUS, "\\x00\\x12", M_BE_OSABI, "",
	    false),
	ROW("riscv32", "riscv32", "riscv32", 32, LE, EM_RISCV, "\\xf3\\x00", M_LE, "", false),
	ROW("aarch64_be", "aarch64_be", "aarch64_be", 64, BE, EM_AARCH64, "\\x00\\xb7", M_BE, "", false),
	ROW("armeb", "armeb", "armv7b", 32, BE, EM_ARM, "\\x00\\x28", M_BE, "", false),
	ROW("xtensa", "xtensa", "xtensa", 32, LE, EM_XTENSA, "\\x5e\\x00", M_LE, "", false),
	ROW("xtensaeb", "xtensaeb", "xtensa", 32, BE, EM_XTENSA, "\\x00\\x5e", M_BE, "", false),
	/* qemu's entries know only the e_machine of old toolchains, 0xbaab. */
	ROW("microblaze", "microblaze", "microblaze", 32, BE, 0xbaab, "\\xba\\xab", M_BE, "", false),
	ROW("microblazeel", "microblazeel", "microblaze", 32, LE, 0xbaab, "\\xab\\xba", M_LE, "", false),
	ROW("or1k", "or1k", "openrisc", 32, BE, EM_OPENRISC, "\\x00\\x5c", M_BE, "", false),
	ROW("cris", "cris", "cris", 32, LE, EM_CRIS, "\\x4c\\x00", M_LE, "", false),
	ROW("hexagon", "hexagon", "hexagon", 32, LE, EM_QDSP6, "\\xa4\\x00", M_LE, "", false),
	/* Neither qemu nor Debian registers one for nios2: the usual shape. */
	ROW("nios2", "nios2", "nios2", 32, LE, EM_ALTERA_NIOS2, "\\x71\\x00", M_LE, "", false),
};

const size_t emu_archtab_len = sizeof(emu_archtab) / sizeof(emu_archtab[0]);
