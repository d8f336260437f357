"""``/healthz`` answers while the process serves; ``/readyz`` checks the dependencies
and shows the gauges features report.

``/readyz`` answers ``503 {"status": "unavailable", "failing": [...], "details": {...}}``
when the database or Redis does not answer, or when Redis's ``maxmemory-policy`` may
evict page-tracker's keys (not accepted with ``REDIS_ACCEPT_EVICTION_RISK``); ``200
{"status": "degraded", "checks": {"redis": "full", ...}}`` when Redis is at its
``maxmemory`` (hits still stored, through the database: taking the instance out of a
load balancer would not help); else ``200 {"status": "ok", ...}``. Beside the checks,
the gauges (Redis mode: ``redis_backlog``, the stream entries not flushed yet;
``dead_letters``, hits the flush gave up on, see ``page-tracker flush --dead-letters``;
``redis_used_memory`` and ``redis_maxmemory``). A gauge does not make the process
unready: it is for the operator's eyes and alerts."""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from page_tracker.db import get_db
from page_tracker.metrics import GAUGES
from page_tracker.redis_client import REDIS
from page_tracker.redis_memory import RedisMemory, eviction_problem, read_memory
from page_tracker.settings import SETTINGS

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

OK = "ok"
FULL = "full"  # Redis at maxmemory: ready, degraded


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


def _check_database() -> str | None:
    try:
        get_db().ping()
    except SQLAlchemyError as error:
        log.warning("Readiness: database unavailable: %s", error.__class__.__name__)
        return "database unavailable"
    return None


def _redis_memory(client: redis.Redis) -> RedisMemory | None:
    try:
        client.ping()
        return read_memory(client)
    except redis.RedisError as error:
        log.warning("Readiness: redis unavailable: %s", error.__class__.__name__)
        return None


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    problems: dict[str, str | None] = {"database": _check_database()}
    states: dict[str, str] = {}
    memory_gauges: dict[str, int] = {}
    client = REDIS.find()
    if client is not None:
        memory = _redis_memory(client)
        if memory is None:
            problems["redis"] = "redis unavailable"
        else:
            accept = SETTINGS.get().redis_accept_eviction_risk
            problems["redis"] = eviction_problem(memory, accept)
            states["redis"] = FULL if memory.full else OK
            memory_gauges = {"redis_used_memory": memory.used, "redis_maxmemory": memory.limit}
    failing = {name: problem for name, problem in problems.items() if problem}
    if failing:
        body: dict[str, object] = {
            "status": "unavailable",
            "failing": sorted(failing),
            "details": failing,
        }
        response = jsonify(body)
        response.status_code = 503
        return response
    checks = {name: states.get(name, OK) for name in problems}
    status = "degraded" if FULL in checks.values() else "ok"
    return jsonify(status=status, checks=checks, **_gauges(), **memory_gauges)


def _gauges() -> dict[str, int]:
    values: dict[str, int] = {}
    for name, read in (GAUGES.find() or {}).items():
        try:
            values[name] = read()
        except (redis.RedisError, SQLAlchemyError) as error:
            log.warning("Readiness: gauge %s unavailable: %s", name, error.__class__.__name__)
    return values
