/*
 * alloc_ops_fuzz: libFuzzer harness running the input as a program of
 * allocation calls on NSLOTS slots, in the same process as libFuzzer, both
 * on our allocator (libmalloc is linked statically).
 *
 * Each step reads an operation byte, a slot byte and the operands it
 * needs; an exhausted input reads as zeros.  Every call of the standard,
 * C23 and *allocx() interfaces appears, with sizes mostly small, up to
 * 1 MiB, and rarely up to 64 MiB.
 *
 * Invariants checked after every call, any violation ending the run with
 * a message and __builtin_trap():
 *   - a live block holds its slot's pattern (filled over its whole usable
 *     size) whenever it is resized or freed;
 *   - realloc, rallocx and xallocx preserve the contents up to the lesser
 *     of the old usable size and the new request;
 *   - no two live blocks overlap (usable extents kept sorted by address);
 *   - the usable size covers the request, and agrees with sallocx and,
 *     for *allocx(), with nallocx;
 *   - the alignment asked for is honoured, and memory promised zeroed is
 *     (calloc: the request; MALLOCX_ZERO: the usable size, or the grown
 *     part of a resized block);
 *   - impossible requests fail with the documented error, leaving the
 *     block they were to resize untouched.
 * At the end of each input every live block is checked and freed, so an
 * input is a complete, repeatable program.
 */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "malloc_np.h"

#define	NSLOTS		32
#define	SIZE_SMALL_MAX	((size_t)16384)
#define	SIZE_MEDIUM_MAX	((size_t)1 << 20)
#define	SIZE_HUGE_MAX	((size_t)64 << 20)
/* Live bytes beyond this make an allocating step a no-op (RSS bound). */
#define	LIVE_MAX	((size_t)256 << 20)
/*
 * Bytes of sizes above SIZE_MEDIUM_MAX one input may ask for; later huge
 * sizes shrink to medium ones.  Filling and checking 64 MiB costs tens of
 * milliseconds, and libFuzzer likes 0xff bytes.
 */
#define	HUGE_BUDGET	((size_t)96 << 20)
/* Largest alignment tried; 2^LG_ALIGN_MAX still fits every class. */
#define	LG_ALIGN_MAX	22

/*
 * The byte loops over blocks carry no coverage instrumentation: a traced
 * compare per word made them most of the run time, and their branches say
 * nothing about the allocator (not inlined: the caller's instrumentation
 * would apply).
 */
#define	NO_COVERAGE	__attribute__((no_sanitize("coverage"), noinline))

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A live block: the request, the usable size, the alignment it was made
 * with (0: none, which is what sdallocx and free_aligned_sized must
 * repeat) and the key of its pattern.
 */
struct slot {
	unsigned char	*p;
	size_t		 req;
	size_t		 usize;
	size_t		 align;
	uint64_t	 key;
};

struct input {
	const uint8_t	*data;
	size_t		 left;
};

static struct slot	slots[NSLOTS];
/* Indices of live slots, by increasing address. */
static unsigned		live[NSLOTS];
static unsigned		nlive;
static size_t		live_bytes;
static uint64_t		key_next;
static size_t		huge_budget;

static __attribute__((noreturn, format(printf, 1, 2))) void
violation(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "alloc_ops_fuzz: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if ((size_t)n >= sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)write(2, buf, (size_t)n);
	__builtin_trap();
}

static uint8_t
in_u8(struct input *in)
{
	if (in->left == 0)
		return (0);
	in->left--;
	return (*in->data++);
}

static uint32_t
in_u32(struct input *in)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v = v << 8 | in_u8(in);
	return (v);
}

