"""Simulated mode only: put a fictional citizen's card, with faults, on a simulated
reader, or take it off, so the desk page can be tried without hardware; make the in-process
BHXH stand-in slow, broken or down, so the desk's insurance states can be seen. Included in
the API only when ``settings.simulated``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from service.api.deps import AuditDep, CtxDep
from service.api.problems import Problem
from service.api.routes.shapes import ID_NUMBER
from service.context import Context
from service.desks import Principal
from service.scan.readers import SimulatedReader

# The desk page's names for faults the fixtures spell otherwise.
FAULT_ALIASES = {"forged": "tampered", "cloned": "clone"}

router = APIRouter()


class DemoCard(BaseModel):
    id_number: str = Field(pattern=ID_NUMBER, description="a fictional citizen's ID number")
    fault: str | None = Field(
        default=None, max_length=60, description="forged, clone, unknown_dsc, removed_after=40 ..."
    )
    faults: list[str] = Field(default_factory=list, max_length=8)


class DemoGateway(BaseModel):
    latency: tuple[float, float] | None = Field(
        default=None, description="seconds per gateway call, low and high (e.g. [5, 30])"
    )
    faults: dict[str, str] | None = Field(
        default=None, description='malformed answers per function, e.g. {"check": "html"}'
    )
    down: bool | None = None
    rate_limit: tuple[int, float] | None = Field(
        default=None, description="calls per seconds per account, e.g. [3, 60]"
    )


@router.put("/demo/bhxh", summary="Simulated mode: make the BHXH stand-in slow or broken")
async def tune_gateway(body: DemoGateway, ctx: CtxDep, audit: AuditDep) -> dict[str, Any]:
    app = ctx.bhxh_standin
    if app is None:
        raise Problem(
            status=409,
            slug="no-standin",
            title="The BHXH gateway is not the in-process stand-in",
            detail="CCCD_BHXH_URL is set: tune that gateway itself",
        )
    state = app.state.gateway
    known_faults = set(app.state.fault_kinds)
    if body.latency is not None:
        low, high = body.latency
        if not 0 <= low <= high <= 120:
            raise Problem(
                status=422, slug="invalid-request", title="latency: 0 <= low <= high <= 120"
            )
        state.latency = (low, high)
    if body.faults is not None:
        unknown = sorted(set(body.faults.values()) - known_faults)
        if unknown or not set(body.faults) <= {"token", "check", "history"}:
            raise Problem(
                status=422,
                slug="invalid-request",
                title="faults: {token|check|history: kind}",
                detail=f"kinds: {', '.join(sorted(known_faults))}",
            )
        state.faults = dict(body.faults)
    if body.down is not None:
        state.down = body.down
    if body.rate_limit is not None:
        calls, seconds = body.rate_limit
        if calls < 1 or not 0 < seconds <= 3600:
            raise Problem(status=422, slug="invalid-request", title="rate_limit: [calls, seconds]")
        state.rate_limit = (calls, seconds)
    audit("demo_bhxh", "tuned")
    return {
        "latency": list(state.latency),
        "faults": state.faults,
        "down": state.down,
        "rate_limit": list(state.rate_limit) if state.rate_limit else None,
    }


@router.put("/demo/readers/{reader}/card", summary="Simulated mode: put a card on")
async def put_card(
    reader: Annotated[str, Path(max_length=200)], body: DemoCard, audit: AuditDep, ctx: CtxDep
) -> dict[str, Any]:
    target = _simulated_reader(ctx, reader, audit.principal)
    faults = _demo_faults(body)
    try:
        described = await asyncio.to_thread(_put_new_chip, ctx, target, body, faults)
    except KeyError:
        raise Problem(
            status=404,
            slug="unknown-citizen",
            title="No fictional citizen has that ID number",
        ) from None
    await audit.in_thread("demo_card", "inserted", id_number=body.id_number)
    return described


@router.delete("/demo/readers/{reader}/card", summary="Simulated mode: take the card off")
def remove_card(
    reader: Annotated[str, Path(max_length=200)], audit: AuditDep, ctx: CtxDep
) -> dict[str, Any]:
    target = _simulated_reader(ctx, reader, audit.principal)
    removed = target.remove()
    audit("demo_card", "removed" if removed else "empty")
    return target.describe() | {"removed": removed}


def _simulated_reader(ctx: Context, name: str, desk: Principal) -> SimulatedReader:
    """One of the caller's own simulated readers (another desk's is not found)."""
    reader = ctx.registry.get(name)
    if not isinstance(reader, SimulatedReader) or not desk.owns_reader(name):
        raise Problem(
            status=404,
            slug="unknown-reader",
            title="No simulated reader by that name",
            extra={
                "readers": [
                    n
                    for n, r in ctx.registry.readers.items()
                    if isinstance(r, SimulatedReader) and desk.owns_reader(n)
                ]
            },
        )
    return reader


def _fault_names(body: DemoCard) -> list[str]:
    return [*body.faults, *([body.fault] if body.fault else [])]


def _demo_faults(body: DemoCard) -> list[Any]:
    from fixtures.faults import parse_fault

    faults: list[Any] = []
    for name in _fault_names(body):
        try:
            faults.append(parse_fault(FAULT_ALIASES.get(name.strip(), name)))
        except ValueError as exc:
            raise Problem(
                status=422, slug="unknown-fault", title="Unknown fault", detail=str(exc)
            ) from None
    return faults


def _put_new_chip(
    ctx: Context, target: SimulatedReader, body: DemoCard, faults: list[Any]
) -> dict[str, Any]:
    """Off the event loop: the chip is built (or asked of the card host) and the card that
    was on the reader taken off."""
    from fixtures.faults import fault_name

    target.insert(_new_chip(ctx, body, faults), faults=tuple(fault_name(f) for f in faults))
    return target.describe()


def _new_chip(ctx: Context, body: DemoCard, faults: list[Any]) -> Any:
    """The citizen's chip: in the card host process when there is one, else here."""
    link = ctx.settings.simulated_link
    if ctx.card_host is not None:
        spellings = [FAULT_ALIASES.get(f.strip(), f.strip()) for f in _fault_names(body)]
        return ctx.card_host.chip(body.id_number, spellings, link)
    from fixtures.cards import demo_chip

    return demo_chip(body.id_number, faults, link)
