# bsd.own.mk: where things live.  Source and object tops, and the install
# directories and modes.  Safe to include from any Makefile, any number of
# times.

.if !defined(_BSD_OWN_MK_)
_BSD_OWN_MK_=	yes

# share/mk is ${SRCTOP}/share/mk; OBJTOP mirrors SRCTOP under the prefix,
# so ${OBJTOP}/lib/libmalloc holds what lib/libmalloc builds.
SRCTOP:=	${.PARSEDIR:tA:H:H}
OBJTOP:=	${MAKEOBJDIRPREFIX}${SRCTOP}

BINDIR?=	/usr/bin
LIBDIR?=	/usr/lib
INCLUDEDIR?=	/usr/include
INCSDIR?=	${INCLUDEDIR}
MANDIR?=	/usr/share/man/man
TESTSBASE?=	/usr/tests

BINMODE?=	555
LIBMODE?=	444
SHAREMODE?=	444

.endif