/* Mostly tiny and small, sometimes up to 1 MiB, rarely up to 64 MiB. */
static size_t
in_size(struct input *in)
{
	uint8_t kind = in_u8(in);
	uint32_t r = in_u32(in);
	size_t size;

	if (kind == 0xff) {
		size = r % SIZE_HUGE_MAX + 1;
		if (size <= SIZE_MEDIUM_MAX || size <= huge_budget) {
			huge_budget -= size > SIZE_MEDIUM_MAX ? size : 0;
			return (size);
		}
		return (size % SIZE_MEDIUM_MAX + 1);
	}
	/* Filling and checking dominate the run time: big ones are rarer. */
	switch (kind % 16) {
	case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
		return (r % 257);
	case 8: case 9: case 10: case 11: case 12:
		return (r % (SIZE_SMALL_MAX + 1));
	case 13: case 14:
		return (r % (4 * SIZE_SMALL_MAX + 1));
	default:
		return (r % SIZE_MEDIUM_MAX + 1);
	}
}

/* log2 of an alignment in 0..LG_ALIGN_MAX, small ones more likely. */
static unsigned
in_lg_align(struct input *in)
{
	uint8_t b = in_u8(in);

	return (b < 192 ? b % 13 : b % (LG_ALIGN_MAX + 1));
}

/* MALLOCX_* flags: alignment, zeroing, thread cache bypass. */
static int
in_xflags(struct input *in, size_t *alignp)
{
	uint8_t b = in_u8(in);
	unsigned lg = 0;
	int flags = 0;

	if (b & 1) {
		lg = in_lg_align(in);
		flags |= MALLOCX_LG_ALIGN(lg);
	}
	if (b & 2)
		flags |= MALLOCX_ZERO;
	if (b & 4)
		flags |= MALLOCX_TCACHE_NONE;
	*alignp = lg == 0 ? 0 : (size_t)1 << lg;
	return (flags);
}

/*
 * The pattern: byte i of a block is byte i % 8 of key ^ (i / 8) * K, so
 * a copy to the same offsets in another block checks against the same key
 * and two blocks (different keys) never hold each other's bytes.
 */
static inline uint64_t
pattern_word(uint64_t key, size_t wi)
{
	return (key ^ (uint64_t)wi * 0x9e3779b97f4a7c15ULL);
}

static inline unsigned char
pattern_byte(uint64_t key, size_t i)
{
	return ((unsigned char)(pattern_word(key, i / 8) >> (8 * (i % 8))));
}

static NO_COVERAGE void
pattern_fill(unsigned char *p, size_t from, size_t to, uint64_t key)
{
	size_t i = from;
	uint64_t w;

	for (; i < to && i % 8 != 0; i++)
		p[i] = pattern_byte(key, i);
	for (; i + 8 <= to; i += 8) {
		w = pattern_word(key, i / 8);
		memcpy(p + i, &w, 8);
	}
	for (; i < to; i++)
		p[i] = pattern_byte(key, i);
}

static NO_COVERAGE void
pattern_check(const unsigned char *p, size_t from, size_t to, uint64_t key,
    const char *what)
{
	size_t i = from;
	uint64_t w;

	for (; i < to && i % 8 != 0; i++)
		if (p[i] != pattern_byte(key, i))
			goto bad;
	for (; i + 8 <= to; i += 8) {
		memcpy(&w, p + i, 8);
		if (w != pattern_word(key, i / 8))
			break;
	}
	for (; i < to; i++)
		if (p[i] != pattern_byte(key, i))
			goto bad;
	return;
bad:
	violation("%s: block %p byte %zu is 0x%02x, pattern says 0x%02x "
	    "(checked %zu..%zu)", what, (const void *)p, i, p[i],
	    pattern_byte(key, i), from, to);
}

static NO_COVERAGE void
zero_check(const unsigned char *p, size_t from, size_t to, const char *what)
{
	size_t i = from;
	uint64_t w;

	for (; i < to && i % 8 != 0; i++)
		if (p[i] != 0)
			goto bad;
	for (; i + 8 <= to; i += 8) {
		memcpy(&w, p + i, 8);
		if (w != 0)
			break;
	}
	for (; i < to; i++)
		if (p[i] != 0)
			goto bad;
	return;
bad:
	violation("%s: block %p byte %zu is 0x%02x, promised zero (%zu..%zu)",
	    what, (const void *)p, i, p[i], from, to);
}

