"""What the lean Busuanzi route reads of a request without werkzeug's ``Request``, and
the headers and body it writes without ``dump_cookie`` and ``json.dumps``: each must
equal what those give (the Flask way in and the original service)."""

from __future__ import annotations

import json
import time
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.http import dump_cookie
from werkzeug.wrappers import Request

from page_tracker.compat import busuanzi
from page_tracker.compat.busuanzi_route import _query, _visitor_cookie, callback_of

# Pieces of query strings: the parameter (plain and percent-encoded), separators, escapes
# (valid, invalid, of bytes that are no UTF-8), identifiers and non-ASCII text.
PIECES = st.sampled_from(
    [
        "jsonpCallback",
        "jsonp%43allback",
        "jsonpcallback",
        "=",
        "&",
        ";",
        "+",
        "%",
        "%2",
        "%24",
        "%ff",
        "%e2%82",
        "cb",
        "BusuanziCallback_1",
        "$",
        "é",
        "x",
    ]
)


def environ_with(query: str) -> dict[str, Any]:
    # WSGI hands the query over as the latin-1 code points of its bytes
    return {"QUERY_STRING": query.encode().decode("latin-1"), "REQUEST_METHOD": "GET"}


@given(st.lists(PIECES, max_size=12).map("".join))
def test_should_read_the_callback_as_werkzeug_reads_the_args(query: str) -> None:
    environ = environ_with(query)

    assert callback_of(_query(environ)) == Request(environ).args.get("jsonpCallback")


def test_should_write_the_visitor_cookie_as_werkzeug_writes_it() -> None:
    token = busuanzi.visitor_token(busuanzi.derive_key("k" * 32), "198.51.100.7", "Firefox")
    expected = dump_cookie(
        busuanzi.COOKIE_NAME,
        token,
        max_age=busuanzi.COOKIE_MAX_AGE,
        path="/",
        secure=True,
        httponly=True,
        samesite="None",
    )
    before = time.time()

    name, value = _visitor_cookie(token)

    # Expires moves with the clock: compare within the same second
    if int(time.time()) == int(before):
        assert (name, value) == ("Set-Cookie", expected)
    assert value.split("; Expires=")[0] == expected.split("; Expires=")[0]
    assert value.split("; ", 2)[2] == expected.split("; ", 2)[2]


@given(st.integers(0, 10**12), st.integers(0, 10**12), st.integers(0, 10**12))
def test_should_render_the_answer_as_json_dumps_would(
    site_pv: int, site_uv: int, page_pv: int
) -> None:
    payload = json.dumps(
        {"site_uv": site_uv, "page_pv": page_pv, "version": busuanzi.VERSION, "site_pv": site_pv},
        separators=(",", ":"),
    )

    assert busuanzi.render("cb", site_pv, site_uv, page_pv) == f"try{{cb({payload});}}catch(e){{}}"
