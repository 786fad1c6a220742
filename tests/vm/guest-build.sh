#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs INSIDE the build root (run.sh copies the source tree to /build first):
# builds the userland with cmake, the BPF test objects and the policies, and
# kmod/ against each kernel given as an argument; stages what the guest needs
# in /var/tmp/fbpf-stage.
set -eu
B=/var/tmp/fbpf-build
S=/var/tmp/fbpf-stage
CLANG="clang -target bpf -O2 -g -D__TARGET_ARCH_x86 -I/build/stdlib -I/usr/include/x86_64-linux-gnu"

rm -rf "$S"
mkdir -p "$S/bin" "$S/policies" "$S/vmpolicies" "$S/fbpftest"

echo "== userland (cmake)"
cmake -S /build -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# The programs the guest runs; a part not written yet is left out (its tests fail in the guest).
avail=$(cmake --build "$B" --target help | sed -n 's/^\.\.\. \([^ ]*\).*/\1/p')
targets=""
for t in fbpfc fbpf-run fbpf_vmtest fbpf_fstest fsbench fsbench_policies; do
	if printf '%s\n' "$avail" | grep -qx "$t"; then
		targets="$targets $t"
	else
		echo "note: no cmake target $t in this tree"
	fi
done
# One target at a time: a part that does not build yet fails only its own tests.
for t in $targets; do
	if ! cmake --build "$B" -j2 --target "$t"; then
		echo "BUILD FAILED: $t"
		[ "$t" = fbpfc ] && exit 1
		continue
	fi
	f=$(find "$B" -type f -name "$t" -perm -u+x | head -n 1)
	[ -z "$f" ] || cp "$f" "$S/bin/"
done
# bench/fs: its driver and policies (passthrough.o, rules1000.o)
if [ -f /build/bench/fs/run.sh ]; then
	cp /build/bench/fs/run.sh "$S/bin/fsbench.sh"
	mkdir -p "$S/benchpolicies"
	cp "$B"/bench/fs/policies/*.o "$S/benchpolicies/" 2>/dev/null || echo "note: no bench/fs policies were built"
fi

echo "== policies"
# fbpf_fstest's policies (tests/fs/fs.cmake compiles them with the test), and
# the VM suite's own (tests/vm/policies/NAME.fbp).
[ ! -d "$B/tests/fs/policies" ] || cp "$B"/tests/fs/policies/*.o "$S/policies/"
mkdir -p "$S/vmpolicies"
for p in /build/tests/vm/policies/*.fbp; do
	"$S/bin/fbpfc" compile "$p" -o "$S/vmpolicies/$(basename "$p" .fbp).o"
done
# Hand-written objects that the module's verifier must refuse (or accept).
for c in /build/tests/vm/bpf/*.bpf.c; do
	[ -f "$c" ] || continue
	$CLANG -c "$c" -o "$S/fbpftest/$(basename "$c" .bpf.c).o"
done

for kver in "$@"; do
	echo "== kmod for $kver"
	if [ ! -f /build/kmod/Makefile ] && [ ! -f /build/kmod/Kbuild ]; then
		echo "note: kmod/ has no Makefile in this tree: no module for $kver"
		continue
	fi
	k=/var/tmp/fbpf-kbuild/$kver
	rm -rf "$k"
	mkdir -p "$k"
	cp -a /build/. "$k/"
	if ! make -s -C "/usr/src/linux-headers-$kver" M="$k/kmod" modules; then
		echo "BUILD FAILED: kmod for $kver"
		continue
	fi
	mkdir -p "$S/kmod-$kver"
	cp "$k/kmod/fbpf.ko" "$S/kmod-$kver/"
done
ls -l "$S/bin" "$S/policies" "$S/vmpolicies" "$S/fbpftest"
