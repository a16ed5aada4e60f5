/*
 * mallctl: the namespace as one static tree, MIB resolution, and the leaf
 * handlers, with jemalloc 5's names, types and error conventions:
 *	ENOENT	unknown name, interior node, or index out of range
 *	EINVAL	*oldlenp or newlen not the node's size (the overlap is still
 *		copied and *oldlenp set to it, as jemalloc does), bad value
 *	EPERM	writing a read-only node, reading a write-only one
 *	EFAULT	an arena or tcache that does not exist, or a refused change
 *	EAGAIN	no arena or tcache index left, or initialisation failed
 *
 * Every request runs under ctl_lock (rank RANK_CTL: below the tcache pool,
 * bin, extent and base locks that handlers take).  That lock also guards
 * the explicit tcache table and the stats snapshots (stats.c).
 *
 * A leaf either names where its value lives (src + ptr/off: the option
 * structure, a constant, a field of a stats snapshot) and is read by the
 * generic handler, or has a handler of its own.  Indexed components sit at
 * fixed MIB positions: arena.<i> and arenas.bin.<i> at 1 and 2,
 * stats.arenas.<i> at 2, its bins/lextents/extents.<j> at 4.
 */
#include <errno.h>
#include <string.h>

#include "arena.h"
#include "background.h"
#include "base.h"
#include "conf.h"
#include "ctl.h"
#include "hooks.h"
#include "lock.h"
#include "malloc_np.h"
#include "pmap.h"
#include "prof.h"
#include "stats.h"
#include "tcache.h"
#include "tsd.h"

/* MALLOCX_TCACHE() encodes indices 0..4093 in 12 bits, biased by 2. */
#define	TCACHES_MAX	4094

extern const char	*malloc_conf __attribute__((weak));
extern bool		 malloc_initialized;

/* Taken even with one thread: background threads start under it. */
static struct mlock	ctl_lock = { PTHREAD_MUTEX_INITIALIZER, 0, 0,
			    RANK_CTL, true, false };
static bool		ctl_initialized;

/* Explicit tcaches; a destroyed slot keeps its memory for reuse. */
static struct tcache	*tcaches[TCACHES_MAX];
static struct tcache	*tcache_mem[TCACHES_MAX];

/* Option values at start-up: arenas.*_decay_ms change opt's copies. */
static ssize_t		opt_dirty_decay_ms_boot, opt_muzzy_decay_ms_boot;

const size_t ctl_type_size[] = {
	[CTL_VOID] = 0, [CTL_BOOL] = sizeof(bool),
	[CTL_UNSIGNED] = sizeof(unsigned), [CTL_U32] = sizeof(uint32_t),
	[CTL_U64] = sizeof(uint64_t), [CTL_SIZE] = sizeof(size_t),
	[CTL_SSIZE] = sizeof(ssize_t), [CTL_STR] = sizeof(const char *),
	[CTL_PTR] = sizeof(void *),
};

/* Requests and handlers ------------------------------------------------- */

struct ctl_req {
	const size_t	*mib;
	size_t		 miblen;
	void		*oldp;
	size_t		*oldlenp;
	void		*newp;
	size_t		 newlen;
};

struct ctl_node;
typedef int	ctl_fn(const struct ctl_node *, const struct ctl_req *);

/* Where a generic leaf's value lives. */
enum ctl_src {
	SRC_FN,		/* the node's handler */
	SRC_PTR,	/* at ptr */
	SRC_STRBUF,	/* ptr is a char array; the value is its address */
	SRC_GLOBAL,	/* stats_global + off */
	SRC_ARENA,	/* arena snapshot mib[2] + off */
	SRC_ARENAMTX,	/* its extent_lock counters + off */
	SRC_BIN,	/* its bins[mib[4]] + off */
	SRC_BINMTX,	/* its bins[mib[4]].mutex + off */
	SRC_LEXT,	/* its lextents[mib[4]] + off */
	SRC_EXT,	/* its extents[mib[4]] + off */
	SRC_CTLMTX,	/* ctl_lock's counters + off */
};

#define	F_R	0x1
#define	F_W	0x2
#define	F_ACT	0x4	/* reading or writing does something: never printed */

/* What a node is, and so which member of its union it uses. */
enum ctl_kind {
	NODE_END,	/* ends a list of children (and has no name) */
	NODE_NAMED,	/* children, ending with a NODE_END */
	NODE_INDEXED,	/* one element node for every index it accepts */
	NODE_HANDLER,	/* a leaf read or written by fn */
	NODE_LEAF,	/* a leaf read by leaf_generic from src, ptr and off */
};

/* Which indices an indexed node accepts (node_index_ok). */
enum ctl_index {
	INDEX_BELOW,		/* all below nindex */
	INDEX_STATS_ARENA,	/* those with a stats snapshot, below nindex */
};

/*
 * 32 bytes, one pointer besides the name: the tree (some 240 nodes) is
 * relocated at load, so each of its pages is a private page of every
 * process.  At 72 bytes a node (a field for each pointer, size_t counts)
 * it took 17 KiB, and the relocated segment was 6 pages, not 3.
 */
struct ctl_node {
	const char		*name;
	union {
		const struct ctl_node	*children;	/* NODE_NAMED */
		const struct ctl_node	*element;	/* NODE_INDEXED */
		ctl_fn			*fn;		/* NODE_HANDLER */
		const void		*ptr;		/* NODE_LEAF */
	};
	uint32_t		 nindex;	/* NODE_INDEXED */
	uint32_t		 off;		/* NODE_LEAF */
	uint8_t			 kind;		/* enum ctl_kind */
	uint8_t			 index;		/* enum ctl_index */
	uint8_t			 type;		/* enum ctl_type (leaves) */
	uint8_t			 flags;
	uint8_t			 src;		/* enum ctl_src */
};

#define	NAMED(n, c)		{ .name = (n), .kind = NODE_NAMED, \
				    .children = (c) }
#define	INDEXED(n, el, ix, max)	{ .name = (n), .kind = NODE_INDEXED, \
				    .element = &(el), .index = (ix), \
				    .nindex = (max) }
#define	ELEMENT(c)		{ .name = NULL, .kind = NODE_NAMED, \
				    .children = (c) }
#define	LEAF(n, t, s, p, o)	{ .name = (n), .kind = NODE_LEAF, \
				    .type = (t), .flags = F_R, .src = (s), \
				    .ptr = (p), .off = (o) }
#define	HANDLER(n, t, fl, f)	{ .name = (n), .kind = NODE_HANDLER, \
				    .type = (t), .flags = (fl), .fn = (f) }
#define	END			{ .name = NULL, .kind = NODE_END }

static int
ctl_readonly(const struct ctl_req *r)
{
	return (r->newp != NULL || r->newlen != 0 ? EPERM : 0);
}

static int
ctl_writeonly(const struct ctl_req *r)
{
	return (r->oldp != NULL || r->oldlenp != NULL ? EPERM : 0);
}

static int
ctl_neither(const struct ctl_req *r)
{
	int err = ctl_readonly(r);

	return (err != 0 ? err : ctl_writeonly(r));
}

/* Copies v out; a size mismatch copies the overlap and is EINVAL. */
static int
ctl_read(const struct ctl_req *r, const void *v, size_t size)
{
	size_t n;

	if (r->oldp == NULL || r->oldlenp == NULL)
		return (0);
	if (*r->oldlenp != size) {
		n = *r->oldlenp < size ? *r->oldlenp : size;
		memcpy(r->oldp, v, n);
		*r->oldlenp = n;
		return (EINVAL);
	}
	memcpy(r->oldp, v, size);
	return (0);
}