/* Removes slot s from the address-ordered list of live blocks. */
static void
live_remove(unsigned s)
{
	unsigned i;

	for (i = 0; i < nlive && live[i] != s; i++)
		;
	if (i == nlive)
		violation("internal: slot %u not in the live list", s);
	memmove(&live[i], &live[i + 1], (nlive - i - 1) * sizeof(live[0]));
	nlive--;
	live_bytes -= slots[s].usize;
}

/*
 * Inserts slot s by address, failing on an overlap with either neighbour
 * (which, the list being sorted and disjoint, is any overlap at all).
 */
static void
live_insert(unsigned s)
{
	uintptr_t a = (uintptr_t)slots[s].p, e = a + slots[s].usize;
	unsigned i;

	for (i = 0; i < nlive && (uintptr_t)slots[live[i]].p < a; i++)
		;
	if (i > 0) {
		const struct slot *prev = &slots[live[i - 1]];

		if ((uintptr_t)prev->p + prev->usize > a)
			violation("block %p (%zu usable) overlaps live block "
			    "%p (%zu usable)", (void *)slots[s].p,
			    slots[s].usize, (void *)prev->p, prev->usize);
	}
	if (i < nlive && (uintptr_t)slots[live[i]].p < e)
		violation("block %p (%zu usable) overlaps live block %p "
		    "(%zu usable)", (void *)slots[s].p, slots[s].usize,
		    (void *)slots[live[i]].p, slots[live[i]].usize);
	memmove(&live[i + 1], &live[i], (nlive - i) * sizeof(live[0]));
	live[i] = s;
	nlive++;
	live_bytes += slots[s].usize;
}

/*
 * Checks a block just returned for a request of req bytes at alignment
 * align and the usable size every size query agrees on; returns that.
 */
static size_t
block_check_new(void *p, size_t req, size_t align, const char *fn)
{
	size_t usize;

	if (p == NULL)
		violation("%s(%zu) failed (errno %d)", fn, req, errno);
	if (align != 0 && ((uintptr_t)p & (align - 1)) != 0)
		violation("%s(%zu) returned %p, not aligned to %zu", fn, req,
		    p, align);
	if ((uintptr_t)p % 16 != 0 && req >= 16)
		violation("%s(%zu) returned %p, not aligned to 16", fn, req,
		    p);
	usize = malloc_usable_size(p);
	if (usize < req)
		violation("%s(%zu) returned %p with usable size %zu", fn, req,
		    p, usize);
	if (sallocx(p, 0) != usize)
		violation("%s: sallocx(%p) %zu, malloc_usable_size %zu", fn, p,
		    sallocx(p, 0), usize);
	return (usize);
}

/*
 * Makes a fresh block the live content of the empty slot s; its first
 * zeroed_len bytes must be zero (ZERO_USIZE: all of them).
 */
#define	ZERO_USIZE	SIZE_MAX
static void
slot_install(unsigned s, void *p, size_t req, size_t align,
    size_t zeroed_len, const char *fn)
{
	struct slot *sl = &slots[s];

	sl->usize = block_check_new(p, req, align, fn);
	sl->p = p;
	sl->req = req;
	sl->align = align;
	sl->key = ++key_next * 0xd6e8feb86659fd93ULL;
	zero_check(sl->p, 0, zeroed_len == ZERO_USIZE ? sl->usize : zeroed_len,
	    fn);
	live_insert(s);
	pattern_fill(sl->p, 0, sl->usize, sl->key);
}

