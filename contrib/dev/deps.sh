#!/bin/sh
# Installs the Debian 12 packages chored needs to build, test and run (as root), or
# lists what is missing (as another user). Sourced by demo.sh and test-all.sh.
CHORED_DEB_PACKAGES="autoconf automake libtool make gcc pkg-config git ca-certificates \
 libevent-dev libjson-c-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev libpq-dev libxml2-dev \
 zlib1g-dev libzstd-dev libcmocka-dev tzdata python3 sqlite3 curl postgresql python3-aiosmtpd"
# Only the test suite needs these: the dashboard's browser test drives Debian's chromium
# through chromedriver (WebDriver over HTTP, from python3's standard library).
CHORED_TEST_PACKAGES="chromium chromium-driver"

# chored_install_deps [EXTRA PACKAGES…]
chored_install_deps() {
	missing=
	for p in $CHORED_DEB_PACKAGES "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages:$missing (run as root, or: apt-get install$missing)" >&2
		return 1
	fi
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null
}