/* Copies the new value in, if any; false when there is none. */
static int
ctl_write(const struct ctl_req *r, void *v, size_t size)
{
	if (r->newp == NULL)
		return (0);
	if (r->newlen != size)
		return (EINVAL);
	memcpy(v, r->newp, size);
	return (0);
}

/* The read a node must have to return something (jemalloc's VERIFY_READ). */
static int
ctl_verify_read(const struct ctl_req *r, size_t size)
{
	if (r->oldp == NULL || r->oldlenp == NULL || *r->oldlenp != size) {
		if (r->oldlenp != NULL)
			*r->oldlenp = 0;
		return (EINVAL);
	}
	return (0);
}

static struct tsd *
ctl_tsd(void)
{
	struct tsd *tsd = &tsd_tls;

	tsd_boot(tsd);
	return (tsd->state == TSD_NOMINAL ? tsd : NULL);
}

/* Generic leaves ---------------------------------------------------------- */

static int
leaf_generic(const struct ctl_node *n, const struct ctl_req *r)
{
	struct arena_snapshot *s = NULL;
	const char *str;
	const void *base;
	int err;

	if ((err = ctl_readonly(r)) != 0)
		return (err);
	if (n->src >= SRC_ARENA && n->src <= SRC_EXT) {
		s = stats_arena_snapshot((unsigned)r->mib[2]);
		if (s == NULL)
			return (ENOENT);
	}
	switch (n->src) {
	case SRC_PTR:
		base = n->ptr;
		break;
	case SRC_STRBUF:
		str = n->ptr;
		return (ctl_read(r, &str, sizeof(str)));
	case SRC_GLOBAL:
		base = &stats_global;
		break;
	case SRC_ARENA:
		base = s;
		break;
	case SRC_ARENAMTX:
		base = &s->extents_mutex;
		break;
	case SRC_BIN:
		base = &s->bins[r->mib[4]];
		break;
	case SRC_BINMTX:
		base = &s->bins[r->mib[4]].mutex;
		break;
	case SRC_LEXT:
		base = &s->lextents[r->mib[4]];
		break;
	case SRC_EXT:
		base = &s->extents[r->mib[4]];
		break;
	case SRC_CTLMTX:
		base = &stats_global.ctl_mutex;
		break;
	default:
		return (ENOENT);
	}
	return (ctl_read(r, (const char *)base + n->off,
	    ctl_type_size[n->type]));
}

/* Reads a value computed by a handler: read-only, right size. */
static int
ctl_read_only_value(const struct ctl_req *r, const void *v, size_t size)
{
	int err = ctl_readonly(r);

	return (err != 0 ? err : ctl_read(r, v, size));
}

#define	RO_VALUE(r, v)	ctl_read_only_value((r), &(v), sizeof(v))

/* version, epoch, config ---------------------------------------------------- */

static const char	*ctl_version = "5.3.0-0-gmalloc";
static const bool	ctl_true = true, ctl_false = false;
#ifdef MALLOC_DEBUG
static const bool	ctl_debug = true;
#else
static const bool	ctl_debug = false;
#endif

static int
epoch_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	uint64_t v;
	int err;

	(void)n;
	if ((err = ctl_write(r, &v, sizeof(v))) != 0)
		return (err);
	if (r->newp != NULL)
		stats_refresh(&ctl_lock);
	return (ctl_read(r, &stats_global.epoch, sizeof(uint64_t)));
}

static int
config_malloc_conf_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	const char *s = "";

	(void)n;
	if (&malloc_conf != NULL && malloc_conf != NULL)
		s = malloc_conf;
	return (RO_VALUE(r, s));
}

/* opt ------------------------------------------------------------------ */

static int
opt_thp_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	static const char *const names[] = { "default", "always", "never" };
	const char *s = names[opt.thp];

	(void)n;
	return (RO_VALUE(r, s));
}

static int
opt_metadata_thp_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	static const char *const names[] = { "disabled", "auto", "always" };
	const char *s = names[opt.metadata_thp];

	(void)n;
	return (RO_VALUE(r, s));
}

static int
opt_max_background_threads_ctl(const struct ctl_node *n,
    const struct ctl_req *r)
{
	size_t v = opt.max_background_threads;

	(void)n;
	return (RO_VALUE(r, v));
}

/* thread ---------------------------------------------------------------- */

static int
thread_arena_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	struct tsd *tsd = ctl_tsd();
	struct arena *arena;
	unsigned oldind, newind;
	int err;

	(void)n;
	if (tsd == NULL)
		return (EAGAIN);
	oldind = newind = tsd->arena->ind;
	if ((err = ctl_write(r, &newind, sizeof(newind))) != 0)
		return (err);
	if ((err = ctl_read(r, &oldind, sizeof(oldind))) != 0)
		return (err);
	if (newind == oldind)
		return (0);
	if (newind >= __atomic_load_n(&narenas_total, __ATOMIC_ACQUIRE))
		return (EFAULT);
	arena = arena_get(newind, true);
	if (arena == NULL)
		return (newind < narenas_auto ? EAGAIN : EFAULT);
	tsd_set_arena(tsd, arena);
	return (0);
}

static int
thread_allocated_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	struct tsd *tsd = ctl_tsd();
	uint64_t v = tsd != NULL ? tsd_allocated(tsd) : 0;

	(void)n;
	return (RO_VALUE(r, v));
}

static int
thread_allocatedp_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	uint64_t *p;

	(void)n;
	if (ctl_tsd() != NULL)
		tsd_counters_go_live(&tsd_tls);
	p = &tsd_tls.allocated_live;
	return (RO_VALUE(r, p));
}

static int
thread_deallocated_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	struct tsd *tsd = ctl_tsd();
	uint64_t v = tsd != NULL ? tsd_deallocated(tsd) : 0;

	(void)n;
	return (RO_VALUE(r, v));
}

static int
thread_deallocatedp_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	uint64_t *p;

	(void)n;
	if (ctl_tsd() != NULL)
		tsd_counters_go_live(&tsd_tls);
	p = &tsd_tls.deallocated_live;
	return (RO_VALUE(r, p));
}

static int
background_thread_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	bool oldval, newval;
	int err;

	(void)n;
	oldval = newval = background_enabled();
	if ((err = ctl_write(r, &newval, sizeof(newval))) != 0)
		return (err);
	if ((err = ctl_read(r, &oldval, sizeof(oldval))) != 0)
		return (err);
	if (r->newp != NULL && newval != oldval && background_set(newval))
		return (EAGAIN);
	return (0);
}

/* Takes effect when the threads next start (background_thread false, true). */
static int
max_background_threads_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	size_t oldval, newval;
	int err;

	(void)n;
	oldval = newval = opt.max_background_threads;
	if ((err = ctl_write(r, &newval, sizeof(newval))) != 0)
		return (err);
	if (r->newp != NULL && (newval == 0 || newval > 4096))
		return (EINVAL);
	if ((err = ctl_read(r, &oldval, sizeof(oldval))) != 0)
		return (err);
	if (r->newp != NULL && newval != oldval) {
		opt.max_background_threads = (unsigned)newval;
		if (background_enabled()) {
			background_set(false);
			background_set(true);
		}
	}
	return (0);
}

