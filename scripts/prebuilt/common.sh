# Shared by scripts/prebuilt/*.sh: the cache root, logging, and the build parallelism.
# CAMTRACK_PREBUILT_CACHE overrides the cache root (default: <repo>/.cache/prebuilt, git-ignored); entries are keyed by
# the pinned version and a hash of the script that makes them, so a rerun reuses them and a changed script rebuilds.
set -euo pipefail
PREBUILT_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$PREBUILT_SCRIPTS/../.." && pwd)"
# shellcheck source=versions.sh
. "$PREBUILT_SCRIPTS/versions.sh"
CACHE="${CAMTRACK_PREBUILT_CACHE:-$REPO_ROOT/.cache/prebuilt}"
JOBS="${CMAKE_BUILD_PARALLEL_LEVEL:-2}"
log() { echo "[prebuilt] $*" >&2; }
die() { echo "[prebuilt] error: $*" >&2; exit 1; }
# Short hash of files' contents (cache keys).
key_of() { cat "$@" | sha256sum | cut -c1-12; }
# Debian version without the epoch, as in source file names: 7:5.1.9-0+deb12u1 -> 5.1.9-0+deb12u1.
noepoch() { echo "${1#*:}"; }
