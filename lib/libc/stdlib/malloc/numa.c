/*
 * Topology discovery: node<N>/cpulist files ("0-3,8-11") give the CPU to
 * node map.  Read once at boot with open/read: no stdio, no malloc.
 */
#define	_GNU_SOURCE		/* sched_getcpu */
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "numa.h"

unsigned	numa_nnodes;
unsigned	numa_arenas_per_node = 1;
static uint8_t	cpu_node[NUMA_CPUS_MAX];

/* Marks the CPUs of a cpulist as belonging to node; false on success. */
static bool
numa_parse_cpulist(const char *s, unsigned node)
{
	unsigned long lo, hi, c;
	char *end;

	while (*s != '\0' && *s != '\n') {
		lo = strtoul(s, &end, 10);
		if (end == s)
			return (true);
		hi = lo;
		s = end;
		if (*s == '-') {
			hi = strtoul(s + 1, &end, 10);
			if (end == s + 1 || hi < lo)
				return (true);
			s = end;
		}
		for (c = lo; c <= hi && c < NUMA_CPUS_MAX; c++)
			cpu_node[c] = (uint8_t)node;
		if (*s == ',')
			s++;
	}
	return (false);
}

unsigned
numa_boot(bool secure)
{
	const char *dir = "/sys/devices/system/node", *env;
	char path[512], buf[4096];
	unsigned node;
	ssize_t n;
	int fd;

	if (!secure && (env = getenv("MALLOC_NUMA_SYSFS")) != NULL)
		dir = env;
	for (node = 0; node < NUMA_NODES_MAX; node++) {
		msg_format(path, sizeof(path), "%s/node%u/cpulist", dir, node);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n < 0)
			break;
		buf[n] = '\0';
		if (numa_parse_cpulist(buf, node)) {
			msg_warn("numa: cannot parse %s; NUMA disabled", path);
			return (0);
		}
	}
	numa_nnodes = node;
	return (node);
}

unsigned
numa_current_node(void)
{
	int cpu = sched_getcpu();

	if (cpu < 0 || cpu >= NUMA_CPUS_MAX)
		return (0);
	return (cpu_node[cpu] < numa_nnodes ? cpu_node[cpu] : 0);
}