static int
stats_background_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	size_t nthreads;
	uint64_t nruns, interval;
	int err;

	if ((err = ctl_readonly(r)) != 0)
		return (err);
	background_stats(&nthreads, &nruns, &interval);
	if (strcmp(n->name, "num_threads") == 0)
		return (ctl_read(r, &nthreads, sizeof(nthreads)));
	if (strcmp(n->name, "num_runs") == 0)
		return (ctl_read(r, &nruns, sizeof(nruns)));
	return (ctl_read(r, &interval, sizeof(interval)));
}

static int
thread_tcache_enabled_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	struct tsd *tsd = ctl_tsd();
	bool oldval, newval;
	int err;

	(void)n;
	if (tsd == NULL)
		return (EAGAIN);
	oldval = newval = tsd->tcache_enabled;
	if ((err = ctl_write(r, &newval, sizeof(newval))) != 0)
		return (err);
	if ((err = ctl_read(r, &oldval, sizeof(oldval))) != 0)
		return (err);
	if (r->newp != NULL)
		tsd_set_tcache_enabled(tsd, newval);
	return (0);
}

static int
thread_tcache_flush_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	struct tsd *tsd = ctl_tsd();
	int err;

	(void)n;
	if ((err = ctl_neither(r)) != 0)
		return (err);
	if (tsd == NULL || !tsd->tcache_enabled)
		return (EFAULT);
	tcache_flush(&tsd->tcache);
	return (0);
}

/* prof (the profiler's own state lives in prof.c) ------------------------- */

static int
prof_bool_rw(const struct ctl_req *r, bool (*fn)(const bool *))
{
	bool oldval, newval;
	int err;

	oldval = fn(NULL);
	newval = oldval;
	if ((err = ctl_write(r, &newval, sizeof(newval))) != 0)
		return (err);
	if (r->newp != NULL && !opt.prof)
		return (ENOENT);
	if ((err = ctl_read(r, &oldval, sizeof(oldval))) != 0)
		return (err);
	if (r->newp != NULL)
		(void)fn(&newval);
	return (0);
}

static int
prof_active_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	(void)n;
	return (prof_bool_rw(r, prof_ctl_active));
}

static int
prof_gdump_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	(void)n;
	return (prof_bool_rw(r, prof_ctl_gdump));
}

static int
prof_thread_active_init_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	(void)n;
	return (prof_bool_rw(r, prof_ctl_thread_active_init));
}

static int
prof_dump_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	const char *filename = NULL;
	int err;

	(void)n;
	if ((err = ctl_writeonly(r)) != 0 ||
	    (err = ctl_write(r, &filename, sizeof(filename))) != 0)
		return (err);
	return (prof_ctl_dump(filename));
}

static int
prof_prefix_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	const char *prefix = NULL;
	int err;

	(void)n;
	if ((err = ctl_writeonly(r)) != 0 ||
	    (err = ctl_write(r, &prefix, sizeof(prefix))) != 0)
		return (err);
	return (prof_ctl_prefix(prefix));
}

static int
prof_reset_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	size_t lg_sample;
	int err;

	(void)n;
	if ((err = ctl_writeonly(r)) != 0 ||
	    (err = ctl_write(r, &lg_sample, sizeof(lg_sample))) != 0)
		return (err);
	return (prof_ctl_reset(r->newp != NULL ? &lg_sample : NULL));
}

static int
prof_lg_sample_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	size_t v = prof_ctl_lg_sample();

	(void)n;
	return (RO_VALUE(r, v));
}

/* The walker in use: opt.prof_unwind's auto shows as fp or libgcc. */
static int
prof_unwind_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	const char *s = prof_ctl_unwind();

	(void)n;
	return (RO_VALUE(r, s));
}

static int
prof_interval_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	uint64_t v = opt.lg_prof_interval < 0 ? 0 :
	    (uint64_t)1 << opt.lg_prof_interval;

	(void)n;
	return (RO_VALUE(r, v));
}

static int
thread_prof_name_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	struct tsd *tsd = ctl_tsd();
	const char *oldval, *newval = NULL;
	int err;

	(void)n;
	if (tsd == NULL)
		return (EAGAIN);
	oldval = tsd->prof_name;
	if ((err = ctl_write(r, &newval, sizeof(newval))) != 0)
		return (err);
	if (r->newp != NULL && newval == NULL)
		return (EFAULT);
	if ((err = ctl_read(r, &oldval, sizeof(oldval))) != 0)
		return (err);
	return (r->newp != NULL ? prof_ctl_thread_name(tsd, newval) : 0);
}

static int
thread_prof_active_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	struct tsd *tsd = ctl_tsd();
	bool oldval, newval;
	int err;

	(void)n;
	if (tsd == NULL)
		return (EAGAIN);
	oldval = newval = prof_ctl_thread_active(tsd, NULL);
	if ((err = ctl_write(r, &newval, sizeof(newval))) != 0)
		return (err);
	if (r->newp != NULL && !opt.prof)
		return (ENOENT);
	if ((err = ctl_read(r, &oldval, sizeof(oldval))) != 0)
		return (err);
	if (r->newp != NULL)
		(void)prof_ctl_thread_active(tsd, &newval);
	return (0);
}

static int
prof_recent_alloc_max_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	ssize_t oldval, newval;
	int err;

	(void)n;
	oldval = newval = prof_ctl_recent_alloc_max(NULL);
	if ((err = ctl_write(r, &newval, sizeof(newval))) != 0)
		return (err);
	if (r->newp != NULL && newval < -1)
		return (EINVAL);
	if ((err = ctl_read(r, &oldval, sizeof(oldval))) != 0)
		return (err);
	if (r->newp != NULL)
		(void)prof_ctl_recent_alloc_max(&newval);
	return (0);
}

/* newp: jemalloc's write_cb_packet_t, { write_cb, cbopaque }. */
static int
prof_recent_alloc_dump_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	struct {
		void	(*write_cb)(void *, const char *);
		void	*cbopaque;
	} packet = { NULL, NULL };
	int err;

	(void)n;
	if ((err = ctl_writeonly(r)) != 0 ||
	    (err = ctl_write(r, &packet, sizeof(packet))) != 0)
		return (err);
	if (!opt.prof)
		return (ENOENT);
	prof_recent_dump(packet.write_cb, packet.cbopaque);
	return (0);
}

/* tcache (explicit caches) ---------------------------------------------- */

struct tcache *
ctl_tcache_get(unsigned ind)
{
	if (ind >= TCACHES_MAX)
		return (NULL);
	return (__atomic_load_n(&tcaches[ind], __ATOMIC_ACQUIRE));
}

static int
tcache_create_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	struct tsd *tsd = ctl_tsd();
	struct arena *arena;
	struct tcache *tc;
	unsigned ind;
	int err;

	(void)n;
	if ((err = ctl_readonly(r)) != 0 ||
	    (err = ctl_verify_read(r, sizeof(unsigned))) != 0)
		return (err);
	for (ind = 0; ind < TCACHES_MAX && tcaches[ind] != NULL; ind++)
		;
	if (ind == TCACHES_MAX)
		return (EFAULT);
	tc = tcache_mem[ind];
	if (tc == NULL) {
		tc = base_alloc(sizeof(*tc), CACHELINE);
		if (tc == NULL)
			return (EFAULT);
		tcache_mem[ind] = tc;
	}
	arena = tsd != NULL ? tsd->arena : arena_get(0, false);
	if (tcache_init(tc, arena))
		return (EFAULT);
	__atomic_store_n(&tcaches[ind], tc, __ATOMIC_RELEASE);
	return (ctl_read(r, &ind, sizeof(ind)));
}

