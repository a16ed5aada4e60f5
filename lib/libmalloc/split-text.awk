# split-text.awk: the linker's default script (what `ld --verbose` prints
# between its ===== lines) with .text holding only the input sections
# listed in the file given as -v hot=FILE, and the rest of the code in
# .text.malloc_cold, a page apart, so that the linker makes it a segment
# (and the dynamic linker a mapping) of its own.  Exits 1 when the script
# has no .text statement to split.
/^=====/ { inscript = !inscript; next }
!inscript { next }
/^  \.text[ \t]+:/ && !done {
	print "  .text :"
	print "  {"
	while ((getline line < hot) > 0)
		print line
	print "  }"
	print "  . = ALIGN(CONSTANT (MAXPAGESIZE)) + CONSTANT (MAXPAGESIZE);"
	sub(/\.text/, ".text.malloc_cold")
	done = 1
}
{ print }
END { if (!done) exit 1 }
