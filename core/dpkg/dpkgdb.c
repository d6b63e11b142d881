/* dpkgdb: var/lib/dpkg as dpkg's unpack leaves it (status, info/, triggers/). */
#include "dpkgdb.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>

#include "../base/hash.h"

#define DB "var/lib/dpkg"

void dpkgdb_pkg_add_file(struct dpkgdb_pkg *p, const char *name, char *data, size_t len)
{
	if (p->nfiles == p->afiles) {
		p->afiles = p->afiles ? p->afiles * 2 : 8;
		p->files = xrealloc(p->files, p->afiles * sizeof(*p->files));
	}
	p->files[p->nfiles++] = (struct dpkgdb_file){ xstrdup(name), data, len };
	if (!strcmp(name, "triggers")) {
		free(p->triggers);
		p->triggers = xstrndup(data, len);
	}
}

const struct dpkgdb_file *dpkgdb_pkg_file(const struct dpkgdb_pkg *p, const char *name)
{
	for (size_t i = 0; i < p->nfiles; i++)
		if (!strcmp(p->files[i].name, name))
			return &p->files[i];
	return NULL;
}

/* Package names become file names in info/, so only what policy allows. */
static bool valid_name(const char *s, const char *extra)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') && !strchr(extra, *s))
			return false;
	return true;
}

int dpkgdb_pkg_load_control(struct dpkgdb_pkg *p)
{
	const struct dpkgdb_file *c = dpkgdb_pkg_file(p, "control");
	size_t pos = 0;
	if (!c || deb822_parse(c->data, c->len, &pos, &p->control) != 1) {
		xb_error("unpacking %s: %s", p->deb, c ? "malformed control file" : "no control file");
		return -XB_EPARSE;
	}
	p->name = deb822_get(&p->control, "Package");
	p->arch = deb822_get(&p->control, "Architecture");
	if (!p->name || !valid_name(p->name, "+-.") || !p->arch || !valid_name(p->arch, "-")) {
		xb_error("unpacking %s: control file lacks a valid Package or Architecture", p->deb);
		return -XB_EPARSE;
	}
	const char *ma = deb822_get(&p->control, "Multi-Arch");
	p->ma_same = ma && !strcmp(ma, "same");
	p->info_name = p->ma_same ? xasprintf("%s:%s", p->name, p->arch) : xstrdup(p->name);
	return 0;
}

void dpkgdb_pkg_add_path(struct dpkgdb_pkg *p, const char *member)
{
	if (!p->list.len)
		strbuf_addstr(&p->list, "/.\n");
	while (member[0] == '.' && member[1] == '/')
		member += 2;
	while (*member == '/')
		member++;
	size_t n = strlen(member);
	while (n && member[n - 1] == '/')
		n--;
	if (!n || (n == 1 && member[0] == '.'))
		return;
	strbuf_addch(&p->list, '/');
	strbuf_add(&p->list, member, n);
	strbuf_addch(&p->list, '\n');
}

/* A conffiles line is "PATH" or "FLAG... PATH" (remove-on-upgrade). */
static int hash_one(int rootfd, struct dpkgdb_pkg *p, char *line)
{
	char *path = strrchr(line, ' ');
	char *flags = NULL;
	if (path) {
		*path++ = '\0';
		flags = str_trim(line);
	} else {
		path = line;
	}
	if (path[0] != '/') {
		xb_error("unpacking %s: conffile %s is not an absolute path", p->deb, path);
		return -XB_EPARSE;
	}
	char hex[33] = "newconffile";
	int fd = openat(rootfd, path[1] ? path + 1 : ".", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		xb_error("unpacking %s: reading conffile %s: %s", p->deb, path, strerror(errno));
		return -errno;
	}
	if (fd >= 0) {
		int r = xb_hash_fd(XB_MD5, fd, hex);
		close(fd);
		if (r < 0) {
			xb_error("unpacking %s: reading conffile %s: %s", p->deb, path, strerror(-r));
			return r;
		}
	}
	strbuf_addf(&p->conffiles, "\n %s %s", path, hex);
	if (flags && *flags)
		strbuf_addf(&p->conffiles, " %s", flags);
	return 0;
}

int dpkgdb_pkg_hash_conffiles(int rootfd, struct dpkgdb_pkg *p)
{
	const struct dpkgdb_file *f = dpkgdb_pkg_file(p, "conffiles");
	if (!f)
		return 0;
	cleanup_free char *text = xstrndup(f->data, f->len);
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		l = str_trim(l);
		if (!*l)
			continue;
		int r = hash_one(rootfd, p, l);
		if (r < 0)
			return r;
	}
	return 0;
}

