/* binfmt: a private binfmt_misc instance, or the host's entries. */
#include "binfmt.h"
#include "emulator.h"
#include "../core/base/inroot.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>

/* A binfmt_misc mount that is in no mount table: the instance of the
 * caller's user namespace, reachable through the fd alone. */
static int detached_mount(int *mntfd)
{
	int fs = fsopen("binfmt_misc", FSOPEN_CLOEXEC);
	int m = -1;
	if (fs >= 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	int r = m < 0 ? -errno : 0;
	if (fs >= 0)
		close(fs);
	*mntfd = m;
	return r;
}

/* The instance lives while a mount of it exists; on the root's /proc it is
 * also visible to programs inside, as on a real system. */
static int mount_instance(int rootfd, const char *root, int *mntfd)
{
	int t = inroot_open(rootfd, "proc/sys/fs/binfmt_misc", O_PATH | O_DIRECTORY, 0);
	if (t >= 0) {
		char at[32];
		snprintf(at, sizeof(at), "/proc/self/fd/%d", t);
		int r = mount("binfmt_misc", at, "binfmt_misc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
		close(t);
		if (r == 0) {
			*mntfd = inroot_open(rootfd, "proc/sys/fs/binfmt_misc", O_PATH | O_DIRECTORY, 0);
			if (*mntfd >= 0)
				return 0;
		}
		/* Mounted but unreachable: fall through to a detached one. */
		xb_debug("mounting binfmt_misc in %s/proc: %s", root, strerror(errno));
	}
	/* A detached mount, kept alive by its fd until this process exits. */
	return detached_mount(mntfd);
}

static int register_one(int mntfd, const struct emu_binfmt *b)
{
	const struct emu_arch *a = b->arch;
	/* F: the emulator is opened now, so it need not be inside the root;
	 * P: argv[0] is kept (qemu reads AT_FLAGS_PRESERVE_ARGV0); O: the
	 * binary is passed open, so execute-only files work. */
	cleanup_free char *line = xasprintf(":xboot-%s:M::%s:%s:%s:POF", a->qemu, a->magic,
					    a->mask, b->emulator);
	int fd = openat(mntfd, "register", O_WRONLY | O_CLOEXEC);
	int r = fd < 0 ? -errno : xb_write_all(fd, line, strlen(line));
	if (fd >= 0)
		close(fd);
	if (r < 0)
		xb_error("registering %s for %s in binfmt_misc: %s", b->emulator, a->deb, strerror(-r));
	return r;
}

/* The hex string after "magic " or "mask " in an entry's file. */
static size_t unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	while (n < max && isxdigit((unsigned char)s[0]) && isxdigit((unsigned char)s[1])) {
		char hex[3] = { s[0], s[1], 0 };
		out[n++] = (unsigned char)strtoul(hex, NULL, 16);
		s += 2;
	}
	return n;
}

static const char *field(const char *text, const char *key)
{
	size_t k = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, k))
			return l + k;
	return NULL;
}

/* An entry (the text of its file) that is enabled, matches at offset 0 the
 * ELF header the arch table gives for a, and so would run a's programs.
 * *interp gets its interpreter (malloc'd), *fflag whether it has F. */
static bool entry_matches(const char *text, const struct emu_arch *a, char **interp, bool *fflag)
{
	unsigned char want[64], magic[128], mask[128];
	const char *m = field(text, "magic "), *k = field(text, "mask ");
	const char *off = field(text, "offset "), *in = field(text, "interpreter ");
	const char *fl = field(text, "flags: ");
	if (!str_starts_with(text, "enabled\n") || !m || !in || (off && atoi(off) != 0))
		return false;
	size_t nw = emu_arch_bytes(a->magic, want, sizeof(want));
	size_t nm = unhex(m, magic, sizeof(magic));
	size_t nk = k ? unhex(k, mask, sizeof(mask)) : 0;
	if (nm == 0 || nm > nw)
		return false;
	for (size_t i = 0; i < nm; i++) {
		unsigned char mk = i < nk ? mask[i] : 0xff;
		if ((want[i] & mk) != (magic[i] & mk))
			return false;
	}
	*interp = xstrndup(in, strcspn(in, "\n"));
	*fflag = fl && memchr(fl, 'F', strcspn(fl, "\n"));
	return true;
}

/* The name of a usable entry for a in the instance at dirfd, or NULL;
 * *interp_out (malloc'd) its interpreter. */
static char *find_entry(int dirfd, const char *root, const struct emu_arch *a, bool need_f,
			char **interp_out)
{
	cleanup_fd int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	char *found = NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (struct dirent *e; !found && (e = readdir(d));) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "register") || !strcmp(e->d_name, "status"))
			continue;
		/* Another run's temporary entry: it goes when that run ends. */
		if (str_starts_with(e->d_name, "xboot-"))
			continue;
		cleanup_strbuf struct strbuf sb = STRBUF_INIT;
		cleanup_free char *interp = NULL;
		bool fflag;
		int f = openat(dirfd, e->d_name, O_RDONLY | O_CLOEXEC);
		if (f < 0)
			continue;
		int r = xb_read_fd(f, &sb);
		close(f);
		if (r < 0 || !entry_matches(sb.buf, a, &interp, &fflag) || (need_f && !fflag))
			continue;
		/* With F the kernel holds the interpreter open; without, it is
		 * looked up inside the root at each exec. */
		int ok = fflag ? access(interp, X_OK) : inroot_open(rootfd, interp, O_PATH, 0);
		if (ok >= 0) {
			if (!fflag)
				close(ok);
			found = xstrdup(e->d_name);
			*interp_out = steal_pointer(&interp);
		}
	}
	closedir(d);
	return found;
}

