/*
 * The sampling heap profiler: backtraces of sampled allocations, their
 * deduplicated stacks with per-thread counters, heap_v2 dumps that jeprof
 * reads, the ring of recent samples, and the dump triggers (interval,
 * high-water, exit, mallctl, an external request through the statpage).
 *
 * Sampling (prof.h): a thread samples the allocation during which its
 * allocated byte count crosses prof_sample_at; the next distance is drawn
 * from an exponential distribution of mean 2^lg_sample with a per-thread
 * xorshift generator, so no atomics and no shared state until a sample is
 * actually taken.  Everything here is a slow path.
 *
 * Backtraces (opt.prof_unwind): by default the frame-pointer chain, a
 * hundred-odd instructions a sample, checked against libgcc's
 * _Unwind_Backtrace (some 16,000, but it reads .eh_frame and so sees
 * frames built without frame pointers) on the first samples and every
 * 64th, each stack once; a disagreement turns the process to libgcc for
 * good.  libgcc_s is
 * opened only when profiling is on, and warmed up in prof_boot_late so
 * that its one-time initialisation (lazy binding, register table) happens
 * outside any allocation; with glibc >= 2.35 it finds unwind tables with
 * _dl_find_object, which neither locks nor allocates.  The allocator is
 * built with frame pointers (Makefile.inc) so that the chain crosses it.
 * The frames of the allocator itself are cut: everything up to and
 * including the last frame of a public allocation entry point (malloc,
 * calloc, ...), which is why the allocator is built without sibling-call
 * optimisation (an entry point that tail-calls leaves no frame).
 *
 * Memory: everything comes from base_alloc (never from malloc) and is never
 * returned: stacks persist once seen, sample records and the recent ring
 * are reused through free lists.
 *
 * Locking: prof_lock (RANK_PROF) protects the stack table, the thread
 * records, the sample records' free list, the recent ring, the counters
 * and the dump sequence numbers; dumps are written while holding it (into
 * a static buffer, so no large stack frame is needed).  Neither a
 * sample's commit nor its free takes the lock: the record is pushed onto
 * a lock-free list (committed, deferred) that the next lock holder
 * drains before it reads a count (prof_drain).  The exceptions: while the
 * recent ring, interval dumps or gdump are on, a commit takes the lock
 * (prof_commit_locked), and so does the free of a record still in the
 * ring (prof_sample_free).  A thread that holds the lock marks itself
 * busy (prof_tls.busy): an allocation made meanwhile on that thread (a
 * signal handler, a user's write callback) is not sampled, and its
 * sampled frees are always deferred, so nothing here can deadlock on
 * itself.  A sample of a stack its thread has seen takes no lock; the
 * thread takes it to fetch PROF_SPARES records at a time (struct
 * prof_tls).
 */
#define	_GNU_SOURCE
#include <sys/types.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <unwind.h>

#include "arena.h"
#include "base.h"
#include "conf.h"
#include "lock.h"
#include "malloc_np.h"
#include "msg.h"
#include "prof.h"
#include "statpage.h"
#include "tsd.h"

/* Glibc declares these in <malloc.h>; ours are entry points like malloc. */
void	*memalign(size_t, size_t);
void	*valloc(size_t);
void	*pvalloc(size_t);

#define	PROF_BT_MAX		128	/* frames kept per stack */
#define	PROF_BT_CAPTURE		(PROF_BT_MAX + 32) /* incl. our own */
#define	PROF_HASH_MIN		1024	/* initial buckets (power of 2) */
#define	PROF_RECENT_MAX		65536	/* ceiling of the recent ring */
#define	PROF_NAME_MAX		64

/*
 * Object and byte counts; accum* only grow (kept under prof_accum).  A
 * sample counts in its thread's share of its stack only (struct
 * prof_tcnt); the sums per stack, per thread and in all are made when
 * they are read (prof_sum).
 */
struct prof_cnt {
	uint64_t	curobjs;
	uint64_t	curbytes;
	uint64_t	accumobjs;
	uint64_t	accumbytes;
};

/*
 * A thread that took samples; uid is the t<uid> of the dumps, cnt the sum
 * of its shares made by prof_sum.
 */
struct prof_thread {
	struct prof_thread	*next;
	uint64_t		 uid;
	struct prof_cnt		 cnt;
	char			 name[PROF_NAME_MAX];
};

/* One thread's share of one stack. */
struct prof_tcnt {
	struct prof_tcnt	*next;
	struct prof_stack	*stack;
	struct prof_thread	*thread;
	struct prof_cnt		 cnt;
};

/*
 * A distinct backtrace, in the hash chain of bucket hash & mask.  cnt is
 * the sum over threads, made by prof_sum.  frames[0] is the innermost
 * (the caller of the allocation function).
 */
struct prof_stack {
	struct prof_stack	*next;
	struct prof_tcnt	*threads;
	uint64_t		 hash;
	struct prof_cnt		 cnt;
	unsigned		 nframes;
	bool			 checked;	/* auto: fp walk verified (atomic) */
	uintptr_t		 frames[];
};

/*
 * The record of one sampled allocation (prof.h's struct prof_tctx): a
 * thread's spare, then from prof_sample_prepare until its block is freed,
 * then on the free list.  Its counts are added when the lock holder
 * drains it from the committed list (or at once by a locked commit), and
 * epoch is stamped then: epoch != prof_epoch means a prof.reset came in
 * between, and its free is not subtracted from counters that no longer
 * include it.  A record may be on the committed and the deferred list at
 * once, hence two links.
 */
struct prof_tctx {
	struct prof_tctx	*next;		/* spare, deferred or free list */
	struct prof_tctx	*committed_next;
	struct prof_tcnt	*tcnt;
	uint64_t		 epoch;
	size_t			 usize;
	uint64_t		 recent_id;	/* 0: not in the ring */
};

/* One entry of the recent ring. */
struct prof_recent {
	uint64_t		 id;		/* 0: empty */
	const void		*ptr;
	size_t			 usize;
	struct prof_stack	*stack;
	uint64_t		 alloc_thread_uid;
	uint64_t		 alloc_time_ns;
	uint64_t		 free_thread_uid;
	uint64_t		 free_time_ns;	/* 0: still live */
};

/*
 * Per thread, beside struct tsd (whose layout is not ours).  A sample of
 * a stack the thread has seen before takes no lock: seen holds the
 * thread's share of its last stacks, by hash (never stale: shares are
 * never freed), and spares up to PROF_SPARES records for its next
 * samples, fetched under the lock when the list runs out (a lock pair is
 * some 75 instructions).
 */
#define	PROF_SEEN		16	/* power of 2 */
#define	PROF_SPARES		16
struct prof_tls {
	uint64_t		 rng;		/* xorshift state, never 0 */
	uint64_t		 last_event;	/* allocated at the last event */
	uint64_t		 interval_bytes; /* prepare -> commit */
	struct prof_thread	*thread;
	struct prof_tcnt	*seen[PROF_SEEN];
	struct prof_tctx	*spares;	/* linked by next */
	uintptr_t		 stack_lo;	/* the thread's stack, for */
	uintptr_t		 stack_hi;	/* the fp walk: [lo, hi) */
	uint8_t			 stack_state;	/* PROF_STACK_* */
	bool			 busy;
};

enum { PROF_STACK_UNKNOWN, PROF_STACK_KNOWN, PROF_STACK_NONE };

static TLS_IE struct prof_tls	prof_tls;

