/* treecache: the configured-tree cache (see treecache.h). */
#include "treecache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aptlists.h"
#include "copy.h"
#include "../base/fileio.h"
#include "../base/hash.h"
#include "../../emu/emulator.h"

/* ---- the key ---- */

/* "label name digest" of the regular file at path, or "label text" for
 * what is not one (a hook's shell command, an option given as text). */
static void key_named(struct strbuf *k, const char *label, const char *path, const char *name)
{
	char hex[65];
	struct stat st;
	cleanup_fd int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && xb_hash_fd(XB_SHA256, fd, hex) == 0)
		strbuf_addf(k, "%s file %s %s\n", label, name, hex);
	else
		strbuf_addf(k, "%s text %zu %s\n", label, strlen(path), path);
}

static void key_file_or_text(struct strbuf *k, const char *label, const char *s)
{
	key_named(k, label, s, s);
}

/* The SHA256 that known ("SHA256 NAME" each) gives name, or NULL. */
static const char *known_sum(const struct strvec *known, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; known && i < known->n; i++) {
		const char *e = known->v[i], *sp = strchr(e, ' ');
		if (sp && sp - e == 64 && strlen(sp + 1) == n && !memcmp(sp + 1, name, n))
			return e;
	}
	return NULL;
}

/* The regular files of dir, by name (not dir's, which may be a temporary
 * one) and content; those known gives (NULL: none) by that SHA256,
 * which their fetch verified, without reading them again. */
static int key_dir(struct strbuf *k, const char *label, const char *dir,
                   const struct strvec *known)
{
	cleanup_strvec struct strvec names = STRVEC_INIT;
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			strvec_push(&names, e->d_name);
	closedir(d);
	strvec_sort(&names);
	for (size_t i = 0; i < names.n; i++) {
		const char *sum = known_sum(known, names.v[i]);
		cleanup_free char *path = xasprintf("%s/%s", dir, names.v[i]);
		if (sum)
			strbuf_addf(k, "%s file %s %.64s\n", label, names.v[i], sum);
		else
			key_named(k, label, path, names.v[i]);
	}
	return 0;
}

static void key_list(struct strbuf *k, const char *label, const struct strvec *v)
{
	for (size_t i = 0; i < v->n; i++)
		key_file_or_text(k, label, v->v[i]);
}

static void key_plan(struct strbuf *k, const struct xb_plan *p)
{
	strbuf_addf(k, "mode %d\narch %s\nvariant %s\nepoch %lld\nscript-jobs %d\n", p->mode,
	            p->arch->deb, p->variant->name, p->source_date_epoch, p->script_jobs);
	strbuf_addf(k, "merged-usr %d %d\ndev %d %d\nunlink-debs %d\n", p->tmpl.merged_usr,
	            p->no_merged_usr, p->dev_files, p->dev_nodes, p->unlink_debs);
	for (size_t i = 0; i < p->foreign_archs.n; i++)
		strbuf_addf(k, "foreign %s\n", p->foreign_archs.v[i]);
	for (size_t i = 0; i < p->include.n; i++)
		strbuf_addf(k, "include %s\n", p->include.v[i]);
	for (size_t i = 0; i < p->exclude.n; i++)
		strbuf_addf(k, "exclude %s\n", p->exclude.v[i]);
	for (size_t i = 0; i < p->skip.n; i++)
		strbuf_addf(k, "skip %s\n", p->skip.v[i]);
	for (size_t i = 0; i < p->sources.n; i++) {
		const struct fetch_source *s = &p->sources.v[i];
		strbuf_addf(k, "source %s %s", s->uri, s->suite ? s->suite : "-");
		for (size_t j = 0; j < s->components.n; j++)
			strbuf_addf(k, " %s", s->components.v[j]);
		for (size_t j = 0; j < s->options.n; j++)
			strbuf_addf(k, " [%s]", s->options.v[j]);
		strbuf_addch(k, '\n');
	}
	key_list(k, "aptopt", &p->aptopts);
	key_list(k, "dpkgopt", &p->dpkgopts);
	key_list(k, "keyring", &p->keyrings);
	key_list(k, "keyring", &p->tmpl.keyrings);
	key_list(k, "extract-hook", &p->hooks.cmds[HOOK_EXTRACT]);
	key_list(k, "essential-hook", &p->hooks.cmds[HOOK_ESSENTIAL]);
	key_file_or_text(k, "template", p->tmpl.path);
}

