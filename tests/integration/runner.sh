#!/bin/sh
# chored-run on its own (daemon/runproto.h): input on fd 0, records on fd 3, statuses, crashes,
# ABI refusal, bad input, limits, cancel, process group, and secrets kept out of everything.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/runner_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TP=$TEST_PLUGINS/testplug.so

doc() { # doc MODE [EXTRA-OPTIONS-JSON] [EXTRA-MEMBERS-JSON]
	printf '{"plugin":"%s","job":"nightly","run_id":"run-1","nominal":1767225600,"dry_run":false,"options":{"mode":"%s"%s}%s}' \
		"$TP" "$1" "${2:+,$2}" "${3:+,$3}"
}

run "$RUNNER" --version
is "$rc" 0 "--version exits 0"
contains "$out" "plugin ABI 1.0" "--version names the plugin ABI"
run "$RUNNER" --help
contains "$out" "Usage: chored-run" "--help prints usage"
run "$RUNNER" 3>&-
is "$rc" 64 "without fd 3 the runner refuses (EX_USAGE)"
contains "$err" "fd 3 is not open" "and says why"

rundoc "$(doc ok)"
is "$rc" 0 "ok: exit 0"
case $(first_record) in '{"t":"started","mono_ns":'[0-9]*'}') ok "ok: started comes first" ;; *) not_ok "ok: started comes first"; diag "$rec" ;; esac
is "$(printf '%s\n' "$rec" | sed 1d)" '{"t":"log","level":6,"msg":"testplug ok"}
{"t":"summary","text":"ok"}
{"t":"result","status":"ok","summary":"ok"}' "ok: log, summary and result in order"

rundoc "$(doc fail)"
is "$(last_record)" '{"t":"result","status":"failed","summary":"failed on purpose"}' "fail: result failed"
contains "$rec" '{"t":"log","level":3,"msg":"failing on purpose"}' "fail: its error log record"
rundoc "$(doc partial)"
is "$(last_record)" '{"t":"result","status":"partial","summary":"2 of 3 items"}' "partial: result partial"

rundoc "$(doc segv)"
is "$rc" 139 "segv: the runner dies of SIGSEGV (128+11)"
lacks "$rec" '"t":"result"' "segv: no result record"
contains "$rec" '"t":"started"' "segv: started was written before run()"

rundoc "$(printf '{"plugin":"%s/badabi.so","job":"j"}' "$TEST_PLUGINS")"
is "$rc" 0 "ABI mismatch: exit 0 after a failed result"
is "$(last_record)" "{\"t\":\"result\",\"status\":\"failed\",\"summary\":\"$TEST_PLUGINS/badabi.so: abi_major is 2, this chored supports 1\"}" \
	"ABI mismatch: failed, naming the field and both values"
is "$(first_record)" "{\"t\":\"log\",\"level\":3,\"msg\":\"chored-run: $TEST_PLUGINS/badabi.so: abi_major is 2, this chored supports 1\"}" \
	"ABI mismatch: a level-3 log record first"
lacks "$rec" '"t":"started"' "ABI mismatch: run() never entered"

rundoc "$(printf '{"plugin":"%s/nonexistent.so","job":"j"}' "$TEST_PLUGINS")"
contains "$(last_record)" "nonexistent.so: cannot open shared object file" "missing plugin: dlopen's reason"

rundoc '{"plugin": "x.so", "job": '
is "$(last_record)" '{"t":"result","status":"failed","summary":"input: the JSON document is incomplete (26 bytes)"}' "truncated JSON: failed"
rundoc '{"plugin": x}'
contains "$(last_record)" '"summary":"input: invalid JSON at byte' "malformed JSON: failed with the byte offset"
rundoc '["plugin"]'
contains "$(last_record)" 'the document is not a JSON object' "not an object: failed"
rundoc '{"job":"j"} {}'
contains "$(last_record)" 'unexpected data after the document' "trailing data: failed"
# A NUL byte is data, not a blank.
printf '{"job":"j"}\n\000' >"$tmp/in.json"
"$RUNNER" <"$tmp/in.json" >/dev/null 2>&1 3>"$tmp/fd3"
contains "$(tail -n 1 "$tmp/fd3")" 'unexpected data after the document at byte 12' "NUL after the document: failed"
rundoc '{"job":"j"}'
contains "$(last_record)" '\"plugin\" (the plugin'"'"'s path) is missing' "no plugin member: failed"
# A 5 MiB document: over the 4 MiB bound (the runner stops reading at the bound).
{ printf '{"job":"j","pad":"'; head -c 5242880 /dev/zero | tr '\0' x; printf '"}'; } >"$tmp/big.json"
"$RUNNER" <"$tmp/big.json" >/dev/null 2>&1 3>"$tmp/fd3"
is "$(tail -n 1 "$tmp/fd3")" '{"t":"result","status":"failed","summary":"input: the document is larger than 4 MiB"}' "oversized input: failed"

