/*
 * Public entry points: the standard API, C23's sized frees and the
 * <malloc_np.h> *allocx() family; initialisation and fork handling.
 *
 * Fast paths (malloc, calloc, free of a cached small class; realloc
 * within a class, or moving a small block to another cached class with
 * malloc's and free's) touch the thread state, the size-class tables, one
 * pointer-map word and the object's second word, take no lock and do no
 * atomic operation.  Every
 * rare condition folds into a compare the path makes anyway:
 *	malloc: the popped block's word is not the free key (bin empty: the
 *		empty block below every bin; cache disabled or thread not
 *		booted: bins point at it; freed twice), or the byte count
 *		to the next event goes negative (sampling, ticks, junk, zero)
 *	free:	not a region start of a slab (the pointer-map word's fast
 *		index is 0 for anything else: one multiply refuses both),
 *		bin full (also: free-side modes) or the block on top of it
 * and then a named _slow function handles it out of line.
 *
 * Double frees (tcache.h has the invariants): a cached block carries
 * free_key in its second word, a free region of a slab slab_mark in the
 * same word.  free() only stores the key; whichever of a twice-freed
 * block's entries is met second, by malloc, a flush, a refill, a slab's
 * release, a thread's exit or exit(), finds the word wrong and stops the
 * process before the block can have two owners.  free(p); free(p) is
 * caught by free's fast path itself, and every free that takes the slow
 * path (large blocks, full bins) loads the word and catches it at once.
 * The words are secret: a program that learns them can make a free or
 * malloc abort (never corrupt the heap).
 *
 * Where this departs from the shared DESIGN.md, and why:
 * - The fast paths touch the object's second word (DESIGN: never).
 *   It is the only cheap way to keep every double-freed block from being
 *   handed out twice, which the hardening requirements demand; the word
 *   is in a line the program just used (free) or is about to use
 *   (malloc).
 * - free() stores the key but never loads from the block.  Until
 *   2026-11 it loaded the key (glibc's tcache check: free(a);
 *   free(b); free(a) caught at the third call), and the load of a cold
 *   block was on the critical path: window -t 8 (8 threads, 160 MiB of
 *   blocks freed long after they were written) took 1.5 times longer
 *   than with tcmalloc, window -t 1 1.14.  A block back in its slab
 *   carries the slab's mark in the same word, checked where regions
 *   leave a slab (refill) or the slab goes (release), where blocks are
 *   written anyway; an earlier version kept the mark in the first word
 *   and made malloc check both (3 instructions more a pair).
 * - The budget of 40 instructions per malloc+free pair is not met: 52
 *   back to back, 58 through a window of 1000 live blocks, by callgrind
 *   (jemalloc 76 to 91, tcmalloc 76 to 82, mimalloc 63 to 157, glibc 138
 *   to 144).  Of the 52, 10 are the loop and the two calls through the
 *   PLT; malloc takes 17 and free 25.  What the others do not do: the
 *   region check of free (a pointer into a block or not ours must be
 *   refused before it enters a cache: 6, the multiply and its tables),
 *   the double-free checks (4 in free, with the top-of-bin compare; 4
 *   in malloc).  Statistics cost malloc one increment (the bin's
 *   request count) and free nothing: thread.allocated is derived from
 *   the event countdown, thread.deallocated from the bins' counts
 *   (tcache.h), so neither is stored on the fast paths (until 2026-11
 *   both were: 3 instructions more, and larson's time).  The rest is one
 *   access per datum: the thread cache's fields are parallel arrays
 *   indexed off %fs (tcache.h), the class tables sit in the pointer
 *   map's object, one base address for both paths (sizeclass.h), sizes
 *   up to 1 KiB have a table entry per byte, pointer-map words carry the
 *   slab base and a fast index (pmap.h), malloc makes no empty test
 *   (tcache.h), and a pop or push is one operation in memory.  Through
 *   a window the loop, the PLT jumps and the returns take 17, the checks
 *   about 13 and the least an allocator does 19 (class 3, TLS base 2,
 *   map lookup 4, pop 3, push 3, full test 2, sampling countdown 2): 49,
 *   so 40 is out of reach with the checks.  A flat
 *   pointer map would save 4 more but needs 256 GiB of address space,
 *   which valgrind and RLIMIT_AS refuse.
 * - Background threads stay off by default, as in jemalloc (see malloc(3)
 *   TUNING); purging is driven by allocation activity instead.
 */
#include <sys/mman.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/random.h>
#include <sys/syscall.h>
#endif

#include "arena.h"
#include "background.h"
#include "base.h"
#include "conf.h"
#include "ctl.h"
#include "msg.h"
#include "numa.h"
#include "pages.h"
#include "harden.h"
#include "pmap.h"
#include "prof.h"
#include "sizeclass.h"
#include "statpage.h"
#include "tcache.h"
#include "tsd.h"

/* Below this a moving realloc copies; above it, it remaps the pages. */
#define	REMAP_MIN	((size_t)1 << 20)

/* Sentinels for the tcache selector decoded from MALLOCX_TCACHE(). */
#define	TC_AUTO		(-1)
#define	TC_NONE		(-2)
#define	ARENA_AUTO	UINT32_MAX

bool		malloc_initialized;
uintptr_t	free_key;
uintptr_t	slab_mark;
size_t		malloc_zero_reallocs;	/* realloc(p, 0) calls, atomic */

static pthread_mutex_t	init_mutex = PTHREAD_MUTEX_INITIALIZER;
static bool		init_busy;

/* Initialisation ---------------------------------------------------------- */

/*
 * The CPUs this process may run on.  Linux: the affinity system call and
 * our own bit count, not glibc's sched_getaffinity and CPU_COUNT: those
 * two sit in text pages a program otherwise never touches, and every
 * libc function start-up calls can fault in 64 KiB of libc (fault-around)
 * in every process.  syscall(2) shares its page with mmap, which we call
 * anyway.
 */
