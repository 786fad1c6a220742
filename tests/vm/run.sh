#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The VM suite: boot real Debian kernels in qemu with fbpf.ko loaded and run
# the guest suite (module tests, fbpf_fstest in kernel and FUSE mode, and with
# --bench the filesystem benchmark).
#
#   1. a Debian trixie build root made with mmdebstrap, kept between runs
#      ($FBPF_VM_ROOT, default: fbpf-vmroot beside the source tree), with the
#      kernel headers of trixie (6.12) and of trixie-backports (7.x) and both
#      kernels' images unpacked;
#   2. the source tree is copied into the root (/build); the userland is built
#      there with cmake and kmod/ against each kernel's headers;
#   3. one busybox initramfs per kernel: the binaries, the libraries ldd names,
#      the module, the compiled policies, the guest suite and an /init;
#   4. each kernel boots under qemu TCG (one retry when it never reached /init);
#   5. the result lines are counted: "N passed, N failed"; exit 1 on failures.
#
# Usage: tests/vm/run.sh [--bench] [--kernel PATTERN] [--rebuild-root] [--keep]
#   --bench          also run bench/fs in the guest (and print its table)
#   --kernel PAT     boot only the kernels whose version matches the shell pattern
#   --rebuild-root   throw the build root away and make a new one
#   --only TESTS     run only these guest tests (comma-separated names, e.g. module,fstest-fuse)
# Environment: FBPF_VM_ROOT (build root), FBPF_VM_OUT (logs and initramfs,
# default /tmp/fbpf-vm), FBPF_VM_TIMEOUT (seconds per boot, default 1500,
# 3600 with --bench),
# FBPF_VM_MIRROR (Debian mirror).
# Needs root and the host packages mmdebstrap, qemu-system-x86 and cpio.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=${FBPF_VM_ROOT:-$(dirname "$SRC")/fbpf-vmroot}
OUT=${FBPF_VM_OUT:-${TMPDIR:-/tmp}/fbpf-vm}
TIMEOUT=${FBPF_VM_TIMEOUT:-}
MIRROR=${FBPF_VM_MIRROR:-http://deb.debian.org/debian}
BENCH=0
KPAT='*'
REBUILD=0
ONLY=''

while [ $# -gt 0 ]; do
	case $1 in
	--bench) BENCH=1 ;;
	--kernel) KPAT=${2:?--kernel needs a pattern}; shift ;;
	--rebuild-root) REBUILD=1 ;;
	--only) ONLY=${2:?--only needs a list of test names}; shift ;;
	-h|--help) sed -n '3,27p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option '$1': see tests/vm/run.sh --help" >&2; exit 2 ;;
	esac
	shift
done

# seconds per boot: the benchmark under emulation takes a while
[ -n "$TIMEOUT" ] || TIMEOUT=$([ "$BENCH" = 1 ] && echo 3600 || echo 1500)

