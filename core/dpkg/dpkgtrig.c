/* dpkgtrig: var/lib/dpkg/triggers (see dpkgtrig.h). */
#include "dpkgtrig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>

#include "dpkgdb.h"

static int write_db_file(int rootfd, const char *path, const void *data, size_t len)
{
	int r = xb_write_file_at(rootfd, path, data, len, 0644);
	if (r < 0)
		xb_error("writing /%s: %s", path, strerror(-r));
	return r;
}

static char *info_name(const struct xb_pkg *p)
{
	return dpkgdb_info_name(p->name, p->arch, p->multi_arch && !strcmp(p->multi_arch, "same"));
}

struct dpkgtrig_file {
	char *name; /* file in triggers/: "File" or a trigger name */
	struct strbuf text;
	bool dirty;
};

static const struct dpkgtrig_file *trig_find(const struct dpkgtrig *ts, const char *name)
{
	for (size_t i = 0; i < ts->n; i++)
		if (!strcmp(ts->f[i].name, name))
			return &ts->f[i];
	return NULL;
}

static struct dpkgtrig_file *trig_get(struct dpkgtrig *ts, const char *name)
{
	struct dpkgtrig_file *found = (struct dpkgtrig_file *)trig_find(ts, name);
	if (found)
		return found;
	if (ts->n == ts->alloc) {
		ts->alloc = ts->alloc ? ts->alloc * 2 : 16;
		ts->f = xrealloc(ts->f, ts->alloc * sizeof(*ts->f));
	}
	ts->f[ts->n] = (struct dpkgtrig_file){ xstrdup(name), STRBUF_INIT, true };
	return &ts->f[ts->n++];
}

void dpkgtrig_release(struct dpkgtrig *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		free(ts->f[i].name);
		strbuf_release(&ts->f[i].text);
	}
	free(ts->f);
	*ts = (struct dpkgtrig)DPKGTRIG_INIT;
}

static bool is_trig_file(const char *name)
{
	return name[0] != '.' && strcmp(name, "Lock") && strcmp(name, "Unincorp") &&
	       !str_ends_with(name, ".xboot-tmp");
}

int dpkgtrig_load(int rootfd, struct dpkgtrig *ts)
{
	int dfd = openat(rootfd, DPKGDB "/triggers", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		xb_error("reading /" DPKGDB "/triggers: %s", strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -errno;
	}
	int r = 0;
	struct dirent *e;
	while (!r && (e = readdir(d))) {
		if (!is_trig_file(e->d_name) || (e->d_type != DT_REG && e->d_type != DT_UNKNOWN))
			continue;
		struct dpkgtrig_file *t = trig_get(ts, e->d_name);
		t->dirty = false;
		if ((r = xb_read_file_at(dirfd(d), e->d_name, &t->text)) < 0)
			xb_error("reading /" DPKGDB "/triggers/%s: %s", e->d_name, strerror(-r));
	}
	closedir(d);
	return r;
}

/* Is "PKG" or "PKG/noawait" one of the packages being written? */
static bool ours(const char *who, size_t len, const struct debinfo *pkgs, size_t n)
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
static void trig_forget(struct dpkgtrig_file *t, const struct debinfo *pkgs, size_t n)
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

static int trig_add(struct dpkgtrig *ts, const struct debinfo *p)
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
			struct dpkgtrig_file *t = trig_get(ts, name);
			strbuf_addf(&t->text, "%s%s\n", p->info_name, suffix);
			t->dirty = true;
		}
	}
	return 0;
}

int dpkgtrig_add_interests(int rootfd, struct dpkgtrig *ts, const struct debinfo *pkgs, size_t n)
{
	int r = 0;
	trig_get(ts, "File"); /* dpkg expects it even when empty */
	for (size_t i = 0; i < ts->n; i++)
		trig_forget(&ts->f[i], pkgs, n);
	for (size_t i = 0; !r && i < n; i++)
		if (pkgs[i].triggers)
			r = trig_add(ts, &pkgs[i]);
	for (size_t i = 0; !r && i < ts->n; i++) {
		struct dpkgtrig_file *t = &ts->f[i];
		cleanup_free char *path = xasprintf(DPKGDB "/triggers/%s", t->name);
		if (!t->dirty)
			continue;
		if (!t->text.len && strcmp(t->name, "File"))
			unlinkat(rootfd, path, 0);
		else
			r = write_db_file(rootfd, path, t->text.buf, t->text.len);
		t->dirty = false;
	}
	return r;
}

/* ---- activations, in the second stage ---- */

/* Position of the package a triggers file names ("pkg", "pkg:arch",
 * either with "/noawait"), or n. */
static size_t position(const struct xb_pkg *pkgs, size_t n, const char *who)
{
	size_t len = strcspn(who, "/ \t\n");
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(pkgs[i].name);
		if (len >= nl && !memcmp(who, pkgs[i].name, nl) &&
		    (len == nl || (who[nl] == ':' && len - nl - 1 == strlen(pkgs[i].arch) &&
		                   !memcmp(who + nl + 1, pkgs[i].arch, len - nl - 1))))
			return i;
	}
	return n;
}

