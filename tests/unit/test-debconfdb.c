/* test-debconfdb: debconf's database files read and written as debconf's
 * 822 format does (a file debconf wrote comes back byte for byte), and
 * the merge of what one script changed in its copy. */
#include "../../core/secondstage/debconfdb.h"
#include "../../core/base/strbuf.h"
#include "tap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* As debconf 1.5 writes them: fields sorted, then owners, flags and
 * variables; escaped newlines; records by name. */
static const char config_dat[] =
	"Name: debconf/frontend\n"
	"Template: debconf/frontend\n"
	"Value: Noninteractive\n"
	"Owners: debconf\n"
	"Flags: seen\n"
	"\n"
	"Name: locales/default_environment_locale\n"
	"Template: locales/default_environment_locale\n"
	"Value: \n"
	"Owners: locales\n"
	"Variables:\n"
	" locales = C.UTF-8, en_US.UTF-8\n"
	" x = a=b\n"
	"\n"
	"Name: tzdata/Areas\n"
	"Template: tzdata/Areas\n"
	"Value: Etc\n"
	"Owners: tzdata, tzdata-legacy\n"
	"Flags: seen, unrelated\n"
	"\n";

static const char templates_dat[] =
	"Name: man-db/auto-update\n"
	"Default: true\n"
	"Description: Should man and mandb be installed 'setuid man'?\n"
	"Description-de.utf-8: Soll man-db aktualisiert werden?\n"
	"Extended_description: The man-db package can be configured\\n\\nsecond paragraph\n"
	"Type: boolean\n"
	"\n";

static char *write_text(const struct debconfdb *db)
{
	struct strbuf sb = STRBUF_INIT;
	debconfdb_write(db, &sb);
	return strbuf_detach(&sb);
}

static bool round_trip(const char *text)
{
	struct debconfdb db = DEBCONFDB_INIT;
	debconfdb_parse(text, strlen(text), &db);
	char *out = write_text(&db);
	bool same = !strcmp(out, text);
	if (!same)
		printf("# got:\n%s", out);
	free(out);
	debconfdb_release(&db);
	return same;
}

static void test_round_trip(void)
{
	CHECK(round_trip(config_dat), "config.dat back byte for byte");
	CHECK(round_trip(templates_dat), "templates.dat back byte for byte");
	CHECK(round_trip(""), "an empty file");
}

static void expect(const char *in, const char *want, const char *what)
{
	struct debconfdb db = DEBCONFDB_INIT;
	debconfdb_parse(in, strlen(in), &db);
	char *out = write_text(&db);
	CHECK(!strcmp(out, want), "%s: got\n%s", what, out);
	free(out);
	debconfdb_release(&db);
}

static void test_reading(void)
{
	expect("Name: b\nType: x\n\nName: a\nValue: 1\ntemplate: t\n",
	       "Name: a\nTemplate: t\nValue: 1\n\nName: b\nType: x\n\n", "records and fields sorted");
	expect("Name: a\nValue: 1\n\nName: a\nValue: 2\n\n", "Name: a\nValue: 2\n\n",
	       "a later record of a name replaces the earlier");
	expect("Value: 1\n\n\n\nName: a\n", "Name: a\n\n", "a record without a name is dropped");
	expect("Name: a\nowners: z,  y, \nFLAGS: seen\n\n", "Name: a\nOwners: y, z\nFlags: seen\n\n",
	       "owners split at a comma and blanks, sorted; keys in any case");
	expect("Name: a\nVariables:\n\tv   =  w\n y=\nValue: 1\n\n",
	       "Name: a\nValue: 1\nVariables:\n v =  w\n y = \n\n",
	       "variables end at a line that is not indented");
}

static void parse(const char *text, struct debconfdb *db)
{
	*db = (struct debconfdb)DEBCONFDB_INIT;
	debconfdb_parse(text, strlen(text), db);
}

static void test_merge(void)
{
	struct debconfdb base, ours, db;
	/* the script's copy as it began, and as it ended */
	parse("Name: a/q\nValue: x\nOwners: a\nFlags: seen\n\nName: gone\nValue: 1\n\n"
	      "Name: kept\nValue: k\n\n", &base);
	parse("Name: a/q\nValue: y\nOwners: a, c\n\nName: c/q\nValue: new\nOwners: c\n\n"
	      "Name: kept\nValue: k\n\n", &ours);
	/* the database meanwhile: another script added an owner and a
	 * record, and removed "kept" */
	parse("Name: a/q\nValue: x\nOwners: a, b\nFlags: seen\n\nName: d/q\nValue: d\n\n"
	      "Name: gone\nValue: 1\n\n", &db);
	size_t n = debconfdb_merge(&db, &base, &ours);
	char *out = write_text(&db);
	CHECK(!strcmp(out, "Name: a/q\nValue: y\nOwners: a, b, c\n\nName: c/q\nValue: new\nOwners: c\n\n"
	                   "Name: d/q\nValue: d\n\n"),
	      "changes carried, others' kept, what the script left alone as others left it: got\n%s", out);
	CHECK(n == 3, "three records changed (a/q, c/q, gone): %zu", n);
	free(out);
	n = debconfdb_merge(&db, &ours, &ours);
	CHECK(n == 0, "nothing changed, nothing merged: %zu", n);
	debconfdb_release(&base);
	debconfdb_release(&ours);
	debconfdb_release(&db);
}

int main(void)
{
	test_round_trip();
	test_reading();
	test_merge();
	return tap_done();
}
