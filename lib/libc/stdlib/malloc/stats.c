/*
 * Statistics: per-arena snapshots for mallctl's stats.* nodes, the
 * process-wide summary for the published page, and malloc_stats_print.
 *
 * The counters themselves live where they are updated (bins under their
 * locks, large and extent counters under the arena's extent_lock, mutex
 * counters inside the mutexes); this module only reads them, taking each
 * lock briefly.  Snapshots are metadata from base_alloc, made the first
 * time an arena is seen, and are protected by ctl's lock: stats_refresh
 * and every reader run with it held.
 *
 * malloc_stats_print walks the mallctl tree through ctl's introspection
 * (ctl_node_info), so every node ctl defines is printed and no name is
 * spelt twice.  It formats into a stack buffer with msg_format and never
 * allocates.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "base.h"
#include "conf.h"
#include "ctl.h"
#include "lock.h"
#include "malloc_np.h"
#include "msg.h"
#include "stats.h"

struct stats_snapshot	stats_global;

/* [ARENAS_MAX] is the merged snapshot (MALLCTL_ARENAS_ALL). */
static struct arena_snapshot	*snaps[ARENAS_MAX + 1];

static uint64_t
stats_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

void
stats_mutex_read(struct mutex_snapshot *out, const struct mlock *lock)
{
	memset(out, 0, sizeof(*out));
	out->num_ops = lock->nlocks;
	out->num_wait = lock->ncontended;
}

static void
mutex_add(struct mutex_snapshot *dst, const struct mutex_snapshot *src)
{
	dst->num_ops += src->num_ops;
	dst->num_wait += src->num_wait;
	dst->num_spin_acq += src->num_spin_acq;
	dst->num_owner_switch += src->num_owner_switch;
	dst->total_wait_time += src->total_wait_time;
	if (src->max_wait_time > dst->max_wait_time)
		dst->max_wait_time = src->max_wait_time;
	if (src->max_num_thds > dst->max_num_thds)
		dst->max_num_thds = src->max_num_thds;
}

/* Counts the free extents of one cache by page-size class. */
static void
extents_read(const struct ecache *cache, struct extents_snapshot *ex)
{
	const struct extent *ext;
	size_t n, bytes;
	unsigned j;

	for (j = 0; j < PSZ_N; j++) {
		n = bytes = 0;
		for (ext = cache->buckets[j].head; ext != NULL;
		    ext = ext->link.next) {
			n++;
			bytes += ext->size;
		}
		switch (cache->state) {
		case EXTENT_DIRTY:
			ex[j].ndirty = n;
			ex[j].dirty_bytes = bytes;
			break;
		case EXTENT_MUZZY:
			ex[j].nmuzzy = n;
			ex[j].muzzy_bytes = bytes;
			break;
		default:
			ex[j].nretained = n;
			ex[j].retained_bytes = bytes;
			break;
		}
	}
}

