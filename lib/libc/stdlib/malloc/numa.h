/*
 * NUMA (numa:true): the automatic arenas are split evenly between the
 * nodes (narenas / nnodes each, at least one: arena i serves node
 * i / numa_arenas_per_node), each thread is bound to an arena of the node
 * it first runs on (and rebound if it migrates, checked on slow paths),
 * and each arena's extents are bound to its node by the page provider.  The topology comes from /sys/devices/system/node, or from the
 * directory MALLOC_NUMA_SYSFS names (unless set-id), so that tests can
 * describe two nodes on a one-node machine.
 */
#ifndef MALLOC_NUMA_H
#define	MALLOC_NUMA_H

#include "compat.h"

#define	NUMA_NODES_MAX	64
#define	NUMA_CPUS_MAX	1024

/* Nodes found (0: NUMA off or no topology); set by numa_boot. */
extern HIDDEN unsigned	numa_nnodes;
extern HIDDEN unsigned	numa_arenas_per_node;

/* Reads the topology; returns the number of nodes (0 if none usable). */
unsigned	numa_boot(bool secure);
/* The node the calling thread runs on now. */
unsigned	numa_current_node(void);

#endif /* !MALLOC_NUMA_H */
