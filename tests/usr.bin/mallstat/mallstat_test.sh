#!/usr/bin/atf-sh
#
# mallstat(1): running a command, watching a running process, reading
# mallctl names, and the errors of each.  mallstat is found through PATH
# (kyua passes the staged usr/bin on); libmalloc.so.1 where installworld
# puts it relative to the installed tests, or in $LIBMALLOC_SO.

libmalloc_so()
{
	if [ -n "${LIBMALLOC_SO}" ]; then
		echo "${LIBMALLOC_SO}"
	else
		echo "$(atf_get_srcdir)/../../../lib/libmalloc.so.1"
	fi
}

require_mallstat()
{
	command -v mallstat >/dev/null 2>&1 ||
	    atf_fail "mallstat not found in PATH"
}

require_program()
{
	command -v "$1" >/dev/null 2>&1 || atf_skip "$1 not installed"
}

# Starts, in the background, a python3 that allocates about 1 MiB at a
# time through malloc for $1 seconds on libmalloc, with MALLOC_CONF=$2;
# sets $worker to its pid and waits until it has published its page.
start_worker()
{
	require_program python3
	so=$(libmalloc_so)
	[ -f "${so}" ] || atf_fail "libmalloc.so.1 not found at ${so}"
	MALLOC_CONF="${2:-}" LD_PRELOAD="${so}" python3 -c "
import time
end = time.time() + $1
while time.time() < end:
    keep = [bytearray(5000) for i in range(200)]
    time.sleep(0.001)
" &
	worker=$!
	echo "${worker}" > worker.pid
	i=0
	while ! grep -q 'memfd:malloc-statpage' /proc/${worker}/maps \
	    2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || atf_fail "worker ${worker} published no page"
		sleep 0.1
	done
}

stop_worker()
{
	[ -f worker.pid ] && kill "$(cat worker.pid)" 2>/dev/null
	return 0
}

# Command mode ---------------------------------------------------------

atf_test_case command_prints_stats_after_its_output
command_prints_stats_after_its_output_head()
{
	atf_set "descr" "The command's output comes first, then the" \
	    "statistics on stdout; stderr is the command's alone"
}
command_prints_stats_after_its_output_body()
{
	require_mallstat
	atf_check -s exit:0 -o save:out -e empty mallstat ls -d /
	atf_check -o inline:"/\n" head -n 1 out
	[ "$(wc -l < out)" -gt 5 ] || atf_fail "no statistics after the output"
}

atf_test_case command_json_is_valid
command_json_is_valid_head()
{
	atf_set "descr" "-j -o file writes the statistics as valid JSON" \
	    "to the file, nothing to stdout"
}
command_json_is_valid_body()
{
	require_mallstat
	require_program python3
	atf_check -s exit:0 -o inline:"/\n" -e empty \
	    mallstat -j -o stats.json ls -d /
	atf_check -s exit:0 -o ignore python3 -c \
	    "import json, sys; json.load(open('stats.json'))"
}

atf_test_case command_keeps_user_malloc_conf
command_keeps_user_malloc_conf_head()
{
	atf_set "descr" "The user's MALLOC_CONF stays in effect for the" \
	    "command"
}
command_keeps_user_malloc_conf_body()
{
	require_mallstat
	# A bad pair in the user's MALLOC_CONF is still reported: it was read.
	atf_check -s exit:0 -o ignore -e match:"no_such_option" \
	    env MALLOC_CONF=no_such_option:1 mallstat ls -d /
}

atf_test_case command_exit_status_is_the_commands
command_exit_status_is_the_commands_head()
{
	atf_set "descr" "mallstat exits with the command's status, 128 +" \
	    "signal when it was killed"
}
command_exit_status_is_the_commands_body()
{
	require_mallstat
	atf_check -s exit:3 -o ignore -e ignore mallstat sh -c 'ls / >/dev/null; exit 3'
	atf_check -s exit:137 -o ignore -e ignore mallstat sh -c 'kill -9 $$'
}

atf_test_case command_not_found
command_not_found_head()
{
	atf_set "descr" "A command that does not exist: 127 and a message"
}
command_not_found_body()
{
	require_mallstat
	atf_check -s exit:127 -o empty -e match:"no-such-command" \
	    mallstat no-such-command
}

