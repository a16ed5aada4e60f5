/*
 * The published summary page: process-wide statistics kept in a small
 * shared mapping that mallstat(1) reads from outside the process.
 *
 * The page is a memfd named STATPAGE_NAME, mapped shared and its
 * descriptor closed at once, so the process keeps no extra descriptor and
 * nothing is left in any file system when it dies, however it dies.  A
 * reader finds the mapping in /proc/PID/maps by its name
 * ("/memfd:malloc-statpage (deleted)") and reads it through /proc/PID/mem
 * (or process_vm_readv), which the kernel allows only to the process's
 * owner with ptrace access, and to root.  This header is shared with
 * mallstat: it is the layout's only definition.
 *
 * Seqlock: the writer makes seq odd, stores the counters, makes seq even.
 * A reader copies the page and accepts the copy when seq is even and
 * unchanged across the copy.
 *
 * Requests: a reader writes request = (tag << 32) | code, tag non-zero
 * and different from the last one.  On its next refresh the process
 * answers response = (tag << 32) | status, with a message or a file name
 * in response_text, written before response.  Requests are looked at only
 * on refreshes (slow paths, at most every STATPAGE_REFRESH_MS): the fast
 * paths never see them, and a process that does not allocate answers
 * when it next does.
 */
#ifndef MALLOC_STATPAGE_H
#define	MALLOC_STATPAGE_H

#include "compat.h"

#define	STATPAGE_NAME		"malloc-statpage"
#define	STATPAGE_MAGIC		0x4d535450u	/* "MSTP" */
#define	STATPAGE_VERSION	1u
#define	STATPAGE_REFRESH_MS	100

/* Request codes (low 32 bits of request). */
#define	STATPAGE_REQ_NONE	0u
#define	STATPAGE_REQ_PROF_DUMP	1u	/* write a heap profile now */

/* Response statuses (low 32 bits of response). */
#define	STATPAGE_RESP_NONE	0u
#define	STATPAGE_RESP_DONE	1u	/* response_text: the file written */
#define	STATPAGE_RESP_NOPROF	2u	/* profiling not enabled */
#define	STATPAGE_RESP_EINVAL	3u	/* unknown request code */
#define	STATPAGE_RESP_FAILED	4u	/* response_text: why */

#define	STATPAGE_REQ_TAG(w)	((uint32_t)((w) >> 32))
#define	STATPAGE_REQ_CODE(w)	((uint32_t)(w))

/*
 * Process-wide totals, in bytes unless named n*: what a refresh reads
 * (outside the seqlock's write window) and then stores in the page.
 */
struct statpage_totals {
	uint64_t	allocated;
	uint64_t	active;
	uint64_t	metadata;
	uint64_t	resident;
	uint64_t	mapped;
	uint64_t	retained;
	uint64_t	dirty;
	uint64_t	muzzy;
	uint64_t	nmalloc;	/* small + large, arena level */
	uint64_t	ndalloc;
	uint64_t	npurged;	/* pages purged, dirty + muzzy */
	uint64_t	nmadvise;
};

/*
 * Fields are naturally aligned 64-bit words (or fixed arrays) so that the
 * layout is the same for every compiler and ABI of a given byte order;
 * a reader accepts the page only with the right magic, version and size.
 * time_ns is CLOCK_MONOTONIC.
 */
struct statpage {
	uint32_t	magic;
	uint32_t	version;
	uint32_t	size;		/* sizeof(struct statpage) */
	uint32_t	pid;		/* the process that writes it */
	uint64_t	seq;		/* odd while being written */
	uint64_t	time_ns;	/* when the counters were read */
	uint64_t	nrefresh;
	struct statpage_totals totals;
	uint64_t	reserved[8];
	uint64_t	request;	/* written by the reader */
	uint64_t	response;	/* written by the process */
	char		response_text[256];
};

/* Called from allocation slow paths every few hundred events. */
void	statpage_tick(void);

#endif /* !MALLOC_STATPAGE_H */