/* The explicit tcache named by the new value, for flush and destroy. */
static int
tcache_written(const struct ctl_req *r, unsigned *ind)
{
	int err;

	*ind = UINT32_MAX;
	if ((err = ctl_writeonly(r)) != 0 ||
	    (err = ctl_write(r, ind, sizeof(*ind))) != 0)
		return (err);
	if (*ind >= TCACHES_MAX || tcaches[*ind] == NULL)
		return (EFAULT);
	return (0);
}

static int
tcache_flush_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	unsigned ind;
	int err;

	(void)n;
	if ((err = tcache_written(r, &ind)) != 0)
		return (err);
	tcache_flush(tcaches[ind]);
	return (0);
}

static int
tcache_destroy_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	struct tcache *tc;
	unsigned ind;
	int err;

	(void)n;
	if ((err = tcache_written(r, &ind)) != 0)
		return (err);
	tc = tcaches[ind];
	__atomic_store_n(&tcaches[ind], NULL, __ATOMIC_RELEASE);
	tcache_destroy(tc);
	return (0);
}

/* arena.<i> ------------------------------------------------------------- */

static int
arena_i_initialized_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	size_t ind = r->mib[1];
	bool v;

	(void)n;
	if (ind == MALLCTL_ARENAS_ALL)
		v = true;
	else
		v = arena_get((unsigned)ind, false) != NULL;
	return (RO_VALUE(r, v));
}

static int
arena_i_decay_common(const struct ctl_req *r, bool all)
{
	struct arena *arena;
	unsigned i, n;
	int err;

	if ((err = ctl_neither(r)) != 0)
		return (err);
	if (r->mib[1] == MALLCTL_ARENAS_ALL) {
		n = __atomic_load_n(&narenas_total, __ATOMIC_ACQUIRE);
		for (i = 0; i < n; i++)
			if ((arena = arena_get(i, false)) != NULL)
				arena_decay(arena, all);
	} else if ((arena = arena_get((unsigned)r->mib[1], false)) != NULL)
		arena_decay(arena, all);
	return (0);
}

static int
arena_i_decay_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	(void)n;
	return (arena_i_decay_common(r, false));
}

static int
arena_i_purge_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	(void)n;
	return (arena_i_decay_common(r, true));
}

/*
 * reset and destroy: created arenas only.  The caller's thread cache and
 * the explicit tcaches are flushed first; other threads' caches must not
 * hold the arena's objects (jemalloc's rule).
 */
static int
arena_i_reset_destroy(const struct ctl_req *r, struct arena **arenap)
{
	struct tsd *tsd = ctl_tsd();
	unsigned i;
	int err;

	if ((err = ctl_neither(r)) != 0)
		return (err);
	if (r->mib[1] >= ARENAS_MAX)
		return (EFAULT);
	*arenap = arena_get((unsigned)r->mib[1], false);
	if (*arenap == NULL || (*arenap)->ind < narenas_auto)
		return (EFAULT);
	if (tsd != NULL && tsd->tcache_enabled)
		tcache_flush(&tsd->tcache);
	for (i = 0; i < TCACHES_MAX; i++)
		if (tcaches[i] != NULL)
			tcache_flush(tcaches[i]);
	return (0);
}

static int
arena_i_reset_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	struct arena *arena;
	int err;

	(void)n;
	if ((err = arena_i_reset_destroy(r, &arena)) != 0)
		return (err);
	arena_reset(arena);
	return (0);
}

static int
arena_i_destroy_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	struct arena *arena;
	int err;

	(void)n;
	if ((err = arena_i_reset_destroy(r, &arena)) != 0)
		return (err);
	if (__atomic_load_n(&arena->nthreads, __ATOMIC_RELAXED) != 0)
		return (EFAULT);
	/* Its counters live on at MALLCTL_ARENAS_DESTROYED. */
	stats_arena_destroyed(arena);
	return (arena_destroy(arena) ? EFAULT : 0);
}

static int
arena_i_decay_ms_common(const struct ctl_req *r, bool dirty)
{
	struct arena *arena;
	ssize_t oldval, newval;
	int err;

	if (r->mib[1] >= ARENAS_MAX ||
	    (arena = arena_get((unsigned)r->mib[1], false)) == NULL)
		return (EFAULT);
	mlock_lock(&arena->extent_lock);
	oldval = dirty ? arena->dirty_decay_ms : arena->muzzy_decay_ms;
	mlock_unlock(&arena->extent_lock);
	if ((err = ctl_read(r, &oldval, sizeof(oldval))) != 0)
		return (err);
	newval = oldval;
	if ((err = ctl_write(r, &newval, sizeof(newval))) != 0)
		return (err);
	if (r->newp == NULL)
		return (0);
	if (newval < -1)
		return (EFAULT);
	mlock_lock(&arena->extent_lock);
	if (dirty)
		arena->dirty_decay_ms = newval;
	else
		arena->muzzy_decay_ms = newval;
	mlock_unlock(&arena->extent_lock);
	arena_decay(arena, false);
	return (0);
}

/* The largest mapping retain grows the arena by (a page multiple). */
static int
arena_i_retain_grow_limit_ctl(const struct ctl_node *n,
    const struct ctl_req *r)
{
	struct arena *arena;
	size_t oldval, newval;
	int err;

	(void)n;
	if (r->mib[1] >= ARENAS_MAX ||
	    (arena = arena_get((unsigned)r->mib[1], false)) == NULL)
		return (EFAULT);
	mlock_lock(&arena->extent_lock);
	oldval = newval = arena->grow_limit;
	if ((err = ctl_write(r, &newval, sizeof(newval))) == 0 &&
	    r->newp != NULL && newval < PAGE)
		err = EINVAL;
	if (err == 0)
		err = ctl_read(r, &oldval, sizeof(oldval));
	if (err == 0 && r->newp != NULL)
		arena->grow_limit = ALIGN_DOWN(newval, PAGE);
	mlock_unlock(&arena->extent_lock);
	return (err);
}

static int
arena_i_dirty_decay_ms_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	(void)n;
	return (arena_i_decay_ms_common(r, true));
}

static int
arena_i_muzzy_decay_ms_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	(void)n;
	return (arena_i_decay_ms_common(r, false));
}

static int
arena_i_extent_hooks_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	extent_hooks_t *oldval, *newval = NULL;
	struct arena *arena;
	unsigned ind;
	int err;

	(void)n;
	if (r->mib[1] >= __atomic_load_n(&narenas_total, __ATOMIC_ACQUIRE))
		return (EFAULT);
	ind = (unsigned)r->mib[1];
	if ((err = ctl_write(r, &newval, sizeof(newval))) != 0)
		return (err);
	if (r->newp != NULL && newval == NULL)
		return (EINVAL);
	arena = arena_get(ind, false);
	if (arena == NULL) {
		/* An automatic arena not yet used has the default hooks. */
		if (ind >= narenas_auto)
			return (EFAULT);
		oldval = &hooks_default;
		if ((err = ctl_read(r, &oldval, sizeof(oldval))) != 0 ||
		    r->newp == NULL)
			return (err);
		if ((arena = arena_get(ind, true)) == NULL)
			return (EAGAIN);
		mlock_lock(&arena->extent_lock);
		arena->hooks = newval;
		mlock_unlock(&arena->extent_lock);
		return (0);
	}
	mlock_lock(&arena->extent_lock);
	oldval = arena->hooks;
	if (r->newp != NULL)
		arena->hooks = newval;
	mlock_unlock(&arena->extent_lock);
	return (ctl_read(r, &oldval, sizeof(oldval)));
}