static unsigned
ncpus_online(void)
{
	long n;
#ifdef __linux__
	unsigned long mask[1024 / (8 * sizeof(unsigned long))], m;
	unsigned count = 0;
	long i;

	/*
	 * The kernel returns the bytes it wrote, a multiple of a long.  A
	 * loop, not __builtin_popcountl: without -mpopcnt that is a call to
	 * libgcc's __popcountdi2, linked at the far end of our text.
	 */
	n = syscall(SYS_sched_getaffinity, 0, sizeof(mask), mask);
	for (i = 0; i < n / (long)sizeof(mask[0]); i++)
		for (m = mask[i]; m != 0; m &= m - 1)
			count++;
	if (count > 0)
		return (count);
#endif
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return (n > 0 ? (unsigned)n : 1);
}

static uintptr_t
random_word(void)
{
	uintptr_t w = 0;

#ifdef __linux__
	if (getrandom(&w, sizeof(w), GRND_NONBLOCK) != sizeof(w))
		w = 0;
#else
	arc4random_buf(&w, sizeof(w));
#endif
	if (w == 0)
		w = (uintptr_t)&w * 0x9e3779b97f4a7c15ULL ^
		    (uintptr_t)getpid() << 32;
	/* Never a user-space address and never zero. */
	return (w | ((uintptr_t)1 << 63));
}

static void	malloc_prefork(void);
static void	malloc_postfork_parent(void);
static void	malloc_postfork_child(void);

/* Writes to the descriptor stats_print_fd names (mallstat(1) passes one). */
static void
stats_print_write(void *arg, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	(void)arg;
	while (len > 0 && ((n = write((int)opt.stats_print_fd, s, len)) > 0 ||
	    (n < 0 && errno == EINTR)))
		if (n > 0) {
			s += n;
			len -= (size_t)n;
		}
}

static void
stats_print_atexit(void)
{
	malloc_stats_print(stats_print_write, NULL, opt.stats_print_opts);
}

/*
 * Runs once.  Nothing here may allocate through us: libc calls that might
 * (pthread_atfork, atexit) come after malloc_initialized is set.
 */
static NOINLINE bool
malloc_init_hard(void)
{
	pthread_mutex_lock(&init_mutex);
	if (malloc_initialized || init_busy) {
		pthread_mutex_unlock(&init_mutex);
		return (!malloc_initialized);
	}
	init_busy = true;
	sizeclass_boot();
	pages_boot();
	conf_boot(ncpus_online());
	base_boot(opt.metadata_thp == METADATA_THP_ALWAYS ? THP_ALWAYS :
	    THP_DEFAULT);
	tcache_boot();
	narenas_auto = opt.narenas;
	if (opt.numa) {
		if (numa_boot(conf_issetid()) > 0) {
			numa_arenas_per_node = narenas_auto / numa_nnodes;
			if (numa_arenas_per_node == 0)
				numa_arenas_per_node = 1;
			narenas_auto = numa_nnodes * numa_arenas_per_node;
		} else
			msg_warn("numa:true, but no NUMA topology found");
	}
	narenas_total = narenas_auto;
	if (arena_get(0, true) == NULL) {
		init_busy = false;
		pthread_mutex_unlock(&init_mutex);
		return (true);
	}
	free_key = random_word();
	do
		slab_mark = random_word();
	while (slab_mark == free_key);
	prof_boot();
	tsd_boot_global();
	__atomic_store_n(&malloc_initialized, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&init_mutex);
	malloc_atfork(malloc_prefork, malloc_postfork_parent,
	    malloc_postfork_child);
	prof_boot_late();
	if (opt.background_thread)
		background_set(true);
	if (opt.stats_print)
		atexit(stats_print_atexit);
	return (false);
}

ALWAYS_INLINE bool
malloc_init(void)
{
	if (likely(__atomic_load_n(&malloc_initialized, __ATOMIC_ACQUIRE)))
		return (false);
	return (malloc_init_hard());
}

/* Errors ------------------------------------------------------------------ */

static COLD void *
oom(const char *fn, size_t size)
{
	if (opt.xmalloc)
		msg_fatal("%s(): out of memory allocating %zu bytes", fn, size);
	errno = ENOMEM;
	return (NULL);
}

/*
 * A thread-cache entry whose block does not hold the key, or holds its
 * slab's mark under it: the block was freed twice, and the other entry
 * has been handed out or given back since (tcache.h).  Found by the
 * allocation or flush that meets the second entry, before the block can
 * have two owners.
 */
COLD __attribute__((noreturn)) void
double_free_found(const void *ptr, const char *fn)
{
	msg_fatal("%s(): double free of %p (freed twice or written after "
	    "free, before this call)", fn, ptr);
}

/*
 * A pointer with no pointer-map entry: inside a large block (whose inner
 * pages are not mapped) or not ours.  Walks back to the nearest mapped
 * page to tell which; this is the abort path, so the walk's cost is moot.
 */
static COLD __attribute__((noreturn)) void
invalid_pointer(const void *ptr, const char *fn)
{
	uintptr_t p = ALIGN_DOWN((uintptr_t)ptr, PAGE);
	struct pmap_entry entry = PMAP_NONE;
	struct extent *ext;
	size_t i;

	for (i = 0; i < ((size_t)1 << 24) && p >= PAGE && entry.ext == NULL;
	    i++) {
		p -= PAGE;
		entry = pmap_lookup((void *)p);
	}
	if (entry.ext != NULL && pmap_entry_szind(entry) != SZ_FREE) {
		ext = pmap_entry_extent(entry);
		if ((uintptr_t)ptr > ext->addr &&
		    (uintptr_t)ptr < ext->addr + ext->size)
			msg_fatal("%s(): invalid pointer %p (inside a block)",
			    fn, ptr);
	}
	msg_fatal("%s(): invalid pointer %p (not allocated by malloc)", fn,
	    ptr);
}

/*
 * The owner of ptr, validated: aborts on a pointer that is not ours, that
 * points inside a block, or whose block is already free.
 */
