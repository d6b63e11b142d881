/* debconfsplit: a copy of the debconf database for each maintainer script
 * that uses it, so that such scripts can run side by side.
 *
 * debconf locks its database for the whole life of a frontend, and a
 * second frontend fails; so scripts that use debconf ran one after
 * another, and on big package sets they are most of the time one core
 * sits idle.  Here each gets a directory of its own holding a copy of the
 * database and a debconf.conf naming it (DEBCONF_SYSTEMRC).  When the
 * script ends, what it changed in its copy is merged into the database
 * (debconfdb.h).  The -old backups debconf keeps are made as a run of one
 * script at a time would have left them: the database before the last
 * writer in install order.
 *
 * Only where the tree's debconf is set up as Debian ships it: File
 * databases under var/cache/debconf, which exist, and no root's
 * .debconfrc (DEBCONF_SYSTEMRC would hide it).  Elsewhere, scripts that
 * use debconf run one at a time, as before. */
#ifndef XB_DEBCONFSPLIT_H
#define XB_DEBCONFSPLIT_H

#include <stdbool.h>
#include <stddef.h>

struct strvec;

struct debconfsplit {
	int rootfd;
	char *conf;          /* the tree's debconf.conf; NULL: no copies */
	size_t last[3];      /* per file, the install position of the last writer
	                      * merged in this phase; SIZE_MAX: none yet */
};

/* Decides, for a phase about to start, whether its scripts get copies;
 * returns that. */
bool debconfsplit_begin(struct debconfsplit *ds, int rootfd);
/* Removes whatever copies are left, and frees. */
void debconfsplit_end(struct debconfsplit *ds);

/* Makes the copy of the script at install position pos and adds its
 * DEBCONF_SYSTEMRC to env. */
int debconfsplit_start(struct debconfsplit *ds, size_t pos, const char *pkg, struct strvec *env);
/* Merges what that script changed, and removes its copy. */
int debconfsplit_merge(struct debconfsplit *ds, size_t pos, const char *pkg);

#endif