/* arenas ---------------------------------------------------------------- */

static int
arenas_narenas_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	unsigned v = __atomic_load_n(&narenas_total, __ATOMIC_ACQUIRE);

	(void)n;
	return (RO_VALUE(r, v));
}

/* Defaults for arenas created from now on; arena_create reads opt. */
static int
arenas_decay_ms_common(const struct ctl_req *r, ssize_t *var)
{
	ssize_t oldval = *var, newval;
	int err;

	if ((err = ctl_read(r, &oldval, sizeof(oldval))) != 0 ||
	    (err = ctl_write(r, &newval, sizeof(newval))) != 0)
		return (err);
	if (r->newp == NULL)
		return (0);
	if (newval < -1)
		return (EFAULT);
	*var = newval;
	return (0);
}

static int
arenas_dirty_decay_ms_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	(void)n;
	return (arenas_decay_ms_common(r, &opt.dirty_decay_ms));
}

static int
arenas_muzzy_decay_ms_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	(void)n;
	return (arenas_decay_ms_common(r, &opt.muzzy_decay_ms));
}

static int
arenas_tcache_max_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	size_t v = tcache_nbins == 0 ? 0 : sz_index2size(tcache_nbins - 1);

	(void)n;
	return (RO_VALUE(r, v));
}

static int
arenas_nhbins_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	unsigned v = tcache_nbins;

	(void)n;
	return (RO_VALUE(r, v));
}

static int
arenas_bin_i_size_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	size_t v = bin_infos[r->mib[2]].reg_size;

	(void)n;
	return (RO_VALUE(r, v));
}

static int
arenas_bin_i_nregs_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	uint32_t v = bin_infos[r->mib[2]].nregs;

	(void)n;
	return (RO_VALUE(r, v));
}

static int
arenas_bin_i_slab_size_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	size_t v = (size_t)bin_infos[r->mib[2]].slab_npages << LG_PAGE;

	(void)n;
	return (RO_VALUE(r, v));
}

static int
arenas_lextent_i_size_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	size_t v = sz_index2size(SC_NBINS + (unsigned)r->mib[2]);

	(void)n;
	return (RO_VALUE(r, v));
}

static int
arenas_create_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	extent_hooks_t *hooks = &hooks_default;
	struct arena *arena;
	unsigned ind;
	int err;

	(void)n;
	if ((err = ctl_verify_read(r, sizeof(unsigned))) != 0 ||
	    (err = ctl_write(r, &hooks, sizeof(hooks))) != 0)
		return (err);
	if (hooks == NULL)
		return (EINVAL);
	if ((arena = arena_create(hooks)) == NULL)
		return (EAGAIN);
	ind = arena->ind;
	return (ctl_read(r, &ind, sizeof(ind)));
}

static int
arenas_lookup_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	void *ptr = NULL;
	struct pmap_entry entry;
	unsigned ind;
	int err;

	(void)n;
	if ((err = ctl_write(r, &ptr, sizeof(ptr))) != 0)
		return (err);
	entry = ptr != NULL ? pmap_lookup(ptr) : PMAP_NONE;
	if (entry.ext == NULL || pmap_entry_szind(entry) == SZ_FREE)
		return (EINVAL);
	ind = pmap_entry_extent(entry)->arena->ind;
	return (ctl_read(r, &ind, sizeof(ind)));
}

/* stats ----------------------------------------------------------------- */

static bool
index_stats_arena(size_t i)
{
	return (i <= MALLCTL_ARENAS_DESTROYED &&
	    stats_arena_snapshot((unsigned)i) != NULL);
}

static void
mutex_reset(struct mlock *lock)
{
	lock->nlocks = 0;
	lock->ncontended = 0;
}

static int
stats_mutexes_reset_ctl(const struct ctl_node *n, const struct ctl_req *r)
{
	struct arena *arena;
	unsigned i, j, na;
	int err;

	(void)n;
	if ((err = ctl_neither(r)) != 0)
		return (err);
	mutex_reset(&ctl_lock);
	na = __atomic_load_n(&narenas_total, __ATOMIC_ACQUIRE);
	for (i = 0; i < na; i++) {
		if ((arena = arena_get(i, false)) == NULL)
			continue;
		for (j = 0; j < SC_NBINS; j++) {
			mlock_lock(&arena->bins[j].lock);
			mutex_reset(&arena->bins[j].lock);
			mlock_unlock(&arena->bins[j].lock);
		}
		mlock_lock(&arena->extent_lock);
		mutex_reset(&arena->extent_lock);
		mlock_unlock(&arena->extent_lock);
	}
	return (0);
}

static const char	*ctl_dss_disabled = "disabled";

/* The tree ---------------------------------------------------------------- */

#define	OPT(n, t)	LEAF(#n, t, SRC_PTR, &opt.n, 0)
#define	OPT_B(n)	OPT(n, CTL_BOOL)
#define	CONST_B(n, v)	LEAF(n, CTL_BOOL, SRC_PTR, &(v), 0)
#define	MTX(s)								\
	LEAF("num_ops", CTL_U64, s, NULL,				\
	    offsetof(struct mutex_snapshot, num_ops)),			\
	LEAF("num_wait", CTL_U64, s, NULL,				\
	    offsetof(struct mutex_snapshot, num_wait)),			\
	LEAF("num_spin_acq", CTL_U64, s, NULL,				\
	    offsetof(struct mutex_snapshot, num_spin_acq)),		\
	LEAF("num_owner_switch", CTL_U64, s, NULL,			\
	    offsetof(struct mutex_snapshot, num_owner_switch)),		\
	LEAF("total_wait_time", CTL_U64, s, NULL,			\
	    offsetof(struct mutex_snapshot, total_wait_time)),		\
	LEAF("max_wait_time", CTL_U64, s, NULL,				\
	    offsetof(struct mutex_snapshot, max_wait_time)),		\
	LEAF("max_num_thds", CTL_U32, s, NULL,				\
	    offsetof(struct mutex_snapshot, max_num_thds)),		\
	END
#define	AS(n, t, f)	LEAF(n, t, SRC_ARENA, NULL, \
			    offsetof(struct arena_snapshot, f))
#define	BS(n, t)	LEAF(#n, t, SRC_BIN, NULL, \
			    offsetof(struct bin_snapshot, n))
#define	LS(n, t)	LEAF(#n, t, SRC_LEXT, NULL, \
			    offsetof(struct lextent_snapshot, n))
#define	ES(n)		LEAF(#n, CTL_SIZE, SRC_EXT, NULL, \
			    offsetof(struct extents_snapshot, n))
#define	GS(n)		LEAF(#n, CTL_SIZE, SRC_GLOBAL, NULL, \
			    offsetof(struct stats_snapshot, n))

