#!/bin/bash
# test-deb.sh DEB CACHE — checks the Debian package (make test-deb, run by make test):
#   1. its desktop entry passes desktop-file-validate and its metainfo passes
#      appstreamcli validate (both on the files as the package ships them);
#   2. it installs with `apt-get install ./parley_*.deb` into a clean Debian 12
#      root, with no recommended packages, so Depends alone must carry it;
#   3. `parley --version` runs there and prints the package's version, and the
#      installed binary has every library it needs (ldd finds them all, and one
#      of the sound libraries it opens at run time is present);
#   4. with lintian installed, lintian reports no error.
#
# The root: debootstrap --variant=minbase of bookworm from the mirror the
# machine's own apt uses, made once and kept as a tarball, CACHE (the first run
# costs a few minutes; each later run unpacks it into a fresh directory, so every
# run starts from the same clean root). Runs as root.
set -euo pipefail
usage="usage: test-deb.sh DEB CACHE.tar"
deb=${1:?$usage} cache=${2:?$usage}
deb=$(realpath "$deb")
suite=bookworm
version=$(dpkg-deb -f "$deb" Version)

# The machine's apt sources for this suite (and its -updates and -security), as
# apt itself reads them: from sources.list and sources.list.d, in either format.
sources=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
	'Identifier: Packages' | awk -v s="$suite" '$2 == s || index($2, s "-") == 1' | sort -u)
mirror=$(awk -v s="$suite" '$2 == s { print $1; exit }' <<<"$sources")
[ -n "$mirror" ] || { echo "test-deb: the machine's apt has no $suite source (apt-get update?)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/parley-test-deb.XXXXXX)
# Mounts live in a private mount namespace (unshare below), so they vanish when
# it ends, whichever way it ends; the trap only removes the files, and
# --one-file-system keeps rm off anything still mounted.
trap 'rm -rf --one-file-system "$work"' EXIT

# 1. The shipped desktop entry and metainfo.
dpkg-deb -x "$deb" "$work/pkg"
desktop=$(echo "$work"/pkg/usr/share/applications/*.desktop)
metainfo=$(echo "$work"/pkg/usr/share/metainfo/*.metainfo.xml)
desktop-file-validate "$desktop"
# --no-net: the screenshots' URLs are not fetched (this machine reaches no website).
appstreamcli validate --no-net "$metainfo"
echo "test-deb: $(basename "$desktop") and $(basename "$metainfo") validate"

# 2. The clean root, made once.
if [ ! -s "$cache" ]; then
	start=$SECONDS
	mkdir -p "$(dirname "$cache")"
	debootstrap --variant=minbase "$suite" "$work/boot" "$mirror" >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log" >&2; exit 1; }
	tar -C "$work/boot" -cf "$cache.partial" . && mv "$cache.partial" "$cache"
	rm -rf --one-file-system "$work/boot"
	echo "test-deb: made the $suite root in $((SECONDS - start)) s, kept in $cache"
fi
mkdir "$work/root"
tar -C "$work/root" -xf "$cache"
awk '{ print "deb " $1 " " $2 " " $3 }' <<<"$sources" > "$work/root/etc/apt/sources.list"
cp /etc/resolv.conf "$work/root/etc/resolv.conf"
cp "$deb" "$work/root/tmp/"

# 3. Install and run, in a private mount namespace.
unshare -m --propagation private sh -ec '
	root=$1 deb=$2 version=$3
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	inroot() { chroot "$root" env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
	inroot apt-get update -qq
	inroot apt-get install -y -qq --no-install-recommends "./tmp/$deb" >/dev/null
	got=$(inroot parley --version)
	[ "$got" = "parley $version" ] || { echo "test-deb: parley --version said \"$got\", want \"parley $version\"" >&2; exit 1; }
	if inroot ldd /usr/bin/parley | grep "not found"; then exit 1; fi
	inroot sh -c "ldconfig -p | grep -q -e libasound.so.2 -e libpulse.so.0" ||
		{ echo "test-deb: neither libasound.so.2 nor libpulse.so.0 installed: calls would have no sound" >&2; exit 1; }
	echo "test-deb: installed into a clean root ($(inroot dpkg-query -W -f "\${Depends}" parley)); it says: $got"
' sh "$work/root" "$(basename "$deb")" "$version"

# 4. lintian, when it is installed (it is not needed to build or install).
if command -v lintian >/dev/null; then
	lintian --fail-on error "$deb"
	echo "test-deb: lintian reports no error"
fi
