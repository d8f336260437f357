"""Busuanzi starting counts: a CSV file, or a running self-hosted Busuanzi's Redis.

Busuanzi keeps all-time counters only (no dates), so they are added to the all-time
totals that the Busuanzi endpoint answers with: after the import a page shows its old
count plus what page-tracker counts from then on. Nothing lands on a day.

CSV: ``url,page_pv[,page_uv]`` per page (a header line ``url,...`` is optional); ``url`` is the
page's address (``https://blog.example/post``), host and path (``blog.example/post``) or
a path (``/post``). The site's totals are ``--site-pv``/``--site-uv`` when given, else
the sum of the pages' views and the largest page's visitors (a lower bound: readers of
two pages are one visitor of the site).

Redis (the widely used self-hosted layout, ``P`` the prefix, ``bsz`` by default)::

    P:site_pv:S        string         the site's views
    P:site_uv:S        HyperLogLog    the site's visitors
    P:page_pv:S        sorted set     member page id, score the page's views
    P:page_uv:S:PAGE   HyperLogLog    a page's visitors

``S`` is the MD5 of the host (or its middle 16 hex digits), a page id the MD5 of the
path or of ``host&path``. Hashes cannot be read back, so pages are found by trying the
paths the site already knows and those of ``--paths FILE``; the views of pages that
match none still count in the site's total and are reported.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import redis

from page_tracker.imports.errors import BadInput
from page_tracker.imports.reading import Row, content_hash, csv_rows, open_bytes, text_lines
from page_tracker.stats.tally import Tally, clip_path

MAX_COUNT = 10**15


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _ids(text: str) -> tuple[str, str]:
    digest = _md5(text)
    return digest, digest[8:24]


def _count(name: str, row: Row, index: int, label: str) -> int:
    text = row.fields[index].strip() if index < len(row.fields) else ""
    if not text.isdigit() or int(text) > MAX_COUNT:
        raise BadInput(name, row.line, f"{index + 1} ({label})", f"expected a count, got {text!r}")
    return int(text)


def page_path(url: str, hosts: Collection[str]) -> str | None:
    """The path of ``url`` (no query or fragment); ``None`` when its host is not one of
    ``hosts``."""
    url = url.strip()
    if not url.startswith("/") and "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if parts.hostname and parts.hostname.rstrip(".") not in hosts:
        return None
    return clip_path(parts.path or "/")


class _Totals:
    """Counts of the pages, and the site's totals given or derived from them."""

    def __init__(self, site_pv: int | None, site_uv: int | None) -> None:
        self.site_pv = site_pv
        self.site_uv = site_uv
        self.pages_pv = 0
        self.largest_uv = 0

    def add_page(self, tally: Tally, path: str, views: int, visitors: int) -> None:
        counts = tally.totals[path]
        counts[0] += views
        counts[1] += visitors
        self.pages_pv += views
        self.largest_uv = max(self.largest_uv, visitors)

    def finish(self, tally: Tally) -> None:
        site = tally.totals[None]
        site[0] += self.pages_pv if self.site_pv is None else self.site_pv
        site[1] += self.largest_uv if self.site_uv is None else self.site_uv


class BusuanziCsvImport:
    """Per-page starting counts from a CSV file."""

    source = "busuanzi"

    def __init__(
        self,
        path: Path,
        site_hosts: Collection[str],
        *,
        site_pv: int | None = None,
        site_uv: int | None = None,
    ) -> None:
        self.path = path
        self.name = path.name
        self.hosts = frozenset(site_hosts)
        self.totals = _Totals(site_pv, site_uv)
        # the given totals are part of what is imported
        self.content_hash = hashlib.sha256(
            f"{content_hash(path)}:{site_pv}:{site_uv}".encode()
        ).hexdigest()

    def rows(self) -> Iterator[Row]:
        raw, data = open_bytes(self.path)
        with raw, data:
            for row in csv_rows(self.name, text_lines(self.name, data)):
                if row.line == 1 and row.fields[0].strip().lower() == "url":
                    continue  # the header line
                yield row

    def count(self, row: Row, tally: Tally) -> int:
        if len(row.fields) not in {2, 3}:
            raise BadInput(
                self.name,
                row.line,
                None,
                f"{len(row.fields)} fields, expected url,page_pv[,page_uv]",
            )
        views = _count(self.name, row, 1, "page_pv")
        visitors = _count(self.name, row, 2, "page_uv") if len(row.fields) == 3 else 0
        path = page_path(row.fields[0], self.hosts)
        if path is None:
            raise BadInput(
                self.name, row.line, "1 (url)", f"{row.fields[0]!r} is not a page of this site"
            )
        self.totals.add_page(tally, path, views, visitors)
        return views

    def drain(self, tally: Tally) -> None:
        return None

    def finish(self, tally: Tally) -> None:
        self.totals.finish(tally)