/* Reads one arena into s, keeping s->seen_ns. */
static void
arena_read(struct arena *arena, struct arena_snapshot *s)
{
	uint64_t seen_ns = s->seen_ns, ntake, nput;
	struct bin_snapshot *bs;
	struct bin *bin;
	unsigned i;

	memset(s, 0, sizeof(*s));
	s->valid = true;
	s->seen_ns = seen_ns;
	s->uptime = stats_now_ns() - seen_ns;
	s->nthreads = __atomic_load_n(&arena->nthreads, __ATOMIC_RELAXED);
	for (i = 0; i < SC_NBINS; i++) {
		bin = &arena->bins[i];
		bs = &s->bins[i];
		mlock_lock(&bin->lock);
		bs->nmalloc = bin->stats.nmalloc;
		bs->ndalloc = bin->stats.ndalloc;
		bs->nrequests = bin->stats.nrequests;
		bs->curregs = bin->stats.curregs;
		bs->nfills = bin->stats.nfills;
		bs->nflushes = bin->stats.nflushes;
		bs->nslabs = bin->stats.nslabs;
		bs->nreslabs = bin->stats.nreslabs;
		bs->curslabs = bin->stats.curslabs;
		bs->nonfull_slabs = bin->stats.nonfull_slabs;
		stats_mutex_read(&bs->mutex, &bin->lock);
		mlock_unlock(&bin->lock);
		s->small_allocated += bs->curregs * bin_infos[i].reg_size;
		s->small_nmalloc += bs->nmalloc;
		s->small_ndalloc += bs->ndalloc;
		s->small_nrequests += bs->nrequests;
		s->small_nfills += bs->nfills;
		s->small_nflushes += bs->nflushes;
		s->pactive += bs->curslabs * bin_infos[i].slab_npages;
	}
	mlock_lock(&arena->extent_lock);
	s->dirty_decay_ms = arena->dirty_decay_ms;
	s->muzzy_decay_ms = arena->muzzy_decay_ms;
	s->pdirty = arena->dirty.npages;
	s->pmuzzy = arena->muzzy.npages;
	s->retained = arena->retained.npages << LG_PAGE;
	arena_sample_moves(arena, &ntake, &nput);
	s->large_allocated = arena_large_allocated(arena, ntake, nput);
	s->large_nmalloc = arena->nmalloc_large + ntake;
	s->large_ndalloc = arena->ndalloc_large + nput;
	for (i = 0; i < SC_NLARGE; i++) {
		s->lextents[i].nmalloc = arena->lstats[i].nmalloc;
		s->lextents[i].ndalloc = arena->lstats[i].ndalloc;
		s->lextents[i].nrequests = arena->lstats[i].nrequests;
		s->lextents[i].curlextents = arena->lstats[i].curlextents;
	}
	s->lextents[0].nmalloc += ntake;
	s->lextents[0].nrequests += ntake;
	s->lextents[0].ndalloc += nput;
	s->lextents[0].curlextents += (size_t)(ntake - nput);
	for (i = 0; i < SC_NLARGE; i++)
		s->large_nrequests += s->lextents[i].nrequests;
	s->dirty_npurge = arena->decay_dirty.npurge;
	s->dirty_nmadvise = arena->decay_dirty.nmadvise;
	s->dirty_purged = arena->decay_dirty.purged;
	s->muzzy_npurge = arena->decay_muzzy.npurge;
	s->muzzy_nmadvise = arena->decay_muzzy.nmadvise;
	s->muzzy_purged = arena->decay_muzzy.purged;
	s->superpage_mapped = arena->mapped_superpage;
	extents_read(&arena->dirty, s->extents);
	extents_read(&arena->muzzy, s->extents);
	extents_read(&arena->retained, s->extents);
	stats_mutex_read(&s->extents_mutex, &arena->extent_lock);
	mlock_unlock(&arena->extent_lock);
	/* Large classes are page multiples. */
	s->pactive += s->large_allocated >> LG_PAGE;
	s->mapped = (s->pactive + s->pdirty + s->pmuzzy) << LG_PAGE;
	s->resident = (s->pactive + s->pdirty) << LG_PAGE;
}

