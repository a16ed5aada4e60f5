/*
 * Messages from inside the allocator: a small printf that never allocates,
 * formatting into caller-supplied or stack buffers and writing with write(2).
 */
#ifndef MALLOC_MSG_H
#define	MALLOC_MSG_H

#include <stdarg.h>
#include <stddef.h>

/* Supports %d %i %u %x %p %s %c %% with l, ll, z, width, '0' and '-'. */
size_t	msg_vformat(char *buf, size_t bufsize, const char *fmt, va_list ap);
size_t	msg_format(char *buf, size_t bufsize, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Writes "<malloc>: " and the message to fd 2. */
void	msg_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* msg_warn, then abort(). */
void	msg_fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn, cold));
void	msg_assert_fail(const char *expr, const char *file, int line)
	    __attribute__((noreturn, cold));

#endif /* !MALLOC_MSG_H */
