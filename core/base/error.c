/* error: error strings and the one-line messages (see error.h). */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include "strbuf.h"

int xb_verbosity = 1;
volatile int xb_interrupted;
static FILE *xb_log;
/* Errors shown, by this process and by the children it forks after
 * xb_error_init(): one page they share. */
static unsigned local_count;
static unsigned *shown_count = &local_count;

void xb_error_init(void)
{
	void *p = mmap(NULL, sizeof(unsigned), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	               -1, 0);
	if (p != MAP_FAILED)
		shown_count = p;
}

unsigned xb_errors_shown(void) { return __atomic_load_n(shown_count, __ATOMIC_RELAXED); }

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
static int muted;
void xb_mute_errors(bool on) { muted += on ? 1 : -1; }

static bool count_shown(void)
{
	if (muted)
		return false;
	__atomic_add_fetch(shown_count, 1, __ATOMIC_RELAXED);
	return true;
}

DEFINE_MSG(xb_error, "xboot: error: ", count_shown())
DEFINE_MSG(xb_warn, "xboot: warning: ", xb_verbosity >= 1)
DEFINE_MSG(xb_info, "xboot: ", xb_verbosity >= 1)
DEFINE_MSG(xb_debug, "xboot: ", xb_verbosity >= 2)