static const struct ctl_node config_nodes[] = {
	CONST_B("cache_oblivious", ctl_false),
	CONST_B("debug", ctl_debug),
	CONST_B("fill", ctl_true),
	CONST_B("lazy_lock", ctl_false),
	HANDLER("malloc_conf", CTL_STR, F_R, config_malloc_conf_ctl),
	CONST_B("prof", ctl_true),
	CONST_B("prof_libgcc", ctl_true),
	CONST_B("prof_libunwind", ctl_false),
	CONST_B("stats", ctl_true),
	CONST_B("utrace", ctl_false),
	CONST_B("xmalloc", ctl_true),
	END
};

/* Every option of conf.c's table, with jemalloc's types. */
static const struct ctl_node opt_nodes[] = {
	OPT_B(abort),
	OPT_B(abort_conf),
	OPT_B(background_thread),
	OPT_B(confirm_conf),
	LEAF("dirty_decay_ms", CTL_SSIZE, SRC_PTR, &opt_dirty_decay_ms_boot, 0),
	OPT_B(harden),
	OPT(junk, CTL_STR),
	OPT(lg_prof_interval, CTL_SSIZE),
	OPT(lg_prof_sample, CTL_SIZE),
	HANDLER("max_background_threads", CTL_SIZE, F_R,
	    opt_max_background_threads_ctl),
	HANDLER("metadata_thp", CTL_STR, F_R, opt_metadata_thp_ctl),
	LEAF("muzzy_decay_ms", CTL_SSIZE, SRC_PTR, &opt_muzzy_decay_ms_boot, 0),
	OPT(narenas, CTL_UNSIGNED),
	OPT_B(numa),
	OPT_B(prof),
	OPT_B(prof_accum),
	OPT_B(prof_active),
	OPT_B(prof_final),
	OPT_B(prof_gdump),
	OPT_B(prof_leak),
	LEAF("prof_prefix", CTL_STR, SRC_STRBUF, opt.prof_prefix, 0),
	OPT_B(prof_thread_active_init),
	OPT(prof_unwind, CTL_STR),
	OPT_B(retain),
	OPT_B(stats_print),
	OPT(stats_print_fd, CTL_UNSIGNED),
	LEAF("stats_print_opts", CTL_STR, SRC_STRBUF, opt.stats_print_opts, 0),
	OPT_B(stats_publish),
	OPT_B(tcache),
	OPT(tcache_max, CTL_SIZE),
	HANDLER("thp", CTL_STR, F_R, opt_thp_ctl),
	OPT_B(xmalloc),
	OPT_B(zero),
	END
};

static const struct ctl_node thread_tcache_nodes[] = {
	HANDLER("enabled", CTL_BOOL, F_R | F_W, thread_tcache_enabled_ctl),
	HANDLER("flush", CTL_VOID, F_ACT, thread_tcache_flush_ctl),
	END
};

static const struct ctl_node thread_prof_nodes[] = {
	HANDLER("name", CTL_STR, F_R | F_W, thread_prof_name_ctl),
	HANDLER("active", CTL_BOOL, F_R | F_W, thread_prof_active_ctl),
	END
};

static const struct ctl_node thread_nodes[] = {
	HANDLER("arena", CTL_UNSIGNED, F_R | F_W, thread_arena_ctl),
	HANDLER("allocated", CTL_U64, F_R, thread_allocated_ctl),
	HANDLER("allocatedp", CTL_PTR, F_R, thread_allocatedp_ctl),
	HANDLER("deallocated", CTL_U64, F_R, thread_deallocated_ctl),
	HANDLER("deallocatedp", CTL_PTR, F_R, thread_deallocatedp_ctl),
	NAMED("tcache", thread_tcache_nodes),
	NAMED("prof", thread_prof_nodes),
	END
};

static const struct ctl_node tcache_nodes[] = {
	HANDLER("create", CTL_UNSIGNED, F_R | F_ACT, tcache_create_ctl),
	HANDLER("flush", CTL_UNSIGNED, F_W | F_ACT, tcache_flush_ctl),
	HANDLER("destroy", CTL_UNSIGNED, F_W | F_ACT, tcache_destroy_ctl),
	END
};

static const struct ctl_node arena_i_nodes[] = {
	HANDLER("initialized", CTL_BOOL, F_R, arena_i_initialized_ctl),
	HANDLER("decay", CTL_VOID, F_ACT, arena_i_decay_ctl),
	HANDLER("purge", CTL_VOID, F_ACT, arena_i_purge_ctl),
	HANDLER("reset", CTL_VOID, F_ACT, arena_i_reset_ctl),
	HANDLER("destroy", CTL_VOID, F_ACT, arena_i_destroy_ctl),
	HANDLER("dirty_decay_ms", CTL_SSIZE, F_R | F_W,
	    arena_i_dirty_decay_ms_ctl),
	HANDLER("muzzy_decay_ms", CTL_SSIZE, F_R | F_W,
	    arena_i_muzzy_decay_ms_ctl),
	HANDLER("extent_hooks", CTL_PTR, F_R | F_W, arena_i_extent_hooks_ctl),
	HANDLER("retain_grow_limit", CTL_SIZE, F_R | F_W,
	    arena_i_retain_grow_limit_ctl),
	END
};
static const struct ctl_node arena_i = ELEMENT(arena_i_nodes);

static const struct ctl_node arenas_bin_i_nodes[] = {
	HANDLER("size", CTL_SIZE, F_R, arenas_bin_i_size_ctl),
	HANDLER("nregs", CTL_U32, F_R, arenas_bin_i_nregs_ctl),
	HANDLER("slab_size", CTL_SIZE, F_R, arenas_bin_i_slab_size_ctl),
	END
};
static const struct ctl_node arenas_bin_i = ELEMENT(arenas_bin_i_nodes);

static const struct ctl_node arenas_lextent_i_nodes[] = {
	HANDLER("size", CTL_SIZE, F_R, arenas_lextent_i_size_ctl),
	END
};
static const struct ctl_node arenas_lextent_i =
    ELEMENT(arenas_lextent_i_nodes);

static const size_t	ctl_quantum = QUANTUM, ctl_page = PAGE;
static const unsigned	ctl_nbins = SC_NBINS, ctl_nlextents = SC_NLARGE;

static const struct ctl_node arenas_nodes[] = {
	HANDLER("narenas", CTL_UNSIGNED, F_R, arenas_narenas_ctl),
	HANDLER("dirty_decay_ms", CTL_SSIZE, F_R | F_W,
	    arenas_dirty_decay_ms_ctl),
	HANDLER("muzzy_decay_ms", CTL_SSIZE, F_R | F_W,
	    arenas_muzzy_decay_ms_ctl),
	LEAF("quantum", CTL_SIZE, SRC_PTR, &ctl_quantum, 0),
	LEAF("page", CTL_SIZE, SRC_PTR, &ctl_page, 0),
	HANDLER("tcache_max", CTL_SIZE, F_R, arenas_tcache_max_ctl),
	LEAF("nbins", CTL_UNSIGNED, SRC_PTR, &ctl_nbins, 0),
	HANDLER("nhbins", CTL_UNSIGNED, F_R, arenas_nhbins_ctl),
	INDEXED("bin", arenas_bin_i, INDEX_BELOW, SC_NBINS),
	LEAF("nlextents", CTL_UNSIGNED, SRC_PTR, &ctl_nlextents, 0),
	INDEXED("lextent", arenas_lextent_i, INDEX_BELOW, SC_NLARGE),
	HANDLER("create", CTL_UNSIGNED, F_R | F_W | F_ACT, arenas_create_ctl),
	HANDLER("lookup", CTL_UNSIGNED, F_R | F_W | F_ACT, arenas_lookup_ctl),
	END
};

