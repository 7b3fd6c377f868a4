"""Who the caller is and what the operator declared (docs/operations.md "Decree 13 duties"):
``/whoami`` for the desk page (its name, role, readers, the retention period and the purpose
of processing) and, for the admin role, the audit export and its chain check.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from service.api.deps import Admin, AuditDep, CtxDep, DeskDep

router = APIRouter()


@router.get("/whoami", summary="The calling desk, its readers and the retention period")
def whoami(desk: DeskDep, ctx: CtxDep) -> dict[str, Any]:
    settings = ctx.settings
    return {
        "name": desk.name,
        "role": desk.role,
        "readers": [n for n in ctx.registry.readers if desk.owns_reader(n)],
        "retention_hours": settings.retention_hours,
        "purpose": settings.purpose,
        "legal_basis": settings.legal_basis or None,
    }


@router.get(
    "/audit",
    summary="Admin: the audit log as CSV, headed by the declared purpose and legal basis",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def audit_export(
    admin: Admin,
    audit: AuditDep,
    ctx: CtxDep,
    since: Annotated[datetime | None, Query()] = None,
) -> Response:
    out = io.StringIO()
    count = ctx.store.audit_csv(out, since=since, declaration=export_declaration(ctx.settings))
    audit("audit_export", f"{count} records")
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


@router.get("/audit/verify", summary="Admin: check the audit log's chain of keyed hashes")
def audit_verify(admin: Admin, audit: AuditDep, ctx: CtxDep) -> dict[str, Any]:
    check = ctx.store.verify_audit_chain()
    audit("audit_verify", "intact" if check.first_broken is None else "broken")
    return {
        "records": check.records,
        "intact": check.first_broken is None,
        "first_broken_id": check.first_broken,
    }


def export_declaration(settings: Any) -> list[tuple[str, str]]:
    """What an audit export starts with (Decree 13/2023/NĐ-CP): what the processing is for,
    on what basis, and how long reads are kept. Written as the export's first rows, with
    ``action`` = ``declaration``, so the file stays one plain CSV table."""
    return [
        ("purpose", settings.purpose),
        ("legal_basis", settings.legal_basis or "(not declared: set CCCD_LEGAL_BASIS)"),
        ("retention_hours", str(settings.retention_hours)),
    ]
