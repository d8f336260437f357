"""page-tracker: self-hosted page-view tracking.

The public surface is the application factory; everything else is reached through it.
"""

from page_tracker.app import create_app

__all__ = ["create_app"]
