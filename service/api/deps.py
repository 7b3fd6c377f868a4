"""Typed route dependencies (docs/architecture.md "Service"; FastAPI ``Annotated``
dependencies): the app's ``Context``, the calling principal (its key checked and
rate-limited, ``service.desks``) and an ``Audit`` that writes the audit log as that principal,
with the client's address.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from service import redact
from service.api.auth import bearer_token
from service.api.problems import Problem
from service.api.request_text import bounded
from service.context import Context, ctx_of
from service.desks import Principal, Role
from service.storage.store import AuditEntry, Store


def client_address(request: Request, trusted_proxies: tuple[str, ...]) -> str:
    """The caller's address: the socket's, or the last hop ``X-Forwarded-For`` names when
    the socket is a configured trusted proxy (never a header anyone can send)."""
    peer = request.client.host if request.client else "-"
    if peer in trusted_proxies:
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return bounded(hops[-1], 64)
    return peer


def refuse_key(ctx: Context, client: str, outcome: str, what: str) -> Problem | None:
    """Count and audit a refused key (the request line bounded and escaped, no ID number);
    a 429 Problem when that address has been refused too often to be heard any more."""
    ctx.metrics.auth_failures.inc()
    if ctx.ip_limiter.take(f"auth:{client}"):
        return Problem(
            status=429,
            slug="rate-limited",
            title="Too many refused requests",
            headers={"Retry-After": "60"},
        )
    ctx.store.audit(
        desk="-",
        action="auth",
        outcome=outcome,
        detail=bounded(redact.redact(what), 120),
        client=client,
    )
    return None


async def require_desk(request: Request) -> Principal:
    """The calling principal, its key checked and rate-limited. Async, so that FastAPI runs
    it on the event loop: only a refused key touches the database (the audit record), and
    that goes to a thread."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:  # checked (and counted by the rate limiter) once per request
        return known
    ctx = ctx_of(request)
    token = bearer_token(request.headers.get("authorization"))
    principal = ctx.keys.desk_for(token) if token else None
    if principal is None:
        client = client_address(request, ctx.settings.trusted_proxies)
        outcome = "wrong_key" if token else "missing_key"
        what = f"{request.method} {request.url.path}"
        wait = await asyncio.to_thread(refuse_key, ctx, client, outcome, what)
        if wait is not None:
            raise wait
        raise Problem(
            status=401,
            slug="unauthorized",
            title="A desk API key is needed",
            detail="send Authorization: Bearer <desk key>"
            if not token
            else "the desk key is not known",
            clerk_message="Khóa bàn tiếp đón không đúng: đăng nhập lại",
            headers={"WWW-Authenticate": 'Bearer realm="cccd"'},
        )
    wait = ctx.limiter.take(principal.name)
    if wait:
        ctx.metrics.rate_limited.inc()
        raise Problem(
            status=429,
            slug="rate-limited",
            title="Too many requests from this desk",
            detail=f"retry after {wait:.0f} s",
            headers={"Retry-After": f"{wait:.0f}"},
        )
    request.state.principal = principal
    return principal


async def context_of(request: Request) -> Context:
    """The app's context (async: no thread for a dependency that only reads app state)."""
    return ctx_of(request)


DeskDep = Annotated[Principal, Depends(require_desk)]
CtxDep = Annotated[Context, Depends(context_of)]


def require_role(*roles: Role) -> object:
    """A dependency that lets only these roles through; others get 404 (the route's
    existence is not confirmed to a caller who may not use it)."""

    async def check(request: Request) -> Principal:
        principal = await require_desk(request)
        if principal.role not in roles:
            raise Problem(status=404, slug="not-found", title="Not found")
        return principal

    return Depends(check)


ReadingDesk = Annotated[Principal, require_role("desk")]
Admin = Annotated[Principal, require_role("admin")]


@dataclass(frozen=True, slots=True)
class Audit:
    """The audit log as one principal writes it: every access to personal data leaves a
    record with who (name, role, client), what (action, hashed subjects), when and outcome."""

    store: Store
    principal: Principal
    client: str | None = None

    def entry(
        self,
        action: str,
        outcome: str,
        *,
        id_number: str | None = None,
        id_numbers: tuple[str, ...] = (),
        detail: str | None = None,
    ) -> AuditEntry:
        return AuditEntry(
            desk=self.principal.name,
            role=self.principal.role,
            action=action,
            outcome=outcome,
            id_number=id_number,
            id_numbers=id_numbers,
            detail=detail,
            client=self.client,
        )

    def __call__(
        self,
        action: str,
        outcome: str,
        *,
        id_number: str | None = None,
        id_numbers: tuple[str, ...] = (),
        detail: str | None = None,
    ) -> None:
        self.store.audit_many(
            [self.entry(action, outcome, id_number=id_number, id_numbers=id_numbers, detail=detail)]
        )

    async def in_thread(
        self,
        action: str,
        outcome: str,
        *,
        id_number: str | None = None,
        id_numbers: tuple[str, ...] = (),
        detail: str | None = None,
    ) -> None:
        """From an async route: waits for the (group) commit without stalling the event loop
        or holding a thread."""
        await self.store.audit_many_async(
            [self.entry(action, outcome, id_number=id_number, id_numbers=id_numbers, detail=detail)]
        )


async def audit_for(request: Request) -> Audit:
    # The principal is checked once per request (require_desk keeps it on the request);
    # taking only the request keeps FastAPI's dependency walk short on every call.
    desk = await require_desk(request)
    ctx = ctx_of(request)
    return Audit(ctx.store, desk, client_address(request, ctx.settings.trusted_proxies))


AuditDep = Annotated[Audit, Depends(audit_for)]
