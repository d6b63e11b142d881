/* test-deb822: the paragraph parser on the shapes of input it meets in
 * Packages, Release, status and *.sources files, and the field helpers. */
#include "../../core/base/deb822.h"
#include "tap.h"

static bool streq(const char *a, const char *b) { return a && b && !strcmp(a, b); }

static void release_all(struct deb822 *ps, int n)
{
	for (int i = 0; i < n; i++)
		deb822_release(&ps[i]);
}

/* Parses all of text into ps (at most max); returns the count, or the
 * negative code of the first failure (all of ps released then). */
static int parse_all(const char *text, struct deb822 *ps, int max)
{
	size_t pos = 0, len = strlen(text);
	int n = 0, rc;

	while (n < max && (rc = deb822_parse(text, len, &pos, &ps[n])) != 0) {
		if (rc < 0) {
			release_all(ps, n + 1);
			return rc;
		}
		n++;
	}
	return n;
}

static void test_paragraphs(void)
{
	const char *text = "# leading comment\n"
			   "\n\n"
			   "Package: a\n"
			   "Version: 1.0\n"
			   "\n"
			   "# between\n"
			   "  \t\n" /* white space only: still a separator */
			   "Package: b\n"
			   "# inside a paragraph\n"
			   "Depends:\tc (>= 1), d\n"
			   "URIs: http://example.invalid/debian\n"
			   "\n"
			   "Package: c\n"
			   "Empty:\n"
			   "\n\n# trailing\n";
	struct deb822 p[4] = { DEB822_INIT, DEB822_INIT, DEB822_INIT, DEB822_INIT };
	int n = parse_all(text, p, 4);

	CHECK(n == 3, "3 paragraphs, got %d", n);
	if (n == 3) {
		CHECK(p[0].n == 2 && streq(deb822_get(&p[0], "Version"), "1.0"), "first paragraph");
		CHECK(p[1].n == 3, "comment lines are not fields (%zu)", p[1].n);
		CHECK(streq(deb822_get(&p[1], "Depends"), "c (>= 1), d"), "tab after colon");
		CHECK(streq(deb822_get(&p[1], "URIs"), "http://example.invalid/debian"),
		      "colons inside a value");
		CHECK(streq(deb822_get(&p[2], "Empty"), ""), "empty value");
		CHECK(deb822_get(&p[2], "Version") == NULL, "absent field");
	}
	release_all(p, n > 0 ? n : 0);

	struct deb822 q = DEB822_INIT;
	size_t pos = 0;
	CHECK(deb822_parse("", 0, &pos, &q) == 0, "empty input");
	pos = 0;
	const char *blank = "\n# x\n \n\r\n";
	CHECK(deb822_parse(blank, strlen(blank), &pos, &q) == 0 && pos == strlen(blank),
	      "only blanks and comments");
	CHECK(q.n == 0, "nothing parsed");
}

static void test_continuation(void)
{
	const char *text = "Package: a\n"
			   "Description: short\n"
			   " long line one  \n"
			   " .\n"
			   "\tline two\n"
			   "Version: 2\n";
	struct deb822 p = DEB822_INIT;
	size_t pos = 0;

	CHECK(deb822_parse(text, strlen(text), &pos, &p) == 1, "parses");
	CHECK(streq(deb822_get(&p, "Description"), "short\n long line one\n .\n\tline two"),
	      "continuation joined: [%s]", deb822_get(&p, "Description"));
	CHECK(streq(deb822_get(&p, "Version"), "2"), "field after a continuation");
	CHECK(pos == strlen(text), "pos at end");
	deb822_release(&p);
	CHECK(deb822_parse(text, strlen(text), &pos, &p) == 0, "then end of input");
}

