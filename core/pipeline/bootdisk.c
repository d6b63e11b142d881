/* bootdisk: what a disk image holds (see bootdisk.h). */
#include "bootdisk.h"

#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

#include "../base/fileio.h"
#include "../base/spawn.h"
#include "../output/disk.h"
#include "../output/image.h"
#include "../../emu/vm.h"

static int find_machine(struct bootdisk *d)
{
	struct disk_part parts[16];
	size_t n;
	int r = disk_partitions(d->path, parts, ARRAY_SIZE(parts), &n);
	const struct disk_part *esp = NULL;
	for (size_t i = 0; !r && i < n; i++) {
		if (!strcasecmp(parts[i].type, DISK_ESP_TYPE) && !esp)
			esp = &parts[i];
		else if (!d->vm && !d->arch)
			d->vm = emu_vm_by_root_type(parts[i].type);
	}
	if (r)
		return r;
	if (d->arch && !(d->vm = emu_vm_find(d->arch))) {
		xb_error("--arch=%s: xboot boots %s", d->arch, emu_vm_names());
		return -XB_EARCH;
	}
	if (!esp || !d->vm) {
		xb_error("%s: no %s partition; xboot boots the disks it makes (TARGET NAME.img)",
		         d->name, esp ? "root partition of a type that names the architecture "
		                  "(give --arch)" : "EFI system");
		return -XB_EPARSE;
	}
	d->esp = xasprintf("%s@@%llu", d->path, (unsigned long long)esp->offset);
	return 0;
}

/* An mtools command on the ESP; its output in out (may be NULL). */
static int mtools(const char *tool, struct bootdisk *d, const char *arg, const char *arg2,
                  struct strbuf *out)
{
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	cleanup_strbuf struct strbuf junk = STRBUF_INIT;
	struct spawn_opts so = SPAWN_OPTS_INIT;
	cleanup_fd int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int status;
	strvec_pushl(&argv, tool, "-i", d->esp, arg, arg2, NULL);
	so.in_fd = -2;
	so.err_fd = null;
	so.capture = out ? out : &junk;
	return xb_spawn(argv.v, &so, &status);
}

static int check_loader(struct bootdisk *d)
{
	cleanup_free char *loader = xasprintf("::/EFI/BOOT/BOOT%s.EFI", d->vm->efi);
	for (char *c = loader; *c; c++)
		*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
	cleanup_free char *copy = xasprintf("%s/loader.efi", d->work);
	if (mtools("mcopy", d, loader, copy, NULL) < 0) {
		xb_error("%s: no EFI loader (%s) on its EFI system partition", d->name,
		         loader + 3);
		return -ENOENT;
	}
	/* CMD rides on io.systemd.boot.kernel-cmdline-extra, systemd-boot 256's */
	cleanup_strbuf struct strbuf efi = STRBUF_INIT;
	const char *mark = "LoaderInfo: systemd-boot ";
	const char *at = xb_read_file(copy, &efi) == 0 ? memmem(efi.buf, efi.len, mark, strlen(mark))
	                                               : NULL;
	if (d->cmd && (!at || atoi(at + strlen(mark)) < 256)) {
		xb_error("%s: its loader is not systemd-boot 256 or later (trixie's), which a "
		         "command needs (it reads SMBIOS io.systemd.boot.kernel-cmdline-extra)",
		         d->name);
		return -ENOTSUP;
	}
	return 0;
}

/* The kernel U-Boot's distro boot would start: extlinux.conf's first
 * "linux" (or "kernel") line, copied out for the KVM probe. */
static int check_extlinux(struct bootdisk *d)
{
	cleanup_strbuf struct strbuf conf = STRBUF_INIT;
	if (mtools("mtype", d, "::/extlinux/extlinux.conf", NULL, &conf) < 0) {
		xb_error("%s: no extlinux/extlinux.conf on its EFI system partition, which U-Boot "
		         "boots (xboot writes one for armhf)", d->name);
		return -ENOENT;
	}
	for (char *line = strtok(conf.buf, "\n"); line; line = strtok(NULL, "\n")) {
		line = str_trim(line);
		const char *k = str_starts_with(line, "linux ") ? line + 6
		                : str_starts_with(line, "kernel ") ? line + 7 : NULL;
		cleanup_free char *src = k ? xasprintf("::%s", str_trim((char *)k)) : NULL;
		if (src && mtools("mcopy", d, src, d->kernel, NULL) == 0)
			return 0;
	}
	xb_error("%s: the kernel its extlinux/extlinux.conf names is not on its EFI system "
	         "partition", d->name);
	return -ENOENT;
}

/* A kernel an entry names (copied out for the KVM probe), and the loader
 * the firmware starts. */
static int check_esp(struct bootdisk *d)
{
	cleanup_free char *mdir = image_find_tool("mdir");
	if (!mdir) {
		xb_error("mdir not found: install mtools (to read %s's EFI system partition)",
		         d->name);
		return -ENOENT;
	}
	if (d->uboot)
		return check_extlinux(d);
	cleanup_strbuf struct strbuf list = STRBUF_INIT;
	cleanup_strvec struct strvec entries = STRVEC_INIT;
	if (mtools("mdir", d, "-b", "::/loader/entries", &list) == 0)
		strvec_split(&entries, list.buf, "\n");
	for (size_t i = 0; i < entries.n; i++) {
		cleanup_strbuf struct strbuf conf = STRBUF_INIT;
		if (!str_ends_with(entries.v[i], ".conf") || mtools("mtype", d, entries.v[i], NULL, &conf))
			continue;
		for (char *line = strtok(conf.buf, "\n"); line; line = strtok(NULL, "\n")) {
			if (strncmp(line, "linux ", 6))
				continue;
			cleanup_free char *src = xasprintf("::%s", str_trim(line + 6));
			if (mtools("mcopy", d, src, d->kernel, NULL) == 0)
				return check_loader(d);
		}
	}
	xb_error("%s has no kernel on its EFI system partition (make it with --kernel, or "
	         "--include=linux-image-...)", d->name);
	return -ENOENT;
}

int bootdisk_inspect(struct bootdisk *d)
{
	int r = find_machine(d);
	return r < 0 ? r : check_esp(d);
}

void bootdisk_release(struct bootdisk *d)
{
	free(d->esp);
}
