"""A thin, typed wrapper over the ``docker`` command line.

Only the CLI is used (``subprocess``), so the tool talks to whatever engine
``DOCKER_HOST``/``DOCKER_CONFIG`` point at, exactly like an operator's shell. Long steps
(build, push, run) stream docker's own output; every failure becomes one
:class:`ReleaseError` line.
"""

from __future__ import annotations

import shutil
import subprocess  # the docker and git CLIs are the interface  # nosec B404
from collections.abc import Sequence
from pathlib import Path

from tools.release.errors import ReleaseError
from tools.release.settings import Registry


class DockerCli:
    """Runs ``docker`` subcommands; raises :class:`ReleaseError` when one fails."""

    def __init__(self, executable: str = "docker") -> None:
        self.executable = executable

    def _argv(self, args: Sequence[str]) -> list[str]:
        path = shutil.which(self.executable)
        if path is None:
            raise ReleaseError(f"the {self.executable!r} command is not installed or not on PATH")
        return [path, *args]

    def _run(self, args: Sequence[str], what: str) -> None:
        """Run with docker's output shown; fail with ``what failed (exit N)``."""
        done = subprocess.run(self._argv(args), check=False)  # noqa: S603 (argv list)  # nosec B603
        if done.returncode != 0:
            raise ReleaseError(f"{what} failed (docker exit status {done.returncode})")

    def _capture(self, args: Sequence[str], stdin: str | None = None) -> tuple[int, str]:
        done = subprocess.run(  # noqa: S603 (argv list, no shell)  # nosec B603
            self._argv(args), input=stdin, capture_output=True, text=True, check=False
        )
        return done.returncode, (done.stderr.strip() or done.stdout.strip())

    def build(
        self,
        *,
        context: Path,
        dockerfile: Path,
        tag: str,
        build_args: dict[str, str],
        no_cache: bool = False,
    ) -> None:
        """``docker build`` of ``context`` with ``dockerfile``, tagged ``tag``."""
        args = ["build", "--force-rm", "-f", str(dockerfile), "-t", tag]
        if no_cache:
            args.append("--no-cache")
        for name, value in build_args.items():
            args += ["--build-arg", f"{name}={value}"]
        self._run([*args, str(context)], f"docker build of {tag}")

    def image_exists(self, ref: str) -> bool:
        """Whether the local engine has ``ref``."""
        code, _ = self._capture(["image", "inspect", "--format", "{{.Id}}", ref])
        return code == 0

    def tag(self, source: str, target: str) -> None:
        """``docker tag source target``."""
        code, output = self._capture(["tag", source, target])
        if code != 0:
            raise ReleaseError(f"docker tag {source} {target} failed: {_last_line(output)}")

    def login(self, registry: Registry) -> None:
        """``docker login`` with the password on stdin (never on the command line)."""
        code, output = self._capture(
            ["login", registry.host, "--username", registry.user, "--password-stdin"],
            stdin=registry.password,
        )
        if code != 0:
            raise ReleaseError(
                f"docker login to {registry.host} as {registry.user} failed: {_last_line(output)}"
            )

    def push(self, ref: str) -> None:
        """``docker push ref``."""
        self._run(["push", ref], f"docker push of {ref}")

    def run(self, ref: str, options: Sequence[str], command: Sequence[str]) -> None:
        """``docker run --rm [options] ref [command]`` in the foreground."""
        self._run(["run", "--rm", *options, ref, *command], f"docker run of {ref}")


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
