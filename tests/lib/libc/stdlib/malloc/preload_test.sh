#!/usr/bin/atf-sh
#
# Real programs on libmalloc.so.1 through LD_PRELOAD: each runs a small
# allocation-heavy job once on the system allocator and once on ours, and
# the two runs must exit 0 and print exactly the same (stdout and stderr).
# A program that is not installed is skipped, saying so.
#
# The library is looked for where installworld puts it relative to the
# installed tests ($DESTDIR/usr/lib beside $DESTDIR/usr/tests), or in
# $LIBMALLOC_SO when set.

libmalloc_so()
{
	if [ -n "${LIBMALLOC_SO}" ]; then
		echo "${LIBMALLOC_SO}"
	else
		echo "$(atf_get_srcdir)/../../../../../lib/libmalloc.so.1"
	fi
}

require_libmalloc()
{
	so=$(libmalloc_so)
	[ -f "${so}" ] || atf_fail "libmalloc.so.1 not found at ${so}" \
	    "(installworld puts it in usr/lib; or set LIBMALLOC_SO)"
}

require_program()
{
	command -v "$1" >/dev/null 2>&1 || atf_skip "$1 not installed"
}

# Run job.sh (in the current directory) in a fresh directory on the system
# allocator, then in another on libmalloc, and require identical output.
# Runs happen in the test's own directory, never in a subshell, so that
# atf_check can fail the case.
compare_with_and_without_preload()
{
	top=$(pwd)
	mkdir system ours
	cd system
	atf_check -s exit:0 -o save:"${top}/system.out" \
	    -e save:"${top}/system.err" env -u LD_PRELOAD sh "${top}/job.sh"
	cd "${top}/ours"
	atf_check -s exit:0 -o file:"${top}/system.out" \
	    -e file:"${top}/system.err" \
	    env LD_PRELOAD="$(libmalloc_so)" sh "${top}/job.sh"
	cd "${top}"
}

atf_test_case library_is_loaded_by_ld_preload
library_is_loaded_by_ld_preload_head()
{
	atf_set "descr" "LD_PRELOAD=libmalloc.so.1 maps the library into" \
	    "the process, without a loader complaint"
}
library_is_loaded_by_ld_preload_body()
{
	require_libmalloc
	atf_check -s exit:0 -o match:"libmalloc\.so" -e empty \
	    env LD_PRELOAD="$(libmalloc_so)" cat /proc/self/maps
}

# The resident size of each executable mapping of libmalloc.so.1 in the
# smaps of the process whose file is $1, one per line.
text_rss()
{
	awk -v so="$(basename "$(libmalloc_so)")" '
	    /^[0-9a-f]+-[0-9a-f]+ / { ours = ($2 ~ /x/ && index($0, so)) }
	    ours && /^Rss:/ { print $2 }' "$1"
}

# Fails unless the cold text segment has nothing resident in the smaps of
# program $1, saved as $1.smaps; leaves the hot segment's size in $hot.
cold_text_check()
{
	text_rss "$1.smaps" >"$1.rss"
	hot=$(sed -n 1p "$1.rss")
	cold=$(sed -n 2p "$1.rss")
	echo "$1: text resident ${hot} KiB, cold text ${cold} KiB"
	[ "${cold}" -eq 0 ] ||
	    atf_fail "$1 ran code of the cold text segment (${cold} KiB" \
	    "resident): a function missing from lib/libmalloc/text.hot"
}

atf_test_case cold_text_stays_out
cold_text_stays_out_head()
{
	atf_set "descr" "Processes that only allocate, free, start threads" \
	    "and fork never run the code lib/libmalloc keeps in its second" \
	    "text segment (text.hot lists what they run): it stays" \
	    "unmapped, where fault-around would map up to 64 KiB of it"
}
cold_text_stays_out_body()
{
	require_libmalloc
	env LD_PRELOAD="$(libmalloc_so)" cat /proc/self/smaps >cat.smaps
	[ "$(text_rss cat.smaps | wc -l)" -eq 2 ] ||
	    atf_skip "libmalloc.so.1 has one text segment (no split)"
	# A shell that has forked and run a pipeline, then reads its own.
	env LD_PRELOAD="$(libmalloc_so)" sh -c \
	    'ls / | sort >/dev/null; x=$(echo y); cat /proc/$$/smaps' \
	    >sh.smaps
	for f in cat sh; do
		cold_text_check $f
		[ "${hot}" -gt 0 ] || atf_fail "$f: no resident text at all?"
	done
	if command -v python3 >/dev/null 2>&1; then
		env LD_PRELOAD="$(libmalloc_so)" PYTHONMALLOC=malloc python3 -c '
import threading
d = {i: str(i) * (i % 40) for i in range(50000)}
t = [threading.Thread(target=lambda: [bytes(i % 300) for i in range(20000)])
     for _ in range(4)]
[x.start() for x in t]; [x.join() for x in t]
print(open("/proc/self/smaps").read())' >python3.smaps
		cold_text_check python3
	fi
}

