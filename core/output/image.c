/* image: squashfs and ext4 images made by mksquashfs and mke2fs (see
 * image.h). */
#include "image.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../base/devfiles.h"
#include "../base/outfile.h"
#include "../base/spawn.h"
#include "walk.h"

/* What an image needs to know of the tree before it is made. */
struct image_scan {
	struct strbuf skip;  /* mksquashfs -ef list, or debugfs commands */
	bool ext4;
	unsigned long long kib, inodes;
	bool has_dev;        /* the tree has ./dev, with these times */
	time_t dev_mtime, dev_ctime;
};

static int scan_visit(struct walk *w, int dfd, const char *name, const struct stat *st)
{
	struct image_scan *s = w->ctx;
	const char *kind = walk_special_kind(st->st_mode);
	struct stat dir;
	(void)name;
	s->kib += (unsigned long long)st->st_blocks / 2;
	s->inodes++;
	if (S_ISDIR(st->st_mode) && !strcmp(w->path.buf, "./dev")) {
		s->has_dev = true;
		s->dev_mtime = st->st_mtime;
		s->dev_ctime = st->st_ctime;
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
	strbuf_addf(&s->skip, "sif \"%.*s\" mtime @%lld\n", plen, parent, (long long)dir.st_mtime);
	strbuf_addf(&s->skip, "sif \"%.*s\" ctime @%lld\n", plen, parent, (long long)dir.st_ctime);
	return 0;
}

/* Finds a tool in PATH or the sbin directories a user's PATH may lack. */
static char *find_tool(const char *name)
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
 * SOURCE_DATE_EPOCH next to -mkfs-time, so it gets options instead). */
static void tool_env(struct strvec *env, const struct output_opts *o, bool ext4)
{
	extern char **environ;
	for (char **e = environ; *e; e++)
		if (!str_starts_with(*e, "SOURCE_DATE_EPOCH=") &&
		    !str_starts_with(*e, "E2FSPROGS_FAKE_TIME="))
			strvec_push(env, *e);
	if (ext4 && o->source_date_epoch >= 0)
		strvec_pushf(env, "E2FSPROGS_FAKE_TIME=%lld", o->source_date_epoch);
}

/* Runs a tool with stdout on stderr (stdout may be the user's pipe).  With
 * errs, stdout is dropped and stderr lines are collected there instead:
 * debugfs says nothing but errors after its banner, and exits 0 anyway. */
static int run_tool(struct strvec *argv, const struct output_opts *o, bool ext4,
                    const char *target, struct strbuf *errs)
{
	cleanup_strvec struct strvec env = STRVEC_INIT;
	cleanup_strbuf struct strbuf junk = STRBUF_INIT;
	struct spawn_opts so = SPAWN_OPTS_INIT;
	cleanup_fd int efd = errs ? memfd_create("xboot-stderr", MFD_CLOEXEC) : -1;
	int status = 0;
	tool_env(&env, o, ext4);
	so.envp = env.v;
	so.in_fd = -2;
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

static char *epoch_uuid(long long epoch)
{
	uint64_t hi = (mix((uint64_t)epoch) & ~0xf000ull) | 0x4000u;
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
	return run_tool(&argv, o, false, of->target, NULL);
}

/* du of the tree plus a fifth, the inode tables and room for the journal
 * and metadata; inodes counted with a fifth to spare. */
static int make_ext4(const char *tool, const char *rootdir, struct outfile *of,
                     struct image_scan *s, const struct output_opts *o)
{
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	cleanup_free char *uuid = NULL;
	unsigned long long kib = s->kib + s->kib / 5 + s->inodes / 4 + 16384;
	strvec_pushl(&argv, tool, "-q", "-F", "-t", "ext4", "-b", "4096", "-d", rootdir, NULL);
	strvec_push(&argv, "-N");
	strvec_pushf(&argv, "%llu", s->inodes + s->inodes / 5 + 64);
	if (o->source_date_epoch >= 0) {
		uuid = epoch_uuid(o->source_date_epoch);
		strvec_pushl(&argv, "-U", uuid, "-E", NULL);
		strvec_pushf(&argv, "hash_seed=%s", uuid);
	}
	strvec_push(&argv, of->tmp);
	strvec_pushf(&argv, "%lluk", kib);
	int r = run_tool(&argv, o, true, of->target, NULL);
	if (o->dev_nodes)
		dev_nodes(s, &s->skip);
	if (r < 0 || !s->skip.len)
		return r;
	/* mke2fs -d copies device nodes; debugfs takes them out again, and
	 * makes /dev's own */
	cleanup_free char *debugfs = find_tool("debugfs");
	cleanup_strvec struct strvec dargv = STRVEC_INIT;
	cleanup_fd int lfd = -1;
	strvec_pushl(&dargv, debugfs ? debugfs : "debugfs", "-w", NULL);
	if ((lfd = list_fd(&s->skip, &dargv, "-f")) < 0)
		return lfd;
	strvec_push(&dargv, of->tmp);
	cleanup_strbuf struct strbuf errs = STRBUF_INIT;
	r = run_tool(&dargv, o, true, of->target, &errs);
	char *nl = strchr(errs.buf, '\n'); /* past the banner */
	if (!r && nl && nl[1]) {
		xb_error("writing %s: device nodes: %s", of->target, str_trim(nl + 1));
		r = -XB_ECHILD;
	}
	return r;
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
	if (o->map_owner) {
		xb_error("writing %s: owners cannot be mapped in %s image; make it inside the "
		         "user namespace", target, what);
		return -ENOTSUP;
	}
	cleanup_free char *tool = find_tool(ext4 ? "mke2fs" : "mksquashfs");
	if (!tool) {
		xb_error("writing %s: %s not found; install %s", target,
		         ext4 ? "mke2fs" : "mksquashfs", ext4 ? "e2fsprogs" : "squashfs-tools");
		return -ENOENT;
	}
	struct image_scan s = { .skip = STRBUF_INIT, .ext4 = ext4 };
	struct walk w = { .rootdir = rootdir, .path = STRBUF_INIT, .visit = scan_visit, .ctx = &s };
	struct outfile of = OUTFILE_INIT;
	int r = walk_tree(&w);
	if (!r)
		r = outfile_open(&of, target, false);
	if (!r)
		r = ext4 ? make_ext4(tool, rootdir, &of, &s, o) : make_squashfs(tool, rootdir, &of, &s, o);
	if (!r)
		r = outfile_commit(&of);
	outfile_release(&of);
	strbuf_release(&s.skip);
	strbuf_release(&w.path);
	return r;
}
