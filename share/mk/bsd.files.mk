# bsd.files.mk: installs ${FILES} (found through .PATH, or built here) in
# ${DESTDIR}${FILESDIR}, mode ${FILESMODE} or FILESMODE_<file>.

.if !defined(_BSD_FILES_MK_)
_BSD_FILES_MK_=	yes

FILESDIR?=	${BINDIR}
FILESMODE?=	${SHAREMODE}

install: filesinstall
filesinstall: .PHONY
.for _f in ${FILES}
filesinstall: _filesinstall.${_f:T}
_filesinstall.${_f:T}: ${_f} .PHONY
	${INSTALL} -d ${DESTDIR}${FILESDIR}
	${INSTALL} -m ${FILESMODE_${_f:T}:U${FILESMODE}} ${.ALLSRC} \
	    ${DESTDIR}${FILESDIR}/${_f:T}
.endfor

.endif
