/* platforms: a multi-platform OCI image from one xboot run per platform
 * (see platforms.h). */
#include "platforms.h"

#include "../base/fileio.h"
#include "../base/progress.h"
#include "../base/spawn.h"
#include "../output/oci.h"
#include "../../emu/arch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

struct job {
	const char *arch;
	char *layout, *log;  /* WORK/ARCH.oci, WORK/ARCH.log */
	char *desc;          /* WORK/ARCH.json: its manifest's descriptor */
	char *err;           /* WORK/ARCH.err: its standard error */
	pid_t pid;           /* 0: not started, -1: done */
	long long t0;
};

static int check(const struct xb_plan *p, enum output_format *f)
{
	if (p->arch_name) {
		xb_error("--platforms and --arch cannot be used together: --platforms names each "
		         "image's architecture");
		return -XB_EUSAGE;
	}
	if (p->oci_descriptor) {
		xb_error("--platforms and --oci-descriptor cannot be used together: each platform's "
		         "run writes its own, merged into the image's index");
		return -XB_EUSAGE;
	}
	if ((p->format_name ? output_format_parse(p->format_name, f)
	                    : output_format_of_target(p->target, f)) < 0)
		return -XB_EUSAGE;
	if (*f != OUTPUT_OCI && *f != OUTPUT_OCI_TAR) {
		xb_error("--platforms makes an OCI image: TARGET NAME.oci or NAME.oci.tar");
		return -XB_EUSAGE;
	}
	if (!p->suite || strvec_has(&p->mirrors, "-")) {
		xb_error("--platforms needs SUITE, and sources that are not on standard input");
		return -XB_EUSAGE;
	}
	for (size_t i = 0; i < p->platforms.n; i++) {
		const char *a, *v;
		if (!emu_arch_find(p->platforms.v[i]) || !oci_platform(p->platforms.v[i], &a, &v)) {
			xb_error("--platforms: unknown architecture %s", p->platforms.v[i]);
			return -XB_EARCH;
		}
	}
	return 0;
}

static int start(const struct xb_plan *p, const struct strvec *args, struct job *j)
{
	cleanup_strvec struct strvec argv = STRVEC_INIT;
	struct spawn_opts o = SPAWN_OPTS_INIT;
	int status;
	strvec_push(&argv, "/proc/self/exe");
	strvec_pushv(&argv, args);
	strvec_pushf(&argv, "--arch=%s", j->arch);
	strvec_pushf(&argv, "--logfile=%s", j->log);
	strvec_pushf(&argv, "--oci-descriptor=%s", j->desc);
	strvec_pushl(&argv, "-q", "--format=oci", p->suite, j->layout, NULL);
	strvec_pushv(&argv, &p->mirrors);
	cleanup_fd int err = open(j->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (err < 0) {
		xb_error("creating %s: %s", j->err, strerror(errno));
		return -errno;
	}
	o.in_fd = -2;
	o.err_fd = err;
	j->t0 = progress_now_ms();
	xb_info("building the %s image", j->arch);
	return xb_spawn_start(argv.v, &o, &j->pid, &status);
}

/* Ends the runs still going (they are ours: their pids), and reaps them. */
static void stop_all(struct job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (jobs[i].pid > 0)
			kill(jobs[i].pid, SIGTERM);
	for (size_t i = 0; i < n; i++)
		if (jobs[i].pid > 0 && waitpid(jobs[i].pid, NULL, 0) >= 0)
			jobs[i].pid = -1;
}

/* A run that failed: what it printed, then its log kept beside TARGET. */
static void failed(const struct xb_plan *p, const struct job *j, int code)
{
	cleanup_free char *kept = xasprintf("%s.%s.log", p->target, j->arch);
	cleanup_strbuf struct strbuf err = STRBUF_INIT;
	if (xb_read_file(j->err, &err) == 0)
		fputs(err.buf, stderr);
	bool moved = rename(j->log, kept) == 0;
	xb_error("the %s image failed (exit status %d)%s%s", j->arch, code,
	         moved ? "; its log: " : "", moved ? kept : "");
}

static int run_all(const struct xb_plan *p, const struct strvec *args, struct job *jobs, size_t n)
{
	size_t next = 0, running = 0, slots = (size_t)xb_ncpus();
	int r = 0;
	while (!r && (next < n || running)) {
		while (!r && next < n && running < slots && !xb_interrupted)
			if (!(r = start(p, args, &jobs[next++])))
				running++;
		if (r || !running)
			break;
		int ws;
		pid_t pid = waitpid(-1, &ws, 0);
		if (pid < 0 && errno == EINTR)
			continue;
		for (size_t i = 0; pid > 0 && i < n; i++) {
			if (jobs[i].pid != pid)
				continue;
			jobs[i].pid = -1;
			running--;
			int code = xb_wait_code(ws);
			if (code) {
				failed(p, &jobs[i], code);
				r = code == 130 || code == 143 ? -XB_EINTR : -XB_ECHILD;
			} else {
				xb_info("the %s image is built (%.1f s)", jobs[i].arch,
				        (double)(progress_now_ms() - jobs[i].t0) / 1000.0);
			}
		}
	}
	if (!r && xb_interrupted)
		r = -XB_EINTR;
	stop_all(jobs, n);
	return r;
}

int platforms_run(struct xb_plan *p, const struct strvec *args)
{
	enum output_format f;
	int r = check(p, &f);
	if (!r)
		r = plan_read_epoch(p);
	if (r < 0)
		return r;
	cleanup_free char *work = xasprintf("%s.platforms-XXXXXX", p->target);
	if (!mkdtemp(work)) {
		xb_error("creating %s: %s", work, strerror(errno));
		return -errno;
	}
	size_t n = p->platforms.n;
	struct job *jobs = xcalloc(n, sizeof(*jobs));
	cleanup_strvec struct strvec layouts = STRVEC_INIT, descs = STRVEC_INIT;
	for (size_t i = 0; i < n; i++) {
		jobs[i].arch = p->platforms.v[i];
		jobs[i].layout = xasprintf("%s/%s.oci", work, jobs[i].arch);
		jobs[i].log = xasprintf("%s/%s.log", work, jobs[i].arch);
		jobs[i].err = xasprintf("%s/%s.err", work, jobs[i].arch);
		jobs[i].desc = xasprintf("%s/%s.json", work, jobs[i].arch);
		strvec_push(&layouts, jobs[i].layout);
		strvec_push(&descs, jobs[i].desc);
	}
	long long t0 = progress_now_ms();
	r = run_all(p, args, jobs, n);
	cleanup_free char *ref = plan_oci_ref(p);
	if (!r)
		r = oci_merge(layouts.v, descs.v, n, ref, p->target, f, p->source_date_epoch);
	if (!r)
		xb_info("%s: %s for %zu platforms ready in %.1f s", p->target, ref, n,
		        (double)(progress_now_ms() - t0) / 1000.0);
	for (size_t i = 0; i < n; i++) {
		free(jobs[i].layout);
		free(jobs[i].log);
		free(jobs[i].err);
		free(jobs[i].desc);
	}
	free(jobs);
	xb_rm_rf_at(AT_FDCWD, work);
	return r;
}
