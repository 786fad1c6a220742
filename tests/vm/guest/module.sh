#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Module tests (sourced by suite.sh). They leave fbpf.ko loaded for the
# kernel-mode behavioural suite that follows.
KO=/lib/modules/fbpf.ko
RUN=/fbpf/bin/fbpf-run
VT=/fbpf/bin/fbpf_vmtest
VP=/fbpf/vmpolicies
T=/tmp/mod

# rmmod, retried for a few seconds: a struct_ops link is released
# asynchronously after its last user goes away.
rmmod_retry() {
	i=0
	while ! rmmod fbpf 2>/dev/null; do
		i=$((i + 1))
		[ $i -ge 50 ] && return 1
		sleep 0.1
	done
	[ ! -d /sys/module/fbpf ]
}
ensure_loaded() {
	[ -d /sys/module/fbpf ] || insmod $KO
}
# The pid of the daemon serving mount point $1.
daemon_pid() {
	for p in /proc/[0-9]*; do
		c=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		case $c in
		*fbpf-run\ mount\ *" $1 "*) echo "${p#/proc/}"; return 0 ;;
		esac
	done
	return 1
}
is_mounted() {
	grep -q " $1 fbpf " /proc/mounts
}
# fresh lower and mount point
fresh() {
	umount "$T/mnt" 2>/dev/null
	rm -rf "$T"
	mkdir -p "$T/lower" "$T/mnt"
}
kmount() { # POLICY [args...]
	pol=$1
	shift
	"$RUN" mount "$VP/$pol.o" "$T/lower" "$T/mnt" --mode kernel "$@" >"$T.mount.log" 2>&1
}
mount_log() { tail -n 3 "$T.mount.log" 2>/dev/null | tr '\n' ' '; }

if [ ! -f $KO ]; then
	fail module-insmod "fbpf.ko was not built for $KVER (see build.log on the host)"
	return 0
fi
if out=$(insmod $KO 2>&1); then
	pass module-insmod
else
	fail module-insmod "insmod fbpf.ko: $out $(dmesg | tail -n 3 | tr '\n' ' ')"
	return 0
fi
check module-sysfs-and-dev sh -c 'test -d /sys/module/fbpf && test -c /dev/fbpf'
check module-btf test -f /sys/kernel/btf/fbpf
if rmmod_retry && out=$(insmod $KO 2>&1); then
	pass module-rmmod-insmod
else
	fail module-rmmod-insmod "could not unload and load fbpf.ko again: $out"
	ensure_loaded
fi

# ---- the verifier rules: programs may write only the outputs of fbpf_args
if [ ! -x $VT ]; then
	fail verifier "fbpf_vmtest was not built"
else
	if out=$($VT attach /fbpf/fbpftest/ok_output.o 2>&1); then
		pass verifier-accepts-output-writes
	else
		fail verifier-accepts-output-writes "a program writing only outputs was refused: $(echo "$out" | tail -n 4 | tr '\n' ' ')"
	fi
	for b in bad_input bad_oob; do
		if out=$($VT attach /fbpf/fbpftest/$b.o 2>&1); then
			fail "verifier-rejects-$b" "the module accepted and attached tests/vm/bpf/$b.bpf.c"
		else
			case $out in
			*"load failed"*) pass "verifier-rejects-$b" ;;
			*) fail "verifier-rejects-$b" "expected the verifier to refuse it, got: $(echo "$out" | tail -n 3 | tr '\n' ' ')" ;;
			esac
		fi
	done
fi

if [ ! -x $RUN ]; then
	fail module-kernel-mode "fbpf-run was not built: no kernel-mode mount tests"
	return 0
fi

