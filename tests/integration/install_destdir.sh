#!/bin/sh
# `make install DESTDIR=…` puts every part where a packager expects it (binaries, libchored,
# headers, .pc, plugins without .la, man pages, unit, sysusers, completion, examples) and
# never overwrites an existing config; then contrib/example-plugin is built out of tree
# against that install with pkg-config only, dropped into the installed plugin directory of a
# running installed chored, picked up by a reload, run, and its subcommand run by chorectl.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/runner_lib.sh"
tmp=$(mktemp -d)
dpid=
cleanup() {
	if [ -n "$dpid" ]; then
		kill -9 "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
root=$tmp/root

# A make started by a test must not join the jobserver of the `make check` around it.
submake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make "$@"; }

run submake -s -C "$top_builddir" install DESTDIR="$root"
is "$rc" 0 "make install DESTDIR"
[ "$rc" = 0 ] || {
	diag "$err"
	plan_done
	exit 1
}

# find1 PATTERN: the one installed path matching PATTERN (a find -path pattern)
find1() { find "$root" -path "$1" \( -type f -o -type l \) 2>/dev/null | head -n 1; }
elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }

chored=$(find1 '*/sbin/chored')
chorectl=$(find1 '*/bin/chorectl')
runner=$(find1 '*/libexec/chored/chored-run')
lib=$(find1 '*/lib*/libchored.so')
for f in "$chored" "$chorectl" "$runner"; do
	if [ -n "$f" ] && elf "$f" && [ -x "$f" ]; then ok "installed program ${f#"$root"}"; else not_ok "an installed program is missing or not an ELF executable: '$f'"; fi
done
[ -n "$lib" ] && ok "libchored.so installed (${lib#"$root"})" || not_ok "libchored.so installed"
libdir=$(dirname "$lib")
[ -n "$(find "$libdir" -name 'libchored.so.*' -type f)" ] && ok "libchored is soname-versioned" || not_ok "libchored is soname-versioned"
pc=$(find1 '*/pkgconfig/chored-plugin.pc')
[ -n "$pc" ] && ok "chored-plugin.pc installed" || not_ok "chored-plugin.pc installed"
for h in plugin.h job.h http.h store.h db.h report.h notify.h crypto.h time.h; do
	[ -n "$(find1 "*/include/chored/$h")" ] || not_ok "header chored/$h installed"
done
ok "the SDK headers are installed"

plugindir=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=plugindir chored-plugin)
for p in exec http randomizer slotwatch; do
	[ -f "$root$plugindir/$p.so" ] || not_ok "plugin $p.so installed into $plugindir"
done
ok "the plugins are installed into plugindir $plugindir"
is "$(find "$root$plugindir" -name '*.la' | wc -l)" 0 "no .la in the plugin directory"

for m in man8/chored.8 man1/chorectl.1 man5/chored.conf.5 man7/chored-plugin.7 man3/chored-sdk.3; do
	[ -n "$(find1 "*/man/$m")" ] || not_ok "man page $m installed"