static struct mlock	prof_lock;
static bool		prof_booted;
static bool		prof_active_now;	/* prof.active (atomic) */
static bool		prof_thread_active_init_now;
static bool		prof_gdump_now;
static size_t		prof_lg_sample;		/* changed by prof.reset */
static double		prof_sample_mean;	/* 2^prof_lg_sample */
static char		prof_prefix_now[sizeof(opt.prof_prefix)];

static struct prof_stack **prof_buckets;
static size_t		prof_nbuckets, prof_nstacks;
static struct prof_thread *prof_threads;
static struct prof_tctx	*prof_tctx_free;
static struct prof_tctx	*prof_committed;	/* atomic push, see above */
static struct prof_tctx	*prof_deferred;		/* atomic push, see above */
/*
 * Why a commit takes the lock, one bit each (atomic, set and cleared by
 * their own setters); 0: it does not.
 */
enum {
	PROF_LOCKED_INTERVAL = 1,	/* interval dumps */
	PROF_LOCKED_RECENT = 2,		/* the recent ring */
	PROF_LOCKED_GDUMP = 4,		/* high-water dumps */
};
static unsigned		prof_commit_locked;
static struct prof_cnt	prof_total;
static uint64_t		prof_epoch;
static uint64_t		prof_next_uid;		/* atomic */

static uint64_t		prof_dump_seq, prof_dump_iseq, prof_dump_useq,
			prof_dump_mseq;
static uint64_t		prof_interval_acc;	/* bytes since last i-dump */
static size_t		prof_gdump_max;		/* high-water of mapped */

static struct prof_recent *prof_recent_ring;
static size_t		prof_recent_cap;	/* entries allocated */
static ssize_t		prof_recent_max = 0;	/* alloc_max; -1: cap */
static size_t		prof_recent_next;	/* slot of the next record */
static uint64_t		prof_recent_id;

/* Public allocation entry points: frames up to theirs are ours. */
static uintptr_t	prof_entries[11];

/* Math without libm ------------------------------------------------------ */

/* ln(x) for x in (0, 1]; about 1e-6 relative error, plenty for sampling. */
ALWAYS_INLINE double
prof_ln(double x)
{
	union { double d; uint64_t u; } v = { .d = x };
	int e = (int)((v.u >> 52) & 0x7ff) - 1023;
	double t, t2;

	v.u = (v.u & ~((uint64_t)0x7ff << 52)) | ((uint64_t)1023 << 52);
	/* x = m 2^e, m in [1, 2): ln m = 2 atanh((m - 1) / (m + 1)). */
	t = (v.d - 1) / (v.d + 1);
	t2 = t * t;
	return (e * 0.6931471805599453 + 2 * t * (1 + t2 * (1.0 / 3 +
	    t2 * (1.0 / 5 + t2 * (1.0 / 7 + t2 * (1.0 / 9))))));
}

/* exp(-x) for x >= 0. */
static double
prof_exp_neg(double x)
{
	double y = x / 0.6931471805599453, f, p;
	int n;

	if (y > 1000)
		return (0);
	n = (int)y;
	f = (y - n) * 0.6931471805599453;	/* exp(-x) = 2^-n e^-f */
	p = 1 - f * (1 - f / 2 * (1 - f / 3 * (1 - f / 4 * (1 - f / 5 *
	    (1 - f / 6 * (1 - f / 7))))));
	while (n-- > 0)
		p /= 2;
	return (p);
}

/* Sampling distance ------------------------------------------------------ */

ALWAYS_INLINE uint64_t
prof_rng_next(struct prof_tls *pt)
{
	uint64_t x = pt->rng;

	if (x == 0)
		x = ((uintptr_t)pt ^ (uint64_t)time(NULL) << 20 ^
		    (uint64_t)getpid()) * 0x9e3779b97f4a7c15ULL | 1;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	pt->rng = x;
	return (x * 0x2545f4914f6cdd1dULL);
}

/*
 * Bytes to the next sample: exponential with mean 2^lg_sample, >= 1.
 * Inline, with the mean kept as a double: a call and a conversion were a
 * third of its 90 instructions.
 */
ALWAYS_INLINE uint64_t
prof_sample_distance(struct prof_tls *pt)
{
	/* u in (0, 1]: 53 random bits, never 0. */
	double u = (double)((prof_rng_next(pt) >> 11) + 1) *
	    (1.0 / 9007199254740992.0);
	double d = -prof_ln(u) * prof_sample_mean;

	if (prof_lg_sample == 0)
		return (1);
	return (d < 1 ? 1 : d > 1e18 ? (uint64_t)1e18 : (uint64_t)d + 1);
}

/* Backtraces ------------------------------------------------------------- */

/*
 * Two walkers fill a struct prof_bt; opt.prof_unwind chooses (see
 * prof_boot_late and malloc(3)):
 *	fp	follows the frame-pointer chain: a hundred instructions for a
 *		usual stack, but frames of code built without frame pointers
 *		are skipped and the chain may stop early there;
 *	libgcc	_Unwind_Backtrace, which reads .eh_frame and so sees every
 *		frame, at about 16,000 instructions a sample;
 *	auto	fp, checked against libgcc on the process's first
 *		PROF_CHECK_FIRST walks, every PROF_CHECK_EVERY-th of the
 *		first PROF_CHECK_SLOW walks and every PROF_CHECK_SLOW-th
 *		after (the paths a program takes show up early; the checks
 *		were a fifth of a sample's cost at one in 64); one
 *		disagreement turns the process to libgcc for good.  A check
 *		due on a walk whose stack has been checked before waits for
 *		the next walk of a stack that has not (prof_check_owed): the
 *		same return addresses were verified already, and a loop
 *		over a few stacks paid 17,000 instructions a check for
 *		nothing (half an instruction a 1 KiB malloc and free over
 *		the first 4096 samples); the checks go to stacks not seen
 *		checked instead.
 * Both record return addresses, innermost first, and cut the allocator's
 * frames the same way, so that their stacks compare equal frame for frame.
 */
#define	PROF_CHECK_FIRST	8
#define	PROF_CHECK_EVERY	64
#define	PROF_CHECK_SLOW		4096
/*
 * The unwinder's outermost frames are the C runtime's (__libc_start_main,
 * _start; start_thread, clone3), built without frame pointers: the fp
 * walk may miss them or read garbage there, which says nothing about the
 * program's own frames, so the check ignores that many.
 */
#define	PROF_CHECK_TAIL		3
/*
 * The fp walk needs our own frames (MALLOC_PROF_FP: Makefile.inc builds
 * the allocator with frame pointers), a frame record layout it knows and
 * the thread's stack bounds (glibc's pthread_getattr_np).
 */
#if defined(MALLOC_PROF_FP) && defined(__GLIBC__) && \
    (defined(__x86_64__) || defined(__aarch64__))
#define	PROF_FP_WALK		1
#else
#define	PROF_FP_WALK		0
#endif

enum prof_unwind { PROF_UNWIND_AUTO, PROF_UNWIND_FP, PROF_UNWIND_LIBGCC };

struct prof_bt {
	uintptr_t	ip[PROF_BT_CAPTURE];
	unsigned	n;
	unsigned	cut;	/* frames [0, cut) are the allocator's */
};

/* The method in use (atomic): auto may turn into libgcc, once. */
static int		prof_unwind_now = PROF_UNWIND_LIBGCC;
static uint64_t		prof_fp_nwalks;		/* atomic, auto's schedule */
static bool		prof_check_owed;	/* atomic: a check is due */

/*
 * [start, end) of each public entry point, from its .eh_frame FDE: the fp
 * walk sees return addresses, not function starts, so it needs the ends
 * too.  entry_lo and entry_hi bound them all (one compare for most frames).
 */
