/* test-emu: the architecture table, ELF reading, the emulator copy, and
 * emu_launch_run() on an empty root (fn is native code, so the root needs no
 * programs).  The namespace parts need root; they skip otherwise. */
#include "tap.h"
#include "../../core/base/util.h"
#include "../../emu/arch.h"
#include "../../emu/caps.h"
#include "../../emu/emulator.h"
#include "../../emu/idrange.h"
#include "../../emu/launch.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#define TMPFS_MAGIC 0x01021994
#define PROC_MAGIC 0x9fa0

static void test_table(void)
{
	const struct emu_arch *a = emu_arch_find("armhf");
	CHECK(a && !strcmp(a->qemu, "arm") && !strcmp(a->uname_m, "armv7l"), "armhf");
	CHECK(a && a->e_machine == EM_ARM && a->elf_class == ELFCLASS32, "armhf elf");
	a = emu_arch_find("armel");
	CHECK(a && !strcmp(a->qemu, "arm"), "armel shares qemu-arm");
	a = emu_arch_find("ppc64el");
	CHECK(a && !strcmp(a->qemu, "ppc64le"), "ppc64el");
	a = emu_arch_find("s390x");
	CHECK(a && a->elf_data == ELFDATA2MSB && str_starts_with(a->magic, "\\x7f\\x45\\x4c\\x46"),
	      "s390x");
	CHECK(!emu_arch_find("vax") && !emu_arch_find(NULL), "unknown arch");
	/* Bootstrapping knows its ten, and no other target. */
	CHECK(!emu_arch_find("m68k") && !emu_arch_find("powerpc"), "m68k is no bootstrap arch");
	size_t n;
	const struct emu_arch *all = emu_arch_all(&n);
	cleanup_strbuf struct strbuf names = STRBUF_INIT;
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&names, "%s%s", i ? " " : "", all[i].deb);
	CHECK(!strcmp(names.buf, "amd64 arm64 armhf armel i386 ppc64el riscv64 s390x mips64el mipsel"),
	      "bootstrap architectures: %s", names.buf);
	for (size_t i = 0; i < n; i++)
		CHECK(all[i].bootstrap, "%s bootstraps", all[i].deb);
	const struct emu_arch *h = emu_arch_host();
	CHECK(h && emu_arch_is_native(h), "host arch is native");
#if defined(__x86_64__)
	CHECK(h && !strcmp(h->deb, "amd64"), "host is amd64");
	CHECK(emu_arch_is_native(emu_arch_find("i386")), "i386 native on amd64");
	CHECK(!emu_arch_is_native(emu_arch_find("armhf")), "armhf foreign on amd64");
#endif
}

/* Every qemu-user target: names, magic and mask agreeing with the row's
 * ELF class, byte order and e_machine. */