done
ok "man pages installed"
unit=$(find1 '*/systemd/system/chored.service')
if [ -n "$unit" ]; then
	contains "$(cat "$unit")" "Type=notify" "unit: Type=notify"
	contains "$(cat "$unit")" "ExecReload=" "unit: ExecReload"
	contains "$(cat "$unit")" "$(dirname "${chored#"$root"}")/chored" "unit: names the installed daemon"
else
	not_ok "chored.service installed"
fi
[ -n "$(find1 '*/sysusers.d/chored.conf')" ] && ok "sysusers.d entry installed" || not_ok "sysusers.d entry installed"
[ -n "$(find1 '*/bash-completion/completions/chorectl')" ] && ok "bash completion installed" || not_ok "bash completion installed"
[ -n "$(find1 '*/examples/10-backup.conf.example')" ] && ok "example drop-ins installed" || not_ok "example drop-ins installed"
conf=$(find1 '*/etc/chored/chored.conf')
if [ -n "$conf" ]; then
	ok "chored.conf installed"
	echo "# edited by the operator" >>"$conf"
	run submake -s -C "$top_builddir" install DESTDIR="$root"
	is "$rc" 0 "make install again"
	contains "$(cat "$conf")" "# edited by the operator" "an existing chored.conf is never overwritten"
else
	not_ok "chored.conf installed"
fi

# ---- a running installed daemon picks up an out-of-tree plugin on reload ----
# The installed programs look for libchored under the prefix, not under DESTDIR.
LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
# The daemon gives runners an empty environment: a wrapper brings the library path.
cat >"$tmp/chored-run" <<EOF
#!/bin/sh
LD_LIBRARY_PATH='$libdir' exec '$runner' "\$@"
EOF
chmod 0755 "$tmp/chored-run"
CHORED_RUNNER=$tmp/chored-run
export CHORED_RUNNER
mkdir -p "$tmp/etc/conf.d" "$tmp/run"
sock=$tmp/run/chored.sock
cat >"$tmp/etc/chored.conf" <<EOF
[daemon]
state = sqlite://$tmp/state.db
plugin_dir = $root$plugindir
socket = $sock
listen =

[job tick]
plugin = exec
schedule = @daily
command = true
EOF
CHORED_SOCKET=$sock
export CHORED_SOCKET
ctl() { "$chorectl" -c "$tmp/etc/chored.conf" "$@"; }
"$chored" -c "$tmp/etc/chored.conf" 2>"$tmp/daemon.log" &
dpid=$!
deadline=$(($(read -r u _ </proc/uptime && echo "${u%.*}") + 30))
while [ ! -S "$sock" ] && kill -0 "$dpid" 2>/dev/null; do
	[ "$(read -r u _ </proc/uptime && echo "${u%.*}")" -ge "$deadline" ] && break
	sleep 0.1
done
if [ -S "$sock" ]; then ok "the installed chored starts"; else not_ok "the installed chored starts" && diag "$(cat "$tmp/daemon.log")"; fi
run ctl plugins
lacks "$out" "hello" "before the drop-in: no hello plugin"

mkdir "$tmp/src"
cp "$top_srcdir/contrib/example-plugin/hello.c" "$top_srcdir/contrib/example-plugin/Makefile" "$tmp/src/"
san=
if sanitized; then san="-fsanitize=address,undefined"; fi
PKG_CONFIG_PATH=$(dirname "$pc")
PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
run pkg-config --cflags chored-plugin
contains "$out" "-I$root" "pkg-config gives the installed headers"
run submake -C "$tmp/src" CFLAGS="-O2 -Wall -Wextra -Werror $san"
is "$rc" 0 "the example plugin builds against the install with pkg-config only"
[ "$rc" = 0 ] || diag "$out" "$err"
# pkgconf puts the sysroot before plugindir too; pkg-config 0.29 does not: then DESTDIR does.
destdir=$root
case $(pkg-config --variable=plugindir chored-plugin) in "$root"/*) destdir= ;; esac
run submake -C "$tmp/src" install DESTDIR="$destdir"
is "$rc" 0 "make install drops hello.so into the installed plugin directory"
[ -f "$root$plugindir/hello.so" ] && ok "hello.so is in $plugindir" || not_ok "hello.so is in $plugindir"

cat >"$tmp/etc/conf.d/50-greet.conf" <<'EOF'
[job greet]
plugin = hello
schedule = @daily
who = team
times = 2
EOF
run ctl reload --wait
is "$rc" 0 "reload of the running daemon: accepted"
[ "$rc" = 0 ] || diag "$out" "$err"
run ctl plugins
contains "$out" "hello" "after the reload: the daemon lists hello"
run ctl hello greeting greet
is "$rc" 0 "chorectl hello greeting: exit 0"
is "$out" "hello, team (2 times)" "chorectl runs the plugin's subcommand"
run ctl run greet --wait
is "$rc" 0 "a run of the new job: ok"
contains "$out" "greeted team 2 times" "the run's summary"

kill -TERM "$dpid"
wait "$dpid"
is "$?" 0 "the installed chored stops on SIGTERM"
dpid=
plan_done