static uintptr_t	prof_entry_end[sizeof(prof_entries) /
			    sizeof(prof_entries[0])];
static uintptr_t	prof_entry_lo, prof_entry_hi;

/*
 * libgcc's unwinder, found with dlopen when profiling starts: linking it
 * would load libgcc_s (about 80 KiB resident) into every process, and most
 * never profile.
 */
struct dwarf_eh_bases {		/* libgcc's unwind-dw2-fde.h */
	void	*tbase;
	void	*dbase;
	void	*func;
};
static _Unwind_Reason_Code (*unwind_backtrace)(_Unwind_Trace_Fn, void *);
static _Unwind_Ptr	(*unwind_get_ip)(struct _Unwind_Context *);
static _Unwind_Ptr	(*unwind_get_region_start)(struct _Unwind_Context *);
static const void	*(*unwind_find_fde)(void *, struct dwarf_eh_bases *);

/* False on success. */
static bool
prof_unwinder_load(void)
{
	void *h = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_LOCAL);

	if (h == NULL)
		return (true);
	*(void **)&unwind_backtrace = dlsym(h, "_Unwind_Backtrace");
	*(void **)&unwind_get_ip = dlsym(h, "_Unwind_GetIP");
	*(void **)&unwind_get_region_start = dlsym(h,
	    "_Unwind_GetRegionStart");
	*(void **)&unwind_find_fde = dlsym(h, "_Unwind_Find_FDE");
	return (unwind_backtrace == NULL || unwind_get_ip == NULL ||
	    unwind_get_region_start == NULL);
}

static _Unwind_Reason_Code
prof_unwind_cb(struct _Unwind_Context *ctx, void *arg)
{
	struct prof_bt *bt = arg;
	uintptr_t ip = (uintptr_t)unwind_get_ip(ctx), start;
	size_t i;

	if (ip == 0)
		return (_URC_END_OF_STACK);
	start = (uintptr_t)unwind_get_region_start(ctx);
	for (i = 0; i < sizeof(prof_entries) / sizeof(prof_entries[0]); i++)
		if (start == prof_entries[i])
			bt->cut = bt->n + 1;
	bt->ip[bt->n++] = ip;
	return (bt->n == PROF_BT_CAPTURE ? _URC_END_OF_STACK : _URC_NO_REASON);
}

static NOINLINE void
prof_bt_libgcc(struct prof_bt *bt)
{
	bt->n = 0;
	bt->cut = 0;
	if (unwind_backtrace != NULL)
		unwind_backtrace(prof_unwind_cb, bt);
}

/*
 * The entry points' ends, from the length of their FDEs.  False on
 * success; on failure the fp walk cannot cut and is not used.
 */
static bool
prof_entries_measure(void)
{
	struct dwarf_eh_bases bases;
	const unsigned char *fde;
	uintptr_t start;
	int32_t rel;
	uint32_t len;
	size_t i;

	if (unwind_find_fde == NULL)
		return (true);
	prof_entry_lo = UINTPTR_MAX;
	prof_entry_hi = 0;
	for (i = 0; i < sizeof(prof_entries) / sizeof(prof_entries[0]); i++) {
		start = prof_entries[i];
		fde = unwind_find_fde((void *)start, &bases);
		if (fde == NULL || (uintptr_t)bases.func != start)
			return (true);
		/*
		 * length (4), CIE offset (4), pc_begin, pc_range.  Only the
		 * usual pc-relative 4-byte encoding is read, and recognised
		 * by pc_begin leading back to the function.
		 */
		memcpy(&len, fde, 4);
		memcpy(&rel, fde + 8, 4);
		if (len == 0xffffffff ||
		    (uintptr_t)(fde + 8) + (uintptr_t)(intptr_t)rel != start)
			return (true);
		memcpy(&len, fde + 12, 4);
		prof_entry_end[i] = start + len;
		if (start < prof_entry_lo)
			prof_entry_lo = start;
		if (start + len > prof_entry_hi)
			prof_entry_hi = start + len;
	}
	return (false);
}

#if PROF_FP_WALK
/*
 * Whether the call that returns to ret was made by an entry point; the
 * caller has found ret - 1 in [prof_entry_lo, prof_entry_hi).
 */
static inline bool
prof_ret_in_entry(uintptr_t ret)
{
	size_t i;

	/* ret - 1: a call that ends a function returns past its end. */
	ret--;
	for (i = 0; i < sizeof(prof_entries) / sizeof(prof_entries[0]); i++)
		if (ret >= prof_entries[i] && ret < prof_entry_end[i])
			return (true);
	return (false);
}
#endif

/*
 * The calling thread's stack, [lo, hi), looked up at its first fp walk
 * (or at boot).  pthread_getattr_np may allocate (for the main thread it
 * reads /proc/self/maps): the thread is marked busy meanwhile, so that
 * such an allocation is not sampled.  False when the bounds are known.
 */
static bool
prof_stack_bounds(struct prof_tls *pt)
{
#if PROF_FP_WALK
	pthread_attr_t attr;
	size_t size;
	void *addr;
	bool busy;
	int err;

	if (pt->stack_state == PROF_STACK_UNKNOWN) {
		pt->stack_state = PROF_STACK_NONE;
		busy = pt->busy;
		pt->busy = true;
		err = pthread_getattr_np(pthread_self(), &attr);
		if (err == 0) {
			err = pthread_attr_getstack(&attr, &addr, &size);
			pthread_attr_destroy(&attr);
		}
		pt->busy = busy;
		if (err != 0)
			return (true);
		pt->stack_lo = (uintptr_t)addr;
		pt->stack_hi = (uintptr_t)addr + size;
		pt->stack_state = PROF_STACK_KNOWN;
	}
	return (pt->stack_state != PROF_STACK_KNOWN);
#else
	(void)pt;
	return (true);
#endif
}

/*
 * The frame-pointer walk.  A frame record is two words, the caller's
 * frame pointer then the return address (x86-64: rbp; aarch64: x29).
 * Code built without frame pointers uses that register for anything, so
 * every record is checked before it is read: aligned, strictly above the
 * previous one (the walk ends) and below the top of the thread's stack
 * (the memory between the current stack pointer and the top is mapped).
 * False when it cannot run here (then the caller uses libgcc).
 */
ALWAYS_INLINE bool
prof_bt_fp(struct prof_bt *bt, struct prof_tls *pt)
{
#if PROF_FP_WALK
	uintptr_t fp = (uintptr_t)__builtin_frame_address(0), next, ret;
	uintptr_t top, entry_lo, entry_span;
	unsigned n = 0, cut = 0;

	/* On a signal stack of its own the thread's bounds do not hold. */
	if ((pt->stack_state != PROF_STACK_KNOWN && prof_stack_bounds(pt)) ||
	    fp < pt->stack_lo || fp >= pt->stack_hi)
		return (false);
	/* In locals: the stores to bt->ip could alias them. */
	top = pt->stack_hi - 2 * sizeof(uintptr_t);	/* highest record */
	entry_lo = prof_entry_lo + 1;
	entry_span = prof_entry_hi - prof_entry_lo;
	while (n < PROF_BT_CAPTURE) {
		ret = ((const uintptr_t *)fp)[1];
		next = ((const uintptr_t *)fp)[0];
		if (ret == 0)
			break;
		/* ret - 1 in [lo, hi): one unsigned compare rejects most. */
		if (ret - entry_lo < entry_span && prof_ret_in_entry(ret))
			cut = n + 1;
		bt->ip[n++] = ret;
		if (next <= fp || next > top || next % sizeof(uintptr_t) != 0)
			break;
		fp = next;
	}
	bt->n = n;
	bt->cut = cut;
	return (true);
#else
	(void)bt;
	(void)pt;
	return (false);
#endif
}

