"""OpenSSH's ``ssh`` and ``scp`` as the transport (no Python SSH library to trust).

``BatchMode=yes``: a deploy never stops at a password or host-key prompt; a missing key
or an unknown host fails at once with ssh's reason.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess  # ssh and scp are the transport  # nosec B404
import sys
from collections.abc import Sequence
from pathlib import Path

from tools.deploy.config import DeployConfig
from tools.deploy.errors import DeployError

REMOTE_ERROR = "pt-remote: error: "


class Remote:
    """Commands and copies to one host."""

    def __init__(self, config: DeployConfig) -> None:
        self.config = config

    def _options(self, port_flag: str) -> list[str]:
        options = [port_flag, str(self.config.ssh_port), "-o", "BatchMode=yes"]
        options += ["-o", "ConnectTimeout=15"]
        if self.config.ssh_key:
            options += ["-i", self.config.ssh_key, "-o", "IdentitiesOnly=yes"]
        return [*options, *self.config.ssh_options]

    @staticmethod
    def _tool(name: str) -> str:
        path = shutil.which(name)
        if path is None:
            raise DeployError(f"the {name!r} command is not installed (Debian: openssh-client)")
        return path

    def run(self, argv: Sequence[str], what: str) -> int:
        """Run ``argv`` on the host (its output shown); return its exit status.

        An ssh failure (255) or a ``pt-remote: error:`` line becomes a DeployError.
        """
        command = [self._tool("ssh"), *self._options("-p"), self.config.destination]
        done = subprocess.run(  # noqa: S603  # nosec B603
            [*command, "--", shlex.join(argv)], stderr=subprocess.PIPE, text=True, check=False
        )
        errors = [line for line in done.stderr.splitlines() if line.strip()]
        remote = [line[len(REMOTE_ERROR) :] for line in errors if line.startswith(REMOTE_ERROR)]
        for line in errors:
            if not line.startswith(REMOTE_ERROR):
                print(line, file=sys.stderr)
        if remote:
            raise DeployError(remote[-1])
        if done.returncode == 255:
            reason = errors[-1] if errors else "no output"
            raise DeployError(f"{what}: ssh to {self._where()} failed: {reason}")
        return done.returncode

    def copy(self, sources: Sequence[Path], target: str) -> None:
        """``scp`` files to ``target`` on the host (a folder ending in ``/``, or a file)."""
        command = [self._tool("scp"), "-q", *self._options("-P")]
        destination = f"{self.config.destination}:{target}"
        done = subprocess.run(  # noqa: S603  # nosec B603
            [*command, *map(str, sources), destination], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or ["no output"]
            raise DeployError(f"copying to {self._where()}:{target} failed: {lines[-1]}")

    def _where(self) -> str:
        return f"{self.config.destination}:{self.config.ssh_port}"
