#!/usr/bin/env bash
# `make test` as on a fresh Debian 12 machine that has only Python 3.11, make and git:
# a bare `python:3.11` container on the docker-offline engine, with no Redis, MariaDB,
# PostgreSQL or Chromium installed, let alone running. `make test` installs Debian's
# servers and Chromium itself (targets test-servers, chromium) and the test session
# starts private servers on free ports (tests/private_servers.py): this run proves both.
#
# It tests what is committed: a fresh `git clone` of HEAD (or REF) is mounted into the
# container, so uncommitted changes are not part of the run. The container and the clone
# are removed on exit; the docker engine is stopped again only if this script started it.
#
# Usage:       scripts/fresh-machine-test.sh [MAKE ARGUMENTS...]   (make test-fresh-machine)
#              e.g. scripts/fresh-machine-test.sh PYTEST_ARGS=-x
# Environment: REF (default HEAD), FRESH_IMAGE (default python:3.11), DOCKER_OFFLINE.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib/docker-offline.sh
source scripts/lib/docker-offline.sh

IMAGE="${FRESH_IMAGE:-python:3.11}"
REV="$(git rev-parse --verify "${REF:-HEAD}^{commit}")"
WORK="$(mktemp -d /tmp/pt-fresh.XXXXXX)"
NAME="pt-fresh-$$"
T0=$(date +%s)

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local rc=$?
  set +e
  docker rm -f "$NAME" >/dev/null 2>&1
  rm -rf "$WORK"
  if [ -z "$DOCKER_WAS_RUNNING" ]; then "$TOOL/down.sh" >/dev/null; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$TOOL/up.sh" debian python
git clone -q --no-local "$ROOT" "$WORK/page-tracker"
git -C "$WORK/page-tracker" checkout -q --detach "$REV"
echo "fresh-machine-test: make test $* in a bare $IMAGE on $(git log -1 --format='%h %s' "$REV")"

# --shm-size: Docker's default /dev/shm of 64 MB is too small for Chromium; a machine
# has far more.
set +e
docker run --name "$NAME" --rm --shm-size=1g \
  -v "$WORK/page-tracker:/src/page-tracker" -w /src/page-tracker \
  "$IMAGE" bash -c '
    set -euo pipefail
    # The fresh machine: Python 3.11 (the image), make and git - nothing else.
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends make git >/dev/null
    for tool in redis-server mariadbd postgres chromium; do
      if command -v "$tool" >/dev/null || [ -e /usr/lib/postgresql ]; then
        echo "fresh-machine-test: $tool is already installed: not a fresh machine" >&2
        exit 2
      fi
    done
    echo "fresh-machine-test: $(python3 --version), $(make --version | head -n 1), $(git --version)"
    start=$(date +%s)
    set +e
    make test "$@"
    rc=$?
    echo "fresh-machine-test: make test exited $rc after $(( $(date +%s) - start ))s in the container"
    exit "$rc"
  ' bash "$@"
rc=$?
set -e
echo "fresh-machine-test: exit $rc, $(( $(date +%s) - T0 ))s in all (engine, clone, container)"
exit "$rc"
