/* unpack: native installation of .deb files into a target directory, and
 * the dpkg database that dpkg's own unpack would have written, so that dpkg
 * inside the target sees every package as "install ok unpacked".
 *
 * Extraction happens in a child process chrooted into the target, so no
 * archive member can land outside it: not through "..", an absolute path,
 * nor a symlink planted by an earlier member or package; the target's own
 * symlinks (merged /usr) are followed inside it. */
#ifndef XB_UNPACK_H
#define XB_UNPACK_H

#include "../base/util.h"

struct dpkgfilter;

struct unpack_item {
	const char *deb;  /* path of the .deb on the host; not owned */
	const char *name; /* package name, for messages; not owned */
	const struct dpkgfilter *filter; /* --path-exclude/include; may be NULL */
	const char *version; /* for Replaces' version ranges; NULL: any */
};

typedef void (*unpack_progress_fn)(void *ctx, size_t done, size_t total);

/* Unpacks items in order (later packages overwrite earlier ones' files) and
 * writes TARGET/var/lib/dpkg: status (stanzas from each control file plus
 * "Status: install ok unpacked" and Conffiles with the MD5 of each extracted
 * conffile), info/PKG[:ARCH].{list,md5sums,conffiles,preinst,postinst,...}
 * (":ARCH" for Multi-Arch: same), triggers/File and triggers/NAME from each
 * package's trigger interests, triggers/Unincorp, diversions, updates/.  The caller must be root (or root in a user
 * namespace).  Each failure is reported once, naming the .deb and member:
 * -XB_EUNSAFE for a member outside the target, -XB_EPARSE for a corrupt
 * archive. */
int unpack_debs(const char *target, const struct unpack_item *items, size_t n,
                unpack_progress_fn progress, void *ctx);

/* The same in steps, so that each package is unpacked as soon as its .deb
 * is whole, while others still download.  unpack_start forks the child
 * (items must stay valid until unpack_finish, which frees the job); with
 * ready_fd >= 0 (a pipe's writing end), the child writes there, as a
 * uint32_t, each time it grows, how many of the items from the first on
 * are in the tree with their info files (not yet in the status file: that
 * comes at the end); whoever waits on that also hears, from the caller,
 * UNPACK_READY_ALL or UNPACK_READY_FAILED once it knows (the protocol the
 * second stage reads while it overlaps the unpack);
 * unpack_ready(j, i) hands it items[i] (each index once), and fails with
 * -XB_ECHILD, reporting nothing, once the child has stopped on an error of
 * its own; unpack_finish waits for the child and returns its result, or,
 * with why < 0 (the caller's reported failure: a download), stops it early
 * and returns why. */
/* Whether a package self whose Replaces field is replaces (may be NULL)
 * replaces another of items: a relation that names one, with no version
 * range or one that item's version is in (base-files' "dpkg (<= 1.15.0)"
 * names no dpkg of today's).  Such a package may overwrite the other's
 * paths, so it is unpacked after it, alone. */
bool unpack_replaces_one_of(const char *replaces, const char *self,
                            const struct unpack_item *items, size_t n);

struct unpack_job;
int unpack_start(const char *target, const struct unpack_item *items, size_t n, int ready_fd,
                 struct unpack_job **out);
#define UNPACK_READY_ALL UINT32_MAX            /* the tree and its database whole */
#define UNPACK_READY_FAILED (UINT32_MAX - 1)   /* the unpack failed, and said why */
int unpack_ready(struct unpack_job *j, size_t i);
int unpack_finish(struct unpack_job *j, int why, unpack_progress_fn progress, void *ctx);

#endif
