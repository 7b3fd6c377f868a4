"""Operations endpoints outside ``/api/v1``: ``/healthz`` for liveness and
readiness, ``/metrics`` for Prometheus. Neither needs a desk key.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from service.api.deps import CtxDep
from service.api.metrics import CONTENT_TYPE

router = APIRouter()


@router.get("/healthz", summary="Liveness and readiness (no key needed)")
def healthz(ctx: CtxDep) -> JSONResponse:
    try:
        version = ctx.store.schema_version()
        database = "ok"
    except Exception as exc:
        version, database = 0, f"error: {type(exc).__name__}"
    ok = database == "ok"
    webhook: dict[str, object] = {"status": "not_configured"}
    if ctx.outbox is not None:
        try:
            webhook = ctx.outbox.status().to_json()
        except Exception as exc:
            webhook = {"status": f"error: {type(exc).__name__}"}
    return JSONResponse(
        {
            "status": "ok" if ok else "degraded",
            "database": database,
            "schema_version": version,
            "readers": len(ctx.registry.readers),
            "trust_store": "configured" if ctx.trust is not None else "not_configured",
            "trust": _trust_counts(ctx.trust),
            "bhxh_gateway": "configured" if ctx.bhyt is not None else "not_configured",
            "simulated": ctx.settings.simulated,
            "his_webhook": webhook,
            "unit_codes": ctx.unit_codes,
        },
        status_code=200 if ok else 503,
    )


def _trust_counts(trust: Any) -> dict[str, int]:
    if trust is None:
        return {"cscas": 0, "vietnamese_cscas": 0}
    return {"cscas": trust.count_anchors(), "vietnamese_cscas": trust.count_anchors("VN")}


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def metrics(ctx: CtxDep) -> Response:
    return Response(ctx.metrics.render(), media_type=CONTENT_TYPE)
