"""The desk service's app factory (docs/architecture.md "Service": ``service.create_app(settings,
...)``): ``create_app(settings)`` builds the shared ``Context``, the background tasks and the
FastAPI app with the ``/api/v1`` routes, ``/healthz`` and ``/metrics``. Routes are in
``service.api.routes``, their dependencies in ``service.api.deps``, what a finished scan stores in
``service.scan.results``; reading is in ``scans``/``scanner``, storage in ``db``, the
insurance check in ``bhyt``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from service import redact
from service.api.auth import KeyRing, RateLimiter
from service.api.browser import install_browser_pages
from service.api.cors import CorsMiddleware, OriginPolicy
from service.api.deps import CtxDep, DeskDep, require_desk
from service.api.desk import install_desk
from service.api.edges import RequestEdges, allowed_host_names
from service.api.events import EventBus
from service.api.metrics import Metrics
from service.api.problems import install_handlers
from service.api.routes import api_router, root_router
from service.context import Context, ctx_of
from service.integrations.bhyt import BhytClient, OfficerBook
from service.integrations.bhyt.checks import CheckRegistry
from service.scan.pipeline import ScanOutcome
from service.scan.queue import Scan, ScanManager
from service.scan.reader_memory import ReaderMemory
from service.scan.readers import ReaderRegistry, SimulatedReader
from service.scan.results import finish_scan
from service.settings import Settings, default_trust_dir
from service.storage.photos import PhotoCache
from service.storage.private_files import private_dir
from service.storage.store import Store, open_store

# Context, ctx_of and the desk dependencies lived here first: importable from here still.
__all__ = ["Context", "CtxDep", "DeskDep", "create_app", "ctx_of", "require_desk"]

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    registry: ReaderRegistry | None = None,
    trust: Any = None,
    bhyt_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The service. ``trust`` is a ``verify.TrustStore`` (None: load ``settings.trust_store``;
    in simulated mode with none configured, the test PKI's). ``bhyt_transport`` serves the
    gateway client in-process (simulated mode uses the stand-in this way)."""
    if not settings.desks:
        settings = settings.with_desks()
    if not settings.desks:
        raise ValueError("no desk keys configured (CCCD_API_KEYS or [desks.NAME])")
    keys = KeyRing(settings.desks)
    if store is None:
        store = open_store(settings)
    metrics = Metrics()
    bus = EventBus()

    def reader_changed(reader: SimulatedReader) -> None:
        bus.publish_threadsafe(
            "reader", reader.describe(), to=keys.owners_of(reader.name), reader=reader.name
        )

    if registry is None:
        registry = ReaderRegistry(pcsc_filters=settings.readers, use_pcsc=not settings.simulated)
        if settings.simulated:
            for name in simulated_reader_names(settings):
                registry.add(SimulatedReader(name, on_change=reader_changed))
    ctx_holder: dict[str, Context] = {}

    async def on_done(scan: Scan, outcome: ScanOutcome) -> dict[str, Any]:
        return await finish_scan(ctx_holder["ctx"], scan, outcome)

    async def on_failed(scan: Scan, slug: str) -> None:
        await asyncio.to_thread(
            store.audit,
            desk=scan.desk,
            role="desk",
            action="scan",
            outcome=f"failed:{slug}",
            id_number=scan.access.id_number,
            detail=f"reader {scan.reader}",
        )

    scans = ScanManager(
        registry,
        bus=bus,
        metrics=metrics,
        trust=None,
        on_done=on_done,
        on_failed=on_failed,
        card_wait_seconds=settings.card_wait_seconds,
        resume_wait_seconds=settings.resume_wait_seconds,
        memory=ReaderMemory.in_folder(settings.data_dir),
        queue_limit=settings.queue_limit,
        history=settings.scan_history,
    )
    standin: dict[str, Any] = {}
    bhyt = _bhyt_client(settings, metrics, bhyt_transport, standin)
    ctx = Context(
        settings=settings,
        store=store,
        keys=keys,
        limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
        ip_limiter=RateLimiter(60, 30),
        metrics=metrics,
        bus=bus,
        photos=PhotoCache(min(settings.photo_ttl_seconds, settings.retention_hours * 3600)),
        registry=registry,
        scans=scans,
        bhyt=bhyt,
        officers=_officers(settings),
        bhxh_standin=standin.get("app"),
        insurance_checks=CheckRegistry(
            timeout=settings.bhxh_timeout_seconds,
            keep_seconds=min(3600.0, settings.retention_hours * 3600),
            on_change=lambda check: bus.publish("insurance", check.event(), to=(check.desk,)),
        ),
    )
    ctx_holder["ctx"] = ctx
    ctx.outbox = _outbox(settings, store)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        bus.loop = asyncio.get_running_loop()
        redact.install()
        if not settings.database_url:
            private_dir(settings.data_dir)
        await asyncio.to_thread(store.migrate)
        ctx.trust = trust if trust is not None else await asyncio.to_thread(_load_trust, settings)
        scans.trust = ctx.trust
        scans.require_anchor = settings.require_anchor
        from service.scan.unknown_issuers import UnknownIssuers

        ctx.unknown_issuers = UnknownIssuers(settings.data_dir)
        await asyncio.to_thread(registry.refresh)
        if settings.simulated and settings.simulated_cards_process:
            from fixtures.card_host import CardHostProcess

            ctx.card_host = await asyncio.to_thread(CardHostProcess)
        ctx.tasks.append(asyncio.create_task(_purge_loop(ctx), name="purge"))
        if ctx.outbox is not None:
            ctx.tasks.append(
                asyncio.create_task(
                    ctx.outbox.run(idle_seconds=settings.purge_interval_seconds),
                    name="his-webhook",
                )
            )
        ctx.tasks.append(asyncio.create_task(_warm_units(ctx), name="units"))
        try:
            yield
        finally:
            for task in ctx.tasks:
                task.cancel()
            await scans.stop()
            if ctx.outbox is not None:
                await ctx.outbox.aclose()
            await ctx.insurance_checks.stop()
            if bhyt is not None:
                await bhyt.aclose()
            store.close()
            if ctx.card_host is not None:
                ctx.card_host.stop()

    app = FastAPI(
        title="CCCD desk service",
        version="1.0",
        description="Reads and verifies the Vietnamese chip ID card (CCCD) for hospital "
        "reception desks, serves the verified identity and checks the BHYT card. Every /api "
        "call needs `Authorization: Bearer <desk key>`; errors are RFC 9457 problem details.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    install_handlers(app)
    app.add_middleware(
        RequestEdges,
        max_body_bytes=settings.max_body_bytes,
        allowed_hosts=None
        if "*" in settings.allowed_hosts
        else allowed_host_names(settings.host, settings.allowed_hosts),
    )
    # Outermost, so its headers reach the edges' answers too. Always installed: with no
    # origin configured it refuses every cross-origin preflight.
    app.add_middleware(CorsMiddleware, policy=OriginPolicy(settings.cors_origins))
    app.include_router(api_router(settings), prefix="/api/v1")
    app.include_router(root_router())
    install_desk(app, settings)
    install_browser_pages(app, settings)
    return app


def _bhyt_client(
    settings: Settings,
    metrics: Metrics,
    transport: httpx.AsyncBaseTransport | None,
    standin_out: dict[str, Any],
) -> BhytClient | None:
    """The gateway client; with the in-process stand-in, its app goes into
    ``standin_out["app"]`` (simulated mode's demo routes tune it)."""

    def observe(endpoint: str, seconds: float, code: str | None) -> None:
        metrics.gateway_seconds.labels(endpoint).observe(seconds)
        if code is not None and endpoint == "check":
            metrics.gateway_results.labels(code).inc()

    url = settings.bhxh_url
    username, password = settings.bhxh_username, settings.bhxh_password
    if _uses_standin(settings):
        from fixtures import bhxh_gateway as standin

        if transport is None:
            standin_app = standin.create_gateway_app()
            transport = httpx.ASGITransport(app=standin_app)
            standin_out["app"] = standin_app
        url = "http://bhxh-standin.invalid"
        username = username or standin.DEMO_USERNAME
        password = password or standin.DEMO_PASSWORD
    if not url:
        return None
    return BhytClient(
        base_url=url,
        username=username,
        password=password,
        encoding="json" if settings.bhxh_encoding == "json" else "form",
        connect_timeout=settings.bhxh_connect_timeout_seconds,
        timeout=settings.bhxh_timeout_seconds,
        token_timeout=settings.bhxh_token_timeout_seconds,
        history=settings.bhxh_history,
        transport=transport,
        observe=observe,
    )


def _outbox(settings: Settings, store: Store) -> Any:
    """The HIS webhook's outbox when ``webhook_url`` is set (service.integrations.his.outbox)."""
    if not settings.webhook_url:
        return None
    from service.integrations.his.fields import apply_profile
    from service.integrations.his.outbox import Outbox

    def body(delivery_id: str, result: dict[str, Any]) -> dict[str, Any]:
        his = apply_profile(
            result.get("his") or {}, None, settings.webhook_profile, settings.his_profiles
        )
        return {
            "event": "scan.result",
            "delivery_id": delivery_id,
            "scan_id": result.get("scan_id"),
            "reader": result.get("reader"),
            "desk": result.get("desk"),
            "read_at": result.get("read_at"),
            "verdict": result.get("verdict"),
            "acceptance": result.get("acceptance"),
            "profile": settings.webhook_profile,
            "his": his,
        }

    return Outbox(
        store.engine,
        url=settings.webhook_url,
        secret=settings.webhook_secret,
        build_body=body,
        timeout=settings.webhook_timeout_seconds,
        max_attempts=settings.webhook_max_attempts,
        stuck_seconds=settings.webhook_stuck_seconds,
    )


async def _warm_units(ctx: Context) -> None:
    """Load the administrative-unit lists before the first card needs them (a few seconds
    of CPU; ``/healthz`` says ``unit_codes: loading`` until then)."""
    from service.integrations.his.units import UnitsError, tables

    try:
        await asyncio.to_thread(tables)
        ctx.unit_codes = "ready"
    except UnitsError as exc:
        ctx.unit_codes = "unavailable"
        log.warning("administrative-unit codes unavailable: %s", exc)


def _uses_standin(settings: Settings) -> bool:
    return settings.simulated and not settings.bhxh_url


def _officers(settings: Settings) -> OfficerBook:
    """The configured officers; with the in-process stand-in and none configured, the
    stand-in's registered demo officers (the first is every desk's default)."""
    demo = None
    if _uses_standin(settings):
        from fixtures import bhxh_gateway as standin

        demo = standin.DEMO_OFFICERS
    book: OfficerBook = settings.officer_book(demo)
    return book


def _load_trust(settings: Settings) -> Any:
    """The configured trust store; else, outside simulated mode, the directory that
    ``cccd trust`` manages when it exists; in simulated mode the test PKI's."""
    from verify.trust import TrustStore

    directory = settings.trust_store
    if directory is None and not settings.simulated and default_trust_dir().is_dir():
        directory = default_trust_dir()
    if directory is not None:
        store = TrustStore.from_directory(directory)
        for problem in store.problems:
            log.warning("trust store: %s", problem)
        return store
    if settings.simulated:
        from fixtures.cards import trust_store_for_tests

        return trust_store_for_tests()
    log.warning("no CSCA trust store configured: no card can be verified as genuine")
    return None


def simulated_reader_names(settings: Settings) -> list[str]:
    """Simulated mode: each desk's own simulated readers (the names its ``readers`` gives);
    a desk that names none -- the only desk -- gets the default simulated readers."""
    names: list[str] = []
    for desk in settings.reading_desks:
        for name in desk.readers or settings.simulated_readers:
            if name not in names:
                names.append(name)
    return names or list(settings.simulated_readers)


async def _purge_loop(ctx: Context) -> None:
    while True:
        await purge_once(ctx)
        await asyncio.sleep(ctx.settings.purge_interval_seconds)


async def purge_once(ctx: Context) -> dict[str, int]:
    """Everything past its time, everywhere the service keeps it: stored reads and insurance
    answers (then the database file is scrubbed), the scans and face images in memory, and
    the names the log redactor remembers."""
    settings = ctx.settings
    retention = settings.retention_hours * 3600
    counts: dict[str, int] = {}
    try:
        counts = await asyncio.to_thread(ctx.store.purge, now=datetime.now(UTC))
        counts["photos"] = ctx.photos.purge()
        counts["scans"] = ctx.scans.purge(
            now=datetime.now(UTC),
            retention_seconds=retention,
            photo_seconds=min(settings.photo_ttl_seconds, retention),
        )
        counts["names"] = redact.SENSITIVE.purge(retention)
        # webhook entries hold personal data too (service.integrations.his)
        if ctx.outbox is not None:
            counts["webhook"] = await asyncio.to_thread(ctx.outbox.purge, now=datetime.now(UTC))
            if counts["webhook"]:
                await asyncio.to_thread(ctx.store.scrub)
        if any(counts.values()):
            log.info("purged %s", ", ".join(f"{v} {k}" for k, v in counts.items() if v))
    except Exception:
        log.exception("purge failed")
    return counts
