/* arch: the architecture table, the host's architecture, and reading the
 * architecture of an ELF file inside a rootfs. */
#include "arch.h"

#include "../core/base/inroot.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/personality.h>
#include <sys/syscall.h>

/* Magic and mask as binfmt_misc's register file takes them: the first 20
 * bytes of an ELF header (ident, e_type, e_machine); the masks, qemu's,
 * let ET_EXEC and ET_DYN through and ignore the OS/ABI byte. */
#define ELF_HDR(cls, data, type, machine) \
	"\\x7f\\x45\\x4c\\x46\\x" cls "\\x" data "\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00" \
	type machine
#define CLS32 "01"
#define CLS64 "02"
#define LSB "01", "\\x02\\x00" /* the data byte, then e_type ET_EXEC in that order */
#define MSB "02", "\\x00\\x02"
#define MASK_LE "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff"
#define MASK_X86 "\\xff\\xff\\xff\\xff\\xff\\xfe\\xfe\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff"
#define MASK_MIPS "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xfe\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff"
#define MASK_PPC64LE "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfc\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\x00"
#define MASK_S390X "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfc\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff"
/* Debian name, qemu name, uname -m, ELF class and byte order, e_machine as
 * it lies in the header and as a number, the mask, and the multilib
 * directories of merged /usr (debootstrap's table). */