static void test_targets(void)
{
	size_t n, nb;
	const struct emu_arch *t = emu_arch_targets(&n);
	emu_arch_all(&nb);
	CHECK(n == 36, "36 rows (35 qemu targets, qemu-arm twice): %zu", n);
	cleanup_strvec struct strvec qemus = STRVEC_INIT;
	for (size_t i = 0; i < n; i++) {
		const struct emu_arch *a = &t[i];
		unsigned char magic[64], mask[64];
		size_t nm = emu_arch_bytes(a->magic, magic, sizeof(magic));
		size_t nk = emu_arch_bytes(a->mask, mask, sizeof(mask));
		CHECK(nm >= 20 && nm == nk && nm * 4 == strlen(a->magic) && nk * 4 == strlen(a->mask),
		      "%s: magic %zu bytes, mask %zu", a->deb, nm, nk);
		unsigned em = a->elf_data == ELFDATA2LSB ? (unsigned)(magic[18] | magic[19] << 8)
		                                         : (unsigned)(magic[18] << 8 | magic[19]);
		CHECK(!memcmp(magic, ELFMAG, SELFMAG) && magic[EI_CLASS] == a->elf_class &&
		      magic[EI_DATA] == a->elf_data && em == a->e_machine,
		      "%s: magic says class %u data %u machine %#x", a->deb, magic[4], magic[5], em);
		CHECK(a->bootstrap == (i < nb), "%s: the bootstrapped rows come first", a->deb);
		CHECK(emu_arch_by_name(a->deb) == a || !strcmp(a->qemu, "arm"), "by name %s", a->deb);
		CHECK(emu_arch_by_name(a->qemu) && !strcmp(emu_arch_by_name(a->qemu)->qemu, a->qemu),
		      "by qemu name %s", a->qemu);
		if (!strvec_has(&qemus, a->qemu))
			strvec_push(&qemus, a->qemu);
	}
	CHECK(qemus.n == 35, "35 qemu targets: %zu", qemus.n);
	CHECK(emu_arch_by_name("ppc") == emu_arch_by_name("powerpc"), "ppc is powerpc");
	const struct emu_arch *a = emu_arch_by_name("loongarch64");
	CHECK(a && !strcmp(a->deb, "loong64"), "loongarch64 is loong64");
	a = emu_arch_by_name("hppa");
	CHECK(a && !strcmp(a->uname_m, "parisc"), "hppa: parisc");
	CHECK(!emu_arch_by_name("vax") && !emu_arch_by_name(NULL), "vax unknown");
	xb_mute_errors(true);
	CHECK(emu_arch_named("vax", &a) == -XB_EUSAGE && !a, "--arch=vax refused");
	xb_mute_errors(false);
	CHECK(emu_arch_named("m68k", &a) == 0 && a && !strcmp(a->qemu, "m68k"), "--arch=m68k");
}

/* A binfmt.d line's magic or mask: \xNN escapes and plain characters. */
static size_t conf_bytes(const char *s, size_t len, unsigned char *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n < max; n++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x') {
			char hex[3] = { s[i + 2], s[i + 3], 0 };
			out[n] = (unsigned char)strtoul(hex, NULL, 16);
			i += 4;
		} else {
			out[n] = (unsigned char)s[i++];
		}
	}
	return n;
}

/* The table's magic and mask are qemu's: Debian's binfmt.d has them. */
static void test_binfmt_confs(void)
{
	size_t n, seen = 0;
	const struct emu_arch *t = emu_arch_targets(&n);
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *path = xasprintf("/usr/lib/binfmt.d/qemu-%s.conf", t[i].qemu);
		cleanup_strbuf struct strbuf sb = STRBUF_INIT;
		if (xb_read_file(path, &sb) < 0)
			continue;
		/* :name:M::magic:mask:interpreter:flags */
		const char *p = sb.buf;
		const char *field[8];
		size_t k = 0;
		for (const char *c = p; *c && *c != '\n' && k < 8; c++)
			if (*c == ':')
				field[k++] = c + 1;
		CHECK(k == 7, "%s: 7 fields", path);
		if (k < 7)
			continue;
		unsigned char want[64], got[64], wmask[64], gmask[64];
		size_t nw = conf_bytes(field[3], (size_t)(field[4] - field[3] - 1), want, sizeof(want));
		size_t nwm = conf_bytes(field[4], (size_t)(field[5] - field[4] - 1), wmask, sizeof(wmask));
		size_t ng = emu_arch_bytes(t[i].magic, got, sizeof(got));
		size_t ngm = emu_arch_bytes(t[i].mask, gmask, sizeof(gmask));
		CHECK(nw == ng && !memcmp(want, got, ng), "%s: magic as %s", t[i].deb, path);
		CHECK(nwm == ngm && !memcmp(wmask, gmask, ngm), "%s: mask as %s", t[i].deb, path);
		seen++;
	}
	printf("# %zu of the table's magics compared with /usr/lib/binfmt.d\n", seen);
}

