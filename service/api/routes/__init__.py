"""The desk service's routes, a module per group: ``scans`` (readers, scans), ``push``
(events, WebSocket, a reader's card now), ``citizens`` (identities, photos, QR, erasure, the
insurance shortcut), ``insurance`` (officers, insurance checks), ``account`` (who is calling,
the audit export), ``demo`` (simulated mode only)
and ``root`` (health and metrics, outside ``/api/v1``).
"""

from __future__ import annotations

from fastapi import APIRouter

from service.api.routes import account, citizens, demo, insurance, push, root, scans
from service.settings import Settings

__all__ = ["api_router", "root_router"]


def api_router(settings: Settings) -> APIRouter:
    """Everything under ``/api/v1``; the demo routes only in simulated mode."""
    router = APIRouter()
    router.include_router(scans.router)
    router.include_router(push.router)
    router.include_router(citizens.router)
    router.include_router(account.router)
    router.include_router(insurance.router)
    if settings.simulated:
        router.include_router(demo.router)
    return router


def root_router() -> APIRouter:
    return root.router
