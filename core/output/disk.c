/* disk: raw GPT disk images (see disk.h). */
#include "disk.h"

#include <dirent.h>
#include <errno.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/fileio.h"
#include "../base/outfile.h"
#include "image.h"

#define MIB (1024ull * 1024)

/* The ESP in the file path: a FAT32 of d->esp_bytes holding d->esp_dir. */
static int make_esp(const struct output_disk *d, const char *path, const char *target,
                    const struct output_opts *o)
{
	cleanup_free char *mkfs = image_need_tool(target, "mkfs.fat", "dosfstools");
	cleanup_free char *mcopy = mkfs ? image_need_tool(target, "mcopy", "mtools") : NULL;
	if (!mcopy)
		return -ENOENT;
	cleanup_strvec struct strvec argv = STRVEC_INIT, cp = STRVEC_INIT;
	cleanup_fd int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)d->esp_bytes) < 0) {
		xb_error("writing %s: sizing %s: %s", target, path, strerror(errno));
		return -errno;
	}
	strvec_pushl(&argv, mkfs, "--invariant", "-F", "32", "-n", "ESP", "-i", d->esp_serial,
	             path, NULL);
	strvec_pushf(&argv, "%llu", (unsigned long long)(d->esp_bytes / 1024));
	/* mkfs.fat prints its banner on stdout: only its errors are shown */
	cleanup_strbuf struct strbuf errs = STRBUF_INIT;
	int r = image_run_tool(&argv, o, IMAGE_TIME_NONE, -2, target, &errs);
	if (r < 0) {
		xb_error("writing %s: mkfs.fat: %s", target, str_trim(errs.buf));
		return r;
	}
	/* -s: the directories; -m: the files' times, which machine set */
	cleanup_strvec struct strvec names = STRVEC_INIT;
	DIR *dir = opendir(d->esp_dir);
	if (!dir) {
		xb_error("writing %s: reading %s: %s", target, d->esp_dir, strerror(errno));
		return -errno;
	}
	for (struct dirent *e; (e = readdir(dir));)
		if (e->d_name[0] != '.')
			strvec_pushf(&names, "%s/%s", d->esp_dir, e->d_name);
	closedir(dir);
	strvec_sort(&names);
	strvec_pushl(&cp, mcopy, "-s", "-m", "-Q", "-i", path, NULL);
	strvec_pushv(&cp, &names);
	strvec_push(&cp, "::/");
	return image_run_tool(&cp, o, IMAGE_TIME_SDE, -2, target, NULL);
}

static int make_empty(const char *path, const char *target, bool *made)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		xb_error("writing %s: creating %s: %s", target, path, strerror(errno));
		return -errno;
	}
	close(fd);
	*made = true;
	return 0;
}

/* The partition table, as sfdisk reads it on stdin. */
static int make_table(const struct output_disk *d, const char *path, uint64_t esp_off,
                      uint64_t root_off, uint64_t root_bytes, const char *target,
                      const struct output_opts *o)
{
	cleanup_free char *sfdisk = image_need_tool(target, "sfdisk", "fdisk");
	if (!sfdisk)
		return -ENOENT;
	cleanup_strbuf struct strbuf script = STRBUF_INIT;
	strbuf_addf(&script, "label: gpt\nlabel-id: %s\nunit: sectors\nsector-size: 512\n"
	            "first-lba: 2048\n\n", d->disk_guid);
	strbuf_addf(&script, "start=%llu, size=%llu, type=%s, uuid=%s, name=\"esp\"%s\n",
	            (unsigned long long)(esp_off / 512), (unsigned long long)(d->esp_bytes / 512),
	            DISK_ESP_TYPE, d->esp_guid,
	            d->esp_legacy_boot ? ", attrs=\"LegacyBIOSBootable\"" : "");
	strbuf_addf(&script, "start=%llu, size=%llu, type=%s, uuid=%s, name=\"root\"\n",
	            (unsigned long long)(root_off / 512), (unsigned long long)(root_bytes / 512),
	            d->root_type, d->root_guid);
	cleanup_fd int in = memfd_create("xboot-sfdisk", MFD_CLOEXEC);
	if (in < 0 || xb_write_all(in, script.buf, script.len) < 0 || lseek(in, 0, SEEK_SET) < 0) {
		xb_error("writing %s: the partition table's script: %s", target, strerror(errno));
		return -errno;
	}
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	strvec_pushl(&argv, sfdisk, "-q", "--no-reread", "--no-tell-kernel", "--wipe", "always",
	             path, NULL);
	return image_run_tool(&argv, o, IMAGE_TIME_NONE, in, target, NULL);
}

