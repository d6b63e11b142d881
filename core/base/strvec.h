/* strvec: a NULL-terminated vector of owned strings, usable as an argv
 * (v is NULL while empty).  The owner calls strvec_clear(). */
#ifndef XB_STRVEC_H
#define XB_STRVEC_H

#include <stdbool.h>
#include <stddef.h>

struct strvec {
	char **v;
	size_t n, alloc;
};
#define STRVEC_INIT { NULL, 0, 0 }

void strvec_push(struct strvec *sv, const char *s);
void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strvec_pushl(struct strvec *sv, ...); /* NULL-terminated list */
/* Appends copies of every string of from. */
void strvec_pushv(struct strvec *sv, const struct strvec *from);
bool strvec_has(const struct strvec *sv, const char *s);
/* Drops the strings that came before, keeping the first of each. */
void strvec_uniq(struct strvec *sv);
void strvec_clear(struct strvec *sv);
/* Sorts the strings in strcmp() order. */
void strvec_sort(struct strvec *sv);
/* Splits s at each of the characters in seps, skipping empty fields. */
void strvec_split(struct strvec *sv, const char *s, const char *seps);
/* The strings joined by sep, into a new string the caller frees. */
char *strvec_join(const struct strvec *sv, const char *sep);
static inline void strvec_clearp(struct strvec *sv) { strvec_clear(sv); }
#define cleanup_strvec __attribute__((cleanup(strvec_clearp)))

#endif
