/* treecache: the configured-tree cache.  After the second stage (before
 * the finish, the customize hooks and the output) the tree is kept as a
 * tar in CACHE/trees, named by a key of everything that can change it up
 * to there: xboot's own binary, the mode, the architectures, the variant,
 * the resolved packages (name, version, architecture, SHA256), the apt
 * lists put in the tree, --include/--exclude/--skip, --aptopt and
 * --dpkgopt (files by content), the extract and essential hooks (files by
 * content, --hook-dir's files), the template, the sources, the keyrings,
 * the emulator, SOURCE_DATE_EPOCH and --script-jobs.  A run with the same
 * key extracts the tar (core/pipeline/copy, inside the tree) instead of
 * unpacking and configuring.  Runs this cannot vouch for make no snapshot:
 * setup hooks (they wrote into TARGET before anything was known), hooks
 * that copy host files in, --foreign, the extract variant, --no-cache.
 * The tar holds no device node (core/output leaves them out): the run
 * makes /dev's as its skeleton would.  A snapshot counts only with its
 * digest file beside it, both renamed into place once whole, so a killed
 * run's half is never used; one whose tar does not match its digest is
 * removed and the run is a cold one.  The
 * directory is flocked (shared to read, exclusive to add and evict) and
 * kept under a size, oldest snapshot first out. */
#ifndef XB_TREECACHE_H
#define XB_TREECACHE_H

#include "stages.h"

#define TREECACHE_MAX_DEFAULT (4ull << 30)

struct treecache {
	char *dir;    /* CACHE/trees; NULL: no cache for this run */
	char key[65]; /* the run's */
	int lock_fd;
};

/* Whether the run can use the cache, and its key (after the download, with
 * the apt lists staged).  tc->dir stays NULL when not (the reason is
 * logged with -v).  Errors reading what the key covers are reported. */
int treecache_prepare(struct treecache *tc, const struct run *run);

/* Extracts the snapshot into run->root when there is one: *hit says so.
 * A failed extraction is an error (the tree is half made). */
int treecache_restore(struct treecache *tc, const struct run *run, bool *hit);

/* Keeps run->root as the key's snapshot, then evicts the oldest until the
 * directory is within max bytes.  A failure is a warning: the run goes on. */
void treecache_store(struct treecache *tc, const struct run *run, uint64_t max);

void treecache_release(struct treecache *tc);

#endif