static struct extent *
validate(const void *ptr, struct pmap_entry entry, const char *fn)
{
	struct extent *ext;
	unsigned ind;

	if (unlikely(entry.ext == NULL))
		invalid_pointer(ptr, fn);
	ext = pmap_entry_extent(entry);
	ind = pmap_entry_szind(entry);
	if (unlikely(ind == SZ_FREE)) {
		if ((uintptr_t)ptr == ext->addr)
			msg_fatal("%s(): double free of %p", fn, ptr);
		invalid_pointer(ptr, fn);
	}
	if (pmap_entry_is_slab(entry)) {
		if (unlikely(!sz_region_valid(ind, (uintptr_t)ptr - ext->addr)))
			msg_fatal("%s(): invalid pointer %p (inside a block)",
			    fn, ptr);
	} else if (unlikely((uintptr_t)ptr != ext->addr))
		msg_fatal("%s(): invalid pointer %p (inside a block)", fn, ptr);
	else if (ext->prof_tctx != NULL) {
		/* A sample is never cached: no key to load from its block. */
		if (unlikely(ext->prof_tctx == EXTENT_SAMPLE_FREED))
			msg_fatal("%s(): double free of %p", fn, ptr);
		return (ext);
	}
	/* Cached, or back in its slab (tcache.h). */
	if (unlikely(ind < TCACHE_NBINS_MAX &&
	    (FREE_KEY_WORD(ptr) == free_key ||
	    (pmap_entry_is_slab(entry) && FREE_KEY_WORD(ptr) == slab_mark))))
		msg_fatal("%s(): double free of %p", fn, ptr);
	return (ext);
}

/* ptr's size class after validate(); *extp (if not NULL) its extent. */
static unsigned
validate_ind(const void *ptr, const char *fn, struct extent **extp)
{
	struct pmap_entry entry = pmap_lookup(ptr);
	struct extent *ext = validate(ptr, entry, fn);

	if (extp != NULL)
		*extp = ext;
	return (pmap_entry_szind(entry));
}

/* Allocation ------------------------------------------------------------- */

/* Periodic work, amortised over the slow paths of each thread. */
static NOINLINE void
slow_tick(struct tsd *tsd)
{
	arena_decay_tick(tsd->arena);
	if (numa_nnodes > 0 && tsd->arena->ind < narenas_auto &&
	    tsd->arena->ind / numa_arenas_per_node != numa_current_node())
		tsd_set_arena(tsd, arena_get(tsd_numa_arena(), true));
	background_check();
	statpage_tick();
}

/*
 * Finishes any allocation of class ind: clears the free key, applies the
 * zero and junk modes, counts the bytes.
 */
static void *
alloc_finish(struct tsd *tsd, void *p, unsigned ind, bool zero, bool zeroed)
{
	size_t usize = sz_index2size(ind);

	if (zero && !zeroed)
		memset(p, 0, usize);
	else if (opt.zero && !zeroed)
		memset(p, 0, usize);
	else if (opt.junk_alloc && !zero)
		memset(p, JUNK_ALLOC, usize);
	else if (!zeroed) {
		/*
		 * Handed out: neither key nor mark (tcache.h).  Large blocks
		 * too: pages reused from the dirty cache may hold a freed
		 * region's mark or key in this word, and realloc to a small
		 * class copies it into the new block, which free() would then
		 * take for freed.
		 */
		FREE_KEY_WORD(p) = 0;
	}
	if (tsd->state == TSD_NOMINAL)
		tsd_count_alloc(tsd, usize);
	return (p);
}

/* Whether an allocation of usize is to be sampled. */
static inline bool
sample_due(const struct tsd *tsd, size_t usize)
{
	return (tsd->prof_active && tsd->state == TSD_NOMINAL &&
	    tsd_allocated(tsd) + usize >= tsd->prof_sample_at);
}

/* The free of a sampled block: its record goes, its extent waits. */
static void
sample_dalloc(struct extent *ext, void *ptr, size_t usize)
{
	prof_sample_free(ext->prof_tctx, ptr, usize);
	ext->prof_tctx = NULL;
	arena_sample_dalloc(ext);
}

/*
 * A sampled allocation: an extent of its own (small classes promoted to
 * the smallest large class) carrying the sample's record.
 */
static NOINLINE void *
imalloc_sampled(struct tsd *tsd, struct arena *arena, unsigned ind,
    size_t alignment, bool zero, struct prof_tctx *tctx)
{
	struct extent *ext;
	void *p;

	if (ind < SC_NBINS && alignment <= PAGE) {
		if ((ext = arena_sample_alloc(arena, ind, zero)) == NULL)
			return (NULL);
		p = (void *)ext->addr;
	} else {
		p = arena_large_alloc(arena, ind < SC_NBINS ? SC_NBINS : ind,
		    alignment, zero);
		if (p == NULL)
			return (NULL);
		ext = pmap_entry_extent(pmap_lookup(p));
		/* Callers see the requested class; stats the extent's. */
		if (ind < SC_NBINS)
			pmap_set_ends(ext->addr, ext->size,
			    pmap_entry_make(ext, ind, false));
	}
	ext->prof_tctx = tctx;
	prof_sample_commit(tctx, p, sz_index2size(ind));
	(void)tsd;
	return (p);
}

/*
 * The general allocation path: any size, alignment, zeroing, tcache and
 * arena choice.  tc is TC_AUTO, TC_NONE or an explicit tcache index.
 */
