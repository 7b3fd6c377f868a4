"""Typed route dependencies (ARCHITECTURE.md "Style": thin routes, FastAPI ``Annotated``
dependencies): the app's ``Context``, the calling desk (its API key checked and rate-limited,
issue 9) and an ``Audit`` that writes the audit log as that desk.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from service import redact
from service.auth import Desk, bearer_token
from service.context import Context, ctx_of
from service.db import Store
from service.problems import Problem


def require_desk(request: Request) -> Desk:
    ctx = ctx_of(request)
    token = bearer_token(request.headers.get("authorization"))
    desk = ctx.keys.desk_for(token) if token else None
    if desk is None:
        ctx.metrics.auth_failures.inc()
        client = request.client.host if request.client else "-"
        if ctx.ip_limiter.take(f"auth:{client}"):
            raise Problem(
                status=429,
                slug="rate-limited",
                title="Too many refused requests",
                headers={"Retry-After": "60"},
            )
        outcome = "wrong_key" if token else "missing_key"
        ctx.store.audit(
            desk="-",
            action="auth",
            outcome=outcome,
            detail=redact.redact(f"{request.method} {request.url.path} from {client}"),
        )
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
    wait = ctx.limiter.take(desk.name)
    if wait:
        ctx.metrics.rate_limited.inc()
        raise Problem(
            status=429,
            slug="rate-limited",
            title="Too many requests from this desk",
            detail=f"retry after {wait:.0f} s",
            headers={"Retry-After": f"{wait:.0f}"},
        )
    return desk


DeskDep = Annotated[Desk, Depends(require_desk)]
CtxDep = Annotated[Context, Depends(ctx_of)]


@dataclass(frozen=True, slots=True)
class Audit:
    """The audit log as one desk writes it: every lookup of personal data leaves a record."""

    store: Store
    desk: str

    def __call__(self, action: str, outcome: str, *, id_number: str | None = None) -> None:
        self.store.audit(desk=self.desk, action=action, outcome=outcome, id_number=id_number)

    async def in_thread(self, action: str, outcome: str, *, id_number: str | None = None) -> None:
        """From an async route: the database write must not stall the event loop."""
        await asyncio.to_thread(self, action, outcome, id_number=id_number)


def audit_for(desk: DeskDep, ctx: CtxDep) -> Audit:
    # FastAPI caches require_desk per request: a route taking DeskDep too is checked once.
    return Audit(ctx.store, desk.name)


AuditDep = Annotated[Audit, Depends(audit_for)]
