"""Typed JSON endpoints: one declaration is the validation, the answer and the OpenAPI.

A view decorated with :func:`operation` gets its JSON body (and query) parsed into the
pydantic models it declares, returns a model (or ``None`` for 204), and carries an
:class:`Operation` that ``api.openapi`` turns into the OpenAPI document, so what is
checked, what is answered and what is documented cannot drift apart::

    @blueprint.post("/sites")
    @operation("Create a site", body=SiteCreate, responses={201: SiteOut}, errors=(409,))
    def create_site(body: SiteCreate) -> tuple[SiteOut, int]: ...

Refusals follow the one error shape (:mod:`page_tracker.errors`): a body over
:data:`MAX_BODY` is 413, a body that is not ``application/json`` 415, one that is not
JSON or does not fit the model 400 with the offending fields in ``details`` (never their
values: a password must not come back).

An upload is declared with ``form=`` (the text fields' model) and ``files=`` (the file
fields' names): the body must be ``multipart/form-data`` (else 415) of at most
``max_upload()`` bytes (else 413); the view reads the files from ``request.files``.

A view that reads its own request and answers more than JSON (the pixel, Busuanzi's
script, a badge) is declared with :func:`described`: its answers are :class:`Answer`
(a media type, the JSON schema of the body's text, the headers it carries), its request
headers and cookies :class:`Parameter`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from flask import Response, request
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, ValidationError

from page_tracker.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_BODY = 64 * 1024
# Row ids in URLs: werkzeug's int converter takes any size, the databases' INTEGER not.
MAX_ROW_ID = 2**31 - 1
ROW_ID = f"int(max={MAX_ROW_ID})"
# Who may call an operation: anybody, or a caller holding a token with this scope (or a
# browser session). The views check it (``auth``); the document shows it.
Access = Literal["public", "read", "write", "admin"]


def _utc(moment: datetime) -> datetime:
    # SQLite and MariaDB hand back naive datetimes for what was written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# A timestamp in an answer: always with its zone (UTC when the database dropped it).
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


def _integral(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# After a strict int's Field (and its bounds): an integer as JSON Schema, and so the
# OpenAPI document, has it: 7 and 7.0, never "7", true or 7.5.
INTEGRAL = BeforeValidator(_integral)


# Text that ends up in the database: no control characters (PostgreSQL refuses NUL).
PlainText = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]*$")]


JSON = "application/json"


@dataclass(frozen=True)
class Header:
    """A response header an answer carries (``required``: always)."""

    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = True


@dataclass(frozen=True)
class Answer:
    """An answer that is not a JSON model: its ``media_type`` (``None``: no body), the JSON
    schema of its body's text (empty: any, e.g. an image), and its headers."""

    media_type: str | None = None
    schema: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, Header] = field(default_factory=dict)
    description: str | None = None


@dataclass(frozen=True)
class Parameter:
    """A request header or cookie an operation reads (query and path parameters come from
    the query model and the URL rule)."""

    name: str
    location: Literal["header", "cookie"]
    description: str
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


# What a conditional GET (an ETag'd answer, 304 to a match) sends and answers.
IF_NONE_MATCH = Parameter(
    "If-None-Match", "header", "The ETag of the copy the client holds: 304 when it is current."
)
ETAG = Header("The answer's version, for If-None-Match.")
NOT_MODIFIED = Answer(
    headers={"ETag": ETAG}, description="Not modified: the ETag of If-None-Match is current."
)


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one view."""

    summary: str
    tag: str
    access: Access
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    responses: Mapping[int, type[BaseModel] | Answer | None] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    csv: bool = False  # also answers text/csv, and 304 to a matching conditional request
    form: type[BaseModel] | None = None  # a multipart/form-data body: its text fields
    files: tuple[str, ...] = ()  # ... and its (required) file fields
    body_types: tuple[str, ...] = (JSON,)  # the media types the body may be sent as
    parameters: tuple[Parameter, ...] = ()
    description: str | None = None
    also_at: tuple[str, ...] = ()  # other paths that answer alike (a hook's, not a rule's)


def operation(
    summary: str,
    *,
    tag: str,
    access: Access,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    responses: Mapping[int, type[BaseModel] | None],
    errors: tuple[int, ...] = (),
    csv: bool = False,
    max_body: int = MAX_BODY,
    form: type[BaseModel] | None = None,
    files: tuple[str, ...] = (),
    max_upload: Callable[[], int] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare a JSON operation; the view receives ``body=``, ``query=`` and ``form=``
    models. A JSON body over ``max_body`` bytes is refused (413), as is an upload over
    ``max_upload()``."""
    declared = Operation(
        summary, tag, access, body, query, dict(responses), errors, csv, form, files
    )
    success = min(declared.responses)

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Response:
            if query is not None:
                kwargs["query"] = _parse(query, request.args.to_dict(), "query")
            if body is not None:
                kwargs["body"] = _parse(body, _json_body(max_body), "body")
            if form is not None:
                kwargs["form"] = _parse(form, _form_body(files, max_upload), "form")
            return to_response(view(**kwargs), success)

        wrapper.operation = declared  # type: ignore[attr-defined]
        return wrapper

    return decorate


