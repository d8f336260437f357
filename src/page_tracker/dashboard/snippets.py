"""The embed snippets a site's owners copy into their pages: ``pt.js``, the pixel, the
Busuanzi counters and Plausible's own script pointed at us (README "Tracking")."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from markupsafe import escape

from page_tracker.sites.models import Site


@dataclass(frozen=True, slots=True)
class Snippet:
    id: str
    label: str
    code: str
    note: str = ""


def snippets(site: Site, tracker: str) -> list[Snippet]:
    """The snippets for ``site`` served from ``tracker`` (scheme and host)."""
    site_id, domain = escape(site.id), escape(site.domain)
    return [
        Snippet(
            "snippet-pt",
            str(_l("Script (pt.js)")),
            f'<script defer src="{tracker}/pt.js" data-site="{site_id}"></script>',
        ),
        Snippet(
            "snippet-pixel",
            str(_l("Pixel (no JavaScript)")),
            f'<noscript><img src="{tracker}/count.gif?site={site_id}" alt=""></noscript>',
        ),
        Snippet(
            "snippet-busuanzi",
            str(_l("Busuanzi counters")),
            f'<script async src="{tracker}/busuanzi/2.3/busuanzi.pure.mini.js"></script>\n'
            '<span id="busuanzi_value_page_pv"></span> views',
            str(_l("Busuanzi counters are shown only for sites with public counters.")),
        ),
        Snippet(
            "snippet-plausible",
            str(_l("Plausible's script")),
            f'<script defer data-domain="{domain}" data-api="{tracker}/api/event" '
            'src="https://plausible.io/js/script.js"></script>',
            str(_l("Plausible's own script, sending to this server instead of Plausible.")),
        ),
    ]
