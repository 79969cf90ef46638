#!/usr/bin/env bash
# ffmpeg.sh: builds the minimal LGPL FFmpeg of @camtrack/ffmpeg-linux-x64 from Debian's pinned source package and
# prints its install prefix: lib/ (shared libavformat/libavcodec/libavutil/libswscale + libavfilter for the ffmpeg
# tool, names suffixed $FFMPEG_BUILD_SUFFIX, RUNPATH $ORIGIN), include/, lib/pkgconfig/, bin/ffmpeg, and
# share/camtrack-ffmpeg/ (configure line, licence texts, Debian's copyright file, the source's identity).
#
# Only what camtrack uses is enabled (--disable-autodetect --disable-everything): the decoders, parsers, demuxers,
# protocols and bitstream filters of camtrack's inputs, FFmpeg's own MJPEG and MPEG-4 Part 2 encoders (snapshots; the
# demo scene) and the mp4 muxer with the pieces the ffmpeg tool needs to encode the demo scene from raw frames.
# LGPL only: no --enable-gpl, --enable-nonfree or --enable-version3, and no external library but zlib (PNG). No TLS:
# https:// inputs need the source build (docs/install.md says why). Needs nasm (x86 SIMD), a C compiler, make and
# patchelf.
# Cached in $CACHE/ffmpeg/<version>-<hash of the version, the configure options and recipe_rev>/.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# What camtrack decodes and reads (src/config/schema.ts DEFAULT_INPUT_FORMATS, native/core/decode): video decoders
# and their parsers; audio decoders only so that opening a stream with AAC/G.711 audio does not probe for seconds
# (libavformat's stream-info probe wants a decoder for every stream; camtrack then discards them).
decoders=h264,hevc,mjpeg,png,bmp,mpeg4,rawvideo,aac,pcm_alaw,pcm_mulaw
parsers=h264,hevc,mjpeg,png,mpeg4video,aac
demuxers=mov,matroska,mpegts,flv,avi,nut,h264,hevc,m4v,mjpeg,rtsp,rtp,sdp,image2,image_jpeg_pipe,image_png_pipe
demuxers+=,image_bmp_pipe,rawvideo
protocols=file,pipe,tcp,udp,http,rtp
bsfs=h264_mp4toannexb,hevc_mp4toannexb
# Encoding: MJPEG (snapshots), MPEG-4 Part 2 (the demo scene: an LGPL encoder, FFmpeg's own), into mp4/mov/mjpeg;
# filters the ffmpeg tool inserts to convert raw RGB frames (scale, format; its own always-selected ones come too).
encoders=mjpeg,mpeg4,rawvideo
muxers=mp4,mov,mjpeg,image2,rawvideo,null
filters=scale,format,null,fps,setpts

