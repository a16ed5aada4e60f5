/*
 * The page provider: the only module that makes VM system calls.  The rest
 * of the allocator reaches it through the default extent hooks (hooks.c),
 * and the base allocator for metadata.
 */
#ifndef MALLOC_PAGES_H
#define	MALLOC_PAGES_H

#include "compat.h"

enum thp_mode { THP_DEFAULT, THP_ALWAYS, THP_NEVER };

void	 pages_boot(void);
/* Maps size bytes aligned to alignment (a multiple of PAGE), or NULL. */
void	*pages_map(void *hint, size_t size, size_t alignment);
void	 pages_unmap(void *addr, size_t size);
/* Purges return false on success, as extent hooks do. */
bool	 pages_purge_lazy(void *addr, size_t size);
bool	 pages_purge_forced(void *addr, size_t size);
bool	 pages_commit(void *addr, size_t size);
bool	 pages_decommit(void *addr, size_t size);
void	 pages_set_thp(void *addr, size_t size, enum thp_mode mode);
/* Prefers node for the pages' backing memory (numa:true); best effort. */
void	 pages_bind_node(void *addr, size_t size, unsigned node);
/*
 * Moves a whole page run to a mapping of new_size (larger), keeping its
 * contents without copying them; the old range is unmapped.  NULL where
 * unsupported (Linux only) or on failure.
 */
void	*pages_remap(void *addr, size_t old_size, size_t new_size);
/*
 * Moves the pages of [addr, addr + size) to dest, without copying them,
 * in place of what was mapped there (whose pages the kernel frees); the
 * old range is unmapped.  Linux only (pages_can_move).  Where the kernel
 * refuses (a range over more than one mapping before Linux 6.17), the
 * source is as it was and dest's first size bytes are mapped afresh
 * (their contents gone, nothing resident), or, if that fails, unmapped.
 * Torn: the kernel moved part of a range over several mappings and
 * failed; the block is in two pieces.
 */
enum pages_move_result {
	PAGES_MOVED,
	PAGES_NOT_MOVED,
	PAGES_DEST_LOST,
	PAGES_MOVE_TORN,
};
enum pages_move_result	pages_move(void *addr, size_t size, void *dest);
/* Guard pages (harden:true): no access at all, and back. */
void	 pages_guard(void *addr, size_t size);
void	 pages_unguard(void *addr, size_t size);
/* Whether pages_move can move pages (Linux). */
extern const bool	pages_can_move;
/* Whether MADV_FREE works here; without it lazy purges are forced ones. */
extern bool	pages_can_purge_lazy;
/* Whether purged pages read back as zeros (MADV_DONTNEED on Linux). */
extern bool	pages_purge_forced_zeroes;

#endif /* !MALLOC_PAGES_H */