static void *
imalloc(size_t size, size_t alignment, bool zero, int tc, unsigned arena_ind,
    const char *fn)
{
	struct tsd *tsd = &tsd_tls;
	struct tcache *tcache = NULL;
	struct prof_tctx *tctx;
	struct arena *arena;
	size_t usize;
	unsigned ind;
	void *p;
	bool zeroed = false;

	/*
	 * The countdown may be negative from the counts of slow paths
	 * (tsd_count_alloc): set again here, else every malloc would come
	 * here until the next event.
	 */
	tsd_update_event(tsd);
	if (unlikely(malloc_init()))
		return (oom(fn, size));
	usize = alignment > QUANTUM ? sz_sa2u(size, alignment) : sz_s2u(size);
	if (unlikely(usize == 0))
		return (oom(fn, size));
	ind = sz_size2index(usize);
	tsd_boot(tsd);
	if (arena_ind != ARENA_AUTO) {
		arena = arena_get(arena_ind, false);
		if (arena == NULL)
			return (oom(fn, size));
	} else
		arena = tsd->state == TSD_NOMINAL ? tsd->arena :
		    arena_get(0, false);
	if (tc == TC_AUTO && arena_ind == ARENA_AUTO &&
	    tsd->state == TSD_NOMINAL && tsd->tcache_enabled)
		tcache = &tsd->tcache;
	else if (tc >= 0)
		tcache = ctl_tcache_get((unsigned)tc);
	if (sample_due(tsd, usize) &&
	    (tctx = prof_sample_prepare(tsd, usize)) != NULL) {
		p = imalloc_sampled(tsd, arena, ind, alignment, zero, tctx);
		zeroed = zero;
	} else if (tcache != NULL && ind < tcache_nbins && alignment <= PAGE) {
		if (tcache->top[ind] != tcache->low[ind]) {
			/* A pop and a request: moved stays (tcache.h). */
			tcache->nrequests[ind]++;
			p = *--tcache->top[ind];
			if (unlikely(!tcache_block_ok(p)))
				double_free_found(p, fn);
			if (unlikely(opt.harden))
				harden_check_junk(p, usize);
		} else
			p = tcache_fill_pop(tcache, arena, ind);
	} else {
		p = arena_palloc(arena, usize, alignment, zero);
		zeroed = zero;
	}
	if (unlikely(p == NULL))
		return (oom(fn, size));
	p = alloc_finish(tsd, p, ind, zero, zeroed);
	if (tsd->state == TSD_NOMINAL && tsd_allocated(tsd) >= tsd->tick_at) {
		tsd->tick_at = tsd_allocated(tsd) + TSD_TICK_BYTES;
		tsd_update_event(tsd);
		slow_tick(tsd);
	}
	return (p);
}

/*
 * The malloc fast path: a cached class, popped from the thread's bin.
 * Returns NULL when anything needs the slow path.
 */
ALWAYS_INLINE void *
malloc_fast(size_t size)
{
	struct tsd *tsd = &tsd_tls;
	uint64_t usize;
	size_t ind;
	void **top;
	void *p;

	/* The direct table's sizes first: their path has one compare. */
	if (likely(size <= SC_DIRECT_MAX))
		ind = sz_tab.lookup_direct[size];
	else if (size <= SC_LOOKUP_MAX)
		ind = sz_lookup_index(size);
	else
		return (NULL);
	usize = sz_tab.index2size[ind];
	/*
	 * In a register: gcc would otherwise subtract the table entry from a
	 * loaded copy of event_left and store it back, one instruction more
	 * than a subtraction in memory.
	 */
	__asm__("" : "+r"(usize));
	/*
	 * An event is due.  The subtraction is made whatever follows, so
	 * that the slow path knows to give it back (malloc_fast_undo).
	 */
	if (unlikely((tsd->event_left -= (int64_t)usize) < 0))
		return (NULL);
	top = tsd->tcache.top[ind];
	p = top[-1];
	/*
	 * The bin is empty (p is the empty block below it) or p was freed
	 * twice: imalloc() refills or stops the process (tcache.h).
	 */
	if (unlikely(!tcache_block_ok(p)))
		return (NULL);
	/*
	 * Hidden from gcc, ind here is not known to be the ind of the load,
	 * so the pop is one subtraction in memory, where gcc would subtract
	 * in the register it loaded top into and store that (one more).
	 */
	__asm__("" : "+r"(ind));
	tsd->tcache.top[ind]--;
	tsd->tcache.nrequests[ind]++;
	FREE_KEY_WORD(p) = 0;
	return (p);
}

/*
 * Before the slow path that follows a failed malloc_fast(size): the
 * subtraction it made is given back, since the slow path counts the
 * allocation itself.  Every size malloc_fast() looks up was subtracted.
 * Returns the size's class, SC_NSIZES for a size it does not look up.
 */
ALWAYS_INLINE unsigned
malloc_fast_undo(struct tsd *tsd, size_t size)
{
	unsigned ind;

	if (size > SC_LOOKUP_MAX)
		return (SC_NSIZES);
	ind = sz_lookup_index(size);
	tsd->event_left += (int64_t)sz_index2size(ind);
	return (ind);
}

/*
 * malloc_fast() with the live counters (struct tsd: a thread that asked
 * for thread.allocatedp), for which the fast path always fails: a pop
 * from bin ind when no event is due.  NULL: the general path.
 */
static void *
malloc_live(struct tsd *tsd, unsigned ind, size_t usize)
{
	void **top;
	void *p;

	if (tsd->allocated_live + usize >= tsd->event_at)
		return (NULL);
	top = tsd->tcache.top[ind];
	p = top[-1];
	if (!tcache_block_ok(p))
		return (NULL);
	tsd->tcache.top[ind] = top - 1;
	tsd->tcache.nrequests[ind]++;
	tsd->allocated_live += usize;
	FREE_KEY_WORD(p) = 0;
	return (p);
}

/*
 * A sample due in malloc() of class ind on a booted thread, without zero
 * or junk modes: what imalloc() does for it, without the general checks
 * that were a fifth of a sample's cost.  NULL when it is not that case,
 * or when the allocation is not sampled after all (the sample point has
 * then moved on) or fails: imalloc() takes over.  The tick, if due too,
 * waits for the next allocation: event_left is left negative for it.
 */
static inline void *
malloc_sampled(struct tsd *tsd, unsigned ind, size_t usize)
{
	struct prof_tctx *tctx;
	void *p;

	if (!sample_due(tsd, usize) || opt.zero || opt.junk_alloc ||
	    (tctx = prof_sample_prepare(tsd, usize)) == NULL ||
	    (p = imalloc_sampled(tsd, tsd->arena, ind, 0, false, tctx)) ==
	    NULL)
		return (NULL);
	/* Handed out: neither key nor mark (as alloc_finish). */
	FREE_KEY_WORD(p) = 0;
	tsd_count_alloc(tsd, usize);
	return (p);
}

static NOINLINE void *
malloc_slow(size_t size)
{
	struct tsd *tsd = &tsd_tls;
	unsigned ind;
	size_t usize;
	void *p;

	/* Larger sizes: malloc_fast() subtracted nothing. */
	if (size <= SC_LOOKUP_MAX) {
		ind = malloc_fast_undo(tsd, size);
		usize = sz_index2size(ind);
		if (unlikely(tsd->counters_live) &&
		    (p = malloc_live(tsd, ind, usize)) != NULL)
			return (p);
		if ((p = malloc_sampled(tsd, ind, usize)) != NULL)
			return (p);
	}
	return (imalloc(size, 0, false, TC_AUTO, ARENA_AUTO, "malloc"));
}