rundoc "$(doc bogus)"
is "$(last_record)" '{"t":"result","status":"failed","summary":"mode: unknown mode '"'bogus'"'"}' "check() error: key and message"

rundoc "$(doc state '' '"state":{"n":"41","other":"x"}')"
is "$(printf '%s\n' "$rec" | grep '"t":"state"')" '{"t":"state","key":"n","value":"42"}' "state: read n=41, set n=42"

rundoc "$(doc progress '"count":"2"')"
is "$(printf '%s\n' "$rec" | sed 1d)" '{"t":"progress","done":1,"total":2}
{"t":"counter","name":"items","delta":1}
{"t":"progress","done":2,"total":2}
{"t":"counter","name":"items","delta":1}
{"t":"counter","name":"bytes","delta":1024}
{"t":"summary","text":"2 items"}
{"t":"result","status":"ok","summary":"2 items"}' "progress and counters in order"

rundoc "$(doc now '' '"at":1000000000')"
is "$(last_record)" '{"t":"result","status":"ok","summary":"now=1000000000 nominal=1767225600 dry_run=no run_id=run-1 job=nightly"}' \
	"--at: chored_job_now is the given time; nominal, run id, job name"
rundoc "$(printf '{"plugin":"%s","job":"j","dry_run":true,"options":{"mode":"now"}}' "$TP")"
contains "$(last_record)" "dry_run=yes" "dry_run reaches the plugin"
before=$(date +%s)
rundoc "$(doc now)"
now=$(last_record | sed 's/.*now=\([0-9]*\).*/\1/')
if [ "$now" -ge "$before" ] && [ "$now" -le $((before + 5)) ]; then ok "without --at, now is the real time"; else not_ok "without --at, now is the real time"; diag "$now vs $before"; fi

rundoc "$(doc out '"lines":"3"')"
is "$out" "line 1
line 2
line 3" "what the plugin prints reaches fd 1"

# Secrets: "token" is a SECRET option of testplug and also listed in "redact".
S=S3cr3t-VALUE-x9
rundoc "$(doc print-secret "\"token\":\"$S\"" "\"redact\":[\"$S\"]")"
lacks "$rec" "$S" "secret: not in any record"
contains "$rec" '{"t":"log","level":6,"msg":"log token=***"}' "secret: *** in chored_log"
contains "$rec" '"fields":{"token":"***"}' "secret: *** in log fields"
is "$(last_record)" '{"t":"result","status":"ok","summary":"summary token=***"}' "secret: *** in the summary"
# A secret known only from "redact" (not a SECRET option of the plugin) is redacted as well.
rundoc "$(doc fail '' "\"redact\":[\"failing\"]")"
contains "$rec" '"msg":"*** on purpose"' "redact list applies to plugin log records"
rundoc "$(doc "bogus-$S" '' "\"redact\":[\"$S\"]")"
lacks "$rec$out$err" "$S" "secret in a check() error: redacted"
contains "$(last_record)" "bogus-***" "check() error shows *** instead"
rundoc "$(printf '{"plugin":"%s/%s.so","job":"j","redact":["%s"]}' "$TEST_PLUGINS" "$S" "$S")"
lacks "$rec$out$err" "$S" "secret in the plugin path of a load error: redacted"
startdoc "$(doc sleep "\"seconds\":\"20\",\"token\":\"$S\"" "\"redact\":[\"$S\"]")"
wait_for "$tmp/fd3" '"t":"started"' || diag "runner did not start"
if grep -qF "$S" "/proc/$pid/cmdline" "/proc/$pid/environ"; then
	not_ok "secret: not in the runner's /proc cmdline or environ"
else
	ok "secret: not in the runner's /proc cmdline or environ"
fi
kill -TERM "$pid"
wait "$pid"
is "$?" 0 "cancel: SIGTERM makes a cancellable run end cleanly"
rec=$(cat "$tmp/fd3")
contains "$rec" '{"t":"log","level":5,"msg":"cancelled (callback called)"}' "cancel: the plugin's cancel callback ran"
contains "$(last_record)" '"status":"failed","summary":"cancelled after' "cancel: the plugin's own result follows"

