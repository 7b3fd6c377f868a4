"""A small misbehaving BHXH gateway: a raw HTTP/1.1 server on 127.0.0.1 (asyncio streams in a
thread) whose answers are written byte for byte, so a test can send what no framework would:
a body shorter than its Content-Length, an absurd Content-Length, a chunked stream that never
ends, or nothing at all. Each path answers from ``script`` (path -> raw answer or ``HANG``);
paths not scripted answer like a working gateway."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

HANG = b"__hang__"
STREAM_FOREVER = b"__stream__"

GOOD_TOKEN = json.dumps(
    {
        "maKetQua": "200",
        "APIKey": {
            "access_token": "t0k3n",
            "id_token": "id",
            "token_type": "Bearer",
            "username": "01001_BV",
            "expires_in": 3000,
        },
    }
).encode()
GOOD_CHECK = json.dumps(
    {
        "maKetQua": "000",
        "ghiChu": "Thẻ còn giá trị sử dụng!",
        "maThe": "GD5171725468514",
        "hoTen": "TRẦN VĂN ĐỨC",
        "ngaySinh": "02/11/1972",
        "gioiTinh": "Nam",
        "gtTheTu": "01/01/2025",
        "gtTheDen": "31/12/2030",
        "maDKBD": "17514",
        "dsLichSuKCB2018": None,
    },
    ensure_ascii=False,
).encode()
GOOD_HISTORY = b'{"maKetQua":"000","ghiChu":"ok","dsLichSuKCB2025":[]}'


def http(
    status: int,
    body: bytes = b"",
    *,
    content_type: str | None = "application/json; charset=utf-8",
    headers: dict[str, str] | None = None,
    length: int | None = None,
) -> bytes:
    """An HTTP/1.1 answer; ``length`` overrides the Content-Length actually sent."""
    lines = [f"HTTP/1.1 {status} X"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body) if length is None else length}")
    lines.append("Connection: close")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


DEFAULTS = {
    "/api/token/take": http(200, GOOD_TOKEN),
    "/api/egw/KQNhanLichSuKCB2024": http(200, GOOD_CHECK),
    "/api/egw/Lskcb2025": http(200, GOOD_HISTORY),
}


@dataclass
class MisbehavingGateway:
    port: int = 0
    script: dict[str, bytes] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            path = request_line.split(" ")[1].split("?", 1)[0]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length:
                await reader.readexactly(length)
            self.calls.append(path)
            answer = self.script.get(path, DEFAULTS.get(path, http(404)))
            if answer == HANG:
                await asyncio.sleep(3600)
            elif answer == STREAM_FOREVER:
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n"
                )
                chunk = b"x" * 65536
                while True:
                    writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    await writer.drain()
            else:
                writer.write(answer)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # the server is stopping
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


@contextmanager
def misbehaving_gateway() -> Iterator[MisbehavingGateway]:
    gateway = MisbehavingGateway()
    ready = threading.Event()
    stop: dict[str, asyncio.Event] = {}

    async def serve() -> None:
        stop["event"] = asyncio.Event()
        server = await asyncio.start_server(gateway.handle, "127.0.0.1", 0)
        gateway.port = server.sockets[0].getsockname()[1]
        gateway.loop = asyncio.get_running_loop()
        ready.set()
        async with server:
            await stop["event"].wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the misbehaving gateway did not start")
    try:
        yield gateway
    finally:
        assert gateway.loop is not None
        gateway.loop.call_soon_threadsafe(stop["event"].set)
        thread.join(10)
