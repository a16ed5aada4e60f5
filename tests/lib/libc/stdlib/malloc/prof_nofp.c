/*
 * prof_test's code built without frame pointers (see the Makefile): its
 * frame-pointer register holds whatever the compiler puts there, so the
 * frame-pointer walk cannot see its caller.
 */
#include <stdlib.h>

void	hold_nofp(void **slots, size_t n, size_t size);

/* noinline, noclone: jeprof must see this name (see prof_test.c). */
#ifdef __clang__
__attribute__((noinline))
#else
__attribute__((noinline, noclone))
#endif
void
hold_nofp(void **slots, size_t n, size_t size)
{
	size_t i;

	for (i = 0; i < n; i++)
		slots[i] = malloc(size);
	__asm__ volatile("" ::: "memory");
}
