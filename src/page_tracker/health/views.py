"""``/healthz`` answers while the process serves; ``/readyz`` checks the dependencies
and shows the gauges features report (``dead_letters`` in Redis mode: hits the flush
gave up on, see ``page-tracker flush --dead-letters``). A gauge does not make the
process unready: it is for the operator's eyes and alerts."""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from page_tracker.db import get_db
from page_tracker.metrics import GAUGES
from page_tracker.redis_client import REDIS

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


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


def _check_redis(client: redis.Redis) -> str | None:
    try:
        client.ping()
    except redis.RedisError as error:
        log.warning("Readiness: redis unavailable: %s", error.__class__.__name__)
        return "redis unavailable"
    return None


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    checks: dict[str, str | None] = {"database": _check_database()}
    client = REDIS.find()
    if client is not None:
        checks["redis"] = _check_redis(client)
    failing = {name: problem for name, problem in checks.items() if problem}
    if failing:
        body: dict[str, object] = {
            "status": "unavailable",
            "failing": sorted(failing),
            "details": failing,
        }
        response = jsonify(body)
        response.status_code = 503
        return response
    return jsonify(status="ok", checks=dict.fromkeys(checks, "ok"), **_gauges())


def _gauges() -> dict[str, int]:
    values: dict[str, int] = {}
    for name, read in (GAUGES.find() or {}).items():
        try:
            values[name] = read()
        except (redis.RedisError, SQLAlchemyError) as error:
            log.warning("Readiness: gauge %s unavailable: %s", name, error.__class__.__name__)
    return values