/* Adds arena snapshot src into the merged snapshot dst. */
static void
arena_merge(struct arena_snapshot *dst, const struct arena_snapshot *src)
{
	unsigned i;

	dst->nthreads += src->nthreads;
	if (src->uptime > dst->uptime)
		dst->uptime = src->uptime;
	dst->pactive += src->pactive;
	dst->pdirty += src->pdirty;
	dst->pmuzzy += src->pmuzzy;
	dst->mapped += src->mapped;
	dst->retained += src->retained;
	dst->superpage_mapped += src->superpage_mapped;
	dst->resident += src->resident;
	dst->dirty_npurge += src->dirty_npurge;
	dst->dirty_nmadvise += src->dirty_nmadvise;
	dst->dirty_purged += src->dirty_purged;
	dst->muzzy_npurge += src->muzzy_npurge;
	dst->muzzy_nmadvise += src->muzzy_nmadvise;
	dst->muzzy_purged += src->muzzy_purged;
	dst->small_allocated += src->small_allocated;
	dst->small_nmalloc += src->small_nmalloc;
	dst->small_ndalloc += src->small_ndalloc;
	dst->small_nrequests += src->small_nrequests;
	dst->small_nfills += src->small_nfills;
	dst->small_nflushes += src->small_nflushes;
	dst->large_allocated += src->large_allocated;
	dst->large_nmalloc += src->large_nmalloc;
	dst->large_ndalloc += src->large_ndalloc;
	dst->large_nrequests += src->large_nrequests;
	mutex_add(&dst->extents_mutex, &src->extents_mutex);
	for (i = 0; i < SC_NBINS; i++) {
		struct bin_snapshot *d = &dst->bins[i];
		const struct bin_snapshot *b = &src->bins[i];

		d->nmalloc += b->nmalloc;
		d->ndalloc += b->ndalloc;
		d->nrequests += b->nrequests;
		d->curregs += b->curregs;
		d->nfills += b->nfills;
		d->nflushes += b->nflushes;
		d->nslabs += b->nslabs;
		d->nreslabs += b->nreslabs;
		d->curslabs += b->curslabs;
		d->nonfull_slabs += b->nonfull_slabs;
		mutex_add(&d->mutex, &b->mutex);
	}
	for (i = 0; i < SC_NLARGE; i++) {
		dst->lextents[i].nmalloc += src->lextents[i].nmalloc;
		dst->lextents[i].ndalloc += src->lextents[i].ndalloc;
		dst->lextents[i].nrequests += src->lextents[i].nrequests;
		dst->lextents[i].curlextents += src->lextents[i].curlextents;
	}
	for (i = 0; i < PSZ_N; i++) {
		dst->extents[i].ndirty += src->extents[i].ndirty;
		dst->extents[i].nmuzzy += src->extents[i].nmuzzy;
		dst->extents[i].nretained += src->extents[i].nretained;
		dst->extents[i].dirty_bytes += src->extents[i].dirty_bytes;
		dst->extents[i].muzzy_bytes += src->extents[i].muzzy_bytes;
		dst->extents[i].retained_bytes +=
		    src->extents[i].retained_bytes;
	}
}

static struct arena_snapshot *
snapshot_get(unsigned slot)
{
	if (snaps[slot] == NULL) {
		snaps[slot] = base_alloc(sizeof(struct arena_snapshot),
		    CACHELINE);
		if (snaps[slot] != NULL)
			snaps[slot]->seen_ns = stats_now_ns();
	}
	return (snaps[slot]);
}

void
stats_refresh(struct mlock *ctl_lock)
{
	struct arena_snapshot *all, *s;
	struct arena *arena;
	size_t base_allocated, base_resident, base_mapped;
	unsigned i, n;

	all = snapshot_get(ARENAS_MAX);
	if (all == NULL)
		return;
	memset(all, 0, offsetof(struct arena_snapshot, seen_ns));
	memset(&all->uptime, 0, sizeof(*all) -
	    offsetof(struct arena_snapshot, uptime));
	all->valid = true;
	all->dirty_decay_ms = opt.dirty_decay_ms;
	all->muzzy_decay_ms = opt.muzzy_decay_ms;
	n = __atomic_load_n(&narenas_total, __ATOMIC_ACQUIRE);
	for (i = 0; i < ARENAS_MAX; i++) {
		arena = i < n ? __atomic_load_n(&arenas[i], __ATOMIC_ACQUIRE) :
		    NULL;
		if (arena == NULL) {
			/* A later arena at this index is a new one. */
			if (snaps[i] != NULL) {
				snaps[i]->valid = false;
				snaps[i]->seen_ns = stats_now_ns();
			}
			continue;
		}
		if ((s = snapshot_get(i)) == NULL)
			continue;
		arena_read(arena, s);
		arena_merge(all, s);
	}
	base_stats(&base_allocated, &base_resident, &base_mapped);
	all->base = base_allocated;
	all->resident += base_resident;
	all->mapped += base_mapped;
	stats_global.epoch++;
	stats_global.allocated = all->small_allocated + all->large_allocated;
	stats_global.active = all->pactive << LG_PAGE;
	stats_global.metadata = base_allocated;
	/* Metadata is on huge pages only under metadata_thp:always. */
	stats_global.metadata_thp = opt.metadata_thp == METADATA_THP_ALWAYS ?
	    base_resident : 0;
	stats_global.resident = all->resident;
	stats_global.mapped = all->mapped;
	stats_global.retained = all->retained;
	stats_mutex_read(&stats_global.ctl_mutex, ctl_lock);
}

