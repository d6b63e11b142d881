/* fuzz-deb.h: a .deb read as core/dpkg reads one before it extracts it,
 * shared by fuzz-deb (any bytes as the .deb) and fuzz-control (any bytes
 * as its control.tar).  Nothing is extracted: data.tar is deferred, as
 * the unpacker defers a package to read it later, or only its headers
 * are listed (debfile_ships_symlink).  Extracting would write wherever a
 * member's symlink points, which only the unpacker's chroot makes safe. */
#ifndef XB_FUZZ_DEB_H
#define XB_FUZZ_DEB_H

#include "fuzz.h"

#include <sys/stat.h>

#include "../../core/base/dpkgver.h"
#include "../../core/base/policy.h"
#include "../../core/dpkg/debfile.h"

static bool defer_all(const struct debinfo *pkg, void *ctx)
{
	(void)ctx;
	/* Only a package whose control file passed is deferred. */
	fuzz_assert(pkg->name && pkg->arch && pkg->info_name);
	return true;
}

/* The conffiles' MD5 under an empty directory, unless a path climbs out
 * of it with "..": the unpacker runs this chrooted into the target. */
static void hash_conffiles(struct debinfo *pkg)
{
	static int rootfd = -1;
	const struct debinfo_file *cf = debinfo_file(pkg, "conffiles");
	if (cf && memmem(cf->data, cf->len, "..", 2))
		return;
	if (rootfd < 0) {
		cleanup_free char *root = xasprintf("%s/root", fuzz_dir());
		if (mkdir(root, 0700) < 0 || (rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			perror(root);
			abort();
		}
	}
	(void)debinfo_hash_conffiles(rootfd, pkg);
}

static void check_pkg(struct debinfo *pkg)
{
	fuzz_assert(pkg->name && policy_package_ok(pkg->name, strlen(pkg->name)));
	fuzz_assert(pkg->arch && policy_arch_ok(pkg->arch, strlen(pkg->arch)));
	const char *v = deb822_get(&pkg->control, "Version");
	fuzz_assert(v && dpkgver_valid(v) == 0);
	fuzz_assert(pkg->info_name && !strchr(pkg->info_name, '/'));
	for (size_t i = 0; i < pkg->nfiles; i++) {
		const char *name = pkg->files[i].name;
		fuzz_assert(*name && name[0] != '.' && !strchr(name, '/'));
	}
	hash_conffiles(pkg);
	cleanup_strbuf struct strbuf md5sums = STRBUF_INIT;
	debinfo_md5sums_add(pkg, &md5sums, "./etc/fuzz.conf", "d41d8cd98f00b204e9800998ecf8427e");
	debinfo_md5sums_add(pkg, &md5sums, "usr/bin/fuzz", "d41d8cd98f00b204e9800998ecf8427e");
	debinfo_add_path(pkg, "./usr/bin/fuzz");
	debinfo_add_path(pkg, "./");
}

/* The .deb held by the fuzz memfd, read up to its data.tar. */
static void fuzz_read_deb(bool all_readers)
{
	struct debinfo pkg = { 0 };
	bool deferred = false;
	lseek(fuzz_fd, 0, SEEK_SET);
	int rc = debfile_unpack("fuzz.deb", fuzz_fd, &pkg, -1, defer_all, NULL, &deferred);
	fuzz_assert(rc <= 0);
	if (rc == 0) {
		fuzz_assert(deferred);
		check_pkg(&pkg);
	}
	debinfo_release(&pkg);
	if (!all_readers)
		return;

	struct debinfo ctl = { 0 };
	if (debfile_control(fuzz_fd_path(), &ctl) == 0)
		check_pkg(&ctl);
	debinfo_release(&ctl);
	bool is_link = false;
	(void)debfile_ships_symlink(fuzz_fd_path(), "bin", &is_link);
}

#endif
