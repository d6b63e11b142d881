/* test-unpack: core/dpkg/unpack and core/dpkg/dpkgdb on .debs built here with
 * dpkg-deb (good ones) and with ar + tar (malicious and corrupt ones).
 * Needs root (chroot, chown).  With XB_UNPACK_REAL_DEBS=DIR it also unpacks
 * every .deb in DIR into a merged-/usr target and asks dpkg about them. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "../../core/base/hash.h"
#include "../../core/base/spawn.h"
#include "../../core/dpkg/unpack.h"
#include "tap.h"

static char *tmpdir;

#define S(x) ((x) ? (x) : "(null)")

static char *tpath(const char *name) { return xasprintf("%s/%s", tmpdir, name); }

static int run_quiet(const char *const *argv, struct strbuf *capture)
{
	struct spawn_opts o = SPAWN_OPTS_INIT;
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	o.out_fd = null;
	o.err_fd = null;
	o.capture = capture;
	int r = xb_spawn((char *const *)argv, &o, NULL);
	close(null);
	return r;
}

#define RUN(...) run_quiet((const char *const[]){ __VA_ARGS__, NULL }, NULL)

/* Writes tmpdir/rel (creating directories) with the given content. */
static void put(const char *rel, const char *content, mode_t mode)
{
	cleanup_free char *p = tpath(rel);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	xb_mkdir_p_at(AT_FDCWD, p, 0755);
	*slash = '/';
	if (xb_write_file_at(AT_FDCWD, p, content, strlen(content), mode) < 0)
		abort();
}

