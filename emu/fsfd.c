/* fsfd: mounts by descriptor (see fsfd.h). */
#include "fsfd.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>

int emu_fsfd_new(const char *type, const char *const *opts, size_t n, unsigned attrs)
{
	cleanup_fd int fs = fsopen(type, FSOPEN_CLOEXEC);
	int r = fs < 0 ? -errno : 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		cleanup_free char *key = xstrdup(opts[i]);
		char *eq = strchr(key, '=');
		if (eq)
			*eq++ = 0;
		if (fsconfig(fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, eq, 0) < 0)
			r = -errno;
	}
	if (r == 0 && fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		r = -errno;
	int mnt = r < 0 ? r : fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | attrs);
	return mnt < 0 && r == 0 ? -errno : mnt;
}

int emu_fsfd_attach(int mnt, int onto)
{
	return move_mount(mnt, "", onto, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0 ? -errno
	                                                                                            : 0;
}

int emu_fsfd_bind_ro(int fromfd, const char *path, int dirfd, const char *name)
{
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | (*path ? 0 : AT_EMPTY_PATH);
	cleanup_fd int c = open_tree(fromfd, path, flags);
	struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	if (c < 0 || mount_setattr(c, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof(ro)) < 0)
		return -errno;
	cleanup_fd int at = openat(dirfd, name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	return at < 0 ? -errno : emu_fsfd_attach(c, at);
}
