# shellcheck shell=bash disable=SC2034  # DOCKER_WAS_RUNNING is read by the sourcing script
# Sourced by the scripts that use the docker-offline engine (stack-test.sh,
# fresh-machine-test.sh), after they cd to the repository root: finds the tool
# (DOCKER_OFFLINE, or ../shared/tools/docker-offline beside this clone or beside the main
# worktree of a git worktree), sources its env.sh and sets
#   TOOL                the tool's directory (up.sh, down.sh)
#   DOCKER_WAS_RUNNING  non-empty when the engine already ran: a script stops it on exit
#                       only if it started it.
TOOL="${DOCKER_OFFLINE:-$PWD/../shared/tools/docker-offline}"
if [ ! -f "$TOOL/env.sh" ] && common=$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null); then
  TOOL="$(dirname "$common")/../shared/tools/docker-offline"
fi
[ -f "$TOOL/env.sh" ] || { echo "$(basename "$0"): no docker-offline tool at $TOOL" >&2; exit 2; }
# shellcheck source=/dev/null
source "$TOOL/env.sh"
DOCKER_WAS_RUNNING=
if [ -S "$DOCKER_OFFLINE_STATE/docker.sock" ] && docker info >/dev/null 2>&1; then
  DOCKER_WAS_RUNNING=1
fi