/* Checks the block of slot s and forgets it, before freeing it. */
static void *
slot_release(unsigned s, const char *fn)
{
	struct slot *sl = &slots[s];
	void *p = sl->p;

	pattern_check(sl->p, 0, sl->usize, sl->key, fn);
	if (malloc_usable_size(p) != sl->usize)
		violation("%s: usable size of %p changed from %zu to %zu", fn,
		    p, sl->usize, malloc_usable_size(p));
	live_remove(s);
	sl->p = NULL;
	return (p);
}

/*
 * Slot s's block was resized by fn to q (in place when q is the old
 * pointer) for a request of req: checks what survived, and what was
 * promised zeroed, then refills.  The old block was already checked.
 */
static void
slot_resized(unsigned s, void *q, size_t req, size_t align, bool zero,
    const char *fn)
{
	struct slot *sl = &slots[s];
	size_t old_usize = sl->usize, keep;

	live_remove(s);
	sl->usize = block_check_new(q, req, align, fn);
	sl->p = q;
	keep = old_usize < req ? old_usize : req;
	pattern_check(sl->p, 0, keep, sl->key, fn);
	if (zero && sl->usize > old_usize)
		zero_check(sl->p, old_usize, sl->usize, fn);
	live_insert(s);
	pattern_fill(sl->p, keep, sl->usize, sl->key);
	sl->req = req;
	sl->align = align;
}

/* Whether an allocation of n more bytes stays within LIVE_MAX. */
static bool
room_for(size_t n)
{
	return (n <= LIVE_MAX - live_bytes);
}

enum op {
	OP_MALLOC, OP_CALLOC, OP_REALLOC, OP_FREE, OP_POSIX_MEMALIGN,
	OP_ALIGNED_ALLOC, OP_MEMALIGN, OP_VALLOC, OP_MALLOCX, OP_RALLOCX,
	OP_XALLOCX, OP_DALLOCX, OP_SDALLOCX, OP_FREE_SIZED,
	OP_FREE_ALIGNED_SIZED, OP_REALLOCARRAY, OP_IMPOSSIBLE, OP_CHECK,
	OP_COUNT
};

/* An empty slot: every allocating operation fills it. */
static void
step_alloc(struct input *in, enum op op, unsigned s)
{
	size_t size = in_size(in), align = 0, n, usize;
	void *p = NULL;
	int flags, rc, saved;

	if (!room_for(size))
		return;
	switch (op) {
	case OP_CALLOC:
		/* size split into count and element size. */
		n = in_u8(in) % 17;
		if (n == 0)
			n = 1;
		p = calloc(n, size / n);
		slot_install(s, p, n * (size / n), 0, n * (size / n), "calloc");
		return;
	case OP_REALLOC:
		p = realloc(NULL, size);
		slot_install(s, p, size, 0, 0, "realloc(NULL)");
		return;
	case OP_POSIX_MEMALIGN:
		n = in_lg_align(in) + 3;	/* at least sizeof(void *) */
		align = (size_t)1 << (n > LG_ALIGN_MAX ? LG_ALIGN_MAX : n);
		p = (void *)&p;	/* must be left alone on failure */
		saved = errno;
		rc = posix_memalign(&p, align, size);
		if (rc != 0)
			violation("posix_memalign(%zu, %zu): %d", align, size,
			    rc);
		if (errno != saved)
			violation("posix_memalign changed errno on success");
		slot_install(s, p, size, align, 0, "posix_memalign");
		return;
	case OP_ALIGNED_ALLOC:
		align = (size_t)1 << in_lg_align(in);
		p = aligned_alloc(align, size);
		slot_install(s, p, size, align, 0, "aligned_alloc");
		return;
	case OP_MEMALIGN:
		align = (size_t)1 << in_lg_align(in);
		p = memalign(align, size);
		slot_install(s, p, size, align, 0, "memalign");
		return;
	case OP_VALLOC:
		p = valloc(size);
		slot_install(s, p, size, (size_t)sysconf(_SC_PAGESIZE), 0,
		    "valloc");
		return;
	case OP_MALLOCX:
		flags = in_xflags(in, &align);
		if (size == 0)	/* undefined for mallocx */
			size = 1;
		p = mallocx(size, flags);
		slot_install(s, p, size, align,
		    (flags & MALLOCX_ZERO) != 0 ? ZERO_USIZE : 0, "mallocx");
		usize = nallocx(size, flags);
		if (usize != slots[s].usize)
			violation("mallocx(%zu, %#x) usable size %zu, nallocx "
			    "says %zu", size, (unsigned)flags, slots[s].usize,
			    usize);
		return;
	case OP_REALLOCARRAY:
		n = in_u8(in) % 9 + 1;
		p = reallocarray(NULL, n, size / n);
		slot_install(s, p, n * (size / n), 0, 0, "reallocarray(NULL)");
		return;
	default:
		p = malloc(size);
		break;
	}
	slot_install(s, p, size, 0, 0, "malloc");
}

