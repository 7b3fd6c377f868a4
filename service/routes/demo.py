"""Simulated mode only: put a fictional citizen's card, with faults, on a simulated
reader, or take it off, so the desk page can be tried without hardware. Included in the API
only when ``settings.simulated``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from service.context import Context
from service.deps import AuditDep, CtxDep
from service.desks import Principal
from service.problems import Problem
from service.readers import SimulatedReader
from service.routes.shapes import ID_NUMBER

# The desk page's names for faults the fixtures spell otherwise.
FAULT_ALIASES = {"forged": "tampered", "cloned": "clone"}

router = APIRouter()


class DemoCard(BaseModel):
    id_number: str = Field(pattern=ID_NUMBER, description="a fictional citizen's ID number")
    fault: str | None = Field(
        default=None, max_length=60, description="forged, clone, unknown_dsc, removed_after=40 ..."
    )
    faults: list[str] = Field(default_factory=list, max_length=8)


@router.put("/demo/readers/{reader}/card", summary="Simulated mode: put a card on")
async def put_card(
    reader: Annotated[str, Path(max_length=200)], body: DemoCard, audit: AuditDep, ctx: CtxDep
) -> dict[str, Any]:
    target = _simulated_reader(ctx, reader, audit.principal)
    faults = _demo_faults(body)
    try:
        chip = await asyncio.to_thread(
            _build_chip, body.id_number, faults, ctx.settings.simulated_link
        )
    except KeyError:
        raise Problem(
            status=404,
            slug="unknown-citizen",
            title="No fictional citizen has that ID number",
        ) from None
    from fixtures.faults import fault_name

    target.insert(chip, faults=tuple(fault_name(f) for f in faults))
    audit("demo_card", "inserted", id_number=body.id_number)
    return target.describe()


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


def _demo_faults(body: DemoCard) -> list[Any]:
    from fixtures.faults import parse_fault

    names = [*body.faults, *([body.fault] if body.fault else [])]
    faults: list[Any] = []
    for name in names:
        try:
            faults.append(parse_fault(FAULT_ALIASES.get(name.strip(), name)))
        except ValueError as exc:
            raise Problem(
                status=422, slug="unknown-fault", title="Unknown fault", detail=str(exc)
            ) from None
    return faults


def _build_chip(id_number: str, faults: list[Any], realistic_link: bool) -> Any:
    from fixtures.cards import chip_for_citizen
    from fixtures.citizens import citizen
    from fixtures.link import CONTACTLESS_424

    citizen(id_number)  # KeyError for unknown citizens
    options: dict[str, Any] = {}
    if realistic_link:
        options.update(link=CONTACTLESS_424, sleep_for_link=True)
    from fixtures.quirks import quirky

    # Reader quirks (extended_apdu_error, t0, lost_at=K:MS ...) wrap the chip like a reader.
    return quirky(chip_for_citizen(id_number, faults=faults, **options), faults)