atf_test_case missing_command_is_usage_error
missing_command_is_usage_error_head()
{
	atf_set "descr" "No command and no mode: the synopsis and exit 1"
}
missing_command_is_usage_error_body()
{
	require_mallstat
	atf_check -s exit:1 -o empty -e match:"^usage: mallstat" mallstat
	atf_check -s exit:1 -o empty -e match:"^usage: mallstat" mallstat -j
	atf_check -s exit:1 -o empty -e match:"^usage: mallstat" \
	    mallstat -n
	atf_check -s exit:1 -o empty -e match:"^usage: mallstat" \
	    mallstat -p 1 ls
}

# Names mode -----------------------------------------------------------

atf_test_case names_read_options
names_read_options_head()
{
	atf_set "descr" "-n prints the values of opt.* names as MALLOC_CONF" \
	    "set them: unsigned, bool, string and signed nodes"
}
names_read_options_body()
{
	require_mallstat
	atf_check -s exit:0 -o inline:"3\n" -e empty \
	    env MALLOC_CONF=narenas:3 mallstat -n opt.narenas
	atf_check -s exit:0 -o inline:"3\nfalse\nfree\n-1\n" -e empty \
	    env MALLOC_CONF=narenas:3,tcache:false,junk:free,dirty_decay_ms:-1 \
	    mallstat -n opt.narenas opt.tcache opt.junk opt.dirty_decay_ms
}

atf_test_case names_read_statistics
names_read_statistics_head()
{
	atf_set "descr" "-n reads size_t statistics and the version string"
}
names_read_statistics_body()
{
	require_mallstat
	atf_check -s exit:0 -o match:"^[1-9][0-9]*$" -e empty \
	    mallstat -n stats.mapped
	atf_check -s exit:0 -o not-empty -e empty mallstat -n version
}

atf_test_case names_unknown_name
names_unknown_name_head()
{
	atf_set "descr" "An unknown name is reported by name; the others" \
	    "are still printed; exit 1"
}
names_unknown_name_body()
{
	require_mallstat
	atf_check -s exit:1 -o inline:"2\n" -e match:"opt.no_such: unknown name" \
	    env MALLOC_CONF=narenas:2 mallstat -n opt.no_such opt.narenas
}

atf_test_case names_action_is_not_run
names_action_is_not_run_head()
{
	atf_set "descr" "A name whose reading would act (arena.0.purge) is" \
	    "refused, not run"
}
names_action_is_not_run_body()
{
	require_mallstat
	atf_check -s exit:1 -o empty -e match:"an action" \
	    mallstat -n arena.0.purge
}

# Process mode ---------------------------------------------------------

atf_test_case pid_prints_lines
pid_prints_lines_head()
{
	atf_set "descr" "-p -w -c prints a header and count lines of a" \
	    "running process's statistics"
}
pid_prints_lines_body()
{
	require_mallstat
	start_worker 20
	atf_check -s exit:0 -o save:out -e empty \
	    mallstat -p "${worker}" -w 0.3 -c 3
	atf_check -o match:"allocated +active +resident +mapped +retained +dirty +muzzy +malloc/s +free/s +purged/s" \
	    head -n 1 out
	atf_check -o inline:"4\n" sh -c 'wc -l < out | tr -d " "'
	# The second and later lines have rates.
	atf_check -o match:"^( +[0-9]+){10}$" sed -n 3p out
	# Something is allocated and mapped.
	atf_check -o match:"^ +[1-9][0-9]* +[0-9]+ +[0-9]+ +[1-9]" sed -n 2p out
	stop_worker
}
pid_prints_lines_cleanup()
{
	stop_worker
}

atf_test_case pid_keeps_no_descriptor
pid_keeps_no_descriptor_head()
{
	atf_set "descr" "A publishing process keeps no descriptor of its page"
}
pid_keeps_no_descriptor_body()
{
	start_worker 20
	if ls -l /proc/"${worker}"/fd | grep -q memfd; then
		atf_fail "the page's memfd is still open"
	fi
	stop_worker
}
pid_keeps_no_descriptor_cleanup()
{
	stop_worker
}