EXPORT HOT_ALIGNED void *
malloc(size_t size)
{
	void *p = malloc_fast(size);

	if (likely(p != NULL))
		return (p);
	return (malloc_slow(size));
}

EXPORT void *
calloc(size_t n, size_t size)
{
	size_t total;
	void *p;

	if (unlikely(__builtin_mul_overflow(n, size, &total))) {
		if (!malloc_init())
			return (oom("calloc", SIZE_MAX));
		errno = ENOMEM;
		return (NULL);
	}
	p = malloc_fast(total);
	if (likely(p != NULL)) {
		memset(p, 0, total);
		return (p);
	}
	malloc_fast_undo(&tsd_tls, total);
	return (imalloc(total, 0, true, TC_AUTO, ARENA_AUTO, "calloc"));
}

/* Deallocation ----------------------------------------------------------- */

/*
 * Releases a validated block of class ind into tcache (NULL: its arena).
 * The block is a region start or a large extent's first byte.
 */
static void
idalloc(struct tcache *tcache, void *ptr, struct pmap_entry entry,
    struct extent *ext, unsigned ind, const char *fn)
{
	if (!pmap_entry_is_slab(entry) && ext->prof_tctx != NULL)
		sample_dalloc(ext, ptr, sz_index2size(ind));
	else if (tcache != NULL && ind < tcache_nbins) {
		FREE_KEY_WORD(ptr) = free_key;
		tcache_bin_ready(tcache, ind);
		if (tcache_bin_ncached(tcache, ind) <
		    tcache_bin_cap(tcache, ind))
			tcache_bin_push(tcache, ind, ptr);
		else
			tcache_flush_push(tcache, ind, ptr);
	} else
		arena_dalloc(ext, ptr, fn);
}

/*
 * The general free path: validates ptr, checks a claimed size, and puts
 * the block into the chosen cache or back into its arena.
 */
static void
ifree(void *ptr, struct pmap_entry entry, size_t size, size_t alignment,
    int tc, const char *fn)
{
	struct tsd *tsd = &tsd_tls;
	struct tcache *tcache = NULL;
	struct extent *ext;
	size_t usize;
	unsigned ind;
	bool fresh;

	if (ptr == NULL)
		return;
	if (unlikely(!__atomic_load_n(&malloc_initialized, __ATOMIC_ACQUIRE)))
		msg_fatal("%s(): invalid pointer %p (not allocated by malloc)",
		    fn, ptr);
	ext = validate(ptr, entry, fn);
	ind = pmap_entry_szind(entry);
	usize = sz_index2size(ind);
	if (size != 0) {
		size_t want = alignment > QUANTUM ? sz_sa2u(size, alignment) :
		    sz_s2u(size);

		if (unlikely(want != usize))
			msg_fatal("%s(): size %zu does not match block %p of "
			    "size %zu", fn, size, ptr, usize);
	}
	/*
	 * A thread whose first call is a free (of a block another thread
	 * allocated) gives it back to its arena: caching it would hand the
	 * thread that block, on a cache line other threads use, as its first
	 * allocation (Hoard's passive false sharing).
	 */
	fresh = tsd->state == TSD_UNINIT;
	tsd_boot(tsd);
	if (tsd->state == TSD_NOMINAL) {
		tsd_count_dalloc(tsd, usize);
		if (tc == TC_AUTO && tsd->tcache_enabled && !fresh)
			tcache = &tsd->tcache;
	}
	if (tc >= 0)
		tcache = ctl_tcache_get((unsigned)tc);
	if (opt.junk_free || opt.harden)
		memset(ptr, JUNK_FREE, usize);
	if (opt.harden && pmap_entry_is_slab(entry) &&
	    tsd->state == TSD_NOMINAL) {
		/* The block waits; an older one leaves in its place. */
		FREE_KEY_WORD(ptr) = free_key;
		ptr = harden_quarantine(tsd, ptr, usize);
		if (ptr == NULL)
			return;
		entry = pmap_lookup(ptr);
		ext = pmap_entry_extent(entry);
		ind = pmap_entry_szind(entry);
	}
	idalloc(tcache, ptr, entry, ext, ind, fn);
	if (tsd->state == TSD_NOMINAL && ++tsd->decay_ticks % 1024 == 0)
		slow_tick(tsd);
}

void
malloc_thread_cleanup(struct tsd *tsd)
{
	struct pmap_entry entry;
	void *ptr;

	while ((ptr = harden_quarantine_drain(tsd)) != NULL) {
		entry = pmap_lookup(ptr);
		idalloc(tsd->tcache_enabled ? &tsd->tcache : NULL, ptr, entry,
		    pmap_entry_extent(entry), pmap_entry_szind(entry), "free");
	}
}

/*
 * free_fast() with the live counters (see malloc_live()): a push into a
 * bin with room, when no free-side mode needs the general path.  false:
 * the general path.
 */
static bool
free_live(struct tsd *tsd, void *ptr)
{
	uintptr_t bits = pmap_lookup_bits(ptr), fi = bits & PMAP_FAST_MASK;
	unsigned ind;
	void **top;

	if (!sz_region_start(fi, (uintptr_t)ptr, bits) || opt.junk_free ||
	    opt.harden)
		return (false);
	ind = (unsigned)fi - 1;
	top = tsd->tcache.top[ind];
	if (tsd->tcache.low[ind] == TCACHE_EMPTY ||
	    tcache_bin_ncached(&tsd->tcache, ind) >=
	    tcache_bin_cap(&tsd->tcache, ind) || top[-1] == ptr)
		return (false);
	FREE_KEY_WORD(ptr) = free_key;
	tcache_bin_push(&tsd->tcache, ind, ptr);
	tsd_count_dalloc(tsd, sz_index2size(ind));
	return (true);
}

/*
 * The free of a sampled block on a booted thread, without junk or harden
 * modes: what ifree() and validate() do for it, without their general
 * checks.  False when ptr is anything else (a freed sample's extent
 * included, which validate() reports): ifree() takes over.
 */
