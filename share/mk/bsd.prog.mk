# bsd.prog.mk: builds the program ${PROG} from ${SRCS} (default
# ${PROG}.c), linked with ${LDADD}, and installs it in ${BINDIR} with
# ${MAN} and ${FILES}.  A program is relinked when an archive named by
# full path in LDADD changes.

.include <bsd.init.mk>

.if defined(PROG)
SRCS?=		${PROG}.c
OBJS+=		${SRCS:M*.c:R:S/$/.o/}

${PROG}: ${OBJS} ${LDADD:M/*.a}
	${CC} ${CFLAGS} ${LDFLAGS} -o ${.TARGET} ${OBJS} ${LDADD}

all: ${PROG}

install: proginstall
proginstall: .PHONY ${PROG}
	${INSTALL} -d ${DESTDIR}${BINDIR}
	${INSTALL} -m ${BINMODE} ${PROG} ${DESTDIR}${BINDIR}/

CLEANFILES+=	${PROG} ${OBJS}
.endif

.include <bsd.man.mk>
.include <bsd.files.mk>
.include <bsd.dep.mk>
.include <bsd.obj.mk>
