/* test-output: core/output/output on a small tree made here (setuid, a file
 * capability, hard and symbolic links, device nodes, a FIFO, a socket,
 * future mtimes): every tar format twice, byte for byte, and read back
 * with libarchive; squashfs and ext4 images where the tools are installed.
 * Needs root (mknod, chown, security.capability). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "../../core/output/output.h"
#include "../../core/base/hash.h"
#include "../../core/base/spawn.h"
#include "tap.h"

#define EPOCH 1700000000LL

static char *tmpdir, *root;

static char *tpath(const char *name) { return xasprintf("%s/%s", tmpdir, name); }
static char *rpath(const char *name) { return xasprintf("%s/%s", root, name); }

/* A v2 capability blob: cap_net_raw (13) permitted and effective, as
 * `setcap cap_net_raw+ep` writes it. */
static const unsigned char ping_caps[20] = { 0x01, 0, 0, 0x02, 0, 0x20, 0, 0 };

static void put(const char *rel, const char *content, mode_t mode, long long mtime)
{
	cleanup_free char *p = rpath(rel);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	xb_mkdir_p_at(AT_FDCWD, p, 0755);
	*slash = '/';
	if (xb_write_file_at(AT_FDCWD, p, content, strlen(content), 0644) < 0 || chmod(p, mode) < 0)
		abort();
	struct timespec ts[2] = { { (time_t)mtime, 0 }, { (time_t)mtime, 0 } };
	utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW);
}