/* Destroyed arenas' counters, merged; read under ctl's lock. */
static struct arena_snapshot	*destroyed, *destroyed_scratch;

void
stats_arena_destroyed(struct arena *arena)
{
	if (destroyed == NULL) {
		destroyed = base_alloc(sizeof(*destroyed), CACHELINE);
		destroyed_scratch = base_alloc(sizeof(*destroyed), CACHELINE);
		if (destroyed == NULL || destroyed_scratch == NULL) {
			destroyed = NULL;
			return;
		}
		destroyed->seen_ns = stats_now_ns();
		destroyed->dirty_decay_ms = opt.dirty_decay_ms;
		destroyed->muzzy_decay_ms = opt.muzzy_decay_ms;
	}
	memset(destroyed_scratch, 0, sizeof(*destroyed_scratch));
	arena_read(arena, destroyed_scratch);
	/* Nothing of it stays allocated, mapped or resident. */
	destroyed_scratch->pactive = destroyed_scratch->pdirty =
	    destroyed_scratch->pmuzzy = 0;
	destroyed_scratch->mapped = destroyed_scratch->retained = 0;
	destroyed_scratch->resident = 0;
	destroyed_scratch->nthreads = 0;
	arena_merge(destroyed, destroyed_scratch);
	destroyed->valid = true;
}

struct arena_snapshot *
stats_arena_snapshot(unsigned ind)
{
	struct arena_snapshot *s;

	if (ind == MALLCTL_ARENAS_DESTROYED)
		return (destroyed != NULL && destroyed->valid ? destroyed :
		    NULL);
	if (ind == MALLCTL_ARENAS_ALL)
		ind = ARENAS_MAX;
	else if (ind >= ARENAS_MAX)
		return (NULL);
	s = snaps[ind];
	return (s != NULL && s->valid ? s : NULL);
}

/* malloc_stats_print ---------------------------------------------------- */

#define	EM_MAXDEPTH	12

/*
 * Output through the caller's callback in chunks of a stack buffer.  JSON
 * keeps, per nesting level, whether an item was written yet (for commas).
 */
struct emitter {
	void	(*cb)(void *, const char *);
	void	*cbopaque;
	bool	json;
	int	depth;
	bool	nonempty[EM_MAXDEPTH];
	size_t	len;
	char	buf[2048];
};

/* What the opts letters omit; jemalloc's letters. */
struct print_opts {
	bool	general;	/* g */
	bool	merged;		/* m */
	bool	per_arena;	/* a */
	bool	bins;		/* b */
	bool	large;		/* l */
	bool	mutex;		/* x */
	bool	extents;	/* e */
	bool	destroyed;	/* d */
};

static void
stats_write_stderr(void *cbopaque, const char *s)
{
	size_t len = strlen(s), off;
	ssize_t w;

	(void)cbopaque;
	for (off = 0; off < len; off += (size_t)w) {
		w = write(STDERR_FILENO, s + off, len - off);
		if (w <= 0)
			break;
	}
}

static void
em_flush(struct emitter *e)
{
	if (e->len == 0)
		return;
	e->buf[e->len] = '\0';
	e->cb(e->cbopaque, e->buf);
	e->len = 0;
}

static void
em_puts(struct emitter *e, const char *s)
{
	for (; *s != '\0'; s++) {
		if (e->len + 1 >= sizeof(e->buf))
			em_flush(e);
		e->buf[e->len++] = *s;
	}
}

