#!/bin/sh
# bash completion of chorectl (contrib/chorectl.bash-completion.in): verbs, job names from
# the readable config files, plugin names and a plugin's subcommands, options per verb.
. "$(dirname "$0")/tap.sh"
comp=$top_builddir/contrib/completion/chorectl
fixtures=$top_builddir/tests/unit/plugin_fixtures/.libs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 022
mkdir -p "$tmp/plugins" "$tmp/conf.d" "$tmp/bin"
cp "$fixtures/good.so" "$tmp/plugins/" && chmod 0755 "$tmp/plugins/good.so"
# chorectl on PATH (a libtool wrapper in the build tree cannot be symlinked).
printf '#!/bin/sh\nexec "%s" "$@"\n' "$CHORECTL" >"$tmp/bin/chorectl"
chmod +x "$tmp/bin/chorectl"
cat >"$tmp/chored.conf" <<CONF
[daemon]
plugin_dir = $tmp/plugins
[job nightly-backup]
plugin = good
schedule = @daily
CONF
cat >"$tmp/conf.d/20-more.conf" <<CONF
  [job  weekly.report ]
plugin = good
schedule = manual
CONF
echo '[job ignored]' >"$tmp/conf.d/30-off.conf.example"

# complete WORDS…: the completions bash offers for the last word of "chorectl WORDS…".
complete_words() {
	PATH="$tmp/bin:$PATH" bash -c '
		. "$1"; shift
		COMP_WORDS=(chorectl "$@"); COMP_CWORD=$(($# ))
		_chorectl
		printf "%s\n" "${COMPREPLY[@]}" | sort' bash "$comp" "$@"
}

out=$(complete_words -c "$tmp/chored.conf" "")
contains "$out" "status" "verbs offered"
contains "$out" "reload" "verbs offered: reload"
contains "$out" "good" "plugin names offered as verbs"
is "$(complete_words -c "$tmp/chored.conf" ru)" "run" "a verb completed from its prefix"
is "$(complete_words -c "$tmp/chored.conf" run "")" "nightly-backup
weekly.report" "run: job names from chored.conf and conf.d/*.conf only"
is "$(complete_words --config "$tmp/chored.conf" history n)" "nightly-backup" \
	"history: a job name from its prefix (--config FILE)"
is "$(complete_words -c "$tmp/chored.conf" run --w)" "--wait" "run: options"
is "$(complete_words -c "$tmp/chored.conf" good "")" "--help
hello
job
status" "PLUGIN: its subcommands"
is "$(complete_words -c "$tmp/chored.conf" plugin info "")" "good" "plugin info: plugin names"
is "$(complete_words -c "$tmp/chored.conf" -c "$tmp/chored.conf" --j)" "--json" "global options"
mkdir "$tmp/empty"
out=$(complete_words -c "$tmp/empty/chored.conf" run "")
is "$out" "" "run with an unreadable config: no names, no error"
plan_done
