#!/usr/bin/env bash
# Install Debian packages that are missing; do nothing when all are present.
# Usage: tools/apt-ensure.sh PACKAGE...   (root, or sudo when available)
# Idempotent: `dpkg-query` decides, so a machine that has them needs no network.
set -euo pipefail

missing=()
for pkg in "$@"; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ] || missing+=("$pkg")
done
[ ${#missing[@]} -gt 0 ] || exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "apt-ensure: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
echo "apt-ensure: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
# policy-rc.d-free containers may try to start the packaged services; that is harmless
# here (the tests start their own instances on free ports with their own configs).
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