static inline bool
free_sampled(struct tsd *tsd, void *ptr, struct pmap_entry entry)
{
	struct extent *ext = pmap_entry_extent(entry);
	unsigned ind = pmap_entry_szind(entry);
	size_t usize;

	/* Not a slab and ptr its extent's first byte; a live sample. */
	if ((entry.bits & (PMAP_SLAB | PMAP_ADDR_MASK)) != (uintptr_t)ptr ||
	    ind == SZ_FREE || ext == NULL || ext->prof_tctx == NULL ||
	    ext->prof_tctx == EXTENT_SAMPLE_FREED ||
	    tsd->state != TSD_NOMINAL || opt.junk_free || opt.harden)
		return (false);
	usize = sz_index2size(ind);
	tsd_count_dalloc(tsd, usize);
	sample_dalloc(ext, ptr, usize);
	if (++tsd->decay_ticks % 1024 == 0)
		slow_tick(tsd);
	return (true);
}

static NOINLINE void
free_slow(void *ptr)
{
	struct pmap_entry entry;

	if (unlikely(tsd_tls.counters_live) && free_live(&tsd_tls, ptr))
		return;
	entry = pmap_lookup(ptr);
	if (free_sampled(&tsd_tls, ptr, entry))
		return;
	ifree(ptr, entry, 0, 0, TC_AUTO, "free");
}

/*
 * The free fast path: a region start of a slab whose class is cached, not
 * carrying the free key, into a bin with room.  It reads one pointer-map
 * word, which holds the slab's base and class: no extent descriptor.
 * Sized frees (sized true) also need size to be of the block's class;
 * anything else, and every error, is left to ifree().
 */
ALWAYS_INLINE bool
free_fast(void *ptr, size_t size, bool sized)
{
	struct tsd *tsd = &tsd_tls;
	uintptr_t bits, fi;
	void **top;

	bits = pmap_lookup_bits(ptr);
	fi = bits & PMAP_FAST_MASK;
	/* Not a slab's region start (fi 0: not a slab): slow path, which says. */
	if (unlikely(!sz_region_start(fi, (uintptr_t)ptr, bits)))
		return (false);
	/* The class is fi - 1: written out in each index, it is a displacement. */
	if (sized && (size > SC_LOOKUP_MAX || sz_lookup_index(size) + 1 != fi))
		return (false);
	top = tsd->tcache.top[fi - 1];
	/* No load of the block (tcache.h); top[-1] is readable once top < high. */
	if (unlikely(top >= tsd->tcache.high[fi - 1] || top[-1] == ptr))
		return (false);
	FREE_KEY_WORD(ptr) = free_key;
	*top = ptr;
	/*
	 * Hidden from gcc, fi here is not known to equal the fi of the load:
	 * the push is one addition in memory, and both accesses take fi - 1
	 * as a displacement, where gcc would compute fi - 1 into a register,
	 * add to the top it loaded and store that (two more).
	 */
	__asm__("" : "+r"(fi));
	tsd->tcache.top[fi - 1]++;
	return (true);
}

EXPORT HOT_ALIGNED void
free(void *ptr)
{
	if (likely(free_fast(ptr, 0, false)))
		return;
	free_slow(ptr);
}

/* Out of line, so that the sized fast paths keep their registers free. */
static NOINLINE void
free_sized_slow(void *ptr, size_t size, size_t alignment, int tc,
    const char *fn)
{
	ifree(ptr, pmap_lookup(ptr), size == 0 ? 1 : size, alignment, tc, fn);
}

EXPORT void
free_sized(void *ptr, size_t size)
{
	if (likely(free_fast(ptr, size, true)))
		return;
	free_sized_slow(ptr, size, 0, TC_AUTO, "free_sized");
}

EXPORT void
free_aligned_sized(void *ptr, size_t alignment, size_t size)
{
	/* Up to QUANTUM, alignment does not change the class. */
	if (likely(alignment <= QUANTUM && free_fast(ptr, size, true)))
		return;
	free_sized_slow(ptr, size, alignment, TC_AUTO, "free_aligned_sized");
}

/* Aligned allocation ---------------------------------------------------- */

static bool
is_pow2(size_t x)
{
	return (x != 0 && (x & (x - 1)) == 0);
}

EXPORT int
posix_memalign(void **memptr, size_t alignment, size_t size)
{
	int saved = errno;
	void *p;

	if (!is_pow2(alignment) || alignment < sizeof(void *))
		return (EINVAL);
	p = imalloc(size, alignment, false, TC_AUTO, ARENA_AUTO,
	    "posix_memalign");
	if (p == NULL)
		return (ENOMEM);
	errno = saved;
	*memptr = p;
	return (0);
}

EXPORT void *
aligned_alloc(size_t alignment, size_t size)
{
	if (!is_pow2(alignment)) {
		errno = EINVAL;
		return (NULL);
	}
	return (imalloc(size, alignment, false, TC_AUTO, ARENA_AUTO,
	    "aligned_alloc"));
}

EXPORT void *
memalign(size_t alignment, size_t size)
{
	if (!is_pow2(alignment)) {
		errno = EINVAL;
		return (NULL);
	}
	return (imalloc(size, alignment, false, TC_AUTO, ARENA_AUTO,
	    "memalign"));
}

EXPORT void *
valloc(size_t size)
{
	return (imalloc(size, PAGE, false, TC_AUTO, ARENA_AUTO, "valloc"));
}

EXPORT void *
pvalloc(size_t size)
{
	size_t rounded = size == 0 ? PAGE : PAGE_CEIL(size);

	if (rounded < size) {
		errno = ENOMEM;
		return (NULL);
	}
	return (imalloc(rounded, PAGE, false, TC_AUTO, ARENA_AUTO, "pvalloc"));
}

/* Reallocation ----------------------------------------------------------- */

/*
 * Resizes in place when the class does not change (small) or the extent
 * can shrink or grow into a free neighbour (large).  Returns the new
 * usable size, or 0 when it cannot.
 */
static size_t
iralloc_inplace(struct extent *ext, unsigned old_ind, size_t usize, bool zero)
{
	unsigned ind = sz_size2index(usize);

	if (ind == old_ind)
		return (usize);
	if (old_ind < SC_NBINS || ind < SC_NBINS)
		return (0);
	if (arena_large_resize(ext, ind, zero))
		return (0);
	return (usize);
}

