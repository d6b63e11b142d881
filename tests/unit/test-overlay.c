/* test-overlay: what emu/overlay takes for an image, by content. */
#include "../../emu/overlay.h"
#include "../../core/base/fileio.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

static char dir[] = "/tmp/xbt-overlay-XXXXXX";

static const char *file(const char *name, const void *data, size_t len, off_t at)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (pwrite(fd, data, len, at) != (ssize_t)len)
			printf("# short write to %s\n", path);
		close(fd);
	}
	return path;
}

static int kind_of(const char *path)
{
	enum emu_image_kind k = EMU_IMAGE_NONE;
	int r = emu_image_kind(path, &k);
	return r < 0 ? r : (int)k;
}

int main(void)
{
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	xb_mute_errors(true);
	CHECK(kind_of(dir) == EMU_IMAGE_NONE, "a directory is a root");
	CHECK(kind_of(file("sq", "hsqs\0\0\0\0", 8, 0)) == EMU_IMAGE_SQUASHFS, "squashfs by its magic");
	CHECK(kind_of(file("ext", "\x53\xef", 2, 1080)) == EMU_IMAGE_EXT, "ext2/3/4 by its magic at 1080");
	/* an empty tar is two zero blocks: no member, no archive to enter */
	static char zeros[1024];
	CHECK(kind_of(file("empty.tar", zeros, sizeof(zeros), 0)) == -XB_EUSAGE, "an empty tar is refused");
	CHECK(kind_of(file("junk", "not an image", 12, 0)) == -XB_EUSAGE, "junk is refused");
	CHECK(kind_of("/nonexistent/xbt") == -ENOENT, "a missing path: ENOENT");
	char oci[300];
	snprintf(oci, sizeof(oci), "%s/img.oci", dir);
	mkdir(oci, 0755);
	file("img.oci/oci-layout", "{}", 2, 0);
	CHECK(kind_of(oci) == EMU_IMAGE_NONE, "oci-layout alone is no layout");
	file("img.oci/index.json", "{}", 2, 0);
	CHECK(kind_of(oci) == EMU_IMAGE_OCI, "oci-layout and index.json: an OCI layout");
	xb_mute_errors(false);
	xb_rm_rf_at(AT_FDCWD, dir);
	return tap_done();
}
