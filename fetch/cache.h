/* cache: the content-addressed store of downloaded .debs and of the
 * decompressed Packages indices.  A file is named by its SHA256, only ever
 * appears there whole after its size and hash were verified, and is
 * verified again whenever it is used; a shared lock on DIR/.lock lets
 * several runs use one cache. */
#ifndef XB_FETCH_CACHE_H
#define XB_FETCH_CACHE_H

#include "../core/base/util.h"

struct fetch_cache {
	char *dir;   /* owned */
	int lock_fd; /* flock(LOCK_SH) held while open */
};

/* Creates DIR (mode 0755, parents too) and takes the lock.  Reports errors. */
int fetch_cache_open(struct fetch_cache *c, const char *dir);
void fetch_cache_close(struct fetch_cache *c);
/* DIR/sha256/<hex>.deb (caller frees).  NULL when sha256 is not 64
 * lower-case hex digits, so an index cannot name a path outside DIR. */
char *fetch_cache_path(const struct fetch_cache *c, const char *sha256);
/* True when the file for sha256 is present, a regular file of the given
 * size whose SHA256 is sha256 (false for an invalid sha256).  A file of
 * the right size but the wrong content is removed, with a warning. */
bool fetch_cache_has(const struct fetch_cache *c, const char *sha256, uint64_t size);
/* The same for a decompressed index, DIR/indices/<hex>: a Release lists
 * the hash of each index as it is decompressed too, so a run whose suite
 * did not change downloads and decompresses none again. */
char *fetch_cache_index_path(const struct fetch_cache *c, const char *sha256);
bool fetch_cache_has_index(const struct fetch_cache *c, const char *sha256, uint64_t size);
/* Puts path, whose SHA256 the caller checked is sha256, in the store: a
 * link where it can be, else a copy named once whole.  A failure only
 * means the next run downloads it again. */
void fetch_cache_keep_index(const struct fetch_cache *c, const char *path, const char *sha256);
/* The default cache directory for this user (caller frees):
 * /var/cache/xboot as root, else $XDG_CACHE_HOME/xboot or ~/.cache/xboot. */
char *fetch_cache_default_dir(void);

#endif