static int make_key(const struct run *run, char *key)
{
	const struct xb_plan *p = run->plan;
	cleanup_strbuf struct strbuf k = STRBUF_INIT;
	strbuf_addstr(&k, "xboot configured tree 1\n");
	/* xboot's version is its code: a rebuilt xboot starts afresh */
	key_file_or_text(&k, "xboot", "/proc/self/exe");
	key_plan(&k, p);
	for (size_t i = 0; i < p->hooks.dirs.n; i++)
		if (key_dir(&k, "hook-dir", p->hooks.dirs.v[i], NULL) < 0)
			return -errno;
	for (size_t i = 0; i < run->n_pkgs; i++) {
		const struct xb_pkg *x = &run->pkgs[i];
		strbuf_addf(&k, "package %s %s %s %s\n", x->name, x->version, x->arch, x->sha256);
	}
	cleanup_free char *lists = aptlists_stage_dir(run->workdir, APT_LISTS);
	if (access(lists, F_OK) == 0 && key_dir(&k, "list", lists, &run->list_sums) < 0)
		return -errno;
	if (!emu_arch_is_native(p->arch)) {
		cleanup_free char *emu = emu_emulator_path(p->arch, NULL);
		key_file_or_text(&k, "emulator", emu ? emu : "none");
	}
	xb_hash_buf(XB_SHA256, k.buf, k.len, key);
	xb_debug("configured-tree cache key %s of:\n%s", key, k.buf);
	return 0;
}

/* ---- the snapshots ---- */

/* Why a run cannot use the cache, or NULL. */
static const char *unfit(const struct run *run)
{
	const struct xb_plan *p = run->plan;
	if (p->no_tree_cache)
		return "--no-tree-cache";
	if (p->no_cache || !p->cache_dir)
		return "no cache directory";
	if (!p->variant->scripts || p->two_stage)
		return "no maintainer script runs here";
	if (hooks_any(&p->hooks, HOOK_SETUP))
		return "setup hooks wrote into the tree before it";
	if (hooks_read_host(&p->hooks, HOOK_EXTRACT) || hooks_read_host(&p->hooks, HOOK_ESSENTIAL))
		return "a hook copies host files in";
	return NULL;
}

static char *snap(const struct treecache *tc, const char *ext)
{
	return xasprintf("%s/%s.%s", tc->dir, tc->key, ext);
}

