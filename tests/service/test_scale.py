"""What the service does to stay fast under many desks, and that none of it loses
durability: group commit of audit records (never answered before committed, also across a
crash), card I/O on its own threads."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.api.events import EventBus
from service.storage.audit_key import AuditKeys
from service.storage.group_commit import GroupCommit, GroupCommitClosed
from tests.service.conftest import KEYS, start_server, stop_server

# -- group commit ---------------------------------------------------------------------------


def test_group_commit_releases_callers_only_after_their_batch_commits() -> None:
    committed: list[list[int]] = []
    in_commit = threading.Event()
    release = threading.Event()

    def commit(batch: list[int]) -> None:
        in_commit.set()
        assert release.wait(10)
        committed.append(list(batch))

    writer: GroupCommit[int] = GroupCommit(commit)
    returned: list[int] = []

    def caller(n: int) -> None:
        writer.write(n)
        returned.append(n)

    first = threading.Thread(target=caller, args=(0,))
    first.start()
    assert in_commit.wait(5)
    # While the first batch is being committed, twenty more callers queue up.
    others = [threading.Thread(target=caller, args=(n,)) for n in range(1, 21)]
    for thread in others:
        thread.start()
    time.sleep(0.3)
    assert returned == [], "a caller returned before its record was committed"
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert sorted(returned) == list(range(21))
    assert committed[0] == [0]
    assert sorted(r for batch in committed for r in batch) == list(range(21))
    assert len(committed) <= 3, f"not batched: {[len(b) for b in committed]}"
    assert writer.batches == len(committed)
    writer.close()
    with pytest.raises(GroupCommitClosed):
        writer.write(99)


def test_group_commit_failure_reaches_every_caller_of_the_batch() -> None:
    fail = threading.Event()
    fail.set()

    def commit(batch: list[str]) -> None:
        if fail.is_set():
            raise OSError("disk full")

    writer: GroupCommit[str] = GroupCommit(commit)
    with pytest.raises(OSError, match="disk full"):
        writer.write("a")
    fail.clear()
    writer.write("b")  # the writer goes on after a failed batch
    writer.close()


def test_group_commit_async_callers_do_not_hold_threads() -> None:
    seen: list[int] = []
    writer: GroupCommit[int] = GroupCommit(lambda batch: seen.extend(batch))

    async def main() -> None:
        await asyncio.gather(*(writer.write_async(n) for n in range(200)))

    asyncio.run(main())
    assert sorted(seen) == list(range(200))
    assert writer.batches < 200  # gathered into fewer transactions
    writer.close()


def test_store_audit_is_on_disk_when_it_returns(tmp_path: Path) -> None:
    from service.storage.store import Store

    path = tmp_path / "cccd.sqlite3"
    store = Store(f"sqlite:///{path}", audit_keys=AuditKeys.for_tests())
    store.migrate()

    def one(n: int) -> int:
        store.audit(desk="desk-1", action="lookup", outcome=f"n{n}")
        # Another connection (as another process would) sees the record already.
        with sqlite3.connect(path) as other:
            rows = other.execute(
                "select count(*) from audit_log where outcome = ?", (f"n{n}",)
            ).fetchone()
        return int(rows[0])

    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(one, range(64))) == [1] * 64
    assert store.audit_writer.records == 64
    assert store.audit_writer.batches < 64
    store.close()


@pytest.mark.slow
def test_every_answered_lookup_is_audited_across_a_crash(tmp_path: Path) -> None:
    """Many desks look up; the process is killed (SIGKILL) in the middle. Every lookup that
    got an answer has its audit record in the database file."""
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    server = start_server(tmp_path, CCCD_RATE_LIMIT="100000", CCCD_RATE_LIMIT_BURST="100000")
    answered: list[str] = []
    stop = threading.Event()

    def desk(n: int) -> None:
        headers = {"Authorization": f"Bearer {KEYS['desk-1']}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=5) as client:
            while not stop.is_set():
                id_number = f"{secrets.randbelow(10**12):012d}"
                try:
                    response = client.get(f"/api/v1/citizens/{id_number}")
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 404 and response.json()["type"].endswith("not-found"):
                    answered.append(id_number)

    try:
        threads = [threading.Thread(target=desk, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(answered) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(server.process.pid, signal.SIGKILL)
        stop.set()
        for thread in threads:
            thread.join(10)
        server.process.wait(10)
    finally:
        stop.set()
        stop_server(server)
    assert len(answered) >= 150
    from service.settings import Settings
    from service.storage.store import open_store

    store = open_store(Settings.load(environ=server.env), create_key=False)
    subjects = {
        r.subject for r in store.audit_records() if r.action == "lookup" and r.desk == "desk-1"
    }
    missing = [i for i in answered if store.subject(i) not in subjects]
    store.close()
    assert not missing, f"{len(missing)} of {len(answered)} answered lookups not audited"


# -- card I/O threads -----------------------------------------------------------------------


def test_slow_cards_do_not_starve_the_shared_thread_pool() -> None:
    """Four readers with slow cards read at once while the loop's default pool (which the
    database writes use) has two threads: database-side work still runs at once."""
    from fixtures.cards import chip_for_citizen, trust_store_for_tests
    from service.api.metrics import Metrics
    from service.scan.pipeline import access_request
    from service.scan.queue import ScanManager
    from service.scan.readers import ReaderRegistry, SimulatedReader

    trust = trust_store_for_tests()

    async def main() -> tuple[list[float], list[str]]:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(2))
        registry = ReaderRegistry(use_pcsc=False)
        for n in range(4):
            reader = SimulatedReader(f"r{n}")
            reader.insert(chip_for_citizen("017072769692", faults=["slow=0.02"]))
            registry.add(reader)

        async def on_done(scan: Any, outcome: Any) -> dict[str, Any]:
            return {"verdict": outcome.status, "accepted": outcome.accepted}

        manager = ScanManager(
            registry, bus=EventBus(), metrics=Metrics(), trust=trust, on_done=on_done
        )
        scans = [
            manager.submit(f"r{n}", access_request(id_number="017072769692"), "desk")
            for n in range(4)
        ]
        await asyncio.sleep(0.3)
        assert all(s.state == "reading" for s in scans), [s.state for s in scans]
        delays = []
        for _ in range(5):
            started = time.perf_counter()
            await asyncio.to_thread(lambda: None)
            delays.append(time.perf_counter() - started)
        for scan in scans:
            await manager.wait(scan, 60)
        await manager.stop()
        return delays, [s.state for s in scans]

    delays, states = asyncio.run(main())
    assert states == ["done"] * 4
    assert max(delays) < 0.25, delays
