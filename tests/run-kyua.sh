#!/bin/sh
# run-kyua.sh STAGE OUTDIR: runs the test suite that "make test" installed
# under STAGE, prints the failed and broken cases in detail, then the
# summary line "N passed, N failed" (skips and expected failures count as
# passed, broken cases as failed).  The summary also goes to
# OUTDIR/summary, with kyua's log and results file beside it.  Exits 1 if
# anything failed.  KYUA_FLAGS adds general kyua options, e.g.
# --variable=parallelism=4.

stage=$1
out=$2
mkdir -p "$out" || exit 1
rm -f "$out/results.db" "$out/summary"

# kyua passes PATH and LD_LIBRARY_PATH to the tests: that is how they find
# the staged programs and libraries.
PATH=$stage/usr/bin:$PATH
LD_LIBRARY_PATH=$stage/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PATH LD_LIBRARY_PATH

kyua="kyua --logfile=$out/kyua.log $KYUA_FLAGS"
# As root, cases that need an unprivileged user would be skipped.
if [ "$(id -u)" = 0 ]; then
	kyua="$kyua --variable=unprivileged_user=nobody"
fi

$kyua test --results-file="$out/results.db" -k "$stage/usr/tests/Kyuafile"
status=$?

passed=0 failed=0 skipped=0 xfail=0
if [ -f "$out/results.db" ]; then
	counts=$($kyua db-exec --no-headers --results-file="$out/results.db" \
	    "SELECT result_type, COUNT(*) FROM test_results GROUP BY result_type")
	for row in $counts; do
		n=${row#*,}
		case ${row%%,*} in
		passed)			passed=$((passed + n)) ;;
		skipped)		passed=$((passed + n)) skipped=$n ;;
		expected_failure)	passed=$((passed + n)) xfail=$n ;;
		*)			failed=$((failed + n)) ;;
		esac
	done
	# The verbose report (every failed case's output and the whole
	# environment) only when there is something to look at.
	if [ $failed -gt 0 ]; then
		$kyua report --results-file="$out/results.db" --verbose \
		    --results-filter=broken,failed
	else
		$kyua report --results-file="$out/results.db"
	fi
fi
# kyua itself failed (bad Kyuafile, crash) yet no case did: not a pass.
if [ $status -ne 0 ] && [ $failed -eq 0 ]; then
	echo "kyua test exited with status $status"
	failed=1
fi

echo "($skipped skipped, $xfail expected failures: counted as passed)"
echo "$passed passed, $failed failed" | tee "$out/summary"
[ $failed -eq 0 ]
