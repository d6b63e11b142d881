/* oci: an OCI image of the tree, built as a layout in a temporary
 * directory beside TARGET and put in place at the end (see oci.h). */
#include "oci.h"

#include <archive.h>
#include <dirent.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "../base/fileio.h"
#include "../base/hash.h"
#include "../base/inroot.h"
#include "../base/strbuf.h"

static const struct {
	const char *deb, *arch, *variant;
} platforms[] = {
	{ "amd64", "amd64", NULL },      { "arm64", "arm64", "v8" },
	{ "armhf", "arm", "v7" },        { "armel", "arm", "v5" },
	{ "i386", "386", NULL },         { "ppc64el", "ppc64le", NULL },
	{ "riscv64", "riscv64", NULL },  { "s390x", "s390x", NULL },
	{ "mips64el", "mips64le", NULL }, { "mipsel", "mipsle", NULL },
};

bool oci_platform(const char *deb_arch, const char **arch, const char **variant)
{
	for (size_t i = 0; deb_arch && i < ARRAY_SIZE(platforms); i++) {
		if (!strcmp(platforms[i].deb, deb_arch)) {
			*arch = platforms[i].arch;
			*variant = platforms[i].variant;
			return true;
		}
	}
	return false;
}

struct blob {
	char digest[65];
	uint64_t size;
};

static void json_str(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			strbuf_addf(sb, "\\%c", c);
		else if (c < 0x20)
			strbuf_addf(sb, "\\u%04x", c);
		else
			strbuf_addch(sb, (char)c);
	}
	strbuf_addch(sb, '"');
}

/* data as the blob it is: blobs/sha256/DIGEST of the layout. */
static int put_blob(int dirfd, const struct strbuf *data, struct blob *b)
{
	xb_hash_buf(XB_SHA256, data->buf, data->len, b->digest);
	b->size = data->len;
	cleanup_free char *path = xasprintf("blobs/sha256/%s", b->digest);
	int r = xb_write_file_at(dirfd, path, data->buf, data->len, 0644);
	if (r)
		xb_error("writing the image's %s: %s", path, strerror(-r));
	return r;
}

/* The gzip stream, hashed and counted on its way to the file. */
struct gz {
	int fd;
	struct xb_hash *h;
	uint64_t size;
	int err;
};

static la_ssize_t gz_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
	struct gz *g = ctx;
	(void)a;
	int r = xb_write_all(g->fd, buf, n);
	if (r < 0) {
		g->err = -r;
		return -1;
	}
	xb_hash_update(g->h, buf, n);
	g->size += n;
	return (la_ssize_t)n;
}

/* gzip of the tar at in into out (no time in its header), the tar's
 * digest (the layer's diff_id) and the blob's from the same read. */
static int gzip_layer(int in, int out, char *diff_id, struct blob *b)
{
	struct gz g = { out, xb_hash_new(XB_SHA256), 0, 0 };
	struct xb_hash *plain = xb_hash_new(XB_SHA256);
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	cleanup_free char *buf = xmalloc(1 << 16);
	struct stat st;
	int r = fstat(in, &st) < 0 ? -errno : 0;

	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, r ? 0 : st.st_size);
	if (!r && (archive_write_set_format_raw(a) != ARCHIVE_OK ||
	           archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	           archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	           archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	           archive_write_open(a, &g, NULL, gz_write, NULL) != ARCHIVE_OK ||
	           archive_write_header(a, e) != ARCHIVE_OK))
		r = -EIO;
	for (ssize_t n; !r && (n = read(in, buf, 1 << 16)) != 0;) {
		if (n < 0)
			r = -errno;
		else if (archive_write_data(a, buf, (size_t)n) != n)
			r = -EIO;
		else
			xb_hash_update(plain, buf, (size_t)n);
	}
	if (archive_write_close(a) != ARCHIVE_OK && !r)
		r = -EIO;
	if (r == -EIO && g.err)
		r = -g.err;
	if (r == -EIO)
		xb_error("compressing the image's layer: %s", archive_error_string(a));
	else if (r)
		xb_error("compressing the image's layer: %s", strerror(-r));
	archive_entry_free(e);
	archive_write_free(a);
	xb_hash_final_hex(plain, diff_id);
	xb_hash_final_hex(g.h, b->digest);
	b->size = g.size;
	return r;
}

