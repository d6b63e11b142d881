/* dpkgver: Debian version comparison and syntax checks, behaving as dpkg
 * 1.21 does (deb-version(7)); tests/unit/dpkgver.data holds pairs whose
 * expected order was taken from `dpkg --compare-versions`.
 *
 * Nothing is copied or allocated: a version is split into slices of the
 * caller's string. */
#include "dpkgver.h"

#include <limits.h>

/* A slice [s, e) of a version string. */
struct slice {
	const char *s, *e;
};

struct ver {
	long epoch;
	struct slice up, rev; /* rev is empty when there is no '-' */
};

/* dpkg classifies in the C locale whatever the user's locale is. */
static bool c_digit(int c) { return c >= '0' && c <= '9'; }
static bool c_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool c_space(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static int at(const char *p, const char *e) { return p < e ? *p : 0; }

/* Weight of one character in the non-digit part: '~' below the end of the
 * string, letters below everything else.  c is a plain (signed) char as
 * dpkg has it, so bytes >= 0x80 land between letters and punctuation. */
static int order(int c)
{
	if (c_digit(c))
		return 0;
	if (c_alpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

/* Compares upstream versions or revisions: alternating runs of non-digits
 * (by order()) and digits (numerically, any length, leading zeros
 * ignored); the end of a slice counts as an empty run / zero. */
static int cmp_part(struct slice a, struct slice b)
{
	const char *p = a.s, *q = b.s;

	while (p < a.e || q < b.e) {
		int diff = 0;

		while ((p < a.e && !c_digit(*p)) || (q < b.e && !c_digit(*q))) {
			int oa = order(at(p, a.e)), ob = order(at(q, b.e));
			if (oa != ob)
				return oa - ob;
			p++;
			q++;
		}
		while (p < a.e && *p == '0')
			p++;
		while (q < b.e && *q == '0')
			q++;
		/* The longer digit run is the bigger number; for equal lengths the
		 * first differing digit decides. */
		while (p < a.e && q < b.e && c_digit(*p) && c_digit(*q)) {
			if (!diff)
				diff = *p - *q;
			p++;
			q++;
		}
		if (p < a.e && c_digit(*p))
			return 1;
		if (q < b.e && c_digit(*q))
			return -1;
		if (diff)
			return diff;
	}
	return 0;
}

/* dpkg reads the epoch with strtol(): an optional sign, then digits. */
static int parse_epoch(const char *s, const char *e, long *out)
{
	const char *p = s;
	bool neg = false;
	long v = 0;

	if (p < e && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	if (p == e || !c_digit(*p))
		return -XB_EPARSE; /* "epoch is empty" or "not a number" */
	for (; p < e && c_digit(*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return -XB_EPARSE; /* too big */
	}
	if (p != e || (neg && v))
		return -XB_EPARSE; /* junk before ':', or negative */
	*out = v;
	return 0;
}

/* Splits s into epoch, upstream and revision.  Always fills *v (a best
 * guess for bad input); returns -XB_EPARSE for what dpkg rejects as an
 * error, 1 for what it only warns about, 0 for a clean version. */
static int split(const char *s, struct ver *v)
{
	const char *b = s, *e = s + strlen(s), *colon, *dash;
	int rc = 0;

	while (b < e && c_space(*b))
		b++;
	while (e > b && c_space(e[-1]))
		e--;
	*v = (struct ver){ 0, { b, e }, { e, e } };
	if (b == e)
		return -XB_EPARSE;
	for (const char *p = b; p < e; p++)
		if (c_space(*p))
			rc = -XB_EPARSE;

	colon = memchr(b, ':', (size_t)(e - b));
	if (colon) {
		if (parse_epoch(b, colon, &v->epoch) < 0) {
			v->epoch = 0;
			rc = -XB_EPARSE;
		}
		v->up.s = colon + 1;
		if (v->up.s == e)
			rc = -XB_EPARSE;
	}
	dash = NULL;
	for (const char *p = v->up.s; p < e; p++)
		if (*p == '-')
			dash = p;
	if (dash) {
		v->up.e = dash;
		v->rev.s = dash + 1;
		if (v->rev.s == e)
			rc = -XB_EPARSE;
	}
	if (v->up.s == v->up.e)
		rc = -XB_EPARSE;
	if (rc < 0)
		return rc;

	if (!c_digit(*v->up.s))
		rc = 1;
	for (const char *p = v->up.s; p < v->up.e; p++)
		if (!c_digit(*p) && !c_alpha(*p) && !strchr(".-+~:", *p))
			rc = 1;
	for (const char *p = v->rev.s; p < v->rev.e; p++)
		if (!c_digit(*p) && !c_alpha(*p) && !strchr(".+~", *p))
			rc = 1;
	return rc;
}

int dpkgver_cmp(const char *a, const char *b)
{
	struct ver va, vb;
	int rc;

	split(a, &va);
	split(b, &vb);
	if (va.epoch != vb.epoch)
		return va.epoch < vb.epoch ? -1 : 1;
	rc = cmp_part(va.up, vb.up);
	if (rc)
		return rc;
	return cmp_part(va.rev, vb.rev);
}

bool dpkgver_check(const char *a, const char *op, const char *b)
{
	int c = dpkgver_cmp(a, b);

	if (!strcmp(op, "<<"))
		return c < 0;
	if (!strcmp(op, "<=") || !strcmp(op, "<"))
		return c <= 0;
	if (!strcmp(op, "="))
		return c == 0;
	if (!strcmp(op, ">=") || !strcmp(op, ">"))
		return c >= 0;
	if (!strcmp(op, ">>"))
		return c > 0;
	return false;
}

int dpkgver_valid(const char *s)
{
	struct ver v;

	return split(s, &v) == 0 ? 0 : -XB_EPARSE;
}
