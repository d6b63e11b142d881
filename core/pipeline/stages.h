/* stages: the stages of a bootstrap that fetch and unpack — the indices
 * of every source (with each one's own trust, apt's lists staged for the
 * hooks, --include's .debs as an index), the resolution, the download
 * into the cache and the native unpack beside it — and --print-debs'
 * output; on struct
 * run, the state of one bootstrap, which core/pipeline/bootstrap drives. */
#ifndef XB_STAGES_H
#define XB_STAGES_H

#include "aptopts.h"
#include "hooks.h"
#include "plan.h"
#include "../pkgset/resolve.h"
#include "../../fetch/cache.h"
#include "../../fetch/http.h"

/* What one stage hands the next; bootstrap_run() owns it. */
struct run {
	const struct xb_plan *plan;
	const char *root;         /* the tree being built: the target directory, or */
	char *root_owned;         /* WORKDIR/root when the target is an archive */
	char *workdir;            /* host temporary directory, removed at the end */
	struct fetch_http_opts http; /* the plan's timeouts and parallelism */
	struct fetch_sources sources; /* the plan's, and --updates' once the codename is known */
	struct strvec packages;   /* decompressed Packages files */
	struct strvec list_sums;  /* "SHA256 NAME" of the apt lists staged from them */
	struct strvec pkg_mirror; /* the mirror serving each of them */
	struct strvec pkg_suite;  /* and its suite (LOCALDEBS_SUITE for --include's .debs) */
	struct strvec pkg_offline; /* and its mirror's directory in --make-tarball's file
	                              ("" for --include's .debs) */
	struct strvec offline;    /* --make-tarball: host path, path in the tarball, ... */
	struct strvec include;    /* the plan's, and NAME=VERSION/(local) for each .deb */
	struct strvec keyrings;   /* the plan's, and those the setup hooks put in the tree */
	bool hooks_sources_list;  /* a setup hook wrote etc/apt/sources.list: it stays */
	char *log_name;           /* where the user finds the log, for messages */
	struct aptopts apt;       /* what of --aptopt the native work honours */
	struct xb_pkg *pkgs;
	size_t n_pkgs;
	struct strvec debs;       /* local path of each package's .deb */
	struct fetch_cache cache;
	FILE *log;
	struct hooks_env hooks;   /* where and how hooks run */
};

double stage_seconds_since(long long t0);

/* Each reports its errors. */
int stage_indices(struct run *run);  /* run->sources' Releases and Packages */
int stage_resolve(struct run *run);  /* run->pkgs */
int stage_open_store(struct run *run); /* run->cache: the cache, or a throwaway one */
int stage_locate(struct run *run);   /* run->debs: where each .deb is (or will be), in
                                        the store stage_open_store opened */
int stage_download(struct run *run); /* run->debs, verified (--download-only) */
int stage_fetch_one(struct run *run, size_t i); /* run->debs.v[i] now (after stage_locate) */
/* Into run->root, with --dpkgopt's filters: each .deb as soon as it is
 * whole, the download of those not cached beside the unpack. */
int stage_unpack(struct run *run);
/* The same beside the second stage: the unpack starts, the download and
 * the rest of the unpack go on in a thread of their own, then (if all went
 * well) then(ctx) there, and the second stage reads from *ready_fd (the
 * stage's, open until stage_unpack_end) how far it is, as unpack.h says.
 * stage_unpack_end waits for that thread (with stop, once its downloads
 * have stopped where they were: the second stage failed), returns its
 * result (reported there; 0 for what the stop cut short) and frees j.
 * *out is NULL after a failure (reported). */
struct stage_unpack_job;
int stage_unpack_begin(struct run *run, int (*then)(void *ctx), void *ctx,
                       struct stage_unpack_job **out, int *ready_fd);
int stage_unpack_end(struct stage_unpack_job *j, bool stop);
/* --print-debs (names on one line) and --simulate (one line each). */
int stage_print_set(const struct run *run);

#endif