static const struct ctl_node sa_small_nodes[] = {
	AS("allocated", CTL_SIZE, small_allocated),
	AS("nmalloc", CTL_U64, small_nmalloc),
	AS("ndalloc", CTL_U64, small_ndalloc),
	AS("nrequests", CTL_U64, small_nrequests),
	AS("nfills", CTL_U64, small_nfills),
	AS("nflushes", CTL_U64, small_nflushes),
	END
};

static const struct ctl_node sa_large_nodes[] = {
	AS("allocated", CTL_SIZE, large_allocated),
	AS("nmalloc", CTL_U64, large_nmalloc),
	AS("ndalloc", CTL_U64, large_ndalloc),
	AS("nrequests", CTL_U64, large_nrequests),
	END
};

static const struct ctl_node sa_bin_mutex_nodes[] = { MTX(SRC_BINMTX) };

static const struct ctl_node sa_bins_j_nodes[] = {
	BS(nmalloc, CTL_U64),
	BS(ndalloc, CTL_U64),
	BS(nrequests, CTL_U64),
	BS(curregs, CTL_SIZE),
	BS(nfills, CTL_U64),
	BS(nflushes, CTL_U64),
	BS(nslabs, CTL_U64),
	BS(nreslabs, CTL_U64),
	BS(curslabs, CTL_SIZE),
	BS(nonfull_slabs, CTL_SIZE),
	NAMED("mutex", sa_bin_mutex_nodes),
	END
};
static const struct ctl_node sa_bins_j = ELEMENT(sa_bins_j_nodes);

static const struct ctl_node sa_lextents_j_nodes[] = {
	LS(nmalloc, CTL_U64),
	LS(ndalloc, CTL_U64),
	LS(nrequests, CTL_U64),
	LS(curlextents, CTL_SIZE),
	END
};
static const struct ctl_node sa_lextents_j = ELEMENT(sa_lextents_j_nodes);

static const struct ctl_node sa_extents_j_nodes[] = {
	ES(ndirty),
	ES(nmuzzy),
	ES(nretained),
	ES(dirty_bytes),
	ES(muzzy_bytes),
	ES(retained_bytes),
	END
};
static const struct ctl_node sa_extents_j = ELEMENT(sa_extents_j_nodes);

/* One extent_lock guards what jemalloc splits over several mutexes. */
static const struct ctl_node sa_extents_mutex_nodes[] = { MTX(SRC_ARENAMTX) };
static const struct ctl_node sa_mutexes_nodes[] = {
	NAMED("extents", sa_extents_mutex_nodes),
	END
};

static const struct ctl_node stats_arenas_i_nodes[] = {
	AS("nthreads", CTL_UNSIGNED, nthreads),
	AS("uptime", CTL_U64, uptime),
	LEAF("dss", CTL_STR, SRC_PTR, &ctl_dss_disabled, 0),
	AS("dirty_decay_ms", CTL_SSIZE, dirty_decay_ms),
	AS("muzzy_decay_ms", CTL_SSIZE, muzzy_decay_ms),
	AS("pactive", CTL_SIZE, pactive),
	AS("pdirty", CTL_SIZE, pdirty),
	AS("pmuzzy", CTL_SIZE, pmuzzy),
	AS("mapped", CTL_SIZE, mapped),
	AS("retained", CTL_SIZE, retained),
	AS("superpage_mapped", CTL_SIZE, superpage_mapped),
	AS("base", CTL_SIZE, base),
	AS("internal", CTL_SIZE, internal),
	AS("resident", CTL_SIZE, resident),
	AS("dirty_npurge", CTL_U64, dirty_npurge),
	AS("dirty_nmadvise", CTL_U64, dirty_nmadvise),
	AS("dirty_purged", CTL_U64, dirty_purged),
	AS("muzzy_npurge", CTL_U64, muzzy_npurge),
	AS("muzzy_nmadvise", CTL_U64, muzzy_nmadvise),
	AS("muzzy_purged", CTL_U64, muzzy_purged),
	NAMED("small", sa_small_nodes),
	NAMED("large", sa_large_nodes),
	NAMED("mutexes", sa_mutexes_nodes),
	INDEXED("bins", sa_bins_j, INDEX_BELOW, SC_NBINS),
	INDEXED("lextents", sa_lextents_j, INDEX_BELOW, SC_NLARGE),
	INDEXED("extents", sa_extents_j, INDEX_BELOW, PSZ_N),
	END
};
static const struct ctl_node stats_arenas_i = ELEMENT(stats_arenas_i_nodes);

static const struct ctl_node stats_ctl_mutex_nodes[] = { MTX(SRC_CTLMTX) };
static const struct ctl_node stats_mutexes_nodes[] = {
	NAMED("ctl", stats_ctl_mutex_nodes),
	HANDLER("reset", CTL_VOID, F_ACT, stats_mutexes_reset_ctl),
	END
};

static const struct ctl_node stats_background_nodes[] = {
	HANDLER("num_threads", CTL_SIZE, F_R, stats_background_ctl),
	HANDLER("num_runs", CTL_U64, F_R, stats_background_ctl),
	HANDLER("run_interval", CTL_U64, F_R, stats_background_ctl),
	END
};

static const struct ctl_node stats_nodes[] = {
	NAMED("background_thread", stats_background_nodes),
	LEAF("zero_reallocs", CTL_SIZE, SRC_PTR, &malloc_zero_reallocs, 0),
	GS(allocated),
	GS(active),
	GS(metadata),
	GS(metadata_thp),
	GS(resident),
	GS(mapped),
	GS(retained),
	NAMED("mutexes", stats_mutexes_nodes),
	INDEXED("arenas", stats_arenas_i, INDEX_STATS_ARENA,
	    MALLCTL_ARENAS_DESTROYED + 1),
	END
};

static const struct ctl_node prof_nodes[] = {
	HANDLER("thread_active_init", CTL_BOOL, F_R | F_W,
	    prof_thread_active_init_ctl),
	HANDLER("active", CTL_BOOL, F_R | F_W, prof_active_ctl),
	HANDLER("dump", CTL_STR, F_W | F_ACT, prof_dump_ctl),
	HANDLER("gdump", CTL_BOOL, F_R | F_W, prof_gdump_ctl),
	HANDLER("prefix", CTL_STR, F_W | F_ACT, prof_prefix_ctl),
	HANDLER("reset", CTL_SIZE, F_W | F_ACT, prof_reset_ctl),
	HANDLER("interval", CTL_U64, F_R, prof_interval_ctl),
	HANDLER("lg_sample", CTL_SIZE, F_R, prof_lg_sample_ctl),
	HANDLER("unwind", CTL_STR, F_R, prof_unwind_ctl),
	END
};

static const struct ctl_node experimental_prof_recent_nodes[] = {
	HANDLER("alloc_max", CTL_SSIZE, F_R | F_W, prof_recent_alloc_max_ctl),
	HANDLER("alloc_dump", CTL_VOID, F_W | F_ACT, prof_recent_alloc_dump_ctl),
	END
};

static const struct ctl_node experimental_nodes[] = {
	NAMED("prof_recent", experimental_prof_recent_nodes),
	END
};

