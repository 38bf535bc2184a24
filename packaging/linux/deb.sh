#!/bin/bash
# deb.sh BIN WORKDIR OUTDIR — makes OUTDIR/parley_<version>_<arch>.deb from the
# release binary BIN, with dpkg-deb (make deb).
#
# Everything the package says about the app comes from FyneApp.toml, the file
# Fyne's packager reads too: the ID (the .desktop, metainfo and icon names), the
# name, the version, and the [LinuxAndBSD] desktop-entry fields. The package holds:
#   /usr/bin/parley
#   /usr/share/applications/ID.desktop          (desktop-file-validate clean)
#   /usr/share/icons/hicolor/NxN/apps/ID.png     (16–256 px from assets/icon.png)
#   /usr/share/metainfo/ID.metainfo.xml         (appstreamcli validate clean)
#   /usr/share/man/man1/parley.1.gz             (help2man, from parley --help)
#   /usr/share/doc/parley/{copyright,changelog.gz}
# Depends is what dpkg-shlibdeps derives from the binary's NEEDED libraries, plus
# the libraries the binary opens at run time with dlopen (its ELF header does not
# list them; see dlopened below).
#
# Tools, all Debian packages: dpkg-dev (dpkg-shlibdeps), imagemagick, help2man.
set -euo pipefail
usage="usage: deb.sh BIN WORKDIR OUTDIR"
bin=${1:?$usage} work=${2:?$usage} out=${3:?$usage}
here=$(cd "$(dirname "$0")" && pwd)
toml=${FYNEAPP_TOML:-FyneApp.toml}

