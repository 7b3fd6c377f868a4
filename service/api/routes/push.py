"""The live routes (WHATWG HTML "Server-sent events", RFC 6455 WebSocket): ``/events`` (with a
desk key, or with a ticket from ``POST /event-tickets`` for ``EventSource``), ``/ws`` and
``/readers/{name}/card`` (what is on a reader now). What a subscriber receives is built by
``service.api.push``; who sees what is decided in ``service.api.visibility``.

The WebSocket is authenticated in its first message (``{"type": "hello", "key": ...}`` or
``"ticket"``) or by a ``cccd.key.<key>`` subprotocol next to ``cccd.v1``; never in the URL,
which proxies and browser histories keep. Its handshake is not covered by CORS, so the page
origin is checked here: the service's own pages and the configured HIS origins only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, WebSocket
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.websockets import WebSocketDisconnect, WebSocketState

from service.api.cors import OriginPolicy
from service.api.deps import AuditDep, CtxDep, DeskDep, client_address, refuse_key, require_desk
from service.api.events import format_event
from service.api.problems import Problem
from service.api.push import (
    Feed,
    PushOptions,
    TicketError,
    parse_photo,
    scan_result,
    shown_id_number,
)
from service.api.visibility import may_see_reader
from service.context import Context, ctx_of
from service.desks import Principal
from service.scan.queue import FINAL

router = APIRouter()

SUBPROTOCOL = "cccd.v1"
KEY_SUBPROTOCOL = "cccd.key."
HELLO_SECONDS = 10.0
HELLO_BYTES = 4096
PhotoQuery = Annotated[
    str,
    Query(pattern=r"^(url|data|none)$", description="the face image: url, data (inline) or none"),
]


class TicketRequest(BaseModel):
    results: bool = Field(default=True, description="finished scans carry their result")
    photo: str = Field(default="url", pattern=r"^(url|data|none)$")


# -- tickets and server-sent events ------------------------------------------------------


@router.post(
    "/event-tickets", status_code=201, summary="A single-use ticket for EventSource (30 s)"
)
def event_ticket(desk: DeskDep, ctx: CtxDep, body: TicketRequest | None = None) -> dict[str, Any]:
    body = body or TicketRequest()
    options = PushOptions(results=body.results, photo=parse_photo(body.photo))
    ticket = ctx.tickets.issue(desk, options)
    return {
        "ticket": ticket,
        "expires_in": int(ctx.tickets.ttl),
        "events_url": f"/api/v1/events?ticket={ticket}",
    }


async def events_subscriber(
    request: Request,
    ticket: Annotated[
        str | None, Query(max_length=100, description="from POST /event-tickets")
    ] = None,
    results: Annotated[bool, Query(description="finished scans carry their result")] = False,
    photo: PhotoQuery = "url",
) -> tuple[Principal, PushOptions]:
    """The ticket's desk and options; else the desk of the ``Authorization`` key."""
    ctx = ctx_of(request)
    if ticket is None:
        caller = await require_desk(request)
        return caller, PushOptions(results=results, photo=parse_photo(photo))
    try:
        return ctx.tickets.redeem(ticket)
    except TicketError:
        client = client_address(request, ctx.settings.trusted_proxies)
        wait = await asyncio.to_thread(refuse_key, ctx, client, "bad_ticket", request.url.path)
        raise wait or Problem(
            status=401,
            slug="invalid-ticket",
            title="The event ticket is unknown, used or expired",
            detail="ask POST /api/v1/event-tickets for a new ticket; each opens one stream",
            clerk_message="Mất kết nối sự kiện: tải lại trang",
        ) from None


@router.get(
    "/events",
    summary="Server-sent events: readers, cards, scan progress and (optionally) results",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def events(
    subscriber: Annotated[tuple[Principal, PushOptions], Depends(events_subscriber)],
    ctx: CtxDep,
    request: Request,
    last_event_id: Annotated[str | None, Header(max_length=100)] = None,
    resume: Annotated[
        str | None, Query(max_length=100, description="the last event id seen (new stream)")
    ] = None,
) -> StreamingResponse:
    caller, options = subscriber
    client = client_address(request, ctx.settings.trusted_proxies)
    feed = Feed(ctx, caller, options, _auditor(ctx, caller, client))

    async def stream() -> Any:
        yield "retry: 2000\n\n"
        async for item in feed.events(last_event_id or resume):
            if item is None:
                yield ": keep-alive\n\n"
            else:
                yield format_event(*item)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _auditor(ctx: Context, caller: Principal, client: str | None) -> Any:
    def audit(action: str, outcome: str, id_number: str | None) -> None:
        ctx.store.audit(
            desk=caller.name,
            role=caller.role,
            action=action,
            outcome=outcome,
            id_number=id_number,
            client=client,
        )

    return audit


# -- the WebSocket -----------------------------------------------------------------------


@router.websocket("/ws")
async def websocket(ws: WebSocket) -> None:
    ctx: Context = ws.app.state.ctx
    offered = list(ws.scope.get("subprotocols") or [])
    await ws.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    origin = ws.headers.get("origin")
    policy = OriginPolicy(ctx.settings.cors_origins)
    secure = ws.url.scheme == "wss"
    if origin and not (
        policy.allows(origin) or policy.same_origin(origin, ws.headers.get("host"), secure=secure)
    ):
        await ws.close(4403, f"origin {origin[:60]} is not allowed: add it to CCCD_CORS_ORIGINS")
        return
    client = ws.client.host if ws.client else "-"
    try:
        hello = await _hello(ws)
    except (TimeoutError, WebSocketDisconnect):
        await _close(ws, 4400, "send the hello message first")
        return
    except ValueError as exc:
        await _problem(ws, Problem(status=400, slug="bad-hello", title=str(exc)), 4400)
        return
    # in a thread: a refusal writes the audit log
    caller, options, problem = await asyncio.to_thread(_authenticate, ctx, hello, offered, client)
    if problem is not None:
        await _problem(ws, problem, 4429 if problem.status == 429 else 4401)
        return
    await ws.send_json(
        {
            "type": "welcome",
            "desk": caller.name,
            "options": {"results": options.results, "photo": options.photo},
        }
    )
    feed = Feed(ctx, caller, options, _auditor(ctx, caller, client))
    sender = asyncio.create_task(_send(ws, feed, hello.get("last_event_id")))
    drain = asyncio.create_task(_drain(ws))
    try:
        await asyncio.wait((sender, drain), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, drain):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await _close(ws, 1000, "")


async def _send(ws: WebSocket, feed: Feed, last_event_id: str | None) -> None:
    async for item in feed.events(last_event_id, heartbeat=25.0):
        if item is None:
            await ws.send_json({"type": "ping"})
        else:
            event_id, kind, data = item
            await ws.send_json({"type": kind, "id": event_id, "data": data})


async def _hello(ws: WebSocket) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), HELLO_SECONDS)
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("the hello message must be a JSON text frame")
    if len(text) > HELLO_BYTES:
        raise ValueError("the hello message is too long")
    try:
        hello = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("the hello message is not JSON") from None
    if not isinstance(hello, dict) or hello.get("type") != "hello":
        raise ValueError('the first message must be {"type": "hello", ...}')
    for name in ("key", "ticket", "last_event_id", "photo"):
        if hello.get(name) is not None and not isinstance(hello[name], str):
            raise ValueError(f"hello: {name} must be a string")
    if not isinstance(hello.get("results", True), bool):
        raise ValueError("hello: results must be true or false")
    parse_photo(hello.get("photo"))
    return hello


