"""The signed webhook to the HIS back end, from a durable outbox (``docs/his-fields.md``
"Webhook").

Each accepted result is written to the ``his_outbox`` table (SQLite or PostgreSQL, through the
service's store) in the same step that finishes the scan; a background task POSTs it to the
configured URL and marks it delivered on a 2xx answer. A receiver that is down or answers an
error is tried again with exponential backoff (2 s doubling to 10 min), across restarts, until
it answers or the entry reaches its attempt limit or expires. The desk never waits for it.

Every POST is signed: ``X-CCCD-Timestamp`` (Unix seconds, set at each attempt) and
``X-CCCD-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>``; a receiver
rejects a timestamp more than five minutes off (replay) and de-duplicates on
``X-CCCD-Delivery`` (the same id on every attempt of one result), which makes the delivery
exactly once on its side even if an answer is lost on the way back.

Personal data: the body holds the HIS fields. An entry expires with the read it came from
(the retention window) and the service's purge deletes it then, delivered or not; an
erasure request (``cccd erase``) deletes a person's entries with their reads; a delivered
entry's body is cleared at once, keeping only the tombstone that stops a second delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from service.storage.store import aware_utc, naive_utc

__all__ = ["Outbox", "OutboxStatus", "erase", "sign", "verify_signature"]

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-CCCD-Signature"
TIMESTAMP_HEADER = "X-CCCD-Timestamp"
DELIVERY_HEADER = "X-CCCD-Delivery"
REPLAY_TOLERANCE_SECONDS = 300
FIRST_RETRY_SECONDS = 2.0
MAX_RETRY_SECONDS = 600.0
BATCH = 20

metadata = MetaData()
his_outbox = Table(
    "his_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(40), nullable=False, unique=True),
    Column("scan_id", String(64), nullable=False, unique=True),  # one delivery per result
    Column("id_number", String(12), nullable=False, index=True),  # for an erasure request
    Column("body", Text, nullable=False),  # personal data: cleared once delivered
    Column("state", String(16), nullable=False, index=True),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("next_attempt_at", DateTime, nullable=False, index=True),
    Column("delivered_at", DateTime, nullable=True),
    Column("last_error", String(200), nullable=True),  # status line or error type only
    Column("expires_at", DateTime, nullable=False, index=True),
)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: ``v1=`` + hex HMAC-SHA256 over ``timestamp.body``."""
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify_signature(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float | None = None,
    tolerance: int = REPLAY_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver checks: a fresh timestamp and a matching HMAC (constant-time)."""
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    moment = int(timestamp)
    if abs((time.time() if now is None else now) - moment) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, moment, body), signature)


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failures: 2, 4, 8 ... up to 10 min,
    with up to 10 % jitter so many entries do not retry in step."""
    base = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)
    return base * (1 + random.random() / 10)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxStatus:
    pending: int
    failed: int
    delivered: int
    oldest_pending_seconds: float | None
    last_error: str | None
    stuck: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "stuck" if self.stuck else "ok",
            "pending": self.pending,
            "failed": self.failed,
            "delivered": self.delivered,
            "oldest_pending_seconds": self.oldest_pending_seconds,
            "last_error": self.last_error,
        }


