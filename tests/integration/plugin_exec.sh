#!/bin/sh
# exec.so through chored-run: word splitting without a shell, shell = yes, a minimal
# environment plus env, cwd, exit statuses (ok, partial, failed, killed), cancel, dry run.
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/runner_lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# exec_doc OPTIONS-JSON [EXTRA-MEMBERS-JSON]
exec_doc() {
	printf '{"plugin":"%s/exec.so","job":"backup","run_id":"r-7","nominal":1767225600,"options":{%s}%s}' \
		"$PLUGINS" "$1" "${2:+,$2}"
}
# Writes a helper that prints its arguments one per line, bracketed.
cat >"$tmp/args" <<'SH'
#!/bin/sh
for a in "$@"; do printf '[%s]\n' "$a"; done
SH
chmod 755 "$tmp/args"

rundoc "$(exec_doc "\"command\":\"$tmp/args plain 'single quoted  x' \\\"double \\\\\\\"q\\\\\\\" \\\\\$HOME\\\" back\\\\ slash '' mixed'a'\\\"b\\\"c\"")"
is "$out" '[plain]
[single quoted  x]
[double "q" $HOME]
[back slash]
[]
[mixedabc]' "command is split like sh: quotes, backslashes, empty word; no expansion"
is "$(last_record)" '{"t":"result","status":"ok","summary":"exited with status 0"}' "exit 0: ok"

rundoc "$(exec_doc "\"command\":\"$tmp/args \$HOME *\"")"
is "$out" '[$HOME]
[*]' "without shell: no variables, no globs"
rundoc "$(exec_doc '"command":"echo \"$CHORED_JOB\" $((6 * 7)) | tr a-z A-Z","shell":"yes"')"
is "$out" "BACKUP 42" "shell = yes: /bin/sh -c with pipes and expansion"

SECRET_IN_DAEMON_ENV=leak-me
export SECRET_IN_DAEMON_ENV
rundoc "$(exec_doc '"command":"env","env":"FOO=bar \"GREETING=hello world\" PATH=/usr/bin:/bin"')"
lacks "$out" "SECRET_IN_DAEMON_ENV" "the child does not inherit the runner's environment"
contains "$out" "FOO=bar" "env: NAME=value added"
contains "$out" "GREETING=hello world" "env: a quoted value keeps its blanks"
contains "$out" "PATH=/usr/bin:/bin" "env: replaces a base variable"
contains "$out" "CHORED_RUN_ID=r-7" "the run id is in the environment"
contains "$out" "CHORED_NOMINAL_TIME=1767225600" "the nominal time is in the environment"
is "$(printf '%s\n' "$out" | grep -c '^PATH=')" 1 "one PATH"
mkdir "$tmp/bin" && printf '#!/bin/sh\necho private tool\n' >"$tmp/bin/mytool" && chmod 755 "$tmp/bin/mytool"
rundoc "$(exec_doc "\"command\":\"mytool\",\"env\":\"PATH=$tmp/bin:/usr/bin:/bin\"")"
is "$out" "private tool" "the command is looked up in the PATH of env"
rundoc "$(exec_doc "\"command\":\"pwd\",\"cwd\":\"$tmp\"")"
is "$out" "$tmp" "cwd"
rundoc "$(exec_doc '"command":"pwd"')"
is "$out" "/" "default cwd is /"
rundoc "$(exec_doc '"command":"pwd","cwd":"/nonexistent-dir"')"
is "$(last_record)" '{"t":"result","status":"failed","summary":"cannot run pwd in /nonexistent-dir: No such file or directory"}' "a missing cwd fails the run"

rundoc "$(exec_doc '"command":"sh -c \"exit 3\"","partial_exit_codes":"3 4"')"
is "$(last_record)" '{"t":"result","status":"partial","summary":"exited with status 3"}' "listed exit code: partial"
rundoc "$(exec_doc '"command":"sh -c \"exit 5\"","partial_exit_codes":"3 4"')"
is "$(last_record)" '{"t":"result","status":"failed","summary":"exited with status 5"}' "other exit code: failed"
rundoc "$(exec_doc '"command":"sh -c \"kill -KILL $$\""')"
is "$(last_record)" '{"t":"result","status":"failed","summary":"killed by SIGKILL"}' "killed child: failed with the signal name"
rundoc "$(exec_doc '"command":"/nonexistent/prog"')"
is "$(last_record)" '{"t":"result","status":"failed","summary":"cannot run /nonexistent/prog: No such file or directory"}' "missing program: failed"
rundoc "$(exec_doc '"command":"sh -c \"echo to-stdout; echo to-stderr >&2\""')"
is "$out" "to-stdout" "the child's stdout is the runner's fd 1"
is "$err" "to-stderr" "the child's stderr is the runner's fd 2"

rundoc "$(exec_doc '"command":"echo \"unbalanced"')"
is "$(last_record)" '{"t":"result","status":"failed","summary":"command: unbalanced \" quote at offset 5"}' "check: unbalanced quote names the key"
rundoc "$(exec_doc '"command":"echo it'"'"'s"')"
contains "$(last_record)" "command: unbalanced ' quote" "check: unbalanced single quote"
rundoc "$(exec_doc '"command":"   "')"
contains "$(last_record)" '"summary":"command: is empty"' "check: empty command"
rundoc "$(exec_doc '"command":"true","env":"1BAD=x"')"
contains "$(last_record)" "\"summary\":\"env: '1BAD=x' is not NAME=value\"" "check: bad env word"
rundoc "$(exec_doc '"command":"true","partial_exit_codes":"0"')"
contains "$(last_record)" "partial_exit_codes: '0' is not an exit status from 1 to 255" "check: partial code 0 refused"

rundoc "$(exec_doc "\"command\":\"touch $tmp/ran\"" '"dry_run":true')"
if [ -e "$tmp/ran" ]; then not_ok "dry run: nothing runs"; else ok "dry run: nothing runs"; fi
is "$(last_record)" '{"t":"result","status":"ok","summary":"dry run: touch not started"}' "dry run: ok with a note"

# Cancel: SIGTERM to the runner alone reaches the child through the cancel callback.
startdoc "$(exec_doc '"command":"sleep 30"')"
wait_for "$tmp/fd3" '"msg":"started sleep' || diag "sleep did not start"
kill -TERM "$pid"
wait "$pid"
is "$?" 0 "cancel: the runner ends with a result"
is "$(tail -n 1 "$tmp/fd3")" '{"t":"result","status":"failed","summary":"killed by SIGTERM"}' "cancel: SIGTERM forwarded to the child"

plan_done
