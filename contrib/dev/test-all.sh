#!/bin/sh
# Installs what is needed, builds, and runs the whole suite: unit and integration tests,
# the same again under ASan+UBSan, and `make distcheck` as an unprivileged user.
# Ends with the line "N passed, N failed". Exit 0 only when nothing failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/contrib/dev/deps.sh"
chored_install_deps $CHORED_TEST_PACKAGES || exit 1
cd "$top" || exit 1
: "${CHORED_SHARED_DIR:=$(cd "$top/.." && pwd)/shared}"
export CHORED_SHARED_DIR
jobs=$(nproc 2>/dev/null || echo 2)
out=${CHORED_TEST_DIR:-$top/_test}
rm -rf "$out"
mkdir -p "$out"
status=0

step() { echo "== $*"; }
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	step "autoreconf"
	autoreconf -fi >"$out/autoreconf.log" 2>&1 || { cat "$out/autoreconf.log"; exit 1; }
fi

# build_and_check DIR [configure args…]
build_and_check() {
	dir=$out/$1
	shift
	mkdir -p "$dir"
	step "build $(basename "$dir") $*"
	(cd "$dir" && "$top/configure" -q "$@" >configure.log 2>&1 && make -j"$jobs" >make.log 2>&1) || {
		tail -n 40 "$dir/configure.log" "$dir/make.log" 2>/dev/null
		echo "not ok - build $(basename "$dir") failed"
		status=1
		return 1
	}
	step "check $(basename "$dir")"
	(cd "$dir" && make -j"$jobs" check >check.log 2>&1) || status=1
	grep -E '^(FAIL|ERROR|XPASS)' "$dir/check.log" || true
	grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR)' "$dir/check.log" | tr '\n' ' '
	echo
}

build_and_check plain
build_and_check asan --enable-sanitizers

# distcheck: as a non-root user, so an install outside the prefix cannot pass unnoticed.
step "distcheck"
dc=$out/distcheck
mkdir -p "$dc"
if [ "$(id -u)" -eq 0 ]; then
	id chored-build >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin chored-build
	chown -R chored-build "$dc"
	as_user() { runuser -u chored-build -- "$@"; }
else
	as_user() { "$@"; }
fi
if (cd "$dc" && as_user env CHORED_SHARED_DIR="$CHORED_SHARED_DIR" sh -c \
	"'$top/configure' -q >configure.log 2>&1 && make -j$jobs distcheck >distcheck.log 2>&1"); then
	echo "ok - make distcheck"
	dist_pass=1 dist_fail=0
else
	tail -n 60 "$dc/distcheck.log" 2>/dev/null
	echo "not ok - make distcheck"
	dist_pass=0 dist_fail=1
	status=1
fi

# Count every test case of both builds (TAP results recorded in the .trs files).
count() { cat "$out"/plain/tests/*/*.trs "$out"/asan/tests/*/*.trs 2>/dev/null | grep -c "^:test-result: $1" ; }
pass=$(($(count PASS) + dist_pass))
fail=$(($(count FAIL) + $(count ERROR) + $(count XPASS) + dist_fail))
skip=$(count SKIP)
[ "$fail" -eq 0 ] || status=1
echo "$pass passed, $fail failed, $skip skipped"
exit $status
