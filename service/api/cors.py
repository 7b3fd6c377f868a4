"""Cross-origin access for the hospital system's pages (WHATWG Fetch "CORS protocol"; WICG
"Private Network Access", whose preflight Chrome sends before a page from an intranet or
public address may call 127.0.0.1).

Only the origins the operator configured (``CCCD_CORS_ORIGINS``) get CORS answers; only they
get ``Access-Control-Allow-Private-Network: true`` on a preflight that asks for it. A
preflight from any other origin is refused (403, no CORS headers), so the browser blocks the
call. The client script under ``/sdk/`` holds no data and may be loaded by any page
(``Access-Control-Allow-Origin: *``), so an HIS page on an origin not configured yet can
still show the SDK's plain "origin not allowed" error instead of a bare network failure.

The WebSocket handshake is not covered by CORS: ``service.api.routes.push`` applies the same
``OriginPolicy`` to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.problems import MEDIA_TYPE, PROBLEM_TYPE

ALLOW_METHODS = "GET, POST, PUT, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type, Last-Event-ID"
EXPOSE_HEADERS = "Location, Retry-After"
PREFLIGHT_MAX_AGE = "600"
PUBLIC_PREFIXES = ("/sdk/",)


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, default ports dropped; "" when not an origin."""
    text = origin.strip()
    if len(text) > 300:
        return ""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


class OriginPolicy:
    """Which page origins may call the service from a browser."""

    def __init__(self, origins: Iterable[str]) -> None:
        self.origins = frozenset(o for o in (normalize_origin(x) for x in origins) if o)

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and normalize_origin(origin or "") in self.origins

    def same_origin(self, origin: str, host: str | None, *, secure: bool) -> bool:
        """The page was served by this service (its origin is the address it was asked at)."""
        if not host:
            return False
        scheme = "https" if secure else "http"
        mine = normalize_origin(f"{scheme}://{host}")
        return bool(mine) and normalize_origin(origin) == mine


class CorsMiddleware:
    """CORS and Private Network Access answers for the configured origins only."""

    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        allowed = self.policy.allows(origin)
        path: str = scope.get("path", "")
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(send, origin, allowed, headers)
            return
        public = path.startswith(PUBLIC_PREFIXES)
        if not allowed and not public:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                if allowed:
                    out["Access-Control-Allow-Origin"] = origin
                    out["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
                    out.add_vary_header("Origin")
                else:
                    out["Access-Control-Allow-Origin"] = "*"
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, send: Send, origin: str, allowed: bool, headers: Headers) -> None:
        if not allowed:
            body = json.dumps(
                {
                    "type": PROBLEM_TYPE + "origin-not-allowed",
                    "title": "This page's origin may not call the service",
                    "status": 403,
                    "detail": "add the origin to CCCD_CORS_ORIGINS",
                    "clerk_message": "Trang này chưa được phép gọi dịch vụ đọc thẻ: "
                    "báo quản trị thêm địa chỉ trang vào CCCD_CORS_ORIGINS",
                },
                ensure_ascii=False,
            ).encode("utf-8")
            await _respond(
                send,
                403,
                [(b"content-type", MEDIA_TYPE.encode()), (b"vary", b"Origin")],
                body,
            )
            return
        out = [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", ALLOW_METHODS.encode()),
            (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
            (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode()),
            (b"vary", b"Origin, Access-Control-Request-Private-Network"),
        ]
        if headers.get("access-control-request-private-network", "").lower() == "true":
            out.append((b"access-control-allow-private-network", b"true"))
        await _respond(send, 204, out, b"")


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