static void make_tree(void)
{
	root = tpath("root");
	mkdir(root, 0755);
	put("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644, EPOCH - 100);
	put("etc/new", "written after the epoch\n", 0644, EPOCH + 1000);
	put("usr/bin/ping", "ping\n", 0755, EPOCH - 5);
	put("usr/bin/su", "su\n", 04755, EPOCH - 5);
	put("usr/bin/wall", "wall\n", 02755, EPOCH - 5);
	put("usr/bin/a-hard", "linked\n", 0644, EPOCH - 5);
	put("usr/share/doc/x/y/z/deep", "deep\n", 0644, EPOCH - 5);
	put("a/b", "b\n", 0644, EPOCH - 5);
	put("a-b", "a-b\n", 0644, EPOCH - 5);
	put("usr/share/doc/caf\xc3\xa9", "not ASCII\n", 0644, EPOCH - 5);
	put("B", "upper case sorts first\n", 0644, EPOCH - 5);
	put("owned", "by 1234:5678\n", 0640, EPOCH - 5);
	cleanup_free char *ping = rpath("usr/bin/ping"), *su = rpath("usr/bin/su");
	cleanup_free char *wall = rpath("usr/bin/wall"), *owned = rpath("owned");
	cleanup_free char *h1 = rpath("usr/bin/a-hard"), *h2 = rpath("usr/bin/z-hard");
	cleanup_free char *sl = rpath("lib"), *dev = rpath("dev"), *null = rpath("dev/null");
	cleanup_free char *blk = rpath("dev/sda"), *fifo = rpath("run/fifo"), *sock = rpath("run/sock");
	if (setxattr(ping, "security.capability", ping_caps, sizeof(ping_caps), 0) < 0)
		printf("# cannot set security.capability: %s\n", strerror(errno));
	/* chmod after chown: chown drops setuid/setgid */
	if (chown(su, 0, 0) < 0 || chmod(su, 04755) < 0 || chmod(wall, 02755) < 0 ||
	    chown(owned, 1234, 5678) < 0 || link(h1, h2) < 0 || symlink("usr/lib", sl) < 0)
		abort();
	mkdir(dev, 0755);
	xb_mkdir_p_at(AT_FDCWD, fifo, 0755);
	rmdir(fifo);
	if (mknod(null, S_IFCHR | 0666, makedev(1, 3)) < 0 ||
	    mknod(blk, S_IFBLK | 0660, makedev(8, 0)) < 0 || mkfifo(fifo, 0644) < 0)
		abort();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (strlen(sock) < sizeof(sa.sun_path)) {
		memcpy(sa.sun_path, sock, strlen(sock));
		if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			printf("# cannot make a socket: %s\n", strerror(errno));
	}
	close(s);
	struct timespec ts[2] = { { EPOCH + 50, 0 }, { EPOCH + 50, 0 } };
	utimensat(AT_FDCWD, root, ts, 0);
}

/* What the archive must hold, in this order (directories first, each
 * directory's names in byte order). */
static const char *const want_order[] = {
	"./", "./B", "./a/", "./a/b", "./a-b", "./dev/", "./etc/", "./etc/new",
	"./etc/passwd", "./lib", "./owned", "./run/", "./usr/", "./usr/bin/",
	"./usr/bin/a-hard", "./usr/bin/ping", "./usr/bin/su", "./usr/bin/wall",
	"./usr/bin/z-hard", "./usr/share/", "./usr/share/doc/", "./usr/share/doc/caf\xc3\xa9", "./usr/share/doc/x/",
	"./usr/share/doc/x/y/", "./usr/share/doc/x/y/z/", "./usr/share/doc/x/y/z/deep",
};

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

static char *slurp(const char *path, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	if (xb_read_file(path, &sb) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	*len = sb.len;
	return sb.buf ? strbuf_detach(&sb) : xstrdup("");
}

/* Runs output_write() in a child process, so that anything that varies
 * with the process (a pid in a pax header name) shows as a difference. */
static int write_in_child(const char *target, enum output_format f, const struct output_opts *o)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(output_write(root, target, f, o) ? 1 : 0);
	int ws;
	return waitpid(pid, &ws, 0) == pid && WIFEXITED(ws) ? -WEXITSTATUS(ws) : -1;
}

static bool same_file(const char *a, const char *b)
{
	size_t la = 0, lb = 0;
	cleanup_free char *x = slurp(a, &la), *y = slurp(b, &lb);
	return x && y && la == lb && !memcmp(x, y, la);
}

static int map_real(void *ctx, uid_t *uid, gid_t *gid)
{
	(*(int *)ctx)++;
	if (*uid == 1234)
		*uid = 0;
	if (*gid == 5678)
		*gid = 0;
	return 0;
}

static int map_fail(void *ctx, uid_t *uid, gid_t *gid)
{
	(void)ctx;
	(void)uid;
	(void)gid;
	xb_error("mapping failed on purpose");
	return -EPERM;
}

/* Reads an archive back and checks everything the output promises. */
static void check_archive(const char *path, const char *what, bool mapped)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	CHECK(archive_read_open_filename(a, path, 16384) == ARCHIVE_OK, "%s: open: %s", what,
	      archive_error_string(a));
	struct archive_entry *e;
	size_t i = 0;
	bool order_ok = true, names_ok = true, times_ok = true, caps_ok = false, atime = false;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e);
		if (i >= ARRAY_SIZE(want_order) || strcmp(p, want_order[i])) {
			printf("# %s: member %zu is %s, expected %s\n", what, i, p,
			       i < ARRAY_SIZE(want_order) ? want_order[i] : "(end)");
			order_ok = false;
		}
		i++;
		const char *un = archive_entry_uname(e), *gn = archive_entry_gname(e);
		names_ok &= (!un || !*un) && (!gn || !*gn);
		atime |= archive_entry_atime_is_set(e) || archive_entry_ctime_is_set(e);
		times_ok &= archive_entry_mtime(e) <= EPOCH && !archive_entry_mtime_nsec(e);
		mode_t m = archive_entry_mode(e);
		if (!strcmp(p, "./etc/new"))
			CHECK(archive_entry_mtime(e) == EPOCH, "%s: future mtime clamped", what);
		if (!strcmp(p, "./etc/passwd"))
			CHECK(archive_entry_mtime(e) == EPOCH - 100, "%s: past mtime kept", what);
		if (!strcmp(p, "./"))
			CHECK(archive_entry_mtime(e) == EPOCH && S_ISDIR(m), "%s: root entry", what);
		if (!strcmp(p, "./usr/bin/su"))
			CHECK((m & 07777) == 04755 && S_ISREG(m), "%s: setuid kept: %o", what, m);
		if (!strcmp(p, "./usr/bin/wall"))
			CHECK((m & 07777) == 02755, "%s: setgid kept: %o", what, m);
		if (!strcmp(p, "./lib"))
			CHECK(S_ISLNK(m) && !strcmp(archive_entry_symlink(e), "usr/lib"),
			      "%s: symlink kept", what);
		if (!strcmp(p, "./usr/bin/z-hard")) {
			const char *h = archive_entry_hardlink(e);
			CHECK(h && !strcmp(h, "./usr/bin/a-hard"), "%s: hard link: %s", what,
			      h ? h : "(none)");
		}
		if (!strcmp(p, "./owned")) {
			int64_t u = archive_entry_uid(e), g = archive_entry_gid(e);
			CHECK(mapped ? u == 0 && g == 0 : u == 1234 && g == 5678,
			      "%s: owner %lld:%lld", what, (long long)u, (long long)g);
		}
		if (!strcmp(p, "./usr/bin/ping")) {
			const char *name;
			const void *v;
			size_t n;
			archive_entry_xattr_reset(e);
			while (archive_entry_xattr_next(e, &name, &v, &n) == ARCHIVE_OK)
				caps_ok |= !strcmp(name, "security.capability") &&
				           n == sizeof(ping_caps) && !memcmp(v, ping_caps, n);
		}
		if (!strcmp(p, "./usr/bin/a-hard"))
			CHECK(archive_entry_size(e) == 7, "%s: first link has the data", what);
	}
	CHECK(r == ARCHIVE_EOF, "%s: read to the end: %s", what, archive_error_string(a));
	CHECK(order_ok && i == ARRAY_SIZE(want_order), "%s: members and order (%zu)", what, i);
	CHECK(names_ok, "%s: no user or group names", what);
	CHECK(!atime, "%s: no atime or ctime", what);
	CHECK(times_ok, "%s: mtimes clamped, whole seconds", what);
	CHECK(caps_ok, "%s: ping's capability kept", what);
	archive_read_free(a);
}