class Outbox:
    """The outbox table and its delivery task. ``enqueue`` is all the scan path calls."""

    def __init__(
        self,
        engine: Engine,
        *,
        url: str,
        secret: str,
        build_body: Callable[[str, dict[str, Any]], dict[str, Any]],
        timeout: float = 10.0,
        max_attempts: int = 50,
        stuck_seconds: float = 300.0,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.url = url
        self._secret = secret
        self._build_body = build_body
        self.max_attempts = max_attempts
        self.stuck_seconds = stuck_seconds
        self._clock = clock
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            transport=transport,
        )
        self._wake = asyncio.Event()
        self._last_error: str | None = None

    # -- writes ---------------------------------------------------------------------------
    def _insert(
        self, delivery_id: str, scan_id: str, id_number: str, body: str, expires_at: datetime
    ) -> bool:
        now = naive_utc(self._clock())
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(his_outbox).values(
                        delivery_id=delivery_id,
                        scan_id=scan_id,
                        id_number=id_number,
                        body=body,
                        state="pending",
                        attempts=0,
                        created_at=now,
                        next_attempt_at=now,
                        expires_at=naive_utc(expires_at),
                    )
                )
        except IntegrityError:
            return False  # this result is already in the outbox
        return True

    async def enqueue(
        self, *, scan_id: str, id_number: str, result: dict[str, Any], expires_at: datetime
    ) -> None:
        """Write one accepted result; the delivery task sends it. Never raises into the scan:
        a failure to write is logged (without the data) and the desk carries on."""
        delivery_id = hashlib.sha256(f"cccd-his:{scan_id}".encode()).hexdigest()[:32]
        try:
            body = json.dumps(
                self._build_body(delivery_id, result), ensure_ascii=False, separators=(",", ":")
            )
            await asyncio.to_thread(self._insert, delivery_id, scan_id, id_number, body, expires_at)
        except Exception as exc:
            log.error("webhook outbox: could not queue a result (%s)", type(exc).__name__)
            return
        self._wake.set()

    def purge(self, *, now: datetime) -> int:
        """Delete entries past their read's retention deadline, delivered or not (called by
        the service's purge with the stored reads)."""
        with self.engine.begin() as conn:
            count = conn.execute(
                delete(his_outbox).where(his_outbox.c.expires_at <= naive_utc(now))
            ).rowcount
        return int(count or 0)

    def status(self) -> OutboxStatus:
        now = self._clock()
        with self.engine.connect() as conn:
            counts = dict(
                conn.execute(
                    select(his_outbox.c.state, func.count()).group_by(his_outbox.c.state)
                ).all()
            )
            oldest = conn.execute(
                select(func.min(his_outbox.c.created_at)).where(his_outbox.c.state == "pending")
            ).scalar()
        age = (now - aware_utc(oldest)).total_seconds() if oldest is not None else None
        failed = int(counts.get("failed", 0))
        return OutboxStatus(
            pending=int(counts.get("pending", 0)),
            failed=failed,
            delivered=int(counts.get("delivered", 0)),
            oldest_pending_seconds=round(age, 1) if age is not None else None,
            last_error=self._last_error,
            stuck=failed > 0 or (age is not None and age > self.stuck_seconds),
        )

    # -- delivery -------------------------------------------------------------------------
    def _due(self) -> list[dict[str, Any]]:
        now = naive_utc(self._clock())
        query = (
            select(
                his_outbox.c.id, his_outbox.c.delivery_id, his_outbox.c.body, his_outbox.c.attempts
            )
            .where(
                his_outbox.c.state == "pending",
                his_outbox.c.next_attempt_at <= now,
                his_outbox.c.expires_at > now,
            )
            .order_by(his_outbox.c.id)
            .limit(BATCH)
        )
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def _next_due_in(self) -> float | None:
        with self.engine.connect() as conn:
            moment = conn.execute(
                select(func.min(his_outbox.c.next_attempt_at)).where(
                    his_outbox.c.state == "pending"
                )
            ).scalar()
        if moment is None:
            return None
        return max((aware_utc(moment) - self._clock()).total_seconds(), 0.0)

    def _record(self, row_id: int, attempts: int, error: str | None) -> None:
        now = self._clock()
        if error is None:
            values: dict[str, Any] = {
                "state": "delivered",
                "attempts": attempts,
                "delivered_at": naive_utc(now),
                "body": "",  # the data has reached the HIS: do not keep a copy
                "last_error": None,
            }
        else:
            values = {
                "attempts": attempts,
                "last_error": error[:200],
                "next_attempt_at": naive_utc(now + timedelta(seconds=backoff(attempts))),
            }
            if attempts >= self.max_attempts:
                values["state"] = "failed"
        with self.engine.begin() as conn:
            conn.execute(update(his_outbox).where(his_outbox.c.id == row_id).values(**values))

    async def _send(self, row: dict[str, Any]) -> str | None:
        body = row["body"].encode("utf-8")
        timestamp = int(self._clock().timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            DELIVERY_HEADER: row["delivery_id"],
            "User-Agent": "cccd-webhook/1",
        }
        try:
            response = await self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    async def deliver_due(self) -> int:
        """One pass: send every entry that is due. Returns how many were delivered."""
        delivered = 0
        for row in await asyncio.to_thread(self._due):
            error = await self._send(row)
            attempts = int(row["attempts"]) + 1
            await asyncio.to_thread(self._record, int(row["id"]), attempts, error)
            if error is None:
                delivered += 1
            else:
                self._last_error = error
                log.warning(
                    "webhook: delivery %s failed (%s), attempt %d",
                    row["delivery_id"][:8],
                    error,
                    attempts,
                )
        if delivered:
            self._last_error = None
        return delivered

    async def run(self, *, idle_seconds: float = 60.0) -> None:
        """The delivery task: send what is due, then sleep until the next entry is due or a
        new one is queued (at most ``idle_seconds``)."""
        while True:
            self._wake.clear()  # a result queued from here on wakes the wait below
            try:
                await self.deliver_due()
                wait = await asyncio.to_thread(self._next_due_in)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a database hiccup: try again shortly
                log.error("webhook outbox: %s", type(exc).__name__)
                wait = 5.0
            timeout = idle_seconds if wait is None else min(max(wait, 0.05), idle_seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def aclose(self) -> None:
        await self._client.aclose()


def erase(engine: Engine, id_number: str) -> int:
    """Every outbox entry of one person (an erasure request), delivered or not; 0 when the
    webhook was never used on this database."""
    if not inspect(engine).has_table("his_outbox"):
        return 0
    with engine.begin() as conn:
        count = conn.execute(delete(his_outbox).where(his_outbox.c.id_number == id_number)).rowcount
    return int(count or 0)
