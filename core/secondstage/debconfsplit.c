/* debconfsplit: a debconf database of its own for each script side by side
 * (see debconfsplit.h).  Runs inside the chroot, as the second stage does;
 * every path goes through inroot all the same. */
#include "debconfsplit.h"

#include "debconfdb.h"
#include "../base/fileio.h"
#include "../base/inroot.h"
#include "../base/strbuf.h"
#include "../base/strvec.h"
#include "../base/util.h"
#include "../base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define DIR "/var/cache/debconf/"
#define COPIES "var/cache/debconf/.xboot"
#define MAX_DB ((size_t)64 << 20) /* a desktop's templates.dat is some 20 MiB */

static const char *const files[] = { "config.dat", "passwords.dat", "templates.dat" };

/* Reads path inside the root into sb; *mode gets its permissions.
 * -ENOENT when there is none. */
static int read_db(int rootfd, const char *path, struct strbuf *sb, mode_t *mode)
{
	cleanup_fd int fd = inroot_open_regular(rootfd, path);
	struct stat st;
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((size_t)st.st_size > MAX_DB)
		return -EFBIG;
	if (mode)
		*mode = st.st_mode & 07777;
	return xb_read_fd(fd, sb);
}

static bool exists(int rootfd, const char *path)
{
	cleanup_fd int fd = inroot_open(rootfd, path, O_PATH | O_NOFOLLOW, 0);
	return fd >= 0;
}

/* Is this debconf.conf Debian's, as far as what copies need: File and
 * Stack drivers only, no root option, no ${} expansion, and its files are
 * ours, config.dat and templates.dat among them? */
static bool stock_conf(const char *text)
{
	cleanup_strvec struct strvec lines = STRVEC_INIT;
	unsigned seen = 0;
	if (strstr(text, "${"))
		return false;
	strvec_split(&lines, text, "\n");
	for (size_t i = 0; i < lines.n; i++) {
		char *line = str_trim(lines.v[i]), *colon = strchr(line, ':');
		if (*line == '#' || !colon)
			continue;
		*colon = '\0';
		const char *key = str_trim(line), *value = str_trim(colon + 1);
		if (!strcasecmp(key, "root"))
			return false;
		if (!strcasecmp(key, "driver") && strcmp(value, "File") && strcmp(value, "Stack"))
			return false;
		if (!strcasecmp(key, "filename")) {
			size_t f = 0;
			while (f < ARRAY_SIZE(files) && !(str_starts_with(value, DIR) &&
			                                  !strcmp(value + strlen(DIR), files[f])))
				f++;
			if (f == ARRAY_SIZE(files))
				return false;
			seen |= 1u << f;
		}
	}
	return (seen & 5) == 5;
}

bool debconfsplit_begin(struct debconfsplit *ds, int rootfd)
{
	cleanup_strbuf struct strbuf conf = STRBUF_INIT;
	*ds = (struct debconfsplit){ .rootfd = rootfd };
	for (size_t f = 0; f < ARRAY_SIZE(files); f++)
		ds->last[f] = SIZE_MAX;
	if (inroot_read_file(rootfd, "etc/debconf.conf", 1 << 20, &conf) < 0 ||
	    exists(rootfd, "root/.debconfrc") || !stock_conf(conf.buf))
		return false;
	for (size_t f = 0; f < ARRAY_SIZE(files); f += 2) { /* config.dat, templates.dat */
		cleanup_free char *path = xasprintf(DIR "%s", files[f]);
		cleanup_fd int fd = inroot_open_regular(rootfd, path + 1);
		if (fd < 0)
			return false;
	}
	ds->conf = strbuf_detach(&conf);
	return true;
}

void debconfsplit_end(struct debconfsplit *ds)
{
	if (ds->conf)
		inroot_rm_rf(ds->rootfd, COPIES);
	free(xb_steal(&ds->conf));
}

/* The conf with each "/var/cache/debconf/" made the copy's directory. */
static char *copy_conf(const char *conf, const char *dir)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	const char *p = conf, *hit;
	while ((hit = strstr(p, DIR))) {
		strbuf_add(&sb, p, (size_t)(hit - p));
		strbuf_addf(&sb, "/%s/", dir);
		p = hit + strlen(DIR);
	}
	strbuf_addstr(&sb, p);
	return strbuf_detach(&sb);
}

