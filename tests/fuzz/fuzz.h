/* fuzz.h: what the fuzz targets share — quiet messages, the input as a
 * NUL-terminated copy or as a file (a memfd, named /proc/self/fd/N, so
 * that nothing is written to disk per input), and one private temporary
 * directory per process, removed at exit.
 *
 * Each tests/fuzz/fuzz-NAME.c defines LLVMFuzzerTestOneInput; it is built
 * either with clang's libFuzzer (make fuzz) or with tests/fuzz/driver.c,
 * which replays files (make fuzz-replay).  A target frees all it
 * allocates and aborts (fuzz_assert) when a property of the parser does
 * not hold, so that the fuzzer keeps the input. */
#ifndef XB_FUZZ_H
#define XB_FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>

#include "../../core/base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_assert(cond)                                                           \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__, \
			        __LINE__, #cond);                                   \
			abort();                                                    \
		}                                                                   \
	} while (0)

/* Inputs larger than this are passed over: the parsers' caps are tested by
 * the unit tests, and a fuzzer's time is better spent on many small ones. */
#define FUZZ_MAX_INPUT (256u << 10)

/* Once per process: no message on stderr (they are still formatted). */
static inline void fuzz_quiet(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	xb_verbosity = 0;
	xb_mute_errors(true);
}

/* A NUL-terminated copy of the input; free() it. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The process's memfd, holding exactly data[0..size) and its offset at 0;
 * its name is fuzz_fd_path(). */
static int fuzz_fd = -1;
static char fuzz_fd_name[64];

static inline int fuzz_file(const uint8_t *data, size_t size)
{
	if (fuzz_fd < 0) {
		fuzz_fd = memfd_create("fuzz-input", MFD_CLOEXEC);
		if (fuzz_fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(fuzz_fd_name, sizeof(fuzz_fd_name), "/proc/self/fd/%d", fuzz_fd);
	}
	/* From offset 0: a write at the offset the last reader left would put
	 * a hole before the data. */
	if (ftruncate(fuzz_fd, 0) < 0 || lseek(fuzz_fd, 0, SEEK_SET) != 0 ||
	    (size && xb_write_all(fuzz_fd, data, size) < 0) || lseek(fuzz_fd, 0, SEEK_SET) != 0) {
		perror("writing the fuzz input");
		abort();
	}
	return fuzz_fd;
}

static inline const char *fuzz_fd_path(void) { return fuzz_fd_name; }

/* A private directory under $TMPDIR (or /tmp), made on first use and
 * removed with everything in it when the process exits. */
static char *fuzz_dir_path;

static void fuzz_dir_remove(void)
{
	if (fuzz_dir_path)
		xb_rm_rf_at(AT_FDCWD, fuzz_dir_path);
	free(fuzz_dir_path);
	fuzz_dir_path = NULL;
}

static inline const char *fuzz_dir(void)
{
	if (fuzz_dir_path)
		return fuzz_dir_path;
	const char *t = getenv("TMPDIR");
	fuzz_dir_path = xasprintf("%s/xboot-fuzz.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(fuzz_dir_path)) {
		perror(fuzz_dir_path);
		abort();
	}
	atexit(fuzz_dir_remove);
	return fuzz_dir_path;
}

#endif