def described(
    summary: str,
    *,
    tag: str,
    access: Access,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    responses: Mapping[int, type[BaseModel] | Answer | None],
    errors: tuple[int, ...] = (),
    body_types: tuple[str, ...] = (JSON,),
    parameters: tuple[Parameter, ...] = (),
    description: str | None = None,
    also_at: tuple[str, ...] = (),
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Declare what a view that reads its own request does, for the OpenAPI document
    only: the view is left as it is (the tracking endpoints parse as the lean WSGI path
    in front of Flask does, which no model could). ``also_at``: paths answered alike by
    a request hook rather than a rule (Busuanzi at the site root)."""
    declared = Operation(
        summary,
        tag,
        access,
        body,
        query,
        dict(responses),
        errors,
        body_types=body_types,
        parameters=parameters,
        description=description,
        also_at=also_at,
    )

    def decorate(view: Callable[..., Response]) -> Callable[..., Response]:
        view.operation = declared  # type: ignore[attr-defined]
        return view

    return decorate


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """The :class:`Operation` a view was declared with, if any."""
    found = getattr(view, "operation", None)
    return found if isinstance(found, Operation) else None


def _json_body(max_body: int) -> Any:
    too_large = PayloadTooLarge(
        f"a request body has at most {max_body} bytes", details={"max_bytes": max_body}
    )
    if request.content_length is not None and request.content_length > max_body:
        raise too_large
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    data = request.get_data(cache=True)
    if len(data) > max_body:  # chunked bodies carry no Content-Length
        raise too_large
    try:
        parsed = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: bad JSON too, not a 500
        parsed = None
    if parsed is None:
        raise ValidationFailed("the body is not valid JSON")
    return parsed


def _form_body(files: tuple[str, ...], max_upload: Callable[[], int] | None) -> dict[str, str]:
    """The text fields of a ``multipart/form-data`` body (the files stay in
    ``request.files``); a missing file field is a 400 naming it."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("send the body as multipart/form-data")
    limit = max_upload() if max_upload is not None else MAX_BODY
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"a request body has at most {limit} bytes")
    request.max_content_length = limit  # werkzeug stops a longer (chunked) body: 413
    fields = request.form.to_dict()
    missing = [name for name in files if not request.files.get(name)]
    if missing:
        raise ValidationFailed(
            "invalid form",
            details=[
                {"field": f"form.{name}", "message": "a file is required", "type": "missing"}
                for name in missing
            ],
        )
    return fields


def _parse(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        details = [
            {
                "field": ".".join(str(part) for part in (where, *item["loc"])),
                "message": item["msg"],
                "type": item["type"],
            }
            for item in error.errors(include_url=False, include_input=False)
        ]
        raise ValidationFailed(f"invalid {where}", details=details) from None


def to_response(result: Any, status: int = 200) -> Response:
    """A view's result as a response: a model (or list of models) as JSON, ``(model,
    status)``, ``None`` as 204, a :class:`Response` as it is."""
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        result, status = result
    if result is None:
        return Response(status=204)
    if isinstance(result, BaseModel):
        payload = result.model_dump_json()
    else:
        raise TypeError(f"a JSON operation returns a model, not {type(result).__name__}")
    return Response(payload + "\n", status, content_type="application/json")
