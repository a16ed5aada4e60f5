"""gen-big-c.py: print a large generated C file for the gcc workload.
usage: python3 gen-big-c.py [nfunctions]"""

import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1500
print("#include <string.h>\n")
for i in range(n):
    print("struct s%d { int a[%d]; double b; const char *name; };" % (i, i % 13 + 1))
    print("static struct s%d table%d[] = {" % (i, i))
    for j in range(8):
        print('\t{ { %d }, %d.5, "t%d_%d" },' % (j, j, i, j))
    print("};")
    print("int\nf%d(int x, const char *s)\n{" % i)
    print("\tint y = x;\n\tfor (unsigned k = 0; k < sizeof(table%d) / "
          "sizeof(table%d[0]); k++) {" % (i, i))
    print("\t\tif (strcmp(s, table%d[k].name) == 0)\n\t\t\ty += "
          "table%d[k].a[0] * (int)table%d[k].b;" % (i, i, i))
    print("\t\tswitch ((y + k) %% %d) {" % (i % 7 + 3))
    for c in range(i % 7 + 3):
        print("\t\tcase %d: y = y * %d + %d; break;" % (c, c + 3, i))
    print("\t\t}\n\t}")
    if i > 0:
        print("\tif (y & 1)\n\t\ty += f%d(y / 2, s);" % (i - 1))
    print("\treturn (y);\n}\n")
