/* gpgv: the trust decision on a suite's Release, as apt makes it: the
 * clearsign frame of an InRelease (nothing before or after the signed
 * block), gpgv run with --status-fd on an empty GnuPG home with only the
 * given keyrings (armored ones converted), and its verdict judged: at
 * least one good signature by a valid key of the keyrings, and none bad.
 * Work files go to STEM* in the work directory (the GnuPG home is removed
 * after each check). */
#ifndef XB_FETCH_GPGV_H
#define XB_FETCH_GPGV_H

#include "../core/base/util.h"

struct fetch_gpgv {
	const struct strvec *keyrings; /* files passed to gpgv --keyring */
	const char *stem;              /* prefix of the work files */
};

/* Whether text is a clearsigned message at all. */
bool fetch_gpgv_is_clearsigned(const char *text, size_t len);
/* -XB_EBADSIG, reported naming url, unless text is exactly one
 * clearsigned message. */
int fetch_gpgv_check_frame(const char *text, size_t len, const char *url);
/* The signed text of a clearsigned message, armor headers dropped and
 * dash escapes undone, appended to out: only for --no-check-sig, where
 * gpgv does not write it. */
void fetch_gpgv_strip(const char *text, size_t len, struct strbuf *out);
/* Verifies sig (an InRelease, or Release.gpg of the file data); with
 * output, the signed text is written there.  Every refusal is reported
 * once naming url: -XB_EBADSIG, or -XB_ECHILD when gpgv cannot run. */
int fetch_gpgv_verify(const struct fetch_gpgv *g, const char *url, const char *sig,
                      const char *data, const char *output);

#endif
