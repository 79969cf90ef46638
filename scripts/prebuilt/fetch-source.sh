#!/usr/bin/env bash
# fetch-source.sh <debian source package> <version> <.dsc sha256>: downloads Debian's source package with apt's own
# source download (a temporary deb-src list and apt state under the cache; the system's apt sources are untouched),
# checks the .dsc sha256 against the pin, unpacks it with dpkg-source (Debian's patches applied) and prints the
# unpacked tree's path. Cached: $CACHE/src/<name>_<version>/ holds the downloaded files and the tree.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
name=$1 version=$2 want_sha=$3
dir="$CACHE/src/${name}_$(noepoch "$version")"
tree="$dir/tree"
if [ -f "$dir/.done" ]; then echo "$tree"; exit 0; fi
command -v dpkg-source >/dev/null || die "dpkg-source is missing (Debian package dpkg-dev)"
rm -rf "$dir" && mkdir -p "$dir"
apt_dir="$CACHE/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring is missing (Debian package debian-archive-keyring)"
{
  for suite in "$DEBIAN_SUITE" "$DEBIAN_SUITE-updates"; do
    echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian $suite main"
  done
  echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian-security $DEBIAN_SUITE-security main"
} >"$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root -qq)
offered() { apt-cache "${apt_opts[@]}" showsrc "$name" 2>/dev/null | sed -n 's/^Version: //p' | sort -u; }
# The index is refreshed only when the pinned version is not in it yet (a fresh cache, or a bumped pin).
if ! offered | grep -qxF "$version"; then
  log "apt-get update (deb-src $DEBIAN_SUITE, temporary list under $apt_dir)"
  apt-get "${apt_opts[@]}" update >&2
fi
if ! offered | grep -qxF "$version"; then
  have=$(offered | tr '\n' ' ')
  die "Debian's archive no longer offers $name $version (it offers: ${have:-nothing}). Bump the pin in" \
      "scripts/prebuilt/versions.sh, or get the exact files from https://snapshot.debian.org/package/$name/$(noepoch "$version")/"
fi
log "apt-get source --download-only $name=$version"
(cd "$dir" && apt-get "${apt_opts[@]}" source --download-only "$name=$version" >&2)
dsc="$dir/${name}_$(noepoch "$version").dsc"
got_sha=$(sha256sum "$dsc" | cut -d' ' -f1)
[ "$got_sha" = "$want_sha" ] || die "$dsc has sha256 $got_sha, the pin says $want_sha"
(cd "$dir" && dpkg-source --no-check -x "$dsc" tree >&2)   # apt already verified the files against the signed index
touch "$dir/.done"
echo "$tree"
