"""User-Agent parsing: browser, OS, device class and bot verdicts on real headers."""

import pytest

from page_tracker.enrich.agents import MAX_LENGTH, analyse, cache_info

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)

_ROWS = [
    # (header, browser, browser_version, os, os_version, device)
    (CHROME_WINDOWS, "Chrome", "131", "Windows", "10", "desktop"),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:132.0) Gecko/20100101 Firefox/132.0",
        "Firefox",
        "132",
        "Mac OS X",
        "10.15",
        "desktop",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        "Safari",
        "18",
        "Mac OS X",
        "10.15",
        "desktop",
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
        "Firefox",
        "132",
        "Ubuntu",
        "",
        "desktop",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "Edge",
        "131",
        "Windows",
        "10",
        "desktop",
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Chrome",
        "131",
        "Chrome OS",
        "14541.0",
        "desktop",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "Mobile Safari",
        "18",
        "iOS",
        "18.1",
        "mobile",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
        "Chrome Mobile iOS",
        "131",
        "iOS",
        "17.6",
        "mobile",
    ),
    (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        "Chrome Mobile",
        "131",
        "Android",
        "10",
        "mobile",
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0",
        "Firefox Mobile",
        "132",
        "Android",
        "14",
        "mobile",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
        "Samsung Internet",
        "26",
        "Android",
        "14",
        "mobile",
    ),
    (
        "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 "
        "Edge/15.15063",
        "Edge Mobile",
        "15",
        "Windows Phone",
        "10.0",
        "mobile",
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
        "Mobile Safari",
        "17",
        "iOS",
        "17.6",
        "tablet",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "Chrome",
        "131",
        "Android",
        "13",
        "tablet",
    ),
    (
        "Mozilla/5.0 (Android 14; Tablet; rv:132.0) Gecko/132.0 Firefox/132.0",
        "Firefox Mobile",
        "132",
        "Android",
        "14",
        "tablet",
    ),
    (
        "Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7233) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/130.0.6723.102 Mobile Safari/537.36",
        "Chrome Mobile",
        "130",
        "Android",
        "9",
        "other",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edge/44.18363.8131",
        "Edge",
        "44",
        "Windows",
        "10",
        "other",
    ),
]


# In-app browsers and rarer devices: real visitors that must not be taken for bots.
_ROWS += [
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.37.109;FBBV/622553093;"
        "FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.5;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
        "Facebook",
        "470",
        "iOS",
        "17.5",
        "mobile",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148 Instagram 339.0.3.12.91 (iPhone14,2; iOS 17_5_1; "
        "en_US; en; scale=3.00; 1170x2532; 619423006)",
        "Instagram",
        "339",
        "iOS",
        "17.5",
        "mobile",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 "
        "MicroMessenger/8.0.40.2420(0x28002837) WeChat/arm64 Weixin NetType/WIFI",
        "Chrome Mobile WebView",
        "116",
        "Android",
        "13",
        "mobile",
    ),
    (
        "Mozilla/5.0 (Linux; Android 11; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Silk/124.2.1 like Chrome/124.0.6367.179 Safari/537.36",
        "Amazon Silk",
        "124",
        "Android",
        "11",
        "tablet",
    ),
    (
        "Mozilla/5.0 (Windows NT 6.1; Win64; x64; Trident/7.0; rv:11.0) like Gecko",
        "IE",
        "11",
        "Windows",
        "7",
        "desktop",
    ),
    (
        "Mozilla/5.0 (Mobile; rv:48.0; A405DL) Gecko/48.0 Firefox/48.0 KAIOS/2.5",
        "Firefox Mobile",
        "48",
        "KaiOS",
        "2.5",
        "mobile",
    ),
    (
        "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "76.0.3809.146/6.0 TV Safari/537.36",
        "Safari",
        "",
        "Tizen",
        "6.0",
        "other",
    ),
]
BROWSERS = [(row[0], row[1:]) for row in _ROWS]


@pytest.mark.parametrize(("header", "expected"), BROWSERS)
def test_should_name_browser_os_and_device_class_of_real_browsers(
    header: str, expected: tuple[str, str, str, str, str]
) -> None:
    agent = analyse(header)

    assert (agent.browser, agent.browser_version, agent.os, agent.os_version, agent.device) == (
        expected
    )
    assert agent.bot_reason is None
    assert not agent.is_bot


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "crawler:"),
        (
            "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 "
            "(compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "crawler:Googlebot",
        ),
        ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "crawler:"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/131.0.0.0 Safari/537.36",
            "headless:HeadlessChrome",
        ),
        (
            "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) "
            "PhantomJS/2.1.1 Safari/538.1",
            "headless:PhantomJS",
        ),
        ("curl/8.4.0", "http-client:curl"),
        ("python-requests/2.32.3", "http-client:python-requests"),
        ("Python-urllib/3.12", "http-client:python-urllib"),
        ("Go-http-client/1.1", "http-client:go-http-client"),
        ("Wget/1.21.4", "http-client:wget"),
        ("okhttp/4.12.0", "http-client:okhttp"),
        ("axios/1.7.7", "http-client:axios"),
        ("Java/17.0.9", "http-client:java"),
        (
            "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.22621.4249",
            "http-client:windowspowershell",
        ),
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "crawler:"),
        (
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
            "+https://openai.com/gptbot)",
            "crawler:GPTBot",
        ),
        ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "crawler:"),
        # Not on the crawler list; caught by uap-core's generic bot rules.
        ("Mozilla/5.0 (compatible; AcmeBot/1.0; +http://acme.example/bot)", "spider:"),
        ("Mozilla/5.0 (compatible; ExampleCrawler/2.1)", "spider:"),
        ("", "empty-user-agent"),
        ("   \t", "empty-user-agent"),
        ("Mozilla/5.0", "short-user-agent"),
    ],
)
def test_should_flag_bots_with_the_rule_that_matched(header: str, reason: str) -> None:
    agent = analyse(header)

    assert agent.is_bot
    assert agent.device == "bot"
    assert agent.bot_reason is not None
    assert agent.bot_reason.startswith(reason)


def test_should_name_the_crawler_that_matched() -> None:
    agent = analyse("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)")

    assert agent.bot_reason == "crawler:bingbot"
    assert agent.browser == "bingbot"


def test_should_treat_a_missing_header_as_an_empty_one() -> None:
    agent = analyse(None)

    assert agent.bot_reason == "empty-user-agent"
    assert (agent.browser, agent.os) == ("Other", "Other")


def test_should_call_an_unrecognised_non_bot_header_other() -> None:
    agent = analyse("SomeEmbeddedBrowser/1.0 (FooOS 3; Widget) Renderer/2")

    assert agent.bot_reason is None
    assert agent.browser == "Other"
    assert agent.device == "other"


def test_should_cut_overlong_headers_before_parsing() -> None:
    agent = analyse(CHROME_WINDOWS + " " + "x" * (MAX_LENGTH * 4))

    assert agent.browser == "Chrome"
    assert agent.device == "desktop"


def test_should_answer_repeated_headers_from_the_cache() -> None:
    header = CHROME_WINDOWS.replace("131.0.0.0", "131.0.1.2")
    analyse(header)
    hits_before = cache_info().hits

    assert analyse(header) == analyse(header)
    assert cache_info().hits == hits_before + 2


def test_should_parse_headers_with_lone_surrogates() -> None:
    agent = analyse(CHROME_WINDOWS + " \ud800")

    assert (agent.browser, agent.device) == ("Chrome", "desktop")
