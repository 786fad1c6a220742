#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest suite (runs as /init's child in the VM): every test prints
#   FBPF-RESULT PASS name
#   FBPF-RESULT FAIL name: why
# and the host counts these lines. $ONLY (comma-separated group names) limits
# the groups run: boot, module, fstest-kernel, fstest-fuse, dmesg, bench.
# Each group runs with a deadline (see group() in lib.sh).
. /fbpf/lib.sh

want boot && {
	case $(uname -r) in
	"$KVER") pass boot ;;
	*) fail boot "booted $(uname -r), expected $KVER" ;;
	esac
}
want module && group module 600 sh -c '. /fbpf/lib.sh; . /fbpf/module.sh'
want fstest-kernel && group fstest-kernel 900 run_fstest kernel
want fstest-fuse && group fstest-fuse 900 run_fstest fuse
[ "$BENCH" = 1 ] && want bench && group bench 2400 sh -c '. /fbpf/lib.sh; . /fbpf/bench.sh'
want dmesg && check_dmesg dmesg-clean
