# bsd.subdir.mk: runs all, install, clean and obj in each directory of
# ${SUBDIR}, one after the other in the order listed.

.include <bsd.init.mk>

.for _t in all install clean obj
${_t}: _SUBDIR_${_t}
_SUBDIR_${_t}: .PHONY
	@for d in ${SUBDIR}; do \
		echo "===> ${DIRPRFX}$$d (${_t})"; \
		${MAKE} -C ${.CURDIR}/$$d ${_t} DIRPRFX=${DIRPRFX}$$d/ || exit 1; \
	done
.endfor

.include <bsd.obj.mk>
