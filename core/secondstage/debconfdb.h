/* debconfdb: the files of debconf's File driver (config.dat, templates.dat,
 * passwords.dat) read and written byte for byte as debconf's own 822
 * format does, and the three-way merge that lets maintainer scripts side
 * by side each work on a copy of the database: what one script changed in
 * its copy, against the copy as it began, is carried into the database,
 * item by item, leaving what the others changed meanwhile.
 *
 * debconf writes a record as its name, its fields sorted by their
 * lower-case names, its owners, its flags that are set and its variables,
 * each sorted, and the records sorted by name; so does this module, and a
 * file debconf wrote is written back unchanged. */
#ifndef XB_DEBCONFDB_H
#define XB_DEBCONFDB_H

#include <stddef.h>

struct strbuf;

/* One item of a record.  key is a kind and a name: 'a' and a field's
 * lower-case name, 'b' and an owner, 'c' and a flag, 'd' and a variable,
 * so that sorting the keys gives debconf's order; value is the field's or
 * the variable's text (its newlines escaped, as in the file), NULL for
 * owners and flags. */
struct debconfdb_item {
	char *key;
	char *value;
};

struct debconfdb_rec {
	char *name;
	struct debconfdb_item *items; /* sorted by key, no two alike */
	size_t n, alloc;
};

/* The records, sorted by name.  The owner calls debconfdb_release(). */
struct debconfdb {
	struct debconfdb_rec *recs;
	size_t n, alloc;
};
#define DEBCONFDB_INIT { NULL, 0, 0 }

/* Reads a file's text as debconf does (a record without a name is
 * dropped, a later record of a name replaces an earlier one). */
void debconfdb_parse(const char *text, size_t len, struct debconfdb *db);
/* Appends the file debconf would write for db. */
void debconfdb_write(const struct debconfdb *db, struct strbuf *out);
void debconfdb_release(struct debconfdb *db);

/* Carries into db what changed from base to ours: records ours added or
 * removed, and in the others each item ours added, removed or changed.
 * Returns how many records of db it changed. */
size_t debconfdb_merge(struct debconfdb *db, const struct debconfdb *base,
                       const struct debconfdb *ours);

#endif