static void free_files(struct dpkgdb_pkg *p)
{
	for (size_t i = 0; i < p->nfiles; i++) {
		free(p->files[i].name);
		free(p->files[i].data);
	}
	free(p->files);
	p->files = NULL;
	p->nfiles = p->afiles = 0;
}

void dpkgdb_pkg_drop_files(struct dpkgdb_pkg *p) { free_files(p); }

void dpkgdb_pkg_release(struct dpkgdb_pkg *p)
{
	free_files(p);
	deb822_release(&p->control);
	free(p->info_name);
	free(p->triggers);
	strbuf_release(&p->list);
	strbuf_release(&p->conffiles);
	*p = (struct dpkgdb_pkg){ 0 };
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
	static const char *const dirs[] = { DB "/info", DB "/updates", DB "/triggers",
		                            DB "/alternatives", DB "/parts" };
	static const char *const files[] = { DB "/available", DB "/diversions",
		                             DB "/statoverride", DB "/triggers/Unincorp" };
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
	int fd = openat(rootfd, DB "/info/format", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EEXIST) {
		xb_error("creating /" DB "/info/format: %s", strerror(errno));
		return -errno;
	}
	int r = fd >= 0 ? xb_write_all(fd, "1\n", 2) : 0;
	if (fd >= 0)
		close(fd);
	if (r < 0)
		xb_error("writing /" DB "/info/format: %s", strerror(-r));
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
static void remove_stale_info(int rootfd, const struct dpkgdb_pkg *p)
{
	int dfd = openat(rootfd, DB "/info", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
		    strchr(what, '.') || !strcmp(what, "list") || dpkgdb_pkg_file(p, what))
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int dpkgdb_write_info(int rootfd, const struct dpkgdb_pkg *p)
{
	remove_stale_info(rootfd, p);
	for (size_t i = 0; i < p->nfiles; i++) {
		const struct dpkgdb_file *f = &p->files[i];
		if (!strcmp(f->name, "control"))
			continue;
		cleanup_free char *path = xasprintf(DB "/info/%s.%s", p->info_name, f->name);
		int r = write_db_file(rootfd, path, f->data, f->len, is_script(f->name) ? 0755 : 0644);
		if (r < 0)
			return r;
	}
	cleanup_free char *list = xasprintf(DB "/info/%s.list", p->info_name);
	const char *empty = "/.\n";
	return write_db_file(rootfd, list, p->list.len ? p->list.buf : empty,
	                     p->list.len ? p->list.len : strlen(empty), 0644);
}

/* ---- status ---- */

static bool same_package(const struct deb822 *old, const struct dpkgdb_pkg *p)
{
	const char *name = deb822_get(old, "Package"), *arch = deb822_get(old, "Architecture");
	const char *ma = deb822_get(old, "Multi-Arch");
	if (!name || strcmp(name, p->name))
		return false;
	bool old_same = ma && !strcmp(ma, "same");
	/* Only Multi-Arch: same packages coexist in several architectures. */
	return (arch && !strcmp(arch, p->arch)) || (!old_same && !p->ma_same);
}

static void add_stanza(const struct dpkgdb_pkg *p, struct strbuf *out)
{
	cleanup_deb822 struct deb822 st = DEB822_INIT;
	for (size_t i = 0; i < p->control.n; i++) {
		const struct deb822_field *f = &p->control.f[i];
		if (!strcasecmp(f->name, "Status") || !strcasecmp(f->name, "Conffiles"))
			continue;
		deb822_set(&st, f->name, f->value);
		if (!strcasecmp(f->name, "Package"))
			deb822_set(&st, "Status", "install ok unpacked");
	}
	if (p->conffiles.len)
		deb822_set(&st, "Conffiles", p->conffiles.buf);
	deb822_write(&st, out);
	strbuf_addch(out, '\n');
}

static int write_status(int rootfd, const struct dpkgdb_pkg *pkgs, size_t n)
{
	cleanup_strbuf struct strbuf old = STRBUF_INIT, out = STRBUF_INIT;
	int fd = openat(rootfd, DB "/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		xb_error("reading /" DB "/status: %s", strerror(errno));
		return -errno;
	}
	if (fd >= 0) {
		int r = xb_read_fd(fd, &old);
		close(fd);
		if (r < 0) {
			xb_error("reading /" DB "/status: %s", strerror(-r));
			return r;
		}
	}
	size_t pos = 0;
	for (;;) {
		cleanup_deb822 struct deb822 st = DEB822_INIT;
		int r = deb822_parse(old.buf, old.len, &pos, &st);
		if (r < 0) {
			xb_error("reading /" DB "/status: malformed stanza");
			return r;
		}
		if (r == 0)
			break;
		bool replaced = false;
		for (size_t i = 0; i < n && !replaced; i++)
			replaced = same_package(&st, &pkgs[i]);
		if (!replaced) {
			deb822_write(&st, &out);
			strbuf_addch(&out, '\n');
		}
	}
	/* A package listed twice: the later one wins, as it would with dpkg. */
	for (size_t i = 0; i < n; i++) {
		bool later = false;
		for (size_t j = i + 1; j < n && !later; j++)
			later = !strcmp(pkgs[i].name, pkgs[j].name) &&
			        (!strcmp(pkgs[i].arch, pkgs[j].arch) || (!pkgs[i].ma_same && !pkgs[j].ma_same));
		if (!later)
			add_stanza(&pkgs[i], &out);
	}
	return write_db_file(rootfd, DB "/status", out.buf, out.len, 0644);
}

/* ---- triggers ---- */

struct trigfile {
	char *name; /* file in triggers/: "File" or a trigger name */
	struct strbuf text;
	bool dirty;
};

struct trigset {
	struct trigfile *f;
	size_t n, alloc;
};

static struct trigfile *trig_get(struct trigset *ts, const char *name)
{
	for (size_t i = 0; i < ts->n; i++)
		if (!strcmp(ts->f[i].name, name))
			return &ts->f[i];
	if (ts->n == ts->alloc) {
		ts->alloc = ts->alloc ? ts->alloc * 2 : 16;
		ts->f = xrealloc(ts->f, ts->alloc * sizeof(*ts->f));
	}
	ts->f[ts->n] = (struct trigfile){ xstrdup(name), STRBUF_INIT, true };
	return &ts->f[ts->n++];
}

static void trig_release(struct trigset *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		free(ts->f[i].name);
		strbuf_release(&ts->f[i].text);
	}
	free(ts->f);
}

static bool is_trig_file(const char *name)
{
	return name[0] != '.' && strcmp(name, "Lock") && strcmp(name, "Unincorp") &&
	       !str_ends_with(name, ".xboot-tmp");
}

static int trig_load(int rootfd, struct trigset *ts)
{
	int dfd = openat(rootfd, DB "/triggers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		xb_error("reading /" DB "/triggers: %s", strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -errno;
	}
	int r = 0;
	struct dirent *e;
	while (!r && (e = readdir(d))) {
		if (!is_trig_file(e->d_name) || (e->d_type != DT_REG && e->d_type != DT_UNKNOWN))
			continue;
		struct trigfile *t = trig_get(ts, e->d_name);
		t->dirty = false;
		int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		r = fd < 0 ? -errno : xb_read_fd(fd, &t->text);
		if (fd >= 0)
			close(fd);
		if (r < 0)
			xb_error("reading /" DB "/triggers/%s: %s", e->d_name, strerror(-r));
	}
	closedir(d);
	return r;
}

/* Is "PKG" or "PKG/noawait" one of the packages being written? */
static bool ours(const char *who, size_t len, const struct dpkgdb_pkg *pkgs, size_t n)
{
	if (len > 8 && !memcmp(who + len - 8, "/noawait", 8))
		len -= 8;
	for (size_t i = 0; i < n; i++) {
		const char *nm = pkgs[i].info_name;
		if ((strlen(nm) == len && !memcmp(who, nm, len)) ||
		    (strlen(pkgs[i].name) == len && !memcmp(who, pkgs[i].name, len)))
			return true;
	}
	return false;
}

/* Drops our packages' old interests: the new control files restate them. */
static void trig_forget(struct trigfile *t, const struct dpkgdb_pkg *pkgs, size_t n)
{
	bool file = !strcmp(t->name, "File");
	struct strbuf keep = STRBUF_INIT;
	const char *s = t->text.buf, *end = s + t->text.len;
	while (s < end) {
		const char *e = memchr(s, '\n', (size_t)(end - s));
		if (!e)
			e = end;
		const char *who = s;
		if (file) {
			who = memrchr(s, ' ', (size_t)(e - s));
			who = who ? who + 1 : e;
		}
		if (e > s && !ours(who, (size_t)(e - who), pkgs, n)) {
			strbuf_add(&keep, s, (size_t)(e - s));
			strbuf_addch(&keep, '\n');
		}
		s = e < end ? e + 1 : end;
	}
	if (keep.len != t->text.len)
		t->dirty = true;
	strbuf_release(&t->text);
	t->text = keep;
}

static bool valid_trigger(const char *name)
{
	if (name[0] == '/')
		return true;
	return name[0] != '.' && !strchr(name, '/') && is_trig_file(name) && strcmp(name, "File");
}

static int trig_add(struct trigset *ts, const struct dpkgdb_pkg *p)
{
	cleanup_free char *text = xstrdup(p->triggers);
	char *save = NULL;
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(l, '#');
		if (hash)
			*hash = '\0';
		char *sp = NULL;
		const char *dir = strtok_r(l, " \t", &sp), *name = strtok_r(NULL, " \t", &sp);
		if (!dir || strncmp(dir, "interest", 8))
			continue;
		bool noawait = !strcmp(dir, "interest-noawait");
		if (!noawait && strcmp(dir, "interest") && strcmp(dir, "interest-await"))
			continue;
		if (!name || !valid_trigger(name)) {
			xb_error("unpacking %s: invalid trigger interest '%s'", p->deb, name ? name : "");
			return -XB_EPARSE;
		}
		const char *suffix = noawait ? "/noawait" : "";
		if (name[0] == '/') {
			strbuf_addf(&trig_get(ts, "File")->text, "%s %s%s\n", name, p->info_name, suffix);
			trig_get(ts, "File")->dirty = true;
		} else {
			struct trigfile *t = trig_get(ts, name);
			strbuf_addf(&t->text, "%s%s\n", p->info_name, suffix);
			t->dirty = true;
		}
	}
	return 0;
}