static void
em_printf(struct emitter *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
em_printf(struct emitter *e, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	msg_vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	em_puts(e, line);
}

static void
em_indent(struct emitter *e)
{
	int i;

	for (i = 0; i < e->depth; i++)
		em_puts(e, e->json ? "\t" : "  ");
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void
em_json_string(struct emitter *e, const char *s)
{
	char esc[8];

	em_puts(e, "\"");
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			esc[2] = '\0';
		} else if (c < 0x20) {
			msg_format(esc, sizeof(esc), "\\u%04x", c);
		} else {
			esc[0] = (char)c;
			esc[1] = '\0';
		}
		em_puts(e, esc);
	}
	em_puts(e, "\"");
}

/* Starts a JSON item (a key, or an array element when key is NULL). */
static void
em_json_item(struct emitter *e, const char *key)
{
	if (e->nonempty[e->depth])
		em_puts(e, ",");
	em_puts(e, "\n");
	e->nonempty[e->depth] = true;
	em_indent(e);
	if (key != NULL) {
		em_json_string(e, key);
		em_puts(e, ": ");
	}
}

static void
em_open(struct emitter *e, const char *key, bool array)
{
	if (e->json) {
		em_json_item(e, key);
		em_puts(e, array ? "[" : "{");
	} else if (key != NULL) {
		em_indent(e);
		em_printf(e, "%s:\n", key);
	}
	if (e->depth + 1 < EM_MAXDEPTH)
		e->depth++;
	e->nonempty[e->depth] = false;
}

static void
em_close(struct emitter *e, bool array)
{
	bool nonempty = e->nonempty[e->depth];

	if (e->depth > 0)
		e->depth--;
	if (!e->json)
		return;
	if (nonempty) {
		em_puts(e, "\n");
		em_indent(e);
	}
	em_puts(e, array ? "]" : "}");
}

union ctl_value {
	bool		b;
	unsigned	u;
	uint32_t	u32;
	uint64_t	u64;
	size_t		z;
	ssize_t		sz;
	const char	*s;
	void		*p;
};


/* Formats a leaf's value; false if it has none to print. */
static bool
value_format(const size_t *mib, size_t miblen, enum ctl_type type,
    char *buf, size_t bufsize, bool json)
{
	union ctl_value v;
	size_t len = ctl_type_size[type];

	if (len == 0 || type == CTL_PTR ||
	    mallctlbymib(mib, miblen, &v, &len, NULL, 0) != 0)
		return (false);
	switch (type) {
	case CTL_BOOL:
		msg_format(buf, bufsize, "%s", v.b ? "true" : "false");
		break;
	case CTL_UNSIGNED:
		msg_format(buf, bufsize, "%u", v.u);
		break;
	case CTL_U32:
		msg_format(buf, bufsize, "%u", (unsigned)v.u32);
		break;
	case CTL_U64:
		msg_format(buf, bufsize, "%llu", (unsigned long long)v.u64);
		break;
	case CTL_SIZE:
		msg_format(buf, bufsize, "%zu", v.z);
		break;
	case CTL_SSIZE:
		msg_format(buf, bufsize, "%lld", (long long)v.sz);
		break;
	case CTL_STR:
		/* JSON strings are escaped by the caller. */
		msg_format(buf, bufsize, json ? "%s" : "\"%s\"",
		    v.s != NULL ? v.s : "");
		break;
	default:
		return (false);
	}
	return (true);
}

static bool
name_omitted(const struct print_opts *po, const char *name)
{
	if (name == NULL)
		return (false);
	if (!po->bins && (strcmp(name, "bins") == 0 ||
	    strcmp(name, "bin") == 0))
		return (true);
	if (!po->large && (strcmp(name, "lextents") == 0 ||
	    strcmp(name, "lextent") == 0))
		return (true);
	if (!po->mutex && (strcmp(name, "mutexes") == 0 ||
	    strcmp(name, "mutex") == 0))
		return (true);
	if (!po->extents && strcmp(name, "extents") == 0)
		return (true);
	return (false);
}

static void	em_node(struct emitter *e, const struct print_opts *po,
		    size_t *mib, size_t miblen, const char *key);

