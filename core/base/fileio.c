/* fileio: whole files and trees relative to a directory fd (see fileio.h). */
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"
#include "util.h"

int xb_read_fd_max(int fd, size_t max, struct strbuf *sb)
{
	for (size_t got = 0;;) {
		strbuf_grow(sb, 65536);
		size_t room = sb->alloc - sb->len - 1;
		ssize_t n = read(fd, sb->buf + sb->len, room < max - got + 1 ? room : max - got + 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		if ((got += (size_t)n) > max)
			return -EFBIG;
		sb->len += (size_t)n;
		sb->buf[sb->len] = '\0';
	}
}

int xb_read_fd(int fd, struct strbuf *sb)
{
	return xb_read_fd_max(fd, SIZE_MAX - 1, sb);
}

int xb_read_file_at(int dirfd, const char *path, struct strbuf *sb)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	int r = xb_read_fd(fd, sb);
	close(fd);
	return r;
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

int xb_readlink_at(int dirfd, const char *path, struct strbuf *sb)
{
	for (size_t size = 256;; size *= 2) {
		strbuf_grow(sb, size);
		ssize_t n = readlinkat(dirfd, path, sb->buf + sb->len, size);
		if (n < 0)
			return -errno;
		if ((size_t)n < size) {
			sb->len += (size_t)n;
			sb->buf[sb->len] = '\0';
			return 0;
		}
	}
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

int xb_copy_fd(int in, int out)
{
	struct stat st;
	if (fstat(in, &st) < 0)
		return -errno;
	off_t left = st.st_size;
	while (left > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
		if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP ||
		              errno == ENOSYS) && left == st.st_size)
			break; /* across file systems of other kinds: read and write */
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		left -= n;
	}
	char buf[65536];
	for (ssize_t n; left > 0; left -= n) {
		if ((n = read(in, buf, sizeof(buf))) <= 0)
			return n < 0 ? -errno : -EIO;
		int r = xb_write_all(out, buf, (size_t)n);
		if (r < 0)
			return r;
	}
	return 0;
}

int xb_link_or_copy(const char *src, const char *dst)
{
	if (link(src, dst) == 0)
		return 0;
	if (errno != EXDEV && errno != EPERM)
		return -errno;
	return xb_copy_file(src, dst);
}

int xb_copy_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = in < 0 ? -1 : open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int r = out < 0 ? -errno : xb_copy_fd(in, out);
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && !r)
		r = -errno;
	if (r < 0 && out >= 0)
		unlink(dst);
	return r;
}
