#!/bin/bash
# libopus.sh BUILD — builds libopus for Windows (amd64) from Debian's source
# package with mingw-w64, once, into BUILD/opus-win64 (a static libopus.a and
# its opus.pc), so parley.exe links the codec in and needs no DLL beside it.
#
# Why Debian's source package (and not a Go module vendoring libopus): it is the
# same libopus release as the Linux build's libopus-dev (one codec version on
# both systems, Debian's security fixes included), it is checked by apt against
# Debian's signed release files, and it comes from a registry this project
# already uses. The deb-src entry lives in a private apt configuration under
# BUILD/apt (its own sources list, lists and cache), so the machine's own apt
# lists are neither read nor changed.
set -euo pipefail
build=${1:?usage: libopus.sh BUILD}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=${DEBIAN_SUITE:-$(. /etc/os-release && echo "$VERSION_CODENAME")}
prefix="$build/opus-win64"
# The stamp names the configuration: a libopus built otherwise is built again.
stamp="$prefix/.parley-v3"
[ -e "$stamp" ] && exit 0

apt="$build/apt"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sourceparts" "$build/src"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" > "$apt/sources.list"
aptopts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=$apt/sourceparts"
	-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=")
apt-get "${aptopts[@]}" update -qq
rm -rf "$build/src" && mkdir -p "$build/src"
(cd "$build/src" && apt-get "${aptopts[@]}" source -qq opus)
src=$(find "$build/src" -maxdepth 1 -mindepth 1 -type d -name 'opus-*' | head -1)
cd "$src"
# Static only; no docs, no demo programs. Hardening (_FORTIFY_SOURCE) and the
# stack protector are left out: with them the objects call __memcpy_chk and
# friends from mingw's libssp, which the Go link does not bring in.
rm -rf "$prefix"
./configure -q --host=x86_64-w64-mingw32 --prefix="$prefix" \
	--disable-shared --enable-static --disable-doc --disable-extra-programs \
	--disable-hardening --disable-stack-protector CFLAGS="-O2"
# opus 1.3.1 adds -D_FORTIFY_SOURCE=2 whatever --disable-hardening says.
sed -i 's/-D_FORTIFY_SOURCE=2//' Makefile
make -s -j"$(nproc)"
make -s install
touch "$stamp"
