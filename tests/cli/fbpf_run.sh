#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fbpf-run as a user runs it: real mounts of the examples, checked with
# everyday commands, its one-sentence errors, stats, umount and signals, as
# root and as an unprivileged user (uid 1000, through fusermount3).
# usage: tests/cli/fbpf_run.sh BUILD_DIR    (as root; the unprivileged part
#        needs /dev/fuse mode 0666 and user_allow_other, which setup.sh sets)
set -u
B=${1:?usage: fbpf_run.sh BUILD_DIR}
if [ "$(id -u)" -ne 0 ]; then
	echo "skip: fbpf_run.sh mounts filesystems and needs root"
	exit 77
fi
B=$(cd "$B" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
R=$B/runtime/cli/fbpf-run
C=$B/compiler/fbpfc
T=$(mktemp -d /tmp/fbpf-smoke.XXXXXX)
chmod 755 "$T"
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # check DESC CMD...: CMD must succeed
	local d=$1; shift
	if "$@" >/dev/null 2>&1; then ok; else bad "$d"; fi
}
refuse() { # refuse DESC ERRTEXT CMD...: CMD must fail with ERRTEXT on stderr
	local d=$1 e=$2 out; shift 2
	if out=$("$@" 2>&1); then bad "$d (succeeded)"; elif [[ $out == *"$e"* ]]; then ok; else bad "$d: $out"; fi
}
same() { # same DESC EXPECTED ACTUAL
	if [[ "$2" == "$3" ]]; then ok; else bad "$1: expected '$2', got '$3'"; fi
}
cleanup() {
	for m in "$T"/mnt "$T"/umnt; do mountpoint -q "$m" 2>/dev/null && umount -l "$m"; done
	rm -rf "$T"
}
trap cleanup EXIT

for e in suffix-rename private-dotfiles readonly-view; do
	"$C" compile "$SRC/examples/$e/policy.fbp" -o "$T/$e.o" >/dev/null || bad "compile $e"
done
mkdir -p "$T/low/sub" "$T/mnt"
echo hello >"$T/low/a.txt"
echo inner >"$T/low/sub/b"
ln -s a.txt "$T/low/lnk"

# --- suffix-rename as root
check "mount suffix-rename" "$R" mount "$T/suffix-rename.o" "$T/low" "$T/mnt"
same "listing is renamed" "a.txt.x lnk.x sub.x" "$(cd "$T/mnt" && echo *)"
same "cat a renamed file" hello "$(cat "$T/mnt/a.txt.x")"
same "symlink target is not rewritten" a.txt "$(readlink "$T/mnt/lnk.x")"
refuse "stored name is not reachable" "No such file" stat "$T/mnt/a.txt"
check "create a shown name" touch "$T/mnt/new.x"
check "it lands on the stored name" test -f "$T/low/new"
refuse "create an unmappable name" "Permission denied" touch "$T/mnt/plain"
check "rename into a subdirectory" mv "$T/mnt/new.x" "$T/mnt/sub.x/moved.x"
check "renamed on the stored names" test -f "$T/low/sub/moved"
check "hard link" ln "$T/mnt/a.txt.x" "$T/mnt/hl.x"
same "link count" 2 "$(stat -c %h "$T/low/a.txt")"
check "unlink" rm "$T/mnt/hl.x" "$T/mnt/sub.x/moved.x"
check "mkdir" mkdir "$T/mnt/dir.x"
check "rmdir" rmdir "$T/mnt/dir.x"
check "chmod" chmod 600 "$T/mnt/a.txt.x"
same "mode below" 600 "$(stat -c %a "$T/low/a.txt")"
check "utimes" touch -d 2001-02-03 "$T/mnt/a.txt.x"
same "mtime below" 2001-02-03 "$(date -r "$T/low/a.txt" +%F)"
check "truncate" truncate -s 2 "$T/mnt/a.txt.x"
same "size below" 2 "$(stat -c %s "$T/low/a.txt")"
echo "hello" >"$T/mnt/a.txt.x"
same "write through" hello "$(cat "$T/low/a.txt")"
refuse "busy mount point" "is busy" "$R" mount "$T/suffix-rename.o" "$T/low" "$T/mnt"
out=$("$R" stats "$T/mnt" --json 2>&1)
[[ $out == *'"policy":"suffix_x"'* && $out == *'"hits":'* ]] && ok || bad "stats --json: $out"
check "umount" "$R" umount "$T/mnt"
check "unmounted" bash -c "! mountpoint -q '$T/mnt'"

