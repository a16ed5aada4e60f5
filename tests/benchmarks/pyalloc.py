"""pyalloc.py: an allocation-heavy python3 workload (dicts, lists, strings).
usage: python3 pyalloc.py [n]; run with PYTHONMALLOC=malloc so that small
objects reach the allocator under test instead of pymalloc."""

import sys


def one_round(n):
    table = {}
    for i in range(n):
        key = "key-%d" % i
        table[key] = [i, str(i) * (i % 9), {"id": i, "tag": key[::-1]}]
    # Drop every third entry: holes between survivors, as a long-lived
    # server's heap has.
    for i in range(0, n, 3):
        del table["key-%d" % i]
    rows = sorted(table.items(), key=lambda kv: (len(kv[1][1]), kv[0]))
    text = "\n".join("%s=%s" % (k, v[1]) for k, v in rows)
    words = text.split("=")
    return len(words) + sum(len(w) for w in words[:1000])


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    total = 0
    for _ in range(4):
        total += one_round(n)
    print("checksum=%d" % total)


main()