options=(
  --build-suffix="$FFMPEG_BUILD_SUFFIX"
  --disable-autodetect --disable-everything
  --enable-shared --disable-static --enable-pic --disable-debug --disable-doc
  --disable-programs --enable-ffmpeg
  --disable-avdevice --disable-swresample --disable-postproc
  --enable-zlib
  --enable-decoder=$decoders --enable-parser=$parsers --enable-demuxer=$demuxers --enable-protocol=$protocols
  --enable-bsf=$bsfs --enable-encoder=$encoders --enable-muxer=$muxers --enable-filter=$filters
)
# Bump when a build step below changes what is built (the cache key is the version, the options and this).
recipe_rev=1
key=$(echo "$FFMPEG_DEB_VERSION $FFMPEG_BUILD_SUFFIX ${options[*]} $recipe_rev" | sha256sum | cut -c1-12)
out="$CACHE/ffmpeg/$(noepoch "$FFMPEG_DEB_VERSION")-$key"
prefix="$out/prefix"
conf=(--prefix="$prefix" --libdir="$prefix/lib" --shlibdir="$prefix/lib" --incdir="$prefix/include" "${options[@]}")
src=$("$PREBUILT_SCRIPTS/fetch-source.sh" ffmpeg "$FFMPEG_DEB_VERSION" "$FFMPEG_DSC_SHA256")
if [ ! -f "$out/.done" ]; then
  command -v nasm >/dev/null || die "nasm is missing (Debian package nasm): FFmpeg's x86 SIMD code needs it"
  command -v patchelf >/dev/null || die "patchelf is missing (Debian package patchelf)"
  rm -rf "$out" && mkdir -p "$out/build"
  log "FFmpeg $(noepoch "$FFMPEG_DEB_VERSION"): configure"
  t0=$SECONDS
  (cd "$out/build" && "$src/configure" "${conf[@]}" >"$out/configure.log" 2>&1) ||
    { tail -30 "$out/configure.log" >&2; die "FFmpeg's configure failed (log: $out/configure.log)"; }
  t1=$SECONDS
  log "FFmpeg: configured in $((t1 - t0)) s; make -j$JOBS"
  (cd "$out/build" && make -j"$JOBS" >"$out/make.log" 2>&1 && make install >>"$out/make.log" 2>&1) ||
    { tail -30 "$out/make.log" >&2; die "FFmpeg's build failed (log: $out/make.log)"; }
  t2=$SECONDS
  log "FFmpeg: built in $((t2 - t1)) s"
  # RUNPATH $ORIGIN: each library finds its siblings in its own folder, the ffmpeg tool finds them in ../lib. Set
  # with patchelf: a literal $ORIGIN does not survive FFmpeg's configure (eval) and Makefiles (double expansion).
  for f in "$prefix"/lib/lib*.so.*.*.*; do patchelf --set-rpath '$ORIGIN' "$f"; done
  patchelf --set-rpath '$ORIGIN/../lib' "$prefix/bin/ffmpeg"
  "$prefix/bin/ffmpeg" -hide_banner -L 2>/dev/null | grep -q 'Lesser General Public' ||
    die "bin/ffmpeg does not run, or does not say it is LGPL (ffmpeg -L)"

  # LGPL check from the build's own config: no GPL, no nonfree, no version3.
  for v in CONFIG_GPL CONFIG_NONFREE CONFIG_VERSION3; do
    grep -qx "#define $v 0" "$out/build/config.h" || die "the FFmpeg build is not LGPL ($v is not 0)"
  done
  touch "$out/.done"
fi

relocatable_pc "$prefix"
# Licences and the build's identity, rewritten on every run (cheap; not part of the cache key).
doc="$prefix/share/camtrack-ffmpeg"
mkdir -p "$doc"
cp "$src/COPYING.LGPLv2.1" "$src/LICENSE.md" "$doc/"
cp "$src/debian/copyright" "$doc/debian-copyright"
{
  echo "FFmpeg $(noepoch "$FFMPEG_DEB_VERSION") from Debian's source package ffmpeg $FFMPEG_DEB_VERSION ($DEBIAN_SUITE)"
  echo "License: LGPL-2.1-or-later (no --enable-gpl, --enable-nonfree or --enable-version3)"
  echo
  echo "Configure line (run in an empty build folder; the prefix is a temporary install folder):"
  echo "<source>/configure ${conf[*]}" | sed "s#$prefix#<prefix>#g"
  echo
  echo "Source (Debian's archive; apt checks the files against the archive's signed Sources index):"
  echo "  echo 'deb-src http://deb.debian.org/debian-security $DEBIAN_SUITE-security main' > /etc/apt/sources.list.d/src.list"
  echo "  apt-get update && apt-get source ffmpeg=$FFMPEG_DEB_VERSION     # unpacks with Debian's patches applied"
  echo "  or: https://snapshot.debian.org/package/ffmpeg/$(noepoch "$FFMPEG_DEB_VERSION")/"
  echo "sha256 of the source files:"
  (cd "$(dirname "$src")" && sha256sum ./*.dsc ./*.tar.* | sed 's#\./##; s/^/  /')
  echo "The build script: scripts/prebuilt/ffmpeg.sh in camtrack's repository (npm run prebuild)."
} >"$doc/BUILD.txt"
echo "$prefix"
