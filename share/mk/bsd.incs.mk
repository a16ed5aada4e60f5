# bsd.incs.mk: installs the headers in ${INCS} (found through .PATH) in
# ${DESTDIR}${INCSDIR}.

.if !defined(_BSD_INCS_MK_)
_BSD_INCS_MK_=	yes

install: incsinstall
incsinstall: .PHONY
.for _h in ${INCS}
incsinstall: _incsinstall.${_h:T}
_incsinstall.${_h:T}: ${_h} .PHONY
	${INSTALL} -d ${DESTDIR}${INCSDIR}
	${INSTALL} -m ${SHAREMODE} ${.ALLSRC} ${DESTDIR}${INCSDIR}/${_h:T}
.endfor

.endif
