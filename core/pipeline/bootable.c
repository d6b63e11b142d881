/* bootable: logins and disks (see bootable.h). */
#include "bootable.h"

#include <crypt.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "../base/fileio.h"
#include "../base/inroot.h"
#include "../output/image.h"

#define MIB (1024ull * 1024)

/* ---- logins ---- */

/* shadow's line of root with its password field set to hash. */
static int set_shadow(int rootfd, const char *hash)
{
	cleanup_strbuf struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	int r = inroot_read_file(rootfd, "etc/shadow", 1 << 20, &in);
	if (r < 0)
		return r;
	bool done = false;
	for (char *line = in.buf, *nl; *line; line = nl) {
		nl = strchrnul(line, '\n');
		nl += *nl == '\n';
		char *colon = strchr(line, ':');
		if (!done && !strncmp(line, "root:", 5) && colon && colon < nl) {
			char *end = strchr(colon + 1, ':');
			if (!end || end >= nl)
				return -XB_EPARSE;
			strbuf_addf(&out, "root:%s%.*s", hash, (int)(nl - end), end);
			done = true;
		} else {
			strbuf_add(&out, line, (size_t)(nl - line));
		}
	}
	if (!done)
		return -ESRCH;
	/* written in place: shadow keeps its owner, group and mode */
	cleanup_fd int fd = inroot_open(rootfd, "etc/shadow", O_WRONLY | O_TRUNC | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	return xb_write_all(fd, out.buf, out.len);
}

static int root_password(int rootfd, const char *file)
{
	cleanup_strbuf struct strbuf pw = STRBUF_INIT;
	int r = xb_read_file(file, &pw);
	if (r < 0) {
		xb_error("--root-password-file: reading %s: %s", file, strerror(-r));
		return r;
	}
	pw.buf[strcspn(pw.buf, "\r\n")] = '\0';
	if (!*pw.buf) {
		xb_error("--root-password-file: %s holds no password on its first line", file);
		return -XB_EUSAGE;
	}
	struct crypt_data cd = { 0 };
	const char *salt = crypt_gensalt_rn("$y$", 0, NULL, 0, cd.setting, sizeof(cd.setting));
	const char *hash = salt ? crypt_rn(pw.buf, salt, &cd, sizeof(cd)) : NULL;
	explicit_bzero(pw.buf, pw.len);
	if (!hash || *hash == '*') {
		xb_error("--root-password-file: hashing the password: %s", strerror(errno));
		return -EINVAL;
	}
	if ((r = set_shadow(rootfd, hash)) < 0)
		xb_error("setting root's password in the tree's /etc/shadow: %s",
		         r == -ESRCH    ? "it has no entry for root"
		         : r == -ENOENT ? "there is none (the passwd package makes it)"
		                        : strerror(-r));
	explicit_bzero(&cd, sizeof(cd));
	return r;
}

static int ssh_keys(int rootfd, const struct strvec *files)
{
	cleanup_strbuf struct strbuf keys = STRBUF_INIT;
	for (size_t i = 0; i < files->n; i++) {
		size_t before = keys.len;
		int r = xb_read_file(files->v[i], &keys);
		if (r < 0) {
			xb_error("--ssh-key: reading %s: %s", files->v[i], strerror(-r));
			return r;
		}
		if (!strstr(keys.buf + before, "ssh-") && !strstr(keys.buf + before, "ecdsa-")) {
			xb_error("--ssh-key: %s holds no ssh public key", files->v[i]);
			return -XB_EUSAGE;
		}
		if (keys.len && keys.buf[keys.len - 1] != '\n')
			strbuf_addch(&keys, '\n');
	}
	int r = inroot_mkdir_p(rootfd, "root/.ssh", 0700);
	if (!r)
		r = inroot_write_file(rootfd, "root/.ssh/authorized_keys", keys.buf, keys.len, 0600);
	if (r < 0)
		xb_error("writing the tree's /root/.ssh/authorized_keys: %s", strerror(-r));
	return r;
}

int bootable_login(const struct xb_plan *p, const char *root)
{
	if (!p->root_password_file && !p->ssh_keys.n)
		return 0;
	cleanup_fd int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		xb_error("opening %s: %s", root, strerror(errno));
		return -errno;
	}
	int r = p->root_password_file ? root_password(rootfd, p->root_password_file) : 0;
	return r || !p->ssh_keys.n ? r : ssh_keys(rootfd, &p->ssh_keys);
}

/* ---- disks ---- */

