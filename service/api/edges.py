"""What the service checks before any route runs (docs/operations.md "Network edges"):

- **Request bodies are bounded before authentication and before parsing**: a declared
  ``Content-Length`` over the limit gets ``413`` at once, without reading a byte; a chunked
  body is counted as it arrives and cut off with ``413`` at the limit. A 200 MB upload from
  any web page therefore costs nothing.
- **Only JSON is accepted as a body** on the API: another ``Content-Type`` gets ``415``
  before the body is read (a cross-site ``text/plain`` form post is a "simple request" that a
  browser sends without asking).
- **The Host header must name this service** (DNS rebinding: a hostile page whose name
  resolves to 127.0.0.1 would otherwise talk to the desk service with the clerk's browser).

Plain ASGI middleware, so it runs for every route, streaming or not.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PROBLEM = "https://cccd.invalid/problems/"


async def _problem(send: Send, status: int, slug: str, title: str, clerk: str) -> None:
    body = json.dumps(
        {
            "type": PROBLEM + slug,
            "title": title,
            "status": status,
            "clerk_message": clerk,
        },
        ensure_ascii=False,
    ).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestEdges:
    """Body limit, JSON-only bodies and the Host check, in that order of cheapness."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        allowed_hosts: Iterable[str] | None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.allowed_hosts = (
            None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.allowed_hosts is not None and _host_name(headers.get("host", "")) not in (
            self.allowed_hosts
        ):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await _problem(
                send,
                421,
                "wrong-host",
                "This service does not answer to that host name",
                "Địa chỉ dịch vụ không đúng: mở lại trang từ địa chỉ của dịch vụ",
            )
            return
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await _problem(
                send,
                413,
                "body-too-large",
                "The request body is too large",
                "Dữ liệu gửi lên quá lớn",
            )
            return
        has_body = (declared not in (None, "0")) or "chunked" in headers.get(
            "transfer-encoding", ""
        )
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if has_body and media != "application/json":
            await _problem(
                send,
                415,
                "unsupported-media-type",
                "Send the request body as application/json",
                "Dữ liệu gửi lên không đúng định dạng",
            )
            return
        await self._bounded(scope, receive, send)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count a body as it arrives; past the limit answer 413 ourselves and tell the app
        the client went away (frameworks turn an exception while reading into a 400)."""
        seen = 0
        started = False
        refused = False

        async def counted_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    refused = True
                    if not started:
                        await _problem(
                            send,
                            413,
                            "body-too-large",
                            "The request body is too large",
                            "Dữ liệu gửi lên quá lớn",
                        )
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent: the app's own answer goes nowhere
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted_receive, tracked_send)


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8080
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def allowed_host_names(bind_host: str, extra: Iterable[str]) -> set[str]:
    """The names the service answers to: loopback's, the bound address, configured ones."""
    names = {"127.0.0.1", "localhost", "[::1]", *(h.lower() for h in extra)}
    if bind_host not in ("0.0.0.0", "::", ""):
        names.add(f"[{bind_host}]" if ":" in bind_host else bind_host.lower())
    return names
