"""Group commit: many callers' writes in one short transaction, none answered before its
write is on disk.

Each caller hands its record to ``GroupCommit.write`` (from a thread) or ``write_async``
(from the event loop) and waits. One writer thread takes everything that has queued up --
while it commits one batch the next one gathers -- and gives the whole batch to ``commit``,
which writes it in ONE transaction and returns only after the commit (for SQLite in WAL mode
with ``synchronous=FULL``, after the fsync of the write-ahead log). Only then are the callers
released; if the commit fails every caller of the batch gets the exception. So an answer that
says "audited" is never sent before its record is durable, and fifty desks' audit records
cost one fsync instead of fifty.

The committer is generic: the batch function decides what a record is and how rows are
written. A hash-chained audit log supplies a batch function that reads the chain head once,
links the batch's records in order and writes them in the same transaction; the single
writer thread keeps the order in which records were handed in.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from typing import Generic, TypeVar

T = TypeVar("T")

_STOP = object()


class GroupCommitClosed(RuntimeError):
    """The committer was closed: the write was not made."""


class GroupCommit(Generic[T]):
    def __init__(
        self,
        commit: Callable[[list[T]], None],
        *,
        max_batch: int = 500,
        name: str = "group-commit",
    ) -> None:
        self._commit = commit
        self.max_batch = max_batch
        self.name = name
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.batches = 0  # transactions committed (for tests and metrics)
        self.records = 0

    # -- callers --------------------------------------------------------------------------
    def submit(self, record: T) -> Future[None]:
        """Queue ``record``; the future is done when its batch is committed (or failed)."""
        future: Future[None] = Future()
        with self._lock:
            if self._closed:
                raise GroupCommitClosed(f"{self.name} is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._queue.put((record, future))
        return future

    def write(self, record: T, timeout: float | None = 60.0) -> None:
        """Block until ``record`` is committed; raises what the commit raised."""
        self.submit(record).result(timeout)

    async def write_async(self, record: T) -> None:
        """From the event loop: wait for the commit without holding a thread."""
        await asyncio.wrap_future(self.submit(record))

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop the writer thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout)

    # -- the writer -----------------------------------------------------------------------
    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                return
            batch: list[tuple[T, Future[None]]] = [item]  # type: ignore[list-item]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)  # type: ignore[arg-type]
            try:
                self._commit([record for record, _ in batch])
            except BaseException as exc:
                for _, future in batch:
                    with contextlib.suppress(InvalidStateError):
                        future.set_exception(exc)
                continue
            self.batches += 1
            self.records += len(batch)
            for _, future in batch:
                with contextlib.suppress(InvalidStateError):  # a caller gave up waiting
                    future.set_result(None)
