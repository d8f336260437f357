"""WSGI entry point for gunicorn: ``gunicorn page_tracker.wsgi:app``.

The only module that builds an app at import time.
"""

from page_tracker.app import create_app

app = create_app()
