/*
 * shared_arena: an arena whose memory is a caller-owned region, here a
 * memfd mapped MAP_SHARED and shared with a child process.
 *
 * The parent creates the region and an arena served from it by extent
 * hooks, then forks.  After the fork it builds a linked list with
 * mallocx(MALLOCX_ARENA(arena)); the child, which only waits on a pipe,
 * then walks the same list at the same addresses and reports the sum of
 * its values back through the region.  The list is built after the fork,
 * so the child sees it only because the pages are shared.
 *
 * Build (FreeBSD, or this tree's libmalloc):  cc -o shared_arena shared_arena.c
 * With jemalloc: include <jemalloc/jemalloc.h> instead and link -ljemalloc.
 * Exits 0 when the child saw exactly what the parent wrote.
 */
#define	_GNU_SOURCE		/* memfd_create on glibc */
#include <sys/mman.h>
#include <sys/wait.h>

#include <err.h>
#include <malloc_np.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define	REGION_SIZE	((size_t)64 << 20)
#define	NNODES		1000

/* The first page of the region: what parent and child tell each other. */
struct header {
	struct node	*head;		/* the list, in the region */
	uint64_t	 child_sum;	/* written by the child */
};

struct node {
	struct node	*next;
	uint64_t	 value;
};

/*
 * The region and its allocator: a bump pointer.  Extents are never handed
 * back (dalloc declines), so the arena keeps and reuses them itself.
 * The hooks run with an arena lock held: they must not call malloc.
 */
static char		*region;
static size_t		 region_used = 4096;	/* after the header page */
static pthread_mutex_t	 region_lock = PTHREAD_MUTEX_INITIALIZER;

static void *
region_alloc(extent_hooks_t *h, void *new_addr, size_t size,
    size_t alignment, bool *zero, bool *commit, unsigned arena_ind)
{
	uintptr_t start;
	void *p = NULL;

	(void)h;
	(void)arena_ind;
	if (new_addr != NULL)		/* we cannot place at a given address */
		return (NULL);
	pthread_mutex_lock(&region_lock);
	/* Alignment is of the address, and the allocator asks for big ones. */
	start = ((uintptr_t)region + region_used + alignment - 1) &
	    ~(uintptr_t)(alignment - 1);
	if (start + size <= (uintptr_t)region + REGION_SIZE) {
		p = (void *)start;
		region_used = start + size - (uintptr_t)region;
		*zero = true;		/* never used: the memfd reads as 0 */
		*commit = true;
	}
	pthread_mutex_unlock(&region_lock);
	return (p);
}

/* Declining (true) keeps the extent mapped and retained by the arena. */
static bool
region_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed,
    unsigned arena_ind)
{
	(void)h; (void)addr; (void)size; (void)committed; (void)arena_ind;
	return (true);
}

/* Any extent may be split or merged: the region is one mapping. */
static bool
region_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a,
    size_t size_b, bool committed, unsigned arena_ind)
{
	(void)h; (void)addr; (void)size; (void)size_a; (void)size_b;
	(void)committed; (void)arena_ind;
	return (false);
}

static bool
region_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b,
    size_t size_b, bool committed, unsigned arena_ind)
{
	(void)h; (void)addr_a; (void)size_a; (void)addr_b; (void)size_b;
	(void)committed; (void)arena_ind;
	return (false);
}

/* NULL hooks: not supported, and the allocator copes (see malloc.3). */
static extent_hooks_t region_hooks = {
	.alloc = region_alloc,
	.dalloc = region_dalloc,
	.split = region_split,
	.merge = region_merge,
};

int
main(void)
{
	extent_hooks_t *hooks = &region_hooks;
	struct header *hdr;
	struct node *n, *prev = NULL;
	uint64_t sum = 0;
	unsigned arena;
	size_t sz = sizeof(arena);
	int fd, go[2], status, i;
	pid_t pid;
	char c;

	if ((fd = memfd_create("shared_arena", 0)) == -1)
		err(1, "memfd_create");
	if (ftruncate(fd, (off_t)REGION_SIZE) == -1)
		err(1, "ftruncate");
	region = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (region == MAP_FAILED)
		err(1, "mmap");
	hdr = (struct header *)(void *)region;
	if (mallctl("arenas.create", &arena, &sz, &hooks, sizeof(hooks)) != 0)
		errx(1, "arenas.create failed");
	if (pipe(go) == -1)
		err(1, "pipe");

	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		/* Child: wait for the list, walk it, report the sum. */
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		for (n = hdr->head; n != NULL; n = n->next)
			hdr->child_sum += n->value;
		_exit(0);
	}

	/* Parent: build the list in the shared region, then let the child go. */
	close(go[0]);
	for (i = 0; i < NNODES; i++) {
		/* MALLOCX_TCACHE_NONE: nothing of the arena stays cached. */
		n = mallocx(sizeof(*n), MALLOCX_ARENA(arena) |
		    MALLOCX_TCACHE_NONE);
		if (n == NULL || (char *)n < region ||
		    (char *)n >= region + REGION_SIZE)
			errx(1, "node %d at %p, not in the region", i, (void *)n);
		n->value = (uint64_t)i * i;
		n->next = prev;
		prev = n;
		sum += n->value;
	}
	hdr->head = prev;
	if (write(go[1], "g", 1) != 1)
		err(1, "write");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		errx(1, "child failed");
	printf("parent wrote %d nodes, sum %ju; child read sum %ju\n",
	    NNODES, (uintmax_t)sum, (uintmax_t)hdr->child_sum);
	return (hdr->child_sum == sum ? 0 : 1);
}
