#!/bin/sh
# hot-text.sh LIB: print text.hot's list (its lines after the C runtime's)
# of the functions that ordinary processes run in LIB (our library, built
# with -ffunction-sections), as callgrind sees them: the union over small
# programs, the benchmark workloads at small sizes, python, gcc, git, perl,
# ls and a forking shell, plus every standard entry point and fork handler
# (cheap, and a program that calls one would otherwise fault in the cold
# text for it; not jemalloc's *allocx, mallctl and the statistics
# printer).
# Needs valgrind; run from the top of the tree after `make`.
set -eu
LIB=${1:?usage: hot-text.sh LIB}
B=${BENCH_BIN:-/usr/obj$(pwd)/tests/benchmarks}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'int main(void){return 0;}\n' >"$tmp/t.c"
i=0
while read -r cmd; do
	i=$((i + 1))
	LD_PRELOAD=$LIB PYTHONMALLOC=malloc valgrind --tool=callgrind \
	    --trace-children=yes --callgrind-out-file="$tmp/cg.$i.%p" \
	    sh -c "$cmd" >/dev/null 2>&1 || :
done <<LIST
$B/fastpath -s 16 -n 10000
$B/fastpath -s 1024 -w 1000 -n 10000
$B/prodcons -p 4 -n 5000
$B/larson -t 2 -n 20000
$B/window -t 2 -n 20000
$B/realloc -t 1 -r 1
$B/churn -m 64k -M 1m -l 8 -n 200
$B/churn -m 5m -M 25m -l 4 -n 20
$B/frag -b 2 -n 2000 -i 20
$B/cache-scratch -t 2 -n 1000
python3 $(pwd)/tests/benchmarks/pyalloc.py 500
gcc -O2 -c $tmp/t.c -o $tmp/t.o
git log --oneline -5
perl -e 'print "x" x 100'
ls -l /usr/lib | sort | head -1
LIST
# Our functions: callgrind names the object of those outside .text "???"
# (valgrind knows one text section an object), so the names are matched
# against the library's symbols instead.
nm "$LIB" | sed -n 's/^[0-9a-f]* [tT] //p' | sort -u >"$tmp/ours"
{
	for f in "$tmp"/cg.*; do
		callgrind_annotate --threshold=100 "$f" 2>/dev/null |
		    sed -n "s/.*:\([A-Za-z_][A-Za-z0-9_.]*\)\('[0-9]*\)\{0,1\} \[.*\]$/\1/p"
	done | sort -u | comm -12 - "$tmp/ours"
	sed -n 's/^[[:space:]]*\([a-z_]*\);$/\1/p' \
	    "$(dirname "$0")/../libc/stdlib/malloc/Symbol.map" |
	    grep -v 'allocx$\|^mallctl\|^malloc_stats_print$'
	# Paths that run on time, on the kernel's answer or on contention,
	# which a short run under callgrind may miss: decay's purges, huge
	# reallocs' moves, a lock's wait.
	printf '%s\n' decay_take decay_next_ns ecache_insert_oldest \
	    extent_purge_forced extent_purge_lazy hooks_purge_forced \
	    hooks_purge_lazy hooks_decommit hooks_commit hooks_dalloc \
	    default_purge_forced default_purge_lazy default_decommit \
	    default_commit pages_purge_forced pages_purge_lazy pages_decommit \
	    pages_commit pages_unmap pages_move pages_remap arena_decay \
	    arena_decay_next_ns mlock_lock_slow
	nm "$LIB" | sed -n 's/^[0-9a-f]* [tT] \(.*_\(prefork\|postfork_parent\|postfork_child\)\)$/\1/p'
} | sort -u | sed 's/.*/\t\t*(.text.& .text.startup.& .text.exit.&)/'
