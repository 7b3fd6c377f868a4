"""The desk service's shared state (docs/architecture.md "The data path (a scan)", step 6):
one ``Context`` per app, built by ``service.app.create_app`` and reached from a request with
``ctx_of``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from service.api.auth import KeyRing, RateLimiter
from service.api.events import EventBus
from service.api.metrics import Metrics
from service.api.push import TicketBook
from service.integrations.bhyt import BhytClient, OfficerBook
from service.integrations.bhyt.checks import CheckRegistry
from service.scan.queue import ScanManager
from service.scan.readers import ReaderRegistry
from service.settings import Settings
from service.storage.photos import PhotoCache
from service.storage.store import Store


@dataclass
class Context:
    settings: Settings
    store: Store
    keys: KeyRing
    limiter: RateLimiter
    ip_limiter: RateLimiter
    metrics: Metrics
    bus: EventBus
    photos: PhotoCache
    registry: ReaderRegistry
    scans: ScanManager
    bhyt: BhytClient | None
    officers: OfficerBook
    insurance_checks: CheckRegistry
    trust: Any = None
    tickets: TicketBook = field(default_factory=TicketBook)
    outbox: Any = None  # service.integrations.his.outbox.Outbox when a webhook URL is configured
    unknown_issuers: Any = None  # service.scan.unknown_issuers.UnknownIssuers, None: not recorded
    bhxh_standin: Any = None  # simulated mode: the in-process BHXH stand-in's app
    unit_codes: str = "loading"  # the HIS unit-code tables: loading | ready | unavailable
    card_host: Any = None  # fixtures.card_host.CardHostProcess: simulated cards out of process
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


def ctx_of(request: Request) -> Context:
    context: Context = request.app.state.ctx
    return context
