/* test-replaces: which Replaces make a package wait, in the unpack, for
 * the one of the set it replaces (unpack_replaces_one_of). */
#include "../../core/dpkg/unpack.h"
#include "tap.h"

/* Which Replaces make a package wait for the one it replaces. */
static void test_replaces(void)
{
	const struct unpack_item set[] = { { "a.deb", "dpkg", NULL, "1.22.21" },
		                           { "b.deb", "libc6", NULL, "2.41-12" },
		                           { "c.deb", "login", NULL, NULL } };
	static const struct {
		const char *field, *self;
		bool replaces;
	} cases[] = {
		{ "dpkg (<= 1.15.0)", "base-files", false },   /* trixie's base-files */
		{ "base, dpkg (<= 1.15.0), miscutils", "base-files", false },
		{ "dpkg", "base-files", true },
		{ "dpkg (>= 1.20)", "base-files", true },
		{ "dpkg:any (<< 1.23)", "base-files", true },
		{ "libc6 (<< 2.29-4)", "libcrypt1", false },
		{ "other, libc6(<<2.42)", "libcrypt1", true },
		{ "login (<< 1:4.16.0-2~)", "passwd", true },  /* no version known: it may */
		{ "dpkg", "dpkg", false },                     /* itself */
		{ "dpkgx, xdpkg (= 1)", "base-files", false },
		{ "", "base-files", false },
		{ NULL, "base-files", false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		bool got = unpack_replaces_one_of(cases[i].field, cases[i].self, set, ARRAY_SIZE(set));
		CHECK(got == cases[i].replaces, "Replaces: %s (of %s): %s", cases[i].field ? cases[i].field : "(none)",
		      cases[i].self, got ? "waits" : "does not wait");
	}
}

int main(void)
{
	test_replaces();
	return tap_done();
}
