"""Celery entry point: ``celery -A page_tracker.worker worker`` (or ``page-tracker worker``).

Like :mod:`page_tracker.wsgi`, the only place a Celery app is built at import time.
"""

from page_tracker.app import create_app
from page_tracker.celery_app import CELERY

flask_app = create_app()
celery_app = CELERY.get(flask_app)
