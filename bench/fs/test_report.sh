#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# fsbench report: one cell per configuration and workload, the median over
# the rounds (one line per round), ratios to native, '-' for what is missing.
# Usage: test_report.sh FSBENCH
set -eu
fsb=$1
t=$(mktemp)
trap 'rm -f "$t"' EXIT
cat >"$t" <<'LINES'
native stat-10k 0.010000 0.020000
view stat-10k 0.050000 0.300000
native stat-10k 0.030000 0.020000
view stat-10k 0.900000 0.200000
native stat-10k 0.020000 0.020000
view stat-10k 0.040000 0.100000
native readdir-10k 0.002000 0.002000
LINES
out=$("$fsb" report "$t")
pass=0 fail=0
expect() { # WHAT PATTERN
	if printf '%s\n' "$out" | grep -qF -- "$2"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		printf 'FAIL %s: no line with "%s" in\n%s\n' "$1" "$2" "$out"
	fi
}
# warm: native median 0.020, view median 0.050 (the 0.9 outlier is not it)
expect "warm medians" "| stat-10k | 0.020 s | 0.050 s (2.5x) |"
# first runs: native 0.020, view median 0.200
expect "first-run medians" "| stat-10k | 0.020 s | 0.200 s (10.0x) |"
expect "missing cell" "| readdir-10k | 0.002 s | - |"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
