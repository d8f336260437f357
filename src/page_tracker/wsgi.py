"""WSGI entry point for any WSGI server: ``page_tracker.wsgi:app`` (``page-tracker serve``
runs granian with its own app factory, :func:`page_tracker.serving.granian_app`).

The only module that builds an app at import time.
"""

from page_tracker import logs
from page_tracker.app import create_serving_app
from page_tracker.settings import load_settings

_settings = load_settings()
logs.configure_logging(
    _settings.log_config,
    _settings.log_dir,
    _settings.log_level,
    full_access=_settings.log_full_access,
)
app = create_serving_app(_settings)
