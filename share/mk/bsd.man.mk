# bsd.man.mk: installs the manual pages in ${MAN} (found through .PATH) in
# ${DESTDIR}${MANDIR}<section>, the section being the name's suffix
# (malloc.conf.5 goes to man5).  MLINKS lists pairs "page link", e.g.
# "malloc.3 calloc.3", installed as hard links.

.if !defined(_BSD_MAN_MK_)
_BSD_MAN_MK_=	yes

install: maninstall
maninstall: .PHONY
.for _m in ${MAN}
maninstall: _maninstall.${_m}
_maninstall.${_m}: ${_m} .PHONY
	${INSTALL} -d ${DESTDIR}${MANDIR}${_m:E}
	${INSTALL} -m ${SHAREMODE} ${.ALLSRC} ${DESTDIR}${MANDIR}${_m:E}/${_m}
.endfor

.if !empty(MLINKS)
maninstall: _mlinksinstall
_mlinksinstall: .PHONY ${MAN:S/^/_maninstall./}
.for _page _link in ${MLINKS}
	${INSTALL} -d ${DESTDIR}${MANDIR}${_link:E}
	${LN} -f ${DESTDIR}${MANDIR}${_page:E}/${_page} \
	    ${DESTDIR}${MANDIR}${_link:E}/${_link}
.endfor
.endif

.endif
