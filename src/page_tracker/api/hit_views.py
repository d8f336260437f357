"""``POST /api/v1/sites/{id}/hits``: server-side ingest for site owners' backends.

A backend sends its readers' page views with their address, User-Agent and time, with a
token of the ``write`` scope of a site owner (or an admin); each hit is judged and
stored as a browser's hit is (:mod:`page_tracker.ingest.server`), and the answer holds
a verdict per hit. The request's own address and headers play no part in any hit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from flask import Blueprint, current_app
from sqlalchemy.orm import Session

from page_tracker.api.hit_schemas import MAX_BATCH_BODY, HitBatch, HitBatchResult, HitVerdict
from page_tracker.auth.permissions import site_for
from page_tracker.auth.principal import require
from page_tracker.auth.tokens import Scope
from page_tracker.db import get_session, lazy_session
from page_tracker.ingest.server import record_server_hits
from page_tracker.json_api import operation

blueprint = Blueprint("api_hits", __name__, url_prefix="/api/v1")


@blueprint.post("/sites/<site_id>/hits")
@operation(
    "Count readers' page views sent by your backend (owners)",
    tag="tracking",
    access="write",
    body=HitBatch,
    responses={202: HitBatchResult},
    errors=(400, 401, 403, 404, 413, 415),
    max_body=MAX_BATCH_BODY,
)
def post_site_hits(site_id: str, body: HitBatch) -> tuple[HitBatchResult, int]:
    principal = require(Scope.WRITE)
    session = get_session()
    site_for(session, principal, site_id, manage=True)
    # The request's connection goes back to the pool before the views wait for their
    # group commit: its writer needs one.
    session.close()
    verdicts = record_server_hits(
        current_app,
        site_id,
        [hit.to_hit() for hit in body.hits],
        cast(Session, lazy_session()),
        datetime.now(UTC),
    )
    accepted = sum(verdict.accepted for verdict in verdicts)
    return HitBatchResult(
        accepted=accepted,
        rejected=len(verdicts) - accepted,
        verdicts=[
            HitVerdict(accepted=v.accepted, reason=v.reason, detail=v.detail) for v in verdicts
        ],
    ), 202
