"""Known referrer sources: host (or parent domain) -> display name.

A small table kept in the package (no maintained offline package exists: Snowplow's
referer-parser was last released in 2016). A host matches its own entry or the entry of
its nearest listed parent domain, so "old.reddit.com" is Reddit and "mail.google.com"
(listed itself) is Gmail rather than Google. Brands that use a country-code domain for
every market (google.de, google.co.uk, yandex.ru ...) are matched by name in ``BRANDS``.
Sources: the domains the services themselves document, plus the share links they use
(t.co, lnkd.in, l.facebook.com ...). Add entries freely: names are what dashboards show.
"""

from __future__ import annotations

SOURCES: dict[str, str] = {
    # search engines
    "bing.com": "Bing",
    "duckduckgo.com": "DuckDuckGo",
    "baidu.com": "Baidu",
    "ya.ru": "Yandex",
    "search.yahoo.com": "Yahoo",
    "yahoo.com": "Yahoo",
    "ecosia.org": "Ecosia",
    "search.brave.com": "Brave Search",
    "startpage.com": "Startpage",
    "qwant.com": "Qwant",
    "kagi.com": "Kagi",
    "naver.com": "Naver",
    "sogou.com": "Sogou",
    "so.com": "360 Search",
    "sm.cn": "Shenma",
    "seznam.cz": "Seznam",
    "yep.com": "Yep",
    "mojeek.com": "Mojeek",
    "perplexity.ai": "Perplexity",
    "chatgpt.com": "ChatGPT",
    "chat.openai.com": "ChatGPT",
    "copilot.microsoft.com": "Copilot",
    "gemini.google.com": "Gemini",
    "claude.ai": "Claude",
    # Google properties that are not search
    "mail.google.com": "Gmail",
    "news.google.com": "Google News",
    "scholar.google.com": "Google Scholar",
    # social networks and link aggregators
    "news.ycombinator.com": "Hacker News",
    "reddit.com": "Reddit",
    "redd.it": "Reddit",
    "t.co": "Twitter",
    "twitter.com": "Twitter",
    "x.com": "Twitter",
    "facebook.com": "Facebook",
    "fb.com": "Facebook",
    "fb.me": "Facebook",
    "messenger.com": "Facebook",
    "instagram.com": "Instagram",
    "threads.net": "Threads",
    "linkedin.com": "LinkedIn",
    "lnkd.in": "LinkedIn",
    "bsky.app": "Bluesky",
    "mastodon.social": "Mastodon",
    "lobste.rs": "Lobsters",
    "pinterest.com": "Pinterest",
    "tumblr.com": "Tumblr",
    "youtube.com": "YouTube",
    "youtu.be": "YouTube",
    "tiktok.com": "TikTok",
    "telegram.org": "Telegram",
    "t.me": "Telegram",
    "web.whatsapp.com": "WhatsApp",
    "wa.me": "WhatsApp",
    "slack.com": "Slack",
    "discord.com": "Discord",
    "discordapp.com": "Discord",
    "weibo.com": "Weibo",
    "weibo.cn": "Weibo",
    "t.cn": "Weibo",
    "zhihu.com": "Zhihu",
    "bilibili.com": "Bilibili",
    "douban.com": "Douban",
    "weixin.qq.com": "WeChat",
    "v2ex.com": "V2EX",
    "vk.com": "VK",
    # developer sites
    "github.com": "GitHub",
    "gitlab.com": "GitLab",
    "stackoverflow.com": "Stack Overflow",
    "stackexchange.com": "Stack Exchange",
    "dev.to": "DEV",
    "medium.com": "Medium",
    "substack.com": "Substack",
    "producthunt.com": "Product Hunt",
    "csdn.net": "CSDN",
    "juejin.cn": "Juejin",
    "segmentfault.com": "SegmentFault",
    "wikipedia.org": "Wikipedia",
    # Android apps send "android-app://<package>" referrers
    "com.google.android.googlequicksearchbox": "Google",
    "com.google.android.gm": "Gmail",
    "com.google.android.apps.nbu.paisa.user": "Google",
    "com.reddit.frontpage": "Reddit",
    "com.twitter.android": "Twitter",
    "com.facebook.katana": "Facebook",
    "com.linkedin.android": "LinkedIn",
    "com.slack": "Slack",
    "org.telegram.messenger": "Telegram",
}

# Brands on country-code domains: matched as "<brand>.<tld>" or "<brand>.<sld>.<cc>"
# (google.de, google.co.uk, yandex.com.tr), and their subdomains (www., m., images.).
BRANDS: dict[str, str] = {
    "google": "Google",
    "yandex": "Yandex",
    "yahoo": "Yahoo",
    "bing": "Bing",
    "amazon": "Amazon",
}
