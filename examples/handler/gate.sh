#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# gate.sh: an fbpf handler (see docs/handlers.md), the "gate" of policy.fbp.
#
#   - root (uid 0) may do everything;
#   - a path that matches a line of the deny list is refused with EACCES;
#   - changes (write, create, delete, rename, setattr, and opens for
#     writing) are allowed only in office hours, Monday to Friday from
#     GATE_OPEN to GATE_CLOSE o'clock (default 8 to 18), else EROFS;
#   - everything else is allowed.
#
# Usage: gate.sh DENYLIST
#   DENYLIST holds one shell pattern per line ('*' also matches '/'), compared
#   with the percent-encoded path ("/a%20b" for "/a b"); '#' starts a comment.
#   It is read for every request, so edits apply at once.
# GATE_NOW="D H" (weekday 1-7, hour 0-23) replaces the clock, for tests.
#
# Plain POSIX sh: runs with dash, bash and busybox sh.

denylist=${1:?usage: gate.sh DENYLIST}
open_h=${GATE_OPEN:-8}
close_h=${GATE_CLOSE:-18}

[ -r "$denylist" ] || echo "gate.sh: cannot read the deny list $denylist; nothing is denied by name" >&2

# listed PATH: does PATH match a pattern of the deny list?
listed() {
	[ -r "$denylist" ] || return 1
	while IFS= read -r pat || [ -n "$pat" ]; do
		case $pat in '' | '#'*) continue ;; esac
		# unquoted $pat: its * ? [ ] are pattern characters
		case $1 in $pat) return 0 ;; esac
	done < "$denylist"
	return 1
}

# office_hours: is it a weekday between GATE_OPEN and GATE_CLOSE?
office_hours() {
	now=${GATE_NOW:-$(date +'%u %H')}
	day=${now% *}
	hour=${now#* }
	hour=${hour#0}
	[ "$day" -le 5 ] && [ "${hour:-0}" -ge "$open_h" ] && [ "${hour:-0}" -lt "$close_h" ]
}

# One request per line: ID OP UID GID PID RULE FLAGS PATH
while read -r id op uid gid pid rule flags path; do
	answer=allow
	if [ "$uid" != 0 ]; then
		case "$op,$flags" in
		write,* | create,* | delete,* | rename,* | setattr,* | *,write*) change=1 ;;
		*) change=0 ;;
		esac
		if listed "$path"; then
			answer="deny EACCES"
		elif [ "$change" = 1 ] && ! office_hours; then
			answer="deny EROFS"
		fi
	fi
	# one answer line per request, same ID
	echo "$id $answer"
done
# EOF on stdin: fbpf-run is shutting down
exit 0
