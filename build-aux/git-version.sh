#!/bin/sh
# Prints the package version: .tarball-version inside a release tarball,
# else `git describe`, else a placeholder. Called by autoconf (m4_esyscmd_s).
cd "$(dirname "$0")/.." || exit 1
if [ -f .tarball-version ]; then
	cat .tarball-version
elif [ -e .git ] && v=$(git describe --tags --dirty=+ --abbrev=7 2>/dev/null); then
	echo "$v" | sed 's/^v//'
elif [ -e .git ] && n=$(git rev-list --count HEAD 2>/dev/null); then
	echo "0.1.$n"
else
	echo "0.1.0"
fi
