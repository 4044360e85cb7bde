#!/bin/sh
# The systemd notify protocol spoken directly: READY=1 once the socket listens,
# RELOADING=1 with MONOTONIC_USEC then READY=1 on SIGHUP, STOPPING=1 on SIGTERM, WATCHDOG=1
# at half of WATCHDOG_USEC; filesystem and abstract ('@') sockets.
. "$(dirname "$0")/daemon_lib.sh"

write_conf
dropin 10-jobs <<'EOF2'
[job idle]
plugin = testplug
schedule = manual
EOF2

# listen ADDRESS OUTFILE: a datagram socket writing each message as one line.
listen() {
	python3 -c '
import socket, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
out = open(sys.argv[2], "w")
out.write("listening\n"); out.flush()
while True:
    out.write(s.recv(4096).decode().replace("\n", "|") + "\n"); out.flush()
' "$1" "$2" &
	lpid=$!
	bg_pids="$bg_pids $lpid"
	# python3 starts slowly on a loaded machine: never start chored before it listens.
	wait_until 30 grep -q listening "$2" || { diag "the notify listener did not start"; exit 1; }
}

for addr in "$tmp/notify.sock" "@chored-test-$$"; do
	msgs=$tmp/msgs
	rm -f "$msgs"
	listen "$addr" "$msgs"
	NOTIFY_SOCKET=$addr WATCHDOG_USEC=400000 start_daemon || exit 1
	check "$addr: READY=1 after start" wait_until 10 grep -q '^READY=1' "$msgs"
	check "$addr: WATCHDOG=1 at half of WATCHDOG_USEC" wait_until 5 grep -q '^WATCHDOG=1' "$msgs"
	kill -HUP "$dpid"
	check "$addr: RELOADING=1 with MONOTONIC_USEC on SIGHUP" \
		wait_until 10 grep -q '^RELOADING=1|MONOTONIC_USEC=[0-9][0-9]*$' "$msgs"
	check "$addr: READY=1 again after the reload" \
		wait_until 10 sh -c "grep -A100 '^RELOADING' '$msgs' | grep -q '^READY=1'"
	stop_daemon
	is "$stop_rc" 0 "$addr: exit 0"
	check "$addr: STOPPING=1 on SIGTERM" grep -q '^STOPPING=1' "$msgs"
	kill "$lpid"
	wait "$lpid" 2>/dev/null
done
plan_done
