/*
 * The quarantine: per thread a FIFO ring of freed small blocks, bounded
 * in count and bytes.  A block waits there junk-filled (JUNK_FREE, with
 * the free key in its key word (tcache.h), so a second free of it is
 * caught as a double free); when it leaves, every junk byte is checked, so
 * a write after free is reported with the block's address and the offset
 * written.
 * Ring storage comes from the base allocator and is recycled at thread
 * exit through ring_pool.
 */
#include <string.h>

#include "base.h"
#include "harden.h"
#include "lock.h"
#include "msg.h"
#include "tsd.h"

#define	QUARANTINE_SLOTS	1024
#define	QUARANTINE_BYTES	((size_t)4 << 20)
#define	JUNK_CHECK_MAX		((size_t)64 << 10)

struct quarantine {
	void			*slot[QUARANTINE_SLOTS];
	size_t			 usize[QUARANTINE_SLOTS];
	unsigned		 head, len;
	size_t			 bytes;
	struct quarantine	*next;	/* in ring_pool */
};

static struct mlock	ring_lock = { PTHREAD_MUTEX_INITIALIZER, 0, 0,
			    RANK_TCACHES, false, false };
static struct quarantine *ring_pool;

void
harden_check_junk(const void *ptr, size_t usize)
{
	const uint64_t junk = 0x0101010101010101ULL * JUNK_FREE;
	const unsigned char *p = ptr;
	size_t i, n = usize < JUNK_CHECK_MAX ? usize : JUNK_CHECK_MAX;
	uint64_t w;

	/*
	 * Word by word (blocks are 16-byte aligned), then find the byte.
	 * The second word is the key word (tcache.h); the others are junk.
	 * The first word is checked apart, so that the loop has no test but
	 * its compare (with the skip inside, 1 KiB blocks took 9 instructions
	 * a word instead of 6).
	 */
	memcpy(&w, p, sizeof(w));
	if (unlikely(w != junk))
		i = 0;
	else
		for (i = 2 * sizeof(w); i + sizeof(w) <= n; i += sizeof(w)) {
			memcpy(&w, p + i, sizeof(w));
			if (unlikely(w != junk))
				break;
		}
	for (; i < n; i++)
		if (unlikely(p[i] != JUNK_FREE))
			msg_fatal("write after free of %p at offset %zu "
			    "(block of %zu bytes)", ptr, i, usize);
}

static struct quarantine *
quarantine_get(struct tsd *tsd)
{
	struct quarantine *q = tsd->quarantine;

	if (q != NULL)
		return (q);
	mlock_lock(&ring_lock);
	q = ring_pool;
	if (q != NULL)
		ring_pool = q->next;
	mlock_unlock(&ring_lock);
	if (q == NULL)
		q = base_alloc(sizeof(*q), CACHELINE);
	if (q != NULL)
		memset(q, 0, offsetof(struct quarantine, next));
	tsd->quarantine = q;
	return (q);
}

/* Takes the oldest block out of a non-empty quarantine, checked. */
static void *
quarantine_pop(struct quarantine *q)
{
	void *victim = q->slot[q->head];

	harden_check_junk(victim, q->usize[q->head]);
	q->bytes -= q->usize[q->head];
	q->head = (q->head + 1) % QUARANTINE_SLOTS;
	q->len--;
	return (victim);
}

void *
harden_quarantine(struct tsd *tsd, void *ptr, size_t usize)
{
	struct quarantine *q = quarantine_get(tsd);
	unsigned tail;

	if (q == NULL)
		return (ptr);
	tail = (q->head + q->len) % QUARANTINE_SLOTS;
	q->slot[tail] = ptr;
	q->usize[tail] = usize;
	q->len++;
	q->bytes += usize;
	if (q->len < QUARANTINE_SLOTS && q->bytes <= QUARANTINE_BYTES)
		return (NULL);
	return (quarantine_pop(q));
}

void *
harden_quarantine_drain(struct tsd *tsd)
{
	struct quarantine *q = tsd->quarantine;

	if (q == NULL)
		return (NULL);
	if (q->len == 0) {
		tsd->quarantine = NULL;
		mlock_lock(&ring_lock);
		q->next = ring_pool;
		ring_pool = q;
		mlock_unlock(&ring_lock);
		return (NULL);
	}
	return (quarantine_pop(q));
}
