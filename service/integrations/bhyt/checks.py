"""Insurance checks in progress at the desks (``docs/spec/bhyt-gateway.md`` "Timing and
etiquette": answers take 5-30 s, every call counts against the account). A check is started,
watched and may be abandoned by the clerk; while one runs for a person at a desk, asking again
joins it instead of sending a second call. Finished checks stay visible for a bounded time
(an hour at most, and never past the retention the service was given), then are forgotten.

The state is per service instance: a desk talks to one instance, and the answers worth
keeping across instances (the last good answer for a chip read) live in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from service.integrations.bhyt import codes
from service.integrations.bhyt.answers import failed
from service.integrations.bhyt.officers import Officer

log = logging.getLogger(__name__)

Kind = Literal["chip", "typed", "qr"]
MAX_PER_DESK = 50


@dataclass(eq=False)
class Check:
    id: str
    desk: str
    kind: Kind
    key: str  # the person, for "never twice at once": chip:<id_number> | typed:<card code>
    id_number: str | None
    card_code: str | None
    officer: Officer | None
    started_at: datetime
    deadline: datetime
    started: float  # monotonic
    state: str = "running"  # running | done | abandoned
    finished_at: datetime | None = None
    finished: float | None = None
    result: dict[str, Any] | None = None
    last_good: dict[str, Any] | None = None
    cached: bool = False
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def to_json(self, *, joined: bool = False) -> dict[str, Any]:
        end = self.finished if self.finished is not None else time.monotonic()
        return {
            "id": self.id,
            "href": f"/api/v1/insurance/checks/{self.id}",
            "state": self.state,
            "kind": self.kind,
            "id_number": self.id_number,
            "card_code": self.card_code,
            "officer": self.officer.public() if self.officer else None,
            "started_at": _iso(self.started_at),
            "deadline": _iso(self.deadline),
            "finished_at": _iso(self.finished_at) if self.finished_at else None,
            "elapsed_seconds": round(max(end - self.started, 0.0), 1),
            "joined": joined,
            "cached": self.cached,
            "result": self.result,
            "last_good": self.last_good,
        }

    def event(self) -> dict[str, Any]:
        """What the live event stream carries: no personal data."""
        return {"id": self.id, "desk": self.desk, "state": self.state}


Work = Callable[[Check], Awaitable[dict[str, Any]]]


class CheckRegistry:
    def __init__(
        self,
        *,
        timeout: float,
        keep_seconds: float = 3600.0,
        on_change: Callable[[Check], None] | None = None,
    ) -> None:
        self.timeout = timeout
        self.keep_seconds = keep_seconds
        self.on_change = on_change
        self._checks: dict[str, Check] = {}

    # -- lookups ----------------------------------------------------------------------------
    def get(self, desk: str, check_id: str) -> Check | None:
        self._prune()
        check = self._checks.get(check_id)
        return check if check is not None and check.desk == desk else None

    def running_for(self, desk: str, key: str) -> Check | None:
        for check in self._checks.values():
            if check.desk == desk and check.key == key and check.state == "running":
                return check
        return None

    def last_good(self, desk: str, key: str) -> dict[str, Any] | None:
        """The newest finished answer worth keeping for this person at this desk."""
        self._prune()
        best: Check | None = None
        for check in self._checks.values():
            if (
                check.desk == desk
                and check.key == key
                and check.state == "done"
                and check.result is not None
                and check.result.get("status") not in codes.NOT_KEPT_STATUSES
                and (best is None or check.started > best.started)
            ):
                best = check
        return best.result if best is not None else None

    def for_desk(self, desk: str) -> list[Check]:
        self._prune()
        mine = [c for c in self._checks.values() if c.desk == desk]
        return sorted(mine, key=lambda c: (c.state != "running", -c.started))

    # -- lifecycle --------------------------------------------------------------------------
    def _new(
        self,
        *,
        desk: str,
        kind: Kind,
        key: str,
        id_number: str | None,
        card_code: str | None,
        officer: Officer | None,
    ) -> Check:
        """A new check, kept (after dropping the ones past their keeping time)."""
        self._prune()
        now = datetime.now(UTC)
        check = Check(
            id="ic_" + secrets.token_urlsafe(12),
            desk=desk,
            kind=kind,
            key=key,
            id_number=id_number,
            card_code=card_code,
            officer=officer,
            started_at=now,
            deadline=now + timedelta(seconds=self.timeout),
            started=time.monotonic(),
        )
        self._checks[check.id] = check
        return check

    def start(
        self,
        *,
        desk: str,
        kind: Kind,
        key: str,
        id_number: str | None,
        card_code: str | None,
        officer: Officer | None,
        work: Work,
        last_good: dict[str, Any] | None = None,
    ) -> tuple[Check, bool]:
        """Start a check, or return the one running for this person at this desk
        (``(check, False)``). Call on the event loop."""
        running = self.running_for(desk, key)
        if running is not None:
            return running, False
        check = self._new(
            desk=desk,
            kind=kind,
            key=key,
            id_number=id_number,
            card_code=card_code,
            officer=officer,
        )
        check.last_good = last_good
        check.task = asyncio.create_task(self._run(check, work), name=f"insurance-{check.id}")
        self._changed(check)
        return check, True

    def finished_now(
        self,
        *,
        desk: str,
        kind: Kind,
        key: str,
        id_number: str | None,
        card_code: str | None,
        officer: Officer | None,
        result: dict[str, Any],
        cached: bool,
    ) -> Check:
        """A check answered without the gateway (a kept answer, or no gateway configured)."""
        check = self._new(
            desk=desk,
            kind=kind,
            key=key,
            id_number=id_number,
            card_code=card_code,
            officer=officer,
        )
        check.cached = cached
        self._finish(check, result)
        return check

    async def _run(self, check: Check, work: Work) -> None:
        try:
            result = await work(check)
        except asyncio.CancelledError:
            if check.state == "running":  # shut down, not abandoned by a clerk
                check.state = "abandoned"
                self._close(check)
            return
        except Exception:
            log.exception("insurance check failed inside the service")
            result = failed(
                "unavailable", "internal error during the check", codes.UNAVAILABLE_MESSAGE
            ).to_json()
        if check.state == "running":
            self._finish(check, result)

    def _finish(self, check: Check, result: dict[str, Any]) -> None:
        check.result = result
        check.state = "done"
        if result.get("status") not in codes.NOT_KEPT_STATUSES:
            check.last_good = None  # this answer is the newest good one
        self._close(check)

    def _close(self, check: Check) -> None:
        check.finished_at = datetime.now(UTC)
        check.finished = time.monotonic()
        check.done.set()
        self._changed(check)

    def abandon(self, desk: str, check_id: str) -> Check | None:
        check = self.get(desk, check_id)
        if check is None or check.state != "running":
            return check
        check.state = "abandoned"
        if check.task is not None:
            check.task.cancel()
        self._close(check)
        return check

    async def wait(self, check: Check, seconds: float) -> None:
        if seconds > 0 and check.state == "running":
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await check.done.wait()

    async def stop(self) -> None:
        tasks = [c.task for c in self._checks.values() if c.task and not c.task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _changed(self, check: Check) -> None:
        if self.on_change is not None:
            try:
                self.on_change(check)
            except Exception:
                log.exception("insurance check event failed")

    def _prune(self) -> None:
        now = time.monotonic()
        by_desk: dict[str, list[Check]] = {}
        for check in list(self._checks.values()):
            if check.finished is not None and now - check.finished > self.keep_seconds:
                del self._checks[check.id]
            elif check.finished is not None:
                by_desk.setdefault(check.desk, []).append(check)
        for checks in by_desk.values():
            checks.sort(key=lambda c: c.started, reverse=True)
            for old in checks[MAX_PER_DESK:]:
                self._checks.pop(old.id, None)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
