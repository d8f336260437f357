#!/usr/bin/env bash
# Make sure the local Redis, MariaDB and PostgreSQL answer; start any that stopped.
# The start commands are the machine's own (see the python-svc machine notes).
set -euo pipefail

wait_for() { # name, probe command...
  local name=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then echo "ci: $name is up"; return 0; fi
    sleep 1
  done
  echo "ci: $name did not come up" >&2
  return 1
}

if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  echo "ci: starting redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! mysqladmin -uroot -h127.0.0.1 ping >/dev/null 2>&1; then
  echo "ci: starting mariadb"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
if ! pg_isready -h 127.0.0.1 -q; then
  echo "ci: starting postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi

wait_for redis redis-cli -h 127.0.0.1 ping
wait_for mariadb mysqladmin -uroot -h127.0.0.1 ping
wait_for postgresql pg_isready -h 127.0.0.1 -q