static void test_elf(void)
{
	const struct emu_arch *h = emu_arch_host();
	CHECK(emu_arch_of_elf(-1, "/bin/true") == h, "of_elf /bin/true");
	/* /bin may be a symlink (merged /usr): resolved inside "/". */
	int slash = open("/", O_PATH | O_DIRECTORY);
	CHECK(emu_arch_of_elf(slash, "/bin/true") == h, "of_elf in root /");
	CHECK(emu_arch_of_elf(slash, "/etc/passwd") == NULL, "not an ELF");
	CHECK(emu_arch_of_elf(slash, "/nonexistent") == NULL, "missing");
	close(slash);
	int fd = open("/bin/true", O_RDONLY);
	struct emu_elf e;
	CHECK(fd >= 0 && emu_elf_read(fd, &e) == 0 && e.interp, "/bin/true is dynamic");
	if (fd >= 0) {
		emu_elf_release(&e);
		close(fd);
	}
}

/* ROOT/PATH: an ELF header a's magic matches (machine replaced when not
 * 0), e_flags as given, no program headers; mode as given. */
static void put_elf(const char *root, const char *path, const struct emu_arch *a, uint16_t machine,
		    uint32_t flags, mode_t mode)
{
	unsigned char h[64] = { 0 };
	emu_arch_bytes(a->magic, h, sizeof(h));
	bool le = a->elf_data == ELFDATA2LSB, is64 = a->elf_class == ELFCLASS64;
	unsigned char *ph = h + (is64 ? 54 : 42), *fl = h + (is64 ? 48 : 36);
	ph[le ? 0 : 1] = is64 ? 56 : 32;
	for (int i = 0; flags && i < 4; i++)
		fl[le ? i : 3 - i] = (unsigned char)(flags >> (8 * i));
	if (machine) {
		h[le ? 18 : 19] = (unsigned char)machine;
		h[le ? 19 : 18] = (unsigned char)(machine >> 8);
	}
	cleanup_free char *full = xasprintf("%s/%s", root, path);
	cleanup_free char *dir = xstrndup(full, (size_t)(strrchr(full, '/') - full));
	xb_mkdir_p_at(AT_FDCWD, dir, 0755);
	unlink(full);
	CHECK(xb_write_file_at(AT_FDCWD, full, h, sizeof(h), mode) == 0, "writing %s", full);
	chmod(full, mode);
}

static const struct emu_arch *detect(const char *root, int *r)
{
	const struct emu_arch *a = NULL;
	xb_mute_errors(true);
	*r = emu_arch_detect(root, &a);
	xb_mute_errors(false);
	return a;
}