atf_test_case python3_runs_identically
python3_runs_identically_head()
{
	atf_set "descr" "python3 gives the same output on libmalloc"
	atf_set "timeout" "300"
}
python3_runs_identically_body()
{
	require_libmalloc
	require_program python3
	cat > script.py <<'EOF'
import hashlib, json, re, sys
d = {"k%d" % i: [i, str(i) * (i % 50), {"v": i * 2}] for i in range(200000)}
s = json.dumps(d, sort_keys=True)
e = json.loads(s)
print(len(s), len(e), hashlib.sha256(s.encode()).hexdigest())
words = re.findall(r"[a-z]+", " ".join("w%s" % chr(97 + i % 26) * (i % 9)
    for i in range(100000)))
print(len(words), sorted(set(words))[:5])
big = [bytes(range(i % 256)) * (i % 40) for i in range(20000)]
print(sum(map(len, big)), hashlib.md5(b"".join(big)).hexdigest())
class Node:
    __slots__ = ("l", "r", "v")
    def __init__(self, v, l=None, r=None):
        self.v, self.l, self.r = v, l, r
def tree(n):
    return Node(n) if n == 0 else Node(n, tree(n - 1), tree(n - 1))
def count(t):
    return 0 if t is None else 1 + count(t.l) + count(t.r)
print(sum(count(tree(14)) for _ in range(3)))
EOF
	cat > job.sh <<EOF
PYTHONHASHSEED=0 python3 "$(pwd)/script.py"
EOF
	compare_with_and_without_preload
}

atf_test_case perl_runs_identically
perl_runs_identically_head()
{
	atf_set "descr" "perl gives the same output on libmalloc"
	atf_set "timeout" "300"
}
perl_runs_identically_body()
{
	require_libmalloc
	require_program perl
	cat > script.pl <<'EOF'
use strict; use warnings;
my %h;
for my $i (0 .. 199999) { $h{"key$i"} = "v" x ($i % 64) . $i; }
my $total = 0;
for my $k (sort keys %h) { $total += length($h{$k}); }
print scalar(keys %h), " $total\n";
my @a = map { sprintf("%08x", ($_ * 2654435761) % 4294967296) } 0 .. 99999;
my @s = sort @a;
print "$s[0] $s[-1] ", scalar(grep { /^[0-7]/ } @s), "\n";
my $text = join(" ", map { "word" . ($_ % 1000) } 0 .. 99999);
my %count; $count{$_}++ for split / /, $text;
print join(",", map { "$_=$count{$_}" } (sort keys %count)[0 .. 4]), "\n";
my $str = ""; $str .= chr(65 + $_ % 26) for 0 .. 999999;
(my $t = $str) =~ s/ABC/x/g;
print length($t), "\n";
EOF
	cat > job.sh <<EOF
PERL_HASH_SEED=0 perl "$(pwd)/script.pl"
EOF
	compare_with_and_without_preload
}

atf_test_case gcc_runs_identically
gcc_runs_identically_head()
{
	atf_set "descr" "gcc compiles on libmalloc, and the program it" \
	    "built runs with the same output"
	atf_set "timeout" "300"
}
gcc_runs_identically_body()
{
	require_libmalloc
	require_program gcc
	cat > prog.c <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	char name[24];
};

int
main(void)
{
	struct node *head = NULL, *n;
	unsigned long sum = 0;
	int i;

	for (i = 0; i < 100000; i++) {
		n = malloc(sizeof(*n));
		if (n == NULL)
			return (1);
		snprintf(n->name, sizeof(n->name), "node%d", i);
		n->next = head;
		head = n;
	}
	while (head != NULL) {
		n = head->next;
		sum += strlen(head->name);
		free(head);
		head = n;
	}
	printf("%lu\n", sum);
	return (0);
}
EOF
	cat > job.sh <<EOF
