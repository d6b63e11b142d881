/* unpacked: the second stage's side of the unpack beside it (see unpacked.h). */
#include "unpacked.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "../base/progress.h"
#include "../dpkg/unpack.h"

void unpacked_init(struct unpacked *u, int fd, size_t n)
{
	*u = (struct unpacked){ .fd = fd, .n = n, .prefix = fd < 0 ? n : 0, .all = fd < 0 };
}

int unpacked_learn(struct unpacked *u, bool block)
{
	while (unpacked_coming(u)) {
		struct pollfd p = { .fd = u->fd, .events = POLLIN };
		int n = poll(&p, 1, block ? -1 : 0);
		if (n < 0 && errno == EINTR && !xb_interrupted)
			continue;
		if (n < 0 && errno == EINTR)
			return -XB_EINTR;
		if (n <= 0)
			return 0;
		uint32_t v[64];
		ssize_t got = read(u->fd, v, sizeof(v));
		if (got < 0 && errno == EINTR)
			continue;
		/* Its writer always ends with a word of the end: none is a failure
		 * someone else reports (xboot's end takes us down as well). */
		if (got <= 0) {
			u->failed = true;
			return 0;
		}
		for (size_t i = 0; i < (size_t)got / sizeof(v[0]); i++) {
			if (v[i] == UNPACK_READY_ALL)
				u->all = true, u->prefix = u->n, u->all_ms = progress_now_ms();
			else if (v[i] == UNPACK_READY_FAILED)
				u->failed = true;
			else if (v[i] > u->prefix && v[i] <= u->n)
				u->prefix = v[i];
		}
		block = false; /* something came: take only what else is there */
	}
	return 0;
}

int unpacked_wait(struct unpacked *u, size_t want)
{
	int r = 0;
	while (!r && u->prefix < want && unpacked_coming(u))
		r = unpacked_learn(u, true);
	return r;
}

int unpacked_wait_all(struct unpacked *u)
{
	int r = 0;
	while (!r && unpacked_coming(u))
		r = unpacked_learn(u, true);
	return r;
}
