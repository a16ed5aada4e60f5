/*
 * Opt-in hardening (harden:true): a quarantine that delays the reuse of
 * freed small blocks, checks that a freed block was not written to while
 * it waited, guard pages after large blocks, and randomised region order
 * within slabs (arena.c).  Everything here runs on slow paths: the mode
 * routes every malloc and free there (tsd_update_event, tcache high).
 */
#ifndef MALLOC_HARDEN_H
#define	MALLOC_HARDEN_H

#include "compat.h"
#include "tcache.h"

#define	JUNK_ALLOC	0xa5
#define	JUNK_FREE	0x5a

struct tsd;

/* free_key and the words it lives in: tcache.h. */

/*
 * Puts a freed, junk-filled block into the thread's quarantine; returns
 * the block it evicts (oldest first, once the quarantine holds more than
 * its bound), already checked, or NULL.
 */
void	*harden_quarantine(struct tsd *tsd, void *ptr, size_t usize);
/*
 * Takes the oldest block out of the thread's quarantine, checked, or
 * returns NULL once it is empty (and gives the ring back): thread exit.
 */
void	*harden_quarantine_drain(struct tsd *tsd);
/* Aborts if a freed block's junk (all but its key word) was modified. */
void	 harden_check_junk(const void *ptr, size_t usize);

#endif /* !MALLOC_HARDEN_H */
