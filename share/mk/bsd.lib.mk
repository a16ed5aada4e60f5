# bsd.lib.mk: builds lib${LIB}.a from ${SRCS} and, when SHLIB_MAJOR is
# set, the shared lib${LIB}.so.${SHLIB_MAJOR} (its own soname) with the
# lib${LIB}.so link; installs them in ${LIBDIR}, with ${INCS} and ${MAN}.
# Every object is compiled -fPIC, so one set serves both libraries.
#
# SYMBOL_MAPS lists FreeBSD-format Symbol.map files; only the symbols they
# name are exported from the shared library.  They are turned into an
# anonymous version script ("{ global: malloc; ...; local: *; };"):
# on Linux the library must not carry symbol versions, or LD_PRELOAD cannot
# interpose a glibc program's malloc@GLIBC_2.2.5 (the dynamic linker
# rejects a definition whose version name differs).

.include <bsd.init.mk>

CFLAGS+=	-fPIC
OBJS+=		${SRCS:M*.c:R:S/$/.o/}

_LIBS=		lib${LIB}.a
lib${LIB}.a: ${OBJS}
	@rm -f ${.TARGET}
	${AR} ${ARFLAGS} ${.TARGET} ${OBJS}
	${RANLIB} ${.TARGET}

.if defined(SHLIB_MAJOR)
SHLIB_NAME=	lib${LIB}.so.${SHLIB_MAJOR}
SHLIB_LINK=	lib${LIB}.so
_LIBS+=		${SHLIB_NAME}

.if !empty(SYMBOL_MAPS)
# Symbols are the "name;" lines left once comments are gone; version
# names, "local: *;" and closing braces do not match.
VERSION_SCRIPT=	lib${LIB}.vers
${VERSION_SCRIPT}: ${SYMBOL_MAPS}
	(echo '{ global:'; \
	 sed 's/#.*//' ${.ALLSRC} | ${CPP} -P -x c - | \
	     sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*;.*/	\1;/p'; \
	 echo 'local: *; };') > ${.TARGET}
_SHLIB_LDFLAGS=	-Wl,--version-script=${VERSION_SCRIPT}
.endif

${SHLIB_NAME}: ${OBJS} ${VERSION_SCRIPT}
	${CC} ${CFLAGS} ${LDFLAGS} -shared -Wl,-soname,${SHLIB_NAME} \
	    -Wl,-z,defs ${_SHLIB_LDFLAGS} -o ${.TARGET} ${OBJS} ${LDADD}

${SHLIB_LINK}: ${SHLIB_NAME}
	${LN} -sf ${SHLIB_NAME} ${.TARGET}
.endif

all: ${_LIBS} ${SHLIB_LINK}

install: libinstall
libinstall: .PHONY ${_LIBS}
	${INSTALL} -d ${DESTDIR}${LIBDIR}
	${INSTALL} -m ${LIBMODE} ${_LIBS} ${DESTDIR}${LIBDIR}/
.if defined(SHLIB_LINK)
	${LN} -sf ${SHLIB_NAME} ${DESTDIR}${LIBDIR}/${SHLIB_LINK}
.endif

CLEANFILES+=	${_LIBS} ${SHLIB_LINK} ${VERSION_SCRIPT} ${OBJS}

.include <bsd.incs.mk>
.include <bsd.man.mk>
.include <bsd.files.mk>
.include <bsd.dep.mk>
.include <bsd.obj.mk>