gcc -O2 -Wall -o prog "$(pwd)/prog.c" && ./prog
EOF
	compare_with_and_without_preload
}

atf_test_case git_runs_identically
git_runs_identically_head()
{
	atf_set "descr" "git init, add, commit and log give the same output" \
	    "on libmalloc"
	atf_set "timeout" "300"
}
git_runs_identically_body()
{
	require_libmalloc
	require_program git
	# Fixed identities and dates make the commit hashes reproducible.
	cat > job.sh <<'EOF'
set -e
export GIT_AUTHOR_NAME=Tester GIT_AUTHOR_EMAIL=tester@example.org
export GIT_COMMITTER_NAME=Tester GIT_COMMITTER_EMAIL=tester@example.org
export GIT_AUTHOR_DATE="2024-01-01T00:00:00Z"
export GIT_COMMITTER_DATE="2024-01-01T00:00:00Z"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git -c init.defaultBranch=main init -q repo
cd repo
i=0
while [ $i -lt 200 ]; do
	echo "file $i" > "f$i.txt"
	i=$((i + 1))
done
git add .
git commit -q -m "first"
seq 1 5000 > numbers
git add numbers
git commit -q -m "second"
sed -i 's/1/one/' numbers
git commit -q -a -m "third"
git log --stat --format='%H %s'
git diff HEAD~2 --stat
git fsck --no-progress 2>&1
git gc -q
git count-objects
EOF
	compare_with_and_without_preload
}

atf_test_case sqlite3_runs_identically
sqlite3_runs_identically_head()
{
	atf_set "descr" "sqlite3 gives the same query results on libmalloc"
	atf_set "timeout" "300"
}
sqlite3_runs_identically_body()
{
	require_libmalloc
	require_program sqlite3
	cat > script.sql <<'EOF'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, payload BLOB);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
INSERT INTO t SELECT x, 'name' || x, x % 97, zeroblob(x % 300)
FROM c;
CREATE INDEX t_grp ON t(grp, name);
SELECT grp, COUNT(*), SUM(LENGTH(payload)), MIN(name), MAX(name)
FROM t GROUP BY grp ORDER BY grp LIMIT 10;
SELECT COUNT(DISTINCT name) FROM t;
SELECT group_concat(id) FROM (SELECT id FROM t WHERE name LIKE '%777%'
ORDER BY id);
DELETE FROM t WHERE id % 3 = 0;
VACUUM;
SELECT COUNT(*), SUM(id) FROM t;
EOF
	cat > job.sh <<EOF
sqlite3 db.sqlite < "$(pwd)/script.sql"
EOF
	compare_with_and_without_preload
}

atf_test_case bash_runs_identically
bash_runs_identically_head()
{
	atf_set "descr" "bash gives the same output on libmalloc"
	atf_set "timeout" "300"
}
bash_runs_identically_body()
{
	require_libmalloc
	require_program bash
	cat > script.bash <<'EOF'
declare -A map
arr=()
for ((i = 0; i < 20000; i++)); do
	map["key$i"]="value$((i * 7))"
	arr+=("item$i")
done
echo "${#map[@]} ${#arr[@]}"
s=""
for ((i = 0; i < 5000; i++)); do s+="${arr[i]:0:5}"; done
echo "${#s} ${s:100:20}"
total=0
for k in "${!map[@]}"; do v=${map[$k]}; total=$((total + ${#v})); done
echo "$total"
x=$(for i in {1..2000}; do echo "line $i"; done | sort -r | head -3)
echo "$x"
words=(${s//item/ })
echo "${#words[@]}"
EOF
	cat > job.sh <<EOF
bash "$(pwd)/script.bash"
EOF
	compare_with_and_without_preload
}

atf_init_test_cases()
{
	atf_add_test_case library_is_loaded_by_ld_preload
	atf_add_test_case cold_text_stays_out
	atf_add_test_case python3_runs_identically
	atf_add_test_case perl_runs_identically
	atf_add_test_case gcc_runs_identically
	atf_add_test_case git_runs_identically
	atf_add_test_case sqlite3_runs_identically
	atf_add_test_case bash_runs_identically
}
