"""The hit routes on the lean way in (:mod:`page_tracker.lean_path`): ``POST
/api/v1/hits`` and ``GET /count.gif`` answered without Flask's dispatch, by the same
route functions the Flask views adapt (:mod:`page_tracker.ingest.routes`). A hits body
is read by the route itself, within its limit
(:func:`page_tracker.ingest.parsing.read_body`), whatever its size or framing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from page_tracker.ingest.routes import HITS_PATH, PIXEL_PATH, IngestRequest, IngestRoutes
from page_tracker.lean_path import LeanResponse, add_route


def install(app: Flask, routes: IngestRoutes) -> None:
    """Answer the two hit routes in front of ``app``'s Flask dispatch."""

    def post_hits(environ: Mapping[str, Any]) -> LeanResponse:
        return routes.post_hits(IngestRequest(environ))

    def count_gif(environ: Mapping[str, Any]) -> LeanResponse:
        return routes.count_gif(IngestRequest(environ))

    add_route(app, "POST", HITS_PATH, post_hits)
    add_route(app, "GET", PIXEL_PATH, count_gif)