/*
 * Whether an fp walk agrees with the unwinder's: the same frames after
 * the cut, except the unwinder's outermost PROF_CHECK_TAIL (see above),
 * and none of them missing.
 */
static bool
prof_bt_agree(const struct prof_bt *fp, const struct prof_bt *ug)
{
	unsigned nfp = fp->n - fp->cut, nug = ug->n - ug->cut, need;

	if (ug->n == PROF_BT_CAPTURE)
		need = nug;
	else
		need = nug > PROF_CHECK_TAIL ? nug - PROF_CHECK_TAIL : 0;
	if (need > PROF_BT_MAX)
		need = PROF_BT_MAX;
	return (nfp >= need && memcmp(fp->ip + fp->cut, ug->ip + ug->cut,
	    need * sizeof(uintptr_t)) == 0);
}

/* What auto's check of an fp walk found. */
enum { PROF_CHECK_NONE, PROF_CHECK_AGREED, PROF_CHECK_TURNED };

/*
 * auto's check of an fp walk: on a disagreement (PROF_CHECK_TURNED) the
 * process turns to libgcc and bt becomes libgcc's; PROF_CHECK_NONE when
 * libgcc finds no frames.  Out of line, so that the second record is on
 * the stack only while a check runs.
 */
static NOINLINE int
prof_bt_check(struct prof_bt *bt)
{
	struct prof_bt check;

	prof_bt_libgcc(&check);
	if (check.n == 0)
		return (PROF_CHECK_NONE);
	if (prof_bt_agree(bt, &check))
		return (PROF_CHECK_AGREED);
	__atomic_store_n(&prof_unwind_now, PROF_UNWIND_LIBGCC,
	    __ATOMIC_RELAXED);
	*bt = check;
	return (PROF_CHECK_TURNED);
}

/*
 * The caller's stack, with the allocator's frames counted in bt->cut.
 * True when it is an fp walk under auto and a check is owed: the caller
 * checks it if its stack has not been (prof_sample_prepare).
 */
static bool
prof_backtrace(struct prof_bt *bt, struct prof_tls *pt)
{
	int how = __atomic_load_n(&prof_unwind_now, __ATOMIC_RELAXED);
	uint64_t n;

	if (how == PROF_UNWIND_LIBGCC || !prof_bt_fp(bt, pt)) {
		prof_bt_libgcc(bt);
		return (false);
	}
	if (how != PROF_UNWIND_AUTO)
		return (false);
	n = __atomic_fetch_add(&prof_fp_nwalks, 1, __ATOMIC_RELAXED);
	if (n < PROF_CHECK_FIRST || n % (n < PROF_CHECK_SLOW ?
	    PROF_CHECK_EVERY : PROF_CHECK_SLOW) == 0)
		__atomic_store_n(&prof_check_owed, true, __ATOMIC_RELAXED);
	return (__atomic_load_n(&prof_check_owed, __ATOMIC_RELAXED));
}

/* Tables (prof_lock held) -------------------------------------------------- */

static uint64_t
prof_hash(const uintptr_t *frames, unsigned n)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ n;
	unsigned i;

	for (i = 0; i < n; i++) {
		h ^= frames[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return (h);
}

static bool
prof_buckets_grow(void)
{
	size_t n = prof_nbuckets == 0 ? PROF_HASH_MIN : prof_nbuckets * 2, i;
	struct prof_stack **b, *s, *next;

	b = base_alloc(n * sizeof(*b), CACHELINE);
	if (b == NULL)
		return (true);
	/* The old array is abandoned: base memory is never returned. */
	for (i = 0; i < prof_nbuckets; i++)
		for (s = prof_buckets[i]; s != NULL; s = next) {
			next = s->next;
			s->next = b[s->hash & (n - 1)];
			b[s->hash & (n - 1)] = s;
		}
	prof_buckets = b;
	prof_nbuckets = n;
	return (false);
}

/* Whether s is the stack of frames[0, n) (hash h). */
static inline bool
prof_stack_is(const struct prof_stack *s, const uintptr_t *frames,
    unsigned n, uint64_t h)
{
	unsigned i;

	if (s->hash != h || s->nframes != n)
		return (false);
	/* A loop: stacks are short, and memcmp is a call through the PLT. */
	for (i = 0; i < n; i++)
		if (s->frames[i] != frames[i])
			return (false);
	return (true);
}

static struct prof_stack *
prof_stack_get(const uintptr_t *frames, unsigned n, uint64_t h)
{
	struct prof_stack *s;

	if (prof_nbuckets == 0 && prof_buckets_grow())
		return (NULL);
	for (s = prof_buckets[h & (prof_nbuckets - 1)]; s != NULL; s = s->next)
		if (prof_stack_is(s, frames, n, h))
			return (s);
	if (prof_nstacks >= prof_nbuckets * 2)
		(void)prof_buckets_grow();
	s = base_alloc(sizeof(*s) + n * sizeof(*frames), 16);
	if (s == NULL)
		return (NULL);
	s->hash = h;
	s->nframes = n;
	memcpy(s->frames, frames, n * sizeof(*frames));
	s->next = prof_buckets[h & (prof_nbuckets - 1)];
	prof_buckets[h & (prof_nbuckets - 1)] = s;
	prof_nstacks++;
	return (s);
}

static struct prof_thread *
prof_thread_get(struct prof_tls *pt, const char *name)
{
	struct prof_thread *t = pt->thread;

	if (t != NULL)
		return (t);
	t = base_alloc(sizeof(*t), 16);
	if (t == NULL)
		return (NULL);
	t->uid = __atomic_fetch_add(&prof_next_uid, 1, __ATOMIC_RELAXED);
	msg_format(t->name, sizeof(t->name), "%s", name);
	t->next = prof_threads;
	prof_threads = t;
	pt->thread = t;
	return (t);
}

static struct prof_tcnt *
prof_tcnt_get(struct prof_stack *s, struct prof_thread *t)
{
	struct prof_tcnt *c;

	for (c = s->threads; c != NULL; c = c->next)
		if (c->thread == t)
			return (c);
	/* A line of its own, as records: a sample then misses once for it. */
	c = base_alloc(sizeof(*c), CACHELINE);
	if (c == NULL)
		return (NULL);
	c->stack = s;
	c->thread = t;
	c->next = s->threads;
	s->threads = c;
	return (c);
}

static void
prof_cnt_add(struct prof_cnt *c, size_t usize)
{
	c->curobjs++;
	c->curbytes += usize;
	if (opt.prof_accum) {
		c->accumobjs++;
		c->accumbytes += usize;
	}
}

static void
prof_cnt_sub(struct prof_cnt *c, size_t usize)
{
	c->curobjs--;
	c->curbytes -= usize;
}

static uint64_t
prof_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (0);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* Marks the record's ring entry freed, if it is still in the ring. */
static NOINLINE void
prof_recent_free(struct prof_tctx *tctx)
{
	struct prof_recent *r;
	size_t i;

	if (prof_recent_cap == 0)
		return;
	/* Ids are consecutive, so the entry's slot follows from its id. */
	if (prof_recent_id - tctx->recent_id >= prof_recent_cap)
		return;
	i = (prof_recent_next + prof_recent_cap -
	    (size_t)(prof_recent_id - tctx->recent_id) - 1) % prof_recent_cap;
	r = &prof_recent_ring[i];
	if (r->id != tctx->recent_id)
		return;
	r->free_time_ns = prof_now_ns();
	r->free_thread_uid = prof_tls.thread != NULL ? prof_tls.thread->uid :
	    UINT64_MAX;
}

/* Returns a freed record's counts and the record itself. */
static inline void
prof_tctx_release(struct prof_tctx *tctx)
{
	if (tctx->epoch == prof_epoch)
		prof_cnt_sub(&tctx->tcnt->cnt, tctx->usize);
	if (tctx->recent_id != 0)
		prof_recent_free(tctx);
	tctx->next = prof_tctx_free;
	prof_tctx_free = tctx;
}

/*
 * Counts the records committed and freed since the last drain; lock held.
 * The freed are taken first: a record's commit was pushed before its free
 * (the block was allocated before it was freed), so every record taken
 * from the deferred list is in the committed batch taken after, or in an
 * earlier one, and its counts are added (and its epoch stamped) before
 * they are subtracted.
 */
static void
prof_drain(void)
{
	struct prof_tctx *c, *d, *next;

	d = __atomic_exchange_n(&prof_deferred, NULL, __ATOMIC_ACQUIRE);
	c = __atomic_exchange_n(&prof_committed, NULL, __ATOMIC_ACQUIRE);
	for (; c != NULL; c = c->committed_next) {
		c->epoch = prof_epoch;
		prof_cnt_add(&c->tcnt->cnt, c->usize);
	}
	for (; d != NULL; d = next) {
		next = d->next;
		prof_tctx_release(d);
	}
}

/* Enters the profiler's critical section on this thread. */
static void
prof_enter(void)
{
	prof_tls.busy = true;
	mlock_lock(&prof_lock);
	if (__atomic_load_n(&prof_deferred, __ATOMIC_RELAXED) != NULL ||
	    __atomic_load_n(&prof_committed, __ATOMIC_RELAXED) != NULL)
		prof_drain();
}

static void
prof_leave(void)
{
	mlock_unlock(&prof_lock);
	prof_tls.busy = false;
}

/* Dumps ------------------------------------------------------------------ */

/*
 * Output goes through one buffer, under prof_lock, taken from base memory
 * at the first dump: as a static array its 8 KiB sat in .bss between the
 * arena table and the profiler's settings, which prof_boot writes in
 * every process, and put those on a page of their own (Makefile.inc).
 */
#define	PROF_OUT_SIZE	8192
static struct {
	int	fd;
	bool	failed;
	size_t	len;
	char	*buf;		/* PROF_OUT_SIZE bytes */
} prof_out;

static void
prof_out_flush(void)
{
	size_t off = 0;
	ssize_t n;

	while (off < prof_out.len && !prof_out.failed) {
		n = write(prof_out.fd, prof_out.buf + off, prof_out.len - off);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EINTR)
			prof_out.failed = true;
	}
	prof_out.len = 0;
}

