/* dpkgver: Debian version strings ([epoch:]upstream[-revision]) compared
 * exactly as dpkg does (deb-version(7)). */
#ifndef XB_DPKGVER_H
#define XB_DPKGVER_H

#include "util.h"

/* <0, 0, >0 as a is older than, equal to, newer than b.  Invalid strings
 * are compared as best as possible (never crashes). */
int dpkgver_cmp(const char *a, const char *b);
/* true when a and b satisfy "a OP b" with OP one of << <= = >= >> (and the
 * obsolete < >, meaning <= >=). */
bool dpkgver_check(const char *a, const char *op, const char *b);
/* 0 when s is a syntactically valid version, -XB_EPARSE otherwise. */
int dpkgver_valid(const char *s);

#endif
