/* fsmerge: moving one directory's contents into another (see fsmerge.h). */
#include "fsmerge.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

int fsmerge_into(int from, int to, const char *deb, const char *path)
{
	cleanup_strvec struct strvec names = STRVEC_INIT;
	DIR *d = fdopendir(from);
	struct dirent *de;
	int r = 0;
	if (!d) {
		close(from);
		return -errno;
	}
	/* Names first: renaming while reading may skip entries. */
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_push(&names, de->d_name);
	for (size_t i = 0; !r && i < names.n; i++) {
		const char *n = names.v[i];
		struct stat a, b;
		if (renameat2(dirfd(d), n, to, n, RENAME_NOREPLACE) == 0)
			continue;
		if (errno != EEXIST || fstatat(dirfd(d), n, &a, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fstatat(to, n, &b, 0) < 0) {
			r = -errno;
		} else if (S_ISDIR(a.st_mode) && S_ISDIR(b.st_mode)) {
			int sf = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int st = openat(to, n, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			r = sf < 0 || st < 0 ? -errno : fsmerge_into(sf, st, deb, path);
			if (sf >= 0 && st < 0)
				close(sf);
			if (st >= 0)
				close(st);
			if (!r && unlinkat(dirfd(d), n, AT_REMOVEDIR) < 0)
				r = -errno;
		} else if (S_ISDIR(b.st_mode) || renameat(dirfd(d), n, to, n) < 0) {
			xb_error("unpacking %s: %s/%s: a directory and a file meet there", deb, path, n);
			r = -EEXIST;
		}
	}
	closedir(d);
	return r;
}