static void
prof_out_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
prof_out_printf(const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (PROF_OUT_SIZE - prof_out.len < 512)
		prof_out_flush();
	va_start(ap, fmt);
	n = msg_vformat(prof_out.buf + prof_out.len,
	    PROF_OUT_SIZE - prof_out.len, fmt, ap);
	va_end(ap);
	prof_out.len += n;
}

static void
prof_out_line(const char *who, uint64_t uid, const struct prof_cnt *c,
    const char *name)
{
	if (who != NULL)
		prof_out_printf("  t%s: ", who);
	else
		prof_out_printf("  t%llu: ", (unsigned long long)uid);
	prof_out_printf("%llu: %llu [%llu: %llu]%s%s\n",
	    (unsigned long long)c->curobjs, (unsigned long long)c->curbytes,
	    (unsigned long long)c->accumobjs, (unsigned long long)c->accumbytes,
	    name != NULL && name[0] != '\0' ? " " : "",
	    name != NULL ? name : "");
}

/* Copies /proc/self/maps, which jeprof needs to symbolise addresses. */
static void
prof_out_maps(void)
{
	ssize_t n;
	int fd;

	prof_out_printf("\nMAPPED_LIBRARIES:\n");
	prof_out_flush();
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while ((n = read(fd, prof_out.buf, PROF_OUT_SIZE)) > 0 ||
	    (n < 0 && errno == EINTR))
		if (n > 0) {
			prof_out.len = (size_t)n;
			prof_out_flush();
		}
	close(fd);
}

static void
prof_cnt_sum(struct prof_cnt *sum, const struct prof_cnt *c)
{
	sum->curobjs += c->curobjs;
	sum->curbytes += c->curbytes;
	sum->accumobjs += c->accumobjs;
	sum->accumbytes += c->accumbytes;
}

/* The sums per stack, per thread and in all, of the shares; lock held. */
static void
prof_sum(void)
{
	struct prof_thread *t;
	struct prof_stack *s;
	struct prof_tcnt *c;
	size_t i;

	memset(&prof_total, 0, sizeof(prof_total));
	for (t = prof_threads; t != NULL; t = t->next)
		memset(&t->cnt, 0, sizeof(t->cnt));
	for (i = 0; i < prof_nbuckets; i++)
		for (s = prof_buckets[i]; s != NULL; s = s->next) {
			memset(&s->cnt, 0, sizeof(s->cnt));
			for (c = s->threads; c != NULL; c = c->next) {
				prof_cnt_sum(&s->cnt, &c->cnt);
				prof_cnt_sum(&c->thread->cnt, &c->cnt);
			}
			prof_cnt_sum(&prof_total, &s->cnt);
		}
}

/* Writes the heap_v2 profile to path; prof_lock held.  0 or an errno. */
static int
prof_dump_locked(const char *path)
{
	const struct prof_thread *t;
	const struct prof_tcnt *c;
	const struct prof_stack *s;
	size_t i;
	unsigned k;
	int err;

	if (prof_out.buf == NULL &&
	    (prof_out.buf = base_alloc(PROF_OUT_SIZE, CACHELINE)) == NULL)
		return (ENOMEM);
	prof_out.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644);
	if (prof_out.fd < 0)
		return (errno);
	prof_out.failed = false;
	prof_out.len = 0;
	prof_sum();
	prof_out_printf("heap_v2/%llu\n",
	    (unsigned long long)((uint64_t)1 << prof_lg_sample));
	prof_out_line("*", 0, &prof_total, NULL);
	for (t = prof_threads; t != NULL; t = t->next)
		if (t->cnt.curobjs != 0 || t->cnt.accumobjs != 0)
			prof_out_line(NULL, t->uid, &t->cnt, t->name);
	for (i = 0; i < prof_nbuckets; i++)
		for (s = prof_buckets[i]; s != NULL; s = s->next) {
			if (s->cnt.curobjs == 0 && s->cnt.accumobjs == 0)
				continue;
			prof_out_printf("@");
			for (k = 0; k < s->nframes; k++)
				prof_out_printf(" 0x%lx",
				    (unsigned long)s->frames[k]);
			prof_out_printf("\n");
			prof_out_line("*", 0, &s->cnt, NULL);
			for (c = s->threads; c != NULL; c = c->next)
				if (c->cnt.curobjs != 0 ||
				    c->cnt.accumobjs != 0)
					prof_out_line(NULL, c->thread->uid,
					    &c->cnt, NULL);
		}
	prof_out_maps();
	err = prof_out.failed ? EIO : 0;
	if (close(prof_out.fd) != 0 && err == 0)
		err = errno;
	return (err);
}

