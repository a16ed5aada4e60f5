# sys.mk: read first by every bmake run in this tree (bmake -m share/mk).
# Defines the tools, the compile rule and default flags, and moves bmake
# into the object directory ${MAKEOBJDIRPREFIX}${.CURDIR}, creating it, so
# that the source tree stays clean.

# Only our mk files define this; the top Makefile.inc checks it to catch
# builds that picked up the host's /usr/share/mk by mistake.
_THIS_TREE_SHARE_MK=	yes

CC?=		cc
CPP?=		${CC} -E
AR?=		ar
ARFLAGS?=	cr
RANLIB?=	ranlib
INSTALL?=	install
LN?=		ln

# CFLAGS may be replaced from the environment; the language standard and
# warnings may not.  bsd.init.mk adds -Werror and WARNS policy.
# DWARF 4: valgrind 3.19 (callgrind counts the fast paths) cannot read
# the DWARF 5 that clang 14 emits by default.
CFLAGS?=	-O2 -g -gdwarf-4
CPPFLAGS?=
LDFLAGS?=
LDADD?=
CSTD?=		gnu11
CWARNFLAGS?=	-Wall -Wextra
# Each object gets a .d file listing the headers it read (see bsd.dep.mk).
DEPFLAGS?=	-MD -MP

# CFLAGS.<file>.c: flags for one source file only, as in FreeBSD.
.SUFFIXES:
.SUFFIXES: .o .c
.c.o:
	${CC} -std=${CSTD} ${CFLAGS} ${CFLAGS.${.IMPSRC:T}} ${CWARNFLAGS} \
	    ${CPPFLAGS} ${DEPFLAGS} -c ${.IMPSRC} -o ${.TARGET}

# Object directories, FreeBSD style.  The prefix goes into the environment
# so that every sub-make (and bmake's own start-up lookup) agrees on it.
.if empty(MAKEOBJDIRPREFIX)
.if ${:!id -u!} == 0
MAKEOBJDIRPREFIX=	/usr/obj
.else
MAKEOBJDIRPREFIX=	${HOME}/.cache/obj
.endif
.export MAKEOBJDIRPREFIX
.endif
_OBJDIR:=	${MAKEOBJDIRPREFIX}${.CURDIR:tA}
.if ${.OBJDIR} != ${_OBJDIR}
_OBJDIR_MADE!=	mkdir -p ${_OBJDIR} && echo ok
.OBJDIR: ${_OBJDIR}
.endif
