# bsd.init.mk: included first by every bsd.*.mk that builds something, so
# after the directory's Makefile.  Reads bsd.own.mk and the parent
# directory's Makefile.inc (as FreeBSD does), makes "all" the default
# target, and applies the warning policy: WARNS (default 2) >= 3 adds
# warnings beyond -Wall -Wextra; CI=true or WERROR=yes in the environment
# turns warnings into errors unless the Makefile sets NO_WERROR.

.if !defined(_BSD_INIT_MK_)
_BSD_INIT_MK_=	yes

all:

.include <bsd.own.mk>

.if ${.CURDIR:tA} != ${SRCTOP} && exists(${.CURDIR}/../Makefile.inc)
.include "${.CURDIR}/../Makefile.inc"
.endif

WARNS?=		2
.if ${WARNS} >= 3
CWARNFLAGS+=	-Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith \
		-Wshadow
.endif
.if (${CI:U} == "true" || ${WERROR:U} == "yes") && !defined(NO_WERROR)
CWARNFLAGS+=	-Werror
.endif

.endif
