#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Quick check of fbpf.ko in a qemu guest (TCG, one CPU), for module work.
# The project's VM tests are in tests/vm; this is the module's smoke test.
#
#   smoke-vm.sh ROOT KVER VMLINUZ POLICIES_DIR
#
# ROOT: a Debian trixie build root with gcc, make, libbpf-dev, dwarves,
#       busybox-static and linux-headers-KVER (see docs/kernel-mode.md).
# POLICIES_DIR: t1.o and t1b.o compiled by fbpfc from the .fbp
#       files next to this script.
set -eu
ROOT=$1 KVER=$2 VMLINUZ=$3 POL=$4
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$ROOT/build-kmod-smoke
rm -rf "$work"
mkdir -p "$work/kmod/tools" "$work/stdlib"
cp "$src"/kmod/Kbuild "$src"/kmod/Makefile "$src"/kmod/conftest.sh "$src"/kmod/*.[ch] "$work/kmod/"
cp "$src"/kmod/tools/fbpf-load.c "$work/kmod/tools/"
cp "$src"/stdlib/fbpf_abi.h "$work/stdlib/"

mounted=0
mountpoint -q "$ROOT/proc" || { mount -t proc proc "$ROOT/proc"; mounted=1; }
chroot "$ROOT" make -s -C "/usr/src/linux-headers-$KVER" M=/build-kmod-smoke/kmod modules
chroot "$ROOT" sh -c 'cd /build-kmod-smoke/kmod/tools &&
	gcc -O2 -Wall -Wextra -I../../stdlib fbpf-load.c -lbpf -o fbpf-load &&
	printf "%s\n" "#include <grp.h>" "#include <stdlib.h>" "#include <unistd.h>" \
	"int main(int c, char **v) { gid_t g = atoi(v[2]); (void)c;" \
	"if (setgroups(1, &g) || setgid(g) || setuid(atoi(v[1]))) return 126;" \
	"execv(v[3], v + 3); return 127; }" > runas.c &&
	gcc -O2 -static runas.c -o runas &&
	printf "%s\n" "#define _GNU_SOURCE" "#include <fcntl.h>" "#include <stdio.h>" \
	"#include <stdlib.h>" "#include <unistd.h>" "#include <sys/syscall.h>" \
	"int main(int c, char **v) { (void)c; if (syscall(SYS_renameat2, AT_FDCWD, v[1]," \
	"AT_FDCWD, v[2], atoi(v[3]))) { perror(\"rename2\"); return 1; } return 0; }" > rename2.c &&
	gcc -O2 -static rename2.c -o rename2'
[ $mounted = 1 ] && umount "$ROOT/proc"

init=$work/initramfs
mkdir -p "$init/bin" "$init/p" "$init/proc" "$init/sys" "$init/dev" "$init/tmp"
cp "$ROOT/bin/busybox" "$init/bin/"
for t in $(chroot "$ROOT" /bin/busybox --list); do
	[ "$t" = busybox ] || ln -sf busybox "$init/bin/$t"
done
cp "$work/kmod/fbpf.ko" "$init/"
cp "$work/kmod/tools/fbpf-load" "$work/kmod/tools/runas" "$work/kmod/tools/rename2" "$init/bin/"
for lib in $(chroot "$ROOT" ldd /build-kmod-smoke/kmod/tools/fbpf-load | grep -o '/[^ ]*'); do
	mkdir -p "$init$(dirname "$lib")"
	cp -L "$ROOT$lib" "$init$lib"
done
cp "$POL"/t1.o "$POL"/t1b.o "$init/p/"
cp "$here/smoke-guest.sh" "$init/init"
chmod +x "$init/init"
(cd "$init" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$work/initrd.gz"

timeout 600 qemu-system-x86_64 -accel tcg -cpu max -m 2048 -smp 1 -nographic -no-reboot \
	-kernel "$VMLINUZ" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1 oops=panic" | tee "$work/console.log"
grep -q "smoke: done" "$work/console.log"
! grep -q "^FAIL" "$work/console.log"