int debconfsplit_start(struct debconfsplit *ds, size_t pos, const char *pkg, struct strvec *env)
{
	cleanup_free char *dir = xasprintf(COPIES "/%zu", pos);
	cleanup_free char *conf_path = xasprintf("%s/debconf.conf", dir);
	cleanup_free char *conf = copy_conf(ds->conf, dir);
	int r = inroot_rm_rf(ds->rootfd, dir);
	if (!r)
		r = inroot_mkdir_p(ds->rootfd, dir, 0700);
	for (size_t f = 0; f < ARRAY_SIZE(files) && !r; f++) {
		cleanup_strbuf struct strbuf db = STRBUF_INIT;
		cleanup_free char *path = xasprintf(DIR "%s", files[f]);
		cleanup_free char *copy = xasprintf("%s/%s", dir, files[f]);
		cleanup_free char *base = xasprintf("%s/%s.base", dir, files[f]);
		mode_t mode = 0600;
		if ((r = read_db(ds->rootfd, path + 1, &db, &mode)) == -ENOENT) {
			r = 0;
			continue;
		}
		if (!r)
			r = inroot_write_file(ds->rootfd, copy, db.buf, db.len, mode);
		if (!r)
			r = inroot_write_file(ds->rootfd, base, db.buf, db.len, mode);
	}
	if (!r)
		r = inroot_write_file(ds->rootfd, conf_path, conf, strlen(conf), 0644);
	if (r) {
		xb_error("giving the scripts of %s a copy of the debconf database in /%s: %s", pkg, dir,
		         strerror(-r));
		return r;
	}
	strvec_pushf(env, "DEBCONF_SYSTEMRC=/%s", conf_path);
	return 0;
}

static int parse_file(int rootfd, const char *path, struct debconfdb *db, struct strbuf *text,
                      mode_t *mode)
{
	cleanup_strbuf struct strbuf own = STRBUF_INIT;
	if (!text)
		text = &own;
	int r = read_db(rootfd, path, text, mode);
	if (!r)
		debconfdb_parse(text->buf, text->len, db);
	return r == -ENOENT ? 0 : r;
}

static int write_db(int rootfd, const char *path, const struct debconfdb *db, mode_t mode)
{
	cleanup_strbuf struct strbuf text = STRBUF_INIT;
	debconfdb_write(db, &text);
	return inroot_write_file(rootfd, path, text.buf, text.len, mode);
}

/* One file of the copy at dir into the database.  The copy's -old is
 * there when debconf wrote the file (and keeps backups of it): then the
 * database's -old is made as one script at a time would leave it. */
static int merge_file(struct debconfsplit *ds, size_t f, size_t pos, const char *dir)
{
	cleanup_free char *path = xasprintf(DIR "%s", files[f]), *path_old = xasprintf("%s-old", path);
	cleanup_free char *copy = xasprintf("%s/%s", dir, files[f]);
	cleanup_free char *copy_old = xasprintf("%s-old", copy);
	cleanup_free char *base = xasprintf("%s.base", copy);
	cleanup_strbuf struct strbuf ours_text = STRBUF_INIT, base_text = STRBUF_INIT;
	cleanup_strbuf struct strbuf main_text = STRBUF_INIT;
	struct debconfdb b = DEBCONFDB_INIT, o = DEBCONFDB_INIT, m = DEBCONFDB_INIT;
	struct debconfdb old = DEBCONFDB_INIT, mid = DEBCONFDB_INIT;
	mode_t mode = 0600, ours_mode = 0600;
	bool backup = exists(ds->rootfd, copy_old), made = !exists(ds->rootfd, base);
	int r = read_db(ds->rootfd, copy, &ours_text, &ours_mode);
	if (r == -ENOENT)
		return 0;
	if (r || (r = parse_file(ds->rootfd, base, &b, &base_text, NULL)) < 0)
		goto out;
	/* debconf makes a missing file even when it writes nothing to it */
	if (!backup && !made && ours_text.len == base_text.len &&
	    !memcmp(ours_text.buf, base_text.buf, base_text.len))
		goto out; /* untouched */
	debconfdb_parse(ours_text.buf, ours_text.len, &o);
	mode = ours_mode;
	if ((r = parse_file(ds->rootfd, path + 1, &m, &main_text, &mode)) < 0)
		goto out;
	if (backup && (ds->last[f] == SIZE_MAX || pos > ds->last[f])) {
		/* the last writer so far: the -old is the database as it found
		 * it, with what it wrote before its last write */
		ds->last[f] = pos;
		debconfdb_parse(main_text.buf, main_text.len, &old);
		if ((r = parse_file(ds->rootfd, copy_old, &mid, NULL, NULL)) < 0)
			goto out;
		debconfdb_merge(&old, &b, &mid);
		r = write_db(ds->rootfd, path_old + 1, &old, mode);
	} else if (backup) {
		if ((r = parse_file(ds->rootfd, path_old + 1, &old, NULL, NULL)) == 0) {
			debconfdb_merge(&old, &b, &o);
			r = write_db(ds->rootfd, path_old + 1, &old, mode);
		}
	}
	debconfdb_merge(&m, &b, &o);
	if (!r)
		r = write_db(ds->rootfd, path + 1, &m, mode);
out:
	debconfdb_release(&b);
	debconfdb_release(&o);
	debconfdb_release(&m);
	debconfdb_release(&old);
	debconfdb_release(&mid);
	return r;
}

int debconfsplit_merge(struct debconfsplit *ds, size_t pos, const char *pkg)
{
	cleanup_free char *dir = xasprintf(COPIES "/%zu", pos);
	int r = 0;
	for (size_t f = 0; f < ARRAY_SIZE(files) && !r; f++)
		r = merge_file(ds, f, pos, dir);
	if (r)
		xb_error("merging what the scripts of %s changed in the debconf database: %s", pkg,
		         strerror(-r));
	int rm = inroot_rm_rf(ds->rootfd, dir);
	return r ? r : rm;
}
