"""Scans: one read at a time per reader, others queued; states ``queued`` -> ``reading`` ->
``verifying`` -> ``done`` | ``failed``, with progress published as server-sent events.
A card that leaves mid-read puts the scan in ``paused`` (``reason: "card_lost"``, with the
``resume_deadline``) until it is back -- then ``reading`` again -- or the wait is over
(``failed``, problem ``card-removed``). What each reader is known to do is kept in a
``ReaderMemory`` and handed to the next read on it.

A worker task per reader takes scans from its queue and runs the blocking card I/O and the
verification on that reader's own thread (``ReaderThreads``), never on the event loop and
never on the shared pool the database and audit writes use: fifty readers each sleeping
through a card's link time cannot starve a lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from reader.drivers.card import ReadEvent
from reader.errors import CardError
from service.api.events import EventBus
from service.api.metrics import Metrics
from service.api.problems import Problem, problem_for_card_error
from service.scan import pipeline
from service.scan.pipeline import AccessRequest, ScanOutcome
from service.scan.reader_memory import ReaderMemory
from service.scan.readers import NoCardYet, Reader, ReaderRegistry

log = logging.getLogger(__name__)

STATES = ("queued", "reading", "paused", "verifying", "done", "failed")
FINAL = frozenset({"done", "failed"})

NO_CARD = Problem(
    status=408,
    slug="no-card",
    title="No card was put on the reader in time",
    clerk_message="Chưa có thẻ trên đầu đọc: đặt thẻ lên đầu đọc rồi đọc lại",
    extra={"retry": True},
)
READ_TIMEOUT = Problem(
    status=504,
    slug="read-timeout",
    title="The read took too long",
    clerk_message="Đọc thẻ quá lâu: nhấc thẻ lên, đặt lại và đọc lại",
    extra={"retry": True},
)
HOLD_STILL = "Giữ yên thẻ trên đầu đọc"
NOT_GENUINE = "Thẻ không xác thực được: không dùng dữ liệu này, kiểm tra giấy tờ gốc"
# What the desk shows for each acceptance (the contract of scan results).
CLERK_MESSAGES = {
    "genuine": "Thẻ thật: dữ liệu chip do cơ quan cấp thẻ ký",
    "issuer_not_checked": "Chữ ký chip hợp lệ, chưa kiểm tra cơ quan cấp: đối chiếu ảnh và thẻ",
    "not_genuine": NOT_GENUINE,
}


@dataclass(eq=False)
class Scan:
    id: str
    reader: str
    desk: str
    access: AccessRequest = field(repr=False)
    state: str = "queued"
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_at: datetime | None = None
    finished_at: datetime | None = None
    waiting_for_card: bool = False
    pause_reason: str | None = None  # "card_lost" while paused
    resume_deadline: datetime | None = None
    progress: dict[str, Any] = field(
        default_factory=lambda: {
            "file": None,
            "files_done": 0,
            "bytes_done": 0,
            "file_bytes": 0,
            "file_total": 0,
        }
    )
    result: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    photo_jpeg: bytes | None = field(default=None, repr=False)

    def to_json(self, *, position: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "reader": self.reader,
            "desk": self.desk,
            "state": self.state,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "waiting_for_card": self.waiting_for_card,
            "progress": dict(self.progress),
        }
        body.update(self._pause())
        if position is not None:
            body["queue_position"] = position
        if self.result is not None:
            body["result"] = self.result
        if self.problem is not None:
            body["problem"] = self.problem
        return body

    def event(self) -> dict[str, Any]:
        """What the owning desk's event stream sees: no personal data."""
        data: dict[str, Any] = {
            "id": self.id,
            "reader": self.reader,
            "desk": self.desk,
            "state": self.state,
            "waiting_for_card": self.waiting_for_card,
            "progress": dict(self.progress),
        }
        data.update(self._pause())
        if self.result is not None:
            data["verdict"] = self.result["verdict"]
            data["accepted"] = self.result["accepted"]
            data["acceptance"] = self.result.get("acceptance")
            data["acceptance_reason"] = self.result.get("acceptance_reason")
        if self.problem is not None:
            data["problem"] = {k: self.problem.get(k) for k in ("type", "title", "clerk_message")}
        return data

    def _pause(self) -> dict[str, Any]:
        if self.state != "paused":
            return {}
        return {
            "reason": self.pause_reason,
            "resume_deadline": self.resume_deadline.isoformat() if self.resume_deadline else None,
            "clerk_message": HOLD_STILL,
        }

    def touch(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


OnDone = Callable[[Scan, ScanOutcome], Awaitable[dict[str, Any]]]
OnFailed = Callable[[Scan, str], Awaitable[None]]


class ReaderThreads:
    """A small thread pool per reader for its blocking card I/O. One read runs at a time per
    reader (the scan worker sees to that); the second thread lets the next read start when an
    aborted read's thread has not come back yet."""

    def __init__(self, threads_per_reader: int = 2) -> None:
        self.threads_per_reader = threads_per_reader
        self._pools: dict[str, ThreadPoolExecutor] = {}

    def run(self, reader_name: str, fn: Callable[[], Any]) -> asyncio.Future[Any]:
        pool = self._pools.get(reader_name)
        if pool is None:
            pool = ThreadPoolExecutor(
                self.threads_per_reader, thread_name_prefix=f"reader-{len(self._pools) + 1}"
            )
            self._pools[reader_name] = pool
        return asyncio.get_running_loop().run_in_executor(pool, fn)

    def shutdown(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        self._pools.clear()


class ScanManager:
    def __init__(
        self,
        registry: ReaderRegistry,
        *,
        bus: EventBus,
        metrics: Metrics,
        trust: Any,
        on_done: OnDone,
        on_failed: OnFailed | None = None,
        card_wait_seconds: float = 15.0,
        resume_wait_seconds: float = 10.0,
        memory: ReaderMemory | None = None,
        read_timeout: float = 60.0,
        queue_limit: int = 16,
        history: int = 500,
    ) -> None:
        self.registry = registry
        self.bus = bus
        self.metrics = metrics
        self.trust = trust
        self.require_anchor: bool | None = None  # None: required once a CSCA is installed
        self.on_done = on_done
        self.on_failed = on_failed
        self.card_wait_seconds = card_wait_seconds
        self.resume_wait_seconds = resume_wait_seconds
        self.memory = memory or ReaderMemory(None)
        self.read_timeout = read_timeout
        self.queue_limit = queue_limit
        self.history = history
        self.scans: OrderedDict[str, Scan] = OrderedDict()
        self._queues: dict[str, asyncio.Queue[Scan]] = {}
        self._pending: dict[str, list[Scan]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self.threads = ReaderThreads()

    # -- lifecycle ------------------------------------------------------------------------
    async def stop(self) -> None:
        for task in self._workers.values():
            task.cancel()
        for task in self._workers.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._workers.clear()
        self.threads.shutdown()

    def _worker_for(self, name: str) -> asyncio.Queue[Scan]:
        if name not in self._queues:
            self._queues[name] = asyncio.Queue()
            self._pending[name] = []
            self._workers[name] = asyncio.create_task(self._work(name), name=f"reader:{name}")
        return self._queues[name]

    # -- API ------------------------------------------------------------------------------
    def submit(self, reader_name: str, access: AccessRequest, desk: str) -> Scan:
        reader = self.registry.get(reader_name)
        if reader is None:
            raise Problem(
                status=404,
                slug="unknown-reader",
                title="No reader by that name",
                clerk_message="Không thấy đầu đọc này: chọn lại đầu đọc",
            )
        queue = self._worker_for(reader_name)
        if len(self._pending[reader_name]) >= self.queue_limit:
            raise Problem(
                status=429,
                slug="queue-full",
                title="Too many scans wait on this reader",
                clerk_message="Đầu đọc đang bận: chờ lượt đọc trước xong",
                headers={"Retry-After": "5"},
            )
        scan = Scan(id=secrets.token_urlsafe(12), reader=reader_name, desk=desk, access=access)
        self.scans[scan.id] = scan
        while len(self.scans) > self.history:
            oldest_id, oldest = next(iter(self.scans.items()))
            if oldest.state not in FINAL:
                break
            del self.scans[oldest_id]
        self._pending[reader_name].append(scan)
        queue.put_nowait(scan)
        self.metrics.queue.labels(reader_name).set(len(self._pending[reader_name]))
        self._publish(scan)
        return scan

    def get(self, scan_id: str) -> Scan | None:
        return self.scans.get(scan_id)

    def position(self, scan: Scan) -> int | None:
        if scan.state != "queued":
            return None
        pending = self._pending.get(scan.reader, [])
        return pending.index(scan) if scan in pending else None

    def busy(self, reader_name: str) -> bool:
        return bool(self._pending.get(reader_name))

    def purge(self, *, now: datetime, retention_seconds: float, photo_seconds: float) -> int:
        """Forget finished scans past the read's retention (their results hold personal
        data) and drop face images past their own, shorter, time to live."""
        dropped = 0
        for scan_id, scan in list(self.scans.items()):
            if scan.state not in FINAL:
                continue
            age = (now - (scan.finished_at or scan.created_at)).total_seconds()
            if age >= retention_seconds:
                del self.scans[scan_id]
                dropped += 1
            elif scan.photo_jpeg is not None and age >= photo_seconds:
                scan.photo_jpeg = None
        return dropped

    def forget_person(self, id_number: str) -> int:
        """Erasure: drop every finished scan that showed this person."""
        gone = [
            scan_id
            for scan_id, scan in self.scans.items()
            if scan.state in FINAL and id_number in _id_numbers(scan)
        ]
        for scan_id in gone:
            del self.scans[scan_id]
        return len(gone)

    async def wait(self, scan: Scan, timeout: float) -> None:
        """Until the scan is done or failed, or the timeout passes."""
        if scan.state in FINAL or timeout <= 0:
            return
        deadline = time.monotonic() + timeout
        while scan.state not in FINAL:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                await asyncio.wait_for(scan.changed.wait(), left)
            except TimeoutError:
                return

    # -- the worker -----------------------------------------------------------------------
    async def _work(self, reader_name: str) -> None:
        queue = self._queues[reader_name]
        while True:
            scan = await queue.get()
            try:
                await self._run(scan)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scan worker failed")
                await self._fail(
                    scan,
                    Problem(
                        status=500,
                        slug="internal",
                        title="Internal error",
                        detail="the scan failed inside the service",
                    ),
                    "internal",
                )
            finally:
                if scan in self._pending[reader_name]:
                    self._pending[reader_name].remove(scan)
                self.metrics.queue.labels(reader_name).set(len(self._pending[reader_name]))

    async def _run(self, scan: Scan) -> None:
        reader = self.registry.get(scan.reader)
        if reader is None:
            await self._fail(
                scan,
                Problem(status=404, slug="unknown-reader", title="The reader went away"),
                "no_reader",
            )
            return
        transport = await self._wait_for_card(scan, reader)
        if transport is None:
            return
        loop = asyncio.get_running_loop()
        scan.state, scan.started_at, scan.waiting_for_card = "reading", datetime.now(UTC), False
        self._publish(scan)
        last_sent = [0.0]
        per_file: dict[str, int] = {}

        def progress(file_name: str, done: int, total: int) -> None:
            if file_name not in per_file:
                scan.progress["files_done"] = len(per_file)
                scan.progress["file"] = file_name
            per_file[file_name] = done
            scan.progress["file_bytes"] = done
            scan.progress["file_total"] = total
            scan.progress["bytes_done"] = sum(per_file.values())
            now = time.monotonic()
            if now - last_sent[0] >= 0.1 or done >= total:
                last_sent[0] = now
                loop.call_soon_threadsafe(self._publish, scan)

        def on_event(event: ReadEvent) -> None:
            loop.call_soon_threadsafe(self._read_event, scan, event)

        atr = bytes(getattr(transport, "atr", b"") or b"")
        profile = self.memory.get(scan.reader, atr)

        def timed_read() -> Any:
            started = time.thread_time()
            try:
                return pipeline.read(
                    transport,
                    scan.access.keys,
                    progress=progress,
                    profile=profile,
                    resume_wait=self.resume_wait_seconds,
                    on_event=on_event,
                )
            finally:
                self.metrics.scan_cpu.inc(time.thread_time() - started)

        try:
            card = await asyncio.wait_for(
                self.threads.run(scan.reader, timed_read),
                self.read_timeout + self.resume_wait_seconds,
            )
        except TimeoutError:
            reader.abort(transport)
            await self._fail(scan, READ_TIMEOUT, "timeout")
            return
        except CardError as exc:
            cause = pipeline.root_cause(exc)
            await self._fail(scan, problem_for_card_error(cause), type(cause).__name__)
            return
        finally:
            try:
                reader.release(transport)
            except Exception:
                log.warning("releasing the reader failed", exc_info=True)
        protocol = getattr(transport, "protocol", None)
        await asyncio.to_thread(  # a small file, written off the event loop
            self.memory.put,
            scan.reader,
            atr,
            card.profile(profile, protocol if isinstance(protocol, str) else None),
        )
        scan.progress["files_done"] = len(card.files)
        scan.progress["bytes_done"] = card.stats.bytes_received
        scan.state = "verifying"
        self._publish(scan)

        def timed_verify() -> ScanOutcome:
            started = time.thread_time()
            try:
                return pipeline.verify_read(
                    card, self.trust, qr=scan.access.qr, require_anchor=self.require_anchor
                )
            finally:
                self.metrics.scan_cpu.inc(time.thread_time() - started)

        outcome = await self.threads.run(scan.reader, timed_verify)
        self.metrics.read_seconds.observe(outcome.read_seconds)
        self.metrics.verify_seconds.observe(outcome.verify_seconds)
        self.metrics.apdus.observe(outcome.apdus)
        scan.result = await self.on_done(scan, outcome)
        scan.photo_jpeg = outcome.photo_jpeg
        scan.state, scan.finished_at = "done", datetime.now(UTC)
        self.metrics.scans.labels(
            outcome.status if outcome.accepted else f"rejected_{outcome.status}"
        ).inc()
        self._publish(scan)

    async def _wait_for_card(self, scan: Scan, reader: Reader) -> Any | None:
        deadline = time.monotonic() + self.card_wait_seconds
        while True:
            try:
                transport = await self.threads.run(scan.reader, reader.connect)
                return transport
            except NoCardYet:
                pass
            except CardError as exc:
                await self._fail(scan, problem_for_card_error(exc), type(exc).__name__)
                return None
            if not scan.waiting_for_card:
                scan.waiting_for_card = True
                self._publish(scan)
            if time.monotonic() >= deadline:
                await self._fail(scan, NO_CARD, "no_card")
                return None
            await asyncio.sleep(0.1)

    def _read_event(self, scan: Scan, event: ReadEvent) -> None:
        """The read paused for the card (the desk says "Giữ yên thẻ trên đầu đọc"), or
        went on."""
        if scan.state in FINAL:
            return
        if event.kind == "paused":
            scan.state, scan.pause_reason = "paused", event.reason
            scan.resume_deadline = datetime.now(UTC) + timedelta(seconds=event.wait_seconds)
        else:
            scan.state, scan.pause_reason, scan.resume_deadline = "reading", None, None
        self._publish(scan)

    async def _fail(self, scan: Scan, problem: Problem, outcome: str) -> None:
        scan.problem = problem.to_json(instance=f"/api/v1/scans/{scan.id}")
        scan.state, scan.finished_at, scan.waiting_for_card = "failed", datetime.now(UTC), False
        self.metrics.scans.labels(f"failed_{problem.slug}").inc()
        log.info("scan on a reader failed: %s", outcome)
        if self.on_failed is not None:
            try:
                await self.on_failed(scan, problem.slug)
            except Exception:
                log.exception("auditing a failed scan failed")
        self._publish(scan)

    def _publish(self, scan: Scan) -> None:
        scan.touch()
        self.bus.publish(
            "scan",
            scan.event(),
            to=(scan.desk,),
            reader=scan.reader,
            subject=scan if scan.state == "done" else None,
        )


def _id_numbers(scan: Scan) -> set[str]:
    result = scan.result or {}
    found = {scan.access.id_number} if scan.access.id_number else set()
    for key in ("identity", "unverified_identity"):
        shown = result.get(key) or {}
        if shown.get("id_number"):
            found.add(str(shown["id_number"]))
    return found