static void
em_leaf(struct emitter *e, const size_t *mib, size_t miblen,
    const struct ctl_info *info, const char *key)
{
	char val[128];

	if (!info->printable || !value_format(mib, miblen, info->type, val,
	    sizeof(val), e->json))
		return;
	if (e->json) {
		em_json_item(e, key);
		if (info->type == CTL_STR)
			em_json_string(e, val);
		else
			em_puts(e, val);
	} else {
		em_indent(e);
		em_printf(e, "%s: %s\n", key, val);
	}
}

/*
 * Text: an indexed node whose elements are leaves prints as a table, one
 * row per index with any non-zero value (sizes always differ from zero).
 */
static void
em_text_table(struct emitter *e, size_t *mib, size_t miblen,
    const struct ctl_info *info, const char *key)
{
	struct ctl_info el, col;
	char val[64];
	size_t i, k;
	bool any;

	em_indent(e);
	em_printf(e, "%s:\n", key);
	em_indent(e);
	em_printf(e, "%8s", "index");
	mib[miblen] = 0;
	if (ctl_node_info(mib, miblen + 1, &el) != 0)
		return;
	for (k = 0; k < el.nchildren; k++) {
		mib[miblen + 1] = k;
		if (ctl_node_info(mib, miblen + 2, &col) == 0 && col.leaf &&
		    col.printable)
			em_printf(e, " %14s", col.name);
	}
	em_puts(e, "\n");
	for (i = 0; i < info->nindex; i++) {
		if (!ctl_index_exists(mib, miblen, i))
			continue;
		mib[miblen] = i;
		any = false;
		for (k = 0; k < el.nchildren && !any; k++) {
			mib[miblen + 1] = k;
			if (ctl_node_info(mib, miblen + 2, &col) == 0 &&
			    col.leaf && col.printable && value_format(mib,
			    miblen + 2, col.type, val, sizeof(val), false) &&
			    strcmp(val, "0") != 0)
				any = true;
		}
		if (!any)
			continue;
		em_indent(e);
		em_printf(e, "%8zu", i);
		for (k = 0; k < el.nchildren; k++) {
			mib[miblen + 1] = k;
			if (ctl_node_info(mib, miblen + 2, &col) != 0 ||
			    !col.leaf || !col.printable)
				continue;
			if (!value_format(mib, miblen + 2, col.type, val,
			    sizeof(val), false))
				val[0] = '-', val[1] = '\0';
			em_printf(e, " %14s", val);
		}
		em_puts(e, "\n");
	}
}

/* Text tables show the leaf columns (a bin's mutex is JSON's only). */
static bool
has_leaf_elements(size_t *mib, size_t miblen)
{
	struct ctl_info el, col;
	size_t k;

	mib[miblen] = 0;
	if (ctl_node_info(mib, miblen + 1, &el) != 0)
		return (false);
	for (k = 0; k < el.nchildren; k++) {
		mib[miblen + 1] = k;
		if (ctl_node_info(mib, miblen + 2, &col) == 0 && col.leaf)
			return (true);
	}
	return (false);
}

/* Prints the subtree at mib (whose room is CTL_MAXDEPTH). */
static void
em_node(struct emitter *e, const struct print_opts *po, size_t *mib,
    size_t miblen, const char *key)
{
	struct ctl_info info, child;
	char num[24];
	size_t k;

	if (ctl_node_info(mib, miblen, &info) != 0 || miblen + 2 >
	    CTL_MAXDEPTH || name_omitted(po, key))
		return;
	if (info.leaf) {
		em_leaf(e, mib, miblen, &info, key);
		return;
	}
	if (info.indexed) {
		if (!e->json && has_leaf_elements(mib, miblen)) {
			em_text_table(e, mib, miblen, &info, key);
			return;
		}
		em_open(e, key, true);
		for (k = 0; k < info.nindex; k++) {
			if (!ctl_index_exists(mib, miblen, k))
				continue;
			mib[miblen] = k;
			msg_format(num, sizeof(num), "%zu", k);
			if (e->json) {
				em_node(e, po, mib, miblen + 1, NULL);
			} else
				em_node(e, po, mib, miblen + 1, num);
		}
		em_close(e, true);
		return;
	}
	em_open(e, key, false);
	for (k = 0; k < info.nchildren; k++) {
		mib[miblen] = k;
		if (ctl_node_info(mib, miblen + 1, &child) != 0)
			continue;
		/* stats.arenas is printed on its own, as jemalloc does. */
		if (miblen == 1 && key != NULL && strcmp(key, "stats") == 0 &&
		    strcmp(child.name, "arenas") == 0)
			continue;
		em_node(e, po, mib, miblen + 1, child.name);
	}
	em_close(e, false);
}

