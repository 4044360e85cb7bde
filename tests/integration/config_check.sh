#!/bin/sh
# chorectl check and chored -t: files listed in order, ok or every error, exit 0 or 78,
# and nothing about a secret's value leaks into the output.
. "$(dirname "$0")/tap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 022
mkdir -p "$tmp/conf.d"
cat >"$tmp/chored.conf" <<'CONF'
[daemon]
timezone = UTC
state = sqlite:///tmp/chored-test-state.db
CONF
cat >"$tmp/conf.d/20-backup.conf" <<'CONF'
[job monthly-backup]
plugin = exec
schedule = 0 3 1 * *
command = /bin/true
CONF
cat >"$tmp/conf.d/10-report.conf" <<'CONF'
[job weekly-report]
plugin = exec
schedule = 0 8 * * MON
command = /bin/true
CONF
# Names the loader must ignore.
for n in 30-x.conf.example .40-hidden.conf 50-y.conf~ 60-z.conf.dpkg-old; do
	echo "this is not a config" >"$tmp/conf.d/$n"
done
(umask 077 && printf '[secrets]\ntoken = s3cr3t-VALUE\n' >"$tmp/conf.d/90-secrets.conf")

for prog in "$CHORECTL check -c" "$CHORED -t -c"; do
	name=${prog%% -*}; name=${name##*/}
	run $prog "$tmp/chored.conf"
	is "$rc" 0 "$name: valid config exits 0"
	is "$out" "$tmp/chored.conf
$tmp/conf.d/10-report.conf
$tmp/conf.d/20-backup.conf
$tmp/conf.d/90-secrets.conf
ok: 2 jobs (2 enabled), 0 notify sinks, 1 secret" "$name: files in byte order, then ok"
done

# One broken drop-in: error names file, line, section and key; exit 78.
cat >"$tmp/conf.d/20-backup.conf" <<'CONF'
[job monthly-backup]
plugin = exec

schedule = 0 3 32 * *
command = /bin/true
CONF
cat >"$tmp/conf.d/15-bad.conf" <<'CONF'
[job bad]
plugin = exec
schedule = @daily
overlap = sometimes
token = s3cr3t-VALUE
CONF
for prog in "$CHORECTL check -c" "$CHORED -t -c"; do
	name=${prog%% -*}; name=${name##*/}
	run $prog "$tmp/chored.conf"
	is "$rc" 78 "$name: broken config exits 78"
	contains "$out" "$tmp/conf.d/20-backup.conf" "$name: still lists the files read"
	contains "$err" "$tmp/conf.d/20-backup.conf:4: [job monthly-backup] schedule: day-of-month 32 is out of range 1-31" "$name: schedule error with file:line, section and key"
	contains "$err" "$tmp/conf.d/15-bad.conf:4: [job bad] overlap:" "$name: every error is reported, not just the first"
	lacks "$out$err" "s3cr3t-VALUE" "$name: no secret value in the output"
done

# Mode checks.
rm "$tmp/conf.d/15-bad.conf"
printf '[job monthly-backup]\nplugin = exec\nschedule = 0 3 1 * *\ncommand = /bin/true\n' >"$tmp/conf.d/20-backup.conf"
chmod 0644 "$tmp/conf.d/90-secrets.conf"
run "$CHORECTL" check -c "$tmp/chored.conf"
is "$rc" 78 "a [secrets] file readable by others is refused"
contains "$err" "90-secrets.conf" "the refused file is named"
chmod 0600 "$tmp/conf.d/90-secrets.conf"
chmod 0666 "$tmp/conf.d/10-report.conf"
run "$CHORECTL" check -c "$tmp/chored.conf"
is "$rc" 78 "a world-writable drop-in is refused"
contains "$err" "10-report.conf" "the writable file is named"
chmod 0644 "$tmp/conf.d/10-report.conf"

run "$CHORECTL" check -c "$tmp/nope.conf"
is "$rc" 78 "missing main file exits 78"
contains "$err" "nope.conf" "missing main file is named"

run "$CHORED" -c "$tmp/chored.conf" -t -q
is "$rc/$out" "0/" "chored -t -q is silent on success"
run "$CHORED" --version
contains "$out" "chored " "chored --version"
run "$CHORECTL" --version
contains "$out" "chorectl " "chorectl --version"
run "$CHORED" -t extra
is "$rc" 64 "chored: stray argument exits 64"
plan_done
