/* driver: a main() for the fuzz targets without libFuzzer, as OSS-Fuzz's
 * StandaloneFuzzTargetMain is: each file named on the command line (or
 * each file in a directory named) is read and passed once to
 * LLVMFuzzerTestOneInput.  Built with ASan and UBSan (make fuzz-replay),
 * it replays the seed corpus and the regression inputs; a sanitizer
 * report aborts it.  Prints "NAME: N inputs" at the end. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../../core/base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static size_t runs;

static int run_file(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	int r = xb_read_file(path, &sb);
	if (r < 0) {
		fprintf(stderr, "driver: reading %s: %s\n", path, strerror(-r));
		return r;
	}
	/* An exact-size copy, so that ASan sees a read past the input. */
	size_t len = sb.len;
	uint8_t *copy = xmalloc(len ? len : 1);
	memcpy(copy, sb.buf, len);
	strbuf_release(&sb);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "driver: %s\n", path);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
	runs++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	DIR *d = opendir(path);
	if (!d) {
		fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	struct strvec names = STRVEC_INIT;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			strvec_pushf(&names, "%s/%s", path, e->d_name);
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	int r = 0;
	for (size_t i = 0; i < names.n && !r; i++)
		r = run_path(names.v[i]);
	strvec_clear(&names);
	return r;
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int r = 0;
	for (int i = 1; i < argc && !r; i++)
		r = run_path(argv[i]);
	const char *name = strrchr(argv[0], '/');
	printf("%s: %zu inputs\n", name ? name + 1 : argv[0], runs);
	return r ? 1 : 0;
}