/* The layer: the tree as output's tar, then gzip'd into its blob. */
static int make_layer(const char *rootdir, int dirfd, const char *dir, const struct output_opts *o,
                      char *diff_id, struct blob *layer)
{
	struct output_opts to = *o;
	cleanup_free char *tar = xasprintf("%s/layer.tar", dir);
	to.oci = NULL;
	int r = output_write(rootdir, tar, OUTPUT_TAR, &to);
	if (r < 0)
		return r;
	cleanup_fd int in = open(tar, O_RDONLY | O_CLOEXEC);
	cleanup_fd int out = openat(dirfd, "layer.gz", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (in < 0 || out < 0) {
		r = -errno;
		xb_error("writing the image's layer in %s: %s", dir, strerror(-r));
	} else {
		r = gzip_layer(in, out, diff_id, layer);
	}
	unlink(tar);
	cleanup_free char *name = xasprintf("blobs/sha256/%s", layer->digest);
	if (!r && renameat(dirfd, "layer.gz", dirfd, name) < 0) {
		r = -errno;
		xb_error("writing the image's %s: %s", name, strerror(-r));
	}
	return r;
}

/* The default command: root's login shell in the tree, else /bin/sh. */
static char *login_shell(const char *rootdir)
{
	cleanup_fd int rootfd = open(rootdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_strbuf struct strbuf pw = STRBUF_INIT;
	if (rootfd >= 0 && inroot_read_file(rootfd, "etc/passwd", 1 << 20, &pw) == 0) {
		for (char *line = pw.buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			if ((nl = strchr(line, '\n')))
				*nl = '\0';
			char *shell = strrchr(line, ':');
			if (!strncmp(line, "root:", 5) && shell && shell[1] == '/')
				return xstrdup(shell + 1);
		}
	}
	return xstrdup("/bin/sh");
}

static void rfc3339(long long epoch, char *out, size_t len)
{
	time_t t = epoch >= 0 ? (time_t)epoch : time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void config_json(const char *rootdir, const struct output_opts *o, const char *diff_id,
                        struct strbuf *sb)
{
	const char *arch = "", *variant = NULL;
	char created[32];
	cleanup_free char *shell = login_shell(rootdir);
	oci_platform(o->oci->deb_arch, &arch, &variant);
	rfc3339(o->source_date_epoch, created, sizeof(created));
	strbuf_addstr(sb, "{\"architecture\":");
	json_str(sb, arch);
	if (variant) {
		strbuf_addstr(sb, ",\"variant\":");
		json_str(sb, variant);
	}
	strbuf_addf(sb, ",\"os\":\"linux\",\"created\":\"%s\",\"config\":{\"Env\":[\"PATH=/usr/"
	            "local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[", created);
	json_str(sb, shell);
	strbuf_addf(sb, "]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]},"
	            "\"history\":[{\"created\":\"%s\",\"created_by\":\"xboot " XB_VERSION "\"}]}",
	            diff_id, created);
}

static void manifest_json(const struct blob *config, const struct blob *layer, struct strbuf *sb)
{
	strbuf_addf(sb, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1"
	            "+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
	            "\"digest\":\"sha256:%s\",\"size\":%llu},\"layers\":[{\"mediaType\":\"application"
	            "/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:%s\",\"size\":%llu}]}",
	            config->digest, (unsigned long long)config->size, layer->digest,
	            (unsigned long long)layer->size);
}

/* The manifest's descriptor as an index lists it, without its closing
 * brace (an index adds the annotations). */
static void descriptor_open(const char *deb_arch, const struct blob *manifest, struct strbuf *sb)
{
	const char *arch = "", *variant = NULL;
	oci_platform(deb_arch, &arch, &variant);
	strbuf_addf(sb, "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	            "\"digest\":\"sha256:%s\",\"size\":%llu,\"platform\":{\"architecture\":",
	            manifest->digest, (unsigned long long)manifest->size);
	json_str(sb, arch);
	strbuf_addstr(sb, ",\"os\":\"linux\"");
	if (variant) {
		strbuf_addstr(sb, ",\"variant\":");
		json_str(sb, variant);
	}
	strbuf_addch(sb, '}');
}
static void index_json(const struct output_opts *o, const struct blob *manifest, struct strbuf *sb)
{
	strbuf_addstr(sb, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json"
	              "\",\"manifests\":[");
	descriptor_open(o->oci->deb_arch, manifest, sb);
	strbuf_addstr(sb, ",\"annotations\":{\"org.opencontainers.image.ref.name\":");
	json_str(sb, o->oci->ref);
	strbuf_addstr(sb, "}}]}");
}
/* --oci-descriptor's file. */
static int write_descriptor(const struct output_opts *o, const struct blob *manifest)
{
	cleanup_strbuf struct strbuf sb = STRBUF_INIT;
	descriptor_open(o->oci->deb_arch, manifest, &sb);
	strbuf_addch(&sb, '}');
	int r = xb_write_file_at(AT_FDCWD, o->oci->descriptor, sb.buf, sb.len, 0644);
	if (r)
		xb_error("writing %s: %s", o->oci->descriptor, strerror(-r));
	return r;
}
static int write_index(int dirfd, const char *dir, const struct strbuf *index)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	int r = xb_write_file_at(dirfd, "oci-layout", layout, sizeof(layout) - 1, 0644);
	if (!r)
		r = xb_write_file_at(dirfd, "index.json", index->buf, index->len, 0644);
	if (r)
		xb_error("writing %s/index.json: %s", dir, strerror(-r));
	return r;
}

/* The whole layout into dir. */
static int make_layout(const char *rootdir, const char *dir, const struct output_opts *o)
{
	cleanup_fd int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_strbuf struct strbuf config = STRBUF_INIT, manifest = STRBUF_INIT;
	cleanup_strbuf struct strbuf index = STRBUF_INIT;
	struct blob layer, cfg, man;
	char diff_id[65];
	int r = dirfd < 0 ? -errno : inroot_mkdir_p(dirfd, "blobs/sha256", 0755);

	if (r) {
		xb_error("writing %s/blobs/sha256: %s", dir, strerror(-r));
		return r;
	}
	if ((r = make_layer(rootdir, dirfd, dir, o, diff_id, &layer)) < 0)
		return r;
	config_json(rootdir, o, diff_id, &config);
	if ((r = put_blob(dirfd, &config, &cfg)) < 0)
		return r;
	manifest_json(&cfg, &layer, &manifest);
	if ((r = put_blob(dirfd, &manifest, &man)) < 0)
		return r;
	if (o->oci->descriptor && (r = write_descriptor(o, &man)) < 0)
		return r;
	index_json(o, &man, &index);
	return write_index(dirfd, dir, &index);
}

/* The layout directory into target's place: a layout there before is
 * replaced, anything else is left alone. */
static int put_layout(const char *dir, const char *target)
{
	cleanup_free char *mark = xasprintf("%s/oci-layout", target);
	struct stat st;
	if (lstat(target, &st) < 0) {
		if (rename(dir, target) == 0)
			return 0;
		xb_error("renaming %s to %s: %s", dir, target, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || access(mark, F_OK) < 0) {
		xb_error("writing %s: it exists and is no OCI image layout", target);
		return -EEXIST;
	}
	/* The old layout goes only once the new one holds its name: an
	 * exchange, so that no failure leaves the user without either. */
	int e = renameat2(AT_FDCWD, dir, AT_FDCWD, target, RENAME_EXCHANGE) < 0 ? errno : 0;
	bool no_exchange = e == EINVAL || e == ENOSYS || e == EOPNOTSUPP;
	if (e && !no_exchange) {
		xb_error("replacing %s with %s: %s", target, dir, strerror(e));
		return -e;
	}
	if (no_exchange) {
		/* no exchange on this file system, as on NFS and some FUSE: the old one
		 * aside, the new one in, the old one back if that fails */
		cleanup_free char *aside = xasprintf("%s.old", dir);
		if (rename(target, aside) < 0 || rename(dir, target) < 0) {
			e = errno;
			rename(aside, target);
			xb_error("replacing %s with %s: %s", target, dir, strerror(e));
			return -e;
		}
		rename(aside, dir);
	}
	int r = xb_rm_rf_at(AT_FDCWD, dir);
	if (r < 0)
		xb_warn("removing the earlier image layout, now at %s: %s", dir, strerror(-r));
	return 0;
}

static int finish_layout(const char *dir, const char *target, enum output_format f,
                         long long epoch, int r);

int oci_write(const char *rootdir, const char *target, enum output_format f,
              const struct output_opts *o)
{
	const char *arch, *variant;
	if (!o->oci || !oci_platform(o->oci->deb_arch, &arch, &variant)) {
		xb_error("writing %s: no OCI platform for this architecture", target);
		return -EINVAL;
	}
	cleanup_free char *dir = xasprintf("%s.tmp-XXXXXX", target);
	if (!mkdtemp(dir)) {
		xb_error("writing %s: creating %s: %s", target, dir, strerror(errno));
		return -errno;
	}
	chmod(dir, 0755);
	int r = make_layout(rootdir, dir, o);
	return finish_layout(dir, target, f, o->source_date_epoch, r);
}

/* The layout at dir (made with result r) into target's place as f. */
static int finish_layout(const char *dir, const char *target, enum output_format f,
                         long long epoch, int r)
{
	if (!r && f == OUTPUT_OCI_TAR) {
		struct output_opts to = OUTPUT_OPTS_INIT;
		to.source_date_epoch = epoch;
		r = output_write(dir, target, OUTPUT_TAR, &to);
	} else if (!r) {
		r = put_layout(dir, target);
	}
	if (r || f == OUTPUT_OCI_TAR)
		xb_rm_rf_at(AT_FDCWD, dir);
	return r;
}

/* Moves the blobs of layout into dir's. */
static int move_blobs(const char *layout, const char *dir)
{
	cleanup_free char *from = xasprintf("%s/blobs/sha256", layout);
	DIR *d = opendir(from);
	int r = d ? 0 : -errno;
	for (struct dirent *e; d && !r && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		cleanup_free char *src = xasprintf("%s/%s", from, e->d_name);
		cleanup_free char *dst = xasprintf("%s/blobs/sha256/%s", dir, e->d_name);
		if (rename(src, dst) < 0)
			r = -errno;
	}
	if (d)
		closedir(d);
	if (r)
		xb_error("moving the blobs of %s: %s", layout, strerror(-r));
	return r;
}

int oci_merge(char *const *layouts, char *const *descriptors, size_t n, const char *ref,
              const char *target, enum output_format f, long long source_date_epoch)
{
	cleanup_free char *dir = xasprintf("%s.tmp-XXXXXX", target);
	cleanup_strbuf struct strbuf list = STRBUF_INIT, index = STRBUF_INIT;
	struct blob inner;
	if (!mkdtemp(dir)) {
		xb_error("writing %s: creating %s: %s", target, dir, strerror(errno));
		return -errno;
	}
	chmod(dir, 0755);
	cleanup_fd int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = dirfd < 0 ? -errno : inroot_mkdir_p(dirfd, "blobs/sha256", 0755);
	if (r)
		xb_error("writing %s/blobs/sha256: %s", dir, strerror(-r));
	strbuf_addstr(&list, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index."
	              "v1+json\",\"manifests\":[");
	for (size_t i = 0; !r && i < n; i++) {
		if (i)
			strbuf_addch(&list, ',');
		if ((r = xb_read_file(descriptors[i], &list)) < 0)
			xb_error("reading %s: %s", descriptors[i], strerror(-r));
		else
			r = move_blobs(layouts[i], dir);
	}
	strbuf_addstr(&list, "]}");
	if (!r)
		r = put_blob(dirfd, &list, &inner);
	if (!r) {
		strbuf_addf(&index, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image."
		            "index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci."
		            "image.index.v1+json\",\"digest\":\"sha256:%s\",\"size\":%llu,"
		            "\"annotations\":{\"org.opencontainers.image.ref.name\":", inner.digest,
		            (unsigned long long)inner.size);
		json_str(&index, ref);
		strbuf_addstr(&index, "}}]}");
		r = write_index(dirfd, dir, &index);
	}
	return finish_layout(dir, target, f, source_date_epoch, r);
}
