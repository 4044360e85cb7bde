#!/bin/sh
# chorectl plugins, plugin info and PLUGIN SUBCOMMAND against the ABI fixture plugins, and
# the plugin check of chorectl check / chored -t.
. "$(dirname "$0")/tap.sh"
fixtures=$top_builddir/tests/unit/plugin_fixtures/.libs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 022
mkdir -p "$tmp/plugins" "$tmp/conf.d"
for n in good abimajor small; do
	cp "$fixtures/$n.so" "$tmp/plugins/" && chmod 0755 "$tmp/plugins/$n.so"
done
cp "$fixtures/good.so" "$tmp/plugins/open.so" && chmod 0666 "$tmp/plugins/open.so"
echo "not a plugin" >"$tmp/plugins/README"
pdir=$(cd "$tmp/plugins" && pwd -P)
cat >"$tmp/chored.conf" <<CONF
[daemon]
plugin_dir = $tmp/plugins
CONF

# plugins: one line per .so, sorted, refused ones with the reason; exit 0.
run "$CHORECTL" -c "$tmp/chored.conf" plugins
is "$rc" 0 "plugins: exit 0 even with refused plugins"
is "$out" "NAME      VERSION  ABI  SUMMARY
abimajor  -        -    refused: $pdir/abimajor.so: abi_major is 2, this chored supports 1
good      1.2.3    1.0  ABI fixture plugin
open      -        -    refused: $pdir/open.so: group- or world-writable (mode 0666)
small     -        -    refused: $pdir/small.so: size is 40, expected at least 80" "plugins: the table"
run "$CHORECTL" -c "$tmp/chored.conf" plugins --json
is "$rc" 0 "plugins --json: exit 0"
contains "$out" '"name":"good","version":"1.2.3","summary":"ABI fixture plugin"' "plugins --json: loaded plugin"
contains "$out" '"name":"abimajor","version":null,"summary":null,"path":"'"$pdir"'/abimajor.so","abi":null,"error":"' "plugins --json: refused plugin with its error"
run "$CHORECTL" --json -c "$tmp/chored.conf" plugins
case "$out" in "["*"]") ok "--json before the verb prints an array" ;; *) not_ok "--json before the verb prints an array"; diag "$out" ;; esac
run "$CHORECTL" plugins --help
is "$rc" 0 "plugins --help: exit 0"
contains "$out" "Usage: chorectl [-c FILE] plugins [--json]" "plugins --help: usage"
run "$CHORECTL" -c "$tmp/nonexistent.conf" plugins
is "$rc" 78 "plugins: a config that cannot be loaded exits 78"
printf '[daemon]\nplugin_dir = %s/none\n' "$tmp" >"$tmp/nodir.conf"
run "$CHORECTL" -c "$tmp/nodir.conf" plugins
is "$rc" 66 "plugins: a missing plugin directory exits 66"
contains "$err" "$tmp/none: cannot read the plugin directory: No such file or directory" "plugins: names the directory"

# plugin info
run "$CHORECTL" -c "$tmp/chored.conf" plugin info good
is "$rc" 0 "plugin info: exit 0"
contains "$out" "good 1.2.3 (ABI 1.0): ABI fixture plugin" "plugin info: heading"
contains "$out" "  endpoint  url       yes       no      -        where to send it" "plugin info: a required option"
contains "$out" "  interval  duration  no        no      15m      how often" "plugin info: a default"
contains "$out" "  token     string    no        yes     -        API token" "plugin info: a secret option"
contains "$out" "  chorectl good status N
      exit with status N" "plugin info: subcommands"
run "$CHORECTL" -c "$tmp/chored.conf" plugin info good --json
is "$rc" 0 "plugin info --json: exit 0"
contains "$out" '{"key":"max_size","type":"size","required":false,"secret":false,"default":"64M","help":"largest reply"}' "plugin info --json: an option"
contains "$out" '"commands":[{"name":"hello","usage":"[WORDS…]","help":"print a greeting with the arguments"}' "plugin info --json: commands"
run "$CHORECTL" -c "$tmp/chored.conf" plugin info nope
is "$rc" 66 "plugin info: unknown plugin exits 66"
is "$err" "chorectl plugin info: no plugin 'nope' in $tmp/plugins" "plugin info: unknown plugin message"
run "$CHORECTL" -c "$tmp/chored.conf" plugin info abimajor
is "$rc" 78 "plugin info: refused plugin exits 78"
contains "$err" "plugin 'abimajor' was refused: $pdir/abimajor.so: abi_major is 2, this chored supports 1" "plugin info: refused plugin's reason"
run "$CHORECTL" -c "$tmp/chored.conf" plugin frob good
is "$rc" 64 "plugin: unknown subcommand exits 64"

# chorectl PLUGIN SUBCOMMAND
run "$CHORECTL" -c "$tmp/chored.conf" good hello one two
is "$rc/$out" "0/hello from good:hello one two" "dispatch: argv[0] is the subcommand, arguments follow"
run "$CHORECTL" --json -c "$tmp/chored.conf" good hello one
is "$rc/$out" "0/hello from good:hello --json one" "dispatch: --json before the plugin reaches the subcommand"
run "$CHORECTL" -c "$tmp/chored.conf" good status 3
is "$rc" 3 "dispatch: the subcommand's status is chorectl's"
run "$CHORECTL" -c "$tmp/chored.conf" good status
is "$rc" 64 "dispatch: the subcommand's own usage error"
run "$CHORECTL" -c "$tmp/chored.conf" good --help
is "$rc" 0 "dispatch: PLUGIN --help exits 0"
contains "$out" "  status N
      exit with status N" "dispatch: PLUGIN --help lists the subcommands"
