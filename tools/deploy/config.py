"""Per-environment deployment configuration (seed 004): ``deploy/env/<env>.env``.

One file per environment holds both what the deploy tool needs (``DEPLOY_*``: host,
user, directory, port, ...) and the application's own settings (everything else:
``PAGE_TRACKER_ENV``, ``DATABASE_URL``, ``REDIS_URL``, ``LOG_LEVEL`` ...), which travel
with each release as its ``app.env``. ``DEPLOY_*`` variables in the environment override
the file (``make deploy ENV=staging DEPLOY_HOST=10.0.0.5``). Secrets are never in these
files: the host keeps them in ``shared/secrets.env`` (a random ``SECRET_KEY`` is created
there on the first deploy).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tools.deploy.errors import DeployError
from tools.deploy.remote import PROGRAMS, read_env_file
from tools.release.settings import PROJECT_ROOT

ENV_DIR = PROJECT_ROOT / "deploy" / "env"
SECRET_NAMES = ("SECRET_KEY", "PASSWORD", "PASS", "TOKEN")


@dataclass(frozen=True)
class DeployConfig:
    """Where and how to deploy; ``app_env`` is the release's application configuration."""

    env_name: str
    host: str
    user: str
    ssh_port: int
    ssh_key: str
    ssh_options: tuple[str, ...]
    directory: str
    python: str
    bind: str
    port: int
    web_workers: int
    worker_concurrency: int
    worker_args: str
    programs: tuple[str, ...]
    keep: int
    health_timeout: int
    app_env: dict[str, str]

    @property
    def destination(self) -> str:
        """``user@host`` (or ``host`` when no user is set: ssh's default applies)."""
        return f"{self.user}@{self.host}" if self.user else self.host

    @classmethod
    def load(
        cls, env_name: str, env_file: Path | None = None, environ: Mapping[str, str] | None = None
    ) -> DeployConfig:
        """Read ``deploy/env/<env_name>.env`` (or ``env_file``) and ``DEPLOY_*`` overrides."""
        environ = os.environ if environ is None else environ
        path = env_file or Path(environ.get("DEPLOY_ENV_FILE") or ENV_DIR / f"{env_name}.env")
        if not path.is_file():
            known = sorted(p.stem for p in ENV_DIR.glob("*.env"))
            raise DeployError(f"no configuration {path} (environments: {', '.join(known)})")
        values = read_env_file(path)
        values.update({k: v for k, v in environ.items() if k.startswith("DEPLOY_")})
        app_env = {k: v for k, v in values.items() if not k.startswith("DEPLOY_")}
        leaked = [k for k in app_env if any(s in k for s in SECRET_NAMES) and app_env[k]]
        if leaked:
            raise DeployError(
                f"{path} sets {', '.join(leaked)}: secrets belong in shared/secrets.env on the host"
            )

        def need(name: str) -> str:
            value = values.get(name, "").strip()
            if not value:
                raise DeployError(f"{name} is not set (in {path} or the environment)")
            return value

        def number(name: str, default: int) -> int:
            raw = values.get(name, "").strip() or str(default)
            if not raw.isdigit():
                raise DeployError(f"{name} must be a whole number, not {raw!r}")
            return int(raw)

        programs = tuple((values.get("DEPLOY_PROGRAMS") or "web worker beat").split())
        unknown = sorted(set(programs) - set(PROGRAMS))
        if unknown or not programs:
            raise DeployError(f"DEPLOY_PROGRAMS must name some of {', '.join(PROGRAMS)}")
        return cls(
            env_name=path.stem,
            host=need("DEPLOY_HOST"),
            user=values.get("DEPLOY_USER", "").strip(),
            ssh_port=number("DEPLOY_SSH_PORT", 22),
            ssh_key=values.get("DEPLOY_SSH_KEY", "").strip(),
            ssh_options=tuple(shlex.split(values.get("DEPLOY_SSH_OPTIONS", ""))),
            directory=need("DEPLOY_DIR").rstrip("/"),
            python=values.get("DEPLOY_PYTHON", "").strip() or "python3",
            bind=values.get("DEPLOY_BIND", "").strip() or "127.0.0.1",
            port=number("DEPLOY_PORT", 8000),
            web_workers=number("DEPLOY_WEB_WORKERS", 2),
            worker_concurrency=number("DEPLOY_WORKER_CONCURRENCY", 2),
            worker_args=values.get("DEPLOY_WORKER_ARGS", "").strip(),
            programs=programs,
            keep=max(2, number("DEPLOY_KEEP", 3)),
            health_timeout=number("DEPLOY_HEALTH_TIMEOUT", 90),
            app_env=app_env,
        )
