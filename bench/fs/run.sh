#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The filesystem benchmark: the same workloads on a tmpfs (native) and on
# views of it (bindfs, overlayfs, fbpf with a pass-through policy, fbpf with
# 1,000 rules, libfuse's passthrough_ll), in one run, as a markdown table
# with ratios to native. POSIX sh: it runs in a busybox guest too. Needs root.
#
# Environment:
#   FSBENCH              the fsbench binary (required)
#   FBPF_RUN             fbpf-run; without it the fbpf rows are left out
#   FBPF_BENCH_POLICIES  directory with passthrough.o and rules1000.o
#   FBPF_MODES           engines to measure, e.g. "fuse kernel" (default: auto)
#   BINDFS               bindfs (default: from PATH; left out if missing)
#   PASSTHROUGH_LL       libfuse's passthrough_ll example (left out if missing)
#   REPS                 repetitions of each workload per mount (default 3): the first, and the median of the rest
#   ROUNDS               rounds over all the configurations (default 1); the table gives the
#                        median over the rounds, so that a machine whose speed drifts during the
#                        run weighs on every column alike
#   OUT                  also write the table to this file
set -eu

say() { printf 'fsbench: %s\n' "$*" >&2; }

[ -n "${FSBENCH:-}" ] && [ -x "$FSBENCH" ] || { say "set FSBENCH to the fsbench binary (cmake --build BUILD --target fsbench)"; exit 2; }
if [ "$(id -u)" != 0 ]; then
	say "skipped: the benchmark mounts a tmpfs and views of it, which needs root"
	exit 77
fi
# FUSE daemons may keep a file descriptor per inode they know: let them.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
REPS=${REPS:-3}
ROUNDS=${ROUNDS:-1}
FBPF_MODES=${FBPF_MODES:-auto}
BINDFS=${BINDFS:-$(command -v bindfs || true)}
PASSTHROUGH_LL=${PASSTHROUGH_LL:-}

work=$(mktemp -d /tmp/fsbench.XXXXXX)
results=$work.results
lower=$work/lower
mnt=$work/mnt

unmount_view() {
	if [ -n "${1:-}" ] && [ -n "${FBPF_RUN:-}" ] && "$FBPF_RUN" umount "$mnt" 2>/dev/null; then
		return 0
	fi
	fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
}
cleanup() {
	unmount_view fbpf
	umount "$work" 2>/dev/null || umount -l "$work" 2>/dev/null || true
	rmdir "$work" 2>/dev/null || true
	rm -f "$results"
}
trap cleanup EXIT INT TERM

mount -t tmpfs -o size=1200m fsbench "$work"
mkdir "$lower" "$mnt"
say "making the data set (10k files, a 256 MiB file, a 20k-entry tree) on a tmpfs"
"$FSBENCH" setup "$lower"
: > "$results"

measure() { # CONFIG DIR
	say "measuring $1"
	"$FSBENCH" run "$2" "$1" "$REPS" >> "$results" || say "$1: a workload failed; its row is incomplete"
}

one_round() {
	measure native "$lower"

	if [ -n "$BINDFS" ] && [ -x "$BINDFS" ]; then
		if "$BINDFS" "$lower" "$mnt"; then
			measure bindfs "$mnt"
			unmount_view
		else
			say "bindfs could not mount; its column is left out"
		fi
	else
		say "bindfs is not installed; its column is left out"
	fi

	# overlayfs with an empty lower layer and the data set as its upper layer:
	# the kernel's own stacked filesystem over the same tmpfs, as a reference
	# for what stacking costs without any policy.
	if grep -qw overlay /proc/filesystems 2>/dev/null; then
		mkdir -p "$work/ovl-empty" "$work/ovl-work"
		if mount -t overlay fsbench-ovl -o "lowerdir=$work/ovl-empty,upperdir=$lower,workdir=$work/ovl-work" "$mnt"; then
			measure overlayfs "$mnt"
			unmount_view
		else
			say "overlayfs could not mount; its column is left out"
		fi
	else
		say "this kernel has no overlayfs; its column is left out"
	fi

	if [ -n "${FBPF_RUN:-}" ] && [ -x "$FBPF_RUN" ]; then
		pol=${FBPF_BENCH_POLICIES:-}
		for mode in $FBPF_MODES; do
			for p in passthrough rules1000; do
				if [ ! -f "$pol/$p.o" ]; then
					say "no $pol/$p.o: build the bench-fs policies (cmake --build BUILD --target fsbench_policies)"
					continue
				fi
				if "$FBPF_RUN" mount "$pol/$p.o" "$lower" "$mnt" --mode "$mode"; then
					measure "fbpf-$mode-$p" "$mnt"
					unmount_view fbpf
				else
					say "fbpf-run could not mount $p.o in $mode mode; its column is left out"
				fi
			done
		done
	else
		say "FBPF_RUN is not set to fbpf-run; the fbpf columns are left out"
	fi

	if [ -n "$PASSTHROUGH_LL" ] && [ -x "$PASSTHROUGH_LL" ]; then
		if "$PASSTHROUGH_LL" -o source="$lower" "$mnt"; then
			measure passthrough_ll "$mnt"
			unmount_view
		else
			say "passthrough_ll could not mount; its column is left out"
		fi
	fi

}

round=1
while [ "$round" -le "$ROUNDS" ]; do
	[ "$ROUNDS" = 1 ] || say "round $round of $ROUNDS"
	one_round
	round=$((round + 1))
done

if [ -n "${OUT:-}" ]; then
	"$FSBENCH" report "$results" | tee "$OUT"
else
	"$FSBENCH" report "$results"
fi
