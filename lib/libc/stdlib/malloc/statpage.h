/*
 * The published summary page: process-wide statistics kept in a small
 * shared mapping that mallstat(1) reads from outside the process.
 */
#ifndef MALLOC_STATPAGE_H
#define	MALLOC_STATPAGE_H

#include "compat.h"

/* Called from allocation slow paths every few hundred events. */
void	statpage_tick(void);

#endif /* !MALLOC_STATPAGE_H */
