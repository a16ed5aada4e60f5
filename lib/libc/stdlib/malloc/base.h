/*
 * The base allocator: metadata (extent descriptors, pointer-map leaves,
 * thread-cache stacks, arenas) from its own mappings, bump-allocated and
 * never returned.  User extent hooks never supply metadata.
 */
#ifndef MALLOC_BASE_H
#define	MALLOC_BASE_H

#include "compat.h"
#include "pages.h"

void	 base_boot(enum thp_mode metadata_thp);
/* Zeroed memory of size bytes aligned to alignment (<= PAGE), or NULL. */
void	*base_alloc(size_t size, size_t alignment);
void	 base_stats(size_t *allocated, size_t *resident, size_t *mapped);
void	 base_prefork(void);
void	 base_postfork_parent(void);
void	 base_postfork_child(void);

#endif /* !MALLOC_BASE_H */
