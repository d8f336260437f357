"""The SSH deployment flow (seed 004's Makefile ``deploy``, made safe to repeat).

``deploy`` = build the wheel, upload it with ``constraints.txt`` and the environment's
configuration, install into ``releases/<id>/venv``, migrate, switch ``current`` and
restart under supervisord, check ``/healthz`` (and switch back if it fails), prune old
releases. The release id is the release tool's tag: ``<version>-<git sha>-<UTC time>``.
"""

from __future__ import annotations

import json
import shutil
import subprocess  # uv builds the wheel  # nosec B404
import sys
import tempfile
from pathlib import Path

from tools.deploy.config import DeployConfig
from tools.deploy.errors import DeployError
from tools.deploy.ssh import Remote
from tools.release.settings import PROJECT_ROOT
from tools.release.state import new_version, source_info

REMOTE_SCRIPT = Path(__file__).with_name("remote.py")


def build_wheel(out_dir: Path) -> Path:
    """``uv build --wheel`` of the project into ``out_dir``; the path of the wheel."""
    uv = Path(sys.executable).with_name("uv")
    uv_path = str(uv) if uv.exists() else shutil.which("uv")
    if uv_path is None:
        raise DeployError("uv is not installed: run `make install` first")
    done = subprocess.run(  # noqa: S603  # nosec B603
        [uv_path, "build", "--wheel", "--out-dir", str(out_dir), str(PROJECT_ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    wheels = sorted(out_dir.glob("page_tracker-*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        lines = done.stderr.strip().splitlines() or ["no wheel was built"]
        raise DeployError(f"building the wheel failed: {lines[-1]}")
    return wheels[0]


class SshDeployment:
    """The deploy commands for one environment."""

    def __init__(self, config: DeployConfig, remote: Remote | None = None) -> None:
        self.config = config
        self.remote = remote or Remote(config)

    def _pt_remote(self, *args: str, what: str) -> int:
        script = f"{self.config.directory}/bin/pt-remote.py"
        try:
            return self.remote.run(
                [self.config.python, script, "--root", self.config.directory, *args], what
            )
        except DeployError as exc:
            # "rollback: no previous release" -> "no previous release" for `rollback` itself
            raise DeployError(str(exc).removeprefix(f"{what}: ")) from exc

    def _say(self, message: str) -> None:
        print(f"deploy[{self.config.env_name}]: {message}", file=sys.stderr, flush=True)

    def deploy(self) -> str:
        """Deploy the working tree's code as a new release; return its id."""
        info = source_info(PROJECT_ROOT)
        release = new_version(info)
        directory = self.config.directory
        with tempfile.TemporaryDirectory(prefix="pt-deploy-") as tmp:
            upload = Path(tmp)
            self._say(f"building the wheel for {release}")
            wheel = build_wheel(upload / "dist")
            self._write_upload(upload, release, info.revision)
            files = [
                wheel,
                PROJECT_ROOT / "constraints.txt",
                upload / "app.env",
                upload / "release.json",
            ]
            self._say(f"uploading to {self.config.destination}:{directory}")
            incoming = f"{directory}/incoming/{release}"
            self.remote.run(["mkdir", "-p", f"{directory}/bin", incoming], "preparing the host")
            self.remote.copy([REMOTE_SCRIPT], f"{directory}/bin/pt-remote.py")
            self.remote.copy(files, f"{incoming}/")
        self._say(f"installing {release} (venv + hashed constraints)")
        self._pt_remote("install", release, "--upload", incoming, what="deploy")
        self._say("migrating")
        self._pt_remote("migrate", release, what="deploy")
        self._say("switching current and restarting")
        self._pt_remote("activate", release, what="deploy")
        self._pt_remote("prune", "--keep", str(self.config.keep), what="deploy")
        self._say(f"deployed {release}")
        return release

    def _write_upload(self, upload: Path, release: str, revision: str) -> None:
        lines = [f"# page-tracker {release} for {self.config.env_name} (from deploy/env)"]
        lines += [f"{key}={value}" for key, value in sorted(self.config.app_env.items())]
        (upload / "app.env").write_text("\n".join(lines) + "\n", encoding="utf-8")
        meta = {
            "release": release,
            "revision": revision,
            "environment": self.config.env_name,
            "serve_host": self.config.bind,
            "serve_port": self.config.port,
            "web_workers": self.config.web_workers,
            "worker_concurrency": self.config.worker_concurrency,
            "worker_args": self.config.worker_args,
            "programs": " ".join(self.config.programs),
            "health_timeout": self.config.health_timeout,
        }
        (upload / "release.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")

    def command(self, name: str) -> int:
        """start, stop, restart, status, rollback, releases on the host."""
        self._say(name)
        script = f"{self.config.directory}/bin/pt-remote.py"
        if self.remote.run(["test", "-f", script], "checking the host") != 0:
            raise DeployError(f"nothing is deployed in {self.config.directory} yet: run deploy")
        return self._pt_remote(name, what=name)
