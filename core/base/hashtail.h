/* hashtail: the digest of a file while it is written, taken by a thread
 * of its own that reads the file (from the page cache) behind the writer.
 * The writer's thread then only writes: for the configured-tree cache's
 * snapshot, 120 to 700 MB, the SHA256 no longer adds its time to the
 * run's. */
#ifndef XB_HASHTAIL_H
#define XB_HASHTAIL_H

#include "hash.h"

struct hashtail;

/* Starts the digest of what is written to fd from offset 0 on, in order.
 * NULL where it cannot follow fd (not a regular file, not at offset 0,
 * O_APPEND, no thread): the caller hashes what it writes itself. */
struct hashtail *hashtail_start(int fd, enum xb_hash_kind kind);
/* n more bytes are at the end of fd. */
void hashtail_wrote(struct hashtail *t, size_t n);
/* Waits for the digest of all that was written, into hex (as
 * xb_hash_final_hex; NULL: not wanted, the writing failed: the reader
 * stops where it is), and frees t. 0, or -errno when reading the file
 * back failed, which the caller reports, knowing the file's name. */
int hashtail_finish(struct hashtail *t, char *hex);

#endif