/* Copies the file at path into out at offset off, its holes left holes. */
static int copy_in(const char *path, int out, uint64_t off, const char *target)
{
	cleanup_fd int in = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0)
		goto fail;
	for (off_t pos = 0; pos < st.st_size;) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;
		off_t hole = data < 0 ? -1 : lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			goto fail;
		loff_t from = data, to = (loff_t)off + data;
		while (from < hole) {
			ssize_t n = copy_file_range(in, &from, out, &to, (size_t)(hole - from), 0);
			if (n <= 0) {
				errno = n < 0 ? errno : EIO;
				goto fail;
			}
		}
		pos = hole;
	}
	return 0;
fail:
	xb_error("writing %s: copying %s into it: %s", target, path, strerror(errno));
	return -errno;
}

int disk_write(const char *rootdir, const char *target, const struct output_opts *o)
{
	const struct output_disk *d = o->disk;
	if (!d) {
		xb_error("writing %s: no disk layout for this architecture", target);
		return -EINVAL;
	}
	if (!strcmp(target, "-")) {
		xb_error("cannot write a disk image to standard output");
		return -XB_EUSAGE;
	}
	struct outfile of = OUTFILE_INIT;
	cleanup_free char *esp = xasprintf("%s.esp-%ld", target, (long)getpid());
	cleanup_free char *root = xasprintf("%s.root-%ld", target, (long)getpid());
	const uint64_t esp_off = MIB, root_off = esp_off + d->esp_bytes;
	uint64_t root_bytes = 0;
	if (d->bytes && d->bytes < root_off + 2 * MIB) {
		xb_error("writing %s: --size is smaller than its EFI system partition", target);
		return -ENOSPC;
	}
	if (d->bytes)
		root_bytes = (d->bytes - root_off - MIB) / MIB * MIB;
	uint64_t asked = root_bytes;
	/* both made here, so that only what this run made is removed */
	bool made_root = false, made_esp = false;
	int r = make_empty(root, target, &made_root);
	if (!r)
		r = make_empty(esp, target, &made_esp);
	if (!r)
		r = image_make_fs(rootdir, root, d->root_fs, d->root_uuid, &root_bytes, target, o);
	if (!r && asked && root_bytes > asked) {
		xb_error("writing %s: mkfs.%s made a root file system of %llu MiB, more than the "
		         "%llu MiB --size leaves it", target, d->root_fs,
		         (unsigned long long)(root_bytes / MIB), (unsigned long long)(asked / MIB));
		r = -ENOSPC;
	}
	if (!r)
		r = make_esp(d, esp, target, o);
	/* the backup table at the end; --size exactly where it is given */
	uint64_t total = d->bytes ? d->bytes & ~511ull : root_off + root_bytes + MIB;
	if (!r && !(r = outfile_open(&of, target, false)) && ftruncate(of.fd, (off_t)total) < 0) {
		r = -errno;
		xb_error("writing %s: %s", of.tmp, strerror(-r));
	}
	if (!r)
		r = make_table(d, of.tmp, esp_off, root_off, root_bytes, target, o);
	if (!r && !(r = copy_in(esp, of.fd, esp_off, target)))
		r = copy_in(root, of.fd, root_off, target);
	if (!r)
		r = outfile_commit(&of);
	outfile_release(&of);
	if (made_root)
		unlink(root);
	if (made_esp)
		unlink(esp);
	return r;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A GUID as GPT stores it: three little-endian fields, then bytes. */
static void guid_str(const unsigned char *g, char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12],
	         g[13], g[14], g[15]);
}

int disk_partitions(const char *path, struct disk_part *parts, size_t max, size_t *n)
{
	unsigned char hdr[92], e[128];
	cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
	*n = 0;
	if (fd < 0) {
		xb_error("opening %s: %s", path, strerror(errno));
		return -errno;
	}
	if (pread(fd, hdr, sizeof(hdr), 512) != sizeof(hdr) || memcmp(hdr, "EFI PART", 8)) {
		xb_error("%s: no GPT partition table (a disk image xboot made has one)", path);
		return -XB_EPARSE;
	}
	uint64_t lba = le64(hdr + 72);
	uint32_t count = (uint32_t)le64(hdr + 80) & 0xffffffffu, size = (uint32_t)le64(hdr + 84);
	if (size < sizeof(e) || count > 1024) {
		xb_error("%s: a GPT partition table xboot cannot read", path);
		return -XB_EPARSE;
	}
	for (uint32_t i = 0; i < count && *n < max; i++) {
		if (pread(fd, e, sizeof(e), (off_t)(lba * 512 + (uint64_t)i * size)) != sizeof(e))
			break;
		static const unsigned char unused[16];
		if (!memcmp(e, unused, 16))
			continue;
		struct disk_part *p = &parts[(*n)++];
		guid_str(e, p->type);
		p->offset = le64(e + 32) * 512;
		p->bytes = (le64(e + 40) - le64(e + 32) + 1) * 512;
	}
	return 0;
}