static char *slurp(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	if (xb_read_file(path, &sb) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	if (sb.len)
		return strbuf_detach(&sb);
	strbuf_release(&sb); /* xb_read_fd leaves an empty buffer unterminated */
	return xstrdup("");
}

static char *tslurp(const char *target, const char *rel)
{
	cleanup_free char *p = xasprintf("%s/%s", target, rel);
	return slurp(p);
}

static bool texists(const char *target, const char *rel)
{
	cleanup_free char *p = xasprintf("%s/%s", target, rel);
	struct stat st;
	return lstat(p, &st) == 0;
}

/* Builds tmpdir/NAME.deb from the tree tmpdir/NAME. */
static char *build(const char *name)
{
	cleanup_free char *src = tpath(name);
	char *deb = xasprintf("%s/%s.deb", tmpdir, name);
	if (RUN("dpkg-deb", "--build", "--root-owner-group", "-Zxz", src, deb))
		abort();
	return deb;
}

static void control(const char *name, const char *extra)
{
	cleanup_free char *rel = xasprintf("%s/DEBIAN/control", name);
	cleanup_free char *text = xasprintf("Package: %s\nVersion: 1.0\nArchitecture: amd64\n"
	                                    "Maintainer: T <t@example.org>\n%s"
	                                    "Description: test package\n long text\n .\n more\n",
	                                    name, extra);
	put(rel, text, 0644);
}

static char *new_target(const char *name)
{
	char *t = tpath(name);
	mkdir(t, 0755);
	return t;
}

static size_t progress_last, progress_calls;
static void on_progress(void *ctx, size_t done, size_t total)
{
	(void)ctx;
	(void)total;
	progress_last = done;
	progress_calls++;
}

static int unpack(const char *target, const char *const *debs, size_t n)
{
	struct unpack_item items[8];
	for (size_t i = 0; i < n; i++)
		items[i] = (struct unpack_item){ debs[i], debs[i], NULL, NULL };
	progress_calls = progress_last = 0;
	return unpack_debs(target, items, n, on_progress, NULL);
}

static void test_good(void)
{
	control("xbt-good", "");
	put("xbt-good/DEBIAN/conffiles", "/etc/xbt/good.conf\n", 0644);
	put("xbt-good/DEBIAN/postinst", "#!/bin/sh\nexit 0\n", 0755);
	put("xbt-good/DEBIAN/preinst", "#!/bin/sh\nexit 0\n", 0755);
	put("xbt-good/DEBIAN/md5sums", "0123  usr/bin/xbt-suid\n", 0644);
	put("xbt-good/DEBIAN/triggers",
	    "# comment\ninterest xbt-trig\ninterest-noawait /usr/share/xbt\nactivate-noawait ldconfig\n", 0644);
	put("xbt-good/etc/xbt/good.conf", "setting=1\n", 0644);
	put("xbt-good/usr/bin/xbt-suid", "#!/bin/sh\n", 04755);
	cleanup_free char *suid = tpath("xbt-good/usr/bin/xbt-suid"), *lnk = tpath("xbt-good/usr/bin/xbt-link");
	chmod(suid, 04755);
	symlink("xbt-suid", lnk);
	control("xbt-ma", "Multi-Arch: same\n");
	put("xbt-ma/DEBIAN/triggers", "interest-await xbt-trig\n", 0644);
	put("xbt-ma/usr/lib/xbt/ma.so", "so\n", 0644);
	cleanup_free char *d1 = build("xbt-good"), *d2 = build("xbt-ma");
	cleanup_free char *t = new_target("t-good");

	int r = unpack(t, (const char *[]){ d1, d2 }, 2);
	CHECK(r == 0, "good packages unpack: %d", r);
	CHECK(progress_calls == 2 && progress_last == 2, "progress %zu calls, last %zu",
	      progress_calls, progress_last);
	struct stat st;
	cleanup_free char *suid_t = xasprintf("%s/usr/bin/xbt-suid", t);
	CHECK(stat(suid_t, &st) == 0 && (st.st_mode & 07777) == 04755 && st.st_uid == 0,
	      "setuid file kept its mode");
	cleanup_free char *conf = tslurp(t, "etc/xbt/good.conf");
	CHECK(conf && !strcmp(conf, "setting=1\n"), "conffile content");
	cleanup_free char *lt = xasprintf("%s/usr/bin/xbt-link", t);
	char buf[64] = "";
	CHECK(readlink(lt, buf, sizeof(buf) - 1) > 0 && !strcmp(buf, "xbt-suid"), "symlink kept");

	char md5[33];
	xb_hash_buf(XB_MD5, "setting=1\n", 10, md5);
	cleanup_free char *status = tslurp(t, "var/lib/dpkg/status");
	cleanup_free char *want = xasprintf("Package: xbt-good\nStatus: install ok unpacked\nVersion: 1.0\n");
	cleanup_free char *wantc = xasprintf("Conffiles:\n /etc/xbt/good.conf %s\n", md5);
	CHECK(status && strstr(status, want), "status stanza starts right:\n%s", S(status));
	CHECK(status && strstr(status, wantc), "Conffiles with md5 in status");
	CHECK(status && strstr(status, " long text\n .\n more\n"), "description kept");
	CHECK(status && strstr(status, "Package: xbt-ma\nStatus: install ok unpacked\n"), "ma stanza");

	cleanup_free char *list = tslurp(t, "var/lib/dpkg/info/xbt-good.list");
	CHECK(list && str_starts_with(list, "/.\n/etc\n/etc/xbt\n/etc/xbt/good.conf\n") &&
	      strstr(list, "\n/usr/bin/xbt-suid\n") && !strstr(list, "/\n"), "list: %s", S(list));
	cleanup_free char *post = xasprintf("%s/var/lib/dpkg/info/xbt-good.postinst", t);
	CHECK(stat(post, &st) == 0 && (st.st_mode & 0777) == 0755, "postinst is executable");
	cleanup_free char *sums = tslurp(t, "var/lib/dpkg/info/xbt-good.md5sums");
	CHECK(sums && !strcmp(sums, "0123  usr/bin/xbt-suid\n"), "md5sums copied");
	CHECK(texists(t, "var/lib/dpkg/info/xbt-good.conffiles"), "conffiles in info");
	CHECK(!texists(t, "var/lib/dpkg/info/xbt-good.control"), "no control in info");
	CHECK(texists(t, "var/lib/dpkg/info/xbt-ma:amd64.list"), "Multi-Arch: same gets :arch");
	cleanup_free char *file = tslurp(t, "var/lib/dpkg/triggers/File");
	CHECK(file && !strcmp(file, "/usr/share/xbt xbt-good/noawait\n"), "triggers/File: %s", S(file));
	cleanup_free char *trig = tslurp(t, "var/lib/dpkg/triggers/xbt-trig");
	CHECK(trig && !strcmp(trig, "xbt-good\nxbt-ma:amd64\n"), "triggers/xbt-trig: %s", S(trig));
	CHECK(!texists(t, "var/lib/dpkg/triggers/ldconfig"), "activate is not an interest");
	const char *must[] = { "var/lib/dpkg/diversions", "var/lib/dpkg/triggers/Unincorp",
		               "var/lib/dpkg/updates", "var/lib/dpkg/info/format" };
	for (size_t i = 0; i < ARRAY_SIZE(must); i++)
		CHECK(texists(t, must[i]), "%s exists", must[i]);

	cleanup_free char *root = xasprintf("--root=%s", t);
	struct strbuf out = STRBUF_INIT;
	r = run_quiet((const char *const[]){ "dpkg", root, "-l", "xbt-good", NULL }, &out);
	CHECK(r == 0 && strstr(out.buf, "iU  xbt-good"), "dpkg -l: %s", out.buf);
	strbuf_release(&out);

	/* A new version without postinst nor triggers replaces the old one. */
	cleanup_free char *p2 = tpath("xbt-good/DEBIAN/postinst");
	cleanup_free char *p3 = tpath("xbt-good/DEBIAN/triggers");
	unlink(p2);
	unlink(p3);
	cleanup_free char *d3 = build("xbt-good");
	r = unpack(t, (const char *[]){ d3 }, 1);
	CHECK(r == 0, "re-unpack: %d", r);
	cleanup_free char *status2 = tslurp(t, "var/lib/dpkg/status");
	char *first = status2 ? strstr(status2, "Package: xbt-good\n") : NULL;
	CHECK(first && !strstr(first + 1, "Package: xbt-good\n"), "one xbt-good stanza");
	CHECK(status2 && strstr(status2, "Package: xbt-ma\n"), "other stanza kept");
	CHECK(!texists(t, "var/lib/dpkg/info/xbt-good.postinst"), "stale postinst removed");
	cleanup_free char *trig2 = tslurp(t, "var/lib/dpkg/triggers/xbt-trig");
	CHECK(trig2 && !strcmp(trig2, "xbt-ma:amd64\n"), "old interest dropped: %s", S(trig2));
	cleanup_free char *file2 = tslurp(t, "var/lib/dpkg/triggers/File");
	CHECK(file2 && !*file2, "File emptied: %s", S(file2));
}

static void test_merged_usr(void)
{
	control("xbt-bin", "");
	put("xbt-bin/bin/foo", "foo\n", 0755);
	cleanup_free char *deb = build("xbt-bin");
	cleanup_free char *t = new_target("t-usr");
	cleanup_free char *ub = xasprintf("%s/usr/bin", t), *bin = xasprintf("%s/bin", t);
	xb_mkdir_p_at(AT_FDCWD, ub, 0755);
	symlink("usr/bin", bin);
	int r = unpack(t, (const char *[]){ deb }, 1);
	CHECK(r == 0, "merged-usr unpack: %d", r);
	struct stat st;
	CHECK(lstat(bin, &st) == 0 && S_ISLNK(st.st_mode), "/bin is still a symlink");
	CHECK(texists(t, "usr/bin/foo"), "bin/foo landed in usr/bin");
}

/* The steps of a streamed unpack: .debs handed over out of order are
 * unpacked in install order (the link the first ships is there when the
 * second goes through it); a stream cut short by its caller returns the
 * caller's code and writes no database. */
static void test_stream(void)
{
	control("xbt-s1", "");
	put("xbt-s1/usr/lib/xbt-real/keep", "1\n", 0644);
	cleanup_free char *lnk = tpath("xbt-s1/usr/lib/xbt-link");
	symlink("xbt-real", lnk);
	control("xbt-s2", "");
	put("xbt-s2/usr/lib/xbt-link/two", "2\n", 0644);
	cleanup_free char *d1 = build("xbt-s1"), *d2 = build("xbt-s2");
	struct unpack_item items[2] = { { d1, "xbt-s1", NULL, NULL }, { d2, "xbt-s2", NULL, NULL } };
	cleanup_free char *t = new_target("t-stream");
	struct unpack_job *j;
	int r = unpack_start(t, items, 2, -1, &j);
	CHECK(r == 0 && j, "stream start: %d", r);
	if (!j)
		return;
	r = unpack_ready(j, 1);
	if (!r)
		r = unpack_ready(j, 0);
	progress_calls = progress_last = 0;
	r = unpack_finish(j, r, on_progress, NULL);
	CHECK(r == 0, "stream: %d", r);
	CHECK(progress_last == 2, "stream progress: %zu", progress_last);
	cleanup_free char *two = tslurp(t, "usr/lib/xbt-real/two");
	CHECK(two && !strcmp(two, "2\n"), "both packages' files are there");
	cleanup_free char *st = tslurp(t, "var/lib/dpkg/status");
	CHECK(st && strstr(st, "Package: xbt-s1") && strstr(st, "Package: xbt-s2"),
	      "both packages in the status file");

	cleanup_free char *t2 = new_target("t-stream-cut");
	r = unpack_start(t2, items, 2, -1, &j);
	CHECK(r == 0 && j, "stream start: %d", r);
	if (!j)
		return;
	r = unpack_ready(j, 0);
	r = unpack_finish(j, r ? r : -XB_ENET, NULL, NULL);
	CHECK(r == -XB_ENET, "a cut stream returns the caller's code: %d", r);
	CHECK(!texists(t2, "usr/lib/xbt-real/two"), "the package not handed over is not there");
	cleanup_free char *st2 = tslurp(t2, "var/lib/dpkg/status");
	CHECK(!st2 || !strstr(st2, "Package: xbt-s1"), "no status written for a cut stream");

	/* What the second stage beside it hears: the prefix that is in the
	 * tree, growing; xbt-s2 handed over first counts only with xbt-s1. */
	int pfd[2];
	cleanup_free char *t3 = new_target("t-stream-ready");
	CHECK(pipe2(pfd, O_CLOEXEC) == 0, "pipe");
	r = unpack_start(t3, items, 2, pfd[1], &j);
	CHECK(r == 0 && j, "stream start with a ready pipe: %d", r);
	if (!j)
		return;
	r = unpack_ready(j, 1);
	if (!r)
		r = unpack_ready(j, 0);
	r = unpack_finish(j, r, NULL, NULL);
	close(pfd[1]);
	uint32_t v[8];
	ssize_t got = read(pfd[0], v, sizeof(v));
	close(pfd[0]);
	size_t nv = got > 0 ? (size_t)got / sizeof(v[0]) : 0;
	bool growing = nv > 0;
	for (size_t k = 1; k < nv; k++)
		growing = growing && v[k] > v[k - 1];
	CHECK(r == 0 && growing && v[nv - 1] == 2, "the prefix grows to 2: %zu values, last %u", nv,
	      nv ? v[nv - 1] : 0);
}

/* Builds tmpdir/NAME.deb by hand: ar of debian-binary, control.tar.gz and
 * data.tar.xz where data.tar holds tmpdir/NAME-data/x under member name. */
static char *hand_deb(const char *name, const char *member)
{
	cleanup_free char *dir = tpath(name), *rel = xasprintf("%s/control", name);
	cleanup_free char *dx = xasprintf("%s/x", name), *ctl = xasprintf("Package: %s\n"
	                                  "Version: 1\nArchitecture: amd64\n", name);
	put(rel, ctl, 0644);
	put(dx, "payload\n", 0644);
	cleanup_free char *bin = xasprintf("%s/debian-binary", dir);
	xb_write_file_at(AT_FDCWD, bin, "2.0\n", 4, 0644);
	cleanup_free char *ctar = xasprintf("%s/control.tar.gz", dir);
	cleanup_free char *dtar = xasprintf("%s/data.tar.xz", dir);
	cleanup_free char *xf = xasprintf("s,^x$,%s,", member);
	char *deb = xasprintf("%s.deb", dir);
	if (RUN("tar", "-C", dir, "-czf", ctar, "control") ||
	    RUN("tar", "-P", "--transform", xf, "-C", dir, "-cJf", dtar, "x") ||
	    RUN("ar", "rc", deb, bin, ctar, dtar))
		abort();
	return deb;
}

static void test_unsafe(void)
{
	cleanup_free char *t = new_target("t-bad");
	cleanup_free char *d1 = hand_deb("xbt-dotdot", "../xbt-escaped");
	int r = unpack(t, (const char *[]){ d1 }, 1);
	CHECK(r == -XB_EUNSAFE, "../ member refused: %d", r);
	CHECK(!texists(tmpdir, "xbt-escaped"), "nothing landed next to the target");
	CHECK(!texists(t, "var/lib/dpkg/status"), "no status after a failure");

	cleanup_free char *d2 = hand_deb("xbt-abs", "/etc/xbt-unpack-test");
	r = unpack(t, (const char *[]){ d2 }, 1);
	CHECK(r == -XB_EUNSAFE, "absolute member refused: %d", r);
	CHECK(access("/etc/xbt-unpack-test", F_OK) < 0, "host /etc untouched");

	cleanup_free char *d3 = hand_deb("xbt-dotdot2", "./usr/../../xbt-escaped");
	r = unpack(t, (const char *[]){ d3 }, 1);
	CHECK(r == -XB_EUNSAFE, "inner .. refused: %d", r);

	/* A symlink to a real host directory, then a file through it. */
	char host[] = "/tmp/xbt-host-XXXXXX";
	if (!mkdtemp(host))
		abort();
	control("xbt-link", "");
	cleanup_free char *evil = tpath("xbt-link/evil"), *evil2 = tpath("xbt-link/evil2");
	cleanup_free char *rel = xasprintf("../../../../../../..%s", host);
	symlink(host, evil);
	symlink(rel, evil2);
	control("xbt-pwn", "");
	put("xbt-pwn/evil/pwned", "pwned\n", 0644);
	put("xbt-pwn/evil2/pwned", "pwned\n", 0644);
	cleanup_free char *da = build("xbt-link"), *db = build("xbt-pwn");
	cleanup_free char *t2 = new_target("t-link");
	/* The same directory exists inside: the symlink resolves to it there. */
	cleanup_free char *in_host = xasprintf("%s%s", t2, host);
	xb_mkdir_p_at(AT_FDCWD, in_host, 0755);
	r = unpack(t2, (const char *[]){ da, db }, 2);
	DIR *d = opendir(host);
	int entries = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		entries += e->d_name[0] != '.';
	if (d)
		closedir(d);
	CHECK(entries == 0, "host directory untouched (unpack returned %d)", r);
	cleanup_free char *inside = xasprintf("%s/pwned", in_host);
	CHECK(r == 0 && access(inside, F_OK) == 0, "file landed inside the target (%d)", r);
	/* evil2 climbs with "..": in the chroot it stops at the target's root. */
	struct stat st;
	cleanup_free char *e2 = xasprintf("%s/evil2", t2);
	CHECK(lstat(e2, &st) == 0 && S_ISLNK(st.st_mode), "relative symlink followed inside");
	rmdir(host);
}

/* A tar.gz at path with the given members (name, size of zeros; the
 * first's data is data when not NULL), written with libarchive so that
 * names tar(1) would not make are possible. */
struct member {
	const char *name;
	size_t size;
	const char *data;
};

static void write_tar(const char *path, const struct member *m, size_t n)
{
	struct archive *a = archive_write_new();
	static char zeros[65536];
	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_gzip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK)
		abort();
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		size_t size = m[i].data ? strlen(m[i].data) : m[i].size;
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)size);
		archive_write_header(a, e);
		if (m[i].data)
			archive_write_data(a, m[i].data, size);
		for (size_t done = 0; !m[i].data && done < size; done += sizeof(zeros))
			archive_write_data(a, zeros, size - done < sizeof(zeros) ? size - done : sizeof(zeros));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
}