/* Each target's header tells it; the places and their order. */
static void test_detect(const char *tmp)
{
	size_t n;
	int r;
	const struct emu_arch *t = emu_arch_targets(&n);
	cleanup_free char *root = xasprintf("%s/detect", tmp);
	const struct emu_arch *mips = emu_arch_by_name("mips"), *sh4 = emu_arch_by_name("sh4");
	for (size_t i = 0; i < n; i++) {
		uint32_t fl = !strcmp(t[i].deb, "armhf") ? EF_ARM_ABI_FLOAT_HARD
		            : !strcmp(t[i].deb, "armel") ? EF_ARM_ABI_FLOAT_SOFT : 0;
		put_elf(root, "bin/sh", &t[i], 0, fl, 0755);
		const struct emu_arch *a = detect(root, &r);
		CHECK(r == 0 && a == &t[i], "%s's header: %s", t[i].deb, a ? a->deb : "none");
	}
	/* n32 is not o32: the ABI2 flag. */
	put_elf(root, "bin/sh", mips, 0, EF_MIPS_ABI2, 0755);
	CHECK(detect(root, &r) == emu_arch_by_name("mipsn32"), "mips with ABI2 is mipsn32");
	/* A machine no target has: an error, and nothing from of_root. */
	put_elf(root, "bin/sh", mips, 0x1234, 0, 0755);
	CHECK(!detect(root, &r) && r == -XB_EARCH, "unknown machine: r=%d", r);
	CHECK(!emu_arch_of_root(root), "unknown machine: of_root NULL");

	/* /bin/sh a link to nothing, or to the host's /usr/bin/true (never
	 * followed out of the root): busybox tells, then init. */
	cleanup_free char *sh = xasprintf("%s/bin/sh", root);
	unlink(sh);
	CHECK(symlink("/usr/bin/true", sh) == 0, "symlink");
	CHECK(!detect(root, &r) && r == 0, "a link out of the root tells nothing");
	put_elf(root, "sbin/init", sh4, 0, 0, 0755);
	CHECK(detect(root, &r) == sh4, "sbin/init");
	put_elf(root, "bin/busybox", mips, 0, 0, 0755);
	CHECK(detect(root, &r) == mips, "bin/busybox before sbin/init");
	cleanup_free char *bb = xasprintf("%s/bin/busybox", root);
	cleanup_free char *init = xasprintf("%s/sbin/init", root);
	unlink(bb);
	unlink(init);

	/* The first program by name in bin, sbin, usr/bin, usr/sbin: not a
	 * script, not a file without x, not a qemu-* of the host. */
	xb_write_file_at(AT_FDCWD, bb, "#!/bin/sh\n", 10, 0755);
	put_elf(root, "bin/a-lib", mips, 0, 0, 0644);
	put_elf(root, "bin/qemu-mips-static", emu_arch_by_name("amd64"), 0, 0, 0755);
	put_elf(root, "usr/sbin/zzz", mips, 0, 0, 0755);
	CHECK(detect(root, &r) == mips, "usr/sbin/zzz: the only program");
	put_elf(root, "bin/b-prog", sh4, 0, 0, 0755);
	CHECK(detect(root, &r) == sh4, "bin/b-prog, first");
	/* dpkg's word before the first program. */
	static const char status[] = "Package: base-files\nArchitecture: mips\n\n"
	                             "Package: dpkg\nStatus: install ok installed\nArchitecture: m68k\n";
	cleanup_free char *dpkg = xasprintf("%s/var/lib/dpkg", root);
	cleanup_free char *st = xasprintf("%s/status", dpkg);
	xb_mkdir_p_at(AT_FDCWD, dpkg, 0755);
	xb_write_file_at(AT_FDCWD, st, status, strlen(status), 0644);
	CHECK(detect(root, &r) == emu_arch_by_name("m68k"), "dpkg's status");
	int dfd = open(tmp, O_RDONLY | O_DIRECTORY);
	xb_rm_rf_at(dfd, "detect");
	mkdir(root, 0755);
	CHECK(!detect(root, &r) && r == 0, "an empty root: nothing tells");
	xb_rm_rf_at(dfd, "detect");
	close(dfd);
}

static void test_emulator(const char *tmp)
{
	const struct emu_arch *a = emu_arch_find("armhf");
	char *emu = emu_emulator_path(a, NULL);
	if (!emu) {
		printf("# skip: no qemu-arm-static on this host\n");
		return;
	}
	char *path = NULL;
	CHECK(emu_emulator_find(a, &path) == 0 && !strcmp(path, emu), "find emulator");
	int fd = open(path, O_RDONLY);
	struct emu_elf e;
	CHECK(fd >= 0 && emu_elf_read(fd, &e) == 0 && !e.interp, "emulator is static");
	if (fd >= 0) {
		emu_elf_release(&e);
		close(fd);
	}
	char *dst = xasprintf("%s/usr/bin/qemu-arm-static", tmp);
	struct stat st;
	CHECK(emu_emulator_install(a, emu, tmp) == 0, "install");
	CHECK(stat(dst, &st) == 0 && (st.st_mode & 07777) == 0755 && st.st_size > 0, "installed 0755");
	CHECK(emu_emulator_install(a, emu, tmp) == 0, "install again");
	CHECK(emu_emulator_remove(a, tmp) == 0 && stat(dst, &st) < 0, "remove");
	CHECK(emu_emulator_remove(a, tmp) == 0, "remove again");
	free(dst);
	free(path);
	free(emu);
}