static void test_crlf_and_eof(void)
{
	const char *crlf = "Package: a\r\n"
			   "Description: short \r\n"
			   " more\r\n"
			   "\r\n"
			   "Package: b\r\n";
	struct deb822 p[3] = { DEB822_INIT, DEB822_INIT, DEB822_INIT };
	int n = parse_all(crlf, p, 3);

	CHECK(n == 2, "CRLF: 2 paragraphs, got %d", n);
	if (n == 2) {
		CHECK(streq(deb822_get(&p[0], "Package"), "a"), "CRLF: no \\r in value");
		CHECK(streq(deb822_get(&p[0], "Description"), "short\n more"),
		      "CRLF continuation: [%s]", deb822_get(&p[0], "Description"));
		CHECK(streq(deb822_get(&p[1], "Package"), "b"), "CRLF last paragraph");
	}
	release_all(p, n > 0 ? n : 0);

	/* No newline at the end, in a field and in a continuation. */
	const char *noeol[] = { "A: 1\nB: last", "A: 1\nB: x\n y" };
	const char *want[] = { "last", "x\n y" };
	for (size_t i = 0; i < ARRAY_SIZE(noeol); i++) {
		struct deb822 q = DEB822_INIT;
		size_t pos = 0, len = strlen(noeol[i]);
		CHECK(deb822_parse(noeol[i], len, &pos, &q) == 1, "no final newline %zu", i);
		CHECK(streq(deb822_get(&q, "B"), want[i]), "no final newline %zu: [%s]", i,
		      deb822_get(&q, "B"));
		CHECK(pos == len, "no final newline %zu: pos", i);
		deb822_release(&q);
		CHECK(deb822_parse(noeol[i], len, &pos, &q) == 0, "then end of input");
	}
}

static void test_malformed(void)
{
	static const char *bad[] = {
		"Package: a\nno colon here\n",
		" continuation first\n",
		"Package: a\n\n indented start of a paragraph\n",
		": no name\n",
		"Package: a\n:\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct deb822 p[2] = { DEB822_INIT, DEB822_INIT };
		int n = parse_all(bad[i], p, 2);
		CHECK(n == -XB_EPARSE, "malformed %zu: got %d", i, n);
		if (n > 0)
			release_all(p, n);
	}
}

static void test_get_set(void)
{
	struct deb822 p = DEB822_INIT;

	deb822_set(&p, "Package", "a");
	deb822_set(&p, "Pre-Depends", "b");
	CHECK(p.n == 2, "two fields");
	CHECK(streq(deb822_get(&p, "pre-depends"), "b"), "get is case-insensitive");
	CHECK(streq(deb822_get(&p, "PACKAGE"), "a"), "get is case-insensitive (upper)");
	deb822_set(&p, "PRE-DEPENDS", "c");
	CHECK(p.n == 2, "set replaces, does not add (%zu)", p.n);
	CHECK(streq(deb822_get(&p, "Pre-Depends"), "c"), "replaced value");
	CHECK(streq(p.f[1].name, "Pre-Depends"), "name kept as first written");
	deb822_set(&p, "Status", "install ok installed");
	CHECK(p.n == 3 && streq(p.f[2].name, "Status"), "set appends a new field");
	deb822_release(&p);
	CHECK(p.n == 0 && p.f == NULL, "release empties");
	deb822_release(&p); /* twice is harmless */
}

static void test_write(void)
{
	const char *text = "Package: a\n"
			   "Version: 1:2.0-1\n"
			   "Empty:\n"
			   "Description: short\n"
			   " long\n"
			   " .\n"
			   "SHA256:\n"
			   " 0123abcd 12 main/binary-amd64/Packages\n"
			   " 4567ef01 34 main/binary-amd64/Packages.xz\n";
	struct deb822 p = DEB822_INIT, q = DEB822_INIT;
	struct strbuf out = STRBUF_INIT, again = STRBUF_INIT;
	size_t pos = 0;

	CHECK(deb822_parse(text, strlen(text), &pos, &p) == 1, "parses");
	deb822_write(&p, &out);
	CHECK(streq(out.buf, text), "write gives the input back:\n%s", out.buf);
	pos = 0;
	CHECK(deb822_parse(out.buf, out.len, &pos, &q) == 1, "output parses");
	CHECK(q.n == p.n, "same number of fields");
	for (size_t i = 0; i < p.n && i < q.n; i++)
		CHECK(streq(p.f[i].name, q.f[i].name) && streq(p.f[i].value, q.f[i].value),
		      "field %zu survives the round trip", i);
	deb822_write(&q, &again);
	CHECK(streq(again.buf, out.buf), "second round trip is stable");

	/* Appending: write adds to what the buffer holds. */
	strbuf_reset(&again);
	strbuf_addstr(&again, "X: y\n");
	deb822_write(&q, &again);
	CHECK(str_starts_with(again.buf, "X: y\nPackage: a\n"), "write appends");
	deb822_release(&p);
	deb822_release(&q);
	strbuf_release(&out);
	strbuf_release(&again);
}

