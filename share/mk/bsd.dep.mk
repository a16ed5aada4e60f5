# bsd.dep.mk: reads the .d files the compiler wrote beside ${OBJS}, so an
# object is rebuilt when a header it includes changes.

.for _o in ${OBJS:O:u}
.-include "${.OBJDIR}/${_o:R}.d"
.endfor
CLEANFILES+=	${OBJS:R:S/$/.d/}
