#!/bin/sh
# The policies of the language reference compile, and its wrong ones do not.
#
# usage: extract_examples.sh FBPFC DOC.md WORKDIR
#
# Every fenced block of DOC.md with the info string `fbp` is written to
# WORKDIR/<line>/rules.fbp and compiled with `FBPFC compile`; it must build.
# Every block marked `fbp-error` must be rejected: `fbpfc compile` exits 1
# (0 means it was accepted, anything else means a usage error or a crash).
# The fenced block right after an `fbp-error` block must be a `text` block
# holding the expected diagnostics, for a file named rules.fbp; each of its
# non-empty lines must appear, as a whole line, in what fbpfc prints.
#
# Fences are recognised at the start of a line only; an indented ```fbp is
# refused so that no example is skipped silently. The first failure stops the
# test and names the line of DOC.md where the block starts.
set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 FBPFC DOC.md WORKDIR" >&2
	exit 2
fi
fbpfc=$1
doc=$2
work=$3

if [ ! -x "$fbpfc" ]; then
	echo "$0: $fbpfc is not an executable (build the fbpfc target first)" >&2
	exit 1
fi
if [ ! -r "$doc" ]; then
	echo "$0: cannot read $doc" >&2
	exit 1
fi
rm -rf "$work"
mkdir -p "$work" || exit 1

# Split the document. Writes WORKDIR/index ("fbp LINE" or "fbp-error LINE"
# per block, in order), WORKDIR/LINE/rules.fbp and, for fbp-error blocks,
# WORKDIR/LINE/expected.txt. Prints "LINE: message" and exits 1 on a
# malformed document.
awk -v work="$work" '
function fail(msg) { printf "%d: %s\n", NR, msg; bad = 1; exit 1 }
{ sub(/\r$/, "") }
inblock {
	if ($0 ~ /^```[ \t]*$/) {
		close(file)
		inblock = 0
		last = kind
		lastline = start
		continue_ok = 1
		next
	}
	if (file != "") print > file
	next
}
/^[ \t]+```[ \t]*fbp/ { fail("an indented ```fbp fence: start example blocks at the beginning of a line") }
/^```/ {
	info = $0
	sub(/^```[ \t]*/, "", info)
	sub(/[ \t]+$/, "", info)
	inblock = 1
	start = NR
	kind = "other"
	file = ""
	if (info == "fbp" || info == "fbp-error") {
		kind = info
		system("mkdir -p \"" work "/" NR "\"")
		file = work "/" NR "/rules.fbp"
		printf "" > file
		print kind, NR >> (work "/index")
	} else if (info == "text" && last == "fbp-error") {
		file = work "/" lastline "/expected.txt"
		printf "" > file
	}
	if (last == "fbp-error")
		last = ""
	next
}
END {
	if (bad) exit 1
	if (inblock) { printf "%d: this fenced block is never closed\n", start; exit 1 }
}
' "$doc" > "$work/awk.out" 2>&1
if [ $? -ne 0 ]; then
	echo "$doc:$(cat "$work/awk.out")" >&2
	exit 1
fi
if [ ! -s "$work/index" ]; then
	echo "$doc: no \`\`\`fbp blocks found; the extraction is broken or the examples are gone" >&2
	exit 1
fi

nok=0
nerr=0
while read -r kind line; do
	dir=$work/$line
	(cd "$dir" && "$fbpfc" compile rules.fbp -o rules.o) > "$dir/output.txt" 2>&1
	rc=$?
	case $kind in
	fbp)
		if [ $rc -ne 0 ]; then
			echo "$doc:$line: this \`\`\`fbp block does not compile (fbpfc exit $rc):" >&2
			sed 's/^/    /' "$dir/output.txt" >&2
			echo "(the block is in $dir/rules.fbp; a deliberately wrong example belongs in a \`\`\`fbp-error block)" >&2
			exit 1
		fi
		nok=$((nok + 1))
		;;
	fbp-error)
		if [ $rc -eq 0 ]; then
			echo "$doc:$line: this \`\`\`fbp-error block compiles, but it is meant to be rejected" >&2
			exit 1
		fi
		if [ $rc -ne 1 ]; then
			echo "$doc:$line: fbpfc exited $rc on this \`\`\`fbp-error block; a rejected policy exits 1:" >&2
			sed 's/^/    /' "$dir/output.txt" >&2
			exit 1
		fi
		if [ ! -f "$dir/expected.txt" ]; then
			echo "$doc:$line: an \`\`\`fbp-error block must be followed by a \`\`\`text block with the expected diagnostics" >&2
			exit 1
		fi
		while IFS= read -r want || [ -n "$want" ]; do
			[ -z "$want" ] && continue
			if ! grep -Fxq -e "$want" "$dir/output.txt"; then
				echo "$doc:$line: fbpfc does not print the expected line" >&2
				echo "    $want" >&2
				echo "for this \`\`\`fbp-error block; it prints:" >&2
				sed 's/^/    /' "$dir/output.txt" >&2
				exit 1
			fi
		done < "$dir/expected.txt"
		nerr=$((nerr + 1))
		;;
	esac
done < "$work/index"

echo "$doc: $nok fbp blocks compile, $nerr fbp-error blocks are rejected as documented"
exit 0
