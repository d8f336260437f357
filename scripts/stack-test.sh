#!/usr/bin/env bash
# Whole-system test of the container deliverables, as CI and a new operator run them:
#
#   1. the image builds (its builder stage runs the unit tests, ruff, mypy, bandit);
#   2. `docker compose --profile testing up --exit-code-from test-service` passes
#      (the e2e suite against nginx -> web -> Redis/MariaDB over the compose network);
#   3. operator checks on a fresh `up -d`: every service healthy, `/` counts through
#      nginx, worker and beat run, nginx's request size limit and ingest rate limit,
#      the counts survive `down` + `up` (named volumes), the image runs as non-root
#      and carries no test or build tools; Flower (profile `ops`) answers through nginx
#      with the credentials of FLOWER_HTPASSWD only and publishes no port;
#   4. the PostgreSQL variant (compose.postgres.yaml) migrates and counts;
#   5. deploy/compose.yaml runs the same image as a "released" one.
#
# Uses ../shared/tools/docker-offline next to the repository (CI's layout) unless
# DOCKER_OFFLINE points elsewhere. Everything it starts is removed on exit (`down -v`);
# the docker daemon is stopped again only if this script started it.
#
# Environment: HTTP_PORT (default 18080, or a free port when that one is taken),
#              STACK_TEST_SKIP_POSTGRES=1 / STACK_TEST_SKIP_DEPLOY=1 skip steps 4 / 5.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib/docker-offline.sh
source scripts/lib/docker-offline.sh

T0=$(date +%s)
TS=$T0
step() {
  local now; now=$(date +%s)
  printf '[stack-test +%4ss, step %4ss] %s\n' "$((now - T0))" "$((now - TS))" "$*"
  TS=$now
}
FAILS=0
pass() { printf '  PASS %s\n' "$*"; }
fail() { printf '  FAIL %s\n' "$*"; FAILS=$((FAILS + 1)); }
check() { # check DESCRIPTION COMMAND...: PASS/FAIL by the command's exit status
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ -z "${HTTP_PORT:-}" ]; then
  HTTP_PORT=18080
  port_free "$HTTP_PORT" \
    || HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi

"$TOOL/up.sh" debian python redis mariadb nginx postgres
step "docker engine and base images ready"

WORK="$(mktemp -d /tmp/pt-stack-test.XXXXXX)"
PROJECT="ptstack$$"
IMAGE="page-tracker-stacktest"
TAG="$PROJECT"
rand() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }
DB_PASSWORD=$(rand)
FLOWER_PASSWORD=$(rand)
# Own env file: the run neither reads nor disturbs a developer's .env.
cat >"$WORK/stack.env" <<EOF
COMPOSE_PROJECT_NAME=$PROJECT
HTTP_PORT=$HTTP_PORT
SECRET_KEY=$(rand)$(rand)
DB_PASSWORD=$DB_PASSWORD
DB_ROOT_PASSWORD=$(rand)
PAGE_TRACKER_IMAGE=$IMAGE
PAGE_TRACKER_TAG=$TAG
VERSION=0.0.0-stacktest
REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
WEB_WORKERS=2
FLOWER_HTPASSWD='stack:$(openssl passwd -6 "$FLOWER_PASSWORD")'
EOF
dc() { docker-compose --env-file "$WORK/stack.env" -p "$PROJECT" "$@"; }
dc_pg() { dc -f compose.yaml -f compose.postgres.yaml "$@"; }
dc_deploy() {
  REGISTRY=stacktest.invalid VERSION="$TAG" ENV_FILE="$WORK/stack.env" \
    docker-compose --env-file "$WORK/stack.env" -p "${PROJECT}deploy" \
    -f deploy/compose.yaml "$@"
}

