/* strbuf: the growable NUL-terminated string of the whole tree, as git's.
 *
 * An empty strbuf (STRBUF_INIT, or after strbuf_release()) points at a
 * shared static "" that is never written to, so sb.buf is always a valid
 * string and never NULL.  The owner calls strbuf_release(); a buffer taken
 * with strbuf_detach() is the caller's to free(). */
#ifndef XB_STRBUF_H
#define XB_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;    /* always NUL-terminated */
	size_t len;   /* bytes before the NUL */
	size_t alloc; /* 0: buf is the shared empty string */
};
extern char strbuf_empty[1];
#define STRBUF_INIT { strbuf_empty, 0, 0 }

void strbuf_release(struct strbuf *sb);
/* Makes room for extra more bytes (and the NUL). */
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t n);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Cuts the string to its first len bytes (len <= sb->len). */
void strbuf_setlen(struct strbuf *sb, size_t len);
static inline void strbuf_reset(struct strbuf *sb) { strbuf_setlen(sb, 0); }
/* Hands the buffer to the caller (free() it); sb is empty afterwards. */
char *strbuf_detach(struct strbuf *sb);
static inline void strbuf_releasep(struct strbuf *sb) { strbuf_release(sb); }
#define cleanup_strbuf __attribute__((cleanup(strbuf_releasep)))

#endif