static void test_tar_formats(void)
{
	static const struct {
		enum output_format f;
		const char *name;
	} cases[] = {
		{ OUTPUT_TAR, "out.tar" },     { OUTPUT_TAR_GZ, "out.tar.gz" },
		{ OUTPUT_TAR_XZ, "out.tar.xz" }, { OUTPUT_TAR_ZST, "out.tar.zst" },
		{ OUTPUT_TAR_BZ2, "out.tar.bz2" }, { OUTPUT_TAR_LZ4, "out.tar.lz4" },
		{ OUTPUT_TAR_LZMA, "out.tar.lzma" },
	};
	struct output_opts o = OUTPUT_OPTS_INIT;
	o.source_date_epoch = EPOCH;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cleanup_free char *t1 = tpath(cases[i].name);
		cleanup_free char *t2 = xasprintf("%s.again", t1);
		int r = output_write(root, t1, cases[i].f, &o);
		CHECK(r == 0, "%s: written: %d", cases[i].name, r);
		r = write_in_child(t2, cases[i].f, &o);
		CHECK(r == 0, "%s: written again: %d", cases[i].name, r);
		CHECK(same_file(t1, t2), "%s: two runs give the same bytes", cases[i].name);
		check_archive(t1, cases[i].name, false);
		unlink(t2);
	}

	/* gzip header: no name (FLG bit 3), no time stamp (MTIME) */
	size_t len = 0;
	cleanup_free char *gz1 = tpath("out.tar.gz");
	cleanup_free char *gz = slurp(gz1, &len);
	CHECK(gz && len > 10 && !(gz[3] & 0x08) && !gz[4] && !gz[5] && !gz[6] && !gz[7],
	      "gzip header without name or time stamp");
}

/* The SHA256 taken on the way is the file's, and the bytes are those
 * written without it. */
static void test_sha256(void)
{
	char got[65] = "", want[65] = "";
	struct output_opts o = OUTPUT_OPTS_INIT;
	o.source_date_epoch = EPOCH;
	cleanup_free char *plain = tpath("plain.tar"), *hashed = tpath("hashed.tar");
	int r = output_write(root, plain, OUTPUT_TAR, &o);
	o.sha256 = got;
	if (!r)
		r = output_write(root, hashed, OUTPUT_TAR, &o);
	cleanup_fd int a = open(plain, O_RDONLY | O_CLOEXEC), b = open(hashed, O_RDONLY | O_CLOEXEC);
	char other[65] = "";
	CHECK(r == 0 && a >= 0 && b >= 0 && xb_hash_fd(XB_SHA256, a, want) == 0 &&
	      xb_hash_fd(XB_SHA256, b, other) == 0, "tars with and without the hash: %d", r);
	CHECK(!strcmp(got, want) && !strcmp(other, want), "the hash taken is the file's: %s, %s", got,
	      want);
}

