"""Servers a fault test may break: its own redis-server, and a TCP proxy that cuts a
database off. The machine's shared Redis, MariaDB and PostgreSQL are never stopped or
flushed; these stand in front of them (proxy) or beside them (own Redis, free port)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import redis

from tests.e2e.server import free_port


class RedisServer:
    """A private ``redis-server`` on a free port with an append-only file fsynced on every
    write, in ``workdir``: :meth:`kill` and :meth:`start` restart it with its data.

    Not pytest-redis's ``RedisExecutor`` (which starts the session's private Redis, see
    :mod:`tests.private_servers`): it has no ``appendfsync always``, which the durability
    tests need, and its start does not wait for the append-only file to be loaded."""

    def __init__(self, workdir: Path, config: Sequence[str] = ()) -> None:
        self.workdir = workdir
        self.config = tuple(config)  # more redis-server options ("--maxmemory", "2mb")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    def start(self, timeout: float = 15) -> RedisServer:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--logfile",
                str(self.workdir / "redis.log"),
                *self.config,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with redis.Redis.from_url(self.url, socket_timeout=1) as client:
                    # ping answers while the AOF is still loading; wait for it
                    if client.ping() and client.info("persistence").get("loading") == 0:
                        return self
            except redis.RedisError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        log = (self.workdir / "redis.log").read_text(errors="replace")[-2000:]
        self.kill()
        raise RuntimeError(f"redis-server did not start: {log}")

    def kill(self) -> None:
        """SIGKILL: what survives is what the append-only file holds."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


# A Redis full at 2 MB that refuses writes instead of evicting keys (a managed Redis).
CAPPED_REDIS = ("--maxmemory", "2mb", "--maxmemory-policy", "noeviction", "--appendonly", "no")
FILLER = "fill:"


def fill_redis(client: redis.Redis) -> None:
    """Write filler keys until Redis refuses even a one-byte value (the big values first,
    then smaller ones: a refused command's own buffer no longer counts once refused)."""
    written = client.dbsize()
    for size in (4096, 256, 16, 1):
        while True:
            try:
                client.set(f"{FILLER}{written}", "x" * size)
            except redis.exceptions.OutOfMemoryError:
                break
            written += 1


def free_redis(client: redis.Redis) -> None:
    keys = list(client.scan_iter(f"{FILLER}*"))
    client.delete(*keys)


def redis_is_full(client: redis.Redis) -> bool:
    try:
        client.set("probe", "x")
    except redis.exceptions.OutOfMemoryError:
        return True
    client.delete("probe")
    return False


class TcpProxy:
    """Forwards ``127.0.0.1:port`` to ``target``; :meth:`cut` drops every connection and
    refuses new ones (the database is "down"), :meth:`restore` lets them through again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.1)
        self._open = threading.Event()
        self._open.set()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._thread.start()

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._stopped.set()
        self.cut()
        self._thread.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._open.is_set():
                client.close()  # "connection reset": the server is gone
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            source.settimeout(None)
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
            source.close()