/* Runs inside: each failed expectation sets one bit of the exit code. */
static int inside(void *ctx)
{
	(void)ctx;
	int bad = 0;
	struct statfs sf;
	struct stat st;
	char host[64] = "";
	if (getpid() != 1)
		bad |= 1;
	if (statfs("/proc", &sf) < 0 || sf.f_type != PROC_MAGIC)
		bad |= 2;
	if (statfs("/tmp", &sf) < 0 || sf.f_type != TMPFS_MAGIC)
		bad |= 4;
	if (stat("/dev/null", &st) < 0 || !S_ISCHR(st.st_mode) || access("/sys/kernel", F_OK) < 0)
		bad |= 8;
	if (gethostname(host, sizeof(host)) < 0 || strcmp(host, "xboot-test"))
		bad |= 16;
	int fd = open("/dev/null", O_RDONLY);
	char c = 'x';
	/* With the filter, TIOCSTI is EPERM (and not ENOTTY), even with
	 * garbage in the upper half of the request. */
	if (ioctl(fd, TIOCSTI, &c) == 0 || errno != EPERM ||
	    syscall(SYS_ioctl, fd, (unsigned long)TIOCSTI | (1UL << 32), &c) == 0 || errno != EPERM)
		bad |= 32;
	if (syscall(SYS_keyctl, 0, 0, 0, 0, 0) == 0 || errno != EPERM)
		bad |= 64;
	close(fd);
	return bad ? bad : 42;
}

static int inside_binfmt(void *ctx)
{
	(void)ctx;
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	if (xb_read_file("/proc/sys/fs/binfmt_misc/xboot-arm", &sb) < 0)
		return 1;
	return strstr(sb.buf, "enabled") && strstr(sb.buf, "F") ? 0 : 2;
}

/* pivot_root, not chroot: a chrooted process could not do this. */
static int inside_userns(void *ctx)
{
	(void)ctx;
	if (unshare(CLONE_NEWUSER) < 0)
		return errno == EPERM ? 1 : 2;
	return 0;
}