static void *
iralloc(void *ptr, size_t size, size_t alignment, bool zero, int tc,
    unsigned arena_ind, const char *fn)
{
	struct tsd *tsd = &tsd_tls;
	struct pmap_entry entry;
	struct extent *ext;
	size_t old_usize, usize;
	unsigned old_ind;
	void *q;

	entry = pmap_lookup(ptr);
	ext = validate(ptr, entry, fn);
	old_ind = pmap_entry_szind(entry);
	old_usize = sz_index2size(old_ind);
	/* The common case of a growing buffer: it still fits its class. */
	if (sz_fits_class(size, old_ind) && alignment <= QUANTUM &&
	    (ext->slab || ext->prof_tctx == NULL) &&
	    (arena_ind == ARENA_AUTO || ext->arena->ind == arena_ind))
		return (ptr);
	usize = alignment > QUANTUM ? sz_sa2u(size, alignment) : sz_s2u(size);
	if (unlikely(usize == 0))
		return (oom(fn, size));
	/*
	 * A sampled large block stops being a sample when resized, so that it
	 * can grow in place: moving it at every step of a growing buffer would
	 * cost a copy of the whole buffer each time.
	 */
	if (!ext->slab && ext->prof_tctx != NULL && old_ind >= SC_NBINS) {
		prof_sample_free(ext->prof_tctx, ptr, old_usize);
		ext->prof_tctx = NULL;
	}
	if ((alignment <= QUANTUM || ((uintptr_t)ptr & (alignment - 1)) == 0)
	    && (arena_ind == ARENA_AUTO || ext->arena->ind == arena_ind) &&
	    (ext->slab || ext->prof_tctx == NULL) &&
	    iralloc_inplace(ext, old_ind, usize, zero) != 0) {
		if (tsd->state == TSD_NOMINAL) {
			tsd_count_alloc(tsd, usize);
			tsd_count_dalloc(tsd, old_usize);
		}
		if (zero && usize > old_usize && old_ind < SC_NBINS)
			memset((char *)ptr + old_usize, 0, usize - old_usize);
		return (ptr);
	}
	/*
	 * Huge blocks move by remapping their pages, not copying them,
	 * unless a copy below would reuse dirty pages of their arena.
	 */
	if (usize >= REMAP_MIN && old_usize >= REMAP_MIN && usize > old_usize &&
	    alignment <= PAGE && !ext->slab &&
	    (arena_ind == ARENA_AUTO || ext->arena->ind == arena_ind) &&
	    (q = arena_large_remap(ext, sz_size2index(usize), zero,
	    arena_ind != ARENA_AUTO || (tsd->state == TSD_NOMINAL &&
	    tsd->arena == ext->arena))) != NULL) {
		if (tsd->state == TSD_NOMINAL) {
			tsd_count_alloc(tsd, usize);
			tsd_count_dalloc(tsd, old_usize);
		}
		return (q);
	}
	q = imalloc(size, alignment, zero, tc, arena_ind, fn);
	if (q == NULL)
		return (NULL);
	memcpy(q, ptr, size < old_usize ? size : old_usize);
	ifree(ptr, entry, 0, 0, tc, fn);
	return (q);
}

/*
 * Whether ptr, in a slab of class ind based at base, is a region start
 * handed out and not freed since: neither cached (free_key) nor back in
 * its slab (slab_mark), as validate() finds it (tcache.h).
 */
ALWAYS_INLINE bool
slab_block_live(const void *ptr, unsigned ind, uintptr_t base)
{
	return (sz_region_valid(ind, (uintptr_t)ptr - base) &&
	    FREE_KEY_WORD(ptr) != free_key && FREE_KEY_WORD(ptr) != slab_mark);
}

/*
 * realloc's fast path: whether ptr is a live block (as validate() would
 * find it, short of naming what is wrong) whose class size stays the
 * class of size, so that ptr is the answer.  A buffer grown by small
 * steps asks this at nearly every call; iralloc() answers the same but
 * at some 120 instructions, most of them its frame.
 */
ALWAYS_INLINE bool
realloc_fits(void *ptr, size_t size)
{
	struct pmap_entry e = pmap_lookup(ptr);
	unsigned ind = pmap_entry_szind(e);
	uintptr_t base = pmap_entry_base(e);

	if (ind >= SC_NSIZES || !sz_fits_class(size, ind))
		return (false);
	if (pmap_entry_is_slab(e))
		return (slab_block_live(ptr, ind, base));
	/* Large: its first byte, and not a sample (iralloc ends those). */
	return ((uintptr_t)ptr == base && e.ext != NULL &&
	    e.ext->prof_tctx == NULL);
}

/*
 * realloc of a live small block to another class the fast paths serve:
 * malloc's and free's fast paths around the copy, about 60 instructions
 * and the copy, where iralloc() took some 330 (python: most of its
 * reallocs, 54,000 of them in pyalloc.py 10000).  NULL when it is not
 * that case or a fast path declines (an event due, an empty or full
 * bin, a thread not booted, the live counters): iralloc() takes over,
 * and reports what is wrong with ptr.
 */
static inline void *
realloc_move_small(void *ptr, size_t size)
{
	struct pmap_entry e;
	size_t old_usize;
	unsigned ind;
	void *q;

	if (size > SC_LOOKUP_MAX)
		return (NULL);
	e = pmap_lookup(ptr);
	ind = pmap_entry_szind(e);
	if (!pmap_entry_is_slab(e) || ind >= SC_NBINS ||
	    !slab_block_live(ptr, ind, pmap_entry_base(e)))
		return (NULL);
	if ((q = malloc_fast(size)) == NULL) {
		malloc_fast_undo(&tsd_tls, size);
		return (NULL);
	}
	old_usize = sz_index2size(ind);
	memcpy(q, ptr, size < old_usize ? size : old_usize);
	if (!free_fast(ptr, 0, false))
		ifree(ptr, e, 0, 0, TC_AUTO, "realloc");
	return (q);
}

static NOINLINE void *
realloc_slow(void *ptr, size_t size)
{
	void *q;

	if (ptr == NULL)
		return (imalloc(size, 0, false, TC_AUTO, ARENA_AUTO, "realloc"));
	if (size == 0)
		__atomic_fetch_add(&malloc_zero_reallocs, 1, __ATOMIC_RELAXED);
	else if ((q = realloc_move_small(ptr, size)) != NULL)
		return (q);
	return (iralloc(ptr, size == 0 ? 1 : size, 0, false, TC_AUTO,
	    ARENA_AUTO, "realloc"));
}

