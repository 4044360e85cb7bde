#!/bin/sh
# Installs what is needed, builds chored, and shows it on the bundled example
# configuration (conf.d/*.example, copied to a scratch directory with embedded defaults:
# SQLite state, file:// storage, outbox mail).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/contrib/dev/deps.sh"
chored_install_deps
cd "$top"
[ -x configure ] && [ ! configure.ac -nt configure ] || autoreconf -fi >/dev/null
build=$top/_demo/build
mkdir -p "$build"
(cd "$build" && { [ -f Makefile ] || "$top/configure" -q; } && make -j"$(nproc)" >/dev/null)

demo=$top/_demo/etc
rm -rf "$demo"
mkdir -p "$demo/conf.d" "$top/_demo/state"
# The examples name the installed paths; the demo keeps everything under _demo/.
subst() { sed -e "s|/var/lib/chored|$top/_demo/state|g" "$1" >"$2"; }
subst conf.d/chored.conf.example "$demo/chored.conf"
for f in conf.d/*.conf.example; do
	case $f in */chored.conf.example) continue ;; esac
	n=$(basename "$f" .example)
	(umask 077 && subst "$f" "$demo/conf.d/$n")
done
chmod 0644 "$demo/chored.conf"
# The dashboard's "Run now" needs the admin token: a fresh random one for this demo.
token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
sed -i -e 's|^#admin_token = |admin_token = |' "$demo/chored.conf"
sed -i -e "s|^admin_token = .*|admin_token = $token|" "$demo/conf.d/90-secrets.conf"
# The sample site database the backup and archive examples work on (events over the last
# three months, bookings, subscribers), created once.
if [ -f contrib/dev/demo-app.sql ] && [ ! -f "$top/_demo/state/demo-app.db" ]; then
	sqlite3 "$top/_demo/state/demo-app.db" <contrib/dev/demo-app.sql
fi
# Paths of this build tree, and one job that fires every 10 seconds so the demo shows runs.
mkdir -p "$top/_demo/run"
cat >"$demo/conf.d/00-demo.conf" <<EOF
[daemon]
plugin_dir = $build/plugins/stage
socket = $top/_demo/run/chored.sock

[job heartbeat]
plugin = exec
description = Demo: prints the time and the host every 10 seconds
schedule = */10 * * * * *
catchup = none
shell = yes
command = echo "heartbeat at \$(date -u +%H:%M:%S) on \$(hostname)"
EOF

ctl="$build/daemon/chorectl -c $demo/chored.conf"
echo "== chored -t -c $demo/chored.conf"
"$build/daemon/chored" -t -c "$demo/chored.conf"
echo
echo "== chorectl plugins"
$ctl plugins
echo
echo "== chorectl next (every job)"
$ctl next
echo
echo "== chorectl explain '59 23 LW * *'"
"$build/daemon/chorectl" explain '59 23 LW * *'
echo
echo "== chorectl next '30 2 * * *' --tz Europe/Paris --from 2026-03-27T00:00:00Z --count 3"
"$build/daemon/chorectl" next '30 2 * * *' --tz Europe/Paris --from 2026-03-27T00:00:00Z --count 3
echo
echo "== chored in the foreground (Ctrl-C stops it)."
echo "   Dashboard: http://127.0.0.1:8470/  (\"Run now\" asks for the admin token: $token)"
echo "   Metrics:   http://127.0.0.1:8470/metrics"
echo "   In another terminal:"
echo "   $ctl list"
echo "   $ctl run heartbeat --wait"
echo "   $ctl history heartbeat"
echo "   kill -HUP \$(pgrep -x chored)    # reload after editing $demo/conf.d/"
echo
# In the build tree the runner binary is chored-run-uninstalled (daemon/chored-run is a
# libtool wrapper script there).
exec env CHORED_RUNNER="$build/daemon/chored-run-uninstalled" \
	"$build/daemon/chored" -c "$demo/chored.conf"
