"""The browser fixture itself: mapped host names reach local servers, and the browser
looks like a reader's Chrome rather than a headless bot."""

from collections.abc import Callable, Mapping
from pathlib import Path

from playwright.sync_api import Browser

from tests.browser.conftest import reader_context
from tests.browser.static import StaticSite


def test_should_reach_a_local_page_by_a_mapped_host_name(
    tmp_path: Path, launch_browser: Callable[[Mapping[str, str]], Browser]
) -> None:
    (tmp_path / "index.html").write_text(
        "<!doctype html><title>t</title><p id=host></p>"
        "<script>document.getElementById('host').textContent = location.host</script>"
    )
    with StaticSite(tmp_path) as site:
        browser = launch_browser({"blog.example.test": site.address})
        context = reader_context(browser)
        page = context.new_page()
        page.goto("http://blog.example.test/index.html")
        assert page.text_content("#host") == "blog.example.test"
        user_agent = page.evaluate("navigator.userAgent")
        assert "Chrome/" in user_agent
        assert "Headless" not in user_agent
        context.close()
