# Shared by scripts/prebuilt/*.sh: the cache root, logging, and the build parallelism.
# CAMTRACK_PREBUILT_CACHE overrides the cache root (default: <repo>/.cache/prebuilt, git-ignored); entries are keyed by
# the pinned version and a hash of what determines them (build options, recipe), so a rerun reuses them and a changed
# recipe rebuilds.
set -euo pipefail
PREBUILT_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$PREBUILT_SCRIPTS/../.." && pwd)"
# shellcheck source=versions.sh
. "$PREBUILT_SCRIPTS/versions.sh"
CACHE="${CAMTRACK_PREBUILT_CACHE:-$REPO_ROOT/.cache/prebuilt}"
JOBS="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
log() { echo "[prebuilt] $*" >&2; }
die() { echo "[prebuilt] error: $*" >&2; exit 1; }
# Debian version without the epoch, as in source file names: 7:5.1.9-0+deb12u1 -> 5.1.9-0+deb12u1.
noepoch() { echo "${1#*:}"; }
# Makes the .pc files of an install prefix relative to their own folder (prefix=${pcfiledir}/../..): the cache can
# move (CAMTRACK_PREBUILT_CACHE) and the package ships them as they are. Idempotent.
relocatable_pc() {
  sed -i -e 's#^prefix=.*#prefix=${pcfiledir}/../..#' -e 's#^exec_prefix=.*#exec_prefix=${prefix}#' \
    -e 's#^libdir=.*#libdir=${prefix}/lib#' -e 's#^includedir=.*#includedir=${prefix}/include#' "$1"/lib/pkgconfig/*.pc
}
