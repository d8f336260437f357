"""A huge body against a real server (issue 8, row 5): answered ``413`` with the JSON
error shape after at most a few KiB were read, whether its length is announced or it is
chunked, and the workers' peak memory does not follow the body."""

from __future__ import annotations

import json
import os
import select
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.server import Server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

HUNDRED_MB = 100 * 1024 * 1024
CHUNK = b"[" * 65_536


def peak_rss_kib(server: Server) -> int:
    """The highest peak resident set (VmHWM) among the server's processes."""
    assert server.process is not None
    group = server.process.pid
    peak = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != group:  # the process group
                continue
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return peak


def answer_to_huge_post(url: str, *, chunked: bool) -> tuple[int, dict[str, object], int]:
    """POST up to 100 MB, stopping as soon as the server answers; returns the status, the
    JSON body and how many body bytes were sent before the answer came."""
    parts = urlsplit(url)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {HUNDRED_MB}"
    head = (
        f"POST /api/v1/hits HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: text/plain\r\n"
        f"{framing}\r\nConnection: close\r\n\r\n"
    ).encode()
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        conn.sendall(head)
        while sent < HUNDRED_MB:
            readable, _, _ = select.select([conn], [], [], 0)
            if readable:
                break
            piece = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n" if chunked else CHUNK
            try:
                conn.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(CHUNK)
        received = b""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                data = conn.recv(65_536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
            if b"\r\n\r\n" in received and received.rstrip().endswith(b"}"):
                break
    status_line, _, rest = received.partition(b"\r\n")
    body = rest.split(b"\r\n\r\n", 1)[1]
    return int(status_line.split()[1]), json.loads(body), sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_should_refuse_a_100_mb_body_early_with_flat_memory(
    server: Server | None, chunked: bool
) -> None:
    if server is None:
        pytest.skip("needs the local server (reads its processes' memory)")
    before = peak_rss_kib(server)
    # When a client starts sending 100 MB
    status, body, sent = answer_to_huge_post(server.url, chunked=chunked)
    # Then the answer is 413 with the JSON error shape, long before the body's end
    assert status == 413
    assert body["code"] == 413
    assert sent < HUNDRED_MB // 4
    # and no server process's peak memory grew with the body
    assert peak_rss_kib(server) - before < 20 * 1024
