/* fuzz-version: core/base/dpkgver on any strings, as Version fields and
 * relations carry them.  The input is split at newlines into up to three
 * versions a, b, c.  dpkgver_cmp must be an order (a = a; a < b exactly
 * when b > a; a <= b <= c gives a <= c), and dpkgver_check must agree
 * with it.  (tests/unit/dpkgver.data checks the order itself against
 * dpkg.  libsolv, which resolves with versions, is not checked against
 * dpkgver: it differs from dpkg where one version has a zero-valued number
 * the other lacks, "1.0-0" against "1.0" or "1a0" against "1a", which
 * dpkg takes as equal and libsolv as newer.) */
#include "fuzz.h"

#include "../../core/base/dpkgver.h"

static int sign(int x) { return (x > 0) - (x < 0); }

static void check_pair(const char *a, const char *b)
{
	int ab = sign(dpkgver_cmp(a, b)), ba = sign(dpkgver_cmp(b, a));
	fuzz_assert(ab == -ba);
	fuzz_assert(dpkgver_check(a, "<<", b) == (ab < 0));
	fuzz_assert(dpkgver_check(a, "<=", b) == (ab <= 0));
	fuzz_assert(dpkgver_check(a, "<", b) == (ab <= 0));
	fuzz_assert(dpkgver_check(a, "=", b) == (ab == 0));
	fuzz_assert(dpkgver_check(a, ">=", b) == (ab >= 0));
	fuzz_assert(dpkgver_check(a, ">", b) == (ab >= 0));
	fuzz_assert(dpkgver_check(a, ">>", b) == (ab > 0));
	fuzz_assert(!dpkgver_check(a, "!=", b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	fuzz_quiet();
	char *text = fuzz_string(data, size);
	const char *v[3] = { text, "", "" };
	char *s = text;
	for (size_t i = 1; i < 3; i++) {
		char *nl = strchr(s, '\n');
		if (!nl)
			break;
		*nl = '\0';
		v[i] = s = nl + 1;
	}
	s[strcspn(s, "\n")] = '\0';
	for (size_t i = 0; i < 3; i++) {
		(void)dpkgver_valid(v[i]);
		fuzz_assert(dpkgver_cmp(v[i], v[i]) == 0);
	}
	check_pair(v[0], v[1]);
	check_pair(v[1], v[2]);
	check_pair(v[0], v[2]);
	/* Transitivity, in every order. */
	static const int perm[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		                        { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
	for (size_t i = 0; i < 6; i++) {
		const char *x = v[perm[i][0]], *y = v[perm[i][1]], *z = v[perm[i][2]];
		if (dpkgver_cmp(x, y) <= 0 && dpkgver_cmp(y, z) <= 0)
			fuzz_assert(dpkgver_cmp(x, z) <= 0);
	}
	free(text);
	return 0;
}