atf_test_case pid_heap_dump_request_is_answered
pid_heap_dump_request_is_answered_head()
{
	atf_set "descr" "-H goes through the request word and the process" \
	    "answers that it does not profile"
}
pid_heap_dump_request_is_answered_body()
{
	require_mallstat
	start_worker 20
	atf_check -s exit:69 -o empty -e match:"profiling not enabled" \
	    mallstat -p "${worker}" -H
	stop_worker
}
pid_heap_dump_request_is_answered_cleanup()
{
	stop_worker
}

atf_test_case pid_heap_dump_request_writes_profile
pid_heap_dump_request_writes_profile_head()
{
	atf_set "descr" "-H on a process running with prof:true prints the" \
	    "name of the heap profile it wrote"
}
pid_heap_dump_request_writes_profile_body()
{
	require_mallstat
	start_worker 20 "prof:true,prof_prefix:$(pwd)/prof"
	atf_check -s exit:0 -o save:name -e empty mallstat -p "${worker}" -H
	atf_check -o match:"^$(pwd)/prof\.${worker}\..*\.heap$" cat name
	atf_check -o match:"^heap_v2/" head -n 1 "$(cat name)"
	stop_worker
}
pid_heap_dump_request_writes_profile_cleanup()
{
	stop_worker
}

atf_test_case pid_of_exited_process
pid_of_exited_process_head()
{
	atf_set "descr" "A process that is gone: 'no such process', EX_NOINPUT"
}
pid_of_exited_process_body()
{
	require_mallstat
	pid=$(sh -c 'echo $$')
	atf_check -s exit:66 -o empty -e match:"${pid}: no such process" \
	    mallstat -p "${pid}"
}

atf_test_case pid_not_on_the_allocator
pid_not_on_the_allocator_head()
{
	atf_set "descr" "A process that does not publish: said so," \
	    "EX_UNAVAILABLE"
}
pid_not_on_the_allocator_body()
{
	require_mallstat
	env -u LD_PRELOAD sleep 30 &
	echo $! > worker.pid
	atf_check -s exit:69 -o empty -e match:"publishes no allocator statistics" \
	    mallstat -p "$(cat worker.pid)"
	stop_worker
}
pid_not_on_the_allocator_cleanup()
{
	stop_worker
}

atf_test_case pid_of_another_user_is_refused
pid_of_another_user_is_refused_head()
{
	atf_set "descr" "Another user may not read a process's statistics"
	atf_set "require.user" "root"
	atf_set "require.progs" "su"
}
pid_of_another_user_is_refused_body()
{
	require_mallstat
	start_worker 20
	ms=$(command -v mallstat)
	atf_check -s exit:77 -o empty -e match:"Permission denied" \
	    su nobody -s /bin/sh -c "${ms} -p ${worker}"
	stop_worker
}
pid_of_another_user_is_refused_cleanup()
{
	stop_worker
}

atf_test_case pid_bad_arguments
pid_bad_arguments_head()
{
	atf_set "descr" "A malformed pid, wait or count: a message and exit 1"
}
pid_bad_arguments_body()
{
	require_mallstat
	atf_check -s exit:1 -o empty -e match:"invalid pid" mallstat -p abc
	atf_check -s exit:1 -o empty -e match:"invalid wait" \
	    mallstat -p 1 -w 0
	atf_check -s exit:1 -o empty -e match:"invalid count" \
	    mallstat -p 1 -c -2
}

atf_init_test_cases()
{
	atf_add_test_case command_prints_stats_after_its_output
	atf_add_test_case command_json_is_valid
	atf_add_test_case command_keeps_user_malloc_conf
	atf_add_test_case command_exit_status_is_the_commands
	atf_add_test_case command_not_found
	atf_add_test_case missing_command_is_usage_error
	atf_add_test_case names_read_options
	atf_add_test_case names_read_statistics
	atf_add_test_case names_unknown_name
	atf_add_test_case names_action_is_not_run
	atf_add_test_case pid_prints_lines
	atf_add_test_case pid_keeps_no_descriptor
	atf_add_test_case pid_heap_dump_request_is_answered
	atf_add_test_case pid_heap_dump_request_writes_profile
	atf_add_test_case pid_of_exited_process
	atf_add_test_case pid_not_on_the_allocator
	atf_add_test_case pid_of_another_user_is_refused
	atf_add_test_case pid_bad_arguments
}
