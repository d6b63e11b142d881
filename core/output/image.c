/* image: squashfs and ext4 images made by mksquashfs and mke2fs (see
 * image.h). */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../base/devfiles.h"
#include "../base/outfile.h"
#include "../base/spawn.h"
#include "walk.h"

/* What an image needs to know of the tree before it is made. */
struct image_scan {
	struct strbuf skip;  /* mksquashfs -ef list, or debugfs commands */
	struct strbuf times; /* debugfs commands: the ctimes an epoch sets */
	bool ext4;
	long long epoch;     /* ext4's clamp of every time (the tree's own copy); -1: none */
	unsigned long long kib, inodes;
	bool has_dev;        /* the tree has ./dev, with these times */
	time_t dev_mtime, dev_ctime;
};

/* mke2fs -d copies each file's three times: mtime is clamped to the
 * epoch here, ctime (which only the kernel sets) and atime by debugfs
 * after.  A name debugfs cannot take keeps its times. */
static int clamp_times(struct walk *w, int dfd, const char *name, const struct stat *st,
                       struct image_scan *s)
{
	time_t t = st->st_mtime < s->epoch ? st->st_mtime : (time_t)s->epoch;
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };
	if ((st->st_mtime != t || st->st_atime != t || st->st_mtim.tv_nsec || st->st_atim.tv_nsec) &&
	    utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	const char *path = w->path.buf[1] ? w->path.buf + 1 : "/";
	/* atime too: reading a directory (this walk, mke2fs) sets it again */
	if (!strpbrk(path, "\n\"\\"))
		strbuf_addf(&s->times, "sif \"%s\" ctime @%lld\nsif \"%s\" atime @%lld\n", path,
		            s->epoch, path, (long long)t);
	return 0;
}

static int scan_visit(struct walk *w, int dfd, const char *name, const struct stat *st)
{
	struct image_scan *s = w->ctx;
	const char *kind = walk_special_kind(st->st_mode);
	struct stat dir;
	(void)name;
	s->kib += (unsigned long long)st->st_blocks / 2;
	s->inodes++;
	if (s->ext4 && s->epoch >= 0 && clamp_times(w, dfd, name, st, s) < 0)
		return walk_fail(w, "setting the times of", errno);
	if (S_ISDIR(st->st_mode) && !strcmp(w->path.buf, "./dev")) {
		s->has_dev = true;
		s->dev_mtime = st->st_mtime;
		s->dev_ctime = st->st_ctime;
		if (s->ext4 && s->epoch >= 0) {
			s->dev_ctime = (time_t)s->epoch;
			s->dev_mtime = s->dev_mtime < s->dev_ctime ? s->dev_mtime : s->dev_ctime;
		}
	}
	if (!kind)
		return 0;
	xb_debug("leaving out %s %s%s", kind, w->rootdir, w->path.buf + 1);
	if (strpbrk(w->path.buf, "\n\"")) {
		xb_error("cannot leave out %s%s: a newline or quote in its name", w->rootdir,
		         w->path.buf + 1);
		return -EINVAL;
	}
	if (!s->ext4) {
		strbuf_addf(&s->skip, "%s\n", w->path.buf + 2);
		return 0;
	}
	/* debugfs stamps the directory with the time now: put its times back */
	if (fstat(dfd, &dir) < 0)
		return walk_fail(w, "reading", errno);
	size_t slash = (size_t)(strrchr(w->path.buf, '/') - w->path.buf);
	const char *parent = slash > 1 ? w->path.buf + 1 : "/";
	int plen = slash > 1 ? (int)slash - 1 : 1;
	strbuf_addf(&s->skip, "rm \"%s\"\n", w->path.buf + 1);
	long long ctime = s->epoch >= 0 ? s->epoch : (long long)dir.st_ctime;
	strbuf_addf(&s->skip, "sif \"%.*s\" mtime @%lld\n", plen, parent, (long long)dir.st_mtime);
	strbuf_addf(&s->skip, "sif \"%.*s\" ctime @%lld\n", plen, parent, ctime);
	return 0;
}

