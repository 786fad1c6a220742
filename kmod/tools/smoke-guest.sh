#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs as /init in a qemu guest (busybox): loads fbpf.ko and checks one
# mount of each test policy. Prints PASS/FAIL lines and "smoke: done".
# Files: /fbpf.ko /bin/fbpf-load /bin/runas /bin/rename2 /p/{t1,t1b}.o
export PATH=/bin:/sbin

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf 2>/dev/null

pass=0
fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); }
check() { # check NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then ok "$1"; else ko "$1" "expected [$2] got [$3]"; fi
}
# err CMD...: the error text of a failing command ("" if it succeeded)
err() { "$@" >/dev/null 2>/tmp/err && echo "" || sed -n '1s/.*: //p' /tmp/err; }
as_user() { runas 1000 1000 "$@"; }

echo "kernel $(uname -r)"
insmod /fbpf.ko && ok insmod || ko insmod
[ -e /sys/kernel/btf/fbpf ] && ok btf || ko btf "no /sys/kernel/btf/fbpf"
[ -c /dev/fbpf ] && ok dev || ko dev "no /dev/fbpf"

L=/tmp/lower
M=/tmp/mnt
mkdir -p $L/secret $L/m $L/ro $L/gate $L/share $L/nolist $L/d/.cache $L/w $M
echo hello > $L/a.txt
echo s > $L/secret/x
echo jpeg > $L/m/a.jpeg
echo ro > $L/ro/f
echo gate > $L/gate/g
echo share > $L/share/s
chmod 0777 $L/share/s
echo n > $L/nolist/n
echo c > $L/d/.cache/c
chmod -R a+rwX $L

# ---- t1: hide, rename, deny, defer, attr ----
fbpf-load -r /p/t1b.o /p/t1.o $L $M > /tmp/load.log 2>&1 &
LOADER=$!
i=0
while ! grep -q ready /tmp/load.log 2>/dev/null && kill -0 $LOADER 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
grep -q ready /tmp/load.log && ok mount || { ko mount "$(grep -v skipping /tmp/load.log | tail -3)"; }
grep -q "fbpf" /proc/mounts && ok proc-mounts || ko proc-mounts

check read "hello" "$(cat $M/a.txt)"
check ls-root "a.txt d gate m nolist ro share w" "$(ls $M | tr '\n' ' ' | sed 's/ $//')"
check hidden-stat "No such file or directory" "$(err stat $M/secret)"
check hidden-below "No such file or directory" "$(err cat $M/secret/x)"
check hidden-mkdir "Permission denied" "$(err mkdir $M/secret)"
check hidden-create "Permission denied" "$(err touch $M/secret)"
check hidden-rename-onto "Permission denied" "$(err mv $M/a.txt $M/secret)"
check rename-ls "a.jpg" "$(ls $M/m)"
check rename-read "jpeg" "$(cat $M/m/a.jpg)"
check rename-stored-hidden "No such file or directory" "$(err stat $M/m/a.jpeg)"
echo new > $M/m/b.jpg && check rename-create "b.jpeg" "$(ls $L/m | grep b)" || ko rename-create
check deny-write "Read-only file system" "$(err sh -c "echo x > $M/ro/f")"
check deny-write-read "ro" "$(cat $M/ro/f)"
check defer-continue "gate" "$(cat $M/gate/g)"
grep -q "defer op=3 .*path=/gate/g" /tmp/load.log && ok defer-request || ko defer-request "$(cat /tmp/load.log)"
check attr-uid "65534" "$(stat -c %u $M/share/s)"
check attr-mode "555" "$(stat -c %a $M/share/s)"
check attr-lower-unchanged "777" "$(stat -c %a $L/share/s)"
check deny-readdir "Permission denied" "$(err ls $M/nolist)"
check deny-readdir-lookup "n" "$(cat $M/nolist/n)"
check caller-root ".cache" "$(ls -a $M/d | grep cache)"
check caller-user "" "$(as_user /bin/ls -a $M/d | grep cache)"
check caller-user-stat "No such file or directory" "$(err as_user /bin/stat $M/d/.cache)"
check caller-root-again "c" "$(cat $M/d/.cache/c)"
check caller-user-again "No such file or directory" "$(err as_user /bin/cat $M/d/.cache/c)"

