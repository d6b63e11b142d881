/* test-dpkgver: core/dpkgver against pairs ordered by dpkg itself
 * (tests/unit/dpkgver.data, made by gen-dpkgver-data), plus hand-written
 * cases for dpkgver_check and dpkgver_valid.  Run from the top of the tree,
 * or give the data file as argv[1]. */
#include "../../core/base/dpkgver.h"
#include "tap.h"

static int sign(int c) { return (c > 0) - (c < 0); }

static int op_sign(const char *op)
{
	if (!strcmp(op, "<"))
		return -1;
	if (!strcmp(op, "="))
		return 0;
	if (!strcmp(op, ">"))
		return 1;
	return 2;
}

/* Checks one "A OP B" line, both ways round. */
static void check_line(const char *path, size_t lineno, char *line)
{
	cleanup_strvec struct strvec w = STRVEC_INIT;
	int want;

	strvec_split(&w, line, " ");
	if (w.n != 3 || (want = op_sign(w.v[1])) == 2) {
		CHECK(0, "%s:%zu: malformed line: %s", path, lineno, line);
		return;
	}
	int got = sign(dpkgver_cmp(w.v[0], w.v[2]));
	int back = sign(dpkgver_cmp(w.v[2], w.v[0]));
	CHECK(got == want && back == -want, "%s:%zu: %s %s %s, but cmp gave %d (reversed %d)",
	      path, lineno, w.v[0], w.v[1], w.v[2], got, back);
}

static void test_data(const char *path)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	size_t lineno = 0, n = 0;
	int rc = xb_read_file(path, &sb);

	CHECK(rc == 0, "reading %s: %s", path, xb_strerror(rc));
	if (rc < 0)
		return;
	for (char *s = sb.buf, *nl; s && *s; s = nl ? nl + 1 : NULL) {
		nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		if (!*s || *s == '#')
			continue;
		check_line(path, lineno, s);
		n++;
	}
	CHECK(n >= 3000, "%s: only %zu pairs", path, n);
}

static void test_cmp(void)
{
	static const struct {
		const char *a, *b;
		int want;
	} t[] = {
		{ "1.0", "1.0-0", 0 },         /* absent revision is "0" */
		{ "1.0", "1.0-00", 0 },
		{ "1.0", "0:1.0", 0 },
		{ "1.0", "00:1.0", 0 },
		{ "1.0~", "1.0", -1 },         /* '~' before the end */
		{ "1.0~~", "1.0~", -1 },
		{ "1.0~~a", "1.0~~", 1 },
		{ "1.0", "1.0a", -1 },
		{ "1.0a", "1.0+", -1 },        /* letters before other characters */
		{ "1.0Z", "1.0a", -1 },
		{ "1.0+", "1.0.", -1 },
		{ "1.01", "1.1", 0 },          /* leading zeros ignored */
		{ "1.10", "1.9", 1 },
		{ "1:0.1", "2.0", 1 },         /* epoch first */
		{ "2147483647:1", "1:9", 1 },
		{ "1-1", "1-1~", 1 },
		{ "1-2-3", "1-2-2", 1 },       /* the last hyphen starts the revision */
		{ "1:2:3", "1:2:2", 1 },       /* colons after the epoch are upstream */
		{ "99999999999999999999999", "99999999999999999999998", 1 },
		{ "000000000000000000000000000001", "1", 0 },
		{ "184467440737095516160", "18446744073709551616", 1 },
		{ " 1.0\t", "1.0", 0 },        /* surrounding space ignored */
		{ "+1:1", "1:1", 0 },          /* dpkg reads the epoch with strtol */
		{ "1.0\xc3\xa9", "1.0z", 1 },  /* bytes >= 0x80 after letters... */
		{ "1.0\xc3\xa9", "1.0+", -1 }, /* ...but before punctuation */
		{ "a1", "1", 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		CHECK(sign(dpkgver_cmp(t[i].a, t[i].b)) == t[i].want, "cmp(\"%s\", \"%s\") != %d",
		      t[i].a, t[i].b, t[i].want);
		CHECK(sign(dpkgver_cmp(t[i].b, t[i].a)) == -t[i].want, "cmp(\"%s\", \"%s\") != %d",
		      t[i].b, t[i].a, -t[i].want);
	}
	/* Bad input is compared somehow, never crashes. */
	static const char *bad[] = { "", " ", "1:", ":1", "1-", "-", "a:b", "1 2",
				     "99999999999:1", "-1:1", "~", "-~-" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		for (size_t j = 0; j < ARRAY_SIZE(bad); j++) {
			int c = dpkgver_cmp(bad[i], bad[j]), d = dpkgver_cmp(bad[j], bad[i]);
			CHECK(sign(c) == -sign(d), "cmp of bad \"%s\", \"%s\" not antisymmetric",
			      bad[i], bad[j]);
		}
}

static void test_check(void)
{
	static const struct {
		const char *op;
		bool lt, eq, gt; /* result for "1.0 OP 2.0", "1.0 OP 1.0-0", "2.0 OP 1.0" */
	} t[] = {
		{ "<<", true, false, false },
		{ "<=", true, true, false },
		{ "<", true, true, false }, /* obsolete, means <= */
		{ "=", false, true, false },
		{ ">=", false, true, true },
		{ ">", false, true, true }, /* obsolete, means >= */
		{ ">>", false, false, true },
		{ "!=", false, false, false }, /* unknown operators never hold */
		{ "", false, false, false },
		{ "lt", false, false, false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		CHECK(dpkgver_check("1.0", t[i].op, "2.0") == t[i].lt, "1.0 %s 2.0", t[i].op);
		CHECK(dpkgver_check("1.0", t[i].op, "1.0-0") == t[i].eq, "1.0 %s 1.0-0", t[i].op);
		CHECK(dpkgver_check("2.0", t[i].op, "1.0") == t[i].gt, "2.0 %s 1.0", t[i].op);
	}
	CHECK(dpkgver_check("1.0~rc1-1", "<<", "1.0-1"), "~rc sorts before the release");
	CHECK(dpkgver_check("1:1.0", ">>", "9.9"), "epoch wins");
}

/* Good means `dpkg --validate-version` exits 0 (no error, no warning). */
static void test_valid(void)
{
	static const char *good[] = {
		"0", "1.0", "1.0-1", "1:1.0-1", "0:0", "1.0~rc1+dfsg-1~bpo12+1", "1:2:3",
		"1-2-3", "2147483647:1", "01:1", "+1:1", "-0:1", " 1.0 ", "1.0A", "1.0-a",
		"9999999999999999999999999",
	};
	static const char *bad[] = {
		"", " ", "\t", "a1", "1:a", "~1", "1.0_1", "1.0-1_1", "1.0-1:1", "1.0-",
		"1:", ":1", "a:1", "1a:1", "-1:1", "2147483648:1", "99999999999999999999:1",
		"1 0", "1.0\xc3\xa9", "1.0-\xc3\xa9", "1.0/1", "-",
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		CHECK(dpkgver_valid(good[i]) == 0, "\"%s\" should be valid", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(dpkgver_valid(bad[i]) == -XB_EPARSE, "\"%s\" should be invalid", bad[i]);
}

int main(int argc, char **argv)
{
	test_data(argc > 1 ? argv[1] : "tests/unit/dpkgver.data");
	test_cmp();
	test_check();
	test_valid();
	return tap_done();
}
