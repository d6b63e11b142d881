/* aptlists: apt's lists (and archives) in the tree while hooks run.
 * mmdebstrap's hooks find TARGET's var/lib/apt/lists filled by its
 * `apt-get update`, so `chroot "$1" apt-get install PKG` works without
 * one; xboot puts the indices it fetched and verified there under apt's
 * names, and the clean-up at the end (core/pipeline/finish) empties the
 * directory.  With --skip=essential/unlink the essential set's .debs go
 * to var/cache/apt/archives the same way. */
#ifndef XB_APTLISTS_H
#define XB_APTLISTS_H

#include "../base/util.h"

#define APT_LISTS "var/lib/apt/lists"
#define APT_ARCHIVES "var/cache/apt/archives"

/* apt's name for the lists of uri's suite, up to the file's own name:
 * "deb.debian.org_debian_dists_trixie_" (caller frees). */
char *aptlists_prefix(const char *uri, const char *suite);

/* Stages the host file src as the file name of the tree's directory dir
 * (a hard link, or a copy, under workdir/stage/dir).  Reports errors. */
int aptlists_stage(const char *workdir, const char *dir, const char *src, const char *name);

/* Where what is staged for dir waits (caller frees). */
char *aptlists_stage_dir(const char *workdir, const char *dir);

/* Copies what was staged for dir into the tree at root, and drops it. */
int aptlists_install(const char *workdir, const char *dir, const char *root);

#endif