cleanup() {
  local rc=$?
  set +e
  if [ "$FAILS" -gt 0 ] || [ "$rc" -ne 0 ]; then
    echo "--- docker-compose ps / logs (tail) ---"
    dc --profile testing ps
    dc --profile testing logs --no-color --tail=40
  fi
  dc --profile testing --profile ops down -v --remove-orphans -t 5 >/dev/null 2>&1
  dc_pg down -v --remove-orphans -t 5 >/dev/null 2>&1
  dc_deploy down -v --remove-orphans -t 5 >/dev/null 2>&1
  docker rmi "stacktest.invalid/page-tracker:$TAG" >/dev/null 2>&1
  rm -rf "$WORK"
  if [ -z "$DOCKER_WAS_RUNNING" ]; then "$TOOL/down.sh" >/dev/null; fi
  step "cleaned up"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Every container of the project healthy (or, without a healthcheck, running); one-shot
# containers must have exited 0. Gives up after $2 seconds (default 240).
wait_healthy() {
  local project=$1 deadline=$(( $(date +%s) + ${2:-240} )) states
  while :; do
    states=$(docker ps -a --filter "label=com.docker.compose.project=$project" \
      --format '{{.Names}}' | xargs -r docker inspect --format \
      '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.ExitCode}} {{index .Config.Labels "com.docker.compose.service"}}')
    if [ -n "$states" ] && ! awk '
        $5 == "migrate" { if ($2 != "exited" || $4 != 0) bad = 1; next }
        $2 != "running" || ($3 != "healthy" && $3 != "none") { bad = 1 }
        END { exit !bad }' <<<"$states"; then
      return 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "$states" >&2
      return 1
    fi
    sleep 3
  done
}

URL="http://127.0.0.1:$HTTP_PORT"
count() { curl -fsS --max-time 10 "$1/" | sed -n 's/^This page has been seen \([0-9]*\) times\.$/\1/p'; }

# ------------------------------------------------------------------ 1. build
dc --profile testing build
step "images built"
size=$(docker image inspect "$IMAGE:$TAG" --format '{{.Size}}')
echo "  runtime image $IMAGE:$TAG: $(( size / 1000000 )) MB"

# ------------------------------------------------------------------ 2. testing profile
# Naming test-service attaches to it alone: --exit-code-from implies
# --abort-on-container-exit, which would otherwise stop everything as soon as the
# one-shot `migrate` exits 0 (docker-compose 1.29 and Compose v2 alike).
set +e
dc --profile testing up --exit-code-from test-service test-service
testing_rc=$?
set -e
check "compose --profile testing: test-service exited $testing_rc" test "$testing_rc" -eq 0
dc --profile testing down -v -t 5
step "testing profile"

# ------------------------------------------------------------------ 3. operator checks
dc up -d
if wait_healthy "$PROJECT"; then pass "every service healthy after up -d"; else fail "services not healthy"; fi
step "stack up"

first=$(count "$URL") || true
second=$(count "$URL") || true
check "GET / counts through nginx -> granian -> Redis ($first -> $second)" \
  test -n "$first" -a "${second:-0}" = "$(( ${first:-0} + 1 ))"
rid=$(curl -fsS -o /dev/null -D - -H 'X-Request-ID: stack-test-1' "$URL/healthz" | tr -d '\r' \
  | sed -n 's/^[Xx]-[Rr]equest-[Ii][Dd]: //p')
check "X-Request-ID passed through nginx and echoed ($rid)" test "$rid" = "stack-test-1"
ready=$(curl -sS --max-time 10 "$URL/readyz")
check "readyz: database and Redis reachable ($ready)" grep -q '"status":"ok"' <<<"$ready"

for service in worker beat; do
  state=$(docker inspect --format '{{.State.Status}} {{.State.Health.Status}}' \
    "$(dc ps -q "$service")")
  check "$service container running and healthy ($state)" test "$state" = "running healthy"
done

# Redis mode end to end: a hit accepted through nginx reaches the database once beat
# has scheduled a flush and the worker has run it.
site=$(dc exec -T web page-tracker sites create stack-test.example | tail -n 1 | tr -d '\r')
accepted=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' \
  -H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' \
  --data "{\"site\":\"$site\",\"url\":\"https://stack-test.example/\"}" "$URL/api/v1/hits")
flushed=
for _ in $(seq 30); do
  flushed=$(dc exec -T db mariadb -u page_tracker -p"$DB_PASSWORD" page_tracker -N -e \
    "SELECT pageviews FROM stat_totals WHERE site_id = '$site' AND path_id = 0" 2>/dev/null \
    | tr -d '\r') || true
  [ "$flushed" = 1 ] && break
  sleep 2
done
check "hit accepted by web ($accepted) and flushed to MariaDB by beat + worker (pageviews=$flushed)" \
  test "$accepted" = 202 -a "$flushed" = 1

big=$(head -c 200000 /dev/zero | tr '\0' a | curl -sS -o /dev/null -w '%{http_code}' \
  -H 'Content-Type: application/json' --data-binary @- "$URL/api/v1/hits")
check "request body over the limit refused by nginx ($big)" test "$big" = 413

# 250 requests on one keep-alive connection: far above 20/s + a burst of 100.
statuses() { # statuses URL N: N requests on one keep-alive connection, "count status" pairs
  local args=() _
  for _ in $(seq "$2"); do args+=(-o /dev/null "$1"); done
  curl -s -w '%{http_code}\n' "${args[@]}" | sort | uniq -c | tr -s ' \n' ' '
}
codes=$(statuses "$URL/count.gif" 250)
check "ingest path rate limited: some 429 among 250 rapid hits ($codes)" grep -q ' 429' <<<"$codes"
codes=$(statuses "$URL/healthz" 250)
check "other paths not rate limited ($codes)" test "$codes" = " 250 200 "

