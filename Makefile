# Makefile: top of the tree; targets as in FreeBSD's src/Makefile.
#
#   buildworld	(default) build lib, usr.bin, share and tests
#   installworld	install them under ${DESTDIR} (default: /)
#   test		buildworld, installworld into ${STAGE}, run kyua there;
#			the last line printed is "N passed, N failed"
#   bench		buildworld, then "bench" in tests/benchmarks
#   fuzz		buildworld, then each libFuzzer harness of tests/fuzz for
#			${FUZZ_TIME} (300) seconds, growing its corpus in the tree
#   run		buildworld, then a Python workload on libmalloc.so.1
#			with MALLOC_CONF=stats_print:true
#   clean		remove what the build made from the object directories
#
# Objects go to ${OBJTOP}/<dir> (see share/mk/sys.mk and bsd.own.mk).

.include "${.CURDIR}/Makefile.inc"

.MAIN: buildworld

SUBDIR=		lib usr.bin share tests

.include <bsd.own.mk>

LIBMALLOC_SO=	${OBJTOP}/lib/libmalloc/libmalloc.so.1
STAGE=		${OBJTOP}/stage
TESTRESULTS=	${OBJTOP}/test-results

buildworld: .PHONY all
installworld: .PHONY install

test: .PHONY
	@rm -f ${TESTRESULTS}/summary
	@${MAKE} -C ${.CURDIR} buildworld
	@rm -rf ${STAGE}
	@${MAKE} -C ${.CURDIR} installworld DESTDIR=${STAGE}
	@sh ${.CURDIR}/tests/run-kyua.sh ${STAGE} ${TESTRESULTS}

bench: .PHONY buildworld
.if exists(${.CURDIR}/tests/benchmarks/Makefile)
	${MAKE} -C ${.CURDIR}/tests/benchmarks bench LIBMALLOC_SO=${LIBMALLOC_SO}
.else
	@echo "bench: tests/benchmarks/Makefile does not exist yet" >&2; exit 1
.endif

FUZZ_TIME?=	300
fuzz: .PHONY buildworld
	${MAKE} -C ${.CURDIR}/tests/fuzz fuzz FUZZ_TIME=${FUZZ_TIME}

# A real, allocation-heavy program running on the allocator; it prints
# its statistics at exit.
RUN_CMD=	python3 -c 'import json; \
		    d = [{"k%d" % i: "v" * (i % 700)} for i in range(300000)]; \
		    s = json.dumps(d); d = json.loads(s); \
		    print(len(s), "bytes of JSON,", len(d), "objects")'
run: .PHONY buildworld
	MALLOC_CONF=stats_print:true LD_PRELOAD=${LIBMALLOC_SO} ${RUN_CMD}

clean: _cleanworld
_cleanworld: .PHONY
	rm -rf ${STAGE} ${TESTRESULTS}
.if exists(${.CURDIR}/tests/benchmarks/Makefile)
	${MAKE} -C ${.CURDIR}/tests/benchmarks clean
.endif

.include <bsd.subdir.mk>