#define ARCH(deb, qemu, uname, bits, order, machine, em, mask, libs) \
	{ deb, qemu, uname, ELF_HDR(CLS##bits, order, machine), mask, ELFCLASS##bits, ELFDATA2##order, \
	  em, libs }

static const struct emu_arch arches[] = {
	ARCH("amd64", "x86_64", "x86_64", 64, LSB, "\\x3e\\x00", EM_X86_64, MASK_X86, "lib32 lib64 libx32"),
	ARCH("arm64", "aarch64", "aarch64", 64, LSB, "\\xb7\\x00", EM_AARCH64, MASK_LE, ""),
	ARCH("armhf", "arm", "armv7l", 32, LSB, "\\x28\\x00", EM_ARM, MASK_LE, ""),
	/* qemu-arm's default CPU reports armv7l for armel binaries too. */
	ARCH("armel", "arm", "armv7l", 32, LSB, "\\x28\\x00", EM_ARM, MASK_LE, ""),
	ARCH("i386", "i386", "i686", 32, LSB, "\\x03\\x00", EM_386, MASK_X86, "lib64 libx32"),
	ARCH("ppc64el", "ppc64le", "ppc64le", 64, LSB, "\\x15\\x00", EM_PPC64, MASK_PPC64LE, "lib64"),
	ARCH("riscv64", "riscv64", "riscv64", 64, LSB, "\\xf3\\x00", EM_RISCV, MASK_LE, ""),
	ARCH("s390x", "s390x", "s390x", 64, MSB, "\\x00\\x16", EM_S390, MASK_S390X, "lib32"),
	ARCH("mips64el", "mips64el", "mips64", 64, LSB, "\\x08\\x00", EM_MIPS, MASK_MIPS, "lib32 lib64 libo32"),
	/* e_flags must not have EF_MIPS_ABI2 (that is n32): the magic and the
	 * mask go on to the flags. */
	ARCH("mipsel", "mipsel", "mips", 32, LSB, "\\x08\\x00"
	     "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00",
	     EM_MIPS, MASK_MIPS "\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x20", "lib32 lib64"),
};

const struct emu_arch *emu_arch_find(const char *deb)
{
	for (size_t i = 0; deb && i < ARRAY_SIZE(arches); i++)
		if (!strcmp(arches[i].deb, deb))
			return &arches[i];
	return NULL;
}

const struct emu_arch *emu_arch_all(size_t *n)
{
	*n = ARRAY_SIZE(arches);
	return arches;
}

const struct emu_arch *emu_arch_host(void)
{
#if defined(__x86_64__) && !defined(__ILP32__)
	return emu_arch_find("amd64");
#elif defined(__aarch64__)
	return emu_arch_find("arm64");
#elif defined(__arm__) && defined(__ARM_PCS_VFP)
	return emu_arch_find("armhf");
#elif defined(__arm__)
	return emu_arch_find("armel");
#elif defined(__i386__)
	return emu_arch_find("i386");
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return emu_arch_find("ppc64el");
#elif defined(__riscv) && __riscv_xlen == 64
	return emu_arch_find("riscv64");
#elif defined(__s390x__)
	return emu_arch_find("s390x");
#elif defined(__mips64) && defined(__MIPSEL__)
	return emu_arch_find("mips64el");
#elif defined(__mips__) && defined(__MIPSEL__)
	return emu_arch_find("mipsel");
#else
	return NULL;
#endif
}

/* An arm64 kernel without 32-bit EL0 support refuses PER_LINUX32. */
static bool kernel_runs_linux32(void)
{
	int old = personality(0xffffffff);
	if (old < 0 || personality(PER_LINUX32) < 0)
		return false;
	personality((unsigned long)old);
	return true;
}

bool emu_arch_is_native(const struct emu_arch *a)
{
	const struct emu_arch *h = emu_arch_host();
	if (!a || !h)
		return false;
	if (a == h)
		return true;
	/* IA32 emulation is assumed present on amd64 kernels. */
	if (!strcmp(h->deb, "amd64") && !strcmp(a->deb, "i386"))
		return true;
	if (!strcmp(h->deb, "arm64") && a->e_machine == EM_ARM)
		return kernel_runs_linux32();
	return false;
}

static uint16_t get16(const unsigned char *p, int data)
{
	return data == ELFDATA2MSB ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

static uint32_t get32(const unsigned char *p, int data)
{
	return data == ELFDATA2MSB ? (uint32_t)get16(p, data) << 16 | get16(p + 2, data)
				   : (uint32_t)get16(p + 2, data) << 16 | get16(p, data);
}

static uint64_t get64(const unsigned char *p, int data)
{
	return data == ELFDATA2MSB ? (uint64_t)get32(p, data) << 32 | get32(p + 4, data)
				   : (uint64_t)get32(p + 4, data) << 32 | get32(p, data);
}

static int pread_all(int fd, void *buf, size_t n, off_t off)
{
	ssize_t r = pread(fd, buf, n, off);
	if (r < 0)
		return -errno;
	return (size_t)r == n ? 0 : -XB_EPARSE;
}

/* Reads PT_INTERP, if any, from the program headers. */
static int elf_read_interp(int fd, const unsigned char *h, struct emu_elf *e)
{
	bool is64 = e->cls == ELFCLASS64;
	uint64_t phoff = is64 ? get64(h + 32, e->data) : get32(h + 28, e->data);
	uint16_t phentsize = get16(h + (is64 ? 54 : 42), e->data);
	uint16_t phnum = get16(h + (is64 ? 56 : 44), e->data);
	if (phentsize < (is64 ? 56 : 32) || phnum > 4096)
		return -XB_EPARSE;
	for (uint16_t i = 0; i < phnum; i++) {
		unsigned char ph[56];
		int r = pread_all(fd, ph, is64 ? 56 : 32, (off_t)(phoff + (uint64_t)i * phentsize));
		if (r < 0)
			return r;
		if (get32(ph, e->data) != PT_INTERP)
			continue;
		uint64_t off = is64 ? get64(ph + 8, e->data) : get32(ph + 4, e->data);
		uint64_t sz = is64 ? get64(ph + 32, e->data) : get32(ph + 16, e->data);
		if (sz == 0 || sz > 4096)
			return -XB_EPARSE;
		char *s = xcalloc(1, sz + 1);
		r = pread_all(fd, s, sz, (off_t)off);
		if (r < 0) {
			free(s);
			return r;
		}
		e->interp = s;
		return 0;
	}
	return 0;
}

int emu_elf_read(int fd, struct emu_elf *e)
{
	unsigned char h[64];
	*e = (struct emu_elf){ 0 };
	int r = pread_all(fd, h, sizeof(h), 0);
	if (r == -XB_EPARSE || (r == 0 && memcmp(h, ELFMAG, SELFMAG)))
		return -XB_EPARSE;
	if (r < 0)
		return r;
	e->cls = h[EI_CLASS];
	e->data = h[EI_DATA];
	if ((e->cls != ELFCLASS32 && e->cls != ELFCLASS64) ||
	    (e->data != ELFDATA2LSB && e->data != ELFDATA2MSB))
		return -XB_EPARSE;
	e->machine = get16(h + 18, e->data);
	e->flags = get32(h + (e->cls == ELFCLASS64 ? 48 : 36), e->data);
	return elf_read_interp(fd, h, e);
}

void emu_elf_release(struct emu_elf *e)
{
	free(e->interp);
	e->interp = NULL;
}

static const struct emu_arch *arm_flavour(const struct emu_elf *e)
{
	if (e->flags & EF_ARM_ABI_FLOAT_HARD)
		return emu_arch_find("armhf");
	if (e->flags & EF_ARM_ABI_FLOAT_SOFT)
		return emu_arch_find("armel");
	if (e->interp && strstr(e->interp, "armhf"))
		return emu_arch_find("armhf");
	return emu_arch_find("armel");
}

const struct emu_arch *emu_arch_of_elf(int rootfd, const char *path)
{
	/* A FIFO or a device there must neither block nor be read. */
	int fd = rootfd >= 0 ? inroot_open_regular(rootfd, path)
			     : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct emu_elf e;
	int r = emu_elf_read(fd, &e);
	close(fd);
	if (r < 0)
		return NULL;
	const struct emu_arch *a = NULL;
	if (e.machine == EM_ARM && e.cls == ELFCLASS32 && e.data == ELFDATA2LSB) {
		a = arm_flavour(&e);
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(arches) && !a; i++)
			if (arches[i].e_machine == e.machine && arches[i].elf_class == e.cls &&
			    arches[i].elf_data == e.data)
				a = &arches[i];
	}
	emu_elf_release(&e);
	return a;
}

/* dpkg's own Architecture in the status file: the root's native one. */
/* dpkg's own Architecture in the status file: the root's native one.  The
 * file is the root's: read only when regular, and only so much of it. */
static const struct emu_arch *arch_of_dpkg(int rootfd)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	if (inroot_read_file(rootfd, "var/lib/dpkg/status", 256u << 20, &sb) < 0)
		return NULL;
	const char *s = sb.buf;
	const char *p = strstr(s, "Package: dpkg\n");
	if (!p || (p != s && p[-1] != '\n'))
		return NULL;
	const char *end = strstr(p, "\n\n");
	const char *a = strstr(p, "\nArchitecture: ");
	if (!a || (end && a > end))
		return NULL;
	a += strlen("\nArchitecture: ");
	cleanup_free char *name = xstrndup(a, strcspn(a, "\n"));
	return emu_arch_find(name);
}

const struct emu_arch *emu_arch_of_root(const char *rootdir)
{
	cleanup_fd int rootfd = open(rootdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return NULL;
	const struct emu_arch *a = emu_arch_of_elf(rootfd, "/bin/sh");
	return a ? a : arch_of_dpkg(rootfd);
}