/* Kernels before 6.7: the host's entry must exist, be enabled, and have F
 * (its interpreter path need not exist inside the root). */
static int check_host_entry(const char *root, const struct emu_binfmt *b)
{
	const struct emu_arch *a = b->arch;
	cleanup_fd int dfd = open("/proc/sys/fs/binfmt_misc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_free char *interp = NULL;
	cleanup_free char *name = dfd < 0 ? NULL : find_entry(dfd, root, a, true, &interp);
	if (name) {
		if (b->say)
			xb_debug("%s programs run under %s, through the host's binfmt_misc entry %s "
			         "(this kernel has no private instance)", a->deb, interp, name);
		return 0;
	}
	xb_error("cannot run %s programs: this kernel has no private binfmt_misc (Linux >= 6.7); "
		 "enable the host's qemu-%s binfmt_misc entry with the F flag (%s)",
		 a->deb, a->qemu, emu_emulator_package());
	return -XB_EARCH;
}

int emu_binfmt_setup(int rootfd, const char *root, const struct emu_binfmt *v, size_t n)
{
	if (n == 0)
		return 0;
	int mntfd = -1;
	int r = mount_instance(rootfd, root, &mntfd);
	if (r < 0) {
		xb_debug("no private binfmt_misc instance: %s", strerror(-r));
		/* Nested roots get what the host has; the root itself must run. */
		for (size_t i = 0; i < n; i++)
			if (v[i].root && (r = check_host_entry(root, &v[i])) < 0)
				return r;
		return 0;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		r = register_one(mntfd, &v[i]);
		if (r == 0 && v[i].say)
			xb_debug("%s programs run under %s, registered in the session's own binfmt_misc "
			         "instance", v[i].arch->deb, v[i].emulator);
	}
	/* mntfd stays open (close-on-exec) for the life of this process: a
	 * detached mount, and with it the entries, lives only as long. */
	return r;
}

int emu_binfmt_host_setup(const char *root, const struct emu_binfmt *b,
			  struct emu_host_binfmt *h, char **how)
{
	const struct emu_arch *a = b->arch;
	cleanup_strbuf struct strbuf status = STRBUF_INIT;
	int r = detached_mount(&h->mntfd);
	if (r < 0) {
		xb_error("cannot run %s programs: no user namespace here (chrooted?) and the host's "
			 "binfmt_misc cannot be mounted: %s; load it (modprobe binfmt_misc) or run "
			 "xboot outside the chroot", a->deb, strerror(-r));
		return r;
	}
	int sfd = openat(h->mntfd, "status", O_RDONLY | O_CLOEXEC);
	if (sfd >= 0) {
		xb_read_fd(sfd, &status);
		close(sfd);
	}
	if (!str_starts_with(status.buf, "enabled")) {
		xb_error("cannot run %s programs: the host's binfmt_misc is disabled; enable it "
			 "(echo 1 > /proc/sys/fs/binfmt_misc/status)", a->deb);
		return -XB_EARCH;
	}
	cleanup_free char *interp = NULL;
	char *name = find_entry(h->mntfd, root, a, false, &interp);
	if (name) {
		/* The entry stands for its interpreter, the host's business. */
		*how = xasprintf("the host's binfmt_misc entry %s", name);
		free(name);
		return 0;
	}
	name = xasprintf("xboot-%s-%ld", a->qemu, (long)getpid());
	cleanup_free char *line = xasprintf(":%s:M::%s:%s:%s:POF", name, a->magic, a->mask,
					    b->emulator);
	int fd = openat(h->mntfd, "register", O_WRONLY | O_CLOEXEC);
	r = fd < 0 ? -errno : xb_write_all(fd, line, strlen(line));
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		xb_error("registering %s for %s in the host's binfmt_misc: %s", b->emulator,
			 a->deb, strerror(-r));
		free(name);
		return r;
	}
	h->name = name;
	*how = xasprintf("a temporary entry %s in the host's binfmt_misc, for %s", name, b->emulator);
	return 0;
}

void emu_binfmt_host_release(struct emu_host_binfmt *h)
{
	if (h->name) {
		int fd = openat(h->mntfd, h->name, O_WRONLY | O_CLOEXEC);
		int r = fd < 0 ? -errno : xb_write_all(fd, "-1", 2);
		if (fd >= 0)
			close(fd);
		if (r < 0)
			xb_error("removing the host's binfmt_misc entry %s: %s", h->name, strerror(-r));
		free(h->name);
		h->name = NULL;
	}
	if (h->mntfd >= 0)
		close(h->mntfd);
	h->mntfd = -1;
}
