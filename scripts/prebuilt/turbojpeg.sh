#!/usr/bin/env bash
# turbojpeg.sh: builds libjpeg-turbo's TurboJPEG shared library (libturbojpeg.so.0, what camtrack's pushed-JPEG decoder
# links) from Debian's pinned libjpeg-turbo source package, with its SIMD code (nasm), and prints its install prefix:
# lib/libturbojpeg.so*, include/turbojpeg.h, lib/pkgconfig/libturbojpeg.pc and share/camtrack-libjpeg-turbo/
# (licence texts, Debian's copyright file, the source's identity). Licence: IJG + BSD-3-Clause + zlib (LICENSE.md).
# Cached in $CACHE/turbojpeg/<version>-<hash of the version, the CMake options and recipe_rev>/.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
options=(-DCMAKE_BUILD_TYPE=Release -DENABLE_SHARED=ON -DENABLE_STATIC=OFF -DWITH_TURBOJPEG=ON -DWITH_JAVA=OFF
         -DWITH_SIMD=ON -DREQUIRE_SIMD=ON -DCMAKE_SKIP_RPATH=ON)
# Bump when a build step below changes what is built (the cache key is the version, the options and this).
recipe_rev=1
key=$(echo "$LIBJPEG_TURBO_DEB_VERSION ${options[*]} $recipe_rev" | sha256sum | cut -c1-12)
out="$CACHE/turbojpeg/$(noepoch "$LIBJPEG_TURBO_DEB_VERSION")-$key"
prefix="$out/prefix"
conf=(-DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib "${options[@]}")
src=$("$PREBUILT_SCRIPTS/fetch-source.sh" libjpeg-turbo "$LIBJPEG_TURBO_DEB_VERSION" "$LIBJPEG_TURBO_DSC_SHA256")
if [ ! -f "$out/.done" ]; then
  command -v nasm >/dev/null || die "nasm is missing (Debian package nasm): libjpeg-turbo's SIMD code needs it"
  command -v cmake >/dev/null || die "cmake is missing"
  rm -rf "$out" && mkdir -p "$out/build"
  log "libjpeg-turbo $(noepoch "$LIBJPEG_TURBO_DEB_VERSION"): configure + build (target turbojpeg)"
  t0=$SECONDS
  (cd "$out/build" && cmake -S "$src" -B . "${conf[@]}" >"$out/build.log" 2>&1 &&
    cmake --build . --target turbojpeg -j "$JOBS" >>"$out/build.log" 2>&1) ||
    { tail -30 "$out/build.log" >&2; die "libjpeg-turbo's build failed (log: $out/build.log)"; }
  log "libjpeg-turbo: built in $((SECONDS - t0)) s"
  mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
  cp -P "$out/build"/libturbojpeg.so* "$prefix/lib/"
  strip --strip-unneeded "$prefix/lib/libturbojpeg.so."*.*.*
  cp "$src/turbojpeg.h" "$prefix/include/"
  cp "$out/build/pkgscripts/libturbojpeg.pc" "$prefix/lib/pkgconfig/"
  touch "$out/.done"
fi

relocatable_pc "$prefix"
# Licences and the build's identity, rewritten on every run (cheap; not part of the cache key).
doc="$prefix/share/camtrack-libjpeg-turbo"
mkdir -p "$doc"
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
echo "$prefix"