# ---- load + attach + mount + unmount + unload
fresh
echo public >"$T/lower/public"
echo a >"$T/lower/a_secret"
if kmount vm_reload_a && is_mounted "$T/mnt"; then
	pass mount-kernel-mode
	ok=1
	[ "$(cat "$T/mnt/public" 2>&1)" = public ] || { ok=0; why="public reads '$(cat "$T/mnt/public" 2>&1)'"; }
	[ -e "$T/mnt/a_secret" ] && { ok=0; why="a_secret is visible"; }
	ls "$T/mnt" | grep -q a_secret && { ok=0; why="a_secret is listed"; }
	[ $ok = 1 ] && pass mount-view-follows-policy || fail mount-view-follows-policy "$why"
	# per-rule statistics come from the BPF side (map fbpf_hits)
	stats=$("$RUN" stats "$T/mnt" 2>&1)
	hits=$(echo "$stats" | awk '$1 == 1 { print $3 }')
	[ "${hits:-0}" -ge 1 ] 2>/dev/null && pass stats-count-hits ||
		fail stats-count-hits "rule 1 (hide /a_secret) shows '$hits' hits after lookups of a_secret: $(echo "$stats" | tail -n 3 | tr '\n' ' ')"
	if rmmod fbpf 2>/dev/null; then
		fail module-busy-while-mounted "rmmod succeeded while a view was mounted"
		insmod $KO
	else
		pass module-busy-while-mounted
	fi
	pid=$(daemon_pid "$T/mnt")
	if out=$("$RUN" umount "$T/mnt" 2>&1) && ! is_mounted "$T/mnt"; then
		pass umount-kernel-mode
	else
		fail umount-kernel-mode "fbpf-run umount: $out"
		umount -l "$T/mnt"
	fi
	i=0
	while [ -n "$pid" ] && [ -d "/proc/$pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -n "$pid" ] && [ -d "/proc/$pid" ] && fail daemon-exits-after-umount "fbpf-run ($pid) still runs 10 s after the unmount" ||
		pass daemon-exits-after-umount
	if rmmod_retry; then pass module-unload-after-use; else fail module-unload-after-use "rmmod fbpf kept failing: $(rmmod fbpf 2>&1)"; fi
	ensure_loaded
else
	fail mount-kernel-mode "fbpf-run mount --mode kernel failed: $(mount_log)"
fi

# ---- one policy on two mounts at once (the module keys policies by name)
fresh
echo a >"$T/lower/a_secret"
echo public >"$T/lower/public"
mkdir -p "$T/mnt2"
if kmount vm_reload_a && "$RUN" mount "$VP/vm_reload_a.o" "$T/lower" "$T/mnt2" --mode kernel >"$T.mount.log" 2>&1; then
	if [ "$(cat "$T/mnt2/public" 2>&1)" = public ] && [ ! -e "$T/mnt2/a_secret" ] &&
		[ "$(cat "$T/mnt/public" 2>&1)" = public ] && [ ! -e "$T/mnt/a_secret" ]; then
		pass same-policy-two-mounts
	else
		fail same-policy-two-mounts "the two views do not both follow the policy"
	fi
else
	fail same-policy-two-mounts "mounting policy vm_reload_a a second time failed: $(mount_log)"
fi
for m in "$T/mnt2" "$T/mnt"; do
	! is_mounted "$m" || "$RUN" umount "$m" >/dev/null 2>&1 || umount -l "$m"
done

# ---- reload of a live mount's policy under load
fresh
echo public >"$T/lower/public"
echo a >"$T/lower/a_secret"
echo b >"$T/lower/b_secret"
if kmount vm_reload_a; then
	[ -e "$T/mnt/b_secret" ] && [ ! -e "$T/mnt/a_secret" ] || fail reload-before "policy a does not hide a_secret only"
	$VT loop "$T/mnt/public" 10 >"$T.loop" 2>&1 &
	lpid=$!
	sleep 2
	set -- "$RUN" reload
	if out=$("$@" "$T/mnt" "$VP/vm_reload_b.o" 2>&1); then
		wait $lpid
		ok=1
		why=
		[ -e "$T/mnt/a_secret" ] || { ok=0; why="$why a_secret still hidden after the reload;"; }
		[ -e "$T/mnt/b_secret" ] && { ok=0; why="$why b_secret visible after the reload;"; }
		ls "$T/mnt" | grep -q b_secret && { ok=0; why="$why b_secret listed;"; }
		grep -q '^reads [1-9][0-9]* errors 0 ' "$T.loop" || { ok=0; why="$why the reader under load saw: $(cat "$T.loop");"; }
		[ $ok = 1 ] && pass reload-under-load || fail reload-under-load "$why"
	else
		wait $lpid
		fail reload-under-load "$* failed: $out"
	fi
	"$RUN" umount "$T/mnt" >/dev/null 2>&1 || umount -l "$T/mnt"
else
	fail reload-under-load "fbpf-run mount --mode kernel failed: $(mount_log)"
fi

# ---- the daemon dies while an operation waits for it: the waiter fails
# at once with ENOTCONN (107), not after the (60 s) timeout with ETIMEDOUT
fresh
mkdir "$T/lower/slow"
echo x >"$T/lower/slow/f"
if kmount vm_defer -o defer_timeout_ms=60000; then
	first=$($VT open "$T/mnt/slow/f")
	[ "$first" = "errno 0" ] && pass defer-answered || fail defer-answered "open of a deferred path with a live daemon: $first"
	pid=$(daemon_pid "$T/mnt")
	if [ -z "$pid" ]; then
		fail daemon-killed "cannot find the daemon serving $T/mnt"
	else
		kill -STOP "$pid"
		timeout 50 $VT open "$T/mnt/slow/f" >"$T.waiter" 2>&1 &
		wpid=$!
		sleep 2
		kill -KILL "$pid"
		wait $wpid
		got=$(cat "$T.waiter")
		[ "$got" = "errno 107" ] && pass daemon-killed-waiter-fails ||
			fail daemon-killed-waiter-fails "the waiting open gave '$got', want 'errno 107' (ENOTCONN)"
		got=$(timeout 50 $VT open "$T/mnt/slow/f" 2>&1)
		[ "$got" = "errno 107" ] && pass daemon-killed-later-ops-fail ||
			fail daemon-killed-later-ops-fail "an open after the daemon died gave '$got', want 'errno 107'"
		if out=$(umount "$T/mnt" 2>&1) && ! is_mounted "$T/mnt"; then
			pass daemon-killed-umount
		else
			fail daemon-killed-umount "umount after the daemon died: $out"
			umount -l "$T/mnt"
		fi
		rmmod_retry && pass daemon-killed-module-unloads ||
			fail daemon-killed-module-unloads "rmmod fbpf kept failing: $(rmmod fbpf 2>&1)"
		ensure_loaded
	fi
else
	fail daemon-killed "fbpf-run mount --mode kernel failed: $(mount_log)"
fi

# ---- a rename moves a cached entry under a name whose answer depends on the
# caller (policy callers: hide "/home/*" unless uid == owner or uid == 0): the
# entry must not keep, for other callers, the answer it had at its old name.
# access(F_OK) runs no filter of its own: only the lookup can refuse it.
fresh
mkdir "$T/lower/home" "$T/lower/x"
echo root >"$T/lower/x/f"
if "$RUN" mount /fbpf/policies/callers.o "$T/lower" "$T/mnt" --mode kernel >"$T.mount.log" 2>&1; then
	ok=1
	why=
	got=$($VT as 1000 access "$T/mnt/x/f")
	[ "$got" = "errno 0" ] || { ok=0; why="$why uid 1000 got '$got' for x/f before the rename;"; }
	[ -e "$T/mnt/x/f" ] || { ok=0; why="$why root cannot see x/f;"; }
	if mv "$T/mnt/x/f" "$T/mnt/home/f"; then
		for op in access stat; do
			got=$($VT as 1000 $op "$T/mnt/home/f")
			[ "$got" = "errno 2" ] || { ok=0; why="$why $op as uid 1000 got '$got' for home/f (root's) after the rename, want errno 2;"; }
		done
		[ -e "$T/mnt/home/f" ] || { ok=0; why="$why root cannot see home/f after the rename;"; }
		got=$($VT as 1000 access "$T/mnt/home/f")
		[ "$got" = "errno 2" ] || { ok=0; why="$why uid 1000 got '$got' for home/f after root looked at it, want errno 2;"; }
	else
		ok=0
		why="$why mv x/f home/f failed in the view;"
	fi
	[ $ok = 1 ] && pass caller-answer-after-rename || fail caller-answer-after-rename "$why"
	"$RUN" umount "$T/mnt" >/dev/null 2>&1 || umount -l "$T/mnt"
else
	fail caller-answer-after-rename "fbpf-run mount --mode kernel failed: $(mount_log)"
fi

# ---- concurrent stress: nothing lost, nothing in the kernel log
fresh
if kmount vm_stress; then
	if out=$($VT stress "$T/mnt" "$T/lower" 4 40 2>&1); then
		pass stress-kernel-mode
	else
		fail stress-kernel-mode "$(echo "$out" | head -n 5 | tr '\n' ' ')"
	fi
	"$RUN" umount "$T/mnt" >/dev/null 2>&1 || umount -l "$T/mnt"
	check_dmesg stress-dmesg-clean
else
	fail stress-kernel-mode "fbpf-run mount --mode kernel failed: $(mount_log)"
fi
rm -rf "$T"
ensure_loaded