static void test_map_owner(void)
{
	int calls = 0;
	struct output_opts o = { EPOCH, map_real, &calls, false, NULL, NULL, NULL };
	cleanup_free char *t = tpath("mapped.tar");
	int r = output_write(root, t, OUTPUT_TAR, &o);
	CHECK(r == 0 && calls == (int)ARRAY_SIZE(want_order), "mapped tar: %d, %d calls", r, calls);
	check_archive(t, "mapped tar", true);
}

static void test_stdout(void)
{
	struct output_opts o = OUTPUT_OPTS_INIT;
	o.source_date_epoch = EPOCH;
	cleanup_free char *t = tpath("stdout.tar"), *ref = tpath("out.tar");
	fflush(stdout);
	int saved = dup(1), fd = open(t, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	dup2(fd, 1);
	close(fd);
	int r = output_write(root, "-", OUTPUT_TAR, &o);
	dup2(saved, 1);
	close(saved);
	CHECK(r == 0, "tar to stdout: %d", r);
	CHECK(same_file(t, ref), "stdout gets the same bytes as a file");
}

/* Number of names in dir. */
static int count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* Runs output_write() with stderr in a file; returns the number of error
 * lines it printed. */
static int errors_of(const char *target, enum output_format f, const struct output_opts *o,
                     int *r)
{
	cleanup_free char *log = tpath("stderr.log");
	fflush(stderr);
	int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	dup2(fd, 2);
	close(fd);
	*r = output_write(root, target, f, o);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	size_t len;
	cleanup_free char *text = slurp(log, &len);
	int n = 0;
	for (const char *p = text; p && (p = strstr(p, "xboot: error: ")); p++)
		n++;
	unlink(log);
	return n;
}

static void test_failures(void)
{
	struct output_opts o = OUTPUT_OPTS_INIT;
	cleanup_free char *missing = tpath("no/such/dir/out.tar");
	int r, n = errors_of(missing, OUTPUT_TAR_GZ, &o, &r);
	CHECK(r < 0 && n == 1, "missing directory: %d, %d errors", r, n);

	cleanup_free char *dir = tpath("fail"), *t = tpath("fail/out.tar.xz");
	mkdir(dir, 0755);
	o.map_owner = map_fail;
	n = errors_of(t, OUTPUT_TAR_XZ, &o, &r);
	CHECK(r == -EPERM && n == 1, "failing owner map: %d, %d errors", r, n);
	CHECK(count_dir(dir) == 2, "nothing left behind after a failed write");

	/* a failed write leaves an older target alone */
	if (xb_write_file_at(AT_FDCWD, t, "old", 3, 0644) == 0) {
		n = errors_of(t, OUTPUT_TAR_XZ, &o, &r);
		size_t len = 0;
		cleanup_free char *old = slurp(t, &len);
		CHECK(r < 0 && old && len == 3 && count_dir(dir) == 3, "old target kept");
	}
	o.map_owner = NULL;
	n = errors_of("-", OUTPUT_SQUASHFS, &o, &r);
	CHECK(r < 0 && n == 1, "no squashfs on stdout: %d, %d errors", r, n);
	n = errors_of(dir, OUTPUT_DIR, &o, &r);
	CHECK(r < 0 && n == 1, "directory output elsewhere: %d, %d errors", r, n);
	CHECK(output_write(root, root, OUTPUT_DIR, NULL) == 0, "directory output in place");
}

static void test_names(void)
{
	static const struct {
		const char *target;
		enum output_format f;
	} guess[] = {
		{ "-", OUTPUT_TAR },           { "x.tar", OUTPUT_TAR },
		{ "x.tar.gz", OUTPUT_TAR_GZ }, { "x.tgz", OUTPUT_TAR_GZ },
		{ "x.tar.xz", OUTPUT_TAR_XZ }, { "x.txz", OUTPUT_TAR_XZ },
		{ "x.tar.zst", OUTPUT_TAR_ZST }, { "x.tzst", OUTPUT_TAR_ZST },
		{ "x.squashfs", OUTPUT_SQUASHFS }, { "x.sqfs", OUTPUT_SQUASHFS },
		{ "x.ext4", OUTPUT_EXT4 },     { "/srv/root", OUTPUT_DIR },
		{ "x.tar.bz2", OUTPUT_TAR_BZ2 }, { "x.tbz", OUTPUT_TAR_BZ2 },
		{ "x.tar.lz4", OUTPUT_TAR_LZ4 }, { "x.tar.lzma", OUTPUT_TAR_LZMA },
		{ "x.cpio", OUTPUT_CPIO },     { "/dev/null", OUTPUT_NULL },
		{ ".tar", OUTPUT_DIR },        { "srv/v1.2", OUTPUT_DIR },
		{ "x.oci", OUTPUT_OCI },       { "x.oci.tar", OUTPUT_OCI_TAR },
		{ "x.img", OUTPUT_DISK },
	};
	for (size_t i = 0; i < ARRAY_SIZE(guess); i++) {
		enum output_format g = OUTPUT_TAR;
		CHECK(output_format_of_target(guess[i].target, &g) == 0 && g == guess[i].f,
		      "format of %s", guess[i].target);
	}
	static const char *const names[] = { "directory", "tar", "tar.gz", "tar.xz", "tar.zst",
		                             "tar.bz2", "tar.lz4", "tar.lzma", "cpio",
		                             "squashfs", "ext4", "null", "oci", "oci.tar", "disk" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		enum output_format f = OUTPUT_DIR;
		CHECK(output_format_parse(names[i], &f) == 0 &&
		      !strcmp(output_format_name(f), names[i]), "--format=%s", names[i]);
	}
	enum output_format f;
	int saved = dup(2), null = open("/dev/null", O_WRONLY);
	dup2(null, 2);
	int r = output_format_parse("zip", &f);
	int r2 = output_format_of_target("out.tar.lzo", &f);
	int r3 = output_format_of_target("dir/root.img.gz", &f);
	dup2(saved, 2);
	close(saved);
	close(null);
	CHECK(r == -XB_EUSAGE, "--format=zip refused");
	CHECK(r2 == -XB_EUSAGE && r3 == -XB_EUSAGE, "archive names xboot cannot write refused");
}

static bool have_tool(const char *name)
{
	cleanup_free char *cmd = xasprintf("command -v %s || test -x /usr/sbin/%s || test -x /sbin/%s",
	                                   name, name, name);
	return run_quiet((const char *const[]){ "sh", "-c", cmd, NULL }, NULL) == 0;
}

static void test_squashfs(void)
{
	if (!have_tool("mksquashfs") || !have_tool("unsquashfs")) {
		printf("# skipping squashfs: mksquashfs not installed (squashfs-tools)\n");
		return;
	}
	struct output_opts o = OUTPUT_OPTS_INIT;
	o.source_date_epoch = EPOCH;
	cleanup_free char *t1 = tpath("out.squashfs"), *t2 = tpath("again.sqfs");
	int r = output_write(root, t1, OUTPUT_SQUASHFS, &o);
	CHECK(r == 0, "squashfs written: %d", r);
	r = write_in_child(t2, OUTPUT_SQUASHFS, &o);
	CHECK(r == 0 && same_file(t1, t2), "squashfs: two runs give the same bytes");
	struct strbuf out = STRBUF_INIT;
	r = run_quiet((const char *const[]){ "unsquashfs", "-lln", t1, NULL }, &out);
	const char *l = out.buf;
	CHECK(r == 0 && strstr(l, "/usr/bin/ping") && strstr(l, "-rwsr-xr-x 0/0") &&
	      strstr(l, "1234/5678") && strstr(l, "/usr/bin/z-hard") &&
	      !strstr(l, "/dev/null") && !strstr(l, "/dev/sda") && !strstr(l, "/run/fifo") &&
	      !strstr(l, "/run/sock"), "squashfs listing:\n%s", l);
	strbuf_release(&out);
	cleanup_free char *x = tpath("unsq");
	r = run_quiet((const char *const[]){ "unsquashfs", "-d", x, t1, NULL }, NULL);
	cleanup_free char *ping = tpath("unsq/usr/bin/ping");
	unsigned char v[32];
	ssize_t n = getxattr(ping, "security.capability", v, sizeof(v));
	CHECK(r == 0 && n == sizeof(ping_caps) && !memcmp(v, ping_caps, sizeof(ping_caps)),
	      "squashfs keeps ping's capability");
}

static void test_ext4(void)
{
	if (!have_tool("mke2fs") || !have_tool("e2fsck") || !have_tool("debugfs")) {
		printf("# skipping ext4: mke2fs not installed (e2fsprogs)\n");
		return;
	}
	struct output_opts o = OUTPUT_OPTS_INIT;
	o.source_date_epoch = EPOCH;
	cleanup_free char *t = tpath("out.ext4");
	int r = output_write(root, t, OUTPUT_EXT4, &o);
	CHECK(r == 0, "ext4 written: %d", r);
	r = run_quiet((const char *const[]){ "e2fsck", "-fn", t, NULL }, NULL);
	CHECK(r == 0, "e2fsck -fn finds the ext4 image clean");
	struct strbuf out = STRBUF_INIT;
	r = run_quiet((const char *const[]){ "debugfs", "-R", "ls -l /dev", t, NULL }, &out);
	CHECK(r == 0 && !strstr(out.buf, "null") && !strstr(out.buf, "sda"),
	      "ext4 without device nodes:\n%s", out.buf);
	strbuf_reset(&out);
	r = run_quiet((const char *const[]){ "debugfs", "-R", "stat /usr/bin/su", t, NULL }, &out);
	CHECK(r == 0 && strstr(out.buf, "Mode:  04755"), "ext4 keeps setuid:\n%s",
	      out.buf);
	strbuf_reset(&out);
	r = run_quiet((const char *const[]){ "debugfs", "-R", "ea_list /usr/bin/ping", t, NULL },
	              &out);
	CHECK(r == 0 && strstr(out.buf, "security.capability"),
	      "ext4 keeps ping's capability:\n%s", out.buf);
	strbuf_release(&out);

	/* without device nodes, two runs give the same bytes */
	cleanup_free char *null = rpath("dev/null"), *sda = rpath("dev/sda");
	cleanup_free char *fifo = rpath("run/fifo"), *sock = rpath("run/sock");
	unlink(null), unlink(sda), unlink(fifo), unlink(sock);
	cleanup_free char *t1 = tpath("plain.ext4"), *t2 = tpath("plain2.ext4");
	r = output_write(root, t1, OUTPUT_EXT4, &o);
	CHECK(r == 0 && write_in_child(t2, OUTPUT_EXT4, &o) == 0 && same_file(t1, t2),
	      "ext4: two runs give the same bytes");
}

static void test_missing_tool(void)
{
	const char *path = getenv("PATH");
	cleanup_free char *saved = path ? xstrdup(path) : NULL;
	cleanup_free char *empty = tpath("fail");
	struct output_opts o = OUTPUT_OPTS_INIT;
	cleanup_free char *t = tpath("fail/x.sqfs");
	/* only where the sbin fallback does not find it either */
	if (access("/usr/sbin/mksquashfs", X_OK) == 0 || access("/sbin/mksquashfs", X_OK) == 0)
		return;
	setenv("PATH", empty, 1);
	int r, n = errors_of(t, OUTPUT_SQUASHFS, &o, &r);
	if (saved)
		setenv("PATH", saved, 1);
	CHECK(r == -ENOENT && n == 1, "missing mksquashfs: %d, %d errors", r, n);
}

static void test_images(void)
{
	test_missing_tool();
	test_squashfs();
	test_ext4(); /* last: removes the device nodes */
}

int main(void)
{
	if (geteuid() != 0) {
		printf("# skipping test-output: needs root (mknod, chown, capabilities)\n");
		return tap_done();
	}
	char tmpl[] = "/tmp/xbt-output-XXXXXX";
	tmpdir = mkdtemp(tmpl);
	if (!tmpdir)
		return 1;
	/* root of a user namespace (a package build in a sandbox) is root
	 * without devices of its own */
	cleanup_free char *probe = tpath("null");
	if (mknod(probe, S_IFCHR | 0666, makedev(1, 3)) < 0) {
		printf("# skipping test-output: cannot make device nodes here: %s\n", strerror(errno));
		rmdir(tmpdir);
		return tap_done();
	}
	unlink(probe);
	umask(022);
	make_tree();
	test_names();
	test_tar_formats();
	test_map_owner();
	test_sha256();
	test_stdout();
	test_failures();
	test_images();
	if (!getenv("XB_KEEP"))
		xb_rm_rf_at(AT_FDCWD, tmpdir);
	else
		printf("# kept %s\n", tmpdir);
	free(root);
	return tap_done();
}