# --- command-line errors
echo junk >"$T/junk.o"
refuse "bad object" "not an ELF object" "$R" mount "$T/junk.o" "$T/low" "$T/mnt"
refuse "missing lower" "does not exist" "$R" mount "$T/suffix-rename.o" "$T/nolow" "$T/mnt"
refuse "missing mount point" "does not exist" "$R" mount "$T/suffix-rename.o" "$T/low" "$T/nomnt"
refuse "unknown -o option" "unknown mount option" "$R" mount "$T/suffix-rename.o" "$T/low" "$T/mnt" -o bogus
refuse "bad busy_poll" "needs a number of microseconds" "$R" mount "$T/suffix-rename.o" "$T/low" "$T/mnt" -o busy_poll=soon
refuse "bad threads" "needs a number of threads" "$R" mount "$T/suffix-rename.o" "$T/low" "$T/mnt" -o threads=0
refuse "umount of nothing" "is not mounted" "$R" umount "$T/mnt"
check "mount without busy polling" "$R" mount "$T/suffix-rename.o" "$T/low" "$T/mnt" -o busy_poll=0
same "read without busy polling" hello "$(cat "$T/mnt/a.txt.x")"
check "umount" "$R" umount "$T/mnt"

# --- readonly-view: deny with EROFS, attribute rewrite
check "mount readonly-view" "$R" mount "$T/readonly-view.o" "$T/low" "$T/mnt"
same "attr rewrite" "65534 65534" "$(stat -c '%u %g' "$T/mnt/a.txt")"
refuse "write refused" "Read-only file system" bash -c "echo x >> '$T/mnt/a.txt'"
refuse "create refused" "Read-only file system" touch "$T/mnt/newfile"
check "read allowed" cat "$T/mnt/sub/b"
check "umount" "$R" umount "$T/mnt"

# --- private-dotfiles: per-caller hiding
mkdir -p "$T/low/home"
chmod 777 "$T/low/home"
echo secret >"$T/low/home/.rootdot"
install -d -o 1000 -g 1000 "$T/low/home/.userdot"
check "mount private-dotfiles" "$R" mount "$T/private-dotfiles.o" "$T/low" "$T/mnt"
U=(setpriv --reuid=1000 --regid=1000 --clear-groups)
same "root sees both" ".rootdot .userdot" "$(cd "$T/mnt/home" && echo .[a-z]*)"
same "user sees own" ".userdot" "$("${U[@]}" bash -c "cd '$T/mnt/home' && echo .[a-z]*")"
refuse "user: hidden lookup" "No such file" "${U[@]}" stat "$T/mnt/home/.rootdot"
refuse "user: create hidden name" "Permission denied" "${U[@]}" mkdir "$T/mnt/home/.rootdot"
same "root still sees it" secret "$(cat "$T/mnt/home/.rootdot")"
check "user creates a file" "${U[@]}" touch "$T/mnt/home/mine"
same "owned by its creator" 1000 "$(stat -c %u "$T/low/home/mine")"
refuse "user: permission below" "Permission denied" "${U[@]}" touch "$T/mnt/rootfile"
check "umount" "$R" umount "$T/mnt"

# --- unprivileged mount through fusermount3
if [ -w /dev/fuse ] && "${U[@]}" test -r /dev/fuse -a -w /dev/fuse; then
	mkdir -p "$T/ulow" "$T/umnt"
	echo u >"$T/ulow/f"
	chown -R 1000:1000 "$T/ulow" "$T/umnt"
	chmod 755 "$T"
	cp "$T/suffix-rename.o" "$T/u.o"
	chmod 644 "$T/u.o"
	check "user mount" "${U[@]}" "$R" mount "$T/u.o" "$T/ulow" "$T/umnt"
	same "user reads" u "$("${U[@]}" cat "$T/umnt/f.x")"
	check "user stats" "${U[@]}" "$R" stats "$T/umnt"
	check "user umount" "${U[@]}" "$R" umount "$T/umnt"
else
	echo "skip: unprivileged FUSE (/dev/fuse is not mode 0666)"
fi

# --- SIGTERM unmounts
check "mount" "$R" mount "$T/suffix-rename.o" "$T/low" "$T/mnt"
pid=$(pgrep -n -f "fbpf-run mount $T/suffix-rename.o")
kill -TERM "$pid"
for _ in $(seq 50); do mountpoint -q "$T/mnt" || break; sleep 0.1; done
check "SIGTERM unmounted" bash -c "! mountpoint -q '$T/mnt'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