static void
em_top(struct emitter *e, const struct print_opts *po, const char *name,
    const char *key)
{
	size_t mib[CTL_MAXDEPTH], miblen = CTL_MAXDEPTH;

	if (mallctlnametomib(name, mib, &miblen) != 0)
		return;
	em_node(e, po, mib, miblen, key);
}

static void
em_arena(struct emitter *e, const struct print_opts *po, unsigned ind,
    const char *key)
{
	size_t mib[CTL_MAXDEPTH], miblen = CTL_MAXDEPTH;

	if (mallctlnametomib("stats.arenas.0", mib, &miblen) != 0)
		return;
	mib[2] = ind;
	if (ctl_node_info(mib, 3, &(struct ctl_info){ 0 }) != 0)
		return;
	em_node(e, po, mib, 3, key);
}

EXPORT void
malloc_stats_print(void (*write_cb)(void *, const char *), void *cbopaque,
    const char *opts)
{
	struct emitter e;
	struct print_opts po = { true, true, true, true, true, true, true,
	    true };
	uint64_t epoch = 1;
	unsigned narenas = 0, i;
	const char *o;
	size_t len;
	char key[32];

	e.json = false;
	for (o = opts; o != NULL && *o != '\0'; o++) {
		switch (*o) {
		case 'J': e.json = true; break;
		case 'g': po.general = false; break;
		case 'm': po.merged = false; break;
		case 'a': po.per_arena = false; break;
		case 'b': po.bins = false; break;
		case 'l': po.large = false; break;
		case 'x': po.mutex = false; break;
		case 'e': po.extents = false; break;
		case 'd': po.destroyed = false; break;
		default: break;
		}
	}
	e.cb = write_cb != NULL ? write_cb : stats_write_stderr;
	e.cbopaque = cbopaque;
	e.depth = 0;
	e.len = 0;
	memset(e.nonempty, 0, sizeof(e.nonempty));
	if (mallctl("epoch", NULL, NULL, &epoch, sizeof(epoch)) != 0)
		return;
	len = sizeof(narenas);
	mallctl("arenas.narenas", &narenas, &len, NULL, 0);

	if (e.json) {
		em_puts(&e, "{");
		e.depth = 1;
		em_open(&e, "jemalloc", false);
	} else
		em_puts(&e, "___ Begin malloc statistics ___\n");
	if (po.general) {
		em_top(&e, &po, "version", "version");
		em_top(&e, &po, "config", "config");
		em_top(&e, &po, "opt", "opt");
		em_top(&e, &po, "arenas", "arenas");
	}
	em_top(&e, &po, "stats", "stats");
	if (po.merged || po.per_arena)
		em_open(&e, "stats.arenas", false);
	if (po.merged)
		em_arena(&e, &po, MALLCTL_ARENAS_ALL, "merged");
	if (po.destroyed && stats_arena_snapshot(MALLCTL_ARENAS_DESTROYED) !=
	    NULL)
		em_arena(&e, &po, MALLCTL_ARENAS_DESTROYED, "destroyed");
	for (i = 0; po.per_arena && i < narenas; i++) {
		msg_format(key, sizeof(key), "%u", i);
		em_arena(&e, &po, i, key);
	}
	if (po.merged || po.per_arena)
		em_close(&e, false);
	if (e.json) {
		em_close(&e, false);
		em_puts(&e, "\n}\n");
	} else
		em_puts(&e, "___ End malloc statistics ___\n");
	em_flush(&e);
}
