/* fuzz-release: an InRelease or Release file as a mirror sends it, read
 * the way fetch_release_get() reads it without running gpgv: the
 * clearsign frame checked (fetch_gpgv_check_frame), the signed text taken
 * out (fetch_gpgv_strip, the --no-check-sig path), and the fields parsed
 * (fetch_release_parse, with its dates).  A plain Release is parsed as
 * it is. */
#include "fuzz.h"

#include <ctype.h>

#include "../../fetch/gpgv.h"
#include "../../fetch/release.h"

static void check_release(const struct fetch_release *r)
{
	fuzz_assert(r->n_files > 0);
	for (size_t i = 0; i < r->n_files; i++) {
		const struct fetch_release_file *f = &r->files[i];
		fuzz_assert(strlen(f->sha256) == 64);
		for (size_t k = 0; k < 64; k++)
			fuzz_assert(isxdigit((unsigned char)f->sha256[k]) && !isupper((unsigned char)f->sha256[k]));
		fuzz_assert(*f->path && !strpbrk(f->path, " \t\n"));
		/* The first file of that path. */
		const struct fetch_release_file *g = fetch_release_find(r, f->path);
		fuzz_assert(g && g <= f && !strcmp(g->path, f->path));
	}
	for (size_t i = 0; i < r->components.n; i++)
		fuzz_assert(*r->components.v[i] && !strpbrk(r->components.v[i], " \t\n"));
	fuzz_assert(!fetch_release_find(r, ""));
}

static void parse(const char *text, size_t len)
{
	struct fetch_release r;
	const char *why = NULL;
	int rc = fetch_release_parse(text, len, &r, &why);
	fuzz_assert(rc == 0 || (rc == -XB_EPARSE && why));
	if (rc == 0)
		check_release(&r);
	else
		fuzz_assert(!r.n_files && !r.suite && !r.codename && !r.components.n);
	fetch_release_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	fuzz_quiet();
	/* As xb_read_file() leaves it: NUL-terminated. */
	char *raw = fuzz_string(data, size);
	if (!fetch_gpgv_is_clearsigned(raw, size)) {
		parse(raw, size);
	} else if (fetch_gpgv_check_frame(raw, size, "fuzz://InRelease") == 0) {
		cleanup_strbuf struct strbuf text = STRBUF_INIT;
		fetch_gpgv_strip(raw, size, &text);
		fuzz_assert(text.len <= size);
		parse(text.buf, text.len);
	}
	/* The date parser on the first line, as a field value. */
	char *nl = strchr(raw, '\n');
	if (nl)
		*nl = '\0';
	time_t t;
	(void)fetch_release_parse_date(raw, &t);
	free(raw);
	return 0;
}