static void test_next_line(void)
{
	const char *text = "SHA256: \n"
			   " 0123abcd  12 main/binary-amd64/Packages \n"
			   "\n" /* ends the paragraph: the next line is not part of it */
			   " 89ab 56 other\n";
	const char *want[] = { "0123abcd  12 main/binary-amd64/Packages" };
	struct deb822 p = DEB822_INIT;
	size_t pos = 0, vpos = 0, n = 0;
	char *line;

	CHECK(deb822_parse(text, strlen(text), &pos, &p) == 1, "parses");
	const char *v = deb822_get(&p, "sha256");
	CHECK(v != NULL, "SHA256 present");
	while (v && (line = deb822_next_line(v, &vpos))) {
		CHECK(n < ARRAY_SIZE(want) && streq(line, want[n]), "line %zu: [%s]", n, line);
		free(line);
		n++;
	}
	CHECK(n == 1, "one line, got %zu", n);
	deb822_release(&p);
	/* The indented line after the blank one cannot start a paragraph. */
	CHECK(deb822_parse(text, strlen(text), &pos, &p) == -XB_EPARSE, "orphan continuation");
	deb822_release(&p);

	/* Blank and white-space-only lines inside a value are skipped. */
	const char *value = "first\n a b c \n\n \t \n last";
	const char *lines[] = { "first", "a b c", "last" };
	vpos = 0;
	n = 0;
	while ((line = deb822_next_line(value, &vpos))) {
		CHECK(n < ARRAY_SIZE(lines) && streq(line, lines[n]), "value line %zu: [%s]", n, line);
		free(line);
		n++;
	}
	CHECK(n == 3, "three lines, got %zu", n);
	CHECK(deb822_next_line(value, &vpos) == NULL, "stays at the end");
	vpos = 0;
	CHECK(deb822_next_line("", &vpos) == NULL, "empty value");
}

/* A Release-sized hash list: many continuation lines, all kept in order. */
static void test_long_value(void)
{
	struct strbuf text = STRBUF_INIT;
	struct deb822 p = DEB822_INIT;
	size_t pos = 0, vpos = 0, n = 0;
	bool ordered = true;
	char *line;

	strbuf_addstr(&text, "Origin: Debian\nMD5Sum:\n");
	for (int i = 0; i < 2000; i++)
		strbuf_addf(&text, " %032x %d main/file%d\n", i, i, i);
	strbuf_addstr(&text, "SHA256:\n 00 1 x\n");
	CHECK(deb822_parse(text.buf, text.len, &pos, &p) == 1, "parses");
	const char *v = deb822_get(&p, "MD5Sum");
	while (v && (line = deb822_next_line(v, &vpos))) {
		char want[64];
		snprintf(want, sizeof(want), "%032zx %zu main/file%zu", n, n, n);
		if (strcmp(line, want))
			ordered = false;
		free(line);
		n++;
	}
	CHECK(n == 2000 && ordered, "2000 lines in order, got %zu", n);
	CHECK(streq(deb822_get(&p, "SHA256"), "\n 00 1 x"), "field after the long one");
	deb822_release(&p);
	strbuf_release(&text);
}

int main(void)
{
	test_paragraphs();
	test_continuation();
	test_crlf_and_eof();
	test_malformed();
	test_get_set();
	test_write();
	test_next_line();
	test_long_value();
	return tap_done();
}
