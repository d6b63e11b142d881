/* pkgscan: Packages files read for the resolver.  Each file is mapped,
 * scanned line by line into stanzas (slices of the mapping, no copies), and
 * handed to libsolv as a repo of its own, with only the fields libsolv
 * solves with.  libsolv ignores Priority:, Essential: and Multi-Arch: and
 * keeps no download fields, so those are looked up here by solvable id,
 * through the solvable's repo and (Package, Version, Architecture).
 *
 * A struct pkgscan owns the mappings, the stanzas and the lookup tables; it
 * borrows the pool, which owns the repos.  Release it with pkgscan_release()
 * before pool_free(). */
#ifndef XB_PKGSCAN_H
#define XB_PKGSCAN_H

#include <solv/pool.h>

#include "../base/util.h"

/* The fields a stanza keeps. */
enum pkgscan_field {
	PKGSCAN_PACKAGE, PKGSCAN_VERSION, PKGSCAN_ARCH, PKGSCAN_PRIORITY,
	PKGSCAN_ESSENTIAL, PKGSCAN_MULTIARCH, PKGSCAN_FILENAME, PKGSCAN_SIZE,
	PKGSCAN_SHA256, PKGSCAN_NFIELDS
};

struct pkgscan_file;
struct pkgscan_stanza;

struct pkgscan {
	Pool *pool;                         /* borrowed */
	struct pkgscan_file *files;         /* one per path given to pkgscan_load() */
	size_t n_files;
	const struct pkgscan_stanza **meta; /* by solvable id: its stanza, or NULL */
	const char **meta_buf;              /* by solvable id: the mapping of that stanza */
};
#define PKGSCAN_INIT { NULL, NULL, 0, NULL, NULL }

/* Loads paths[0..n) into pool, one repo each, in that order, and takes out
 * of consideration (pool->considered) the solvables of architectures other
 * than archs[0..n_archs) and "all", so that libsolv never picks one.
 * Errors are reported; ps must be released either way. */
int pkgscan_load(struct pkgscan *ps, Pool *pool, char *const *paths, size_t n,
		 const Id *archs, size_t n_archs);
void pkgscan_release(struct pkgscan *ps);
/* The index of the path repo was loaded from, or -1. */
int pkgscan_file_of(const struct pkgscan *ps, const Repo *repo);

/* Whether the value of field in the stanza of solvable p is value,
 * ignoring case (false when p has no stanza or the field is absent). */
bool pkgscan_is(const struct pkgscan *ps, Id p, enum pkgscan_field field,
		const char *value);
/* A copy of that value (free it), or NULL when absent or empty. */
char *pkgscan_dup(const struct pkgscan *ps, Id p, enum pkgscan_field field);
/* What the variants select by, kept from the scan so that asking does
 * not read the file again: a mask of these. */
enum {
	PKGSCAN_ESSENTIAL_YES = 1, PKGSCAN_REQUIRED = 2, PKGSCAN_IMPORTANT = 4,
	PKGSCAN_STANDARD = 8,
};
unsigned pkgscan_traits(const struct pkgscan *ps, Id p);
/* The index in paths of the file solvable p comes from. */
int pkgscan_source(const struct pkgscan *ps, Id p);

#endif
