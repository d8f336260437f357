#!/usr/bin/env bash
# Conventional Commits of a range of commits, checked by commitizen (`cz check`):
# `make commit-check` locally, and CI for what a push or a merge request adds (docs/ci.md).
#
# Usage: scripts/commit-check.sh [BASE..HEAD]
#        default: origin/main..HEAD (main..HEAD in a clone without an origin)
#
# The check starts after commit 8788b92 (CHECK_AFTER): four commits on main up to it fail
# commitizen's check, they predate it, and published history is not rewritten. A BASE
# that does not contain CHECK_AFTER - empty or all zeros (a new branch, a manual run,
# GitLab's merge-request pipelines), unknown to the clone, or older - is replaced by it.
# A range with no commits passes.
set -euo pipefail

CHECK_AFTER="${COMMIT_CHECK_AFTER:-8788b924f85a365fbcacab589f000a854a75217a}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CZ="${CZ:-$ROOT/.venv/bin/cz}"

range="${1:-}"
if [ -z "$range" ]; then
  upstream=origin/main
  git rev-parse -q --verify "$upstream^{commit}" >/dev/null || upstream=main
  range="$upstream..HEAD"
fi
case "$range" in
  *..*) base="${range%%..*}" head="${range#*..}" ;;
  *) echo "commit-check: expected a range BASE..HEAD, got '$range'" >&2; exit 2 ;;
esac
head="${head:-HEAD}"

git rev-parse -q --verify "$CHECK_AFTER^{commit}" >/dev/null || {
  echo "commit-check: commit $CHECK_AFTER is not in this clone: fetch the whole history" \
    "(actions/checkout fetch-depth: 0, GitLab GIT_DEPTH: 0)" >&2
  exit 2
}
if [ -z "$base" ] || ! git rev-parse -q --verify "$base^{commit}" >/dev/null \
  || ! git merge-base --is-ancestor "$CHECK_AFTER" "$base"; then
  base="$CHECK_AFTER"
fi

count="$(git rev-list --count "$base..$head")"
echo "commit-check: $count commit(s) in $base..$head"
if [ "$count" -eq 0 ]; then
  exit 0
fi
exec "$CZ" check --rev-range "$base..$head"
