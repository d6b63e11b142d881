/* resolve: the package set of a bootstrap, with libsolv (Debian semantics).
 * Input: decompressed Packages files, an architecture, what the variant
 * selects by and adds (the template's), and the --include/--exclude lists.  Output: the packages to install, in an order
 * fit for running preinst scripts (in debootstrap's phases, core/pkgset/order.h:
 * essential, required, the rest; Pre-Depends and Depends before their
 * dependants where no cycle prevents it). */
#ifndef XB_RESOLVE_H
#define XB_RESOLVE_H

#include <string.h>
#include <sys/types.h>

#include "../base/util.h"

struct xb_pkg {
	char *name, *version, *arch;  /* arch as in Packages ("all" possible) */
	char *filename;               /* pool/... relative to the mirror */
	char *sha256;
	uint64_t size;
	char *priority;               /* may be NULL */
	char *multi_arch;             /* may be NULL */
	bool essential;
	bool requested;               /* in the seed (selected, added, --include), not
	                               * only a dependency */
	int phase;                    /* enum order_phase: when its postinst runs (the
	                               * earliest of the packages that need it) */
	int source;                   /* index into resolve_req.files: which Packages file */
	size_t *deps, n_deps;         /* positions in the result of the packages it
	                               * Pre-Depends or Depends on, within its phase;
	                               * later ones close a cycle */
};

struct resolve_req {
	const char *arch;             /* Debian architecture, e.g. "armhf" */
	const struct strvec *foreign_archs; /* dpkg's foreign architectures (multiarch, see
	                                 multiarch.h): their packages only by --include's
	                                 NAME:ARCH and as dependencies; may be NULL */
	char *const *files;           /* decompressed Packages files */
	size_t n_files;
	const struct strvec *select;  /* the seed: "essential" (Essential: yes) and priorities */
	const struct strvec *packages;/* added to the seed where the indices have them; may be NULL */
	const struct strvec *include; /* NAME[:ARCH], with =VERSION, /SUITE or both;
	                                 may be NULL */
	const struct strvec *exclude; /* may be NULL */
	char *const *file_suites;     /* the suite of each file, for NAME/SUITE; may be NULL */
	bool recommends;              /* Recommends too (APT::Install-Recommends) */
};

/* Whether word may be in resolve_req.select: "essential", "required",
 * "important" or "standard". */
bool resolve_select_known(const char *word);

/* Fills *out (array of *n_out packages; free with resolve_free()).  An
 * unsatisfiable request is reported with libsolv's explanation of each
 * problem and returns -XB_EUNSAT; an unknown --include package returns
 * -XB_ENOTFOUND; an unknown select word -XB_EUSAGE.
 * Choices follow apt and debootstrap: the newest version of the requested
 * arch or "all" (other architectures are never pulled in), the first
 * alternative of "a | b" that exists, a real package before one that only
 * Provides its name, no Recommends (unless asked) or Suggests, never usrmerge (the tree is
 * merged-/usr from the start).  --include names real packages; --exclude
 * only removes names from the seed (they may still come in as
 * dependencies).  When several files hold the same version, source is any
 * one of them. */
int resolve_packages(const struct resolve_req *req, struct xb_pkg **out, size_t *n_out);
void resolve_free(struct xb_pkg *pkgs, size_t n);

/* The position of the package called name in pkgs[0..n), or -1. */
static inline ssize_t resolve_find(const struct xb_pkg *pkgs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(pkgs[i].name, name))
			return (ssize_t)i;
	return -1;
}

#endif