# the other operations, through the view
echo data > $M/w/f1 && check create "data" "$(cat $L/w/f1)"
echo more >> $M/w/f1 && check append "data more" "$(cat $L/w/f1 | tr '\n' ' ' | sed 's/ $//')"
mkdir $M/w/dir && [ -d $L/w/dir ] && ok mkdir || ko mkdir
mv $M/w/f1 $M/w/dir/f2 && check rename "data" "$(head -n1 $L/w/dir/f2)" || ko rename
ln -s f2 $M/w/dir/l && check symlink "f2" "$(readlink $M/w/dir/l)" || ko symlink
check follow "data" "$(head -n1 $M/w/dir/l)"
ln $M/w/dir/f2 $M/w/hard && check link "2" "$(stat -c %h $L/w/hard)" || ko link
mkfifo $M/w/fifo && [ -p $L/w/fifo ] && ok mknod || ko mknod
chmod 600 $M/w/hard && check chmod "600" "$(stat -c %a $L/w/hard)" || ko chmod
truncate -s 2 $M/w/hard 2>/dev/null || : > /dev/null
dd if=/dev/zero of=$M/w/big bs=4096 count=16 2>/dev/null && check size "65536" "$(stat -c %s $M/w/big)"
check mmap-read "hello" "$(tail -c +1 $M/a.txt)"
rm $M/w/hard $M/w/fifo $M/w/big && ok unlink || ko unlink
rm -r $M/w/dir && [ ! -e $L/w/dir ] && ok rmdir || ko rmdir
echo A > $M/w/x1; echo B > $M/w/x2
rename2 $M/w/x1 $M/w/x2 2 && check rename-exchange "B A" "$(cat $L/w/x1) $(cat $L/w/x2)" || ko rename-exchange
check rename-noreplace "File exists" "$(err rename2 $M/w/x1 $M/w/x2 1)"
check rename-exchange-missing "No such file or directory" "$(err rename2 $M/w/x1 $M/w/nope 2)"
check rename-exchange-hidden "No such file or directory" "$(err rename2 $M/w/x1 $M/secret 2)"
rm $M/w/x1 $M/w/x2
cp /bin/busybox $L/w/busybox && check exec "ok" "$($M/w/busybox echo ok)"
rm $M/w/busybox
check statfs "$(stat -f -c %b $L)" "$(stat -f -c %b $M)"
check mv-dir-then-stat "0" "$(mkdir $M/w/x && echo y > $M/w/x/y && mv $M/w/x $M/w/z && cat $M/w/z/y > /dev/null; echo $?)"

# ---- reload: t1b hides /visible too ----
mkdir -p $L/visible
check reload-before "0" "$(stat $M/visible > /dev/null; echo $?)"
kill -USR1 $LOADER 2>/dev/null
i=0
while ! grep -q "reload" /tmp/load.log && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
grep -q "reload t1: ok" /tmp/load.log && ok reload || ko reload "$(grep reload /tmp/load.log)"
check reload-hides "No such file or directory" "$(err stat $M/visible)"

# ---- daemon death: the policy goes, the mount fails, unmount works ----
kill $LOADER; wait $LOADER 2>/dev/null
check umount-on-exit "" "$(grep " $M " /proc/mounts)"

# a daemon that answers "permission denied"
fbpf-load -a 13 /p/t1.o $L $M > /tmp/load3.log 2>&1 &
LOADER=$!
i=0
while ! grep -q ready /tmp/load3.log 2>/dev/null && kill -0 $LOADER 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
check defer-errno "Permission denied" "$(err cat $M/gate/g)"
kill $LOADER; wait $LOADER 2>/dev/null

# a loader that never answers: timeout, then death -> ENOTCONN
fbpf-load -n -t 500 -r /p/t1b.o /p/t1.o $L $M > /tmp/load2.log 2>&1 &
LOADER=$!
i=0
while ! grep -q ready /tmp/load2.log 2>/dev/null && kill -0 $LOADER 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
check defer-timeout "Connection timed out" "$(err cat $M/gate/g)"
kill -9 $LOADER; wait $LOADER 2>/dev/null
check dead-policy "Transport endpoint is not connected" "$(err cat $M/a.txt)"
umount $M && ok umount-dead || ko umount-dead

# ---- module unload ----
i=0
while ! rmmod fbpf 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
grep -q "^fbpf " /proc/modules && ko rmmod || ok rmmod

cat /tmp/load.log /tmp/load2.log 2>/dev/null | tail -20
dmesg | grep -E "WARNING|BUG|Oops|fbpf|Call Trace" | head -40
if dmesg | grep -qE "WARNING:|BUG:|Oops"; then ko dmesg-clean; else ok dmesg-clean; fi
echo "smoke: $pass passed, $fail failed"
echo "smoke: done"
poweroff -f
