/* phase: one phase of the second stage's maintainer scripts (the
 * preinsts, or the postinsts of a range of packages in install order), up
 * to `jobs` at once: each after its dependencies in the phase, never beside
 * a script that uses a registry it uses (maintscript.h), which sees them in
 * install order; beside the unpack, each preinst once its package and those
 * before it are in the tree (unpacked.h).  Each script's output reaches the
 * log whole; a postinst's package is then configured in the status. */
#ifndef XB_PHASE_H
#define XB_PHASE_H

#include "secondstage.h"
#include "unpacked.h"
#include "../dpkg/dpkgdb.h"
#include "../dpkg/dpkgtrig.h"

struct progress;

/* What one run of the second stage keeps in memory: the root, and the
 * dpkg database's status and trigger interests, read once, when the
 * unpack beside the run has written them. */
struct phase_db {
	int rootfd;
	struct dpkgdb_status status;
	struct dpkgtrig triggers;
	struct unpacked un;
	bool loaded;
};

/* Waits for the unpack's end (if it is beside the run) and reads the
 * database, once.  0, -XB_ECHILD when the unpack failed (it says why), or
 * a reported error. */
int phase_db_whole(struct phase_db *db);

/* Runs script ("preinst" or "postinst") of s->pkgs[from..to), counted in
 * --timings as timing, the configured packages shown on pr (may be
 * NULL).  Returns 0 or the first failure (reported once; -XB_ECHILD with
 * nothing said when the unpack beside it failed). */
int phase_run(const struct secondstage *s, struct phase_db *db, const char *script, size_t from,
              size_t to, const char *timing, struct progress *pr);

/* The environment every script and dpkg run with. */
void phase_base_env(struct strvec *env);
/* Whether scripts' output goes to the log only (not verbose, a log). */
bool phase_quiet(const struct secondstage *s);

#endif
