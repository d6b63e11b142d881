/* fileio: whole files and directory trees, relative to a directory fd (or
 * AT_FDCWD).  None of these report: they return 0 or -errno, and the
 * caller, who knows what the file is for, says what failed. */
#ifndef XB_FILEIO_H
#define XB_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

struct strbuf;

/* Reads all of fd, or of path (relative to dirfd), appending to sb.
 * xb_read_file_at() does not follow a symlink in path's last component. */
int xb_read_fd(int fd, struct strbuf *sb);
/* xb_read_fd(), but -EFBIG (sb holding the first max bytes) when fd has
 * more than max bytes. */
int xb_read_fd_max(int fd, size_t max, struct strbuf *sb);
int xb_read_file(const char *path, struct strbuf *sb);
int xb_read_file_at(int dirfd, const char *path, struct strbuf *sb);
/* Writes data to dirfd/path atomically: a temporary name in the same
 * directory, renamed over path (no fsync: a bootstrap is redone, not
 * recovered). */
int xb_write_file_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode);
int xb_write_all(int fd, const void *data, size_t len);
/* The target of the symlink dirfd/path, appended to sb. */
int xb_readlink_at(int dirfd, const char *path, struct strbuf *sb);
/* mkdir -p relative to dirfd. */
int xb_mkdir_p_at(int dirfd, const char *path, mode_t mode);
/* Copies the regular file open at in (from its start) to out.  0 or -errno. */
int xb_copy_fd(int in, int out);
/* dst (which must not exist) as a hard link to src, or where the two are
 * on different file systems a copy (mode 0644).  Returns 0 or -errno. */
int xb_link_or_copy(const char *src, const char *dst);
/* dst (which must not exist) as a copy of src, mode 0644.  0 or -errno. */
int xb_copy_file(const char *src, const char *dst);
/* rm -rf of dirfd/path, never crossing into other file systems. */
int xb_rm_rf_at(int dirfd, const char *path);

#endif
