/* fuzz-deb822: core/base/deb822 on any text, as Packages, Release, control
 * and status files reach it.  Every paragraph is parsed, looked up,
 * edited and written back; a paragraph written by deb822_write must parse
 * back into the same fields. */
#include "fuzz.h"

#include "../../core/base/deb822.h"

static bool same(const struct deb822 *a, const struct deb822 *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->f[i].name, b->f[i].name) || strcmp(a->f[i].value, b->f[i].value))
			return false;
	return true;
}

/* Written back and parsed again: the same fields.  Only for text without
 * NUL bytes, which cut a name or value short where they are (the rest of
 * the line is lost, and the part kept may be empty or end in blanks). */
static void check_roundtrip(const struct deb822 *p)
{
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	cleanup_deb822 struct deb822 again = DEB822_INIT;
	size_t pos = 0;
	deb822_write(p, &out);
	int rc = deb822_parse(out.buf, out.len, &pos, &again);
	fuzz_assert(p->n ? rc == 1 : rc == 0);
	fuzz_assert(same(p, &again));
	/* A written paragraph is the whole text. */
	fuzz_assert(pos == out.len);
}

static void exercise(struct deb822 *p, bool has_nul)
{
	for (size_t i = 0; i < p->n; i++) {
		size_t pos = 0;
		for (char *line; (line = deb822_next_line(p->f[i].value, &pos)); free(line))
			fuzz_assert(*line && !strchr(line, '\n'));
		fuzz_assert(deb822_get(p, p->f[i].name) != NULL);
	}
	if (!has_nul)
		check_roundtrip(p);
	deb822_set(p, "Package", "fuzz");
	fuzz_assert(!strcmp(deb822_get(p, "package"), "fuzz"));
	if (p->n)
		deb822_unset(p, p->f[0].name);
	deb822_unset(p, "Package");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	fuzz_quiet();
	/* Not NUL-terminated, as the parser's callers may hand it a slice. */
	char *text = xmalloc(size ? size : 1);
	memcpy(text, data, size);
	bool has_nul = memchr(text, '\0', size) != NULL;
	size_t pos = 0;
	for (int rc = 1; rc == 1;) {
		cleanup_deb822 struct deb822 p = DEB822_INIT;
		size_t before = pos;
		rc = deb822_parse(text, size, &pos, &p);
		fuzz_assert(pos <= size);
		if (rc == 1) {
			fuzz_assert(pos > before && p.n > 0);
			exercise(&p, has_nul);
		}
	}
	free(text);
	return 0;
}
