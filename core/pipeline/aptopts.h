/* aptopts: the --aptopt settings that the work xboot does natively must
 * honour, read from the options (apt.conf syntax: `Name "value";`, nested
 * `Scope { Name "value"; };`, comments; a file's contents likewise), as
 * apt would: Acquire::http::Proxy, Acquire::Check-Valid-Until,
 * Acquire::Retries (and ::Delay, ::Delay::Maximum), APT::Install-Recommends.  Everything else is only written into the
 * tree's apt configuration for later. */
#ifndef XB_APTOPTS_H
#define XB_APTOPTS_H

#include "../base/util.h"

struct aptopts {
	char *http_proxy;     /* Acquire::http::Proxy; NULL: not set */
	bool no_valid_until;  /* Acquire::Check-Valid-Until "false" */
	bool recommends;      /* APT::Install-Recommends "true" */
	long retries;         /* Acquire::Retries; -1: not set */
	bool no_retry_delay;  /* Acquire::Retries::Delay "false" */
	long retry_delay_max; /* Acquire::Retries::Delay::Maximum; -1: not set */
};

/* Reads opts (each a line of apt configuration, or a file of them) into
 * *out; the last setting of a name wins.  Never fails: what cannot be
 * parsed is apt's to complain about later. */
void aptopts_read(const struct strvec *opts, struct aptopts *out);
void aptopts_release(struct aptopts *a);

#endif
