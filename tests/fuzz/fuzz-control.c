/* fuzz-control: any bytes as the control.tar of a .deb (plain, or
 * compressed by any filter libarchive knows), wrapped here into an ar
 * archive after a good debian-binary and before an empty data.tar, and
 * read by core/dpkg/debfile and debinfo (see fuzz-deb.h): the members,
 * the caps on them, the control file, conffiles. */
#include "fuzz-deb.h"

/* An ar member: the 60-byte header, the data, a pad byte to an even
 * offset. */
static void ar_member(struct strbuf *ar, const char *name, const void *data, size_t len)
{
	char hdr[61];
	snprintf(hdr, sizeof(hdr), "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", name, "0", "0", "0", "100644",
	         len);
	strbuf_add(ar, hdr, 60);
	strbuf_add(ar, data, len);
	if (len & 1)
		strbuf_addch(ar, '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_MAX_INPUT)
		return 0;
	fuzz_quiet();
	cleanup_strbuf struct strbuf ar = STRBUF_INIT;
	strbuf_addstr(&ar, "!<arch>\n");
	ar_member(&ar, "debian-binary", "2.0\n", 4);
	ar_member(&ar, "control.tar", data, size);
	ar_member(&ar, "data.tar", "", 0);
	fuzz_file((const uint8_t *)ar.buf, ar.len);
	fuzz_read_deb(false);
	return 0;
}