# toml SECTION KEY — a string value, or an array of strings as a;b;c; (the
# desktop-entry list form). FyneApp.toml is flat: one key = value a line.
toml() {
	awk -v want="$1" -v key="$2" '
		/^[[:space:]]*\[/ { sec = $0; gsub(/[][[:space:]]/, "", sec); next }
		sec == want && $0 ~ "^[[:space:]]*" key "[[:space:]]*=" {
			v = $0; sub(/^[^=]*=[[:space:]]*/, "", v); sub(/[[:space:]]*$/, "", v)
			if (v ~ /^\[/) {
				gsub(/^\[|\]$/, "", v); n = split(v, parts, /"[[:space:]]*,[[:space:]]*"/)
				out = ""; for (i = 1; i <= n; i++) { p = parts[i]; gsub(/"/, "", p); out = out p ";" }
				print out
			} else { gsub(/^"|"$/, "", v); print v }
			exit
		}' "$toml"
}
id=$(toml Details ID) name=$(toml Details Name) version=$(toml Details Version)
icon=$(toml Details Icon) website=$(toml "" Website)
generic=$(toml LinuxAndBSD GenericName) comment=$(toml LinuxAndBSD Comment)
categories=$(toml LinuxAndBSD Categories) keywords=$(toml LinuxAndBSD Keywords)
for v in id name version icon generic comment categories keywords; do
	[ -n "${!v}" ] || { echo "deb.sh: $toml has no $v" >&2; exit 1; }
done
# The one-line summary (metainfo, and the package's synopsis).
summary="$generic for chat, calls and files, with no server"
arch=$(dpkg --print-architecture)
# The release date is the day FyneApp.toml last changed (where the version is set),
# so two builds of one commit make the same metainfo; outside git, today.
date=$(git log -1 --format=%cs -- "$toml" 2>/dev/null || true)
date=${date:-$(date -u +%F)}

root="$work/root"
rm -rf "$work" && mkdir -p "$root/DEBIAN"
install -D -m 0755 "$bin" "$root/usr/bin/parley"

# The desktop entry. StartupWMClass: GLFW names the X11 window class after the
# window's title ("Parley", app/run.go), which is how a dock ties the window to
# this entry.
apps="$root/usr/share/applications"
mkdir -p "$apps"
cat > "$apps/$id.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=$name
GenericName=$generic
Comment=$comment
Exec=parley
Icon=$id
Terminal=false
Categories=$categories
Keywords=$keywords
StartupWMClass=$name
DESKTOP

# The hicolor icon set: every size a desktop asks for up to the source's 256 px
# (a larger one would only be the same pixels, blurred).
for size in 16 22 24 32 48 64 128 256; do
	dir="$root/usr/share/icons/hicolor/${size}x${size}/apps"
	mkdir -p "$dir"
	/usr/bin/convert "$icon" -resize "${size}x${size}" -strip "$dir/$id.png"
done

# AppStream metainfo: the template's @…@ fields from FyneApp.toml (the
# categories are the desktop entry's; appstreamcli wants them in the metainfo too).
mkdir -p "$root/usr/share/metainfo"
cats=$(tr ';' '\n' <<<"$categories" | sed -n 's|.\+|    <category>&</category>\\|p')
sed -e "s|@ID@|$id|g" -e "s|@NAME@|$name|g" -e "s|@SUMMARY@|$summary|g" \
	-e "s|@VERSION@|$version|g" -e "s|@DATE@|$date|g" -e "s|@WEBSITE@|$website|g" \
	-e "/@CATEGORIES@/c\\
${cats%\\}" "$here/metainfo.xml.in" > "$root/usr/share/metainfo/$id.metainfo.xml"

# The manual page, from the binary's own --help (so it lists exactly its flags)
# plus the sections in parley.h2m. Go's flag package prints the usage on stderr,
# after the log lines Fyne writes while it starts (a locale it cannot parse, "C");
# the wrapper keeps the usage only, under the name a user types.
mkdir -p "$root/usr/share/man/man1"
cat > "$work/parley" <<WRAP
#!/bin/sh
"$root/usr/bin/parley" "\$@" 2>&1 | sed -e '/^[0-9]\\{4\\}\\/[0-9][0-9]\\/[0-9][0-9] /d' \\
	-e 's/^Usage of .*:\$/Usage: parley [OPTION].../'
WRAP
chmod +x "$work/parley"
SOURCE_DATE_EPOCH=$(date -u -d "$date" +%s) help2man --no-info --name="$comment" --version-string="$version" \
	--include="$here/parley.h2m" --output="$work/parley.1" "$work/parley"
gzip -9n < "$work/parley.1" > "$root/usr/share/man/man1/parley.1.gz"

doc="$root/usr/share/doc/parley"
mkdir -p "$doc"
cp "$here/copyright" "$doc/copyright"
{
	echo "parley ($version) unstable; urgency=medium"
	echo
	echo "  * Release $version, built from FyneApp.toml."
	echo
	echo " -- $name <maintainers@${website#https://}>  $(date -u -d "$date" -R)"
} | gzip -9n > "$doc/changelog.gz"

# Depends. dpkg-shlibdeps maps each NEEDED library to the package and version
# that provides it; it wants a debian/control beside it, so it runs in WORKDIR.
mkdir -p "$work/debian"
printf 'Source: parley\n\nPackage: parley\nArchitecture: any\n' > "$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O root/usr/bin/parley | sed -n 's/^shlibs:Depends=//p')
# The libraries the binary opens at run time with dlopen, which its ELF header
# does not list (strings(1) shows their sonames in the binary). GLFW, under Fyne,
# opens these X extensions for an ordinary window: cursor shapes (Xcursor), input
# (XInput2), monitors and their scale (Xinerama, RandR) and gamma (XF86VidMode);
# GLFW treats each as optional, so without one that feature is just missing. miniaudio (calls) opens PulseAudio's
# client library, else ALSA's: without either there is no microphone or speaker.
# Left out: EGL, GLES, OSMesa and Vulkan (GLFW's fallbacks to GLX, which libgl1
# brings), X11-xcb and Xrender (brought by libgl1 and Xcursor), JACK (a third
# sound system). Each soname is mapped to the package holding it on this machine
# (dpkg -S), and must still be in the binary, so the list cannot go stale
# unnoticed. One entry per dependency, alternatives joined by |.
dlopened=(libXcursor.so.1 libXi.so.6 libXinerama.so.1 libXrandr.so.2 libXxf86vm.so.1
	"libpulse.so.0|libasound.so.2")
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
dlopen_depends=""
for entry in "${dlopened[@]}"; do
	alts=""
	for so in ${entry//|/ }; do
		grep -qaF "$so" "$bin" || { echo "deb.sh: $bin no longer names $so: revisit dlopened" >&2; exit 1; }
		pkg=$(dpkg -S "/usr/lib/$multiarch/$so" | head -1 | cut -d: -f1)
		alts="${alts:+$alts | }$pkg"
	done
	dlopen_depends="$dlopen_depends, $alts"
done
depends="$shlibs$dlopen_depends"
# Recommends xdg-utils: Fyne opens links and files (Open, Show in folder) with
# xdg-open (fyne app/app_xdg.go).

cat > "$root/DEBIAN/control" <<CONTROL
Package: parley
Version: $version
Architecture: $arch
Maintainer: $name <maintainers@${website#https://}>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Recommends: xdg-utils
Section: net
Priority: optional
Homepage: $website
Description: $summary
$(fold -s -w 72 <<<"$comment." | sed 's/ *$//; s/^/ /')
 .
 Parley finds the people on the same network by itself (mDNS and link
 beacons) and carries messages with receipts, voice calls and files between
 the machines, encrypted, relayed through another peer only when
 two cannot reach each other. No server, no accounts, no internet needed.
CONTROL

mkdir -p "$out"
deb="$out/parley_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