/* Resizing with realloc, reallocarray or rallocx, which may move. */
static void
step_realloc(struct input *in, enum op op, unsigned s)
{
	struct slot *sl = &slots[s];
	size_t size = in_size(in), align = 0, n;
	const char *fn;
	void *q;
	int flags = 0;

	if (size > sl->usize && !room_for(size))
		return;
	pattern_check(sl->p, 0, sl->usize, sl->key, "before resize");
	if (op == OP_RALLOCX) {
		fn = "rallocx";
		flags = in_xflags(in, &align);
		if (size == 0)	/* undefined for rallocx */
			size = 1;
		q = rallocx(sl->p, size, flags);
	} else if (op == OP_REALLOCARRAY) {
		fn = "reallocarray";
		n = in_u8(in) % 9 + 1;
		size = n * (size / n);
		q = reallocarray(sl->p, n, size / n);
	} else {
		fn = "realloc";
		q = realloc(sl->p, size);
	}
	if (q == NULL && size == 0) {
		/* realloc(p, 0) may free p and return NULL (C17 7.22.3.5). */
		live_remove(s);
		sl->p = NULL;
		return;
	}
	slot_resized(s, q, size, align, (flags & MALLOCX_ZERO) != 0, fn);
}

/* xallocx: resizes in place or not at all. */
static void
step_xallocx(struct input *in, unsigned s)
{
	struct slot *sl = &slots[s];
	size_t size = in_size(in), extra = in_size(in) / 4, align, old, got;
	int flags = in_xflags(in, &align);
	bool zero = (flags & MALLOCX_ZERO) != 0;

	if (size == 0)	/* undefined for xallocx */
		size = 1;
	if (size + extra > sl->usize && !room_for(size + extra))
		return;
	pattern_check(sl->p, 0, sl->usize, sl->key, "before xallocx");
	old = sl->usize;
	got = xallocx(sl->p, size, extra, flags);
	if (got != malloc_usable_size(sl->p))
		violation("xallocx(%p, %zu, %zu) returned %zu, usable size "
		    "is %zu", (void *)sl->p, size, extra, got,
		    malloc_usable_size(sl->p));
	if (got == old)
		return;
	/* Resized: the new size is a class, valid for sdallocx. */
	live_remove(s);
	sl->usize = got;
	pattern_check(sl->p, 0, old < got ? old : got, sl->key, "xallocx");
	if (zero && got > old)
		zero_check(sl->p, old, got, "xallocx");
	live_insert(s);
	pattern_fill(sl->p, old < got ? old : got, got, sl->key);
	sl->req = got;
}

