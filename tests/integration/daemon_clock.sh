#!/bin/sh
# Wall-clock steps, with the real kernel mechanism: the system clock is stepped forward by
# STEP seconds and back, and the daemon's CLOCK_REALTIME timerfd (TFD_TIMER_CANCEL_ON_SET)
# must re-arm the schedule. Forward: slots jumped over are missed and follow each job's
# catchup policy at once (latest: one run, all: catchup_max runs, none: no run), a slot that
# was a minute ahead fires right away instead of a minute later, and the every-second job
# goes on in the new timeline. Backward: no slot runs twice, and the job keeps its place.
#
# Needs root (CAP_SYS_TIME): CI runs as root on a throwaway machine; elsewhere this is a
# TAP skip. The clock is off for a few seconds only, and the step is undone on every exit
# path (trap) by setting the time measured before the step plus the CLOCK_MONOTONIC time
# elapsed since, so the net clock is right. Every other integration test holds a shared
# lock (tap.sh) and never runs across the step: this test takes it exclusively.
STEP=60

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root to step the system clock (CAP_SYS_TIME)"
command -v python3 >/dev/null 2>&1 || skip "needs python3 (clock_settime)"
command -v sqlite3 >/dev/null 2>&1 || skip "needs sqlite3"
capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
# CAP_SYS_TIME is capability 25.
[ $((0x$capeff >> 25 & 1)) = 1 ] || skip "no CAP_SYS_TIME (a container without it?)"

clock_lock_mode=-x
. "$(dirname "$0")/daemon_lib.sh"

