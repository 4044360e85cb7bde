# Helpers for the chored-run tests (sourced after tap.sh): feed one input document to the
# runner with fd 3 on a file, as chored does.
: "${top_builddir:?run through make check (top_builddir is not set)}"
RUNNER=$top_builddir/daemon/chored-run-uninstalled
TEST_PLUGINS=$top_builddir/tests/plugins/stage
PLUGINS=$top_builddir/plugins/stage

# rundoc JSON: runs the runner on JSON; sets $rc, $out (fd 1), $err (fd 2), $rec (fd 3).
rundoc() {
	printf '%s' "$1" >"$tmp/in.json"
	"$RUNNER" <"$tmp/in.json" >"$tmp/out" 2>"$tmp/err" 3>"$tmp/fd3"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	rec=$(cat "$tmp/fd3")
}

# startdoc JSON: starts the runner in the background; sets $pid.
startdoc() {
	printf '%s' "$1" >"$tmp/in.json"
	"$RUNNER" <"$tmp/in.json" >"$tmp/out" 2>"$tmp/err" 3>"$tmp/fd3" &
	pid=$!
}

# wait_for FILE PATTERN [SECONDS]: polls until FILE holds PATTERN (grep -F); 1 on timeout.
wait_for() {
	_n=$(( ${3:-10} * 20 ))
	while [ "$_n" -gt 0 ]; do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
		_n=$((_n - 1))
	done
	return 1
}

# last_record: the last line of fd 3.
last_record() { printf '%s\n' "$rec" | tail -n 1; }
first_record() { printf '%s\n' "$rec" | head -n 1; }

# sanitized: true when the runner was built with AddressSanitizer.
sanitized() { grep -q __asan_init "$RUNNER" 2>/dev/null; }