log() { printf '[vm %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "the VM suite needs root (mmdebstrap and chroot): run it as root"
for t in mmdebstrap qemu-system-x86_64 cpio flock unshare; do
	command -v "$t" >/dev/null ||
		die "$t is missing: apt-get install mmdebstrap qemu-system-x86 cpio (scripts/setup.sh does)"
done
case $ROOT in
"$SRC"|"$SRC"/*) die "FBPF_VM_ROOT=$ROOT is inside the source tree: choose a path outside it" ;;
esac

# Packages of the build root. Changing this list (or root-setup.sh) updates
# an existing root in place.
PKGS="gcc make libc6-dev clang llvm libbpf-dev bpftool dwarves linux-headers-cloud-amd64
 libfuse3-dev fuse3 pkg-config busybox-static flex bison check cmake xz-utils cpio
 libelf-dev zlib1g-dev kmod"
STAMP_WANT=$(printf '%s\n' "$PKGS" | cat - "$SRC/tests/vm/root-setup.sh" | md5sum | cut -c1-32)
STAMP=$ROOT/var/lib/fbpf-kernels/.stamp

# Run a shell command inside the root, with /proc and /dev in a private mount
# namespace (nothing to clean up if we die).
in_root() {
	unshare -m --propagation private sh -c '
		r=$1; shift
		mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" &&
		mount -t tmpfs tmpfs "$r/tmp" && exec chroot "$r" /usr/bin/env -i \
			PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 /bin/sh -c "$@"
	' sh "$ROOT" "$@"
}

# ---- 1. the build root ---------------------------------------------------
make_root() {
	mkdir -p "$(dirname "$ROOT")"
	exec 9>"$ROOT.lock"
	if ! flock -n 9; then
		log "another run is building $ROOT (see $ROOT.lock): waiting for it"
		flock 9
	fi
	echo "pid $$ building $ROOT since $(date)" >&9
	# Only ever delete a root this script made (it carries the stamp).
	if [ -e "$ROOT" ] && [ ! -f "$STAMP" ]; then
		die "$ROOT exists but was not made by tests/vm/run.sh: remove it or set FBPF_VM_ROOT to another path"
	fi
	if [ "$REBUILD" = 1 ]; then
		rm -rf "$ROOT"
		REBUILD=0
	fi
	if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_WANT" ]; then
		: # up to date (a concurrent run made it)
	elif [ -d "$ROOT/usr" ] && [ -f "$STAMP" ]; then
		log "updating the build root $ROOT in place"
		in_root "apt-get -q update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(echo $PKGS) >/dev/null" ||
			die "could not update the build root: delete $ROOT or run with --rebuild-root"
		cp "$SRC/tests/vm/root-setup.sh" "$ROOT/tmp-root-setup.sh"
		in_root "sh /tmp-root-setup.sh" || die "could not add the kernels to $ROOT"
		rm -f "$ROOT/tmp-root-setup.sh"
		echo "$STAMP_WANT" >"$STAMP"
	else
		log "building the trixie build root in $ROOT (about 1 GB, a few minutes)"
		rm -rf "$ROOT.new"
		mmdebstrap --variant=apt --skip=cleanup/apt/lists --quiet \
			--include="$(echo $PKGS | tr ' ' ',')" \
			--customize-hook="copy-in $SRC/tests/vm/root-setup.sh /tmp" \
			--customize-hook='chroot "$1" sh /tmp/root-setup.sh' \
			trixie "$ROOT.new" \
			"deb $MIRROR trixie main" "deb $MIRROR trixie-backports main" ||
			die "mmdebstrap failed (network, or the mirror $MIRROR): see the messages above"
		echo "$STAMP_WANT" >"$ROOT.new/var/lib/fbpf-kernels/.stamp"
		mv -T "$ROOT.new" "$ROOT"
	fi
	flock -u 9
	exec 9>&-
	rm -f "$ROOT.lock"
}

T0=$(date +%s)
if [ "$REBUILD" = 1 ] || [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$STAMP_WANT" ]; then
	t=$(date +%s)
	make_root
	log "build root ready in $(($(date +%s) - t)) s"
fi

KVERS=()
for d in "$ROOT"/var/lib/fbpf-kernels/*/; do
	k=$(basename "$d")
	# shellcheck disable=SC2053
	[[ $k == $KPAT ]] || continue
	[ -f "$d/vmlinuz" ] && [ -d "$ROOT/usr/src/linux-headers-$k" ] && KVERS+=("$k")
done
[ ${#KVERS[@]} -gt 0 ] || die "no kernel in $ROOT matches '$KPAT'"
log "kernels: ${KVERS[*]}"

# ---- 2. build in the root ---------------------------------------------------
mkdir -p "$OUT"
exec 8>"$ROOT/.fbpf-build.lock"
flock 8 # one build in the root at a time; boots run in parallel
t=$(date +%s)
rm -rf "$ROOT/build"
mkdir -p "$ROOT/build"
# tar keeps the mtimes, so the cmake build in /var/tmp/fbpf-build stays incremental.
tar -C "$SRC" --exclude=./.git --exclude='./build' --exclude='./build-*' -cf - . | tar -C "$ROOT/build" -xf -
in_root "sh /build/tests/vm/guest-build.sh ${KVERS[*]}" >"$OUT/build.log" 2>&1 || {
	tail -n 40 "$OUT/build.log" >&2
	die "building fbpf in the root failed: the whole log is $OUT/build.log"
}
log "userland and module built in the root in $(($(date +%s) - t)) s (log: $OUT/build.log)"
grep '^BUILD FAILED' "$OUT/build.log" >&2 && log "some parts did not build: their guest tests will fail (see $OUT/build.log)"

# ---- 3. one initramfs per kernel --------------------------------------------
STAGE=$ROOT/var/tmp/fbpf-stage   # made by guest-build.sh: bin/, policies/, vmpolicies/, fbpftest/, kmod-$KVER/
pack_initrd() {
	local kver=$1
	local dir=$OUT/initrd-$kver
	rm -rf "$dir"
	mkdir -p "$dir"/{bin,sbin,etc,proc,sys,dev,tmp,run,mnt,root,lib/modules,fbpf}
	cp "$ROOT/usr/bin/busybox" "$dir/bin/busybox"
	cp -a "$STAGE/bin" "$STAGE/policies" "$STAGE/vmpolicies" "$STAGE/fbpftest" "$dir/fbpf/"
	[ ! -d "$STAGE/benchpolicies" ] || cp -a "$STAGE/benchpolicies" "$dir/fbpf/"
	cp "$STAGE/kmod-$kver/fbpf.ko" "$dir/lib/modules/fbpf.ko" 2>/dev/null || true
	cp "$SRC"/tests/vm/guest/*.sh "$dir/fbpf/"
	# the example handler (a POSIX sh script) that the examples tests run
	mkdir -p "$dir/fbpf/examples"
	cp -a "$SRC/examples/handler" "$dir/fbpf/examples/"
	cp "$SRC/tests/vm/init" "$dir/init"
	chmod 755 "$dir/init"
	# the libraries the binaries need, as ldd in the root names them
	local libs
	libs=$(in_root "for f in /var/tmp/fbpf-stage/bin/* /usr/bin/fusermount3; do ldd \$f 2>/dev/null; done" |
		awk '/=> \// { print $3 } /^[ \t]*\/[^ ]*ld-linux/ { print $1 }' | sort -u)
	for l in $libs; do
		mkdir -p "$dir$(dirname "$l")"
		cp -L "$ROOT$l" "$dir$l"
	done
	cp "$ROOT/usr/bin/fusermount3" "$dir/bin/"
	mkdir -p "$dir/lib64"
	[ -e "$dir/lib64/ld-linux-x86-64.so.2" ] || cp -L "$ROOT/lib64/ld-linux-x86-64.so.2" "$dir/lib64/"
	# kernel modules the guest needs that this kernel builds as modules
	local m
	for m in fuse overlay; do
		local ko
		ko=$(find "$ROOT/var/lib/fbpf-kernels/$kver/modules" -name "$m.ko*" 2>/dev/null | head -n 1)
		[ -n "$ko" ] || continue
		case $ko in
		*.xz) xz -dc "$ko" >"$dir/lib/modules/$m.ko" ;;
		*.zst) zstd -dc "$ko" >"$dir/lib/modules/$m.ko" ;;
		*) cp "$ko" "$dir/lib/modules/$m.ko" ;;
		esac
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/tmp:/bin/sh\nbob:x:1001:1001::/tmp:/bin/sh\n' >"$dir/etc/passwd"
	printf 'root:x:0:\nalice:x:1000:\nbob:x:1001:\n' >"$dir/etc/group"
	{
		echo "KVER=$kver"
		echo "BENCH=$BENCH"
		echo "ONLY=$ONLY"
	} >"$dir/fbpf/config"
	(cd "$dir" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT/initrd-$kver.gz"
}
t=$(date +%s)
for k in "${KVERS[@]}"; do pack_initrd "$k"; done
flock -u 8
exec 8>&-
log "initramfs packed in $(($(date +%s) - t)) s"

# ---- 4. boot -----------------------------------------------------------------
# The console (ttyS0) carries the result lines; the guest copies the whole
# kernel log (every level) to ttyS1, kept in kmsg-KVER.log for diagnosis.
# The kernels boot in parallel (each guest is one emulated CPU): at most
# FBPF_VM_JOBS at a time, default the number of host CPUs.
JOBS=${FBPF_VM_JOBS:-$(nproc)}
boot() { # runs in a subshell of its own
	local kver=$1 try console=$OUT/console-$1.log
	QEMU_PID=
	trap '[ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null' EXIT
	trap 'exit 143' TERM INT
	for try in 1 2; do
		local t rc=0
		t=$(date +%s)
		timeout --foreground --kill-after=10 "$TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max \
			-m 2048 -smp 1 -nographic -no-reboot -nodefaults -display none \
			-serial stdio -serial "file:$OUT/kmsg-$kver.log" \
			-kernel "$ROOT/var/lib/fbpf-kernels/$kver/vmlinuz" -initrd "$OUT/initrd-$kver.gz" \
			-append "console=ttyS0 quiet panic=-1 oops=panic" </dev/null >"$console" 2>&1 &
		QEMU_PID=$!
		wait "$QEMU_PID" || rc=$?
		QEMU_PID=
		# drop carriage returns and the firmware's terminal escapes
		sed 's/\r//g; s/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[c]//g' "$console" >"$console.tmp" &&
			mv "$console.tmp" "$console"
		log "$kver: boot $try took $(($(date +%s) - t)) s (qemu exit $rc; console: $console)"
		grep -q 'FBPF-INIT-REACHED' "$console" && return 0
		log "$kver: the guest never reached /init$([ $try = 1 ] && echo ': booting again')"
	done
	return 1
}

BAD_KMSG='WARNING:|BUG:|kernel BUG at|Oops|general protection|refcount_t:|list_(add|del) corruption|UBSAN|KASAN|INFO: task .* blocked|possible circular|soft lockup|hard LOCKUP'
PASS=0
FAIL=0
trap 'kill $(jobs -p) 2>/dev/null' EXIT
running=0
for k in "${KVERS[@]}"; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n || true
		running=$((running - 1))
	fi
	boot "$k" &
	running=$((running + 1))
done
wait || true
trap - EXIT
for k in "${KVERS[@]}"; do
	c=$OUT/console-$k.log
	p=$(grep -c '^FBPF-RESULT PASS ' "$c" || true)
	f=$(grep -c '^FBPF-RESULT FAIL ' "$c" || true)
	grep '^FBPF-RESULT FAIL ' "$c" | sed "s/^FBPF-RESULT FAIL /FAIL [$k] /" >&2 || true
	if ! grep -q '^FBPF-DONE' "$c"; then
		echo "FAIL [$k] the guest suite did not finish (crash, oops or timeout): last lines of $c:" >&2
		grep -v '^FBPF-RESULT' "$c" | tail -n 25 >&2
		f=$((f + 1))
	fi
	# the first kernel complaint, with its trace, from the full kernel log
	if [ "$f" -gt 0 ] && grep -Eq "$BAD_KMSG" "$OUT/kmsg-$k.log" 2>/dev/null; then
		echo "[$k] the kernel log ($OUT/kmsg-$k.log) shows:" >&2
		grep -E -m 1 -A 40 "$BAD_KMSG" "$OUT/kmsg-$k.log" >&2
	fi
	if [ "$BENCH" = 1 ]; then
		echo "bench/fs in the guest, kernel $k (ratios to native tmpfs in this same run):"
		sed -n 's/^FBPF-BENCH //p' "$c" | tee "$OUT/bench-$k.md"
	fi
	echo "kernel $k: $p passed, $f failed"
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
done
log "whole VM suite: $(($(date +%s) - T0)) s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
