#!/usr/bin/env bash
# test-root.sh: makes (once, cached) a minimal Debian root with debootstrap (--variant=minbase, from deb.debian.org)
# and prints its path: no FFmpeg, no compiler, no cmake, no pkg-config in it (checked). This machine's Node binary
# and npm are copied in at /usr/local (refreshed when the Node version changes), as a user would install Node.
# test/e2e/package.test.ts installs the packed tarballs into a fresh project there (scripts/prebuilt/in-root.sh).
# Needs root (debootstrap, chroot). Cached in $CACHE/root/<suite>-minbase-<hash of the recipe>/rootfs.
# --existing: only print the path of a root made before (exit 3 when there is none; the tests use this).
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
existing=0
if [ "${1:-}" = --existing ]; then existing=1; fi
[ "$(id -u)" = 0 ] || die "test-root.sh needs root (debootstrap and chroot)"
command -v debootstrap >/dev/null || die "debootstrap is missing (Debian package debootstrap)"
# The key is what goes into the root (bump the recipe when the debootstrap line changes), not this whole script.
recipe="debootstrap --variant=minbase $DEBIAN_SUITE http://deb.debian.org/debian (1)"
key=$(echo "$recipe" | sha256sum | cut -c1-12)
dir="$CACHE/root/$DEBIAN_SUITE-minbase-$key"
root="$dir/rootfs"
if [ ! -f "$dir/.done" ] && [ "$existing" = 1 ]; then
  echo "[prebuilt] no test root yet ($dir): scripts/prebuilt/test-root.sh makes it" >&2
  exit 3
fi
if [ ! -f "$dir/.done" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  log "debootstrap --variant=minbase $DEBIAN_SUITE (log: $dir/debootstrap.log)"
  t0=$SECONDS
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$root" http://deb.debian.org/debian >"$dir/debootstrap.log" 2>&1 ||
    { tail -20 "$dir/debootstrap.log" >&2; die "debootstrap failed (log: $dir/debootstrap.log)"; }
  rm -rf "$root/var/cache/apt/archives/"*.deb
  log "debootstrap: $((SECONDS - t0)) s, $(du -sh "$root" | cut -f1)"
  touch "$dir/.done"
fi
# What the root must not have: a user machine without FFmpeg or a toolchain.
for tool in ffmpeg ffprobe cc gcc g++ c++ cmake make pkg-config nasm; do
  for d in usr/bin bin usr/local/bin; do
    [ ! -e "$root/$d/$tool" ] || die "$root/$d/$tool exists: the test root must have no $tool"
  done
done
if compgen -G "$root/usr/lib/x86_64-linux-gnu/libav*" >/dev/null; then die "the test root has FFmpeg libraries"; fi
# Node and npm from this machine (/usr/bin/node is one self-contained binary; it needs libstdc++6, which minbase has).
node_bin=$(command -v node)
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[ -f "$npm_dir/package.json" ] || die "cannot find npm's own folder (from $(command -v npm))"
want="$(node --version) npm $(node -p "require('$npm_dir/package.json').version")"
if [ "$(cat "$dir/node.version" 2>/dev/null)" != "$want" ]; then
  log "copying Node $want into the test root"
  rm -rf "$root/usr/local/lib/node_modules/npm"
  mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules"
  cp "$(readlink -f "$node_bin")" "$root/usr/local/bin/node"
  cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  echo "$want" >"$dir/node.version"
fi
# Network settings a user's machine has: name resolution and the CA bundle (this network's egress CA included).
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/camtrack-host-ca.crt"
echo "$root"