# Pre-spawn (runproto.h "release_ns"): the runner waits for the instant by itself; a bad
# value fails the run before run(); an instant more than 1 s ahead (the clock was stepped
# back before the timer was armed) or past goes at once.
rundoc "$(doc ok '' '"release_ns":"soon"')"
is "$(last_record)" '{"t":"result","status":"failed","summary":"input: \"release_ns\" is not an integer"}' \
	"release_ns not an integer: failed"
lacks "$rec" '"t":"started"' "release_ns not an integer: run() never entered"
rundoc "$(doc ok '' '"release_ns":1.5e18')"
contains "$(last_record)" 'release_ns\" is not an integer' "release_ns a fraction: failed"
at=$(( $(date +%s%N) + 400000000 ))
rundoc "$(doc ok '' "\"release_ns\":$at")"
is "$(last_record)" '{"t":"result","status":"ok","summary":"ok"}' "release_ns 0.4 s ahead: ok"
released=$(first_record | sed -n 's/.*"released_ns":\([0-9]*\).*/\1/p')
check "... let go at the instant, not before (released_ns $released >= $at)" [ "${released:-0}" -ge "$at" ]
start=$(date +%s%N)
rundoc "$(doc ok '' "\"release_ns\":$(( start + 30000000000 ))")"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
is "$(last_record)" '{"t":"result","status":"ok","summary":"ok"}' "release_ns 30 s ahead: ok"
check "... at once, not in 30 s ($ms ms)" [ "$ms" -lt 5000 ]
rundoc "$(doc ok '' '"release_ns":1000000000')"
is "$(last_record)" '{"t":"result","status":"ok","summary":"ok"}' "release_ns in the past: ok at once"

# Process group: the runner leads its own group, so one kill reaches what the plugin started.
startdoc "$(doc child "\"pidfile\":\"$tmp/child.pid\"")"
wait_for "$tmp/child.pid" "" && wait_for "$tmp/out" "child pid" || diag "child never started"
cpid=$(cat "$tmp/child.pid")
is "$(ps -o pgid= -p "$cpid" | tr -d ' ')" "$pid" "the runner is its process group's leader, and its child is in it"
kill -s KILL -- "-$pid"
wait "$pid"
n=100
while [ $n -gt 0 ] && kill -0 "$cpid" 2>/dev/null; do sleep 0.05; n=$((n - 1)); done
if kill -0 "$cpid" 2>/dev/null; then not_ok "a kill of the group ends the child too"; kill "$cpid"; else ok "a kill of the group ends the child too"; fi

# Limits.
rundoc "$(doc ok '' '"limits":{"cpu":"x"}')"
is "$(last_record)" '{"t":"result","status":"failed","summary":"input: limits.cpu is not a number of seconds"}' "limits: bad cpu refused"
rundoc "$(doc ok '' '"limits":{"user":"no-such-user-chored"}')"
is "$(last_record)" "{\"t\":\"result\",\"status\":\"failed\",\"summary\":\"limits: user 'no-such-user-chored' does not exist\"}" "limits: unknown user refused"
start=$(date +%s)
rundoc "$(doc spin '' '"limits":{"cpu":1}')"
is "$rc" 152 "limits: cpu=1 ends a spinning plugin with SIGXCPU (128+24)"
if [ $(( $(date +%s) - start )) -lt 30 ]; then ok "limits: within seconds"; else not_ok "limits: within seconds"; fi
if sanitized; then
	ok "# SKIP RLIMIT_AS under AddressSanitizer"
else
	rundoc "$(printf '{"plugin":"%s/exec.so","job":"j","options":{"command":"ulimit -v","shell":"yes"},"limits":{"memory":1073741824}}' "$PLUGINS")"
	is "$out" 1048576 "limits: memory sets RLIMIT_AS (ulimit -v in KiB)"
fi
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chmod o+rx "$tmp"
	rundoc "$(printf '{"plugin":"%s/exec.so","job":"j","options":{"command":"id -u"},"limits":{"user":"nobody"}}' "$PLUGINS")"
	is "$out" "$(id -u nobody)" "limits: user switches to nobody (runner started as root)"
else
	other=root
	rundoc "$(doc ok '' "\"limits\":{\"user\":\"$other\"}")"
	is "$(last_record)" "{\"t\":\"result\",\"status\":\"failed\",\"summary\":\"limits: cannot run as user '$other': chored-run is not root\"}" \
		"limits: another user needs root"
fi

plan_done
