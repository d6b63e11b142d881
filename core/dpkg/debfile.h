/* debfile: one .deb read as dpkg reads it — the ar members in order
 * (debian-binary, control.tar*, data.tar*), control.tar into a struct
 * debinfo, data.tar extracted with libarchive relative to the current
 * directory, which core/dpkg/unpack has made the root of a chroot into the
 * target.  Packages may be read by several threads at once: a symlink
 * entry waits for every other entry to be written and is written alone,
 * and a directory another package laid out where the symlink goes is
 * merged through it (core/dpkg/fsmerge), as in-order extraction would have. */
#ifndef XB_DEBFILE_H
#define XB_DEBFILE_H

#include "debinfo.h"

/* Called once the control member is read, before data.tar: true leaves
 * data.tar unread, for the caller to read the package again later. */
typedef bool (*debfile_defer_fn)(const struct debinfo *pkg, void *ctx);

/* Reads the .deb open on fd into pkg (zero-initialised; the caller
 * releases it) and extracts its files, computing an md5sums member for a
 * package that ships none, and the MD5 of each conffile under rootfd.
 * deb names the package in messages (pkg->deb points to it).  With defer
 * (may be NULL) saying so, sets *deferred and returns 0 having extracted
 * nothing.  Each failure is reported once, naming deb: -XB_EUNSAFE for a
 * member outside the target, -XB_EPARSE for a corrupt archive. */
int debfile_unpack(const char *deb, int fd, struct debinfo *pkg, int rootfd,
                   debfile_defer_fn defer, void *ctx, bool *deferred);

/* Whether the data.tar of the .deb at path deb has path (no leading "./")
 * as a symlink: *is_link false when it has it otherwise or not at all.
 * Reports errors. */
/* The control members of deb into pkg (zero-initialised; the caller
 * releases it with debinfo_release()), its control file parsed and
 * checked as debfile_unpack() does.  Reports errors. */
int debfile_control(const char *deb, struct debinfo *pkg);

int debfile_ships_symlink(const char *deb, const char *path, bool *is_link);

#endif