base=$tmp/clock-base
# clock_step SECONDS: saves (realtime, monotonic) to $base, then sets the realtime clock
# to that plus the elapsed monotonic time plus SECONDS, in one process (µs of error).
# Prints the time before the step (UTC seconds).
clock_step() {
	python3 - "$base" "$1" <<'EOF'
import sys, time
path, off = sys.argv[1], int(sys.argv[2])
r0 = time.clock_gettime_ns(time.CLOCK_REALTIME)
m0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
with open(path, "w") as f:
    f.write("%d %d\n" % (r0, m0))
m = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
time.clock_settime_ns(time.CLOCK_REALTIME, r0 + (m - m0) + off * 10**9)
print(r0 // 10**9)
EOF
}
# clock_restore: the realtime clock back to what it would read without the step.
clock_restore() {
	[ -f "$base" ] || return 0
	python3 - "$base" <<'EOF'
import sys, time
r0, m0 = map(int, open(sys.argv[1]).read().split())
m = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
time.clock_settime_ns(time.CLOCK_REALTIME, r0 + (m - m0))
EOF
	_rc=$?
	[ $_rc = 0 ] && rm -f "$base"
	return $_rc
}
trap 'clock_restore; cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

for n in systemd-timesyn ntpd chronyd openntpd; do
	if ps -eo comm= | grep -qx "$n"; then
		diag "note: $n is running; it may also correct the clock while it is stepped"
	fi
done

now=$(date -u +%s)
# A slot 40 s ahead that the step jumps over (daemon timezone UTC).
once=$((now + 40))
once_sched="$(date -u -d "@$once" '+%-S %-M %-H %-d %-m *')"
write_conf "timezone = UTC"
dropin jobs <<EOF
[job tick]
plugin = testplug
schedule = * * * * * *
catchup = none

[job lat]
plugin = testplug
schedule = */10 * * * * *
catchup = latest

[job all]
plugin = testplug
schedule = */10 * * * * *
catchup = all
catchup_max = 3

[job non]
plugin = testplug
schedule = */10 * * * * *
catchup = none

[job once]
plugin = testplug
schedule = $once_sched
catchup = latest

[job once_none]
plugin = testplug
schedule = $once_sched
catchup = none
EOF

start_daemon || exit 1
check "the every-second job fires before the step" \
	wait_until 20 at_least 2 "job = 'tick' AND status = 'ok'"

# ---- forward ----
if ! pre=$(clock_step "$STEP"); then
	not_ok "stepping the clock forward by $STEP s"
	plan_done
	exit 1
fi
stepped=$((pre + STEP))
diag "clock stepped from $pre to ~$stepped"
forward_done() {
	at_least 1 "job = 'once'" && at_least 1 "job = 'lat' AND trigger = 'catchup'" &&
		at_least 3 "job = 'all' AND trigger = 'catchup' AND status <> 'running'" &&
		at_least 1 "job = 'tick' AND nominal >= $stepped"
}
wait_until 10 forward_done
# Give a wrong extra catch-up run a moment to show up before the clock goes back.
sleep 1
clock_restore || not_ok "restoring the clock"
diag "clock restored to $(date -u +%s)"

is "$(sql "SELECT count(*), min(trigger), min(nominal) FROM runs WHERE job = 'once'")" \
	"1|catchup|$once" \
	"a slot half a minute ahead that the step jumped over runs once (catchup = latest)"
first=$(sql "SELECT min(started_ms) / 1000 FROM runs WHERE job = 'once'")
first=${first:-0}
check "... right away, not half a minute later ($((first - stepped)) s after the step)" \
	[ "$((first - stepped))" -le 5 ]
is "$(count "job = 'once_none' AND status <> 'skipped'")" 0 "the same slot with catchup = none does not run"
is "$(sql "SELECT count(*), min(nominal) FROM runs WHERE job = 'once_none' AND status = 'skipped' AND summary LIKE 'missed: the clock jumped%'")" \
	"1|$once" "... and is recorded as missed"
is "$(count "job = 'lat' AND trigger = 'catchup'")" 1 \
	"catchup = latest: the slots jumped over make one run"
lat=$(sql "SELECT nominal FROM runs WHERE job = 'lat' AND trigger = 'catchup'")
newest_slot() { [ "$1" -ge $((stepped - 10)) ] && [ "$1" -le $((stepped + 2)) ] && [ $(($1 % 10)) = 0 ]; }
check "... of the newest of them ($lat)" newest_slot "${lat:-1}"
is "$(sql "SELECT count(*), max(nominal) - min(nominal) FROM runs
	WHERE job = 'all' AND trigger = 'catchup'")" "3|20" \
	"catchup = all with catchup_max = 3: the three newest slots"
# (The slot due as the clock was stepped may have been claimed before the step: pre + 1.)
is "$(count "job = 'non' AND nominal > $((pre + 1)) AND nominal < $stepped AND status <> 'skipped'")" 0 \
	"catchup = none: no slot jumped over runs"
check "the every-second job went on in the new timeline" \
	at_least 1 "job = 'tick' AND nominal >= $stepped AND trigger = 'schedule'"
is "$(count "job = 'tick' AND nominal > $((pre + 1)) AND nominal < $stepped AND status <> 'skipped'")" 0 \
	"... without running the seconds jumped over (catchup = none)"
contains "$(cat "$log")" "the wall clock was set" "the daemon saw the step (timerfd cancelled)"

# ---- backward (the restore above stepped the clock back by $STEP s) ----
wait_until 5 sh -c "[ \$(grep -c 'the wall clock was set' '$log') -ge 2 ]"
check "the daemon saw the backward step too" \
	[ "$(grep -c 'the wall clock was set' "$log")" -ge 2 ]
top=$(sql "SELECT max(nominal) FROM runs WHERE job = 'tick'")
sleep 2
is "$(sql "SELECT count(*) - count(DISTINCT job || nominal || attempt) FROM runs")" 0 \
	"no slot ran twice after the backward step"
later=$(count "job = 'tick' AND nominal > ${top:-0}")
# A run claimed ahead of the step (at most one) is released at once; no more follow: the
# next slots are $STEP s ahead of the clock now.
check "the every-second job waits for its next slot ($later run after the step back)" \
	[ "$later" -le 1 ]
lacks "$(cat "$log")" "already run, not again" "the daemon did not even try a slot again"
next=$(json_get "$(api http://chored/v1/jobs/tick)" "j.get('next')")
want=$(date -u -d "@$((${top:-0} + 1 + later))" '+%Y-%m-%dT%H:%M:%SZ')
is "$next" "$want" "the job keeps its place: next slot is the one after the last run"
check "the daemon is alive" alive
stop_daemon
is "$stop_rc" 0 "SIGTERM: exit 0"
plan_done