static const struct ctl_node root_nodes[] = {
	LEAF("version", CTL_STR, SRC_PTR, &ctl_version, 0),
	HANDLER("epoch", CTL_U64, F_R | F_W, epoch_ctl),
	HANDLER("background_thread", CTL_BOOL, F_R | F_W,
	    background_thread_ctl),
	HANDLER("max_background_threads", CTL_SIZE, F_R | F_W,
	    max_background_threads_ctl),
	NAMED("config", config_nodes),
	NAMED("opt", opt_nodes),
	NAMED("thread", thread_nodes),
	NAMED("tcache", tcache_nodes),
	/* Every arena index, and MALLCTL_ARENAS_ALL. */
	INDEXED("arena", arena_i, INDEX_BELOW, MALLCTL_ARENAS_ALL + 1),
	NAMED("arenas", arenas_nodes),
	NAMED("stats", stats_nodes),
	NAMED("prof", prof_nodes),
	NAMED("experimental", experimental_nodes),
	END
};
static const struct ctl_node root = NAMED("", root_nodes);

/* Resolution -------------------------------------------------------------- */

static bool
node_is_leaf(const struct ctl_node *n)
{
	return (n->kind == NODE_HANDLER || n->kind == NODE_LEAF);
}

static bool
node_index_ok(const struct ctl_node *n, size_t i)
{
	if (n->index == INDEX_STATS_ARENA)
		return (index_stats_arena(i));
	return (i < n->nindex);
}

static unsigned
node_nchildren(const struct ctl_node *n)
{
	unsigned k = 0;

	while (n->children[k].name != NULL)
		k++;
	return (k);
}

/* The node mib reaches, or NULL. */
static const struct ctl_node *
ctl_resolve(const size_t *mib, size_t miblen)
{
	const struct ctl_node *n = &root;
	size_t k;

	for (k = 0; k < miblen; k++) {
		if (n->kind == NODE_NAMED) {
			if (mib[k] >= node_nchildren(n))
				return (NULL);
			n = &n->children[mib[k]];
		} else if (n->kind == NODE_INDEXED) {
			if (!node_index_ok(n, mib[k]))
				return (NULL);
			n = n->element;
		} else
			return (NULL);
	}
	return (n);
}

/* Boots the allocator if needed and takes ctl_lock; false on success. */
static bool
ctl_enter(void)
{
	if (!__atomic_load_n(&malloc_initialized, __ATOMIC_ACQUIRE)) {
		/* nallocx runs malloc's initialisation; it is pure: use it. */
		if (nallocx(1, 0) == 0 ||
		    !__atomic_load_n(&malloc_initialized, __ATOMIC_ACQUIRE))
			return (true);
	}
	mlock_lock(&ctl_lock);
	if (!ctl_initialized) {
		opt_dirty_decay_ms_boot = opt.dirty_decay_ms;
		opt_muzzy_decay_ms_boot = opt.muzzy_decay_ms;
		stats_refresh(&ctl_lock);
		ctl_initialized = true;
	}
	return (false);
}

static int
ctl_nametomib_locked(const char *name, size_t *mib, size_t *miblenp)
{
	const struct ctl_node *n = &root;
	const char *end;
	size_t len, k, i, cap = *miblenp;
	unsigned c;

	if (name == NULL)
		return (ENOENT);
	for (k = 0; *name != '\0' && k < cap; k++) {
		end = strchr(name, '.');
		len = end != NULL ? (size_t)(end - name) : strlen(name);
		if (n->kind == NODE_NAMED) {
			for (c = 0; n->children[c].name != NULL; c++)
				if (strlen(n->children[c].name) == len &&
				    memcmp(n->children[c].name, name, len) == 0)
					break;
			if (n->children[c].name == NULL)
				return (ENOENT);
			mib[k] = c;
			n = &n->children[c];
		} else if (n->kind == NODE_INDEXED) {
			if (len == 0 || len > 19)
				return (ENOENT);
			for (i = 0, c = 0; c < len; c++) {
				if (name[c] < '0' || name[c] > '9')
					return (ENOENT);
				i = i * 10 + (size_t)(name[c] - '0');
			}
			if (!node_index_ok(n, i))
				return (ENOENT);
			mib[k] = i;
			n = n->element;
		} else
			return (ENOENT);
		name += len;
		if (*name == '.') {
			name++;
			if (*name == '\0')
				return (ENOENT);
		}
	}
	*miblenp = k;
	return (0);
}

static int
ctl_bymib_locked(const size_t *mib, size_t miblen, void *oldp,
    size_t *oldlenp, void *newp, size_t newlen)
{
	const struct ctl_node *n = ctl_resolve(mib, miblen);
	struct ctl_req r = { mib, miblen, oldp, oldlenp, newp, newlen };

	if (n == NULL || !node_is_leaf(n) || n == &root)
		return (ENOENT);
	if (n->kind == NODE_HANDLER)
		return (n->fn(n, &r));
	return (leaf_generic(n, &r));
}

EXPORT int
mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp)
{
	int err;

	if (ctl_enter())
		return (EAGAIN);
	err = ctl_nametomib_locked(name, mibp, miblenp);
	mlock_unlock(&ctl_lock);
	return (err);
}

EXPORT int
mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp,
    void *newp, size_t newlen)
{
	int err;

	if (ctl_enter())
		return (EAGAIN);
	err = ctl_bymib_locked(mib, miblen, oldp, oldlenp, newp, newlen);
	mlock_unlock(&ctl_lock);
	return (err);
}

EXPORT int
mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp,
    size_t newlen)
{
	size_t mib[CTL_MAXDEPTH], miblen = CTL_MAXDEPTH;
	int err;

	if (ctl_enter())
		return (EAGAIN);
	err = ctl_nametomib_locked(name, mib, &miblen);
	if (err == 0)
		err = ctl_bymib_locked(mib, miblen, oldp, oldlenp, newp,
		    newlen);
	mlock_unlock(&ctl_lock);
	return (err);
}

int
ctl_node_info(const size_t *mib, size_t miblen, struct ctl_info *out)
{
	const struct ctl_node *n;

	if (ctl_enter())
		return (EAGAIN);
	n = ctl_resolve(mib, miblen);
	mlock_unlock(&ctl_lock);
	if (n == NULL)
		return (ENOENT);
	memset(out, 0, sizeof(*out));
	out->name = n->name;
	out->leaf = node_is_leaf(n);
	out->indexed = n->kind == NODE_INDEXED;
	out->nchildren = n->kind == NODE_NAMED ? node_nchildren(n) : 0;
	out->nindex = n->nindex;
	out->type = n->type;
	out->printable = out->leaf && (n->flags & F_ACT) == 0 &&
	    (n->flags & F_R) != 0 && n->type != CTL_VOID && n->type != CTL_PTR;
	if (n->kind == NODE_LEAF)
		out->printable = true;
	return (0);
}

bool
ctl_index_exists(const size_t *mib, size_t miblen, size_t i)
{
	const struct ctl_node *n;
	bool ok = false;

	if (ctl_enter())
		return (false);
	n = ctl_resolve(mib, miblen);
	if (n != NULL && n->kind == NODE_INDEXED)
		ok = node_index_ok(n, i);
	mlock_unlock(&ctl_lock);
	return (ok);
}

/* Fork ---------------------------------------------------------------- */

void
ctl_prefork(void)
{
	mlock_lock(&ctl_lock);
}

void
ctl_postfork_parent(void)
{
	mlock_unlock(&ctl_lock);
}

void
ctl_postfork_child(void)
{
	mlock_postfork_child(&ctl_lock);
}
