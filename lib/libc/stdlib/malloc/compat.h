/*
 * Host differences and compiler attributes, in one place.
 */
#ifndef MALLOC_COMPAT_H
#define	MALLOC_COMPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define	likely(x)	__builtin_expect(!!(x), 1)
#define	unlikely(x)	__builtin_expect(!!(x), 0)

#define	ALWAYS_INLINE	static inline __attribute__((always_inline))
#define	NOINLINE	__attribute__((noinline))
#define	COLD		__attribute__((cold, noinline))
#define	EXPORT		__attribute__((visibility("default")))
/* Internal data: declared hidden so PIC code reaches it without the GOT. */
#define	HIDDEN		__attribute__((visibility("hidden")))
#define	CACHE_ALIGNED	__attribute__((aligned(64)))
/*
 * A function that starts a cache line: malloc and free, whose placement
 * otherwise moves with unrelated code.  On an AMD EPYC, a build that only
 * changed slow paths ran fastpath's 1 KiB loop up to 9% slower, and with
 * prof:true 13% instead of 6-8% slower than prof:false (2026-11).
 */
#define	HOT_ALIGNED	__attribute__((aligned(64)))
#define	TLS_IE		__thread __attribute__((tls_model("initial-exec")))

/*
 * pthread_atfork(), for our fork handlers.  glibc's is a stub in
 * libc_nonshared.a that hands the caller's __dso_handle to
 * __register_atfork(); the linker places it after all of our code, where
 * it was the only start-up code in the last 64 KiB block of our text, a
 * block fault-around then mapped in every process (Makefile.inc).  We make
 * its call ourselves.
 */
#ifdef __GLIBC__
extern void	*__dso_handle __attribute__((weak, visibility("hidden")));
int	__register_atfork(void (*)(void), void (*)(void), void (*)(void),
	    void *);
#define	malloc_atfork(prepare, parent, child)				\
	__register_atfork((prepare), (parent), (child),			\
	    &__dso_handle == NULL ? NULL : __dso_handle)
#else
#define	malloc_atfork(prepare, parent, child)				\
	pthread_atfork((prepare), (parent), (child))
#endif

#define	LG_PAGE		12
#define	PAGE		((size_t)1 << LG_PAGE)
#define	PAGE_MASK	(PAGE - 1)
#define	LG_HUGEPAGE	21
#define	HUGEPAGE	((size_t)1 << LG_HUGEPAGE)
#define	CACHELINE	64

#define	ALIGN_UP(x, a)		(((x) + ((a) - 1)) & ~((uintptr_t)(a) - 1))
#define	ALIGN_DOWN(x, a)	((x) & ~((uintptr_t)(a) - 1))
#define	PAGE_CEIL(x)		ALIGN_UP((x), PAGE)

/*
 * Debug-only checks: MALLOC_DEBUG builds verify structural invariants that
 * are too costly for release builds; release builds compile them away.
 */
#ifdef MALLOC_DEBUG
#define	DASSERT(e)	((e) ? (void)0 : msg_assert_fail(#e, __FILE__, __LINE__))
#else
#define	DASSERT(e)	((void)0)
#endif

#endif /* !MALLOC_COMPAT_H */
