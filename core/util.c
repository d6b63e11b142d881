/* util: error strings, messages, strbuf, strvec, whole-file helpers. */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

int xb_verbosity = 1;
volatile int xb_interrupted;
static FILE *xb_log;

static const char *const xb_errs[] = {
	[XB_EBADSIG - XB_EBASE] = "bad or missing signature",
	[XB_EHASH - XB_EBASE] = "checksum mismatch",
	[XB_ESIZE - XB_EBASE] = "size mismatch",
	[XB_EEXPIRED - XB_EBASE] = "outside its validity period",
	[XB_EPARSE - XB_EBASE] = "malformed file",
	[XB_EHTTP - XB_EBASE] = "HTTP error",
	[XB_ENET - XB_EBASE] = "network error",
	[XB_EUNSAT - XB_EBASE] = "unsatisfiable dependencies",
	[XB_EUNSAFE - XB_EBASE] = "path outside the target",
	[XB_ENOTFOUND - XB_EBASE] = "not found",
	[XB_EUSAGE - XB_EBASE] = "usage error",
	[XB_ECHILD - XB_EBASE] = "a subprocess failed",
	[XB_EINTR - XB_EBASE] = "interrupted",
	[XB_EARCH - XB_EBASE] = "unsupported architecture",
};

const char *xb_strerror(int code)
{
	if (code < 0)
		code = -code;
	if (code > XB_EBASE && code < XB_ELAST && xb_errs[code - XB_EBASE])
		return xb_errs[code - XB_EBASE];
	return strerror(code);
}

void xb_set_log(FILE *log) { xb_log = log; }

static void vmsg(const char *prefix, const char *fmt, va_list ap, bool show)
{
	int saved = errno;
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, prefix);
	strbuf_vaddf(&sb, fmt, ap);
	strbuf_addch(&sb, '\n');
	if (show)
		fputs(sb.buf, stderr);
	if (xb_log) {
		fputs(sb.buf, xb_log);
		fflush(xb_log);
	}
	strbuf_release(&sb);
	errno = saved;
}

#define DEFINE_MSG(name, prefix, cond)                  \
	void name(const char *fmt, ...)                 \
	{                                               \
		va_list ap;                             \
		va_start(ap, fmt);                      \
		vmsg(prefix, fmt, ap, cond);            \
		va_end(ap);                             \
	}
DEFINE_MSG(xb_error, "xboot: error: ", true)
DEFINE_MSG(xb_warn, "xboot: warning: ", true)
DEFINE_MSG(xb_info, "xboot: ", xb_verbosity >= 1)
DEFINE_MSG(xb_debug, "xboot: ", xb_verbosity >= 2)

static void oom(void)
{
	static const char msg[] = "xboot: error: out of memory\n";
	if (write(2, msg, sizeof(msg) - 1) < 0) { /* nothing left to do */ }
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return strbuf_detach(&sb);
}

void strbuf_init(struct strbuf *sb) { *sb = (struct strbuf)STRBUF_INIT; }

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	strbuf_init(sb);
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->alloc)
		return;
	size_t want = sb->alloc ? sb->alloc * 2 : 64;
	while (want < sb->len + extra + 1)
		want *= 2;
	sb->buf = xrealloc(sb->buf, want);
	if (!sb->alloc)
		sb->buf[0] = '\0';
	sb->alloc = want;
}

void strbuf_add(struct strbuf *sb, const void *data, size_t n)
{
	strbuf_grow(sb, n);
	if (n)
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s) { strbuf_add(sb, s, strlen(s)); }
void strbuf_addch(struct strbuf *sb, char c) { strbuf_add(sb, &c, 1); }

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	strbuf_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

char *strbuf_detach(struct strbuf *sb)
{
	char *p = sb->buf ? sb->buf : xstrdup("");
	strbuf_init(sb);
	return p;
}

void strvec_push(struct strvec *sv, const char *s)
{
	if (sv->n + 2 > sv->alloc) {
		sv->alloc = sv->alloc ? sv->alloc * 2 : 8;
		sv->v = xrealloc(sv->v, sv->alloc * sizeof(*sv->v));
	}
	sv->v[sv->n++] = xstrdup(s);
	sv->v[sv->n] = NULL;
}

void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strvec_push(sv, strbuf_str(&sb));
	strbuf_release(&sb);
}

void strvec_pushl(struct strvec *sv, ...)
{
	va_list ap;
	const char *s;
	va_start(ap, sv);
	while ((s = va_arg(ap, const char *)))
		strvec_push(sv, s);
	va_end(ap);
}

bool strvec_has(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return true;
	return false;
}

void strvec_clear(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	*sv = (struct strvec)STRVEC_INIT;
}

void strvec_split(struct strvec *sv, const char *s, const char *seps)
{
	while (*s) {
		size_t n = strcspn(s, seps);
		if (n) {
			char *f = xstrndup(s, n);
			strvec_push(sv, f);
			free(f);
		}
		s += n;
		if (*s)
			s++;
	}
}

int xb_read_fd(int fd, struct strbuf *sb)
{
	for (;;) {
		strbuf_grow(sb, 65536);
		ssize_t n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		sb->len += (size_t)n;
		sb->buf[sb->len] = '\0';
	}
}

int xb_read_file(const char *path, struct strbuf *sb)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = xb_read_fd(fd, sb);
	close(fd);
	return r;
}

int xb_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int xb_write_file_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode)
{
	cleanup_free char *tmp = xasprintf("%s.xboot-tmp", path);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	int r = xb_write_all(fd, data, len);
	if (!r && fchmod(fd, mode) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && renameat(dirfd, tmp, dirfd, path) < 0)
		r = -errno;
	if (r)
		unlinkat(dirfd, tmp, 0);
	return r;
}

int xb_mkdir_p_at(int dirfd, const char *path, mode_t mode)
{
	cleanup_free char *p = xstrdup(path);
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdirat(dirfd, p, mode) < 0 && errno != EEXIST)
				return -errno;
			*s = c;
			if (!c)
				break;
		}
	}
	return 0;
}

static int rm_rf_fd(int dfd, dev_t dev)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != dev) {
				r = -EBUSY;
				continue;
			}
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				int rr = rm_rf_fd(sub, dev);
				if (rr && !r)
					r = rr;
			}
			if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0 && !r)
				r = -errno;
		} else if (unlinkat(dirfd(d), e->d_name, 0) < 0 && !r) {
			r = -errno;
		}
	}
	closedir(d);
	return r;
}

int xb_rm_rf_at(int dirfd, const char *path)
{
	struct stat st;
	if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, path, 0) < 0 ? -errno : 0;
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = rm_rf_fd(fd, st.st_dev);
	if (unlinkat(dirfd, path, AT_REMOVEDIR) < 0 && !r)
		r = -errno;
	return r;
}

bool str_starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

bool str_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

char *str_trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

int xb_ncpus(void)
{
	cpu_set_t cpus;
	int n = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
	return n > 0 ? n : 1;
}