def _authenticate(
    ctx: Context, hello: dict[str, Any], offered: list[str], client: str
) -> tuple[Any, PushOptions, Problem | None]:
    options = PushOptions(results=hello.get("results", True), photo=parse_photo(hello.get("photo")))
    caller: Principal | None = None
    if hello.get("ticket"):
        try:
            caller, options = ctx.tickets.redeem(hello["ticket"])
        except TicketError:
            caller = None
    else:
        key = hello.get("key") or next(
            (p[len(KEY_SUBPROTOCOL) :] for p in offered if p.startswith(KEY_SUBPROTOCOL)), None
        )
        caller = ctx.keys.desk_for(key) if key else None
    if caller is None:
        given = hello.get("ticket") or hello.get("key") or offered
        wait = refuse_key(ctx, client, "wrong_key" if given else "missing_key", "/api/v1/ws")
        return (
            None,
            options,
            wait
            or Problem(
                status=401,
                slug="unauthorized",
                title="A desk API key is needed",
                detail='send {"type": "hello", "key": "<desk key>"} as the first message',
                clerk_message="Khóa bàn tiếp đón không đúng: đăng nhập lại",
            ),
        )
    if ctx.limiter.take(caller.name):
        ctx.metrics.rate_limited.inc()
        return (
            None,
            options,
            Problem(status=429, slug="rate-limited", title="Too many requests from this desk"),
        )
    return caller, options, None


async def _drain(ws: WebSocket) -> None:
    """Read (and ignore) what the page sends, to notice when it goes away."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return


async def _problem(ws: WebSocket, problem: Problem, code: int) -> None:
    with contextlib.suppress(Exception):
        await ws.send_json({"type": "error", "problem": problem.to_json()})
    await _close(ws, code, problem.title[:120])


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    if ws.application_state == WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await ws.close(code, reason)


# -- what is on a reader now -------------------------------------------------------------


@router.get("/readers/{name}/card", summary="What is on a reader now")
async def reader_card(
    name: Annotated[str, Path(max_length=200)],
    desk: DeskDep,
    audit: AuditDep,
    ctx: CtxDep,
    photo: PhotoQuery = "url",
) -> dict[str, Any]:
    """``state``: ``no_card``, ``card_present``, ``reading`` (a scan reads or verifies it) or
    ``unknown`` (the reader cannot tell without reading); ``result``: the last scan's result
    while the card it read stays on the reader (this desk's scans only)."""
    reader = ctx.registry.get(name)
    if reader is None or not may_see_reader(desk, name):
        raise Problem(
            status=404,
            slug="unknown-reader",
            title="No reader by that name",
            clerk_message="Không thấy đầu đọc này: chọn lại đầu đọc",
        )
    described = reader.describe()
    present = described.get("card_present")
    on_reader = [s for s in reversed(ctx.scans.scans.values()) if s.reader == name]
    active = next((s for s in on_reader if s.state in ("reading", "verifying")), None)
    last = next((s for s in on_reader if s.state in FINAL), None)
    if active is not None:
        state = "reading"
    elif present is None:
        state = "unknown"
    else:
        state = "card_present" if present else "no_card"
    answer: dict[str, Any] = {"reader": name, "state": state, "card_present": present}
    if active is not None and active.desk == desk.name:
        answer["scan"] = active.event()
    since = described.get("card_since")
    if (
        active is None
        and present
        and since
        and last is not None
        and last.desk == desk.name
        and last.result is not None
        and last.started_at is not None
        and last.started_at >= datetime.fromisoformat(since)
    ):
        result = scan_result(last, parse_photo(photo), desk)
        answer["scan"] = last.event()
        answer["result"] = result
        await audit.in_thread(
            "scan_result",
            "served" if result.get("identity") else "served_unverified",
            id_number=shown_id_number(result),
        )
    return answer
