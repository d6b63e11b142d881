/* fuzz-deb: any bytes as a .deb (an ar archive of debian-binary,
 * control.tar* and data.tar*), read by core/dpkg/debfile as it is before
 * extraction (see fuzz-deb.h): the members' order, the control members,
 * the control file's checks, data.tar's headers. */
#include "fuzz-deb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	fuzz_quiet();
	fuzz_file(data, size);
	fuzz_read_deb(true);
	return 0;
}