/* Every way of freeing, each with the sizes and flags it must repeat. */
static void
step_free(struct input *in, enum op op, unsigned s)
{
	struct slot *sl = &slots[s];
	size_t size = sl->req, align = sl->align;
	uint8_t b = in_u8(in);
	int flags = 0;
	void *p;

	/* Any size from the request to the usable size names the block. */
	if (b & 1)
		size = sl->usize;
	switch (op) {
	case OP_DALLOCX:
		if (b & 2)
			flags |= MALLOCX_TCACHE_NONE;
		p = slot_release(s, "dallocx");
		dallocx(p, flags);
		return;
	case OP_SDALLOCX:
		if (b & 2)
			flags |= MALLOCX_TCACHE_NONE;
		if (align != 0)
			flags |= MALLOCX_ALIGN(align);
		p = slot_release(s, "sdallocx");
		sdallocx(p, size, flags);
		return;
	case OP_FREE_SIZED:
		if (align == 0) {
			p = slot_release(s, "free_sized");
			free_sized(p, size);
			return;
		}
		break;
	case OP_FREE_ALIGNED_SIZED:
		if (align != 0) {
			p = slot_release(s, "free_aligned_sized");
			free_aligned_sized(p, align, size);
			return;
		}
		break;
	default:
		break;
	}
	p = slot_release(s, "free");
	free(p);
}

/*
 * Requests no allocator can meet: they fail with ENOMEM (EINVAL for a bad
 * alignment), and a block they were to resize stays as it was.
 */
static void
step_impossible(struct input *in, unsigned s)
{
	struct slot *sl = &slots[s];
	size_t huge = SIZE_MAX - (size_t)in_u8(in) * 4096;
	uint8_t b = in_u8(in);
	void *p = NULL;
	int rc;

	errno = 0;
	switch (b % 6) {
	case 0:
		p = malloc(huge);
		break;
	case 1:
		p = calloc((size_t)1 << 33, (size_t)1 << 33);
		break;
	case 2:
		p = mallocx(huge, b & 0x40 ? MALLOCX_ZERO : 0);
		break;
	case 3:
		p = (void *)&p;
		rc = posix_memalign(&p, 24, 64);	/* not a power of 2 */
		if (rc != EINVAL || p != (void *)&p)
			violation("posix_memalign(24, 64): %d, %p", rc, p);
		return;
	case 4:
		if (sl->p == NULL)
			return;
		if (realloc(sl->p, huge) != NULL)
			violation("realloc(%p, %zu) succeeded", (void *)sl->p,
			    huge);
		pattern_check(sl->p, 0, sl->usize, sl->key, "failed realloc");
		break;
	default:
		if (sl->p == NULL)
			return;
		if (rallocx(sl->p, huge, 0) != NULL)
			violation("rallocx(%p, %zu) succeeded", (void *)sl->p,
			    huge);
		pattern_check(sl->p, 0, sl->usize, sl->key, "failed rallocx");
		break;
	}
	if (p != NULL)
		violation("impossible request %u succeeded", b % 6);
	if (errno != ENOMEM)
		violation("impossible request %u: errno %d, not ENOMEM", b % 6,
		    errno);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	enum op op;
	unsigned s;

	huge_budget = HUGE_BUDGET;
	while (in.left > 0) {
		op = (enum op)(in_u8(&in) % OP_COUNT);
		s = in_u8(&in) % NSLOTS;
		if (op == OP_IMPOSSIBLE)
			step_impossible(&in, s);
		else if (op == OP_CHECK) {
			if (slots[s].p != NULL)
				pattern_check(slots[s].p, 0, slots[s].usize,
				    slots[s].key, "check");
		} else if (slots[s].p == NULL) {
			if (op != OP_FREE && op != OP_DALLOCX &&
			    op != OP_SDALLOCX)
				step_alloc(&in, op, s);
			else
				free(NULL);
		} else if (op == OP_REALLOC || op == OP_RALLOCX ||
		    op == OP_REALLOCARRAY)
			step_realloc(&in, op, s);
		else if (op == OP_XALLOCX)
			step_xallocx(&in, s);
		else
			step_free(&in, op, s);
	}
	for (s = 0; s < NSLOTS; s++)
		if (slots[s].p != NULL)
			free(slot_release(s, "final free"));
	if (nlive != 0 || live_bytes != 0)
		violation("internal: %u blocks, %zu bytes still live", nlive,
		    live_bytes);
	return (0);
}
