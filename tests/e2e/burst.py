"""A burst of concurrent requests: every connection opened first, then one request sent on
each at the same moment, as a page shared on a forum makes many readers' browsers do."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Safari/537.36"
)


@dataclass(frozen=True)
class Answer:
    seconds: float  # from sending the request to the end of the answer
    status: int  # 0: no answer (the error is in ``body``)
    headers: str
    body: bytes


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, wait: float
) -> Answer:
    start = time.monotonic()
    writer.write(request)
    try:
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), wait)
    except (OSError, TimeoutError) as error:
        return Answer(time.monotonic() - start, 0, "", repr(error).encode())
    finally:
        writer.close()
    seconds = time.monotonic() - start
    head, _, body = raw.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return Answer(seconds, 0, "", raw[:200])
    return Answer(seconds, status, head.decode("latin-1"), body)


async def _burst(port: int, requests: Sequence[bytes], wait: float) -> list[Answer]:
    connections = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", port) for _ in requests)
    )
    return await asyncio.gather(
        *(
            _exchange(reader, writer, request, wait)
            for (reader, writer), request in zip(connections, requests, strict=True)
        )
    )


def get_request(port: int, target: str, headers: dict[str, str]) -> bytes:
    """One HTTP/1.1 GET that closes its connection after the answer."""
    lines = [f"GET {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def burst(port: int, requests: Sequence[bytes], wait: float = 40.0) -> list[Answer]:
    """Send ``requests`` at once, one connection each; wait up to ``wait`` s for each."""
    # In a thread of its own: an earlier test (Playwright's sync API) may have left an
    # event loop running in this one, where asyncio.run() refuses to start.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(_burst(port, requests, wait))).result()