/* tmpdir/NAME.deb of the two tars' members. */
static char *tar_deb(const char *name, const struct member *ctl, size_t nctl,
                     const struct member *data, size_t ndata)
{
	cleanup_free char *dir = tpath(name);
	cleanup_free char *bin = xasprintf("%s/debian-binary", dir);
	cleanup_free char *ctar = xasprintf("%s/control.tar.gz", dir);
	cleanup_free char *dtar = xasprintf("%s/data.tar.gz", dir);
	char *deb = xasprintf("%s.deb", dir);
	xb_mkdir_p_at(AT_FDCWD, dir, 0755);
	xb_write_file_at(AT_FDCWD, bin, "2.0\n", 4, 0644);
	write_tar(ctar, ctl, nctl);
	write_tar(dtar, data, ndata);
	if (RUN("ar", "rc", deb, bin, ctar, dtar))
		abort();
	return deb;
}

static const char small_control[] = "Package: xbt-odd\nVersion: 1\nArchitecture: amd64\n";

/* dpkg refuses a member name with a newline: the .list file has a path
 * a line, and such a name would forge another. */
static void test_newline_name(void)
{
	cleanup_free char *t = new_target("t-newline");
	const struct member ctl[] = { { "./control", 0, small_control } };
	const struct member data[] = { { "./usr/share/a\n/etc/passwd", 0, "x\n" } };
	cleanup_free char *deb = tar_deb("xbt-newline", ctl, 1, data, 1);
	int r = unpack(t, (const char *[]){ deb }, 1);
	CHECK(r == -XB_EPARSE, "a member name with a newline is refused: %d", r);
	CHECK(!texists(t, "var/lib/dpkg/info/xbt-odd.list"), "no .list written for it");
}

