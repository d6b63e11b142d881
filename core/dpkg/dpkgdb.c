/* dpkgdb: var/lib/dpkg as dpkg leaves it (see dpkgdb.h). */
#include "dpkgdb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>

/* dpkg writes the whole status file after this many journal entries. */
#define MAX_JOURNAL 250

char *dpkgdb_info_name(const char *name, const char *arch, bool ma_same)
{
	return ma_same ? xasprintf("%s:%s", name, arch) : xstrdup(name);
}

static int touch_at(int rootfd, const char *path)
{
	int fd = openat(rootfd, path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int dpkgdb_init(int rootfd)
{
	static const char *const dirs[] = { DPKGDB "/info", DPKGDB "/updates", DPKGDB "/triggers",
		                            DPKGDB "/alternatives", DPKGDB "/parts" };
	/* available and statoverride: dpkg makes them when it needs them, and
	 * mmdebstrap's trees have neither */
	static const char *const files[] = { DPKGDB "/diversions", DPKGDB "/triggers/Unincorp" };
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		int r = xb_mkdir_p_at(rootfd, dirs[i], 0755);
		if (r < 0) {
			xb_error("creating /%s: %s", dirs[i], strerror(-r));
			return r;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		int r = touch_at(rootfd, files[i]);
		if (r < 0) {
			xb_error("creating /%s: %s", files[i], strerror(-r));
			return r;
		}
	}
	/* info/ layout version 1: "pkg:arch" names for Multi-Arch: same. */
	int fd = openat(rootfd, DPKGDB "/info/format", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EEXIST) {
		xb_error("creating /" DPKGDB "/info/format: %s", strerror(errno));
		return -errno;
	}
	int r = fd >= 0 ? xb_write_all(fd, "1\n", 2) : 0;
	if (fd >= 0)
		close(fd);
	if (r < 0)
		xb_error("writing /" DPKGDB "/info/format: %s", strerror(-r));
	return r;
}

static bool is_script(const char *name)
{
	static const char *const scripts[] = { "preinst", "postinst", "prerm", "postrm", "config" };
	for (size_t i = 0; i < ARRAY_SIZE(scripts); i++)
		if (!strcmp(name, scripts[i]))
			return true;
	return false;
}

static int write_db_file(int rootfd, const char *path, const void *data, size_t len, mode_t mode)
{
	int r = xb_write_file_at(rootfd, path, data, len, mode);
	if (r < 0)
		xb_error("writing /%s: %s", path, strerror(-r));
	return r;
}

/* dpkg would remove info files of the old version the new one lacks. */
static void remove_stale_info(int rootfd, const struct debinfo *p)
{
	int dfd = openat(rootfd, DPKGDB "/info", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	size_t nl = strlen(p->info_name);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *what = e->d_name + nl + 1;
		if (strncmp(e->d_name, p->info_name, nl) || e->d_name[nl] != '.' ||
		    strchr(what, '.') || !strcmp(what, "list") || debinfo_file(p, what))
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int dpkgdb_write_info(int rootfd, const struct debinfo *p)
{
	remove_stale_info(rootfd, p);
	for (size_t i = 0; i < p->nfiles; i++) {
		const struct debinfo_file *f = &p->files[i];
		if (!strcmp(f->name, "control"))
			continue;
		cleanup_free char *path = xasprintf(DPKGDB "/info/%s.%s", p->info_name, f->name);
		int r = write_db_file(rootfd, path, f->data, f->len, is_script(f->name) ? 0755 : 0644);
		if (r < 0)
			return r;
	}
	cleanup_free char *list = xasprintf(DPKGDB "/info/%s.list", p->info_name);
	const char *empty = "/.\n";
	return write_db_file(rootfd, list, p->list.len ? p->list.buf : empty,
	                     p->list.len ? p->list.len : strlen(empty), 0644);
}

/* ---- status ---- */

void dpkgdb_status_release(struct dpkgdb_status *s)
{
	for (size_t i = 0; i < s->n; i++)
		deb822_release(&s->v[i]);
	free(s->v);
	*s = (struct dpkgdb_status)DPKGDB_STATUS_INIT;
}

static struct deb822 *status_push(struct dpkgdb_status *s)
{
	if (s->n == s->alloc) {
		s->alloc = s->alloc ? 2 * s->alloc : 64;
		s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
	}
	s->v[s->n] = (struct deb822)DEB822_INIT;
	return &s->v[s->n++];
}

/* The stanzas of text appended to s, or each replacing the stanza of the
 * same package and architecture (a journal entry). */
static int parse_stanzas(struct dpkgdb_status *s, const char *text, size_t len, bool replace)
{
	size_t pos = 0;
	for (;;) {
		struct deb822 st = DEB822_INIT;
		int r = deb822_parse(text, len, &pos, &st);
		if (r <= 0) {
			deb822_release(&st);
			return r;
		}
		const char *name = deb822_get(&st, "Package"), *arch = deb822_get(&st, "Architecture");
		struct deb822 *old = NULL;
		for (size_t i = 0; replace && name && arch && i < s->n && !old; i++) {
			const char *n = deb822_get(&s->v[i], "Package"), *a = deb822_get(&s->v[i], "Architecture");
			if (n && a && !strcmp(n, name) && !strcmp(a, arch))
				old = &s->v[i];
		}
		if (old)
			deb822_release(old);
		*(old ? old : status_push(s)) = st;
	}
}

static bool is_journal_name(const char *name)
{
	size_t n = strspn(name, "0123456789");
	return n && n <= 10 && !name[n];
}

/* The journal's entries, in the order dpkg applies them. */
static int journal_names(int rootfd, struct strvec *names)
{
	int dfd = openat(rootfd, DPKGDB "/updates", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return errno == ENOENT ? 0 : -errno;
	}
	for (struct dirent *e; (e = readdir(d));)
		if (is_journal_name(e->d_name))
			strvec_push(names, e->d_name);
	closedir(d);
	strvec_sort(names);
	return 0;
}

static int read_db_file(int rootfd, const char *path, struct strbuf *sb)
{
	int r = xb_read_file_at(rootfd, path, sb);
	if (r < 0 && r != -ENOENT)
		xb_error("reading /%s: %s", path, strerror(-r));
	return r;
}

int dpkgdb_status_load(int rootfd, struct dpkgdb_status *s)
{
	cleanup_strbuf struct strbuf text = STRBUF_INIT;
	cleanup_strvec struct strvec journal = STRVEC_INIT;
	int r = read_db_file(rootfd, DPKGDB "/status", &text);
	if (r < 0 && r != -ENOENT)
		return r;
	if (parse_stanzas(s, text.buf, text.len, false) < 0) {
		xb_error("reading /" DPKGDB "/status: a malformed stanza");
		return -XB_EPARSE;
	}
	if ((r = journal_names(rootfd, &journal)) < 0) {
		xb_error("reading /" DPKGDB "/updates: %s", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < journal.n; i++) {
		cleanup_free char *path = xasprintf(DPKGDB "/updates/%s", journal.v[i]);
		strbuf_reset(&text);
		if ((r = read_db_file(rootfd, path, &text)) < 0)
			return r;
		if (parse_stanzas(s, text.buf, text.len, true) < 0) {
			xb_error("reading /%s: a malformed stanza", path);
			return -XB_EPARSE;
		}
	}
	s->journal = (unsigned)journal.n;
	return journal.n ? dpkgdb_status_write(rootfd, s) : 0;
}

static bool same_package(const struct deb822 *old, const struct debinfo *p)
{
	const char *name = deb822_get(old, "Package"), *arch = deb822_get(old, "Architecture");
	const char *ma = deb822_get(old, "Multi-Arch");
	if (!name || strcmp(name, p->name))
		return false;
	bool old_same = ma && !strcmp(ma, "same");
	/* Only Multi-Arch: same packages coexist in several architectures. */
	return (arch && !strcmp(arch, p->arch)) || (!old_same && !p->ma_same);
}

/* The stanza dpkg's unpack writes: the control file's fields, Status
 * after Package, Conffiles with the MD5 of each as unpacked. */
static void unpacked_stanza(const struct debinfo *p, struct deb822 *st)
{
	for (size_t i = 0; i < p->control.n; i++) {
		const struct deb822_field *f = &p->control.f[i];
		if (!strcasecmp(f->name, "Status") || !strcasecmp(f->name, "Conffiles"))
			continue;
		deb822_set(st, f->name, f->value);
		if (!strcasecmp(f->name, "Package"))
			deb822_set(st, "Status", "install ok unpacked");
	}
	if (p->conffiles.len)
		deb822_set(st, "Conffiles", p->conffiles.buf);
}

void dpkgdb_status_unpacked(struct dpkgdb_status *s, const struct debinfo *pkgs, size_t n)
{
	size_t kept = 0;
	for (size_t i = 0; i < s->n; i++) {
		bool replaced = false;
		for (size_t j = 0; j < n && !replaced; j++)
			replaced = same_package(&s->v[i], &pkgs[j]);
		if (replaced)
			deb822_release(&s->v[i]);
		else
			s->v[kept++] = s->v[i];
	}
	s->n = kept;
	for (size_t i = 0; i < n; i++) {
		bool later = false;
		for (size_t j = i + 1; j < n && !later; j++)
			later = !strcmp(pkgs[i].name, pkgs[j].name) &&
			        (!strcmp(pkgs[i].arch, pkgs[j].arch) || (!pkgs[i].ma_same && !pkgs[j].ma_same));
		if (!later)
			unpacked_stanza(&pkgs[i], status_push(s));
	}
}

static void serialise(const struct deb822 *v, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		deb822_write(&v[i], out);
		strbuf_addch(out, '\n');
	}
}

/* Writes text to path through path-new, as dpkg does; with backup, the
 * file it replaces stays as path-old. */
static int write_replacing(int rootfd, const char *path, const struct strbuf *text, bool backup)
{
	cleanup_free char *tmp = xasprintf("%s-new", path), *old = xasprintf("%s-old", path);
	int fd = openat(rootfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	int r = fd < 0 ? -errno : xb_write_all(fd, text->buf, text->len);
	if (fd >= 0 && close(fd) < 0 && !r)
		r = -errno;
	if (!r && backup && (unlinkat(rootfd, old, 0) < 0 && errno != ENOENT))
		r = -errno;
	if (!r && backup && linkat(rootfd, path, rootfd, old, 0) < 0 && errno != ENOENT)
		r = -errno;
	if (!r && renameat(rootfd, tmp, rootfd, path) < 0)
		r = -errno;
	if (r) {
		unlinkat(rootfd, tmp, 0);
		xb_error("writing /%s: %s", path, strerror(-r));
	}
	return r;
}

int dpkgdb_status_write(int rootfd, struct dpkgdb_status *s)
{
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	cleanup_strvec struct strvec journal = STRVEC_INIT;
	serialise(s->v, s->n, &out);
	int r = write_replacing(rootfd, DPKGDB "/status", &out, true);
	if (!r)
		r = journal_names(rootfd, &journal);
	for (size_t i = 0; !r && i < journal.n; i++) {
		cleanup_free char *path = xasprintf(DPKGDB "/updates/%s", journal.v[i]);
		if (unlinkat(rootfd, path, 0) < 0 && errno != ENOENT) {
			r = -errno;
			xb_error("removing /%s: %s", path, strerror(-r));
		}
	}
	if (!r)
		s->journal = 0;
	return r;
}

int dpkgdb_status_installed(int rootfd, struct dpkgdb_status *s, const char *name,
                            const char *arch)
{
	struct deb822 *st = NULL;
	for (size_t i = 0; i < s->n && !st; i++) {
		const char *n = deb822_get(&s->v[i], "Package"), *a = deb822_get(&s->v[i], "Architecture");
		if (n && a && !strcmp(n, name) && !strcmp(a, arch))
			st = &s->v[i];
	}
	if (!st) {
		xb_error("configuring %s: no stanza for it in /" DPKGDB "/status", name);
		return -XB_EPARSE;
	}
	deb822_set(st, "Status", "install ok installed");
	deb822_unset(st, "Triggers-Pending");
	deb822_unset(st, "Triggers-Awaited");
	if (s->journal >= MAX_JOURNAL)
		return dpkgdb_status_write(rootfd, s);
	cleanup_strbuf struct strbuf out = STRBUF_INIT;
	cleanup_free char *path = xasprintf(DPKGDB "/updates/%04u", s->journal);
	serialise(st, 1, &out);
	int r = write_replacing(rootfd, path, &out, false);
	if (!r)
		s->journal++;
	return r;
}

/* The file holds three lines a diversion: the path, where it is diverted
 * to, and the package that holds it (":" for a local one). */
int dpkgdb_diverted_by(int rootfd, const struct strvec *pkgs)
{
	cleanup_strbuf struct strbuf text = STRBUF_INIT;
	int r = read_db_file(rootfd, DPKGDB "/diversions", &text);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	size_t line = 0;
	for (char *p = text.buf, *end; p < text.buf + text.len; p = end + 1, line++) {
		end = memchr(p, '\n', text.len - (size_t)(p - text.buf));
		if (!end)
			end = text.buf + text.len;
		*end = '\0';
		if (line % 3 == 2 && strvec_has(pkgs, p))
			return 1;
	}
	return 0;
}
