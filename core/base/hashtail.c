/* hashtail: a file's digest behind its writer (see hashtail.h). */
#include "hashtail.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

/* The reader wakes when this much more is written, and reads as much at
 * a time. */
#define TAIL_CHUNK (1u << 20)

struct hashtail {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t more;
	int fd;           /* the file, opened again for reading */
	struct xb_hash *h;
	uint64_t written; /* under mu, as what follows */
	uint64_t told;    /* written when the reader was last woken */
	bool done;
	bool stop;        /* the digest is not wanted: read no further */
	int err;          /* the reader's: -errno of a failed pread */
};

/* Reads [*off, upto) of the file into the digest. */
static int tail_read(struct hashtail *t, unsigned char *buf, uint64_t *off, uint64_t upto)
{
	while (*off < upto) {
		size_t want = upto - *off < TAIL_CHUNK ? (size_t)(upto - *off) : TAIL_CHUNK;
		ssize_t n = pread(t->fd, buf, want, (off_t)*off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO; /* shorter than what was written */
		xb_hash_update(t->h, buf, (size_t)n);
		*off += (uint64_t)n;
	}
	return 0;
}

static void *tail_main(void *arg)
{
	struct hashtail *t = arg;
	cleanup_free unsigned char *buf = xmalloc(TAIL_CHUNK);
	uint64_t off = 0;
	pthread_mutex_lock(&t->mu);
	for (;;) {
		while (!t->done && t->written - off < TAIL_CHUNK)
			pthread_cond_wait(&t->more, &t->mu);
		if (t->stop)
			break;
		uint64_t upto = t->written;
		bool last = t->done;
		pthread_mutex_unlock(&t->mu);
		int r = tail_read(t, buf, &off, upto);
		pthread_mutex_lock(&t->mu);
		if (r < 0)
			t->err = r;
		if (r < 0 || (last && off == t->written))
			break;
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

struct hashtail *hashtail_start(int fd, enum xb_hash_kind kind)
{
	struct stat st;
	/* the reader reads from offset 0 and takes each write to be at the end */
	int fl = fcntl(fd, F_GETFL);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fl < 0 || (fl & O_APPEND) ||
	    lseek(fd, 0, SEEK_CUR) != 0)
		return NULL;
	/* the writer's descriptor may be write-only (an O_TMPFILE one is) */
	cleanup_free char *proc = xasprintf("/proc/self/fd/%d", fd);
	int rfd = open(proc, O_RDONLY | O_CLOEXEC);
	if (rfd < 0)
		return NULL;
	struct hashtail *t = xcalloc(1, sizeof(*t));
	t->fd = rfd;
	t->h = xb_hash_new(kind);
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->more, NULL);
	/* signals stay the main thread's */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&t->thread, NULL, tail_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r == 0)
		return t;
	close(t->fd);
	xb_hash_free(t->h);
	pthread_cond_destroy(&t->more);
	pthread_mutex_destroy(&t->mu);
	free(t);
	return NULL;
}

void hashtail_wrote(struct hashtail *t, size_t n)
{
	pthread_mutex_lock(&t->mu);
	t->written += n;
	if (t->written - t->told >= TAIL_CHUNK) {
		t->told = t->written;
		pthread_cond_signal(&t->more);
	}
	pthread_mutex_unlock(&t->mu);
}

int hashtail_finish(struct hashtail *t, char *hex)
{
	pthread_mutex_lock(&t->mu);
	t->done = true;
	t->stop = !hex;
	pthread_cond_signal(&t->more);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thread, NULL);
	int r = hex ? t->err : 0;
	if (hex && !r)
		xb_hash_final_hex(t->h, hex);
	else
		xb_hash_free(t->h);
	close(t->fd);
	pthread_cond_destroy(&t->more);
	pthread_mutex_destroy(&t->mu);
	free(t);
	return r;
}