run "$CHORECTL" -c "$tmp/chored.conf" good
is "$rc" 64 "dispatch: no subcommand exits 64"
contains "$err" "Subcommands of plugin 'good':" "dispatch: no subcommand lists them on stderr"
run "$CHORECTL" -c "$tmp/chored.conf" good frob
is "$rc" 64 "dispatch: unknown subcommand exits 64"
is "$err" "chorectl good: unknown subcommand 'frob' (see chorectl good --help)" "dispatch: unknown subcommand message"
run "$CHORECTL" -c "$tmp/chored.conf" abimajor hello
is "$rc" 78 "dispatch: a refused plugin exits 78"
contains "$err" "plugin 'abimajor' was refused" "dispatch: a refused plugin says why"
run "$CHORECTL" -c "$tmp/chored.conf" frobnicate
is "$rc" 64 "an unknown verb that is no plugin either exits 64"
is "$err" "chorectl: unknown verb 'frobnicate' (see chorectl --help)" "unknown verb message"

# chorectl check / chored -t validate job options against the plugins.
cat >"$tmp/conf.d/10-jobs.conf" <<'CONF'
[job ping]
plugin = good
schedule = @hourly
endpoint = https://example.com/ping
count = 500

[job typo]
plugin = good
schedule = @hourly
endpoint = https://example.com/typo
verbos = yes

[job old]
plugin = abimajor
schedule = @daily
CONF
for prog in "$CHORECTL check -c" "$CHORED -t -c"; do
	name=${prog%% -*}; name=${name##*/}
	run $prog "$tmp/chored.conf"
	is "$rc" 78 "$name: plugin errors reject the configuration"
	is "$err" "$tmp/conf.d/10-jobs.conf:5: [job ping] count: at most 100, got 500
$tmp/conf.d/10-jobs.conf:11: [job typo] verbos: unknown key for plugin 'good'; did you mean 'verbose'?
$tmp/conf.d/10-jobs.conf:14: [job old] plugin: plugin 'abimajor' was refused: $pdir/abimajor.so: abi_major is 2, this chored supports 1
3 errors: configuration rejected" "$name: plugin errors with file:line"
done
printf '[job ping]\nplugin = good\nschedule = @hourly\nendpoint = https://example.com/ping\n' >"$tmp/conf.d/10-jobs.conf"
run "$CHORECTL" check -c "$tmp/chored.conf"
is "$rc/$err" "0/" "check: valid plugin options pass, no notice"
# A plugin_dir that does not exist: the rest is checked, plugins are not, with a notice.
run "$CHORED" -t -c "$tmp/nodir.conf"
is "$rc" 0 "chored -t: a missing plugin_dir is not an error"
is "$err" "plugins not checked: $tmp/none does not exist" "chored -t: notice for a missing plugin_dir"
run "$CHORED" -t -q -c "$tmp/nodir.conf"
is "$rc/$err" "0/" "chored -t -q: no notice"

# chored_command_job: a subcommand sees a configured job with options, secrets and state.
run "$CHORECTL" -c "$tmp/chored.conf" good job
is "$rc/$out" "0/ping greeting=hello k=-" "command job: the only job of the plugin, no store yet"
printf '[daemon]\nstate = sqlite://%s/state.db\n' "$tmp" >"$tmp/conf.d/00-state.conf"
sqlite3 "$tmp/state.db" "CREATE TABLE kv (job TEXT NOT NULL, key TEXT NOT NULL,
	value TEXT NOT NULL, PRIMARY KEY (job, key)) WITHOUT ROWID;
	INSERT INTO kv VALUES ('ping', 'k', 'v1'), ('pong', 'k', 'v2');"
printf '[secrets]\ntok = s3cr3t-t0ken\n' >"$tmp/conf.d/90-secrets.conf"
chmod 0600 "$tmp/conf.d/90-secrets.conf"
printf 'token = ${secret:tok}\ngreeting = hi\n' >>"$tmp/conf.d/10-jobs.conf"
run "$CHORECTL" -c "$tmp/chored.conf" good job ping
is "$rc/$out" "0/ping greeting=hi k=v1" "command job: options and the state its runs stored"
is "$err" "chorectl good: token is ***" "command job: its log goes to stderr, secrets redacted"
run "$CHORECTL" -c "$tmp/chored.conf" good job nosuch
is "$rc/$err" "65/good job: no job 'nosuch' in $tmp/chored.conf" "command job: unknown job"
printf '[job pong]\nplugin = good\nschedule = manual\nendpoint = https://example.com/pong\n' \
	>"$tmp/conf.d/11-pong.conf"
run "$CHORECTL" -c "$tmp/chored.conf" good job
is "$rc/$err" "65/good job: several jobs use plugin good (ping, pong): name one" \
	"command job: several candidates need a name"
run "$CHORECTL" -c "$tmp/chored.conf" good job pong
is "$rc/$out" "0/pong greeting=hello k=v2" "command job: the named one"
echo "not sqlite" >"$tmp/state.db"
run "$CHORECTL" -c "$tmp/chored.conf" good job pong
is "$rc" 65 "command job: an unreadable store fails the subcommand"
contains "$err" "state $tmp/state.db:" "command job: the store's path in the error"

plan_done
