#!/bin/sh
# contrib/example-plugin built out of tree with nothing but `pkg-config chored-plugin` and
# make (against the uninstalled .pc of the build tree), then loaded and run by chored-run.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/runner_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! command -v pkg-config >/dev/null || ! command -v make >/dev/null; then
	echo "1..0 # SKIP pkg-config and make are needed"
	exit 0
fi
PKG_CONFIG_PATH=$top_builddir/sdk${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
export PKG_CONFIG_PATH

run pkg-config --cflags chored-plugin
contains "$out" "-I$top_srcdir/sdk" "pkg-config picks the uninstalled .pc: headers from the source tree"
run pkg-config --variable=plugindir chored-plugin
is "$out" "$top_builddir/plugins/stage" "plugindir is set"

mkdir "$tmp/src" "$tmp/plugins"
cp "$top_srcdir/contrib/example-plugin/hello.c" "$top_srcdir/contrib/example-plugin/Makefile" "$tmp/src/"
# The sanitizer flags of the build (if any) are needed to load into a sanitized runner.
san=
if sanitized; then san="-fsanitize=address,undefined"; fi
run make -C "$tmp/src" CFLAGS="-O2 -Wall -Wextra -Werror $san"
is "$rc" 0 "make builds hello.so with only pkg-config"
[ "$rc" = 0 ] || diag "$out" "$err"
cp "$tmp/src/hello.so" "$tmp/plugins/hello.so"
chmod 0755 "$tmp/plugins/hello.so"
run nm -D --defined-only "$tmp/plugins/hello.so"
contains "$out" "chored_plugin_v1" "the descriptor is exported"
lacks "$out" " run" "nothing else of the plugin is"

rundoc "$(printf '{"plugin":"%s/hello.so","job":"greet","options":{"who":"team","times":"2"}}' "$tmp/plugins")"
is "$rc" 0 "chored-run loads the out-of-tree plugin"
is "$(printf '%s\n' "$rec" | sed 1d)" '{"t":"log","level":6,"msg":"hello","fields":{"who":"team"}}
{"t":"progress","done":1,"total":2}
{"t":"log","level":6,"msg":"hello","fields":{"who":"team"}}
{"t":"progress","done":2,"total":2}
{"t":"counter","name":"greetings","delta":2}
{"t":"summary","text":"greeted team 2 times"}
{"t":"result","status":"ok","summary":"greeted team 2 times"}' "and runs it: records and result"
rundoc "$(printf '{"plugin":"%s/hello.so","job":"greet","options":{}}' "$tmp/plugins")"
is "$(last_record)" '{"t":"result","status":"ok","summary":"greeted world 1 time"}' "schema defaults apply"
rundoc "$(printf '{"plugin":"%s/hello.so","job":"greet","options":{"times":"11"}}' "$tmp/plugins")"
is "$(last_record)" '{"t":"result","status":"failed","summary":"times: 11 is not between 1 and 10"}' "its check() runs"

run make -C "$tmp/src" install DESTDIR="$tmp/root"
is "$rc" 0 "make install"
if [ -x "$tmp/root$top_builddir/plugins/stage/hello.so" ]; then ok "installs into plugindir"; else not_ok "installs into plugindir"; fi

plan_done
