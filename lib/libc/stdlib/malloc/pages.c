/*
 * The page provider.  Everything that asks the kernel for address space or
 * gives pages back goes through here; it probes the kernel once at boot and
 * falls back cleanly (no MADV_FREE: MADV_DONTNEED).
 *
 * Linux: mmap/munmap, madvise FREE, DONTNEED, HUGEPAGE, NOHUGEPAGE.
 * FreeBSD: MAP_ALIGNED_SUPER for superpage-sized mappings, MAP_EXCL.
 */
#ifdef __linux__
#define	_GNU_SOURCE		/* mremap */
#endif
#include <sys/mman.h>
#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include <errno.h>

#include "pages.h"

#ifdef __linux__
const bool	pages_can_move = true;
#else
const bool	pages_can_move = false;
#endif
bool	pages_can_purge_lazy;
bool	pages_purge_forced_zeroes;

void
pages_boot(void)
{
#ifdef MADV_FREE
	void *p;

	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		pages_can_purge_lazy = madvise(p, PAGE, MADV_FREE) == 0;
		munmap(p, PAGE);
	}
#endif
#ifdef __linux__
	pages_purge_forced_zeroes = true;
#endif
}

static void *
pages_mmap(void *hint, size_t size, int extra_flags)
{
	void *p;
	int saved = errno;

	p = mmap(hint, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | extra_flags, -1, 0);
	errno = saved;
	return (p == MAP_FAILED ? NULL : p);
}

void
pages_unmap(void *addr, size_t size)
{
	int saved = errno;

	munmap(addr, size);
	errno = saved;
}

void *
pages_map(void *hint, size_t size, size_t alignment)
{
	uintptr_t p, aligned;
	size_t lead, trail;
	int flags = 0;

#ifdef __FreeBSD__
	if (alignment >= HUGEPAGE && alignment == HUGEPAGE)
		flags |= MAP_ALIGNED_SUPER;
	if (hint != NULL)
		flags |= MAP_EXCL | MAP_FIXED;
#endif
	p = (uintptr_t)pages_mmap(hint, size, flags);
	if (p == 0)
		return (NULL);
	if ((p & (alignment - 1)) == 0)
		return ((void *)p);
	if (hint != NULL) {
		pages_unmap((void *)p, size);
		return (NULL);
	}
	/* Over-map and trim: the kernel gives no alignment beyond a page. */
	pages_unmap((void *)p, size);
	if (size + alignment - PAGE < size)
		return (NULL);
	p = (uintptr_t)pages_mmap(NULL, size + alignment - PAGE, 0);
	if (p == 0)
		return (NULL);
	aligned = ALIGN_UP(p, alignment);
	lead = aligned - p;
	trail = alignment - PAGE - lead;
	if (lead != 0)
		pages_unmap((void *)p, lead);
	if (trail != 0)
		pages_unmap((void *)(aligned + size), trail);
	return ((void *)aligned);
}

bool
pages_purge_lazy(void *addr, size_t size)
{
#ifdef MADV_FREE
	if (pages_can_purge_lazy)
		return (madvise(addr, size, MADV_FREE) != 0);
#endif
	return (pages_purge_forced(addr, size));
}

bool
pages_purge_forced(void *addr, size_t size)
{
#ifdef __linux__
	return (madvise(addr, size, MADV_DONTNEED) != 0);
#else
	/* Remapping is the only portable way to get zeroed pages back. */
	return (mmap(addr, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED);
#endif
}

bool
pages_commit(void *addr, size_t size)
{
	return (mmap(addr, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED);
}

bool
pages_decommit(void *addr, size_t size)
{
	return (mmap(addr, size, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) ==
	    MAP_FAILED);
}

void
pages_set_thp(void *addr, size_t size, enum thp_mode mode)
{
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
	int saved = errno;

	if (mode == THP_ALWAYS)
		madvise(addr, size, MADV_HUGEPAGE);
	else if (mode == THP_NEVER)
		madvise(addr, size, MADV_NOHUGEPAGE);
	errno = saved;
#else
	(void)addr;
	(void)size;
	(void)mode;
#endif
}

void
pages_guard(void *addr, size_t size)
{
	int saved = errno;

	mprotect(addr, size, PROT_NONE);
	errno = saved;
}

void
pages_unguard(void *addr, size_t size)
{
	int saved = errno;

	mprotect(addr, size, PROT_READ | PROT_WRITE);
	errno = saved;
}

void
pages_bind_node(void *addr, size_t size, unsigned node)
{
#if defined(__linux__) && defined(SYS_mbind)
	unsigned long mask = 1UL << (node % (8 * sizeof(unsigned long)));
	int saved = errno;

	/* MPOL_PREFERRED (1): the node's memory first, others when full. */
	syscall(SYS_mbind, addr, size, 1, &mask, 8 * sizeof(mask) + 1, 0);
	errno = saved;
#else
	(void)addr;
	(void)size;
	(void)node;
#endif
}

enum pages_move_result
pages_move(void *addr, size_t size, void *dest)
{
#ifdef __linux__
	int saved = errno;
	void *p;

	p = mremap(addr, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
	if (p == dest) {
		errno = saved;
		return (PAGES_MOVED);
	}
	/*
	 * A failed move may have unmapped dest first (kernels before the
	 * moves over several mappings, for such a source), or, since then,
	 * moved some of the source's mappings and not the others (out of
	 * memory or of mappings: "likely fatal anyway", the kernel's
	 * authors).  msync() fails on a range not wholly mapped: the block
	 * is in two pieces then, and nothing is left to fall back on.
	 */
	if (msync(addr, size, MS_ASYNC) != 0) {
		errno = saved;
		return (PAGES_MOVE_TORN);
	}
	p = mmap(dest, size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	errno = saved;
	return (p == dest ? PAGES_NOT_MOVED : PAGES_DEST_LOST);
#else
	(void)addr;
	(void)size;
	(void)dest;
	return (PAGES_DEST_LOST);	/* never called: pages_can_move */
#endif
}

void *
pages_remap(void *addr, size_t old_size, size_t new_size)
{
#ifdef __linux__
	int saved = errno;
	void *p;

	p = mremap(addr, old_size, new_size, MREMAP_MAYMOVE);
	errno = saved;
	return (p == MAP_FAILED ? NULL : p);
#else
	(void)addr;
	(void)old_size;
	(void)new_size;
	return (NULL);
#endif
}
