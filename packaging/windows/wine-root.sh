#!/bin/bash
# wine-root.sh ROOT — makes (once) a Debian 13 root holding Wine 10, in which the
# Windows build is tested (make test-windows).
#
# Why a root of its own: Debian 12's Wine (8.0) cannot start a Go >= 1.22 Windows
# program (its runtime needs bcryptprimitives.dll's ProcessPrng, which Wine 8 lacks);
# Debian 13's Wine 10 can. debootstrap takes the packages from the same Debian
# mirror as the machine's own (about 30 s and 214 MB for the base, 15 s for Wine).
# The machine's apt lists are not touched: everything installs inside ROOT.
#
# The root is complete once ROOT/.parley-ready exists; a half-made root (an
# interrupted run) is made again from scratch.
set -euo pipefail
root=${1:?usage: wine-root.sh ROOT}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ -e "$root/.parley-ready" ] && exit 0

tmp="$root.partial"
rm -rf "$tmp"
mkdir -p "$(dirname "$root")"
debootstrap --variant=minbase trixie "$tmp" "$mirror"
# apt inside the root needs /proc; a private mount namespace drops the mount
# when the command ends, even if it fails.
unshare -m --propagation private sh -ec '
	mount -t proc proc "$1/proc"
	mount --rbind /dev "$1/dev"
	chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# wine64: the 64-bit loader (no 32-bit Wine is needed: parley.exe is amd64).
	# libgl1 and Mesa: the Fyne window draws with OpenGL (llvmpipe under Xvfb).
	chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		wine wine64 libgl1 libglx-mesa0 libgl1-mesa-dri
	chroot "$1" apt-get clean
' sh "$tmp"
touch "$tmp/.parley-ready"
rm -rf "$root"
mv "$tmp" "$root"