/* Is a package before position j interested in trigger t?  Explicit
 * interests are listed in triggers/T; file triggers (t a path) in
 * triggers/File, where an interest in a directory covers what is below. */
static bool interested_before(const struct dpkgtrig *ts, const struct xb_pkg *pkgs, size_t n,
                              size_t j, const char *t)
{
	bool file = t[0] == '/';
	const struct dpkgtrig_file *tf = trig_find(ts, file ? "File" : t);
	if (!tf)
		return false;
	const struct strbuf text = tf->text;
	size_t pos = 0;
	char *line;
	bool hit = false;
	while (!hit && (line = deb822_next_line(text.buf, &pos))) {
		const char *who = line;
		if (file) {
			size_t pl = strcspn(line, " \t");
			who = line + pl + strspn(line + pl, " \t");
			hit = !strncmp(t, line, pl) && (t[pl] == '\0' || t[pl] == '/');
		} else {
			hit = true;
		}
		hit = hit && position(pkgs, n, who) < j;
		free(line);
	}
	return hit;
}

static bool activates(const char *directive)
{
	return !strcmp(directive, "activate") || !strcmp(directive, "activate-await") ||
	       !strcmp(directive, "activate-noawait");
}

/* A file trigger's absolute path, or an explicit name that is a file name
 * in triggers/ (the control file comes from a package). */
static bool valid_name(const char *t)
{
	return t[0] == '/' || (t[0] != '.' && t[0] != '#' && !strchr(t, '/'));
}

int dpkgtrig_activate(int rootfd, const struct dpkgtrig *ts, const struct xb_pkg *pkgs, size_t n,
                      size_t from, size_t to)
{
	cleanup_strbuf struct strbuf add = STRBUF_INIT;
	cleanup_strvec struct strvec seen = STRVEC_INIT;
	for (size_t j = from; j < to; j++) {
		cleanup_strbuf struct strbuf text = STRBUF_INIT;
		cleanup_free char *info = info_name(&pkgs[j]);
		cleanup_free char *path = xasprintf(DPKGDB "/info/%s.triggers", info);
		int r = xb_read_file_at(rootfd, path, &text);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			xb_error("reading /%s: %s", path, strerror(-r));
			return r;
		}
		size_t pos = 0;
		char *line;
		while ((line = deb822_next_line(text.buf, &pos))) {
			char *save = NULL, *dir = strtok_r(line, " \t", &save);
			char *t = strtok_r(NULL, " \t", &save);
			if (dir && t && activates(dir) && valid_name(t) &&
			    !strvec_has(&seen, t) && interested_before(ts, pkgs, n, j, t)) {
				strvec_push(&seen, t);
				strbuf_addf(&add, "%s -\n", t);
			}
			free(line);
		}
	}
	if (!add.len)
		return 0;
	cleanup_strbuf struct strbuf un = STRBUF_INIT;
	int r = xb_read_file_at(rootfd, DPKGDB "/triggers/Unincorp", &un);
	if (r < 0 && r != -ENOENT) {
		xb_error("reading /" DPKGDB "/triggers/Unincorp: %s", strerror(-r));
		return r;
	}
	if (un.len && un.buf[un.len - 1] != '\n')
		strbuf_addch(&un, '\n');
	strbuf_add(&un, add.buf, add.len);
	if ((r = xb_write_file_at(rootfd, DPKGDB "/triggers/Unincorp", un.buf, un.len, 0644)) < 0)
		xb_error("writing /" DPKGDB "/triggers/Unincorp: %s", strerror(-r));
	return r;
}

int dpkgtrig_drop_early(int rootfd, const struct dpkgtrig *ts, const struct xb_pkg *pkgs, size_t n,
                        size_t j)
{
	cleanup_strbuf struct strbuf un = STRBUF_INIT, out = STRBUF_INIT;
	/* dpkg-trigger's own lock: a script may be adding lines meanwhile. */
	cleanup_fd int lock = openat(rootfd, DPKGDB "/triggers/Lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (lock < 0 || fcntl(lock, F_SETLKW, &fl) < 0) {
		xb_error("locking /" DPKGDB "/triggers/Lock: %s", strerror(errno));
		return -errno;
	}
	int r = xb_read_file_at(rootfd, DPKGDB "/triggers/Unincorp", &un);
	if (r == -ENOENT || (!r && !un.len))
		return 0;
	if (r < 0) {
		xb_error("reading /" DPKGDB "/triggers/Unincorp: %s", strerror(-r));
		return r;
	}
	size_t pos = 0;
	char *line;
	while ((line = deb822_next_line(un.buf, &pos))) {
		size_t tl = strcspn(line, " \t");
		cleanup_free char *t = xstrndup(line, tl);
		if (valid_name(t) && interested_before(ts, pkgs, n, j, t))
			strbuf_addf(&out, "%s\n", line);
		free(line);
	}
	if (out.len == un.len)
		return 0;
	if ((r = xb_write_file_at(rootfd, DPKGDB "/triggers/Unincorp", out.buf, out.len, 0644)) < 0)
		xb_error("writing /" DPKGDB "/triggers/Unincorp: %s", strerror(-r));
	return r;
}
