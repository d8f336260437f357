"""The host side of the SSH deployment; copied to ``<root>/bin/pt-remote.py`` and run there.

Standard library only: the host needs nothing but ``python3`` (with ``venv``) and pip's
index. Layout under ``<root>`` (``DEPLOY_DIR``)::

    releases/<id>/venv/       the wheel installed with the hashed constraints
    releases/<id>/app.env     the environment's configuration (travels with the release)
    releases/<id>/release.json  id, revision, port, workers, programs
    current -> releases/<id>  what supervisord runs; previous -> the one before (rollback)
    shared/                   working directory: secrets.env (0600, made once), var/, log/
    supervisor/venv/          supervisord, installed once

supervisord runs ``pt-remote.py exec web|worker|beat``, which loads ``current``'s
configuration and execs ``page-tracker serve|worker|beat``; so switching ``current`` and
restarting is the whole activation, and a rollback is the same switch backwards.
Failures print one ``pt-remote: error: ...`` line and exit 1. One file on purpose (it
is copied to the host alone, next to nothing of the repository), hence a little longer
than the house's usual module.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import secrets
import shutil
import subprocess  # nosec B404
import sys
import time
import urllib.request
from pathlib import Path

SUPERVISOR = "supervisor==4.3.0"
PROGRAMS = ("web", "worker", "beat")


class RemoteError(Exception):
    """One line saying why the step failed."""


class Host:
    """The deployment root on this host and the operations on it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.shared = self.root / "shared"
        self.conf = self.shared / "supervisord.conf"
        self.sock = self.shared / "run" / "supervisor.sock"
        self.supervisor_bin = self.root / "supervisor" / "venv" / "bin"

    # -- releases --------------------------------------------------------------------
    def release_dir(self, release: str) -> Path:
        path = self.root / "releases" / release
        if "/" in release or release in {"", ".", ".."}:
            raise RemoteError(f"invalid release id {release!r}")
        return path

    def link(self, name: str) -> str | None:
        path = self.root / name
        return Path(os.readlink(path)).name if path.is_symlink() else None

    def set_link(self, name: str, release: str) -> None:
        tmp = self.root / f".{name}.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(Path("releases") / release)
        tmp.replace(self.root / name)  # atomic rename over the old link

    def install(self, release: str, upload: Path) -> None:
        """Create ``releases/<release>`` from the uploaded wheel, constraints and config."""
        target = self.release_dir(release)
        if target.exists():
            raise RemoteError(f"release {release} already exists on this host")
        wheels = sorted(upload.glob("*.whl"))
        if len(wheels) != 1:
            raise RemoteError(f"expected one wheel in {upload}, found {len(wheels)}")
        try:
            target.mkdir(parents=True)
            venv = target / "venv"
            run([sys.executable, "-m", "venv", str(venv)], "creating the venv")
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
            run(
                [*pip, "--require-hashes", "-r", str(upload / "constraints.txt")], "installing deps"
            )
            run([*pip, "--no-deps", str(wheels[0])], "installing the wheel")
            for name in ("app.env", "release.json"):
                shutil.copy2(upload / name, target / name)
        except (RemoteError, OSError):
            shutil.rmtree(target, ignore_errors=True)  # never leave a half-installed release
            raise
        finally:
            shutil.rmtree(upload, ignore_errors=True)
        print(f"installed release {release}")

    def meta(self, release: str) -> dict[str, object]:
        path = self.release_dir(release) / "release.json"
        try:
            data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise RemoteError(f"release {release} is not installed on this host") from exc
        return data

    def environment(self, release: str) -> dict[str, str]:
        """Process environment: the release's app.env, then shared/secrets.env (wins)."""
        env = dict(os.environ)
        for path in (self.release_dir(release) / "app.env", self.shared / "secrets.env"):
            env.update(read_env_file(path))
        return env

    def page_tracker(self, release: str, *args: str) -> list[str]:
        return [str(self.release_dir(release) / "venv" / "bin" / "page-tracker"), *args]

    def migrate(self, release: str) -> None:
        self.ensure_shared()
        run(self.page_tracker(release, "db", "upgrade"), "migrating", self.environment(release))
        print(f"migrated the database for {release}")

    def ensure_shared(self) -> None:
        for sub in ("run", "log", "var"):
            (self.shared / sub).mkdir(parents=True, exist_ok=True)
        secrets_env = self.shared / "secrets.env"
        if not secrets_env.exists():
            secrets_env.touch(mode=0o600)
            secrets_env.write_text(
                "# Host-only secrets, made on the first deploy; edit here, never in git.\n"
                f"SECRET_KEY={secrets.token_urlsafe(48)}\n",
                encoding="utf-8",
            )

    # -- processes -------------------------------------------------------------------
    def supervisorctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(  # noqa: S603  # nosec B603
            [str(self.supervisor_bin / "supervisorctl"), "-c", str(self.conf), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        if check and done.returncode not in (0, 3):
            raise RemoteError(f"supervisorctl {' '.join(args)}: {done.stdout}{done.stderr}")
        return done

    def supervisord_running(self) -> bool:
        return self.sock.exists() and self.supervisorctl("pid", check=False).returncode == 0

    def write_supervisor_config(self, release: str) -> None:
        if not (self.supervisor_bin / "supervisord").exists():
            run([sys.executable, "-m", "venv", str(self.supervisor_bin.parent)], "supervisor venv")
            pip = str(self.supervisor_bin / "python")
            run([pip, "-m", "pip", "install", "--quiet", SUPERVISOR], "installing supervisor")
        programs = [p for p in str(self.meta(release).get("programs", "")).split() if p]
        unknown = sorted(set(programs) - set(PROGRAMS))
        if unknown:
            raise RemoteError(f"unknown programs {unknown}: choose from {list(PROGRAMS)}")
        log = self.shared / "log"
        lines = [
            f"[unix_http_server]\nfile={self.sock}\nchmod=0700\n",
            f"[supervisord]\npidfile={self.shared / 'run' / 'supervisord.pid'}\n"
            f"logfile={log / 'supervisord.log'}\ndirectory={self.shared}\nchildlogdir={log}\n",
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
            f"[supervisorctl]\nserverurl=unix://{self.sock}\n",
        ]
        for program in programs:
            lines.append(
                f"[program:{program}]\n"
                f"command={sys.executable} {self.root / 'bin' / 'pt-remote.py'} "
                f"--root {self.root} exec {program}\n"
                "autostart=true\nautorestart=true\nstartsecs=3\nstartretries=2\n"
                "stopasgroup=true\nkillasgroup=true\nstopwaitsecs=20\n"
                f"stdout_logfile={log / program}.log\nredirect_stderr=true\n"
            )
        self.conf.write_text("\n".join(lines), encoding="utf-8")

    def start(self) -> None:
        release = self.require_current()
        self.ensure_shared()
        if self.supervisord_running():
            self.supervisorctl("start", "all")
        else:
            self.write_supervisor_config(release)
            run([str(self.supervisor_bin / "supervisord"), "-c", str(self.conf)], "supervisord")
        self.wait_healthy(release)
        print(f"started {release}")

    def stop(self) -> None:
        if not self.supervisord_running():
            print("not running")
            return
        self.supervisorctl("shutdown")
        deadline = time.monotonic() + 60
        while self.sock.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        print("stopped")

    def restart(self) -> None:
        self.stop()
        self.start()

    def status(self) -> int:
        print(f"current: {self.link('current') or '-'}")
        print(f"previous: {self.link('previous') or '-'}")
        if not self.supervisord_running():
            print("supervisord: not running")
            return 3
        done = self.supervisorctl("status")
        print(done.stdout.rstrip())
        return 0 if done.returncode == 0 else 3

    def program_states(self) -> dict[str, str]:
        """``{"web": "RUNNING", ...}`` from ``supervisorctl status``."""
        states: dict[str, str] = {}
        for line in self.supervisorctl("status", check=False).stdout.splitlines():
            fields = line.split()
            if len(fields) >= 2:
                states[fields[0]] = fields[1]
        return states

    def wait_healthy(self, release: str) -> None:
        """Every program RUNNING and ``/healthz`` answering 200, or fail naming them."""
        meta = self.meta(release)
        timeout = float(str(meta.get("health_timeout", 90)))
        programs = str(meta.get("programs", "")).split()
        url = f"http://{meta['serve_host']}:{meta['serve_port']}/healthz"
        deadline = time.monotonic() + timeout
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            states = self.program_states()
            if "FATAL" in states.values():
                break
            running = all(states.get(p) == "RUNNING" for p in programs)
            if running and ("web" not in programs or http_ok(url)):
                return
            time.sleep(0.5)
        summary = ", ".join(f"{p} {s}" for p, s in sorted(states.items())) or "no programs"
        raise RemoteError(f"release {release} is not healthy ({summary}; {url})")

    def require_current(self) -> str:
        current = self.link("current")
        if current is None:
            raise RemoteError("nothing is deployed here yet: run deploy first")
        return current

    # -- activation ------------------------------------------------------------------
    def activate(self, release: str) -> None:
        """Switch ``current`` to ``release`` and restart; on failure switch back."""
        self.meta(release)
        old = self.link("current")
        self.stop()
        self.set_link("current", release)
        try:
            self.start()
        except RemoteError as exc:
            if old is None or old == release:
                raise
            print(f"activation failed, rolling back to {old}: {exc}", file=sys.stderr)
            self.stop()
            self.set_link("current", old)
            self.start()
            raise RemoteError(f"{exc}; rolled back to {old}") from exc
        if old and old != release:
            self.set_link("previous", old)
        print(f"activated {release}")

    def rollback(self) -> None:
        previous = self.link("previous")
        current = self.require_current()
        if previous is None or not self.release_dir(previous).exists():
            raise RemoteError("no previous release to roll back to")
        self.stop()
        self.set_link("current", previous)
        self.set_link("previous", current)
        self.start()
        print(f"rolled back from {current} to {previous}")

    def prune(self, keep: int) -> None:
        releases = sorted(
            (p for p in (self.root / "releases").iterdir() if not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        protected = {self.link("current"), self.link("previous")}
        for path in releases[keep:]:
            if path.name not in protected:
                shutil.rmtree(path)
                print(f"removed old release {path.name}")

    def exec_program(self, program: str) -> None:
        release = self.require_current()
        meta = self.meta(release)
        args = {
            "web": [
                "serve",
                f"--host={meta['serve_host']}",
                f"--port={meta['serve_port']}",
                f"--workers={meta.get('web_workers', 2)}",
            ],
            "worker": [
                "worker",
                f"--concurrency={meta.get('worker_concurrency', 2)}",
                *str(meta.get("worker_args", "")).split(),
            ],
            "beat": ["beat", f"--schedule-file={self.shared / 'var' / 'celerybeat-schedule'}"],
        }[program]
        command = self.page_tracker(release, *args)
        os.chdir(self.shared)
        os.execve(command[0], command, self.environment(release))  # noqa: S606  # nosec B606


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``#`` comments, optional quotes); missing file -> empty."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310  # nosec B310
            return bool(response.status == 200)
    except OSError:
        return False


def run(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(  # noqa: S603  # nosec B603
        argv, capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        output = (done.stderr.strip() or done.stdout.strip()).splitlines()
        raise RemoteError(f"{what} failed: {output[-1] if output else done.returncode}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pt-remote", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("install", "migrate", "activate"):
        sub.add_parser(name).add_argument("release")
    sub.choices["install"].add_argument("--upload", type=Path, required=True)
    for name in ("start", "stop", "restart", "status", "rollback", "releases"):
        sub.add_parser(name)
    sub.add_parser("prune").add_argument("--keep", type=int, default=3)
    sub.add_parser("exec").add_argument("program", choices=PROGRAMS)
    args = parser.parse_args(argv)
    host = Host(args.root)
    try:
        if args.command == "exec":  # supervisord's program command: replaces this process
            host.exec_program(args.program)
        (host.root / "releases").mkdir(parents=True, exist_ok=True)
        with (host.root / ".deploy.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one deploy step at a time per host
            return dispatch(host, args)
    except RemoteError as exc:
        print(f"pt-remote: error: {args.command}: {exc}", file=sys.stderr)
        return 1


def dispatch(host: Host, args: argparse.Namespace) -> int:
    if args.command == "status":
        return host.status()
    if args.command == "releases":
        for path in sorted((host.root / "releases").iterdir()):
            print(path.name)
    elif args.command == "install":
        host.install(args.release, args.upload)
    elif args.command in {"migrate", "activate"}:
        getattr(host, args.command)(args.release)
    elif args.command == "prune":
        host.prune(args.keep)
    else:
        getattr(host, args.command)()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
