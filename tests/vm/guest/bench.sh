#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The filesystem benchmark in the guest (run.sh --bench; sourced by suite.sh):
# bench/fs's driver over native tmpfs, kernel mode (pass-through and 1,000
# rules) and FUSE mode, all in this one guest run so that the ratios to
# native mean something under emulation. Lines starting FBPF-BENCH are the
# table the host prints.
if [ ! -x /fbpf/bin/fsbench ] || [ ! -f /fbpf/bin/fsbench.sh ]; then
	fail bench "bench/fs (fsbench and its driver run.sh) was not built"
	return 0
fi
[ -d /sys/module/fbpf ] || insmod /lib/modules/fbpf.ko 2>/dev/null
# overlayfs, the kernel's own stacked filesystem, as a reference column
[ -f /lib/modules/overlay.ko ] && insmod /lib/modules/overlay.ko 2>/dev/null
if FSBENCH=/fbpf/bin/fsbench FBPF_RUN=/fbpf/bin/fbpf-run FBPF_BENCH_POLICIES=/fbpf/benchpolicies \
	FBPF_MODES="kernel fuse" REPS=${FBPF_BENCH_REPS:-2} ROUNDS=${FBPF_BENCH_ROUNDS:-3} \
	sh /fbpf/bin/fsbench.sh >/tmp/bench.out 2>/tmp/bench.err; then
	pass bench
else
	fail bench "bench/fs/run.sh failed: $(tail -n 3 /tmp/bench.err | tr '\n' ' ')"
fi
sed 's/^/FBPF-BENCH /' /tmp/bench.out
sed 's/^/FBPF-BENCH-LOG /' /tmp/bench.err