/*
 * The automatic file name: <prefix>.<pid>.<seq>.<kind><kseq>.heap, kind
 * one of i u m (and f without a number).  False when there is no prefix.
 */
static bool
prof_dump_name(char *buf, size_t size, char kind, uint64_t kseq)
{
	if (prof_prefix_now[0] == '\0')
		return (false);
	if (kind == 'f')
		msg_format(buf, size, "%s.%d.%llu.f.heap", prof_prefix_now,
		    (int)getpid(), (unsigned long long)prof_dump_seq);
	else
		msg_format(buf, size, "%s.%d.%llu.%c%llu.heap", prof_prefix_now,
		    (int)getpid(), (unsigned long long)prof_dump_seq, kind,
		    (unsigned long long)kseq);
	prof_dump_seq++;
	return (true);
}

/* An automatic dump of the given kind; prof_lock held. */
static void
prof_dump_auto(char kind, uint64_t *kseq)
{
	char path[sizeof(prof_prefix_now) + 80];
	int err;

	if (!prof_dump_name(path, sizeof(path), kind, kseq != NULL ? *kseq : 0))
		return;
	if (kseq != NULL)
		(*kseq)++;
	err = prof_dump_locked(path);
	if (err != 0)
		msg_warn("cannot write heap profile %s (error %d)", path, err);
}

/* Sum of the arenas' mapped bytes, read without locks (a trigger only). */
static size_t
prof_mapped(void)
{
	unsigned i, n = __atomic_load_n(&narenas_total, __ATOMIC_RELAXED);
	struct arena *a;
	size_t sum = 0;

	for (i = 0; i < n && i < ARENAS_MAX; i++)
		if ((a = __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE)) != NULL)
			sum += __atomic_load_n(&a->mapped, __ATOMIC_RELAXED);
	return (sum);
}

/* Sampling ---------------------------------------------------------------- */

/* Records for the thread's next samples, if it has none; prof_lock held. */
static void
prof_spares_fill(struct prof_tls *pt)
{
	struct prof_tctx *tctx;
	unsigned i;

	if (pt->spares != NULL)
		return;
	for (i = 0; i < PROF_SPARES; i++) {
		if ((tctx = prof_tctx_free) != NULL)
			prof_tctx_free = tctx->next;
		else if ((tctx = base_alloc(sizeof(*tctx), CACHELINE)) == NULL)
			return;
		tctx->next = pt->spares;
		pt->spares = tctx;
	}
}

/*
 * The thread's share of the stack frames[0, n) (hash h), found or made
 * under prof_lock, and remembered in pt->seen, unless c is it (found in
 * pt->seen); spare records made ready.  NULL when out of memory.
 */
static NOINLINE struct prof_tcnt *
prof_tcnt_find(struct prof_tls *pt, const char *name,
    const uintptr_t *frames, unsigned n, uint64_t h, struct prof_tcnt *c)
{
	struct prof_thread *t;
	struct prof_stack *s;

	prof_enter();
	if (c == NULL && (t = prof_thread_get(pt, name)) != NULL &&
	    (s = prof_stack_get(frames, n, h)) != NULL &&
	    (c = prof_tcnt_get(s, t)) != NULL)
		pt->seen[h & (PROF_SEEN - 1)] = c;
	prof_spares_fill(pt);
	prof_leave();
	return (c);
}

struct prof_tctx *
prof_sample_prepare(struct tsd *tsd, size_t usize)
{
	struct prof_tls *pt = &prof_tls;
	uint64_t now = tsd_allocated(tsd) + usize, h;
	const uintptr_t *frames;
	struct prof_tctx *tctx;
	struct prof_tcnt *c;
	struct prof_bt bt;
	unsigned n;
	bool check;

	tsd->prof_sample_at = now + prof_sample_distance(pt);
	tsd_update_event(tsd);
	if (pt->busy || !__atomic_load_n(&prof_active_now, __ATOMIC_RELAXED))
		return (NULL);
	pt->interval_bytes = now - pt->last_event;
	pt->last_event = now;
	pt->busy = true;
	check = prof_backtrace(&bt, pt);
again:
	/* No entry point seen (a call from inside): drop just this frame. */
	if (bt.cut == 0 && bt.n > 0)
		bt.cut = 1;
	frames = bt.ip + bt.cut;
	n = bt.n - bt.cut > PROF_BT_MAX ? PROF_BT_MAX : bt.n - bt.cut;
	h = prof_hash(frames, n);
	c = pt->seen[h & (PROF_SEEN - 1)];
	if (c != NULL && !prof_stack_is(c->stack, frames, n, h))
		c = NULL;
	if (c == NULL || pt->spares == NULL) {
		c = prof_tcnt_find(pt, tsd->prof_name, frames, n, h, c);
		if (c == NULL || pt->spares == NULL) {
			pt->busy = false;
			return (NULL);
		}
	}
	/* auto's check, owed to a stack not checked yet (see above). */
	if (check && !__atomic_load_n(&c->stack->checked, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&prof_check_owed, false, __ATOMIC_RELAXED)) {
		check = false;
		switch (prof_bt_check(&bt)) {
		case PROF_CHECK_AGREED:
			__atomic_store_n(&c->stack->checked, true,
			    __ATOMIC_RELAXED);
			break;
		case PROF_CHECK_TURNED:
			goto again;	/* bt is libgcc's stack now */
		}
	}
	pt->busy = false;
	tctx = pt->spares;
	pt->spares = tctx->next;
	tctx->tcnt = c;
	tctx->next = NULL;
	tctx->recent_id = 0;
	return (tctx);
}

static void
prof_recent_add(struct prof_tctx *tctx, const void *ptr, size_t usize)
{
	struct prof_recent *r;
	size_t max = prof_recent_max < 0 ? PROF_RECENT_MAX :
	    (size_t)prof_recent_max;

	if (max == 0)
		return;
	if (prof_recent_cap != max) {
		/* Reallocated only when the size changes (rarely). */
		r = base_alloc(max * sizeof(*r), CACHELINE);
		if (r == NULL)
			return;
		prof_recent_ring = r;
		prof_recent_cap = max;
		prof_recent_next = 0;
	}
	r = &prof_recent_ring[prof_recent_next];
	prof_recent_next = (prof_recent_next + 1) % prof_recent_cap;
	r->id = ++prof_recent_id;
	r->ptr = ptr;
	r->usize = usize;
	r->stack = tctx->tcnt->stack;
	r->alloc_thread_uid = tctx->tcnt->thread->uid;
	r->alloc_time_ns = prof_now_ns();
	r->free_thread_uid = 0;
	r->free_time_ns = 0;
	tctx->recent_id = r->id;
}

/* Sets or clears one reason for commits to take the lock. */
static void
prof_commit_locked_set(unsigned why, bool on)
{
	if (on)
		__atomic_fetch_or(&prof_commit_locked, why, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&prof_commit_locked, ~why,
		    __ATOMIC_RELAXED);
}

/*
 * Usually a push onto the committed list, counted by the next lock holder
 * (prof_drain); the recent ring and the dump triggers need the lock.
 */
