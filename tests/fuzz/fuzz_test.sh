#!/usr/bin/atf-sh
#
# Short runs of the libFuzzer harnesses built in tests/fuzz (see its
# Makefile): each runs for FUZZ_TIME seconds (default 10) on a copy of its
# installed corpus and must exit 0.  Where clang could not build them,
# fuzz_status says why and every case skips saying so.

fuzz_time=${FUZZ_TIME:-10}

# Skips unless the harnesses were built; fails if they were but are gone.
require_harness()
{
	status=$(cat "$(atf_get_srcdir)/fuzz_status" 2>/dev/null)
	case "${status}" in
	built)	;;
	"")	atf_fail "fuzz_status missing beside the test" ;;
	*)	atf_skip "${status}" ;;
	esac
	[ -x "$(atf_get_srcdir)/$1" ] || \
	    atf_fail "fuzz_status says built, but $1 is not installed"
}

# run_harness NAME [libFuzzer flag ...]: fuzzes a copy of the corpus in
# the case's own directory; on failure shows the end of libFuzzer's log
# (the allocator's message, the stack, the input that failed).
run_harness()
{
	name=$1
	shift
	require_harness "${name}"
	mkdir corpus artifacts
	cp "$(atf_get_srcdir)/corpus/${name}"/* corpus/
	"$(atf_get_srcdir)/${name}" -max_total_time="${fuzz_time}" \
	    -timeout=10 -print_final_stats=1 -artifact_prefix=artifacts/ \
	    "$@" corpus >log 2>&1
	rc=$?
	# The coverage and speed reached, for whoever reads the results.
	grep -E '^#[0-9]+.*(DONE|pulse)' log | tail -1
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' log
	if [ ${rc} -ne 0 ]; then
		tail -60 log >&2
		atf_fail "${name} exited ${rc}; failing input in artifacts/:" \
		    "$(ls artifacts)"
	fi
}

atf_test_case conf_fuzz_runs_clean
conf_fuzz_runs_clean_head()
{
	atf_set "descr" "conf_parse survives ${fuzz_time} s of libFuzzer"
	atf_set "timeout" "120"
}
conf_fuzz_runs_clean_body()
{
	# Rejected pairs are warnings on fd 2: keep them out of the log.
	run_harness conf_fuzz -close_fd_mask=2
}

atf_test_case conf_rejected_pair_is_reported
conf_rejected_pair_is_reported_head()
{
	atf_set "descr" "conf_parse warns on fd 2 about a pair it rejects," \
	    "naming the pair and its source"
}
conf_rejected_pair_is_reported_body()
{
	require_harness conf_fuzz
	printf 'junk:true,no_such_option:1,narenas:0,zero:false' > input
	atf_check -s exit:0 -o ignore \
	    -e match:'<malloc>: Unknown option in conf pair "no_such_option:1" in fuzz' \
	    -e match:'<malloc>: Invalid value in conf pair "narenas:0" in fuzz' \
	    -e not-match:'"junk:true"' -e not-match:'"zero:false"' \
	    "$(atf_get_srcdir)/conf_fuzz" input
}

atf_test_case mallctl_name_fuzz_runs_clean
mallctl_name_fuzz_runs_clean_head()
{
	atf_set "descr" "mallctlnametomib and mallctl survive ${fuzz_time} s" \
	    "of libFuzzer, returning only documented errors"
	atf_set "timeout" "120"
}
mallctl_name_fuzz_runs_clean_body()
{
	run_harness mallctl_name_fuzz
}

atf_test_case alloc_ops_fuzz_runs_clean
alloc_ops_fuzz_runs_clean_head()
{
	atf_set "descr" "random programs of allocation calls keep contents," \
	    "sizes, alignment and zeroing, and no two blocks overlap," \
	    "for ${fuzz_time} s of libFuzzer"
	atf_set "timeout" "120"
}
alloc_ops_fuzz_runs_clean_body()
{
	run_harness alloc_ops_fuzz
}

atf_init_test_cases()
{
	atf_add_test_case conf_fuzz_runs_clean
	atf_add_test_case conf_rejected_pair_is_reported
	atf_add_test_case mallctl_name_fuzz_runs_clean
	atf_add_test_case alloc_ops_fuzz_runs_clean
}