static int write_triggers(int rootfd, const struct dpkgdb_pkg *pkgs, size_t n)
{
	struct trigset ts = { 0 };
	int r = trig_load(rootfd, &ts);
	trig_get(&ts, "File"); /* dpkg expects it even when empty */
	for (size_t i = 0; !r && i < ts.n; i++)
		trig_forget(&ts.f[i], pkgs, n);
	for (size_t i = 0; !r && i < n; i++)
		if (pkgs[i].triggers)
			r = trig_add(&ts, &pkgs[i]);
	for (size_t i = 0; !r && i < ts.n; i++) {
		struct trigfile *t = &ts.f[i];
		cleanup_free char *path = xasprintf(DB "/triggers/%s", t->name);
		if (!t->dirty)
			continue;
		if (!t->text.len && strcmp(t->name, "File"))
			unlinkat(rootfd, path, 0);
		else
			r = write_db_file(rootfd, path, t->text.buf, t->text.len, 0644);
	}
	trig_release(&ts);
	return r;
}

int dpkgdb_commit(int rootfd, const struct dpkgdb_pkg *pkgs, size_t n)
{
	int r = write_triggers(rootfd, pkgs, n);
	return r < 0 ? r : write_status(rootfd, pkgs, n);
}

/* Whether the conffiles member lists /path (a line's last word: newer
 * dpkg allows flags such as remove-on-upgrade before it). */
static bool conffile_listed(const struct dpkgdb_file *cf, const char *path)
{
	size_t plen = strlen(path);
	const char *p = cf->data, *end = cf->data + cf->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		while (le > p && (le[-1] == ' ' || le[-1] == '\t' || le[-1] == '\r'))
			le--;
		const char *w = (size_t)(le - p) > plen ? le - plen - 1 : NULL; /* the '/' */
		if (w && *w == '/' && !memcmp(w + 1, path, plen) &&
		    (w == p || w[-1] == ' ' || w[-1] == '\t'))
			return true;
		p = nl ? nl + 1 : end;
	}
	return false;
}

void dpkgdb_md5sums_add(const struct dpkgdb_pkg *p, struct strbuf *md5sums, const char *member,
                        const char *hex)
{
	while (*member == '.' && member[1] == '/')
		member++;
	while (*member == '/')
		member++;
	const struct dpkgdb_file *cf = dpkgdb_pkg_file(p, "conffiles");
	if (cf && conffile_listed(cf, member))
		return;
	strbuf_addf(md5sums, "%s  %s\n", hex, member);
}
