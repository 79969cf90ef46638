# Pins of what the prebuilt packages are made from (sourced by scripts/prebuilt/*.sh and read by scripts/prebuild.mjs).
# Sources are Debian 12 (bookworm) source packages, fetched with apt's own source download through a temporary
# deb-src list (the system's apt sources are not changed) and checked against the .dsc sha256 below; apt itself checks
# the .dsc against the archive's signed Sources index and the tarballs against the .dsc.
# When the archive drops a pinned version (a Debian security update replaces it), the fetch stops and says so: bump
# the version and its .dsc sha256 here (`apt-get source --download-only ffmpeg` + `sha256sum *.dsc`), or fetch the
# exact old files from https://snapshot.debian.org/package/<name>/<version>/.
DEBIAN_SUITE=bookworm
FFMPEG_DEB_VERSION=7:5.1.9-0+deb12u1
FFMPEG_DSC_SHA256=055f82fca9a92f1d47216be2c2488d09373c7ca154806fbc36b0127c191d5104
LIBJPEG_TURBO_DEB_VERSION=1:2.1.5-2
LIBJPEG_TURBO_DSC_SHA256=d718ead0dfbcbc8523665c02a7f7152e31039ded641d022868722623bb3b486d
# Suffix of the bundled FFmpeg's library names (libavcodec_camtrack.so.59): never mistaken for, or replaced by, a
# system FFmpeg of the same major version loaded in the same process.
FFMPEG_BUILD_SUFFIX=_camtrack
# Highest glibc symbol version the prebuilt binaries may need (Ubuntu 22.04 has 2.35); checked with objdump -T.
GLIBC_FLOOR_MAX=2.35
