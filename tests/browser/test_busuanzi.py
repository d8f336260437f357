"""The stock Busuanzi script on a Hexo-style blog, its host name resolved to page-tracker.

The blog (``blog.example.test``) is a static site; ``busuanzi.ibruce.info`` — the host
the theme's tag and the npm script hard-code — resolves to the page-tracker under test,
as it would once an operator points that name at their own server. Pages are plain http,
so the scripts' protocol-relative ``//busuanzi.ibruce.info/...`` URLs stay http.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import reader_context
from tests.browser.static import StaticSite
from tests.e2e.server import Server

SCRIPT = Path(__file__).resolve().parents[2] / "src/page_tracker/compat/static/busuanzi"
OTHER_READER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
# What Hexo themes put in their layout (NexT, Butterfly, Fluid...): the counters with
# their containers, the script tag, and the referrer policy Busuanzi needs to see paths.
PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="referrer" content="no-referrer-when-downgrade">
  <title>{title} | Test Blog</title>
  {script}
</head>
<body>
  <article>
    <h1>{title}</h1>
    <span id="busuanzi_container_page_pv">本文总阅读量
      <span id="busuanzi_value_page_pv"></span> 次</span>
  </article>
  <footer>
    <span id="busuanzi_container_site_pv">本站总访问量
      <span id="busuanzi_value_site_pv"></span> 次</span>
    <span id="busuanzi_container_site_uv">本站访客数
      <span id="busuanzi_value_site_uv"></span> 人次</span>
  </footer>
</body>
</html>
"""
SCRIPT_TAGS = {
    # The classic theme tag: the script itself comes from the Busuanzi host.
    "served": (
        '<script async src="//busuanzi.ibruce.info/busuanzi/2.3/busuanzi.pure.mini.js"></script>'
    ),
    # A theme bundling the npm package's file: only its JSONP call goes to the Busuanzi host.
    "bundled": '<script async src="/js/busuanzi.pure.js"></script>',
}
POSTS = {"/2024/01/hello-world/": "Hello World", "/2024/02/second-post/": "Second Post"}


def build_blog(root: Path, script_tag: str) -> None:
    (root / "js").mkdir(parents=True)
    shutil.copy(SCRIPT / "busuanzi.pure.js", root / "js" / "busuanzi.pure.js")
    for path, title in POSTS.items():
        folder = root / path.strip("/")
        folder.mkdir(parents=True)
        (folder / "index.html").write_text(PAGE.format(title=title, script=script_tag))


@dataclass(frozen=True)
class Blog:
    host: str
    site: StaticSite


@pytest.fixture(params=sorted(SCRIPT_TAGS))
def blog(request: pytest.FixtureRequest, tracker: Server, tmp_path: Path) -> Iterator[Blog]:
    """A fresh blog (own host name, own site in the tracker) using one way of loading."""
    host = f"{request.param}.blog.example.test"
    created = tracker.run_cli("sites", "create", host, "--public-counters")
    assert created.returncode == 0, created.stderr
    build_blog(tmp_path, SCRIPT_TAGS[request.param])
    with StaticSite(tmp_path) as site:
        yield Blog(host, site)


def counters(page: Page) -> dict[str, str]:
    """The numbers the script wrote into the page, once it wrote them."""
    page.wait_for_function(
        "['site_pv', 'site_uv', 'page_pv'].every("
        "  n => document.getElementById('busuanzi_value_' + n).textContent.trim() !== '')"
    )
    return {
        name: (page.text_content(f"#busuanzi_value_{name}") or "").strip()
        for name in ("site_pv", "site_uv", "page_pv")
    }


def test_should_fill_the_counters_across_reloads_pages_and_readers(
    blog: Blog, tracker: Server, launch_browser: Callable[[Mapping[str, str]], Browser]
) -> None:
    browser = launch_browser(
        {blog.host: blog.site.address, "busuanzi.ibruce.info": tracker.url.removeprefix("http://")}
    )
    hello = f"http://{blog.host}/2024/01/hello-world/"
    second = f"http://{blog.host}/2024/02/second-post/"

    # Given a reader opening the first post: one view, one visitor
    reader = reader_context(browser)
    page = reader.new_page()
    page.goto(hello)
    assert counters(page) == {"site_pv": "1", "site_uv": "1", "page_pv": "1"}
    assert page.is_visible("#busuanzi_container_page_pv")

    # When they reload it, page and site views go up and they stay one visitor
    page.reload()
    assert counters(page) == {"site_pv": "2", "site_uv": "1", "page_pv": "2"}

    # When they open the second post, it shows its own page views
    page.goto(second)
    assert counters(page) == {"site_pv": "3", "site_uv": "1", "page_pv": "1"}
    page.goto(hello + "?utm_source=feed#comments")  # query and fragment: the same page
    assert counters(page) == {"site_pv": "4", "site_uv": "1", "page_pv": "3"}
    reader.close()

    # When another reader (another browser) opens the second post, they are a new visitor
    other = reader_context(browser, user_agent=OTHER_READER_AGENT)
    other_page = other.new_page()
    other_page.goto(second)
    assert counters(other_page) == {"site_pv": "5", "site_uv": "2", "page_pv": "2"}
    other.close()


def test_should_leave_the_page_intact_when_no_site_counts_its_host(
    tracker: Server, tmp_path: Path, launch_browser: Callable[[Mapping[str, str]], Browser]
) -> None:
    # Given a blog whose host has no site in page-tracker (nor an auto-create pattern)
    build_blog(tmp_path, SCRIPT_TAGS["served"])
    with StaticSite(tmp_path) as site:
        browser = launch_browser(
            {
                "unknown.example.test": site.address,
                "busuanzi.ibruce.info": tracker.url.removeprefix("http://"),
            }
        )
        context = reader_context(browser)
        page = context.new_page()
        # (the 404 JSON refusal never runs as a script: Chromium's opaque-response
        # blocking turns it into a failed request)
        with page.expect_event(
            "requestfailed", lambda request: "/busuanzi?jsonpCallback=" in request.url
        ):
            page.goto("http://unknown.example.test/2024/01/hello-world/")
        page.wait_for_load_state("networkidle")
        # Then the counters stay hidden and empty, and the page itself (and the
        # browser's own fetch) work as before
        assert not page.is_visible("#busuanzi_container_site_pv")
        assert page.text_content("#busuanzi_value_site_pv") == ""
        assert page.text_content("h1") == "Hello World"
        assert page.evaluate("window.fetch.toString().includes('[native code]')")
        context.close()
