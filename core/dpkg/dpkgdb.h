/* dpkgdb: the dpkg database under a root directory (var/lib/dpkg), the one
 * module that writes it but for triggers/ (core/dpkg/dpkgtrig): the
 * directories and files dpkg expects, info/ as dpkg's unpack leaves it,
 * and the status file — read once into memory, every package changed
 * there, and written as dpkg writes it: the whole file atomically with the
 * previous one kept as status-old, and between those a journal of changed
 * stanzas in updates/ that every dpkg tool reads (so a script that asks
 * dpkg-query sees each package configured so far).
 *
 * Paths are relative to a directory fd of the root; core/dpkg/unpack and
 * the second stage call these from a process chrooted into the target,
 * so nothing resolves outside it.  Each function reports its own errors. */
#ifndef XB_DPKGDB_H
#define XB_DPKGDB_H

#include "debinfo.h"

#define DPKGDB "var/lib/dpkg"

/* How dpkg names a package's files in info/: "name", or "name:arch" for a
 * Multi-Arch: same package.  The caller frees it. */
char *dpkgdb_info_name(const char *name, const char *arch, bool ma_same);

/* Creates var/lib/dpkg with info/ updates/ triggers/ alternatives/ parts/
 * and the files dpkg expects (diversions, triggers/Unincorp); existing
 * files are kept. */
int dpkgdb_init(int rootfd);
/* Writes info/NAME.list and info/NAME.MEMBER for each control member,
 * removing NAME.* files an earlier version left that this one lacks. */
int dpkgdb_write_info(int rootfd, const struct debinfo *p);

/* Whether one of pkgs holds a diversion in the diversions file: 1 or 0,
 * or a negative errno code (reported) where the file cannot be read. */
int dpkgdb_diverted_by(int rootfd, const struct strvec *pkgs);

/* The status file in memory.  Start from DPKGDB_STATUS_INIT; release. */
struct dpkgdb_status {
	struct deb822 *v;  /* the stanzas, in the file's order */
	size_t n, alloc;
	unsigned journal;  /* stanzas in updates/ since the file was last written */
};
#define DPKGDB_STATUS_INIT { NULL, 0, 0, 0 }
void dpkgdb_status_release(struct dpkgdb_status *s);

/* Reads the status file (missing: empty) and the journal that dpkg may
 * have left, which is then written into it. */
int dpkgdb_status_load(int rootfd, struct dpkgdb_status *s);
/* Adds each package as "install ok unpacked" with its conffiles' MD5,
 * replacing stanzas of the same package (of the same architecture, or
 * either not Multi-Arch: same); a package listed twice: the later one. */
void dpkgdb_status_unpacked(struct dpkgdb_status *s, const struct debinfo *pkgs, size_t n);
/* The package becomes "install ok installed", without the pending
 * triggers its postinst subsumed; recorded in the journal. */
int dpkgdb_status_installed(int rootfd, struct dpkgdb_status *s, const char *name,
                            const char *arch);
/* Writes the whole file (status-new, renamed over status, the old one
 * linked to status-old) and empties the journal. */
int dpkgdb_status_write(int rootfd, struct dpkgdb_status *s);

#endif