void
prof_sample_commit(struct prof_tctx *tctx, const void *ptr, size_t usize)
{
	struct prof_tls *pt = &prof_tls;
	struct prof_tctx *head;
	size_t mapped;

	tctx->usize = usize;
	if (__atomic_load_n(&prof_commit_locked, __ATOMIC_RELAXED) == 0) {
		head = __atomic_load_n(&prof_committed, __ATOMIC_RELAXED);
		do
			tctx->committed_next = head;
		while (!__atomic_compare_exchange_n(&prof_committed, &head,
		    tctx, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
		return;
	}
	prof_enter();
	tctx->epoch = prof_epoch;
	prof_cnt_add(&tctx->tcnt->cnt, usize);
	prof_recent_add(tctx, ptr, usize);
	if (opt.lg_prof_interval >= 0) {
		prof_interval_acc += pt->interval_bytes;
		if (prof_interval_acc >= (uint64_t)1 << opt.lg_prof_interval) {
			prof_interval_acc = 0;
			prof_dump_auto('i', &prof_dump_iseq);
		}
	}
	if (__atomic_load_n(&prof_gdump_now, __ATOMIC_RELAXED) &&
	    (mapped = prof_mapped()) > prof_gdump_max) {
		prof_gdump_max = mapped;
		prof_dump_auto('u', &prof_dump_useq);
	}
	prof_leave();
}

/*
 * The record goes onto the deferred list, without a lock: the next holder
 * of prof_lock (a thread fetching records, a dump, exit's leak report)
 * subtracts it before it reads a count.  Only a record still in the
 * recent ring is released here and now, so that the ring tells this
 * free's time and thread; and then not if this thread's own critical
 * section was interrupted.
 */
void
prof_sample_free(struct prof_tctx *tctx, const void *ptr, size_t usize)
{
	struct prof_tctx *head;

	(void)ptr;
	(void)usize;
	if (tctx->recent_id == 0 || prof_tls.busy) {
		head = __atomic_load_n(&prof_deferred, __ATOMIC_RELAXED);
		do
			tctx->next = head;
		while (!__atomic_compare_exchange_n(&prof_deferred, &head, tctx,
		    true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
		return;
	}
	prof_enter();
	prof_tctx_release(tctx);
	prof_leave();
}

/* Boot, threads, exit ------------------------------------------------------ */

static void
prof_atexit(void)
{
	double objs = 0, bytes = 0, period, avg, scale;
	const struct prof_stack *s;
	size_t i, nstacks = 0;

	prof_enter();
	if (opt.prof_final)
		prof_dump_auto('f', NULL);
	prof_sum();
	if (opt.prof_leak && prof_total.curobjs != 0) {
		/* Unbiased as jeprof does: 1 / P(sampled) per stack. */
		period = (double)((uint64_t)1 << prof_lg_sample);
		for (i = 0; i < prof_nbuckets; i++)
			for (s = prof_buckets[i]; s != NULL; s = s->next) {
				if (s->cnt.curobjs == 0)
					continue;
				nstacks++;
				avg = (double)s->cnt.curbytes /
				    (double)s->cnt.curobjs;
				scale = 1 / (1 - prof_exp_neg(avg / period));
				objs += (double)s->cnt.curobjs * scale;
				bytes += (double)s->cnt.curbytes * scale;
			}
		msg_warn("Leak approximation summary: ~%llu bytes, ~%llu "
		    "objects, >= %zu contexts", (unsigned long long)bytes,
		    (unsigned long long)objs, nstacks);
		msg_warn("Run jeprof on dump output for leak detail");
	}
	prof_leave();
}

void
prof_boot(void)
{
	mlock_init(&prof_lock, RANK_PROF);
	prof_lg_sample = opt.lg_prof_sample;
	prof_sample_mean = (double)((uint64_t)1 << prof_lg_sample);
	prof_active_now = opt.prof && opt.prof_active;
	prof_thread_active_init_now = opt.prof_thread_active_init;
	prof_gdump_now = opt.prof_gdump;
	prof_commit_locked_set(PROF_LOCKED_INTERVAL, opt.lg_prof_interval >= 0);
	prof_commit_locked_set(PROF_LOCKED_GDUMP, prof_gdump_now);
	memcpy(prof_prefix_now, opt.prof_prefix, sizeof(prof_prefix_now));
	prof_entries[0] = (uintptr_t)malloc;
	prof_entries[1] = (uintptr_t)calloc;
	prof_entries[2] = (uintptr_t)realloc;
	prof_entries[3] = (uintptr_t)reallocarray;
	prof_entries[4] = (uintptr_t)posix_memalign;
	prof_entries[5] = (uintptr_t)aligned_alloc;
	prof_entries[6] = (uintptr_t)memalign;
	prof_entries[7] = (uintptr_t)valloc;
	prof_entries[8] = (uintptr_t)pvalloc;
	prof_entries[9] = (uintptr_t)mallocx;
	prof_entries[10] = (uintptr_t)rallocx;
	prof_booted = true;
}

void
prof_boot_late(void)
{
	struct prof_bt bt;

	if (!opt.prof)
		return;
	if (prof_unwinder_load())
		msg_warn("prof: cannot load libgcc_s.so.1 (%s): samples will "
		    "have no stacks", dlerror());
	else if (PROF_FP_WALK && strcmp(opt.prof_unwind, "libgcc") != 0 &&
	    !prof_entries_measure()) {
		prof_unwind_now = strcmp(opt.prof_unwind, "fp") == 0 ?
		    PROF_UNWIND_FP : PROF_UNWIND_AUTO;
		/* This thread's stack bounds, while allocating is harmless. */
		(void)prof_stack_bounds(&prof_tls);
	}
	/* First use resolves symbols and sets up libgcc's tables. */
	prof_bt_libgcc(&bt);
	if (opt.prof_final || opt.prof_leak)
		atexit(prof_atexit);
}

void
prof_tsd_init(struct tsd *tsd)
{
	struct prof_tls *pt = &prof_tls;

	tsd->prof_active = opt.prof && __atomic_load_n(
	    &prof_thread_active_init_now, __ATOMIC_RELAXED);
	pt->last_event = tsd_allocated(tsd);
	tsd->prof_sample_at = tsd->prof_active ? tsd_allocated(tsd) +
	    prof_sample_distance(pt) : UINT64_MAX;
}

void
prof_thread_exit(void)
{
	struct prof_tls *pt = &prof_tls;
	struct prof_tctx *tctx;

	if (pt->spares == NULL)
		return;
	prof_enter();
	while ((tctx = pt->spares) != NULL) {
		pt->spares = tctx->next;
		tctx->next = prof_tctx_free;
		prof_tctx_free = tctx;
	}
	prof_leave();
}

void
prof_prefork(void)
{
	if (!opt.prof)
		return;
	mlock_lock(&prof_lock);
}

void
prof_postfork_parent(void)
{
	if (!opt.prof)
		return;
	mlock_unlock(&prof_lock);
}

void
prof_postfork_child(void)
{
	if (!opt.prof)
		return;
	mlock_postfork_child(&prof_lock);
}

/* mallctl and external requests -------------------------------------------- */

bool
prof_ctl_active(const bool *newval)
{
	bool old = __atomic_load_n(&prof_active_now, __ATOMIC_RELAXED);

	if (newval != NULL && opt.prof)
		__atomic_store_n(&prof_active_now, *newval, __ATOMIC_RELAXED);
	return (old);
}

bool
prof_ctl_gdump(const bool *newval)
{
	bool old = __atomic_load_n(&prof_gdump_now, __ATOMIC_RELAXED);

	if (newval != NULL) {
		__atomic_store_n(&prof_gdump_now, *newval, __ATOMIC_RELAXED);
		prof_commit_locked_set(PROF_LOCKED_GDUMP, *newval);
	}
	return (old);
}

bool
prof_ctl_thread_active_init(const bool *newval)
{
	bool old = __atomic_load_n(&prof_thread_active_init_now,
	    __ATOMIC_RELAXED);

	if (newval != NULL)
		__atomic_store_n(&prof_thread_active_init_now, *newval,
		    __ATOMIC_RELAXED);
	return (old);
}

size_t
prof_ctl_lg_sample(void)
{
	return (prof_lg_sample);
}

const char *
prof_ctl_unwind(void)
{
	return (__atomic_load_n(&prof_unwind_now, __ATOMIC_RELAXED) ==
	    PROF_UNWIND_LIBGCC ? "libgcc" : "fp");
}

int
prof_ctl_dump(const char *filename)
{
	char path[sizeof(prof_prefix_now) + 80];
	int err;

	if (!opt.prof)
		return (ENOENT);
	prof_enter();
	if (filename == NULL) {
		if (!prof_dump_name(path, sizeof(path), 'm', prof_dump_mseq)) {
			prof_leave();
			return (EFAULT);
		}
		prof_dump_mseq++;
		filename = path;
	}
	err = prof_dump_locked(filename);
	prof_leave();
	return (err != 0 ? EFAULT : 0);
}

int
prof_ctl_prefix(const char *prefix)
{
	if (!opt.prof)
		return (ENOENT);
	if (prefix == NULL || strlen(prefix) >= sizeof(prof_prefix_now))
		return (EINVAL);
	prof_enter();
	memcpy(prof_prefix_now, prefix, strlen(prefix) + 1);
	prof_leave();
	return (0);
}

/* Forgets every count; samples still live are no longer subtracted. */
int
prof_ctl_reset(const size_t *lg_sample)
{
	struct prof_stack *s;
	struct prof_tcnt *c;
	size_t i;

	if (!opt.prof)
		return (ENOENT);
	if (lg_sample != NULL && *lg_sample > 62)
		return (EINVAL);
	prof_enter();
	prof_epoch++;
	for (i = 0; i < prof_nbuckets; i++)
		for (s = prof_buckets[i]; s != NULL; s = s->next)
			for (c = s->threads; c != NULL; c = c->next)
				memset(&c->cnt, 0, sizeof(c->cnt));
	if (lg_sample != NULL) {
		prof_lg_sample = *lg_sample;
		prof_sample_mean = (double)((uint64_t)1 << prof_lg_sample);
	}
	prof_leave();
	return (0);
}

/* thread.prof.name: name may be NULL (read only); returns the old one. */
int
prof_ctl_thread_name(struct tsd *tsd, const char *name)
{
	size_t i;

	if (!opt.prof)
		return (ENOENT);
	if (name == NULL)
		return (0);
	for (i = 0; name[i] != '\0'; i++)
		if ((unsigned char)name[i] < 0x20 ||
		    (unsigned char)name[i] == 0x7f)
			return (EFAULT);
	if (i >= sizeof(tsd->prof_name))
		return (EFAULT);
	prof_enter();
	memcpy(tsd->prof_name, name, i + 1);
	if (prof_tls.thread != NULL)
		memcpy(prof_tls.thread->name, name, i + 1);
	prof_leave();
	return (0);
}

bool
prof_ctl_thread_active(struct tsd *tsd, const bool *newval)
{
	bool old = tsd->prof_active;

	if (newval != NULL && opt.prof && *newval != old) {
		tsd->prof_active = *newval;
		tsd->prof_sample_at = *newval ? tsd_allocated(tsd) +
		    prof_sample_distance(&prof_tls) : UINT64_MAX;
		prof_tls.last_event = tsd_allocated(tsd);
		tsd_update_event(tsd);
	}
	return (old);
}

ssize_t
prof_ctl_recent_alloc_max(const ssize_t *newval)
{
	ssize_t old;

	prof_enter();
	old = prof_recent_max;
	if (newval != NULL) {
		prof_recent_max = *newval < -1 ? -1 : *newval >
		    PROF_RECENT_MAX ? PROF_RECENT_MAX : *newval;
		if (prof_recent_max == 0) {
			prof_recent_cap = 0;
			prof_recent_next = 0;
		}
		prof_commit_locked_set(PROF_LOCKED_RECENT,
		    prof_recent_max != 0);
	}
	prof_leave();
	return (old);
}

/*
 * experimental.prof_recent.alloc_dump: the ring as JSON, in jemalloc's
 * shape, oldest first, to write_cb (NULL: fd 2).  The callback runs with
 * prof_lock held: its allocations are not sampled, its frees deferred.
 */
void
prof_recent_dump(void (*write_cb)(void *, const char *), void *cbopaque)
{
	char buf[256];
	const struct prof_recent *r;
	size_t i, n, k;
	bool first = true;

#define	EMIT(...) do {							\
	msg_format(buf, sizeof(buf), __VA_ARGS__);			\
	if (write_cb != NULL)						\
		write_cb(cbopaque, buf);				\
	else								\
		(void)!write(2, buf, strlen(buf));			\
} while (0)
	prof_enter();
	EMIT("{\"sample_interval\":%llu,\"recent_alloc_max\":%lld,"
	    "\"recent_alloc\":[", (unsigned long long)((uint64_t)1 <<
	    prof_lg_sample), (long long)prof_recent_max);
	n = prof_recent_cap;
	for (i = 0; i < n; i++) {
		r = &prof_recent_ring[(prof_recent_next + i) % n];
		if (r->id == 0)
			continue;
		EMIT("%s{\"size\":%zu,\"usize\":%zu,\"alloc_thread_uid\":%llu,"
		    "\"alloc_time\":%llu,\"alloc_trace\":[", first ? "" : ",",
		    r->usize, r->usize,
		    (unsigned long long)r->alloc_thread_uid,
		    (unsigned long long)r->alloc_time_ns);
		first = false;
		for (k = 0; k < r->stack->nframes; k++)
			EMIT("%s\"0x%lx\"", k == 0 ? "" : ",",
			    (unsigned long)r->stack->frames[k]);
		if (r->free_time_ns != 0)
			EMIT("],\"free_thread_uid\":%llu,\"free_time\":%llu,"
			    "\"released\":true}",
			    (unsigned long long)r->free_thread_uid,
			    (unsigned long long)r->free_time_ns);
		else
			EMIT("],\"released\":false}");
	}
	EMIT("]}\n");
	prof_leave();
#undef EMIT
}

/*
 * An external request (statpage): dumps to an absolute .m name and puts
 * it in text.  Runs on a slow path of whichever thread refreshes the page.
 */
uint32_t
prof_statpage_dump(char *text, size_t textsize)
{
	char path[sizeof(prof_prefix_now) + 80], cwd[512];
	int err;

	if (!opt.prof) {
		msg_format(text, textsize, "profiling not enabled "
		    "(run with MALLOC_CONF=prof:true)");
		return (STATPAGE_RESP_NOPROF);
	}
	if (prof_tls.busy) {
		msg_format(text, textsize, "profiler busy, try again");
		return (STATPAGE_RESP_FAILED);
	}
	prof_enter();
	if (!prof_dump_name(path, sizeof(path), 'm', prof_dump_mseq)) {
		prof_leave();
		msg_format(text, textsize, "prof_prefix is empty");
		return (STATPAGE_RESP_FAILED);
	}
	prof_dump_mseq++;
	err = prof_dump_locked(path);
	prof_leave();
	if (err != 0) {
		msg_format(text, textsize, "cannot write %s (error %d)", path,
		    err);
		return (STATPAGE_RESP_FAILED);
	}
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL)
		msg_format(text, textsize, "%s/%s", cwd, path);
	else
		msg_format(text, textsize, "%s", path);
	return (STATPAGE_RESP_DONE);
}
