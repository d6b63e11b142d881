/* arch: the table's accessors (the rows are emu/archtab.c's), the host's
 * architecture, and reading the architecture of an ELF file or a rootfs,
 * every path of it resolved inside it. */
#include "arch.h"

#include "archtab.h"
#include "../core/base/inroot.h"

#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* The bootstrapped rows come first: emu_arch_all() is that part. */
static size_t bootstrap_len(void)
{
	size_t n = 0;
	while (n < emu_archtab_len && emu_archtab[n].bootstrap)
		n++;
	return n;
}

const struct emu_arch *emu_arch_find(const char *deb)
{
	size_t n = bootstrap_len();
	for (size_t i = 0; deb && i < n; i++)
		if (!strcmp(emu_archtab[i].deb, deb))
			return &emu_archtab[i];
	return NULL;
}

const struct emu_arch *emu_arch_all(size_t *n)
{
	*n = bootstrap_len();
	return emu_archtab;
}

const struct emu_arch *emu_arch_targets(size_t *n)
{
	*n = emu_archtab_len;
	return emu_archtab;
}

/* Debian's names first; qemu's "arm", two rows' name, is the first's
 * (armhf: the emulator is the same). */
const struct emu_arch *emu_arch_by_name(const char *name)
{
	for (size_t i = 0; name && i < emu_archtab_len; i++)
		if (!strcmp(emu_archtab[i].deb, name))
			return &emu_archtab[i];
	for (size_t i = 0; name && i < emu_archtab_len; i++)
		if (!strcmp(emu_archtab[i].qemu, name))
			return &emu_archtab[i];
	return NULL;
}

int emu_arch_named(const char *name, const struct emu_arch **a)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	if ((*a = emu_arch_by_name(name)))
		return 0;
	for (size_t i = 0; i < emu_archtab_len; i++) {
		const struct emu_arch *t = &emu_archtab[i];
		strbuf_addf(&sb, "%s%s", i ? " " : "", t->deb);
		if (strcmp(t->deb, t->qemu))
			strbuf_addf(&sb, "/%s", t->qemu);
	}
	xb_error("--arch=%s: unknown architecture (known, Debian's name/qemu's: %s)", name, sb.buf);
	return -XB_EUSAGE;
}

size_t emu_arch_bytes(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	while (n < max && s[0] == '\\' && s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
	       isxdigit((unsigned char)s[3])) {
		char hex[3] = { s[2], s[3], 0 };
		out[n++] = (unsigned char)strtoul(hex, NULL, 16);
		s += 4;
	}
	return n;
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
	/* armeb is EM_ARM too, but big-endian: no little-endian kernel runs it. */
	if (!strcmp(h->deb, "arm64") && a->e_machine == EM_ARM && a->elf_data == ELFDATA2LSB)
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
	*e = (struct emu_elf){ 0 };
	unsigned char *h = e->head;
	int r = pread_all(fd, h, sizeof(e->head), 0);
	if (r == -XB_EPARSE || (r == 0 && memcmp(h, ELFMAG, SELFMAG)))
		return -XB_EPARSE;
	if (r < 0)
		return r;
	e->cls = h[EI_CLASS];
	e->data = h[EI_DATA];
	if ((e->cls != ELFCLASS32 && e->cls != ELFCLASS64) ||
	    (e->data != ELFDATA2LSB && e->data != ELFDATA2MSB))
		return -XB_EPARSE;
	e->type = get16(h + 16, e->data);
	e->machine = get16(h + 18, e->data);
	e->flags = get32(h + (e->cls == ELFCLASS64 ? 48 : 36), e->data);
	return elf_read_interp(fd, h, e);
}

void emu_elf_release(struct emu_elf *e)
{
	free(e->interp);
	e->interp = NULL;
}

/* Old toolchains set neither float flag: the loader's name tells. */
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

static bool magic_matches(const struct emu_arch *a, const unsigned char *h, size_t n)
{
	unsigned char magic[64], mask[64];
	size_t nm = emu_arch_bytes(a->magic, magic, sizeof(magic));
	size_t nk = emu_arch_bytes(a->mask, mask, sizeof(mask));
	if (nm == 0 || nm != nk || nm > n)
		return false;
	for (size_t i = 0; i < nm; i++)
		if ((h[i] & mask[i]) != (magic[i] & mask[i]))
			return false;
	return true;
}

const struct emu_arch *emu_arch_of_header(const struct emu_elf *e)
{
	for (size_t i = 0; i < emu_archtab_len; i++) {
		const struct emu_arch *a = &emu_archtab[i];
		if (!magic_matches(a, e->head, sizeof(e->head)))
			continue;
		return a->e_machine == EM_ARM && a->elf_data == ELFDATA2LSB ? arm_flavour(e) : a;
	}
	return NULL;
}

