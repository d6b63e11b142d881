/* fsfd: file systems and bind mounts made by descriptor (the new mount
 * API), for what a session mounts in its own namespace: a path the
 * namespace's root may not pass, or one swapped meanwhile, is never
 * walked. */
#ifndef XB_EMU_FSFD_H
#define XB_EMU_FSFD_H

#include "../core/base/util.h"

/* A new file system of type with the options ("key=value", or "key" for
 * a flag), as a detached mount, nosuid, nodev and with attrs
 * (MOUNT_ATTR_*): its fd, or -errno. */
int emu_fsfd_new(const char *type, const char *const *opts, size_t n, unsigned attrs);
/* The mount mnt attached on what onto is open on; 0 or -errno. */
int emu_fsfd_attach(int mnt, int onto);
/* A read-only, nosuid, nodev clone of the mount tree at path (relative to
 * fromfd, "" for fromfd itself; recursive), attached on dirfd's entry
 * name, which must exist; 0 or -errno. */
int emu_fsfd_bind_ro(int fromfd, const char *path, int dirfd, const char *name);

#endif