/* A control.tar of compressed zeros (a small .deb, 384 MiB of members) is
 * refused before it is read into memory. */
static void test_control_bomb(void)
{
	struct member ctl[13] = { { "./control", 0, small_control } };
	char names[12][16];
	for (int i = 0; i < 12; i++) {
		snprintf(names[i], sizeof(names[i]), "./junk%d", i);
		ctl[i + 1] = (struct member){ names[i], 32u << 20, NULL };
	}
	const struct member data[] = { { "./usr/share/xbt-bomb", 0, "x\n" } };
	cleanup_free char *t = new_target("t-bomb");
	cleanup_free char *deb = tar_deb("xbt-bomb", ctl, ARRAY_SIZE(ctl), data, 1);
	int r = unpack(t, (const char *[]){ deb }, 1);
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	CHECK(r == -XB_EPARSE, "a control.tar bomb is refused: %d", r);
	CHECK(ru.ru_maxrss < 300 * 1024, "the unpacking process stayed under 300 MB: %ld kB",
	      ru.ru_maxrss);
}

static void test_corrupt(void)
{
	cleanup_free char *t = new_target("t-corrupt");
	control("xbt-trunc", "");
	struct strbuf big = STRBUF_INIT;
	for (unsigned i = 0; i < 20000; i++)
		strbuf_addf(&big, "%u %u\n", i * 2654435761u, i);
	put("xbt-trunc/usr/share/big", big.buf, 0644);
	strbuf_release(&big);
	cleanup_free char *deb = build("xbt-trunc");
	struct stat st;
	stat(deb, &st);
	cleanup_free char *half = tpath("half.deb");
	struct strbuf sb = STRBUF_INIT;
	xb_read_file(deb, &sb);
	xb_write_file_at(AT_FDCWD, half, sb.buf, (size_t)st.st_size / 2, 0644);
	int r = unpack(t, (const char *[]){ half }, 1);
	CHECK(r == -XB_EPARSE, "truncated deb: %d", r);

	/* Garbage in the middle of data.tar.xz (kept at its place in the ar). */
	cleanup_free char *bad = tpath("garbage.deb");
	for (size_t i = sb.len / 2; i < sb.len - 200; i++)
		sb.buf[i] = (char)(i * 7);
	xb_write_file_at(AT_FDCWD, bad, sb.buf, sb.len, 0644);
	strbuf_release(&sb);
	control("xbt-fine", "");
	cleanup_free char *fine = build("xbt-fine");
	r = unpack(t, (const char *[]){ fine, bad }, 2);
	CHECK(r == -XB_EPARSE, "garbage xz: %d", r);
	CHECK(progress_last == 1, "first package reported done");
	CHECK(!texists(t, "var/lib/dpkg/status"), "no status written after a failure");

	cleanup_free char *notdeb = tpath("xbt-notdeb.deb");
	xb_write_file_at(AT_FDCWD, notdeb, "hello\n", 6, 0644);
	r = unpack(t, (const char *[]){ notdeb }, 1);
	CHECK(r == -XB_EPARSE, "not an ar: %d", r);
	cleanup_free char *missing = tpath("missing.deb");
	r = unpack(t, (const char *[]){ missing }, 1);
	CHECK(r == -ENOENT, "missing deb: %d", r);
}

