/* binfmt: a private binfmt_misc instance, or the host's entries. */
#include "binfmt.h"
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>

/* The instance lives while a mount of it exists; on the root's /proc it is
 * also visible to programs inside, as on a real system. */
static int mount_instance(int rootfd, const char *root, int *mntfd)
{
	int t = emu_open_at_root(rootfd, "proc/sys/fs/binfmt_misc", O_PATH | O_DIRECTORY);
	if (t >= 0) {
		char at[32];
		snprintf(at, sizeof(at), "/proc/self/fd/%d", t);
		int r = mount("binfmt_misc", at, "binfmt_misc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
		close(t);
		if (r == 0) {
			*mntfd = emu_open_at_root(rootfd, "proc/sys/fs/binfmt_misc", O_PATH | O_DIRECTORY);
			if (*mntfd >= 0)
				return 0;
		}
		/* Mounted but unreachable: fall through to a detached one. */
		xb_debug("mounting binfmt_misc in %s/proc: %s", root, strerror(errno));
	}
	/* A detached mount, kept alive by its fd until this process exits. */
	int fs = fsopen("binfmt_misc", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -errno;
	int m = -1;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	int e = errno;
	close(fs);
	if (m < 0)
		return -e;
	*mntfd = m;
	return 0;
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

/* Kernels before 6.7: the host's entry must exist, be enabled, and have F
 * (its interpreter path need not exist inside the root). */
static int check_host_entry(const struct emu_arch *a)
{
	cleanup_free char *path = xasprintf("/proc/sys/fs/binfmt_misc/qemu-%s", a->qemu);
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	if (xb_read_file(path, &sb) == 0 && str_starts_with(strbuf_str(&sb), "enabled\n")) {
		const char *f = strstr(strbuf_str(&sb), "\nflags: ");
		if (f && strchr(f + 8, 'F') && strchr(f + 8, 'F') < strchrnul(f + 8, '\n'))
			return 0;
	}
	xb_error("cannot run %s programs: this kernel has no private binfmt_misc (Linux >= 6.7); "
		 "enable the host's qemu-%s binfmt_misc entry with the F flag (qemu-user-static)",
		 a->deb, a->qemu);
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
		for (size_t i = 0; i < n; i++)
			if ((r = check_host_entry(v[i].arch)) < 0)
				return r;
		return 0;
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = register_one(mntfd, &v[i]);
	/* mntfd stays open (close-on-exec) for the life of this process: a
	 * detached mount, and with it the entries, lives only as long. */
	return r;
}
