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

echo "== chored -t -c $demo/chored.conf"
"$build/daemon/chored" -t -c "$demo/chored.conf"
echo
echo "== chorectl next (every job)"
"$build/daemon/chorectl" -c "$demo/chored.conf" next
echo
echo "== chorectl explain '59 23 LW * *'"
"$build/daemon/chorectl" explain '59 23 LW * *'
echo
echo "== chorectl next '30 2 * * *' --tz Europe/Paris --from 2026-03-27T00:00:00Z --count 3"
"$build/daemon/chorectl" next '30 2 * * *' --tz Europe/Paris --from 2026-03-27T00:00:00Z --count 3
echo
# The scheduling loop comes with the runtime; until then the demo stops at the check.