static void test_caps(void)
{
	/* cap_net_raw+ep as a v2 vfs capability */
	static const unsigned char cap[20] = { 1, 0, 0, 2, 0, 0x20, 0, 0 };
	cleanup_free char *dir = tpath("xbt-caps"), *f = tpath("xbt-caps/x");
	put("xbt-caps/x", "capable\n", 0755);
	if (setxattr(f, "security.capability", cap, sizeof(cap), 0) < 0) {
		printf("# skipping capabilities: %s\n", strerror(errno));
		return;
	}
	cleanup_free char *deb = hand_deb("xbt-caps", "./usr/bin/capable");
	/* hand_deb rewrote x; put the capability back and rebuild data.tar. */
	setxattr(f, "security.capability", cap, sizeof(cap), 0);
	cleanup_free char *dtar = xasprintf("%s/data.tar.xz", dir), *bin = xasprintf("%s/debian-binary", dir);
	cleanup_free char *ctar = xasprintf("%s/control.tar.gz", dir);
	unlink(dtar);
	unlink(deb);
	if (RUN("tar", "--xattrs", "--xattrs-include=security.capability", "--transform",
	        "s,^x$,./usr/bin/capable,", "-C", dir, "-cJf", dtar, "x") ||
	    RUN("ar", "rc", deb, bin, ctar, dtar))
		abort();
	cleanup_free char *t = new_target("t-caps");
	int r = unpack(t, (const char *[]){ deb }, 1);
	CHECK(r == 0, "caps package: %d", r);
	cleanup_free char *x = xasprintf("%s/usr/bin/capable", t);
	unsigned char got[32];
	ssize_t n = getxattr(x, "security.capability", got, sizeof(got));
	CHECK(n == (ssize_t)sizeof(cap) && !memcmp(got, cap, sizeof(cap)), "capability kept (%zd)", n);
	CHECK(getxattr(x, "user.other", got, sizeof(got)) < 0, "no other xattrs");
}