class BusuanziRedisImport:
    """Starting counts from a Busuanzi Redis (read only: nothing there is changed)."""

    source = "busuanzi"

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        site_hosts: Collection[str],
        known_paths: Iterable[str],
        *,
        label: str,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.hosts = sorted(site_hosts)
        self.paths = sorted(set(known_paths) | {"/"})
        self.name = label
        # The same Redis, prefix and hosts are one source: a second import is refused
        # (or, with --replace, takes the first one's counts out before adding the new).
        self.content_hash = hashlib.sha256(
            f"busuanzi-redis:{label}:{prefix}:{','.join(self.hosts)}".encode()
        ).hexdigest()
        self.totals = _Totals(0, 0)
        self.unmatched_pages = 0
        self.unmatched_views = 0

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def _site_ids(self) -> list[str]:
        found = []
        for host in self.hosts:
            for site_id in _ids(host):
                if self.client.exists(self._key("site_pv", site_id), self._key("page_pv", site_id)):
                    found.append(site_id)
        return found

    def _page_ids(self) -> dict[str, str]:
        ids: dict[str, str] = {}
        for path in self.paths:
            for text in (path, *(f"{host}&{path}" for host in self.hosts)):
                for page_id in _ids(text):
                    ids.setdefault(page_id, path)
        return ids

    def rows(self) -> Iterator[Row]:
        try:
            site_ids = self._site_ids()
            if not site_ids:
                raise BadInput(
                    self.name,
                    None,
                    None,
                    f"no Busuanzi counters under prefix {self.prefix!r} for "
                    f"{', '.join(self.hosts)} (keys {self.prefix}:site_pv:MD5(host))",
                )
            page_ids = self._page_ids()
            number = 0
            for site_id in site_ids:
                site_pv = self.client.get(self._key("site_pv", site_id))
                self.totals.site_pv = (self.totals.site_pv or 0) + int(site_pv or 0)
                self.totals.site_uv = (self.totals.site_uv or 0) + int(
                    self.client.pfcount(self._key("site_uv", site_id))
                )
                for member, score in self.client.zscan_iter(self._key("page_pv", site_id)):
                    page_id = member.decode() if isinstance(member, bytes) else str(member)
                    number += 1
                    visitors = self.client.pfcount(self._key("page_uv", site_id, page_id))
                    path = page_ids.get(page_id, "")
                    yield Row(number, [path, str(int(score)), str(int(visitors))])
        except redis.RedisError as error:
            raise BadInput(self.name, None, None, f"Redis failed: {error}") from None
        except ValueError as error:
            raise BadInput(self.name, None, None, f"not a Busuanzi counter: {error}") from None

    def count(self, row: Row, tally: Tally) -> int:
        path, views, visitors = row.fields[0], int(row.fields[1]), int(row.fields[2])
        if not path:
            self.unmatched_pages += 1
            self.unmatched_views += views
            return 0
        counts = tally.totals[path]
        counts[0] += views
        counts[1] += visitors
        return views

    def drain(self, tally: Tally) -> None:
        return None

    def finish(self, tally: Tally) -> None:
        site = tally.totals[None]
        site[0] += self.totals.site_pv or 0
        site[1] += self.totals.site_uv or 0
