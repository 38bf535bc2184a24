#!/bin/bash
# wine-run.sh ROOT PREFIX EXE [ARGS...] — runs a Windows program under the Wine of
# ROOT (packaging/windows/wine-root.sh) with WINEPREFIX=PREFIX (a path inside
# ROOT). Meant to be started by `ip netns exec NS`, which gives it a mount
# namespace of its own: the /proc, /sys, /dev (and X socket) mounts below vanish
# with it and never reach the host. stdin/stdout/stderr pass through unchanged, so
# the headless JSON lines flow as on Linux. EXE and the paths in ARGS are seen
# from inside ROOT (Z:\ is ROOT's /). WINE_CWD, a folder inside ROOT, is the
# program's working folder (unit tests read testdata/ relative to it).
set -euo pipefail
root=${1:?usage: wine-run.sh ROOT PREFIX EXE [ARGS...]}
prefix=${2:?}
shift 2
mount --make-rslave / 2>/dev/null || true
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
if [ -n "${DISPLAY:-}" ] && [ -d /tmp/.X11-unix ]; then
	mkdir -p "$root/tmp/.X11-unix"
	mount --bind /tmp/.X11-unix "$root/tmp/.X11-unix"
fi
mkdir -p "$root/run/wine" && chmod 700 "$root/run/wine"
# WINEDEBUG=-all: Wine's fixme lines would bury the program's own log.
exec chroot "$root" /bin/sh -c 'cd "$0" && exec "$@"' "${WINE_CWD:-/}" env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
	XDG_RUNTIME_DIR=/run/wine WINEPREFIX="$prefix" WINEDEBUG="${WINEDEBUG:--all}" \
	${DISPLAY:+DISPLAY=$DISPLAY} wine "$@"