int treecache_prepare(struct treecache *tc, const struct run *run)
{
	*tc = (struct treecache){ .lock_fd = -1 };
	const char *why = unfit(run);
	if (why) {
		xb_debug("configured-tree cache not used: %s", why);
		return 0;
	}
	int r = make_key(run, tc->key);
	if (r < 0) {
		xb_error("the configured-tree cache's key: %s", strerror(-r));
		return r;
	}
	tc->dir = xasprintf("%s/trees", run->plan->cache_dir);
	cleanup_free char *lock = xasprintf("%s/.lock", tc->dir);
	if ((mkdir(tc->dir, 0755) < 0 && errno != EEXIST) ||
	    (tc->lock_fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
		xb_warn("the configured-tree cache %s: %s; not used", tc->dir, strerror(errno));
		free(xb_steal(&tc->dir));
	}
	return 0;
}

/* The snapshot's tar matches its digest file. */
static bool snapshot_whole(const struct treecache *tc)
{
	cleanup_free char *tar = snap(tc, "tar"), *sum = snap(tc, "sha256");
	cleanup_strbuf struct strbuf want = STRBUF_INIT;
	char hex[65];
	cleanup_fd int fd = open(tar, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || xb_read_file(sum, &want) < 0)
		return false;
	if (xb_hash_fd(XB_SHA256, fd, hex) == 0 && !strcmp(str_trim(want.buf), hex))
		return true;
	xb_warn("the configured-tree cache's %s does not match its digest: removed", tar);
	unlink(sum);
	unlink(tar);
	return false;
}

int treecache_restore(struct treecache *tc, const struct run *run, bool *hit)
{
	*hit = false;
	if (!tc->dir)
		return 0;
	flock(tc->lock_fd, LOCK_SH);
	cleanup_free char *tar = snap(tc, "tar");
	int r = 0;
	if ((*hit = snapshot_whole(tc))) {
		xb_info("starting from the configured-tree cache (%.12s): no unpack, no scripts",
		        tc->key);
		/* what is used is what stays: eviction takes the oldest */
		utimensat(AT_FDCWD, tar, NULL, 0);
		r = copy_tar_into_tree(run->root, tar, "/", "the configured-tree cache");
	}
	flock(tc->lock_fd, LOCK_UN);
	return r;
}

struct snapshot {
	char *name;
	time_t mtime;
	uint64_t bytes;
};

static int by_age(const void *a, const void *b)
{
	const struct snapshot *x = a, *y = b;
	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Under the exclusive lock no other run is storing: a temporary file is
 * a killed run's, a tar without its digest or a digest without its tar
 * half of a snapshot that never counted. */
static bool leftover(int dfd, const char *name)
{
	if (strstr(name, ".tmp-"))
		return true;
	const char *other = str_ends_with(name, ".tar") ? ".sha256"
	                    : str_ends_with(name, ".sha256") ? ".tar" : NULL;
	if (!other)
		return false;
	cleanup_free char *pair = xasprintf("%.*s%s", (int)(strrchr(name, '.') - name), name, other);
	return faccessat(dfd, pair, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
}

/* What killed runs left, and the oldest snapshots out until the rest fit
 * in max bytes. */
static void evict(const struct treecache *tc, uint64_t max)
{
	DIR *d = opendir(tc->dir);
	struct snapshot *s = NULL;
	size_t n = 0, alloc = 0;
	uint64_t total = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		struct stat st;
		if (e->d_name[0] != '.' && leftover(dirfd(d), e->d_name)) {
			xb_debug("configured-tree cache: removing %s/%s, a killed run's", tc->dir,
			         e->d_name);
			unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		if (!str_ends_with(e->d_name, ".tar") || fstatat(dirfd(d), e->d_name, &st, 0) < 0)
			continue;
		if (n == alloc)
			s = xrealloc(s, (alloc = alloc ? 2 * alloc : 16) * sizeof(*s));
		s[n++] = (struct snapshot){ xstrdup(e->d_name), st.st_mtime, (uint64_t)st.st_size };
		total += (uint64_t)st.st_size;
	}
	if (d)
		closedir(d);
	qsort(s, n, sizeof(*s), by_age);
	for (size_t i = 0; i < n; i++) {
		if (total > max) {
			cleanup_free char *tar = xasprintf("%s/%s", tc->dir, s[i].name);
			cleanup_free char *sum = xasprintf("%.*s.sha256", (int)strlen(tar) - 4, tar);
			xb_debug("configured-tree cache: evicting %s", tar);
			unlink(sum);
			unlink(tar);
			total -= s[i].bytes;
		}
		free(s[i].name);
	}
	free(s);
}

void treecache_store(struct treecache *tc, const struct run *run, uint64_t max)
{
	if (!tc->dir)
		return;
	cleanup_free char *tar = snap(tc, "tar"), *sum = snap(tc, "sha256");
	char hex[66];
	flock(tc->lock_fd, LOCK_EX);
	/* output_write renames a whole tar into place; the digest, last,
	 * makes it count */
	struct output_opts oo = OUTPUT_OPTS_INIT;
	oo.sha256 = hex;
	int r = output_write(run->root, tar, OUTPUT_TAR, &oo);
	if (!r) {
		strcat(hex, "\n");
		r = xb_write_file_at(AT_FDCWD, sum, hex, strlen(hex), 0644);
	}
	if (r < 0) {
		xb_warn("keeping the configured tree in %s failed: %s", tc->dir, strerror(-r));
		unlink(tar);
	} else {
		xb_info("kept the configured tree for the next run with these inputs (%.12s)", tc->key);
	}
	evict(tc, max);
	flock(tc->lock_fd, LOCK_UN);
}

void treecache_release(struct treecache *tc)
{
	if (tc->lock_fd >= 0)
		close(tc->lock_fd);
	free(tc->dir);
}
