/* debinfo: what dpkg keeps of one .deb as it unpacks it — the control
 * file, the other control members (scripts, conffiles, triggers,
 * md5sums), the list of its paths, and its conffiles with their MD5 —
 * filled in by core/dpkg/debfile as the archive streams by, and written
 * into var/lib/dpkg by core/dpkg/dpkgdb and dpkgtrig. */
#ifndef XB_DEBINFO_H
#define XB_DEBINFO_H

#include "../base/deb822.h"

struct dpkgfilter;

struct debinfo_file {
	char *name; /* control.tar member name, e.g. "postinst" */
	char *data;
	size_t len;
};

/* One unpacked package.  Zero-initialise, fill files (debinfo_add_file)
 * and list, then debinfo_load_control(); free with debinfo_release(). */
struct debinfo {
	const char *deb;         /* for messages; not owned */
	const struct dpkgfilter *filter; /* paths not unpacked (--path-exclude); may be NULL */
	struct deb822 control;   /* the control file */
	const char *name, *arch; /* point into control */
	bool ma_same;            /* Multi-Arch: same */
	char *info_name;         /* its name in info/ (dpkgdb_info_name) */
	struct debinfo_file *files; /* other control members, in archive order */
	size_t nfiles, afiles;
	char *triggers;          /* copy of the "triggers" member, or NULL */
	struct strbuf list;      /* the .list file: "/.\n" then each path */
	struct strbuf conffiles; /* status Conffiles value: "\n /path md5"... */
};

/* Takes data (malloc'd) over; "control" is kept apart for load_control. */
void debinfo_add_file(struct debinfo *p, const char *name, char *data, size_t len);
/* The control member NAME added before, or NULL. */
const struct debinfo_file *debinfo_file(const struct debinfo *p, const char *name);
/* Parses the control member added before; checks Package, Architecture
 * and Version (as dpkg does, which refuses an invalid one). */
int debinfo_load_control(struct debinfo *p);
/* Adds a data.tar member path (e.g. "./usr/bin/") to the list. */
void debinfo_add_path(struct debinfo *p, const char *member);
/* Computes the MD5 of each conffile as it is now under rootfd. */
int debinfo_hash_conffiles(int rootfd, struct debinfo *p);
/* Appends "HEX  path" for a data.tar member to md5sums, the file dpkg
 * writes for a package that ships none; conffiles are left out, as dpkg
 * leaves them out. */
void debinfo_md5sums_add(const struct debinfo *p, struct strbuf *md5sums, const char *member,
                         const char *hex);
/* Frees the control members (keeps control, triggers, list, conffiles). */
void debinfo_drop_files(struct debinfo *p);
void debinfo_release(struct debinfo *p);

#endif
