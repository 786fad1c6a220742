#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs INSIDE the trixie build root (mmdebstrap customize hook, or run.sh when
# the root predates a change): installs the newest trixie-backports kernel
# headers next to trixie's own, and unpacks every installed headers version's
# kernel image (vmlinuz plus modules) under /var/lib/fbpf-kernels/$KVER.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get -q update >/dev/null
meta=$(apt-cache madison linux-headers-cloud-amd64 |
	awk -F'|' '$3 ~ /trixie-backports/ { gsub(/ /, "", $2); print $2; exit }')
bpo_ver=$(apt-cache show "linux-headers-cloud-amd64=$meta" 2>/dev/null |
	sed -n 's/^Depends:.*\(linux-headers-[0-9][^ ,]*-cloud-amd64\).*/\1/p' | head -n 1)
if [ -n "$bpo_ver" ]; then
	apt-get install -y -q --no-install-recommends -t trixie-backports "$bpo_ver" >/dev/null
else
	echo "root-setup: trixie-backports has no cloud kernel headers; only trixie's kernel will be tested" >&2
fi
mkdir -p /var/lib/fbpf-kernels
for d in /usr/src/linux-headers-*-cloud-amd64; do
	kver=${d#/usr/src/linux-headers-}
	out=/var/lib/fbpf-kernels/$kver
	[ -f "$out/vmlinuz" ] && continue
	rm -rf "$out.tmp" && mkdir -p "$out.tmp/deb"
	# From 7.x Debian splits the image: vmlinuz and modules are in
	# linux-binary-$KVER; before, in linux-image-$KVER-unsigned.
	for p in "linux-binary-$kver" "linux-image-$kver-unsigned" "linux-image-$kver"; do
		(cd "$out.tmp/deb" && apt-get download -q "$p" >/dev/null 2>&1) || continue
		for deb in "$out.tmp"/deb/*.deb; do dpkg -x "$deb" "$out.tmp/x"; done
		rm -f "$out.tmp"/deb/*.deb
		vmlinuz=$(find "$out.tmp/x" -name "vmlinuz*" -type f | head -n 1)
		[ -n "$vmlinuz" ] && break
	done
	if [ -z "${vmlinuz:-}" ]; then
		echo "root-setup: no kernel image package with a vmlinuz found for $kver" >&2
		exit 1
	fi
	mv "$vmlinuz" "$out.tmp/vmlinuz"
	moddir=$(find "$out.tmp/x" -type d -path "*/modules/$kver" | head -n 1)
	[ -n "$moddir" ] && mv "$moddir" "$out.tmp/modules"
	rm -rf "$out.tmp/x" "$out.tmp/deb"
	mv "$out.tmp" "$out"
	echo "root-setup: kernel $kver unpacked"
done
apt-get clean
