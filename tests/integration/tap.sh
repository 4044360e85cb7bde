# TAP helpers for the integration scripts (sourced, not run).
# Each script calls plan N (or plan_done at the end), then ok/not_ok/is/...
tap_n=0
tap_failed=0

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# is GOT WANT DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		not_ok "$3"
		diag "got:" "$1" "want:" "$2"
	fi
}

# contains HAYSTACK NEEDLE DESCRIPTION
contains() {
	case "$1" in
	*"$2"*) ok "$3" ;;
	*) not_ok "$3"; diag "output:" "$1" "does not contain:" "$2" ;;
	esac
}

# lacks HAYSTACK NEEDLE DESCRIPTION
lacks() {
	case "$1" in
	*"$2"*) not_ok "$3"; diag "output unexpectedly contains:" "$2" ;;
	*) ok "$3" ;;
	esac
}

# run CMD...: sets $out (stdout), $err (stderr), $rc
run() {
	_tap_tmp=$(mktemp -d)
	"$@" >"$_tap_tmp/out" 2>"$_tap_tmp/err"
	rc=$?
	out=$(cat "$_tap_tmp/out")
	err=$(cat "$_tap_tmp/err")
	rm -rf "$_tap_tmp"
}

# check DESCRIPTION CMD…: ok when CMD succeeds.
check() {
	_desc=$1
	shift
	if "$@"; then ok "$_desc"; else not_ok "$_desc"; fi
}

plan_done() { echo "1..$tap_n"; [ "$tap_failed" -eq 0 ]; }

: "${CHORECTL:?run through make check (CHORECTL is not set)}"
: "${CHORED:?run through make check (CHORED is not set)}"
# The conformance vectors live in ../shared beside the source tree (or CHORED_SHARED_DIR).
shared_dir=${CHORED_SHARED_DIR:-${top_srcdir:-.}/../shared}

# daemon_clock.sh steps the system clock: it holds this lock exclusively (clock_lock_mode=-x,
# set before sourcing), every other integration test holds it shared for its lifetime (fd 9,
# inherited by the daemons, runners and fakes it starts), so none measures time or compares
# clocks across a step, even from another build tree running at the same time.
# flock(2) locks through a read-only descriptor too, so whoever created the file (root in
# CI, the unprivileged user of `make distcheck`), every user can lock it; it is created
# world-readable.
_clock_lock=${TMPDIR:-/tmp}/chored-clock-test.lock
[ -e "$_clock_lock" ] || (umask 022 && : >>"$_clock_lock") 2>/dev/null
if command -v flock >/dev/null 2>&1 && [ -r "$_clock_lock" ]; then
	exec 9<"$_clock_lock"
	if ! flock -w 900 "${clock_lock_mode:--s}" 9; then
		echo "1..0 # SKIP could not take the clock-step lock within 900 s"
		exit 0
	fi
fi
