/* test-dpkgfilter: dpkg's --path-exclude/--path-include as the native
 * unpack applies them: last match wins, '*' crosses '/', directories kept
 * for an include below them, both spellings of the option. */
#include "../../core/dpkg/dpkgfilter.h"
#include "tap.h"

static void test_doc_and_copyright(void)
{
	struct dpkgfilter f = DPKGFILTER_INIT;
	CHECK(!dpkgfilter_skip(&f, "./usr/share/doc/x/README", false), "no filter skips nothing");
	dpkgfilter_add_option(&f, "path-exclude=/usr/share/doc/*");
	dpkgfilter_add_option(&f, "# a comment\npath-include /usr/share/doc/*/copyright\n");
	dpkgfilter_add_option(&f, "--path-exclude=/usr/share/man/*");
	CHECK(dpkgfilter_any(&f), "three patterns");
	CHECK(dpkgfilter_skip(&f, "./usr/share/doc/x/README", false), "README excluded");
	CHECK(dpkgfilter_skip(&f, "./usr/share/doc/x/sub/deep", false), "'*' crosses '/'");
	CHECK(!dpkgfilter_skip(&f, "./usr/share/doc/x/copyright", false), "copyright included again");
	CHECK(!dpkgfilter_skip(&f, "./usr/share/doc/x/", true), "its directory kept");
	CHECK(!dpkgfilter_skip(&f, "./usr/share/doc/", true), "/usr/share/doc itself is no match");
	CHECK(dpkgfilter_skip(&f, "./usr/share/man/man1/", true), "a directory with no include below");
	CHECK(!dpkgfilter_skip(&f, "./usr/bin/true", false), "the rest unpacked");
	dpkgfilter_add_option(&f, "path-include=/usr/share/man/man1/*");
	CHECK(!dpkgfilter_skip(&f, "./usr/share/man/man1/ls.1.gz", false), "a later include wins");
	CHECK(!dpkgfilter_skip(&f, "./usr/share/man/man1/", true), "and keeps its directory");
	dpkgfilter_release(&f);
}

int main(void)
{
	test_doc_and_copyright();
	return tap_done();
}
