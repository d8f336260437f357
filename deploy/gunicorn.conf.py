"""gunicorn settings for ``gunicorn -c deploy/gunicorn.conf.py page_tracker.wsgi:app``.

The values come from :func:`page_tracker.serving.gunicorn_options`, the same function
``page-tracker serve`` uses; ``GUNICORN_*`` variables adjust the bind and pool sizes.
"""

import os

from page_tracker.serving import gunicorn_options
from page_tracker.settings import load_settings

_options = gunicorn_options(
    load_settings(),
    host=os.environ.get("GUNICORN_HOST", "0.0.0.0"),  # noqa: S104 - inside a container
    port=int(os.environ.get("GUNICORN_PORT", "8000")),
    workers=int(os.environ.get("GUNICORN_WORKERS", "0")) or None,
    threads=int(os.environ.get("GUNICORN_THREADS", "4")),
)
globals().update(_options)