char *image_find_tool(const char *name)
{
	cleanup_strvec struct strvec dirs = STRVEC_INIT;
	const char *path = getenv("PATH");
	strvec_split(&dirs, path ? path : "/usr/bin:/bin", ":");
	strvec_pushl(&dirs, "/usr/sbin", "/sbin", NULL);
	for (size_t i = 0; i < dirs.n; i++) {
		char *p = xasprintf("%s/%s", dirs.v[i], name);
		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* The environment without the variables the tools read times from,
 * plus E2FSPROGS_FAKE_TIME when there is an epoch (mksquashfs refuses
 * SOURCE_DATE_EPOCH next to -mkfs-time, so it gets options instead), or
 * SOURCE_DATE_EPOCH for the tools that take it (mtools). */
static void tool_env(struct strvec *env, const struct output_opts *o, enum image_tool_time t)
{
	extern char **environ;
	for (char **e = environ; *e; e++)
		if (!str_starts_with(*e, "SOURCE_DATE_EPOCH=") &&
		    !str_starts_with(*e, "E2FSPROGS_FAKE_TIME="))
			strvec_push(env, *e);
	if (t == IMAGE_TIME_E2FS && o->source_date_epoch >= 0)
		strvec_pushf(env, "E2FSPROGS_FAKE_TIME=%lld", o->source_date_epoch);
	if (t == IMAGE_TIME_SDE && o->source_date_epoch >= 0)
		strvec_pushf(env, "SOURCE_DATE_EPOCH=%lld", o->source_date_epoch);
	if (t == IMAGE_TIME_SDE)
		strvec_push(env, "MTOOLS_SKIP_CHECK=1");
}

int image_run_tool(struct strvec *argv, const struct output_opts *o, enum image_tool_time t,
                   int in_fd, const char *target, struct strbuf *errs)
{
	cleanup_strvec struct strvec env = STRVEC_INIT;
	cleanup_strbuf struct strbuf junk = STRBUF_INIT;
	struct spawn_opts so = SPAWN_OPTS_INIT;
	cleanup_fd int efd = errs ? memfd_create("xboot-stderr", MFD_CLOEXEC) : -1;
	int status = 0;
	tool_env(&env, o, t);
	so.envp = env.v;
	so.in_fd = in_fd;
	so.out_fd = STDERR_FILENO;
	so.capture = errs ? &junk : NULL;
	so.err_fd = efd;
	int r = xb_spawn(argv->v, &so, &status);
	if (r == -XB_ECHILD && status != 126 && status != 127) /* xb_spawn reported the rest */
		xb_error("writing %s: %s failed with exit status %d", target, argv->v[0], status);
	if (efd >= 0 && lseek(efd, 0, SEEK_SET) == 0)
		xb_read_fd(efd, errs);
	return r;
}

/* A UUID that depends on the epoch only, so that images of the same tree
 * are equal without all having the nil UUID. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

char *image_uuid(long long epoch, unsigned salt)
{
	uint64_t seed = 0;
	if (epoch < 0 && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	else if (epoch >= 0)
		seed = (uint64_t)epoch;
	seed = salt ? mix(seed ^ mix(salt)) : seed;
	uint64_t hi = (mix(seed) & ~0xf000ull) | 0x4000u;
	uint64_t lo = (mix(hi) & ~(3ull << 62)) | (2ull << 62);
	return xasprintf("%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
	                 (unsigned long long)(hi >> 16) & 0xffff, (unsigned long long)hi & 0xffff,
	                 (unsigned long long)(lo >> 48), (unsigned long long)lo & 0xffffffffffffull);
}

/* Passes a list to a tool as /proc/self/fd/N of an inherited memfd, so
 * there is no file to clean up. */
static int list_fd(const struct strbuf *sb, struct strvec *argv, const char *opt)
{
	int fd = memfd_create("xboot-list", 0);
	if (fd < 0 || xb_write_all(fd, sb->buf, sb->len) < 0) {
		int r = -errno;
		xb_error("creating a list for %s: %s", argv->v[0], strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	strvec_pushl(argv, opt, NULL);
	strvec_pushf(argv, "/proc/self/fd/%d", fd);
	return fd;
}

/* /dev's device nodes (core/base/devfiles), as mksquashfs pseudo files or
 * debugfs commands (the directory's times put back after). */
static void dev_nodes(const struct image_scan *s, struct strbuf *out)
{
	size_t n;
	const struct devfile *d = devfiles_all(&n);
	if (!s->has_dev)
		return;
	/* debugfs's mknod takes a name in its current directory, no path */
	if (s->ext4)
		strbuf_addstr(out, "cd /dev\n");
	for (size_t i = 0; i < n; i++) {
		if (!S_ISCHR(d[i].mode))
			continue;
		unsigned perm = (unsigned)d[i].mode & 07777;
		if (!s->ext4) {
			strbuf_addf(out, "dev/%s c %o 0 0 %u %u\n", d[i].name, perm, d[i].major,
			            d[i].minor);
			continue;
		}
		strbuf_addf(out, "mknod %s c %u %u\n", d[i].name, d[i].major, d[i].minor);
		strbuf_addf(out, "sif %s mode 0%o\n", d[i].name, (unsigned)d[i].mode);
		strbuf_addf(out, "sif %s mtime @%lld\n", d[i].name, (long long)s->dev_mtime);
	}
	if (s->ext4) {
		strbuf_addstr(out, "cd /\n");
		strbuf_addf(out, "sif /dev mtime @%lld\n", (long long)s->dev_mtime);
		strbuf_addf(out, "sif /dev ctime @%lld\n", (long long)s->dev_ctime);
	}
}

static int make_squashfs(const char *tool, const char *rootdir, struct outfile *of,
                         struct image_scan *s, const struct output_opts *o)
{
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	cleanup_strbuf struct strbuf pseudo = STRBUF_INIT;
	cleanup_fd int lfd = -1, pfd = -1;
	strvec_pushl(&argv, tool, rootdir, of->tmp, "-noappend", "-quiet", "-no-progress",
	             "-one-file-system", NULL);
	if (o->source_date_epoch >= 0) {
		strvec_push(&argv, "-mkfs-time");
		strvec_pushf(&argv, "%lld", o->source_date_epoch);
		strvec_push(&argv, "-all-time");
		strvec_pushf(&argv, "%lld", o->source_date_epoch);
	}
	if (s->skip.len && (lfd = list_fd(&s->skip, &argv, "-ef")) < 0)
		return lfd;
	if (o->dev_nodes)
		dev_nodes(s, &pseudo);
	if (pseudo.len && (pfd = list_fd(&pseudo, &argv, "-pf")) < 0)
		return pfd;
	return image_run_tool(&argv, o, IMAGE_TIME_NONE, -2, of->target, NULL);
}

/* mke2fs -d copies device nodes; debugfs takes them out again, makes
 * /dev's own, and sets the ctimes an epoch asks for. */
static int ext4_fix_nodes(const char *path, const char *target, struct image_scan *s,
                          const struct output_opts *o)
{
	cleanup_free char *debugfs = image_find_tool("debugfs");
	cleanup_strvec struct strvec dargv = STRVEC_INIT;
	cleanup_strbuf struct strbuf errs = STRBUF_INIT;
	cleanup_fd int lfd = -1;
	if (o->dev_nodes)
		dev_nodes(s, &s->skip);
	/* the times first: the rest removes some of those files */
	strbuf_add(&s->times, s->skip.buf, s->skip.len);
	if (!s->times.len)
		return 0;
	strvec_pushl(&dargv, debugfs ? debugfs : "debugfs", "-w", NULL);
	if ((lfd = list_fd(&s->times, &dargv, "-f")) < 0)
		return lfd;
	strvec_push(&dargv, path);
	int r = image_run_tool(&dargv, o, IMAGE_TIME_E2FS, -2, target, &errs);
	char *nl = strchr(errs.buf, '\n'); /* past the banner */
	if (!r && nl && nl[1]) {
		xb_error("writing %s: device nodes: %s", target, str_trim(nl + 1));
		r = -XB_ECHILD;
	}
	return r;
}

/* An ext4 of kib KiB in path (an existing file), the tree copied in. */
static int make_ext4(const char *tool, const char *rootdir, const char *path, const char *target,
                     struct image_scan *s, const struct output_opts *o, const char *uuid,
                     unsigned long long kib)
{
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	strvec_pushl(&argv, tool, "-q", "-F", "-t", "ext4", "-b", "4096", "-d", rootdir, NULL);
	strvec_push(&argv, "-N");
	strvec_pushf(&argv, "%llu", s->inodes + s->inodes / 5 + 64);
	if (uuid) {
		strvec_pushl(&argv, "-U", uuid, "-E", NULL);
		strvec_pushf(&argv, "hash_seed=%s", uuid);
	}
	strvec_push(&argv, path);
	strvec_pushf(&argv, "%lluk", kib);
	int r = image_run_tool(&argv, o, IMAGE_TIME_E2FS, -2, target, NULL);
	return r < 0 ? r : ext4_fix_nodes(path, target, s, o);
}

/* The walk of the tree, and its owners checked: the tools copy them as
 * they are on disk. */
static int scan_tree(const char *rootdir, const char *target, const char *what,
                     const struct output_opts *o, struct image_scan *s)
{
	if (o->map_owner) {
		xb_error("writing %s: owners cannot be mapped in %s image; make it inside the "
		         "user namespace", target, what);
		return -ENOTSUP;
	}
	struct walk w = { .rootdir = rootdir, .path = STRBUF_INIT, .visit = scan_visit, .ctx = s };
	int r = walk_tree(&w);
	strbuf_release(&w.path);
	return r;
}

char *image_need_tool(const char *target, const char *name, const char *package)
{
	char *tool = image_find_tool(name);
	if (!tool)
		xb_error("writing %s: %s not found; install %s", target, name, package);
	return tool;
}

int image_write(const char *rootdir, const char *target, enum output_format f,
                const struct output_opts *o)
{
	bool ext4 = f == OUTPUT_EXT4;
	const char *what = ext4 ? "an ext4" : "a squashfs";
	if (!strcmp(target, "-")) {
		xb_error("cannot write %s image to standard output", what);
		return -XB_EUSAGE;
	}
	cleanup_free char *tool = ext4 ? image_need_tool(target, "mke2fs", "e2fsprogs")
	                               : image_need_tool(target, "mksquashfs", "squashfs-tools");
	if (!tool)
		return -ENOENT;
	struct image_scan s = { .skip = STRBUF_INIT, .times = STRBUF_INIT, .ext4 = ext4,
	                        .epoch = o->source_date_epoch };
	struct outfile of = OUTFILE_INIT;
	cleanup_free char *uuid = ext4 && o->source_date_epoch >= 0
	                                  ? image_uuid(o->source_date_epoch, 0) : NULL;
	int r = scan_tree(rootdir, target, what, o, &s);
	if (!r)
		r = outfile_open(&of, target, false);
	if (!r && ext4)
		r = make_ext4(tool, rootdir, of.tmp, target, &s, o, uuid,
		              s.kib + s.kib / 5 + s.inodes / 4 + 16384);
	else if (!r)
		r = make_squashfs(tool, rootdir, &of, &s, o);
	if (!r)
		r = outfile_commit(&of);
	outfile_release(&of);
	strbuf_release(&s.skip);
	strbuf_release(&s.times);
	return r;
}

static int make_btrfs(const char *tool, const char *rootdir, const char *path,
                      const char *target, const struct output_opts *o, const char *uuid)
{
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	cleanup_strbuf struct strbuf errs = STRBUF_INIT;
	strvec_pushl(&argv, tool, "-q", "-f", "-r", rootdir, "-U", uuid, path, NULL);
	/* its notes go to stderr even with -q: shown only when it fails */
	int r = image_run_tool(&argv, o, IMAGE_TIME_SDE, -2, target, &errs);
	if (r < 0)
		xb_error("writing %s: mkfs.btrfs: %s", target, str_trim(errs.buf));
	return r;
}

int image_make_fs(const char *rootdir, const char *path, const char *fs, const char *uuid,
                  uint64_t *bytes, const char *target, const struct output_opts *o)
{
	bool ext4 = !strcmp(fs, "ext4");
	cleanup_free char *tool = ext4 ? image_need_tool(target, "mke2fs", "e2fsprogs")
	                               : image_need_tool(target, "mkfs.btrfs", "btrfs-progs");
	if (!tool)
		return -ENOENT;
	struct image_scan s = { .skip = STRBUF_INIT, .times = STRBUF_INIT, .ext4 = ext4,
	                        .epoch = o->source_date_epoch };
	int r = scan_tree(rootdir, target, ext4 ? "an ext4" : "a btrfs", o, &s);
	/* the tree plus 30 %, with room for the inode tables, in whole MiB */
	unsigned long long need = s.kib + s.kib * 3 / 10 + s.inodes / 4 + 16384;
	need = (need + 1023) / 1024 * 1024 * 1024;
	if (!r && *bytes && *bytes < need / 10 * 9) {
		xb_error("writing %s: its root file system needs about %llu MiB, more than the "
		         "%llu MiB --size leaves it", target, need >> 20,
		         (unsigned long long)(*bytes >> 20));
		r = -ENOSPC;
	}
	if (!r && !*bytes)
		*bytes = need;
	cleanup_fd int fd = r ? -1 : open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (!r && (fd < 0 || ftruncate(fd, (off_t)*bytes) < 0)) {
		r = -errno;
		xb_error("writing %s: sizing %s: %s", target, path, strerror(-r));
	}
	if (!r && ext4)
		r = make_ext4(tool, rootdir, path, target, &s, o, uuid, *bytes / 1024);
	else if (!r)
		r = make_btrfs(tool, rootdir, path, target, o, uuid);
	/* mkfs.btrfs grows a file below its minimum */
	struct stat st;
	if (!r && fstat(fd, &st) == 0 && (uint64_t)st.st_size > *bytes) {
		*bytes = ((uint64_t)st.st_size + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
		if (ftruncate(fd, (off_t)*bytes) < 0)
			r = -errno;
	}
	strbuf_release(&s.skip);
	strbuf_release(&s.times);
	return r;
}
