"""The desk service's HTTP API (issue 9): ``create_app(settings)`` builds a FastAPI app with
the ``/api/v1`` routes, ``/healthz`` and ``/metrics``. Routes stay thin: reading is in
``scans``/``scanner``, storage in ``db``, the insurance check in ``bhyt``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from service import redact
from service.auth import Desk, KeyRing, RateLimiter, bearer_token
from service.bhyt import BhytClient, InsuranceCheck, not_configured
from service.db import ReadRecord, Store
from service.desk import install_desk
from service.events import EventBus
from service.metrics import CONTENT_TYPE, Metrics
from service.photos import PhotoCache
from service.problems import Problem, install_handlers
from service.readers import ReaderRegistry, SimulatedReader
from service.scanner import KeyRequestError, ScanOutcome, access_request, parse_qr_fields
from service.scans import NOT_GENUINE, Scan, ScanManager
from service.settings import Settings, default_trust_dir

log = logging.getLogger(__name__)

ID_NUMBER = r"^\d{12}$"
NOT_CACHED_STATUSES = frozenset(
    {"unavailable", "retry", "auth_error", "config_error", "not_configured", "unknown_code"}
)


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
    trust: Any = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


def ctx_of(request: Request) -> Context:
    context: Context = request.app.state.ctx
    return context


# -- request bodies ---------------------------------------------------------------------------
class ScanRequest(BaseModel):
    reader: str = Field(min_length=1, max_length=200, description="reader name from GET /readers")
    id_number: str | None = Field(
        default=None, pattern=ID_NUMBER, description="12-digit CCCD number typed by the desk"
    )
    can: str | None = Field(default=None, pattern=r"^\d{6}$", description="card access number")
    qr: str | None = Field(
        default=None,
        min_length=10,
        max_length=2000,
        description="the card's QR payload as a scanner typed it",
    )
    document_number: str | None = Field(default=None, pattern=r"^[0-9A-Z<]{9}$")
    date_of_birth: date | None = None
    date_of_expiry: date | None = None


class DemoCard(BaseModel):
    id_number: str = Field(pattern=ID_NUMBER, description="a fictional citizen's ID number")
    fault: str | None = Field(
        default=None, max_length=60, description="forged, clone, unknown_dsc, removed_after=40 ..."
    )
    faults: list[str] = Field(default_factory=list, max_length=8)


class QRRequest(BaseModel):
    payload: str = Field(min_length=1, max_length=2000)


FAULT_ALIASES = {"forged": "tampered", "cloned": "clone"}


# -- authentication -----------------------------------------------------------------------------
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


# -- app factory --------------------------------------------------------------------------------
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
    if not settings.api_keys:
        raise ValueError("no desk API keys configured (CCCD_API_KEYS)")
    store = store or Store(settings.effective_database_url, audit_subject=settings.audit_subject)
    metrics = Metrics()
    bus = EventBus()
    if registry is None:
        registry = ReaderRegistry(pcsc_filters=settings.readers, use_pcsc=not settings.simulated)
        if settings.simulated:
            for name in settings.simulated_readers:
                registry.add(
                    SimulatedReader(
                        name, on_change=lambda r: bus.publish_threadsafe("reader", r.describe())
                    )
                )
    ctx_holder: dict[str, Context] = {}

    async def on_done(scan: Scan, outcome: ScanOutcome) -> dict[str, Any]:
        return await _finish_scan(ctx_holder["ctx"], scan, outcome)

    scans = ScanManager(
        registry,
        bus=bus,
        metrics=metrics,
        trust=None,
        on_done=on_done,
        card_wait_seconds=settings.card_wait_seconds,
        queue_limit=settings.queue_limit,
        history=settings.scan_history,
    )
    bhyt = _bhyt_client(settings, metrics, bhyt_transport)
    ctx = Context(
        settings=settings,
        store=store,
        keys=KeyRing(settings.api_keys),
        limiter=RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst),
        ip_limiter=RateLimiter(60, 30),
        metrics=metrics,
        bus=bus,
        photos=PhotoCache(settings.photo_ttl_seconds),
        registry=registry,
        scans=scans,
        bhyt=bhyt,
    )
    ctx_holder["ctx"] = ctx

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        bus.loop = asyncio.get_running_loop()
        redact.install()
        if not settings.database_url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(store.migrate)
        ctx.trust = trust if trust is not None else await asyncio.to_thread(_load_trust, settings)
        scans.trust = ctx.trust
        await asyncio.to_thread(registry.refresh)
        ctx.tasks.append(asyncio.create_task(_purge_loop(ctx), name="purge"))
        try:
            yield
        finally:
            for task in ctx.tasks:
                task.cancel()
            await scans.stop()
            if bhyt is not None:
                await bhyt.aclose()
            store.close()

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
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.include_router(_api_router(settings), prefix="/api/v1")
    app.include_router(_root_router())
    install_desk(app, settings)
    return app


def _bhyt_client(
    settings: Settings, metrics: Metrics, transport: httpx.AsyncBaseTransport | None
) -> BhytClient | None:
    def observe(endpoint: str, seconds: float, code: str | None) -> None:
        metrics.gateway_seconds.labels(endpoint).observe(seconds)
        if code is not None and endpoint == "check":
            metrics.gateway_results.labels(code).inc()

    url = settings.bhxh_url
    username, password = settings.bhxh_username, settings.bhxh_password
    officer_name, officer_id = settings.bhxh_officer_name, settings.bhxh_officer_id
    if settings.simulated and not url:
        from fixtures import bhxh_gateway as standin

        transport = transport or httpx.ASGITransport(app=standin.create_gateway_app())
        url = "http://bhxh-standin.invalid"
        username = username or standin.DEMO_USERNAME
        password = password or standin.DEMO_PASSWORD
        officer_name = officer_name or standin.DEMO_OFFICER_NAME
        officer_id = officer_id or standin.DEMO_OFFICER_ID
    if not url:
        return None
    return BhytClient(
        base_url=url,
        username=username,
        password=password,
        officer_name=officer_name,
        officer_id=officer_id,
        timeout=settings.bhxh_timeout_seconds,
        retries=settings.bhxh_retries,
        transport=transport,
        observe=observe,
    )


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


async def _purge_loop(ctx: Context) -> None:
    while True:
        try:
            counts = await asyncio.to_thread(ctx.store.purge, now=datetime.now(UTC))
            dropped = ctx.photos.purge()
            if counts["reads"] or counts["insurance"] or dropped:
                log.info(
                    "purged %d reads, %d insurance answers, %d photos",
                    counts["reads"],
                    counts["insurance"],
                    dropped,
                )
        except Exception:
            log.exception("purge failed")
        await asyncio.sleep(ctx.settings.purge_interval_seconds)


async def _finish_scan(ctx: Context, scan: Scan, outcome: ScanOutcome) -> dict[str, Any]:
    identity = outcome.identity or {}
    redact.SENSITIVE.add(
        *(
            identity.get(k)
            for k in (
                "full_name",
                "father_name",
                "mother_name",
                "spouse_name",
            )
        )
    )
    now = datetime.now(UTC)
    id_number = outcome.id_number
    report = dict(outcome.report)
    if scan.access.id_number and id_number and scan.access.id_number != id_number:
        report["typed_id_number_matches"] = False
    result: dict[str, Any] = {
        "verdict": outcome.status,
        "accepted": outcome.accepted,
        "genuine": outcome.genuine,
        "reason": outcome.reason,
        "identity": None,
        "his": None,
        "report": report,
        "timings": {
            "read_seconds": round(outcome.read_seconds, 3),
            "verify_seconds": round(outcome.verify_seconds, 3),
            "apdus": outcome.apdus,
        },
        "photo_url": f"/api/v1/scans/{scan.id}/photo" if outcome.photo_jpeg else None,
    }
    if outcome.accepted and id_number:
        expires = now + timedelta(hours=ctx.settings.retention_hours)
        await asyncio.to_thread(
            ctx.store.save_read,
            id_number=id_number,
            search_key=outcome.search_key,
            date_of_birth=outcome.date_of_birth,
            status=outcome.status,
            genuine=outcome.genuine,
            desk=scan.desk,
            scan_id=scan.id,
            identity=identity,
            his=outcome.his or {},
            report=report,
            photo=outcome.photo_jpeg if ctx.settings.store_photos else None,
            read_at=now,
            expires_at=expires,
        )
        if outcome.photo_jpeg:
            ctx.photos.put(id_number, outcome.photo_jpeg)
        result.update(
            identity=identity,
            his=outcome.his,
            citizen_url=f"/api/v1/citizens/{id_number}",
            insurance_url=f"/api/v1/citizens/{id_number}/insurance",
            expires_at=expires.isoformat(),
        )
        if outcome.photo_jpeg:
            result["photo_url"] = f"/api/v1/citizens/{id_number}/photo"
    else:
        result["unverified_identity"] = outcome.identity
        result["clerk_message"] = NOT_GENUINE
    await asyncio.to_thread(
        ctx.store.audit,
        desk=scan.desk,
        action="scan",
        outcome=outcome.status if outcome.accepted else f"rejected:{outcome.status}",
        id_number=id_number,
        detail=f"reader {scan.reader}",
    )
    return result


# -- routes -------------------------------------------------------------------------------------
def _api_router(settings: Settings) -> APIRouter:
    router = APIRouter()

    @router.get("/readers", summary="Readers and whether a card is on them")
    def readers(desk: DeskDep, ctx: CtxDep) -> dict[str, Any]:
        ctx.registry.refresh()
        items = []
        for item in ctx.registry.describe():
            item["busy"] = ctx.scans.busy(item["name"])
            items.append(item)
        return {"readers": items, "pcsc": ctx.registry.pcsc_status, "simulated": settings.simulated}

    @router.post("/scans", status_code=202, summary="Queue a card read on a reader")
    async def create_scan(
        body: ScanRequest, desk: DeskDep, ctx: CtxDep, response: Response
    ) -> dict[str, Any]:
        try:
            access = access_request(
                id_number=body.id_number,
                can=body.can,
                qr=body.qr,
                document_number=body.document_number,
                date_of_birth=body.date_of_birth,
                date_of_expiry=body.date_of_expiry,
            )
        except KeyRequestError as exc:
            raise Problem(
                status=422,
                slug="invalid-access-key",
                title="No access key",
                detail=str(exc),
                clerk_message="Nhập đủ 12 số CCCD hoặc quét mã QR",
                extra={"field": exc.field},
            ) from None
        scan = ctx.scans.submit(body.reader, access, desk.name)
        response.headers["Location"] = f"/api/v1/scans/{scan.id}"
        return scan.to_json(position=ctx.scans.position(scan)) | {
            "href": f"/api/v1/scans/{scan.id}"
        }

    @router.get("/scans", summary="Today's scans at this desk")
    def list_scans(desk: DeskDep, ctx: CtxDep) -> dict[str, Any]:
        today = datetime.now(UTC).date()
        items = []
        for scan in reversed(ctx.scans.scans.values()):
            if scan.desk != desk.name or scan.created_at.date() != today:
                continue
            summary: dict[str, Any] = {
                "id": scan.id,
                "reader": scan.reader,
                "state": scan.state,
                "created_at": scan.created_at.isoformat(),
            }
            if scan.result is not None:
                ident = scan.result.get("identity") or {}
                summary.update(
                    verdict=scan.result["verdict"],
                    accepted=scan.result["accepted"],
                    full_name=ident.get("full_name"),
                    id_number=ident.get("id_number"),
                )
            if scan.problem is not None:
                summary["problem"] = scan.problem.get("title")
            items.append(summary)
        # The list shows names and ID numbers: a lookup like any other (subjects in the
        # per-scan records; this one says who listed how many).
        ctx.store.audit(desk=desk.name, action="scan_list", outcome=f"{len(items)} listed")
        return {"scans": items}

    @router.get("/scans/{scan_id}", summary="A scan's state, progress and result")
    async def get_scan(
        scan_id: Annotated[str, Path(max_length=64)],
        desk: DeskDep,
        ctx: CtxDep,
        wait: Annotated[
            float,
            Query(ge=0, le=30, description="long-poll: seconds to wait for the scan to finish"),
        ] = 0,
    ) -> dict[str, Any]:
        scan = _scan_or_404(ctx, scan_id)
        await ctx.scans.wait(scan, wait)
        if scan.result is not None:
            # A card that is not genuine still shows its (unverified) data: audited too.
            shown = scan.result.get("identity") or scan.result.get("unverified_identity")
            if shown:
                await asyncio.to_thread(
                    ctx.store.audit,
                    desk=desk.name,
                    action="scan_result",
                    outcome="served" if scan.result.get("identity") else "served_unverified",
                    id_number=shown.get("id_number"),
                )
        return scan.to_json(position=ctx.scans.position(scan))

    @router.get(
        "/scans/{scan_id}/photo",
        summary="The face image read in this scan (JPEG)",
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    def scan_photo(
        scan_id: Annotated[str, Path(max_length=64)], desk: DeskDep, ctx: CtxDep
    ) -> Response:
        scan = _scan_or_404(ctx, scan_id)
        if scan.photo_jpeg is None:
            raise Problem(status=404, slug="no-photo", title="This scan has no face image")
        shown = (scan.result or {}).get("identity") or (scan.result or {}).get(
            "unverified_identity"
        )
        ctx.store.audit(
            desk=desk.name,
            action="scan_photo",
            outcome="served",
            id_number=(shown or {}).get("id_number"),
        )
        return Response(
            scan.photo_jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"}
        )

    @router.get(
        "/events",
        summary="Server-sent events: readers, cards, scan progress",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def events(desk: DeskDep, ctx: CtxDep) -> StreamingResponse:
        initial = [("reader", r) for r in ctx.registry.describe()]
        return StreamingResponse(
            ctx.bus.stream(initial=initial),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @router.get("/citizens", summary="Search verified identities by folded name")
    def search(
        desk: DeskDep,
        ctx: CtxDep,
        q: Annotated[str | None, Query(max_length=100)] = None,
        date_of_birth: date | None = None,
        limit: Annotated[int, Query(ge=1, le=50)] = 20,
    ) -> dict[str, Any]:
        from verify import vntext

        key = vntext.search_key(q) if q else None
        if not key and date_of_birth is None:
            raise Problem(status=422, slug="invalid-request", title="Give q or date_of_birth")
        records = ctx.store.search(
            key=key,
            date_of_birth=date_of_birth.isoformat() if date_of_birth else None,
            now=datetime.now(UTC),
            limit=limit,
        )
        ctx.store.audit(desk=desk.name, action="search", outcome=f"{len(records)} found")
        return {"results": [_summary(r) for r in records]}

    @router.get("/citizens/{id_number}", summary="The latest verified identity")
    def citizen(
        id_number: Annotated[str, Path(pattern=ID_NUMBER)], desk: DeskDep, ctx: CtxDep
    ) -> dict[str, Any]:
        record = _record_or_404(ctx, desk, id_number, "lookup")
        ctx.store.audit(desk=desk.name, action="lookup", outcome="found", id_number=id_number)
        return _citizen_json(record)

    @router.get(
        "/citizens/{id_number}/photo",
        summary="Face image (JPEG)",
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    def photo(
        id_number: Annotated[str, Path(pattern=ID_NUMBER)], desk: DeskDep, ctx: CtxDep
    ) -> Response:
        record = _record_or_404(ctx, desk, id_number, "photo")
        jpeg = record.photo or ctx.photos.get(id_number)
        if jpeg is None:
            ctx.store.audit(desk=desk.name, action="photo", outcome="expired", id_number=id_number)
            raise Problem(
                status=404,
                slug="photo-expired",
                title="The face image is no longer kept",
                clerk_message="Ảnh đã hết thời gian lưu: đọc lại thẻ",
            )
        ctx.store.audit(desk=desk.name, action="photo", outcome="served", id_number=id_number)
        return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    @router.get("/citizens/{id_number}/insurance", summary="BHYT card check, cached for the day")
    async def insurance(
        id_number: Annotated[str, Path(pattern=ID_NUMBER)],
        desk: DeskDep,
        ctx: CtxDep,
        refresh: bool = False,
        card_code: Annotated[str | None, Query(pattern=r"^([A-Z]{2}[1-5]\d{12}|\d{10})$")] = None,
    ) -> dict[str, Any]:
        record = await asyncio.to_thread(_record_or_404, ctx, desk, id_number, "insurance")
        today = datetime.now(UTC).date()
        cached = (
            None
            if refresh or card_code
            else await asyncio.to_thread(ctx.store.cached_insurance, id_number, today)
        )
        if cached is not None:
            outcome = cached
        else:
            check = await _check_insurance(ctx, record, card_code)
            outcome = check.to_json()
            if check.status not in NOT_CACHED_STATUSES and not card_code:
                await asyncio.to_thread(
                    ctx.store.cache_insurance, id_number, today, outcome, now=datetime.now(UTC)
                )
        await asyncio.to_thread(
            ctx.store.audit,
            desk=desk.name,
            action="insurance",
            outcome=f"{outcome['status']}:{outcome.get('code') or '-'}",
            id_number=id_number,
        )
        return {
            "id_number": id_number,
            "day": today.isoformat(),
            "cached": cached is not None,
            **outcome,
        }

    @router.post("/qr", summary="Parse a QR payload into identity fields and access keys")
    def qr(body: QRRequest, desk: DeskDep, ctx: CtxDep) -> dict[str, Any]:
        from verify.qr import QRError

        try:
            parsed = parse_qr_fields(body.payload)
        except QRError as exc:
            raise Problem(
                status=422,
                slug="invalid-qr",
                title="Not a CCCD QR payload",
                detail=str(exc),
                clerk_message="Mã QR không đọc được: quét lại hoặc nhập 12 số CCCD",
                extra={"field": exc.field},
            ) from None
        redact.SENSITIVE.add(parsed["fields"].get("full_name"))
        ctx.store.audit(
            desk=desk.name,
            action="qr",
            outcome="parsed",
            id_number=parsed["fields"].get("id_number"),
        )
        return parsed

    if settings.simulated:

        @router.put("/demo/readers/{reader}/card", summary="Simulated mode: put a card on")
        async def put_card(
            reader: Annotated[str, Path(max_length=200)], body: DemoCard, desk: DeskDep, ctx: CtxDep
        ) -> dict[str, Any]:
            target = _simulated_reader(ctx, reader)
            faults = _demo_faults(body)
            try:
                chip = await asyncio.to_thread(
                    _build_chip, body.id_number, faults, settings.simulated_link
                )
            except KeyError:
                raise Problem(
                    status=404,
                    slug="unknown-citizen",
                    title="No fictional citizen has that ID number",
                ) from None
            from fixtures.faults import fault_name

            target.insert(chip, faults=tuple(fault_name(f) for f in faults))
            ctx.store.audit(
                desk=desk.name, action="demo_card", outcome="inserted", id_number=body.id_number
            )
            return target.describe()

        @router.delete("/demo/readers/{reader}/card", summary="Simulated mode: take the card off")
        def remove_card(
            reader: Annotated[str, Path(max_length=200)], desk: DeskDep, ctx: CtxDep
        ) -> dict[str, Any]:
            target = _simulated_reader(ctx, reader)
            removed = target.remove()
            ctx.store.audit(
                desk=desk.name, action="demo_card", outcome="removed" if removed else "empty"
            )
            return target.describe() | {"removed": removed}

    return router


def _root_router() -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", summary="Liveness and readiness (no key needed)")
    def healthz(ctx: CtxDep) -> JSONResponse:
        try:
            version = ctx.store.schema_version()
            database = "ok"
        except Exception as exc:
            version, database = 0, f"error: {type(exc).__name__}"
        ok = database == "ok"
        return JSONResponse(
            {
                "status": "ok" if ok else "degraded",
                "database": database,
                "schema_version": version,
                "readers": len(ctx.registry.readers),
                "trust_store": "configured" if ctx.trust is not None else "not_configured",
                "bhxh_gateway": "configured" if ctx.bhyt is not None else "not_configured",
                "simulated": ctx.settings.simulated,
            },
            status_code=200 if ok else 503,
        )

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}},
    )
    def metrics(ctx: CtxDep) -> Response:
        return Response(ctx.metrics.render(), media_type=CONTENT_TYPE)

    return router


# -- helpers ----------------------------------------------------------------------------------
def _scan_or_404(ctx: Context, scan_id: str) -> Scan:
    scan = ctx.scans.get(scan_id)
    if scan is None:
        raise Problem(status=404, slug="unknown-scan", title="No scan with that id")
    return scan


def _record_or_404(ctx: Context, desk: Desk, id_number: str, action: str) -> ReadRecord:
    record = ctx.store.latest_read(id_number, now=datetime.now(UTC))
    if record is None:
        ctx.store.audit(desk=desk.name, action=action, outcome="not_found", id_number=id_number)
        raise Problem(
            status=404,
            slug="not-found",
            title="No verified identity for that ID number within the retention window",
            clerk_message="Chưa có dữ liệu thẻ đã xác thực: đọc thẻ CCCD",
        )
    return record


def _citizen_json(record: ReadRecord) -> dict[str, Any]:
    report = record.report
    return {
        "identity": record.identity,
        "his": record.his,
        "verification": {
            "verdict": record.status,
            "genuine": record.genuine,
            "not_a_clone": report.get("not_a_clone"),
            "trust_store": report.get("trust_store"),
        },
        "report": report,
        "read_at": record.read_at.isoformat(),
        "expires_at": record.expires_at.isoformat(),
        "desk": record.desk,
        "photo_url": f"/api/v1/citizens/{record.id_number}/photo",
        "insurance_url": f"/api/v1/citizens/{record.id_number}/insurance",
    }


def _summary(record: ReadRecord) -> dict[str, Any]:
    ident = record.identity
    return {
        "id_number": record.id_number,
        "full_name": ident.get("full_name"),
        "date_of_birth": ident.get("date_of_birth"),
        "sex": ident.get("sex"),
        "read_at": record.read_at.isoformat(),
        "citizen_url": f"/api/v1/citizens/{record.id_number}",
    }


async def _check_insurance(
    ctx: Context, record: ReadRecord, card_code: str | None
) -> InsuranceCheck:
    if ctx.bhyt is None:
        return not_configured()
    ident = record.identity
    born = ident.get("date_of_birth")
    dob = datetime.strptime(born, "%Y-%m-%d").strftime("%d/%m/%Y") if born else ""
    return await ctx.bhyt.check(
        card_code=card_code or record.id_number,
        full_name=str(ident.get("full_name") or ""),
        date_of_birth=dob,
        sex=ident.get("sex"),
    )


def _simulated_reader(ctx: Context, name: str) -> SimulatedReader:
    reader = ctx.registry.get(name)
    if not isinstance(reader, SimulatedReader):
        raise Problem(
            status=404,
            slug="unknown-reader",
            title="No simulated reader by that name",
            extra={
                "readers": [
                    n for n, r in ctx.registry.readers.items() if isinstance(r, SimulatedReader)
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
    return chip_for_citizen(id_number, faults=faults, **options)