EXPORT void *
realloc(void *ptr, size_t size)
{
	if (likely(ptr != NULL && size != 0 && realloc_fits(ptr, size)))
		return (ptr);
	return (realloc_slow(ptr, size));
}

EXPORT void *
reallocarray(void *ptr, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return (NULL);
	}
	return (realloc(ptr, total));
}

EXPORT size_t
malloc_usable_size(MALLOC_USABLE_SIZE_CONST void *ptr)
{
	if (ptr == NULL || !malloc_initialized)
		return (0);
	return (sz_index2size(validate_ind(ptr, "malloc_usable_size", NULL)));
}

/* The *allocx() family ---------------------------------------------------- */

struct xflags {
	size_t		alignment;
	bool		zero;
	int		tc;
	unsigned	arena_ind;
};

static struct xflags
xflags_decode(int flags)
{
	struct xflags x;
	unsigned lg = (unsigned)flags & 0x3f, t, a;

	x.alignment = lg == 0 ? 0 : (size_t)1 << lg;
	x.zero = (flags & 0x40) != 0;
	t = ((unsigned)flags >> 8) & 0xfff;
	x.tc = t == 0 ? TC_AUTO : t == 1 ? TC_NONE : (int)(t - 2);
	a = ((unsigned)flags >> 20) & 0xfff;
	x.arena_ind = a == 0 ? ARENA_AUTO : a - 1;
	return (x);
}

EXPORT void *
mallocx(size_t size, int flags)
{
	struct xflags x;

	if (likely(flags == 0)) {
		void *p = malloc_fast(size);

		if (likely(p != NULL))
			return (p);
		malloc_fast_undo(&tsd_tls, size);
	}
	x = xflags_decode(flags);
	return (imalloc(size, x.alignment, x.zero, x.tc, x.arena_ind,
	    "mallocx"));
}

EXPORT void *
rallocx(void *ptr, size_t size, int flags)
{
	struct xflags x = xflags_decode(flags);

	return (iralloc(ptr, size == 0 ? 1 : size, x.alignment, x.zero, x.tc,
	    x.arena_ind, "rallocx"));
}

EXPORT size_t
xallocx(void *ptr, size_t size, size_t extra, int flags)
{
	struct xflags x = xflags_decode(flags);
	struct tsd *tsd = &tsd_tls;
	struct extent *ext;
	size_t old_usize, want, got;
	unsigned old_ind;

	old_ind = validate_ind(ptr, "xallocx", &ext);
	old_usize = sz_index2size(old_ind);
	if (size + extra < size)
		extra = SIZE_MAX - size;
	if ((x.alignment > QUANTUM &&
	    ((uintptr_t)ptr & (x.alignment - 1)) != 0) ||
	    (!ext->slab && ext->prof_tctx != NULL))
		return (old_usize);
	got = 0;
	want = sz_s2u(size + extra);
	if (want != 0)
		got = iralloc_inplace(ext, old_ind, want, x.zero);
	if (got == 0 && extra != 0 && (want = sz_s2u(size)) != 0)
		got = iralloc_inplace(ext, old_ind, want, x.zero);
	if (got == 0)
		return (old_usize);
	if (tsd->state == TSD_NOMINAL) {
		tsd_count_alloc(tsd, got);
		tsd_count_dalloc(tsd, old_usize);
	}
	return (got);
}

EXPORT size_t
sallocx(const void *ptr, int flags)
{
	(void)flags;
	return (sz_index2size(validate_ind(ptr, "sallocx", NULL)));
}

EXPORT void
dallocx(void *ptr, int flags)
{
	struct xflags x;

	if (likely(flags == 0)) {
		free(ptr);
		return;
	}
	x = xflags_decode(flags);
	ifree(ptr, pmap_lookup(ptr), 0, 0, x.tc, "dallocx");
}

EXPORT void
sdallocx(void *ptr, size_t size, int flags)
{
	struct xflags x;

	if (likely(flags == 0 && free_fast(ptr, size, true)))
		return;
	x = xflags_decode(flags);
	free_sized_slow(ptr, size, x.alignment, x.tc, "sdallocx");
}

EXPORT size_t
nallocx(size_t size, int flags)
{
	struct xflags x = xflags_decode(flags);

	if (malloc_init())
		return (0);
	if (size == 0)
		size = 1;
	return (x.alignment > QUANTUM ? sz_sa2u(size, x.alignment) :
	    sz_s2u(size));
}

/*
 * At exit, the exiting thread's cache is checked (other threads' are
 * checked when they exit, by their flush): a block freed twice that no
 * allocation has met since is reported rather than never.  A few
 * thousand words read at most.
 */
static void __attribute__((destructor))
malloc_exit_check(void)
{
	struct tsd *tsd = &tsd_tls;

	if (__atomic_load_n(&malloc_initialized, __ATOMIC_ACQUIRE) &&
	    tsd->state == TSD_NOMINAL)
		tcache_check(&tsd->tcache, "exit");
}

/* Fork ------------------------------------------------------------------- */

/* Every allocator lock, in rank order, so the child inherits none held. */
static void
malloc_prefork(void)
{
	if (!malloc_initialized)
		return;
	ctl_prefork();
	prof_prefork();
	tcache_prefork();
	arenas_prefork();
	background_prefork();
	extent_desc_prefork();
	base_prefork();
}

static void
malloc_postfork_parent(void)
{
	if (!malloc_initialized)
		return;
	base_postfork_parent();
	extent_desc_postfork_parent();
	background_postfork_parent();
	arenas_postfork_parent();
	tcache_postfork_parent();
	prof_postfork_parent();
	ctl_postfork_parent();
}

static void
malloc_postfork_child(void)
{
	if (!malloc_initialized)
		return;
	base_postfork_child();
	extent_desc_postfork_child();
	background_postfork_child();
	arenas_postfork_child();
	tcache_postfork_child();
	prof_postfork_child();
	ctl_postfork_child();
	tsd_postfork_child();
}