/* Reads path inside the root (as it is when rootfd < 0); 1 with *e filled
 * when it is an ELF file (program or library), 0 when it is none: missing,
 * a dangling link, no regular file, or no ELF.  A FIFO or a device there
 * must neither block nor be read. */
static int read_elf_at(int rootfd, const char *path, bool need_exec, struct emu_elf *e)
{
	cleanup_fd int fd = rootfd >= 0 ? inroot_open_regular(rootfd, path)
	                                : open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || (need_exec && (fstat(fd, &st) < 0 || !(st.st_mode & 0111))))
		return 0;
	if (emu_elf_read(fd, e) < 0)
		return 0;
	if (need_exec && e->type != ET_EXEC && e->type != ET_DYN) {
		emu_elf_release(e);
		return 0;
	}
	return 1;
}

const struct emu_arch *emu_arch_of_elf(int rootfd, const char *path)
{
	struct emu_elf e;
	if (!read_elf_at(rootfd, path, false, &e))
		return NULL;
	const struct emu_arch *a = emu_arch_of_header(&e);
	emu_elf_release(&e);
	return a;
}

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
	return emu_arch_by_name(name);
}

/* What told a tree's architecture: the ELF file (path, its header in e)
 * or dpkg (path NULL). */
struct verdict {
	const struct emu_arch *a;
	char *path;
	struct emu_elf e;
};

struct dir_id {
	dev_t dev;
	ino_t ino;
};

/* The first program, by name, in dir of the root, into *v; 1 when there
 * is one.  qemu-*: the host's emulators xboot itself copies into a tree
 * being bootstrapped.  A directory already looked at (bin -> usr/bin) is
 * skipped. */

static int first_program(int rootfd, const char *dir, struct dir_id *seen, size_t nseen,
			 struct verdict *v)
{
	cleanup_strvec struct strvec names = STRVEC_INIT;
	struct stat st;
	int fd = inroot_open(rootfd, dir, O_RDONLY | O_DIRECTORY, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	bool again = fstat(dirfd(d), &st) < 0;
	for (size_t i = 0; i < nseen && !again; i++)
		again = seen[i].dev == st.st_dev && seen[i].ino == st.st_ino;
	seen[nseen] = again ? (struct dir_id){ 0, 0 } : (struct dir_id){ st.st_dev, st.st_ino };
	for (struct dirent *de; !again && (de = readdir(d));)
		if (de->d_name[0] != '.' && !str_starts_with(de->d_name, "qemu-"))
			strvec_push(&names, de->d_name);
	closedir(d);
	strvec_sort(&names);
	for (size_t i = 0; i < names.n; i++) {
		char *path = xasprintf("/%s/%s", dir, names.v[i]);
		if (read_elf_at(rootfd, path, true, &v->e)) {
			v->path = path;
			return 1;
		}
		free(path);
	}
	return 0;
}

/* 1 with *v filled when something in the root tells, else 0. */
static int tell(int rootfd, struct verdict *v)
{
	static const char *const named[] = { "/bin/sh", "/bin/busybox", "/sbin/init" };
	static const char *const dirs[] = { "bin", "sbin", "usr/bin", "usr/sbin" };
	struct dir_id seen[ARRAY_SIZE(dirs)];
	for (size_t i = 0; i < ARRAY_SIZE(named); i++)
		if (read_elf_at(rootfd, named[i], false, &v->e)) {
			v->path = xstrdup(named[i]);
			return 1;
		}
	/* dpkg's word before a guess from whichever program sorts first. */
	if ((v->a = arch_of_dpkg(rootfd)))
		return 1;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (first_program(rootfd, dirs[i], seen, i, v))
			return 1;
	return 0;
}

static int detect(const char *rootdir, const struct emu_arch **a, bool report)
{
	cleanup_fd int rootfd = open(rootdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct verdict v = { 0 };
	*a = NULL;
	if (rootfd < 0 || !tell(rootfd, &v))
		return 0;
	if (!v.path) {
		*a = v.a;
		return 0;
	}
	*a = emu_arch_of_header(&v.e);
	if (!*a && report)
		xb_error("%s: %s is an ELF file for machine %#x (%d-bit %s-endian), which no qemu-user "
		         "emulator runs; give --arch if that is wrong", rootdir, v.path, v.e.machine,
		         v.e.cls == ELFCLASS64 ? 64 : 32, v.e.data == ELFDATA2MSB ? "big" : "little");
	emu_elf_release(&v.e);
	free(v.path);
	return *a ? 0 : -XB_EARCH;
}

int emu_arch_detect(const char *rootdir, const struct emu_arch **a)
{
	return detect(rootdir, a, true);
}

const struct emu_arch *emu_arch_of_root(const char *rootdir)
{
	const struct emu_arch *a;
	return detect(rootdir, &a, false) < 0 ? NULL : a;
}
