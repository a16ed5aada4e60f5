/*
 * The allocator's only formatter.  It must work when the heap is corrupt and
 * from inside malloc itself, so it touches nothing but the stack and the
 * caller's buffer and writes with write(2).
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "msg.h"

struct out {
	char	*buf;
	size_t	 size;
	size_t	 len;	/* length the full result would have */
};

static void
out_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void
out_field(struct out *o, const char *s, size_t n, int width, bool left,
    char pad)
{
	size_t i;

	for (i = n; !left && (int)i < width; i++)
		out_char(o, pad);
	for (i = 0; i < n; i++)
		out_char(o, s[i]);
	for (i = n; left && (int)i < width; i++)
		out_char(o, ' ');
}

static size_t
fmt_unsigned(char *end, unsigned long long v, unsigned base)
{
	static const char digits[] = "0123456789abcdef";
	char *p = end;

	do {
		*--p = digits[v % base];
		v /= base;
	} while (v != 0);
	return (size_t)(end - p);
}

size_t
msg_vformat(char *buf, size_t bufsize, const char *fmt, va_list ap)
{
	struct out o = { buf, bufsize, 0 };
	char num[24], *end = num + sizeof(num);
	unsigned long long u;
	long long s;
	const char *str;
	size_t n;
	int width, lng;
	bool left, neg;
	char pad;

	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		left = false;
		pad = ' ';
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		for (width = 0; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (*fmt - '0');
		lng = 0;
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z')
				lng = 2;
			else
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			s = lng == 0 ? va_arg(ap, int) : lng == 1 ?
			    va_arg(ap, long) : va_arg(ap, long long);
			neg = s < 0;
			u = neg ? -(unsigned long long)s : (unsigned long long)s;
			n = fmt_unsigned(end, u, 10);
			if (neg) {
				*(end - n - 1) = '-';
				n++;
			}
			out_field(&o, end - n, n, width, left, pad);
			break;
		case 'u':
		case 'x':
			u = lng == 0 ? va_arg(ap, unsigned) : lng == 1 ?
			    va_arg(ap, unsigned long) :
			    va_arg(ap, unsigned long long);
			n = fmt_unsigned(end, u, *fmt == 'u' ? 10 : 16);
			out_field(&o, end - n, n, width, left, pad);
			break;
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			n = fmt_unsigned(end, u, 16);
			*(end - n - 1) = 'x';
			*(end - n - 2) = '0';
			n += 2;
			out_field(&o, end - n, n, width, left, ' ');
			break;
		case 's':
			str = va_arg(ap, const char *);
			if (str == NULL)
				str = "(null)";
			out_field(&o, str, strlen(str), width, left, ' ');
			break;
		case 'c':
			num[0] = (char)va_arg(ap, int);
			out_field(&o, num, 1, width, left, ' ');
			break;
		case '%':
			out_char(&o, '%');
			break;
		default:
			out_char(&o, '%');
			if (*fmt == '\0')
				fmt--;
			else
				out_char(&o, *fmt);
			break;
		}
	}
	if (bufsize > 0)
		buf[o.len < bufsize ? o.len : bufsize - 1] = '\0';
	return (o.len);
}

size_t
msg_format(char *buf, size_t bufsize, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = msg_vformat(buf, bufsize, fmt, ap);
	va_end(ap);
	return (n);
}

static void
msg_write(const char *fmt, va_list ap)
{
	char buf[512];
	size_t n, off;
	ssize_t w;

	memcpy(buf, "<malloc>: ", 10);
	n = 10 + msg_vformat(buf + 10, sizeof(buf) - 11, fmt, ap);
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	for (off = 0; off < n; off += (size_t)w) {
		w = write(STDERR_FILENO, buf + off, n - off);
		if (w <= 0)
			break;
	}
}

void
msg_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_write(fmt, ap);
	va_end(ap);
}

void
msg_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_write(fmt, ap);
	va_end(ap);
	abort();
}

void
msg_assert_fail(const char *expr, const char *file, int line)
{
	msg_fatal("%s:%d: failed assertion: %s", file, line, expr);
}
