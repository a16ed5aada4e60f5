/*
 * Bump allocator for metadata.  Owns its mappings; protected by base_lock.
 * Blocks are at least BASE_BLOCK bytes; memory from mmap is already zero,
 * which every caller relies on.  Resident bytes are estimated as the pages
 * the bump pointer has crossed.
 */
#include "base.h"
#include "lock.h"

#define	BASE_BLOCK	((size_t)256 << 10)

static struct mlock	base_lock;
static uintptr_t	base_cur, base_end;
static size_t		base_allocated, base_resident, base_mapped;
static enum thp_mode	base_thp;

void
base_boot(enum thp_mode metadata_thp)
{
	mlock_init(&base_lock, RANK_BASE);
	base_thp = metadata_thp;
}

void *
base_alloc(size_t size, size_t alignment)
{
	uintptr_t p;
	size_t block;
	void *m;

	size = ALIGN_UP(size, 16);
	mlock_lock(&base_lock);
	p = ALIGN_UP(base_cur, alignment);
	if (base_cur == 0 || p + size > base_end) {
		block = size > BASE_BLOCK ? PAGE_CEIL(size) : BASE_BLOCK;
		m = pages_map(NULL, block, PAGE);
		if (m == NULL) {
			mlock_unlock(&base_lock);
			return (NULL);
		}
		if (base_thp != THP_DEFAULT)
			pages_set_thp(m, block, base_thp);
		base_mapped += block;
		p = (uintptr_t)m;
		/*
		 * A block of its own (a pointer-map leaf) leaves the current
		 * block current: its free space would otherwise be dropped
		 * with its last page half used, and the next small request
		 * would map and start touching another block.
		 */
		if (block > BASE_BLOCK && base_cur != 0)
			goto out;
		base_end = p + block;
	}
	base_cur = p + size;
out:
	base_allocated += size;
	base_resident = base_mapped - (size_t)(base_end - PAGE_CEIL(base_cur));
	mlock_unlock(&base_lock);
	return ((void *)p);
}

void
base_stats(size_t *allocated, size_t *resident, size_t *mapped)
{
	mlock_lock(&base_lock);
	*allocated = base_allocated;
	*resident = base_resident;
	*mapped = base_mapped;
	mlock_unlock(&base_lock);
}

void
base_prefork(void)
{
	mlock_lock(&base_lock);
}

void
base_postfork_parent(void)
{
	mlock_unlock(&base_lock);
}

void
base_postfork_child(void)
{
	mlock_postfork_child(&base_lock);
}
