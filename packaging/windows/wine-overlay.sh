#!/bin/bash
# wine-overlay.sh DIR — writes DIR/overlay.json for `go build -overlay`: the TEST-ONLY
# change that lets a Go Windows program open UDP sockets under Wine.
#
# Go's net package (>= 1.23) calls WSAIoctl(SIO_UDP_NETRESET) on every UDP socket
# (src/net/fd_windows.go) and fails the socket when that ioctl fails. Windows has
# supported it since Windows 2000; Wine (8 and 10) answers WSAEOPNOTSUPP (10045),
# so without this change no beacon, mDNS or call socket opens under Wine. The
# overlay's copy of fd_windows.go ignores 10045 for that one ioctl and nothing else.
# The parley.exe users get (make windows) is built WITHOUT it; make test-windows
# builds bin/parley-wine.exe with it, and that is the only difference.
set -euo pipefail
dir=${1:?usage: wine-overlay.sh DIR}
go=${GO:-go}
orig="$($go env GOROOT)/src/net/fd_windows.go"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
awk '
	/windows\.SIO_UDP_NETRESET/ { seen = 1; print; next }
	seen == 1 && /if err != nil \{/ {
		sub(/if err != nil \{/, "if err != nil \\&\\& err != syscall.Errno(10045) { // WSAEOPNOTSUPP under Wine (test-only overlay)")
		seen = 2; changed++
	}
	{ print }
	END { if (changed != 1) { print "wine-overlay: SIO_UDP_NETRESET check not found in " FILENAME > "/dev/stderr"; exit 1 } }
' "$orig" > "$dir/fd_windows.go"
printf '{"Replace":{"%s":"%s"}}\n' "$orig" "$dir/fd_windows.go" > "$dir/overlay.json"
