/* fuzz-packages: a Packages index as a mirror sends it, read as a
 * bootstrap reads it: core/pkgset/pkgscan scans the stanzas into libsolv
 * (through multiarch), resolve_packages() picks the essential and required
 * set and orders it, and what it hands on (names, versions, file names,
 * hashes, dependencies) must be what policy allows.
 *
 * Input: one byte of flags (bit 0: i386 foreign; bit 1: with it,
 * --include=libc6:i386; bit 2: Recommends too), then the Packages file. */
#include "fuzz.h"

#include "../../core/base/dpkgver.h"
#include "../../core/base/policy.h"
#include "../../core/pkgset/resolve.h"

static void check(const struct xb_pkg *pkgs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct xb_pkg *p = &pkgs[i];
		fuzz_assert(p->name && policy_package_ok(p->name, strlen(p->name)));
		fuzz_assert(p->version && dpkgver_valid(p->version) == 0);
		fuzz_assert(p->arch && policy_arch_ok(p->arch, strlen(p->arch)));
		fuzz_assert(resolve_find(pkgs, n, p->name) >= 0);
		for (size_t k = 0; k < p->n_deps; k++)
			fuzz_assert(p->deps[k] < n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The solver's time grows faster than the input. */
	if (size > (64u << 10))
		return 0;
	fuzz_quiet();
	if (!size)
		return 0;
	bool multiarch = data[0] & 1, include_foreign = multiarch && (data[0] & 2);
	fuzz_file(data + 1, size - 1);

	char *files[] = { (char *)fuzz_fd_path() };
	cleanup_strvec struct strvec select = STRVEC_INIT, foreign = STRVEC_INIT, include = STRVEC_INIT;
	strvec_pushl(&select, "essential", "required", NULL);
	strvec_push(&foreign, "i386");
	strvec_push(&include, "libc6:i386");
	struct resolve_req req = {
		.arch = "amd64",
		.foreign_archs = multiarch ? &foreign : NULL,
		.files = files,
		.n_files = 1,
		.select = &select,
		.include = include_foreign ? &include : NULL,
		.recommends = data[0] & 4,
	};
	struct xb_pkg *pkgs = NULL;
	size_t n = 0;
	if (resolve_packages(&req, &pkgs, &n) == 0)
		check(pkgs, n);
	resolve_free(pkgs, n);
	return 0;
}
