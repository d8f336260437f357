"""The OpenAPI 3.1 document, built from the declared operations of the app's routes.

Every view declared with :func:`page_tracker.json_api.operation` (the ``/api/v1`` JSON
API) or :func:`~page_tracker.json_api.described` (the public routes readers' browsers
call: the tracking hit and pixel, Busuanzi, Plausible, counters, badges, the scripts)
appears, with its parameters (from the URL rule, the query model, the declared headers
and cookies), request body, answers and error answers; the schemas are pydantic's JSON
schemas of the very models the views validate and answer with (or describe), and an
answer that is no JSON (a GIF, a script, an SVG) has its media type and the schema of
its text. A route without a declaration (the document itself, the dashboard, the seed
page and the probes) is not described here.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any, NamedTuple

from flask import Flask
from pydantic import BaseModel, Field
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from page_tracker.json_api import MAX_ROW_ID, Answer, Header, Operation, operation_of
from page_tracker.sites.models import SITE_ID_LENGTH

_REF = "#/components/schemas/{model}"
_CSV = "text/csv"
_CONVERTER_TYPES = {"int": {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID}}
_PARAMETER_TYPES = {"site_id": {"type": "string", "pattern": f"^[a-z0-9]{{{SITE_ID_LENGTH}}}$"}}
_PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No content",
    304: "Not modified (If-None-Match or If-Modified-Since matched)",
    400: "The request is invalid",
    401: "No valid credential",
    403: "Not allowed (scope, role, membership or CSRF token)",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict with the current state",
    413: "The body is too large",
    415: "The body is not of a media type the operation takes",
    422: "Well-formed, but the current state refuses it",
    429: "Too many failed sign-ins",
}


class ErrorBody(BaseModel):
    """The one error shape of every ``/api`` answer."""

    code: int = Field(description="The HTTP status.")
    error_code: int = Field(description="HTTP status * 100 + a finer cause.")
    message: str
    details: Any = None


class Declared(NamedTuple):
    """One documented operation: a URL rule (or a path a hook answers alike), the method,
    an operation id and the declaration."""

    rule: str
    method: str
    operation_id: str
    operation: Operation


def declared_operations(app: Flask) -> list[Declared]:
    """Every declared operation of ``app``, once per method and path (``also_at`` too)."""
    found: list[Declared] = []
    for rule in app.url_map.iter_rules():
        declared = operation_of(app.view_functions[rule.endpoint])
        if declared is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            name = f"{rule.endpoint}.{method.lower()}"
            found.append(Declared(rule.rule, method, name, declared))
            for number, path in enumerate(declared.also_at, start=2):
                found.append(Declared(path, method, f"{name}.{number}", declared))
    return found


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """The rule as an OpenAPI path (``<int:user_id>`` -> ``{user_id}``) and its
    parameters."""
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _path_type(converter, args, name)}
        for converter, args, name in _PLACEHOLDER.findall(rule)
    ]
    return _PLACEHOLDER.sub(lambda match: f"{{{match[3]}}}", rule), parameters


def _path_type(converter: str, args: str, name: str) -> dict[str, Any]:
    if converter == "any":  # <any(pages, referrers):kind>: one of the words
        return {"type": "string", "enum": [word.strip() for word in args.split(",")]}
    return _PARAMETER_TYPES.get(name) or _CONVERTER_TYPES.get(
        converter, {"type": "string", "pattern": "^[^/]+$"}
    )


def _without_null(field: dict[str, Any]) -> None:
    """An optional field as a query string or a form sends it: absent, never null."""
    variants = [item for item in field.pop("anyOf", ()) if item.get("type") != "null"]
    if len(variants) == 1:
        field.update(variants[0])
    elif variants:
        field["anyOf"] = variants
    if field.get("default") is None:
        field.pop("default", None)


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """A query model's fields as OpenAPI query parameters (by their aliases; an optional
    field is simply not required: a query string has no null)."""
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        _without_null(field)
        description = field.pop("description", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": field}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _header(header: Header) -> dict[str, Any]:
    return {
        "description": header.description,
        "required": header.required,
        "schema": dict(header.schema),
    }


def _answer(status: int, answer: Answer) -> dict[str, Any]:
    """A non-JSON answer: its media type and the schema of its text, its headers."""
    described: dict[str, Any] = {"description": answer.description or _STATUS_TEXT[status]}
    if answer.media_type is not None:
        content = {"schema": dict(answer.schema)} if answer.schema else {}
        described["content"] = {answer.media_type: content}
    if answer.headers:
        described["headers"] = {name: _header(item) for name, item in answer.headers.items()}
    return described


def _responses(declared: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    """An operation's answers: its models (and CSV) or non-JSON answers, then its errors
    in the one shape."""
    responses: dict[str, Any] = {}
    for status, model in sorted(declared.responses.items()):
        if isinstance(model, Answer):
            responses[str(status)] = _answer(status, model)
            continue
        answer: dict[str, Any] = {"description": _STATUS_TEXT.get(status, "OK")}
        if model is not None:
            answer["content"] = {"application/json": {"schema": refs[(model, "serialization")]}}
            if declared.csv:
                answer["content"][_CSV] = {"schema": {"type": "string"}}
        responses[str(status)] = answer
    if declared.csv:
        responses["304"] = {"description": _STATUS_TEXT[304]}
    error_schema = refs[(ErrorBody, "serialization")]
    for status in declared.errors:
        responses[str(status)] = {
            "description": _STATUS_TEXT[status],
            "content": {"application/json": {"schema": error_schema}},
        }
    return responses


def _form_body(declared: Operation, definitions: dict[str, Any]) -> dict[str, Any]:
    """A multipart body: the form model's fields (inlined: a multipart schema is an
    object of its parts) and the file fields as binary parts."""
    if declared.form is None:  # pragma: no cover - the caller checks
        return {}
    schema = dict(definitions["$defs"][declared.form.__name__])
    properties = {name: dict(field) for name, field in schema.get("properties", {}).items()}
    for field in properties.values():
        _without_null(field)
    for name in declared.files:
        properties[name] = {"type": "string", "format": "binary"}
    schema["properties"] = properties
    schema["required"] = [*schema.get("required", ()), *declared.files]
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s declared operations."""
    operations = declared_operations(app)
    models: set[tuple[type[BaseModel], JsonSchemaMode]] = {(ErrorBody, "serialization")}
    for *_, declared in operations:
        if declared.body is not None:
            models.add((declared.body, "validation"))
        if declared.form is not None:
            models.add((declared.form, "validation"))
        models.update(
            (model, "serialization")
            for model in declared.responses.values()
            if model is not None and not isinstance(model, Answer)
        )
    refs, definitions = models_json_schema(
        sorted(models, key=lambda item: (item[0].__name__, item[1])), ref_template=_REF
    )
    paths: dict[str, dict[str, Any]] = {}
    for rule, method, operation_id, declared in operations:
        path, parameters = _path(rule)
        entry: dict[str, Any] = {
            "operationId": operation_id,
            "summary": declared.summary,
            "tags": [declared.tag],
        }
        if declared.query is not None:
            parameters += _query_parameters(declared.query)
        parameters += [
            {
                "name": item.name,
                "in": item.location,
                "required": item.required,
                "description": item.description,
                "schema": dict(item.schema),
            }
            for item in declared.parameters
        ]
        if parameters:
            entry["parameters"] = parameters
        if declared.access == "public":
            entry["security"] = []
        else:
            entry["description"] = f"Needs the `{declared.access}` scope (or a browser session)."
        if declared.description:
            entry["description"] = declared.description
        if declared.body is not None:
            schema = refs[(declared.body, "validation")]
            entry["requestBody"] = {
                "required": True,
                "content": {media_type: {"schema": schema} for media_type in declared.body_types},
            }
        if declared.form is not None:
            entry["requestBody"] = _form_body(declared, definitions)
        entry["responses"] = _responses(declared, refs)
        paths.setdefault(path, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "page-tracker API",
            "version": version("page-tracker"),
            "description": "Sites, members, statistics, users and tokens of page-tracker, "
            "and the public routes readers' browsers call (tracking, Busuanzi, Plausible, "
            "counters, badges). Authenticate with `Authorization: Bearer pt_...` from "
            "`POST /api/v1/tokens`.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "pt_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }
