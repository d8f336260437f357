"""``/api/v1/openapi.json`` and the interactive docs at ``/api/v1/docs`` (Swagger UI,
vendored from npm: ``make vendor-js``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app

from page_tracker.api.openapi import build_document
from page_tracker.extensions import Extension

STATIC = Path(__file__).parent / "static"
OPENAPI: Extension[dict[str, Any]] = Extension(
    "page_tracker.openapi", "the app's OpenAPI document, built on first request"
)

blueprint = Blueprint(
    "api_docs",
    __name__,
    url_prefix="/api/v1",
    static_folder="static",
    static_url_path="/docs/static",
)


@blueprint.get("/openapi.json")
def openapi_json() -> Response:
    document = OPENAPI.find() or OPENAPI.put(current_app, build_document(current_app))
    return Response(json.dumps(document, indent=1) + "\n", content_type="application/json")


@blueprint.get("/docs")
def docs() -> Response:
    return Response((STATIC / "docs.html").read_bytes(), content_type="text/html; charset=utf-8")
