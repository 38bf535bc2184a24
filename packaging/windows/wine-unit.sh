#!/bin/bash
# wine-unit.sh ROOT TESTDIR SKIPS PKG... — runs the unit tests of each package
# (import paths), built for Windows into TESTDIR (`go test -c -o TESTDIR/`, one
# NAME.test.exe per package), under the Wine of ROOT (packaging/windows/wine-root.sh).
#
# Each test program runs in its package's folder of a copy of the source tree made
# inside ROOT, because tests read testdata/, docs/ and other packages' sources
# relative to their own folder. SKIPS lists tests that cannot pass under Wine, one
# per line, "PACKAGE TEST REASON"; each is printed with its reason (nothing is
# skipped silently) and a listed test that no longer exists fails the run, so the
# list cannot rot. Must run as root (a mount namespace per program: wine-run.sh).
set -euo pipefail
root=${1:?usage: wine-unit.sh ROOT TESTDIR SKIPS PKG...}
testdir=$(cd "${2:?}" && pwd)
skips=${3:?}
shift 3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
module=$(cd "$repo" && go list -m)

src=/tmp/parley-wine-unit # seen from inside ROOT
rm -rf "$root$src"
mkdir -p "$root$src"
tar -C "$repo" --exclude=./.git --exclude=./.build --exclude=./bin --exclude=./dist -cf - . | tar -C "$root$src" -xf -

failed=() passed=0
for pkg in "$@"; do
	rel=${pkg#"$module"}
	rel=${rel#/}
	name=$(basename "${rel:-$module}")
	exe="$testdir/$name.test.exe"
	if [ ! -f "$exe" ]; then
		echo "wine-unit: $pkg: no test program $exe" >&2
		failed+=("$pkg")
		continue
	fi
	skip=()
	while read -r p test reason; do
		[ "$p" = "$pkg" ] || continue
		# A listed test must still exist, or the list hides nothing and rots.
		if ! grep -rqs --include='*_test.go' "^func $test(" "$repo/${rel:-.}"; then
			echo "wine-unit: $skips lists $pkg $test, which no longer exists" >&2
			failed+=("$pkg")
		fi
		echo "wine-unit: SKIPPED under Wine: $pkg $test: $reason"
		skip+=("$test")
	done < <(grep -v '^\s*\(#\|$\)' "$skips")
	skipflag=()
	if [ ${#skip[@]} -gt 0 ]; then
		skipflag=(-test.skip "^($(IFS='|'; echo "${skip[*]}"))\$")
	fi
	dir="$src/${rel:-.}"
	cp "$exe" "$root$dir/wine-unit.test.exe"
	log="$testdir/$name.wine.log"
	start=$SECONDS
	# unshare -m: wine-run.sh's mounts vanish with the program. Loopback only.
	if WINE_CWD="$dir" unshare -m "$here/wine-run.sh" "$root" /root/wine-unit \
		'wine-unit.test.exe' -test.count=1 -test.timeout=5m "${skipflag[@]}" >"$log" 2>&1; then
		echo "wine-unit: ok   $pkg ($((SECONDS - start)) s)"
		passed=$((passed + 1))
	else
		echo "wine-unit: FAIL $pkg ($((SECONDS - start)) s); its output:"
		grep -v '^=== \|^    --- PASS\|^--- PASS' "$log" | tail -40 | sed 's/^/    /'
		failed+=("$pkg")
	fi
done
rm -rf "${root:?}$src"
echo "wine-unit: $passed packages passed under Wine, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
