"""Repository tooling: release (Docker images) and deploy (SSH, Compose).

Lives outside ``src/`` on purpose: none of it ships in the ``page_tracker`` wheel.
Run from the repository root, e.g. ``python -m tools.release --help``.
"""