/* XB_UNPACK_REAL_DEBS=DIR: real Debian packages into a merged-/usr tree. */
static void test_real(void)
{
	const char *dir = getenv("XB_UNPACK_REAL_DEBS");
	if (!dir) {
		printf("# skipping real .debs: XB_UNPACK_REAL_DEBS not set\n");
		return;
	}
	struct strvec debs = STRVEC_INIT;
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		if (str_ends_with(e->d_name, ".deb"))
			strvec_pushf(&debs, "%s/%s", dir, e->d_name);
	if (d)
		closedir(d);
	cleanup_free char *t = new_target("t-real");
	static const char *const links[] = { "bin", "sbin", "lib", "lib64" };
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		cleanup_free char *real = xasprintf("%s/usr/%s", t, links[i]);
		cleanup_free char *l = xasprintf("%s/%s", t, links[i]), *to = xasprintf("usr/%s", links[i]);
		xb_mkdir_p_at(AT_FDCWD, real, 0755);
		symlink(to, l);
	}
	struct unpack_item *items = xcalloc(debs.n, sizeof(*items));
	for (size_t i = 0; i < debs.n; i++)
		items[i] = (struct unpack_item){ debs.v[i], debs.v[i], NULL, NULL };
	int r = unpack_debs(t, items, debs.n, NULL, NULL);
	free(items);
	CHECK(r == 0, "real debs (%zu) unpack: %d", debs.n, r);
	cleanup_free char *root = xasprintf("--root=%s", t);
	struct strbuf out = STRBUF_INIT;
	r = run_quiet((const char *const[]){ "dpkg", root, "-l", NULL }, &out);
	size_t iu = 0;
	for (const char *s = out.buf; (s = strstr(s, "\niU  ")); s++)
		iu++;
	CHECK(r == 0 && iu == debs.n, "dpkg -l shows %zu of %zu as iU", iu, debs.n);
	strbuf_reset(&out);
	r = run_quiet((const char *const[]){ "dpkg", root, "--verify", NULL }, &out);
	CHECK(r == 0 && out.len == 0, "dpkg --verify is quiet: %s", out.buf);
	strbuf_release(&out);
	strvec_clear(&debs);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("# skipping test-unpack: needs root (chroot, chown)\n");
		return tap_done();
	}
	char tmpl[] = "/tmp/xbt-unpack-XXXXXX";
	tmpdir = mkdtemp(tmpl);
	if (!tmpdir)
		return 1;
	umask(022);
	test_good();
	test_merged_usr();
	test_stream();
	test_unsafe();
	test_corrupt();
	test_newline_name();
	test_control_bomb();
	test_caps();
	test_real();
	if (!getenv("XB_KEEP"))
		xb_rm_rf_at(AT_FDCWD, tmpdir);
	else
		printf("# kept %s\n", tmpdir);
	return tap_done();
}
