"""One gateway exchange, bounded (``docs/spec/bhyt-gateway.md`` "Timing and etiquette"): send a
form-urlencoded or JSON body, read at most ``MAX_ANSWER_BYTES`` of the answer and turn
everything that is not a JSON object into a ``GatewayFault`` with the status the desk shows.

Classification: no connection, timeouts, HTTP 5xx and 429, HTML pages, empty or cut-off
bodies, non-JSON content types, JSON that is not an object, bodies over the size cap ->
``unavailable`` (the clerk asks again later). A redirect, 404/405/410 (the configured address
is not the gateway's), 400/415 (the gateway refuses the request's shape) -> ``config_error``.
HTTP 401 and 403 are handed back to the caller, which knows whether a token refresh may help.
Tokens travel in the query string, so no URL is ever logged or put in a message.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from service.integrations.bhyt import codes

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 1 << 20  # a card answer is a few KiB; the visit history some tens
Encoding = Literal["form", "json"]
_JSON_TYPES = ("application/json", "text/json")


class GatewayFault(Exception):
    """A gateway exchange that gave no usable answer."""

    def __init__(
        self, status: str, reason: str, message_vi: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.message_vi = message_vi
        self.retry_after = retry_after


def unavailable(reason: str, *, retry_after: float | None = None) -> GatewayFault:
    return GatewayFault("unavailable", reason, codes.UNAVAILABLE_MESSAGE, retry_after=retry_after)


@dataclass(frozen=True, slots=True)
class Answer:
    """A gateway answer: ``body`` is the JSON object (keys as sent) or None for 401/403."""

    http_status: int
    body: dict[str, Any] | None


async def exchange(
    client: httpx.AsyncClient,
    path: str,
    *,
    fields: dict[str, str],
    params: dict[str, str] | None = None,
    encoding: Encoding = "form",
    limit: int = MAX_ANSWER_BYTES,
) -> Answer:
    """POST ``fields`` to ``path``; raises ``GatewayFault`` for every unusable answer."""
    body: dict[str, Any] = {"data": fields} if encoding == "form" else {"json": fields}
    try:
        async with client.stream("POST", path, params=params, **body) as response:
            status = response.status_code
            if status in (401, 403):
                return Answer(status, None)
            _check_status(response)
            raw = await _read_bounded(response, limit)
            content_type = response.headers.get("content-type", "")
    except GatewayFault:
        raise
    except httpx.TimeoutException as exc:
        raise unavailable(f"no answer in time ({type(exc).__name__})") from None
    except httpx.RemoteProtocolError:
        raise unavailable("the answer was cut off (connection closed mid-answer)") from None
    except httpx.HTTPError as exc:  # connection refused, DNS, TLS, decoding ...
        raise unavailable(f"cannot reach the gateway ({type(exc).__name__})") from None
    return Answer(status, parse_object(raw, content_type))


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if 300 <= status < 400:
        where = httpx.URL(response.headers.get("location", "")).host or "?"
        raise GatewayFault(
            "config_error",
            f"the gateway address answered a redirect (HTTP {status} to host {where})",
            codes.WRONG_ADDRESS_MESSAGE.format(detail=f"chuyển hướng HTTP {status}"),
        )
    if status in (404, 405, 410):
        raise GatewayFault(
            "config_error",
            f"no such gateway function at the configured address (HTTP {status})",
            codes.WRONG_ADDRESS_MESSAGE.format(detail=f"HTTP {status}"),
        )
    if status in (400, 415):
        raise GatewayFault(
            "config_error",
            f"the gateway refused the request's shape (HTTP {status})",
            codes.REQUEST_REFUSED_MESSAGE.format(status=status),
        )
    if status == 429:
        retry_after = _seconds(response.headers.get("retry-after"))
        raise GatewayFault(
            "unavailable",
            "the gateway refused the call: too many calls (HTTP 429)",
            codes.RATE_LIMITED_MESSAGE,
            retry_after=retry_after,
        )
    if status >= 400 or status < 200:
        raise unavailable(f"the gateway answered HTTP {status}")


async def _read_bounded(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.strip().isdigit() and int(declared) > limit:
        raise unavailable(f"answer too large ({int(declared)} bytes declared, cap {limit})")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise unavailable(f"answer too large (over {limit} bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_object(raw: bytes, content_type: str) -> dict[str, Any]:
    """The answer's JSON object, or a ``GatewayFault`` naming what it was instead."""
    text = raw.lstrip(b"\xef\xbb\xbf").strip()
    kind = content_type.split(";", 1)[0].strip().lower()
    if not text:
        raise unavailable("empty answer")
    if "html" in kind or text[:1] == b"<":
        raise unavailable("the gateway answered an HTML page, not JSON")
    if not (kind in _JSON_TYPES or kind.endswith("+json")):
        raise unavailable(f"the gateway answered content type {kind or 'none'!r}, not JSON")
    try:
        value = json.loads(text.decode("utf-8"))
    except UnicodeDecodeError:
        raise unavailable("the answer is not UTF-8") from None
    except (ValueError, RecursionError):
        raise unavailable("the answer is not valid JSON (cut off?)") from None
    if not isinstance(value, dict):
        raise unavailable(f"the gateway answered a JSON {type(value).__name__}, not an object")
    return value


def _seconds(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return min(float(value.strip()), 3600.0)
    return None