js=$(curl -sS -o /dev/null -D - -H 'Accept-Encoding: gzip' "$URL/pt.js" | tr -d '\r')
if grep -q '^HTTP/1.1 200' <<<"$js"; then
  check "/pt.js gzipped with a long cache" \
    grep -qi '^cache-control: public, max-age=604800' <<<"$js"
  check "/pt.js gzip" grep -qi '^content-encoding: gzip' <<<"$js"
else
  echo "  SKIP /pt.js checks: this build does not serve /pt.js ($(head -1 <<<"$js"))"
fi

# Flower (profile `ops`): reachable through nginx with the credentials only.
dc --profile ops up -d flower
if wait_healthy "$PROJECT" 120; then pass "Flower healthy"; else fail "Flower not healthy"; fi
flower() { curl -sS -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$URL/flower/"; }
check "Flower without credentials refused ($(flower))" test "$(flower)" = 401
check "Flower with a wrong password refused ($(flower -u stack:wrong))" \
  test "$(flower -u stack:wrong)" = 401
page=$(curl -fsS --max-time 10 -u "stack:$FLOWER_PASSWORD" "$URL/flower/") || true
check "Flower with the credentials of FLOWER_HTPASSWD" grep -q '<title>.*Flower</title>' <<<"$page"
ports=$(docker port "$(dc --profile ops ps -q flower)")
check "Flower publishes no port${ports:+ ($ports)}" test -z "$ports"
dc --profile ops rm -sf flower >/dev/null
step "Flower"

dc down -t 10
dc up -d
if wait_healthy "$PROJECT"; then pass "healthy again after down + up"; else fail "not healthy after restart"; fi
third=$(count "$URL") || true
check "count kept across down + up (volumes): $second -> $third" \
  test "${third:-0}" = "$(( ${second:-0} + 1 ))"

uid=$(docker run --rm --entrypoint id "$IMAGE:$TAG" -u)
check "image runs as a non-root user (uid $uid)" test "$uid" != 0
tools=$(docker run --rm --entrypoint sh "$IMAGE:$TAG" -c \
  'for t in pytest ruff mypy bandit uv gcc cc make; do command -v "$t"; done;
   for m in pytest ruff mypy bandit coverage; do python -c "import $m" 2>/dev/null && echo "module $m"; done;
   ls /src 2>/dev/null; true')
check "image carries no test or build tools${tools:+ (found: $(tr '\n' ' ' <<<"$tools"))}" \
  test -z "$tools"
labels=$(docker image inspect "$IMAGE:$TAG" --format \
  '{{index .Config.Labels "org.opencontainers.image.version"}} {{index .Config.Labels "org.opencontainers.image.revision"}}')
check "OCI labels from the build args ($labels)" test "${labels%% *}" = 0.0.0-stacktest
dc down -v -t 5
step "operator checks"

# ------------------------------------------------------------------ 4. PostgreSQL variant
if [ -z "${STACK_TEST_SKIP_POSTGRES:-}" ]; then
  dc_pg up -d
  if wait_healthy "$PROJECT"; then pass "PostgreSQL variant healthy"; else fail "PostgreSQL variant not healthy"; fi
  a=$(count "$URL") || true
  b=$(count "$URL") || true
  check "PostgreSQL variant counts ($a -> $b)" test -n "$a" -a "${b:-0}" = "$(( ${a:-0} + 1 ))"
  db_image=$(docker inspect --format '{{.Config.Image}}' "$(dc_pg ps -q db)")
  check "PostgreSQL variant runs $db_image" test "$db_image" = postgres:15
  dc_pg down -v -t 5
  step "PostgreSQL variant"
fi

# ------------------------------------------------------------------ 5. deploy/compose.yaml
if [ -z "${STACK_TEST_SKIP_DEPLOY:-}" ]; then
  # The image as a registry would deliver it: nothing is pulled, the tag exists locally.
  docker tag "$IMAGE:$TAG" "stacktest.invalid/page-tracker:$TAG"
  dc_deploy up -d --no-build
  if wait_healthy "${PROJECT}deploy"; then pass "deploy/compose.yaml healthy"; else fail "deploy/compose.yaml not healthy"; fi
  a=$(count "$URL") || true
  b=$(count "$URL") || true
  check "deploy/compose.yaml counts ($a -> $b)" test -n "$a" -a "${b:-0}" = "$(( ${a:-0} + 1 ))"
  policy=$(docker inspect --format '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.LogConfig.Type}}' \
    "$(dc_deploy ps -q web)")
  check "deployed web: restart policy and log driver ($policy)" test "$policy" = "unless-stopped json-file"
  dc_deploy down -v -t 5
  step "deploy/compose.yaml"
fi

if [ "$FAILS" -gt 0 ]; then
  echo "stack-test: $FAILS check(s) failed"
  exit 1
fi
echo "stack-test: all checks passed in $(( $(date +%s) - T0 ))s"