static bool userns_possible(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(unshare(CLONE_NEWUSER) < 0 ? 1 : 0);
	int st;
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_launch(const char *tmp)
{
	cleanup_strbuf struct strbuf before = STRBUF_INIT;
	cleanup_strbuf struct strbuf after = STRBUF_INIT;
	char *root = xasprintf("%s/root", tmp);
	mkdir(root, 0755);
	xb_read_file("/proc/self/mountinfo", &before);

	struct emu_launch_opts o = EMU_LAUNCH_OPTS_INIT;
	o.root = root;
	o.seccomp = true;
	o.hostname = "xboot-test";
	int code = -1;
	int r = emu_launch_run(&o, inside, NULL, &code);
	CHECK(r == 0 && code == 42, "emu_launch_run: r=%d code=%d", r, code);
	/* Inside a chroot (a CI harness) the kernel refuses user namespaces:
	 * emu_launch_run falls back to real root, with no private binfmt_misc. */
	bool userns = userns_possible();
	if (!userns)
		printf("# skip: no user namespaces here (chroot?): nested and binfmt checks\n");
	code = -1;
	r = userns ? emu_launch_run(&o, inside_userns, NULL, &code) : 0;
	CHECK(!userns || (r == 0 && code == 0), "a user namespace can be made inside: r=%d code=%d",
	      r, code);

	if (userns && emu_arch_host() && !strcmp(emu_arch_host()->deb, "amd64")) {
		char *emu = emu_emulator_path(emu_arch_find("armhf"), NULL);
		struct emu_launch_opts f = EMU_LAUNCH_OPTS_INIT;
		f.root = root;
		f.arch = emu_arch_find("armhf");
		code = -1;
		if (emu) {
			r = emu_launch_run(&f, inside_binfmt, NULL, &code);
			CHECK(r == 0 && code == 0, "binfmt registered: r=%d code=%d", r, code);
		}
		free(emu);
	}

	/* A root whose proc points outside is refused, the target untouched. */
	char *proc = xasprintf("%s/proc", root);
	rmdir(proc);
	char *outside = xasprintf("%s/outside", tmp);
	mkdir(outside, 0755);
	CHECK(symlink(outside, proc) == 0, "symlink");
	code = -1;
	r = emu_launch_run(&o, inside, NULL, &code);
	CHECK(r == -XB_EUNSAFE && code == -1, "proc symlink refused: r=%d", r);
	struct stat st;
	CHECK(stat(outside, &st) == 0 && st.st_nlink == 2, "outside dir untouched");

	xb_read_file("/proc/self/mountinfo", &after);
	CHECK(!strcmp(before.buf, after.buf), "host mount table unchanged");
	free(proc);
	free(outside);
	free(root);
}

static void test_caps(void)
{
	uint64_t m = 1;
	CHECK(emu_caps_parse("capability", "CAP_SYS_ADMIN,cap_chown, net_raw", &m) == 0 &&
	      m == ((1ull << 21) | (1ull << 0) | (1ull << 13)), "caps parsed: %llx",
	      (unsigned long long)m);
	CHECK(emu_caps_parse("capability", "", &m) == 0 && m == 0, "empty list");
	CHECK(emu_caps_parse("capability", "all", &m) == 0 && (m & (1ull << 40)) && !(m >> 41),
	      "all: %llx", (unsigned long long)m);
	CHECK(emu_caps_parse("capability", "CAP_NOPE", &m) == -XB_EUSAGE, "unknown refused");
	CHECK(emu_caps_parse("capability", "sys_adminx", &m) == -XB_EUSAGE, "no prefix match");
	uint64_t def = emu_caps_default();
	CHECK(!(def & emu_caps_forbidden()), "the default set holds nothing forbidden");
	CHECK((emu_caps_host_root_forbidden() & (1ull << 21)) && (emu_caps_host_root_forbidden() &
	      (1ull << 27)), "host root: no CAP_SYS_ADMIN, no CAP_MKNOD");
}

/* Ranges that passwd, group, subuid or subgid use are never picked. */
static void test_idrange(const char *tmp)
{
	char *passwd = xasprintf("%s/passwd", tmp), *subuid = xasprintf("%s/subuid", tmp);
	static const char pwtext[] = "root:x:0:0::/root:/bin/sh\nbig:x:600000:600000::/:/bin/sh\n"
	                             "broken line\n";
	static const char subtext[] = "user:1000000:65536\n";
	xb_write_file_at(AT_FDCWD, passwd, pwtext, strlen(pwtext), 0644);
	xb_write_file_at(AT_FDCWD, subuid, subtext, strlen(subtext), 0644);
	const char *const pw[] = { passwd, "/nonexistent", NULL };
	const char *const sub[] = { subuid, NULL };
	CHECK(emu_idrange_in_use(589824, 65536, pw, sub), "600000 is in [589824, 655360)");
	CHECK(!emu_idrange_in_use(655360, 65536, pw, sub), "the next range is free");
	CHECK(emu_idrange_in_use(983040, 65536, pw, sub), "overlaps a subordinate range's start");
	CHECK(emu_idrange_in_use(1048576, 65536, pw, sub), "inside a subordinate range");
	CHECK(!emu_idrange_in_use(1114112, 65536, pw, sub), "just past a subordinate range");
	free(passwd);
	free(subuid);
}

int main(void)
{
	char tmp[] = "/tmp/xboot-test-emu.XXXXXX";
	test_table();
	test_elf();
	if (!mkdtemp(tmp)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	test_targets();
	test_binfmt_confs();
	test_detect(tmp);
	test_emulator(tmp);
	test_caps();
	test_idrange(tmp);
	if (geteuid() != 0)
		printf("# skip: emu_launch_run tests need root\n");
	else
		test_launch(tmp);
	int dfd = open("/tmp", O_RDONLY | O_DIRECTORY);
	xb_rm_rf_at(dfd, tmp + 5);
	close(dfd);
	return tap_done();
}
