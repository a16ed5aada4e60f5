# bsd.obj.mk: object directory chores.  sys.mk has already made and
# entered ${.OBJDIR}; "obj" reports it, "clean" removes ${CLEANFILES}
# from it.

.if !defined(_BSD_OBJ_MK_)
_BSD_OBJ_MK_=	yes

obj: .PHONY
	@echo "${.CURDIR} -> ${.OBJDIR}"

clean: .PHONY
.if !empty(CLEANFILES)
	rm -f ${CLEANFILES:O:u}
.endif

.endif
