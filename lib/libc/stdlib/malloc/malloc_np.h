/*
 * <malloc_np.h>: the allocator's non-portable interface.
 *
 * The same names, flags and types as jemalloc 5's <jemalloc/jemalloc.h>,
 * encoded bit for bit alike, so that programs and tools written for jemalloc
 * or for FreeBSD's libc build and run unchanged.  See malloc(3).
 */
#ifndef _MALLOC_NP_H_
#define	_MALLOC_NP_H_

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Flags for the *allocx() family. */
#define	MALLOCX_LG_ALIGN(la)	((int)(la))
#define	MALLOCX_ALIGN(a)	((int)(__builtin_ffsll((long long)(a)) - 1))
#define	MALLOCX_ZERO		((int)0x40)
/* Bias tcache index bits so that 0 encodes "automatic tcache management". */
#define	MALLOCX_TCACHE(tc)	((int)(((tc) + 2) << 8))
#define	MALLOCX_TCACHE_NONE	MALLOCX_TCACHE(-1)
/* Bias arena index bits so that 0 encodes "use an automatic arena". */
#define	MALLOCX_ARENA(a)	((((int)(a)) + 1) << 20)

/* Special arena indices for mallctl names. */
#define	MALLCTL_ARENAS_ALL	4096
#define	MALLCTL_ARENAS_DESTROYED 4097

/* Extent hooks: every hook returns false on success. */
typedef struct extent_hooks_s extent_hooks_t;

typedef void *(extent_alloc_t)(extent_hooks_t *, void *, size_t, size_t,
    bool *, bool *, unsigned);
typedef bool (extent_dalloc_t)(extent_hooks_t *, void *, size_t, bool,
    unsigned);
typedef void (extent_destroy_t)(extent_hooks_t *, void *, size_t, bool,
    unsigned);
typedef bool (extent_commit_t)(extent_hooks_t *, void *, size_t, size_t,
    size_t, unsigned);
typedef bool (extent_decommit_t)(extent_hooks_t *, void *, size_t, size_t,
    size_t, unsigned);
typedef bool (extent_purge_t)(extent_hooks_t *, void *, size_t, size_t,
    size_t, unsigned);
typedef bool (extent_split_t)(extent_hooks_t *, void *, size_t, size_t,
    size_t, bool, unsigned);
typedef bool (extent_merge_t)(extent_hooks_t *, void *, size_t, void *,
    size_t, bool, unsigned);

struct extent_hooks_s {
	extent_alloc_t		*alloc;
	extent_dalloc_t		*dalloc;
	extent_destroy_t	*destroy;
	extent_commit_t		*commit;
	extent_decommit_t	*decommit;
	extent_purge_t		*purge_lazy;
	extent_purge_t		*purge_forced;
	extent_split_t		*split;
	extent_merge_t		*merge;
};

void	*mallocx(size_t, int) __attribute__((malloc, alloc_size(1)));
void	*rallocx(void *, size_t, int) __attribute__((alloc_size(2)));
size_t	 xallocx(void *, size_t, size_t, int);
size_t	 sallocx(const void *, int) __attribute__((pure));
void	 dallocx(void *, int);
void	 sdallocx(void *, size_t, int);
size_t	 nallocx(size_t, int) __attribute__((pure));

int	 mallctl(const char *, void *, size_t *, void *, size_t);
int	 mallctlnametomib(const char *, size_t *, size_t *);
int	 mallctlbymib(const size_t *, size_t, void *, size_t *, void *,
	    size_t);
void	 malloc_stats_print(void (*)(void *, const char *), void *,
	    const char *);
/* glibc's <malloc.h> declares it without const; FreeBSD's with. */
#ifdef __GLIBC__
#define	MALLOC_USABLE_SIZE_CONST
#else
#define	MALLOC_USABLE_SIZE_CONST const
#endif
size_t	 malloc_usable_size(MALLOC_USABLE_SIZE_CONST void *);

/* C23 sized deallocation, also declared here for older C libraries. */
void	 free_sized(void *, size_t);
void	 free_aligned_sized(void *, size_t, size_t);

/* Compile-time options; a program may define it to tune the allocator. */
extern const char	*malloc_conf;

#ifdef __cplusplus
}
#endif

#endif /* !_MALLOC_NP_H_ */
