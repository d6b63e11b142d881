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
	size_t n;
	const struct emu_arch *all = emu_arch_all(&n);
	CHECK(n >= 9 && all, "table size %zu", n);
	for (size_t i = 0; i < n; i++)
		CHECK(strlen(all[i].magic) == strlen(all[i].mask), "%s: magic and mask differ in length",
		      all[i].deb);
	const struct emu_arch *h = emu_arch_host();
	CHECK(h && emu_arch_is_native(h), "host arch is native");
#if defined(__x86_64__)
	CHECK(h && !strcmp(h->deb, "amd64"), "host is amd64");
	CHECK(emu_arch_is_native(emu_arch_find("i386")), "i386 native on amd64");
	CHECK(!emu_arch_is_native(emu_arch_find("armhf")), "armhf foreign on amd64");
#endif
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
