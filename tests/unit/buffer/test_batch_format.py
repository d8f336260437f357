"""Redis mode's batch format and schedule: views survive the round trip exactly, and
batches of the release before the enrichment moved into PageView still decode."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from page_tracker.app import periodic_jobs
from page_tracker.buffer.batch_format import FORMAT, decode_views, encode_views
from page_tracker.buffer.redis_keys import RedisKeys, pending_counts
from page_tracker.buffer.redis_scripts import ingest_arguments
from page_tracker.celery_app import beat_schedule
from page_tracker.enrich import Enrichment
from page_tracker.stats.pageview import PageView


def make_view(**overrides: object) -> PageView:
    values: dict[str, object] = {
        "site_id": "abcdefabcdef",
        "path": "/blog/ü?",
        "hostname": "example.com",
        "timestamp": datetime(2026, 11, 22, 21, 59, 58, 123456, tzinfo=UTC),
        "visitor": bytes(range(16)),
        "lifetime_visitor": bytes(range(16, 32)),
        "title": "Hello",
        "enrichment": Enrichment(browser="Chrome", country="DE"),
    }
    values.update(overrides)
    return PageView(**values)  # type: ignore[arg-type]


# A batch as the release before this one wrote it (PageView then had the 14 enrichment
# fields as its own): format 1, the fields in this order.
BATCH_OF_FORMAT_1 = (
    '{"f":["site_id","path","hostname","timestamp","visitor","lifetime_visitor","title",'
    '"event","source","keep_raw","browser","browser_version","os","os_version","device",'
    '"referrer_host","referrer_source","utm_source","utm_medium","utm_campaign","utm_term",'
    '"utm_content","country","screen_class"],"r":[["abcdefabcdef","/blog/\\u00fc?",'
    '"example.com",1795384798123456,"000102030405060708090a0b0c0d0e0f",'
    '"101112131415161718191a1b1c1d1e1f","Hello",null,"js",true,"Chrome","131","Windows",'
    '"10","desktop","news.ycombinator.com","Hacker News","newsletter","email","launch",'
    '"tracker","top","DE","laptop"],["abcdefabcdef","/","www.example.com",1795392000000001,'
    '"ffffffffffffffffffffffffffffffff","00000000000000000000000000000000",null,"signup",'
    '"pixel",false,"Other","","Other","","other",null,null,null,null,null,null,null,null,'
    "null]]}"
)
VIEWS_OF_FORMAT_1 = [
    make_view(
        source="js",
        keep_raw=True,
        enrichment=Enrichment(
            browser="Chrome",
            browser_version="131",
            os="Windows",
            os_version="10",
            device="desktop",
            referrer_host="news.ycombinator.com",
            referrer_source="Hacker News",
            utm_source="newsletter",
            utm_medium="email",
            utm_campaign="launch",
            utm_term="tracker",
            utm_content="top",
            country="DE",
            screen_class="laptop",
        ),
    ),
    PageView(
        site_id="abcdefabcdef",
        path="/",
        hostname="www.example.com",
        timestamp=datetime(2026, 11, 23, 0, 0, 0, 1, tzinfo=UTC),
        visitor=b"\xff" * 16,
        lifetime_visitor=b"\x00" * 16,
        event="signup",
        source="pixel",
    ),
]


def test_should_decode_a_batch_the_previous_release_wrote() -> None:
    assert FORMAT == "1"
    assert decode_views(BATCH_OF_FORMAT_1) == VIEWS_OF_FORMAT_1


def test_should_write_batches_the_previous_release_can_read() -> None:
    # The same bytes as before: a worker of the previous release flushes them too.
    assert encode_views(VIEWS_OF_FORMAT_1) == BATCH_OF_FORMAT_1.encode()


def test_should_decode_exactly_what_was_encoded() -> None:
    views = [make_view(), make_view(path="/", event="signup", title=None, keep_raw=True)]
    assert views[0].enrichment.browser == "Chrome"

    assert decode_views(encode_views(views)) == views


def test_should_decode_batches_of_other_releases_by_field_name() -> None:
    data = json.loads(encode_views([make_view()]))
    data["f"].append("field_of_a_newer_release")
    data["r"][0].append(42)
    index = data["f"].index("title")
    del data["f"][index], data["r"][0][index]

    (view,) = decode_views(json.dumps(data))

    assert view.title is None  # missing: the default
    assert view.path == "/blog/ü?"


@pytest.mark.parametrize("payload", [b"[]", b'{"r": []}', b"not json"])
def test_should_refuse_what_is_not_a_batch(payload: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - json's errors are ValueErrors too
        decode_views(payload)


# Any text a path, title or referrer may hold: NUL, control characters, lone surrogates
# (JSON escapes them; the flush must get back exactly what was accepted).
_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)
_MAYBE = st.none() | _TEXT


@st.composite
def _views(draw: st.DrawFn) -> PageView:
    return PageView(
        site_id=draw(_TEXT),
        path=draw(_TEXT),
        hostname=draw(_TEXT),
        timestamp=draw(
            st.datetimes(
                min_value=datetime(1971, 1, 1),
                max_value=datetime(2200, 1, 1),
                timezones=st.just(UTC),
            )
        ),
        visitor=draw(st.binary(min_size=16, max_size=16)),
        lifetime_visitor=draw(st.binary(min_size=16, max_size=16)),
        title=draw(_MAYBE),
        event=draw(_MAYBE),
        source=draw(_TEXT),
        keep_raw=draw(st.booleans()),
        enrichment=Enrichment(
            browser=draw(_TEXT),
            os=draw(_TEXT),
            country=draw(_MAYBE),
            referrer_host=draw(_MAYBE),
            utm_campaign=draw(_MAYBE),
        ),
    )


@given(st.lists(_views(), max_size=30))
def test_should_give_back_any_views_exactly(views: list[PageView]) -> None:
    assert decode_views(encode_views(views)) == views


@given(st.lists(_views(), min_size=1, max_size=10), st.randoms())
def test_should_decode_this_release_s_fields_as_it_decodes_other_orders(
    views: list[PageView], random: Random
) -> None:
    # The flush decodes this release's own field order by position; any other order (an
    # older or newer release) by name: both must give the same views.
    data = json.loads(encode_views(views))
    order = list(range(len(data["f"])))
    random.shuffle(order)
    shuffled = {
        "f": [data["f"][n] for n in order],
        "r": [[row[n] for n in order] for row in data["r"]],
    }

    assert decode_views(json.dumps(shuffled)) == decode_views(json.dumps(data)) == views


def test_should_decode_a_huge_batch_sharing_nothing_wrongly() -> None:
    views = [
        make_view(path=f"/p{n}", enrichment=Enrichment(browser=f"B{n % 7}", country="DE"))
        for n in range(20_000)
    ]

    decoded = decode_views(encode_views(views))

    assert decoded == views
    assert len({id(view.enrichment) for view in decoded}) == 7  # one per distinct value


@pytest.mark.parametrize("change", ["shorter", "longer"])
def test_should_refuse_a_row_of_another_width(change: str) -> None:
    data = json.loads(encode_views([make_view(), make_view()]))
    if change == "shorter":
        data["r"][1].pop()
    else:
        data["r"][1].append(None)

    with pytest.raises(ValueError):  # noqa: PT011 - as zip(strict=True) raises
        decode_views(json.dumps(data))


def test_should_count_pending_views_per_site_and_page() -> None:
    views = [make_view(), make_view(), make_view(path="/")]

    assert pending_counts(views) == {
        "s:abcdefabcdef": 3,
        "p:abcdefabcdef:/blog/ü?": 2,
        "p:abcdefabcdef:/": 1,
    }


def test_should_pass_each_visitor_key_once_with_its_distinct_members() -> None:
    keys = RedisKeys("pt:")
    views = [make_view(), make_view(), make_view(lifetime_visitor=b"x" * 16)]

    names, argv = ingest_arguments(keys, "b1", b"payload", views)

    assert names[:3] == ["pt:hits", "pt:pending", "pt:totals"]
    assert len(names) == 5  # site key + one page key
    assert argv[:2] == ["b1", b"payload"]
    # per visitor key, one argument: its distinct members concatenated
    blobs = argv[-2:]
    assert [sorted(blob[n : n + 16] for n in range(0, len(blob), 16)) for blob in blobs] == [
        sorted([bytes(range(16, 32)), b"x" * 16])
    ] * 2


def test_should_pass_the_pending_counts_the_flush_takes_back() -> None:
    keys = RedisKeys("pt:")
    views = [make_view(), make_view(path="/"), make_view(site_id="other", path="/"), make_view()]

    _, argv = ingest_arguments(keys, "b1", b"payload", views)

    fields = argv[4]
    pairs = argv[7 : 7 + 2 * fields]
    assert dict(zip(pairs[::2], pairs[1::2], strict=True)) == pending_counts(views)


def test_should_ask_for_the_counters_of_the_pages_read_with_their_keys() -> None:
    keys = RedisKeys("pt:")
    view = make_view()
    site, path = view.site_id, view.path

    names, argv = ingest_arguments(keys, "b1", b"payload", [view], [(site, path)])

    # the read's seed marks come before the visitor keys; the read names their positions
    assert names[3:5] == [keys.seeded(site), keys.seeded(site, path)]
    site_index, page_index, imported_site, imported_page = argv[-4:]
    assert names[site_index - 1] == keys.visitors(site)  # Lua's KEYS are 1-based
    assert names[page_index - 1] == keys.visitors(site, path)
    assert (imported_site, imported_page) == (f"vs:{site}", f"vp:{site}:{path}")
    assert argv[5] == 1  # reads


def test_should_schedule_the_flush_every_two_seconds() -> None:
    schedule = beat_schedule(periodic_jobs())

    assert schedule["forget-flushed-batches"]["schedule"] == 3600.0
    assert schedule["flush-hits"] == {
        "task": "page_tracker.tracking.flush",
        "schedule": 2.0,
        "kwargs": {},
    }
