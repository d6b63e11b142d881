/* test-dpkgdb: the status file as core/dpkg/dpkgdb keeps it, checked with
 * dpkg's own tools: packages added as unpacked, each one configured
 * recorded in the journal (updates/) that dpkg-query reads, the whole file
 * written with the previous one kept as status-old, and a journal dpkg
 * left behind taken in when the file is read. */
#include <fcntl.h>
#include <sys/stat.h>

#include "../../core/base/spawn.h"
#include "../../core/dpkg/dpkgdb.h"
#include "tap.h"

static char *tmpdir;

/* dpkg-query's answer for the package in the root: its ${Status}. */
static char *status_of(const char *pkg)
{
	cleanup_free char *admin = xasprintf("--admindir=%s/var/lib/dpkg", tmpdir);
	char *argv[] = { "dpkg-query", admin, "-W", "-f=${Status}", (char *)pkg, NULL };
	struct strbuf out = STRBUF_INIT;
	struct spawn_opts o = SPAWN_OPTS_INIT;
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	o.err_fd = null;
	o.capture = &out;
	if (xb_spawn(argv, &o, NULL) < 0)
		strbuf_addstr(&out, "(dpkg-query failed)");
	close(null);
	return strbuf_detach(&out);
}

static bool has_file(const char *rel)
{
	struct stat st;
	cleanup_free char *p = xasprintf("%s/%s", tmpdir, rel);
	return lstat(p, &st) == 0;
}

/* A debinfo as debfile would fill it, from a control file's text. */
static void make_pkg(struct debinfo *p, const char *control)
{
	*p = (struct debinfo){ .deb = "test" };
	debinfo_add_file(p, "control", xstrdup(control), strlen(control));
	if (debinfo_load_control(p) < 0)
		abort();
}

static void test_status(int rootfd)
{
	struct debinfo pkgs[2];
	struct dpkgdb_status st = DPKGDB_STATUS_INIT;
	make_pkg(&pkgs[0], "Package: aaa\nVersion: 1.0\nArchitecture: all\nMaintainer: x\n"
	                   "Description: a\n");
	make_pkg(&pkgs[1], "Package: bbb\nVersion: 2:3-4\nArchitecture: amd64\nMaintainer: x\n"
	                   "Description: b\n");
	CHECK(dpkgdb_init(rootfd) == 0, "init");
	CHECK(dpkgdb_status_load(rootfd, &st) == 0 && st.n == 0, "a missing status is empty");
	dpkgdb_status_unpacked(&st, pkgs, 2);
	CHECK(dpkgdb_status_write(rootfd, &st) == 0, "write");
	cleanup_free char *a = status_of("aaa"), *b = status_of("bbb");
	CHECK(!strcmp(a, "install ok unpacked") && !strcmp(b, "install ok unpacked"),
	      "unpacked: %s / %s", a, b);
	CHECK(!has_file(DPKGDB "/status-old"), "no status-old for a status that was not there");

	CHECK(dpkgdb_status_installed(rootfd, &st, "bbb", "amd64") == 0, "bbb configured");
	CHECK(has_file(DPKGDB "/updates/0000"), "in the journal");
	cleanup_free char *b2 = status_of("bbb"), *a2 = status_of("aaa");
	CHECK(!strcmp(b2, "install ok installed"), "dpkg-query reads the journal: %s", b2);
	CHECK(!strcmp(a2, "install ok unpacked"), "the other is still unpacked: %s", a2);
	CHECK(dpkgdb_status_installed(rootfd, &st, "ccc", "amd64") < 0, "no stanza: an error");

	CHECK(dpkgdb_status_write(rootfd, &st) == 0, "write again");
	CHECK(!has_file(DPKGDB "/updates/0000"), "the journal emptied");
	CHECK(has_file(DPKGDB "/status-old"), "status-old kept, as dpkg keeps it");
	dpkgdb_status_release(&st);
	for (int i = 0; i < 2; i++)
		debinfo_release(&pkgs[i]);
}

/* A journal entry dpkg left (an interrupted run) is read back. */
static void test_journal(int rootfd)
{
	struct dpkgdb_status st = DPKGDB_STATUS_INIT;
	static const char entry[] = "Package: aaa\nStatus: install ok installed\nVersion: 1.0\n"
	                            "Architecture: all\nMaintainer: x\nDescription: a\n";
	CHECK(xb_write_file_at(rootfd, DPKGDB "/updates/0007", entry, strlen(entry), 0644) == 0,
	      "journal entry");
	CHECK(dpkgdb_status_load(rootfd, &st) == 0 && st.n == 2, "loaded: %zu", st.n);
	CHECK(!has_file(DPKGDB "/updates/0007"), "taken into the status file");
	cleanup_free char *a = status_of("aaa");
	CHECK(!strcmp(a, "install ok installed"), "journal applied: %s", a);
	dpkgdb_status_release(&st);
}

/* dpkg-divert's own diversions file: whose diversions it holds */
static void test_diversions(int rootfd)
{
	struct strvec zutils = STRVEC_INIT, others = STRVEC_INIT;
	strvec_push(&zutils, "zutils");
	strvec_pushl(&others, "gzip", "zutil", "/usr/bin/zcat", NULL);
	CHECK(dpkgdb_diverted_by(rootfd, &zutils) == 0, "an empty file: none");
	cleanup_free char *admin = xasprintf("--admindir=%s/var/lib/dpkg", tmpdir);
	cleanup_free char *inst = xasprintf("--instdir=%s", tmpdir);
	char *argv[] = { "dpkg-divert", admin, inst, "--quiet", "--no-rename", "--package", "zutils",
		         "--divert", "/usr/bin/zcat.usr-is-merged", "--add", "/usr/bin/zcat", NULL };
	CHECK(xb_spawn(argv, &(struct spawn_opts)SPAWN_OPTS_INIT, NULL) == 0, "dpkg-divert --add");
	char *local[] = { "dpkg-divert", admin, inst, "--quiet", "--no-rename", "--local", "--divert",
		          "/etc/x.orig", "--add", "/etc/x", NULL };
	CHECK(xb_spawn(local, &(struct spawn_opts)SPAWN_OPTS_INIT, NULL) == 0, "a local one");
	CHECK(dpkgdb_diverted_by(rootfd, &zutils) == 1, "zutils holds one");
	CHECK(dpkgdb_diverted_by(rootfd, &others) == 0, "whole names, and holders only");
	strvec_clear(&zutils);
	strvec_clear(&others);
}

static void test_invalid_version(void)
{
	struct debinfo p = { .deb = "bad.deb" };
	static const char control[] = "Package: bad\nVersion: 1.0 beta\nArchitecture: all\n";
	debinfo_add_file(&p, "control", xstrdup(control), strlen(control));
	CHECK(debinfo_load_control(&p) == -XB_EPARSE, "a Version dpkg refuses is refused");
	debinfo_release(&p);
}

int main(void)
{
	char tmpl[] = "/tmp/xb-test-dpkgdb-XXXXXX";
	if (!(tmpdir = mkdtemp(tmpl)))
		return 1;
	int rootfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	test_status(rootfd);
	test_journal(rootfd);
	test_diversions(rootfd);
	test_invalid_version();
	close(rootfd);
	xb_rm_rf_at(AT_FDCWD, tmpdir);
	return tap_done();
}
