#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Helpers of the guest suite.
pass() { echo "FBPF-RESULT PASS $1"; }
fail() { echo "FBPF-RESULT FAIL $1: $2"; }
# check NAME COMMAND...: pass when the command succeeds, else fail with its output.
check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"
	fi
}
want() {
	[ -z "$ONLY" ] && return 0
	case ",$ONLY," in *",$1,"*) return 0 ;; esac
	return 1
}
# Kernel messages that mean a bug in the module (or under it).
BAD_DMESG='WARNING:|BUG:|kernel BUG at|Oops|general protection|RIP:|Call Trace|refcount_t:|list_(add|del) corruption|UBSAN|KASAN|lockdep|possible circular|INFO: task .* blocked'
check_dmesg() {
	if dmesg | grep -Eq "$BAD_DMESG"; then
		fail "$1" "the kernel log shows: $(dmesg | grep -E "$BAD_DMESG" | head -n 3 | tr '\n' ' ')"
	else
		pass "$1"
	fi
}

# group NAME SECONDS COMMAND...: run a group of tests with a deadline. A
# group that hangs (a process stuck in the kernel) is reported and left
# behind, so that the other groups still run and report.
group() {
	gname=$1
	gsecs=$2
	shift 2
	"$@" &
	gpid=$!
	gwaited=0
	while kill -0 $gpid 2>/dev/null; do
		if [ $gwaited -ge "$gsecs" ]; then
			fail "$gname" "the group did not finish within $gsecs s (hung?); stuck processes: $(ps -o pid,stat,args 2>/dev/null | awk '$2 ~ /D/' | head -n 5 | tr '\n' ' ')"
			return 1
		fi
		sleep 1
		gwaited=$((gwaited + 1))
	done
	wait $gpid
	return 0
}

# Run fbpf_fstest in one mode; one result line per Check test.
run_fstest() {
	mode=$1
	if [ ! -x /fbpf/bin/fbpf_fstest ]; then
		fail "fstest-$mode" "fbpf_fstest was not built (tests/fs missing or broken)"
		return
	fi
	if [ ! -x /fbpf/bin/fbpf-run ]; then
		fail "fstest-$mode" "fbpf-run was not built"
		return
	fi
	mkdir -p "/tmp/fstest-$mode"
	FBPF_RUN=/fbpf/bin/fbpf-run FBPF_MODE=$mode FBPF_POLICY_DIR=/fbpf/policies \
		FBPF_EXAMPLES_DIR=/fbpf/examples \
		FBPF_SCRATCH=/tmp/fstest-$mode CK_VERBOSITY=verbose CK_DEFAULT_TIMEOUT=300 \
		/fbpf/bin/fbpf_fstest >"/tmp/fstest-$mode.log" 2>&1
	rc=$?
	# Check's verbose lines: FILE:LINE:P|F|E:TCASE:TEST:ITER: MESSAGE
	awk -v m="$mode" -F: '
		NF >= 6 && ($3 == "P" || $3 == "F" || $3 == "E") {
			name = "fstest-" m "/" $4 "/" $5
			msg = $0; sub(/^([^:]*:){6} ?/, "", msg)
			if ($3 == "P") print "FBPF-RESULT PASS " name
			else print "FBPF-RESULT FAIL " name ": " $1 ":" $2 ": " msg
			n++
		}
		END { if (!n) exit 1 }' "/tmp/fstest-$mode.log" || {
		fail "fstest-$mode" "fbpf_fstest ran no test (exit $rc): $(tail -n 5 "/tmp/fstest-$mode.log" | tr '\n' ' ')"
		return
	}
	case $rc in
	0|1) ;; # 1: failures, already reported per test
	*) fail "fstest-$mode" "fbpf_fstest exited with status $rc: $(tail -n 3 "/tmp/fstest-$mode.log" | tr '\n' ' ')" ;;
	esac
}
