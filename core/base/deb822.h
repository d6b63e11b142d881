/* deb822: parsing of RFC822-style control data (Packages, Release, control,
 * status, *.sources).  A struct deb822 is one paragraph; it owns copies of
 * its field names and values and is freed with deb822_release(). */
#ifndef XB_DEB822_H
#define XB_DEB822_H

#include "util.h"

struct deb822_field {
	char *name;  /* as written, e.g. "Pre-Depends" */
	char *value; /* leading space stripped; continuation lines joined with
	              * '\n', each keeping its leading space as in the source */
};

struct deb822 {
	struct deb822_field *f;
	size_t n, alloc;
};
#define DEB822_INIT { NULL, 0, 0 }

/* Parses the next paragraph of text[0..len) starting at *pos, skipping blank
 * lines and '#' comment lines before it.  Returns 1 with *out filled and *pos
 * advanced, 0 at end of input, -XB_EPARSE on a malformed line (reports
 * nothing: the caller knows the file name).  *out must be empty on entry;
 * the caller releases it in every case (it may hold fields on error). */
int deb822_parse(const char *text, size_t len, size_t *pos, struct deb822 *out);

/* The value of a field (names compare case-insensitively), or NULL. */
const char *deb822_get(const struct deb822 *p, const char *name);
/* Adds or replaces a field (copies both strings). */
void deb822_set(struct deb822 *p, const char *name, const char *value);
/* Removes a field, if present. */
void deb822_unset(struct deb822 *p, const char *name);
/* Appends the paragraph in control-file form ("Name: value\n" ...). */
void deb822_write(const struct deb822 *p, struct strbuf *out);
void deb822_release(struct deb822 *p);
static inline void deb822_releasep(struct deb822 *p) { deb822_release(p); }
#define cleanup_deb822 __attribute__((cleanup(deb822_releasep)))

/* Iterates the lines of a multi-line value (e.g. a SHA256 field): returns
 * the next non-blank line after *pos, trimmed, or NULL at the end; the
 * caller frees it. */
char *deb822_next_line(const char *value, size_t *pos);

#endif
