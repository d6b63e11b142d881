/* test-bootable: the EFI system partition bootable_disk_of() stages for a
 * tree: systemd-boot's entry everywhere, and for armhf (whose boards boot
 * with U-Boot's distro boot) extlinux.conf and the kernel's device trees,
 * with the ESP marked for U-Boot to find. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/base/fileio.h"
#include "../../core/pipeline/bootable.h"
#include "../../emu/vm.h"
#include "tap.h"

#define EPOCH 1700000000LL
#define KVER "6.1.0-9-armmp"

static char *tmpdir;

static void put(const char *root, const char *rel, const char *text)
{
	cleanup_free char *p = xasprintf("%s/%s", root, rel);
	cleanup_free char *dir = xstrdup(p);
	*strrchr(dir, '/') = '\0';
	CHECK(xb_mkdir_p_at(AT_FDCWD, dir, 0755) == 0 &&
	      xb_write_file_at(AT_FDCWD, p, text, strlen(text), 0644) == 0, "writing %s", p);
}

static bool has(const char *dir, const char *rel)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, rel);
	return access(p, F_OK) == 0;
}

static char *tree(const char *name)
{
	char *root = xasprintf("%s/%s", tmpdir, name);
	put(root, "boot/vmlinuz-" KVER, "kernel");
	put(root, "boot/initrd.img-" KVER, "initrd");
	put(root, "usr/lib/linux-image-" KVER "/am335x-boneblack.dtb", "dtb");
	put(root, "usr/lib/linux-image-" KVER "/vendor/board.dtb", "dtb");
	put(root, "usr/lib/linux-image-" KVER "/README", "not a device tree");
	put(root, "usr/lib/systemd/boot/efi/systemd-bootarm.efi", "loader");
	put(root, "usr/lib/systemd/boot/efi/systemd-bootx64.efi", "loader");
	put(root, "etc/fstab", "# UNCONFIGURED FSTAB FOR BASE SYSTEM\n");
	/* a link out of the kernel's directory is not copied */
	cleanup_free char *link = xasprintf("%s/usr/lib/linux-image-" KVER "/evil.dtb", root);
	CHECK(symlink("/etc/shadow", link) == 0, "symlink %s", link);
	return root;
}

static void test_armhf(void)
{
	cleanup_free char *root = tree("armhf"), *work = xasprintf("%s/armhf-work", tmpdir);
	CHECK(mkdir(work, 0755) == 0, "mkdir %s", work);
	struct bootable_in in = { emu_vm_find("armhf"), EPOCH, NULL, 0, "t.img", "trixie", true };
	struct bootable b = { 0 };
	int r = bootable_disk_of(&in, root, work, &b);
	CHECK(r == 0, "armhf's ESP staged: %d", r);
	CHECK(b.disk.esp_legacy_boot, "armhf's ESP marked LegacyBIOSBootable");
	struct strbuf conf = STRBUF_INIT;
	cleanup_free char *cpath = xasprintf("%s/extlinux/extlinux.conf", b.esp_dir);
	cleanup_free char *append = xasprintf("\tappend root=UUID=%s ro\n", b.disk.root_uuid);
	CHECK(xb_read_file(cpath, &conf) == 0, "reading %s", cpath);
	CHECK(strstr(conf.buf, "\tlinux /debian/vmlinuz-" KVER "\n") &&
	      strstr(conf.buf, "\tinitrd /debian/initrd.img-" KVER "\n") &&
	      strstr(conf.buf, "\tfdtdir /debian/dtbs-" KVER "/\n") && strstr(conf.buf, append) &&
	      !strstr(conf.buf, "console="),
	      "extlinux.conf:\n%s", conf.buf);
	strbuf_release(&conf);
	CHECK(has(b.esp_dir, "debian/vmlinuz-" KVER) && has(b.esp_dir, "debian/initrd.img-" KVER),
	      "kernel and initrd on the ESP");
	CHECK(has(b.esp_dir, "debian/dtbs-" KVER "/am335x-boneblack.dtb") &&
	      has(b.esp_dir, "debian/dtbs-" KVER "/vendor/board.dtb"),
	      "the device trees, vendor directories too, on the ESP");
	CHECK(!has(b.esp_dir, "debian/dtbs-" KVER "/README") &&
	      !has(b.esp_dir, "debian/dtbs-" KVER "/evil.dtb"),
	      "neither other files nor links copied");
	CHECK(has(b.esp_dir, "EFI/BOOT/BOOTARM.EFI") && has(b.esp_dir, "loader/entries/debian.conf"),
	      "systemd-boot for UEFI firmware as well");
	struct stat st;
	cleanup_free char *dtbs = xasprintf("%s/debian/dtbs-" KVER, b.esp_dir);
	CHECK(stat(cpath, &st) == 0 && st.st_mtime == EPOCH && stat(dtbs, &st) == 0 &&
	      st.st_mtime == EPOCH, "the ESP's new files and directories at the epoch");
	bootable_release(&b);
}

static void test_amd64(void)
{
	cleanup_free char *root = tree("amd64"), *work = xasprintf("%s/amd64-work", tmpdir);
	CHECK(mkdir(work, 0755) == 0, "mkdir %s", work);
	struct bootable_in in = { emu_vm_find("amd64"), -1, NULL, 0, "t.img", "trixie", true };
	struct bootable b = { 0 };
	int r = bootable_disk_of(&in, root, work, &b);
	CHECK(r == 0 && !b.disk.esp_legacy_boot, "amd64's ESP staged, not marked: %d", r);
	CHECK(!has(b.esp_dir, "extlinux") && !has(b.esp_dir, "debian/dtbs-" KVER) &&
	      has(b.esp_dir, "EFI/BOOT/BOOTX64.EFI"), "amd64: systemd-boot only");
	bootable_release(&b);
}

int main(void)
{
	char tmpl[] = "/tmp/xbt-bootable-XXXXXX";
	tmpdir = mkdtemp(tmpl);
	if (!tmpdir)
		return 1;
	umask(022);
	test_armhf();
	test_amd64();
	xb_rm_rf_at(AT_FDCWD, tmpdir);
	return tap_done();
}
