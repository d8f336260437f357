"""Deployment tooling (seed 004): the wheel over SSH, or the image with Docker Compose.

``python -m tools.deploy --env staging deploy`` builds the wheel, copies it with the
hashed constraints and ``deploy/env/<env>.env`` to the host, installs it into a new venv
under ``releases/<id>``, migrates, switches ``current`` and restarts the web server and the
Celery worker under supervisord, keeping the previous release for ``rollback``.
``compose-deploy`` does the same for the image: pull, up, health check, roll back.
"""
