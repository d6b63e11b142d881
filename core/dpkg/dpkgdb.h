/* dpkgdb: the dpkg database under a root directory (var/lib/dpkg), written
 * as dpkg's own unpack would leave it: info/ files, the status file with
 * every unpacked package "install ok unpacked", and trigger interests.
 *
 * All paths are relative to a directory fd of the root; core/unpack calls
 * these from a child chrooted into the target, so nothing resolves outside
 * it.  Each function reports its own errors with xb_error(). */
#ifndef XB_DPKGDB_H
#define XB_DPKGDB_H

#include "../base/deb822.h"

struct dpkgdb_file {
	char *name; /* control.tar member name, e.g. "postinst" */
	char *data;
	size_t len;
};

/* One unpacked package.  Zero-initialise, fill files (dpkgdb_pkg_add_file)
 * and list, then dpkgdb_pkg_load_control(); free with dpkgdb_pkg_release(). */
struct dpkgdb_pkg {
	const char *deb;         /* for messages; not owned */
	struct deb822 control;   /* the control file */
	const char *name, *arch; /* point into control */
	bool ma_same;            /* Multi-Arch: same */
	char *info_name;         /* "pkg" or "pkg:arch" (Multi-Arch: same) */
	struct dpkgdb_file *files; /* other control members, in archive order */
	size_t nfiles, afiles;
	char *triggers;          /* copy of the "triggers" member, or NULL */
	struct strbuf list;      /* the .list file: "/.\n" then each path */
	struct strbuf conffiles; /* status Conffiles value: "\n /path md5"... */
};

/* Takes data (malloc'd) over; "control" is kept apart for load_control. */
void dpkgdb_pkg_add_file(struct dpkgdb_pkg *p, const char *name, char *data, size_t len);
/* The control member NAME added before, or NULL. */
const struct dpkgdb_file *dpkgdb_pkg_file(const struct dpkgdb_pkg *p, const char *name);
/* Parses the control member added before; checks Package and Architecture. */
int dpkgdb_pkg_load_control(struct dpkgdb_pkg *p);
/* Adds a data.tar member path (e.g. "./usr/bin/") to the list. */
void dpkgdb_pkg_add_path(struct dpkgdb_pkg *p, const char *member);
/* Computes the MD5 of each conffile as it is now under rootfd. */
int dpkgdb_pkg_hash_conffiles(int rootfd, struct dpkgdb_pkg *p);
/* Appends "HEX  path" for a data.tar member to md5sums, the file dpkg
 * writes for a package that ships none; conffiles are left out, as dpkg
 * leaves them out. */
void dpkgdb_md5sums_add(const struct dpkgdb_pkg *p, struct strbuf *md5sums, const char *member,
                        const char *hex);
/* Frees the control members (keeps control, triggers, list, conffiles). */
void dpkgdb_pkg_drop_files(struct dpkgdb_pkg *p);
void dpkgdb_pkg_release(struct dpkgdb_pkg *p);

/* Creates var/lib/dpkg with info/ updates/ triggers/ alternatives/ parts/
 * and the files dpkg expects (available, diversions, statoverride,
 * triggers/Unincorp); existing files are kept. */
int dpkgdb_init(int rootfd);
/* Writes info/NAME.list and info/NAME.MEMBER for each control member,
 * removing NAME.* files an earlier version left that this one lacks. */
int dpkgdb_write_info(int rootfd, const struct dpkgdb_pkg *p);
/* Merges the packages into triggers/ and the status file (one atomic
 * rename), replacing stanzas of the same package and architecture. */
int dpkgdb_commit(int rootfd, const struct dpkgdb_pkg *pkgs, size_t n);

#endif
