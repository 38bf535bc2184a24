#!/bin/bash
# resource.sh WORKDIR OUT.syso — makes the Windows resources of parley.exe: the
# icon (assets/icon.png at 16–256 px) and the version block (name and version
# from FyneApp.toml, the same source `fyne package` reads on Linux). Go links a
# .syso in the main package's folder into the Windows build by itself.
# Tools: ImageMagick (the icon) and mingw-w64's windres, both Debian packages.
set -euo pipefail
work=${1:?usage: resource.sh WORKDIR OUT.syso}
out=${2:?usage: resource.sh WORKDIR OUT.syso}
toml=FyneApp.toml
field() { sed -n "s/^ *$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" "$toml" | head -1; }
name=$(field Name) version=$(field Version) build=$(field Build) id=$(field ID)
IFS=. read -r major minor patch <<<"$version"
mkdir -p "$work"
/usr/bin/convert assets/icon.png -define icon:auto-resize=256,64,48,32,16 "$work/parley.ico"
cat > "$work/parley.rc" <<RC
1 ICON "parley.ico"
1 VERSIONINFO
FILEVERSION ${major:-0},${minor:-0},${patch:-0},${build:-0}
PRODUCTVERSION ${major:-0},${minor:-0},${patch:-0},${build:-0}
FILETYPE 1
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904B0"
    BEGIN
      VALUE "CompanyName", "${name}"
      VALUE "FileDescription", "${name}: serverless LAN chat, calls and files"
      VALUE "FileVersion", "${version}"
      VALUE "InternalName", "${id}"
      VALUE "OriginalFilename", "parley.exe"
      VALUE "ProductName", "${name}"
      VALUE "ProductVersion", "${version}"
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
RC
(cd "$work" && x86_64-w64-mingw32-windres -O coff -i parley.rc -o parley.syso)
cp "$work/parley.syso" "$out"
