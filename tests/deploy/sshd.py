"""A real OpenSSH server (Debian's ``openssh-server``) on a free 127.0.0.1 port.

Its own host key, config, ``authorized_keys`` and pid file live in a temporary folder;
a throwaway client key is the only way in (no passwords, no PAM). sshd runs in the
foreground (``-D``) as a child of the test session and is terminated afterwards.
"""

from __future__ import annotations

import getpass
import socket
import subprocess
import time
from pathlib import Path

from tests.e2e.server import free_port

SSHD = Path("/usr/sbin/sshd")


def keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pt-test", "-f", str(path)],
        check=True,
        timeout=30,
    )
    return path


class LocalSshd:
    """sshd for the current user; ``ssh_options`` are what a client needs to reach it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.user = getpass.getuser()
        self.process: subprocess.Popen[bytes] | None = None
        self.client_key = root / "id_ed25519"
        self.known_hosts = root / "known_hosts"

    def start(self, timeout: float = 20) -> LocalSshd:
        self.root.mkdir(parents=True, exist_ok=True)
        host_key = keygen(self.root / "ssh_host_ed25519_key")
        keygen(self.client_key)
        (self.root / "authorized_keys").write_text(
            (self.root / "id_ed25519.pub").read_text(), encoding="utf-8"
        )
        config = self.root / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
            f"PidFile {self.root / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {self.root / 'authorized_keys'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
            "PermitRootLogin prohibit-password\nStrictModes no\n"
            "Subsystem sftp internal-sftp\nLogLevel VERBOSE\n",
            encoding="utf-8",
        )
        self.known_hosts.write_text(
            f"[127.0.0.1]:{self.port} {(self.root / 'ssh_host_ed25519_key.pub').read_text()}",
            encoding="utf-8",
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        with (self.root / "sshd.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"sshd did not listen: {self.log_tail()}")

    @property
    def ssh_options(self) -> str:
        return f"-o UserKnownHostsFile={self.known_hosts} -o StrictHostKeyChecking=yes"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def log_tail(self) -> str:
        path = self.root / "sshd.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""
