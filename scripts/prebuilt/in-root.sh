#!/usr/bin/env bash
# in-root.sh <root> <command> [args…]: runs a command inside the test root made by test-root.sh, in a private mount
# namespace (unshare -m: /proc, /dev and /sys are mounted for the command only and vanish with it), with a clean
# environment: PATH=/usr/local/bin:/usr/bin:/bin, HOME=/root, npm pointed at the copied CA bundle. Extra variables:
# IN_ROOT_ENV="NAME=value NAME2=value2". Needs root.
set -euo pipefail
root=$1; shift
[ -x "$root/usr/local/bin/node" ] || { echo "in-root.sh: $root is not a test root (no /usr/local/bin/node)" >&2; exit 2; }
# shellcheck disable=SC2016
exec unshare -m --propagation private -- /bin/bash -c '
  set -e
  root=$1; shift
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount --rbind /sys "$root/sys"
  exec chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 NO_COLOR=1 \
    npm_config_cafile=/etc/camtrack-host-ca.crt npm_config_update_notifier=false npm_config_fund=false \
    npm_config_audit=false ${IN_ROOT_ENV:-} "$@"
' in-root "$root" "$@"