/* The newest /boot/vmlinuz-VERSION of the tree: VERSION, or NULL. */
static char *newest_kernel(int rootfd)
{
	int fd = inroot_open(rootfd, "boot", O_RDONLY | O_DIRECTORY, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	char *best = NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (struct dirent *e; (e = readdir(d));) {
		const char *v = str_starts_with(e->d_name, "vmlinuz-") ? e->d_name + 8 : NULL;
		if (v && *v && (!best || strverscmp(v, best) > 0)) {
			free(best);
			best = xstrdup(v);
		}
	}
	closedir(d);
	return best;
}

static bool in_tree(int rootfd, const char *path)
{
	int fd = inroot_open(rootfd, path, O_PATH, 0);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/* The tree's file from (inside it) to the host's file to, with time t. */
static int stage(int rootfd, const char *from, const char *to, long long t)
{
	cleanup_fd int in = inroot_open_regular(rootfd, from);
	cleanup_fd int out = in < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int r = in < 0 ? in : out < 0 ? -errno : xb_copy_fd(in, out);
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	if (!r && t >= 0 && futimens(out, ts) < 0)
		r = -errno;
	if (r < 0)
		xb_error("copying the tree's /%s to the EFI system partition: %s", from, strerror(-r));
	return r;
}

static int stage_text(int dirfd, const char *path, const struct strbuf *sb, long long t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	cleanup_fd int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	                           0644);
	int r = fd < 0 ? -errno : xb_write_all(fd, sb->buf, sb->len);
	if (!r && t >= 0 && futimens(fd, ts) < 0)
		r = -errno;
	if (r < 0)
		xb_error("writing the EFI system partition's %s: %s", path, strerror(-r));
	return r;
}

/* The kernel's device trees (/usr/lib/linux-image-VERSION: *.dtb, and
 * vendor directories of them) to the ESP's debian/dtbs-VERSION, where
 * extlinux.conf's fdtdir names them; nothing when the kernel has none. */
static int stage_dtbs(int rootfd, const char *from, const char *to, long long t, int depth,
                      uint64_t *bytes)
{
	int fd = inroot_open(rootfd, from, O_RDONLY | O_DIRECTORY, 0);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	cleanup_strvec struct strvec names = STRVEC_INIT;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			strvec_push(&names, e->d_name);
	closedir(d);
	strvec_sort(&names);
	if (mkdir(to, 0755) < 0) {
		xb_error("creating %s: %s", to, strerror(errno));
		return -errno;
	}
	int r = 0;
	for (size_t i = 0; !r && i < names.n; i++) {
		cleanup_free char *f = xasprintf("%s/%s", from, names.v[i]);
		cleanup_free char *out = xasprintf("%s/%s", to, names.v[i]);
		/* only what the kernel package holds: files and directories, no links */
		struct stat st = { 0 };
		int in = inroot_open(rootfd, f, O_PATH | O_NOFOLLOW, 0);
		if (in >= 0 && fstat(in, &st) < 0)
			st.st_mode = 0;
		if (in >= 0)
			close(in);
		if (S_ISDIR(st.st_mode) && depth > 0)
			r = stage_dtbs(rootfd, f, out, t, depth - 1, bytes);
		else if (S_ISREG(st.st_mode) && str_ends_with(names.v[i], ".dtb") &&
		         !(r = stage(rootfd, f, out, t)))
			*bytes += (uint64_t)st.st_size;
	}
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	if (!r && t >= 0 && utimensat(AT_FDCWD, to, ts, 0) < 0) {
		xb_error("setting the time of %s: %s", to, strerror(errno));
		r = -errno;
	}
	return r;
}

/* What U-Boot's distro boot reads on boards (armhf's): the kernel, the
 * initrd and the device trees on the ESP.  No console= here: the kernel
 * takes the board's from its device tree's stdout-path. */
static int stage_extlinux(const struct bootable_in *p, int rootfd, int dirfd,
                          const struct bootable *b, const char *kver, bool initrd, uint64_t *bytes)
{
	cleanup_free char *from = xasprintf("usr/lib/linux-image-%s", kver);
	cleanup_free char *to = xasprintf("%s/debian/dtbs-%s", b->esp_dir, kver);
	int r = xb_mkdir_p_at(dirfd, "extlinux", 0755);
	if (r < 0) {
		xb_error("staging the EFI system partition's extlinux: %s", strerror(-r));
		return r;
	}
	if ((r = stage_dtbs(rootfd, from, to, p->epoch, 1, bytes)) < 0)
		return r;
	cleanup_strbuf struct strbuf conf = STRBUF_INIT;
	strbuf_addf(&conf, "# U-Boot's distro boot (written by xboot)\ndefault debian\n"
	            "timeout 1\nmenu title Debian GNU/Linux %s\n\nlabel debian\n"
	            "\tmenu label Debian GNU/Linux %s, Linux %s\n\tlinux /debian/vmlinuz-%s\n",
	            p->title, p->title, kver, kver);
	if (initrd)
		strbuf_addf(&conf, "\tinitrd /debian/initrd.img-%s\n", kver);
	if (in_tree(rootfd, from))
		strbuf_addf(&conf, "\tfdtdir /debian/dtbs-%s/\n", kver);
	strbuf_addf(&conf, "\tappend root=UUID=%s %s\n", b->disk.root_uuid, p->fstab ? "ro" : "rw");
	return stage_text(dirfd, "extlinux/extlinux.conf", &conf, p->epoch);
}

/* The ESP: the loader, its entry, the kernel and its initrd. */
static int stage_esp(const struct bootable_in *p, int rootfd, struct bootable *b, const char *kver,
                     uint64_t *bytes)
{
	const struct emu_vm *vm = p->vm;
	long long t = p->epoch;
	cleanup_free char *loader = xasprintf("usr/lib/systemd/boot/efi/systemd-boot%s.efi", vm->efi);
	cleanup_free char *upper = xasprintf("EFI/BOOT/BOOT%s.EFI", vm->efi);
	for (char *c = upper; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	cleanup_fd int dirfd = open(b->esp_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = dirfd < 0 ? -errno : 0;
	if (!r && !(r = xb_mkdir_p_at(dirfd, "EFI/BOOT", 0755)) &&
	    !(r = xb_mkdir_p_at(dirfd, "loader/entries", 0755)))
		r = xb_mkdir_p_at(dirfd, "debian", 0755);
	if (r < 0) {
		xb_error("staging the EFI system partition in %s: %s", b->esp_dir, strerror(-r));
		return r;
	}
	cleanup_free char *to = xasprintf("%s/%s", b->esp_dir, upper);
	bool has_loader = in_tree(rootfd, loader);
	if (!has_loader)
		xb_warn("%s: the tree has no /%s (systemd-boot-efi): the disk will not boot", p->target,
		        loader);
	else if ((r = stage(rootfd, loader, to, t)) < 0)
		return r;
	cleanup_strbuf struct strbuf conf = STRBUF_INIT, entry = STRBUF_INIT;
	strbuf_addstr(&conf, "timeout 0\ndefault debian.conf\n");
	if ((r = stage_text(dirfd, "loader/loader.conf", &conf, t)) < 0 || !kver)
		return r;
	cleanup_free char *kin = xasprintf("boot/vmlinuz-%s", kver);
	cleanup_free char *iin = xasprintf("boot/initrd.img-%s", kver);
	cleanup_free char *kout = xasprintf("%s/debian/vmlinuz-%s", b->esp_dir, kver);
	cleanup_free char *iout = xasprintf("%s/debian/initrd.img-%s", b->esp_dir, kver);
	bool initrd = in_tree(rootfd, iin);
	if ((r = stage(rootfd, kin, kout, t)) < 0 || (initrd && (r = stage(rootfd, iin, iout, t)) < 0))
		return r;
	strbuf_addf(&entry, "title Debian GNU/Linux %s\nversion %s\nlinux /debian/vmlinuz-%s\n",
	            p->title, kver, kver);
	if (initrd)
		strbuf_addf(&entry, "initrd /debian/initrd.img-%s\n", kver);
	strbuf_addf(&entry, "options root=UUID=%s %s console=tty0 console=%s,115200\n",
	            b->disk.root_uuid, p->fstab ? "ro" : "rw", vm->console);
	struct stat k, i = { 0 };
	if (stat(kout, &k) == 0 && (!initrd || stat(iout, &i) == 0))
		*bytes += (uint64_t)k.st_size + (uint64_t)i.st_size;
	if ((r = stage_text(dirfd, "loader/entries/debian.conf", &entry, t)) < 0 || !vm->extlinux)
		return r;
	return stage_extlinux(p, rootfd, dirfd, b, kver, initrd, bytes);
}

/* /etc/fstab by UUID, unless the tree has one of its own.  The ESP is
 * nofail: a machine slow to show it (emulated, loaded) still comes up,
 * rather than in emergency mode for a partition only kernel updates use. */
static int write_fstab(const struct bootable_in *p, int rootfd, const struct bootable *b)
{
	cleanup_strbuf struct strbuf old = STRBUF_INIT, sb = STRBUF_INIT;
	int r = inroot_read_file(rootfd, "etc/fstab", 1 << 20, &old);
	if (r == 0 && old.len && !strstr(old.buf, "UNCONFIGURED FSTAB"))
		return 0;
	const char *s = b->disk.esp_serial;
	bool ext4 = !strcmp(b->disk.root_fs, "ext4");
	strbuf_addf(&sb, "# /etc/fstab: static file system information (written by xboot for "
	            "its disk image).\nUUID=%s / %s %s 0 1\nUUID=%.4s-%.4s /boot/efi vfat "
	            "umask=0077,nofail 0 1\n", b->disk.root_uuid, b->disk.root_fs,
	            ext4 ? "errors=remount-ro" : "defaults", s, s + 4);
	if ((r = inroot_mkdir_p(rootfd, "boot/efi", 0755)) == 0)
		r = inroot_write_file(rootfd, "etc/fstab", sb.buf, sb.len, 0644);
	if (r < 0)
		xb_error("writing the tree's /etc/fstab for %s: %s", p->target, strerror(-r));
	return r;
}

static void make_ids(const struct bootable_in *p, struct bootable *b)
{
	for (unsigned i = 0; i < ARRAY_SIZE(b->ids); i++)
		b->ids[i] = image_uuid(p->epoch, i + 1);
	/* a FAT serial: 8 upper-case hex digits */
	b->ids[4][8] = '\0';
	for (char *c = b->ids[4]; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	struct output_disk *d = &b->disk;
	d->disk_guid = b->ids[0];
	d->esp_guid = b->ids[1];
	d->root_guid = b->ids[2];
	d->root_uuid = b->ids[3];
	d->esp_serial = b->ids[4];
	d->root_fs = p->root_fs ? p->root_fs : "ext4";
	d->root_type = p->vm->root_type;
	d->bytes = p->bytes;
	d->esp_dir = b->esp_dir;
}

int bootable_disk(const struct xb_plan *plan, const char *root, const char *workdir,
                  struct bootable *b)
{
	struct bootable_in in = { plan->vm, plan->source_date_epoch, plan->root_fs, plan->disk_size,
		                  plan->target, plan->suite ? plan->suite : "", true };
	return bootable_disk_of(&in, root, workdir, b);
}

int bootable_disk_of(const struct bootable_in *p, const char *root, const char *workdir,
                     struct bootable *b)
{
	cleanup_fd int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		xb_error("opening %s: %s", root, strerror(errno));
		return -errno;
	}
	b->esp_dir = xasprintf("%s/esp", workdir);
	make_ids(p, b);
	if (mkdir(b->esp_dir, 0755) < 0) {
		xb_error("creating %s: %s", b->esp_dir, strerror(errno));
		return -errno;
	}
	cleanup_free char *kver = newest_kernel(rootfd);
	if (!kver)
		xb_warn("%s: the tree has no kernel in /boot (--kernel, or --include=linux-image-...): "
		        "the disk will not boot", p->target);
	uint64_t bytes = 0;
	int r = stage_esp(p, rootfd, b, kver, &bytes);
	if (!r && p->fstab)
		r = write_fstab(p, rootfd, b);
	/* mcopy -m gives directories their times too */
	static const char *const dirs[] = { "EFI/BOOT", "EFI", "loader/entries", "loader",
		                            "extlinux", "debian" };
	struct timespec ts[2] = { { p->epoch, 0 }, { p->epoch, 0 } };
	for (size_t i = 0; !r && p->epoch >= 0 && i < ARRAY_SIZE(dirs); i++) {
		cleanup_free char *dir = xasprintf("%s/%s", b->esp_dir, dirs[i]);
		if (utimensat(AT_FDCWD, dir, ts, 0) < 0 && errno != ENOENT)
			r = -errno;
	}
	b->disk.esp_legacy_boot = p->vm->extlinux;
	/* room for the loader, the entry and a kernel update; whole MiB */
	bytes = bytes + bytes / 2 + 32 * MIB;
	b->disk.esp_bytes = (bytes < 64 * MIB ? 64 * MIB : bytes + MIB - 1) / MIB * MIB;
	return r;
}

void bootable_release(struct bootable *b)
{
	free(b->esp_dir);
	for (size_t i = 0; i < ARRAY_SIZE(b->ids); i++)
		free(b->ids[i]);
}
