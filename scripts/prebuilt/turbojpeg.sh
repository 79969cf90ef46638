#!/usr/bin/env bash
# turbojpeg.sh: builds libjpeg-turbo's TurboJPEG shared library (libturbojpeg.so.0, what camtrack's pushed-JPEG decoder
# links) from Debian's pinned libjpeg-turbo source package, with its SIMD code (nasm), and prints its install prefix:
# lib/libturbojpeg.so*, include/turbojpeg.h, lib/pkgconfig/libturbojpeg.pc and share/camtrack-libjpeg-turbo/
# (licence texts, Debian's copyright file, the source's identity). Licence: IJG + BSD-3-Clause + zlib (LICENSE.md).
# Cached in $CACHE/turbojpeg/<version>-<hash of this script and versions.sh>/.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
key=$(key_of "$PREBUILT_SCRIPTS/turbojpeg.sh" "$PREBUILT_SCRIPTS/versions.sh")
out="$CACHE/turbojpeg/$(noepoch "$LIBJPEG_TURBO_DEB_VERSION")-$key"
prefix="$out/prefix"
if [ -f "$out/.done" ]; then echo "$prefix"; exit 0; fi
command -v nasm >/dev/null || die "nasm is missing (Debian package nasm): libjpeg-turbo's SIMD code needs it"
command -v cmake >/dev/null || die "cmake is missing"
src=$("$PREBUILT_SCRIPTS/fetch-source.sh" libjpeg-turbo "$LIBJPEG_TURBO_DEB_VERSION" "$LIBJPEG_TURBO_DSC_SHA256")
rm -rf "$out" && mkdir -p "$out/build"
conf=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib
      -DENABLE_SHARED=ON -DENABLE_STATIC=OFF -DWITH_TURBOJPEG=ON -DWITH_JAVA=OFF -DWITH_SIMD=ON -DREQUIRE_SIMD=ON
      -DCMAKE_SKIP_RPATH=ON)
log "libjpeg-turbo $(noepoch "$LIBJPEG_TURBO_DEB_VERSION"): configure + build (target turbojpeg)"
t0=$SECONDS
(cd "$out/build" && cmake -S "$src" -B . "${conf[@]}" >"$out/build.log" 2>&1 &&
  cmake --build . --target turbojpeg -j "$JOBS" >>"$out/build.log" 2>&1) ||
  { tail -30 "$out/build.log" >&2; die "libjpeg-turbo's build failed (log: $out/build.log)"; }
log "libjpeg-turbo: built in $((SECONDS - t0)) s"
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include" "$prefix/share/camtrack-libjpeg-turbo"
cp -P "$out/build"/libturbojpeg.so* "$prefix/lib/"
strip --strip-unneeded "$prefix/lib/libturbojpeg.so."*.*.*
cp "$src/turbojpeg.h" "$prefix/include/"
cp "$out/build/pkgscripts/libturbojpeg.pc" "$prefix/lib/pkgconfig/"
doc="$prefix/share/camtrack-libjpeg-turbo"
cp "$src/LICENSE.md" "$src/README.ijg" "$doc/"
cp "$src/debian/copyright" "$doc/debian-copyright"
{
  echo "libjpeg-turbo $(noepoch "$LIBJPEG_TURBO_DEB_VERSION") (TurboJPEG library only) from Debian's source package"
  echo "libjpeg-turbo $LIBJPEG_TURBO_DEB_VERSION ($DEBIAN_SUITE)"
  echo "License: IJG, BSD-3-Clause and zlib (LICENSE.md, README.ijg)"
  echo
  echo "CMake options: ${conf[*]}" | sed "s#$prefix#<prefix>#g"
  echo "Built target: turbojpeg"
  echo
  echo "Source: apt-get source libjpeg-turbo=$LIBJPEG_TURBO_DEB_VERSION (deb-src $DEBIAN_SUITE main), or"
  echo "  https://snapshot.debian.org/package/libjpeg-turbo/$(noepoch "$LIBJPEG_TURBO_DEB_VERSION")/"
  echo "sha256 of the source files:"
  (cd "$(dirname "$src")" && sha256sum ./*.dsc ./*.tar.* | sed 's#\./##; s/^/  /')
  echo "The build script: scripts/prebuilt/turbojpeg.sh in camtrack's repository (npm run prebuild)."
} >"$doc/BUILD.txt"
touch "$out/.done"
echo "$prefix"
