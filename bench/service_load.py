"""The desk service under hospital load, side by side with a FastAPI hello-world.

Starts ``cccd serve --simulated`` (one simulated reader per desk, the chips sleeping for a
424 kbit/s link) and ``bench.hello_app`` (the same URL shapes answering constants, under the
same uvicorn settings), then drives N desks against each in turn with one asyncio client
(httpx), every request to 127.0.0.1. Each desk keeps its event stream open and loops over the
reception mix: put a card on its reader, queue a scan, wait for the result (long poll), look
the citizen up, fetch the photo, check the insurance, list the day's scans.

Printed per endpoint, for both apps: req/s, p50/p95/p99 latency, errors; then server CPU per
short request (all requests but the long poll and the event stream), RSS, scan end-to-end
time against the card's own read time, events delivered, and the p99 ratio. ``--runs R``
repeats the pair and prints medians.

``--instances K --postgres URL`` spreads the desks over K service instances on one PostgreSQL
database (``--postgres auto`` starts a private cluster with ``scripts/start-postgres
--private`` on a free port and removes it afterwards); lookups then go to the next
instance, so every cycle checks that a read verified on one instance is found on another.

Run::

    .venv/bin/python -m bench.service_load                      # 50 desks, 180 s each
    .venv/bin/python -m bench.service_load --desks 5 --seconds 5 --json out.json
    .venv/bin/python -m bench.service_load --instances 2 --postgres auto

Needs ``psutil`` (the ``bench`` extra). Server CPU counts the simulated chips too: they run
inside the service process, where a real card's work would not. The service reports that
part (``cccd_scan_cpu_seconds``) and it is shown separately.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
# Fictional citizens whose cards verify and whose insurance the BHXH stand-in knows.
CITIZENS = ("017072769692", "079198409238", "017160905911", "046196643573", "066192808101")
SHORT = ("put_card", "create_scan", "citizen", "photo", "insurance", "list_scans")
ENDPOINTS = (*SHORT, "wait_scan")


# -- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def desk_name(i: int) -> str:
    return f"desk-{i + 1:03d}"


def desk_key(i: int) -> str:
    return f"bench-desk-key-{i + 1:03d}-0123456789"


def reader_name(i: int) -> str:
    return f"Bench reader {i + 1:03d}"


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _start(command: list[str], env: dict[str, str], log: Path) -> Server:
    port = int(env["CCCD_PORT"])
    out = log.open("wb")
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    out.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited at start: {log.read_text()[-3000:]}")
        try:
            health = httpx.get(f"{url}/healthz", timeout=2)
            # the service is warm once its start-up work (the unit-code tables) is done
            if health.status_code == 200 and health.json().get("unit_codes") != "loading":
                return Server(process, url, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server did not start in 90 s: {log}")


def start_cccd(
    workdir: Path,
    desks: list[int],
    all_desks: int,
    *,
    database_url: str | None,
    index: int,
    cards_in_process: bool = False,
) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCCD_")}
    data = workdir / f"cccd-{index}"
    data.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "CCCD_PORT": str(free_port()),
            "CCCD_DATA_DIR": str(data),
            "CCCD_API_KEYS": ",".join(f"{desk_name(i)}={desk_key(i)}" for i in range(all_desks)),
            "CCCD_SIMULATED_READERS": ",".join(reader_name(i) for i in desks),
            # each desk owns its reader (every instance knows every desk; only the instance
            # with the desk's reader reads its cards)
            "CCCD_DESK_READERS": ",".join(
                f"{desk_name(i)}={reader_name(i)}" for i in range(all_desks)
            ),
            # instances on one database share the audit key (one chain, one subject hash)
            "CCCD_AUDIT_KEY": "the benchmark's audit key, shared by its instances",
            "CCCD_RATE_LIMIT": "1000000",
            "CCCD_RATE_LIMIT_BURST": "100000",
            "CCCD_CARD_WAIT_SECONDS": "10",
            # the simulated cards do their work in a process of their own, as real cards do
            # theirs on the card (--cards-in-process: inside the service, as before)
            "CCCD_SIMULATED_CARDS_PROCESS": "0" if cards_in_process else "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if database_url:
        env["CCCD_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "service.cli.main", "serve", "--simulated"]
    return _start(command, env, workdir / f"cccd-{index}.log")


def start_hello(workdir: Path, index: int) -> Server:
    env = dict(os.environ) | {"CCCD_PORT": str(free_port()), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "bench.hello_app"]
    return _start(command, env, workdir / f"hello-{index}.log")


# -- PostgreSQL -----------------------------------------------------------------------------


@dataclass
class Postgres:
    url: str
    directory: Path | None = None  # a private cluster this run started

    def stop(self) -> None:
        if self.directory is not None:
            subprocess.run(
                [str(ROOT / "scripts" / "start-postgres"), "--stop", str(self.directory)],
                check=False,
                stdout=subprocess.DEVNULL,
            )
            shutil.rmtree(self.directory, ignore_errors=True)


def start_postgres(spec: str, workdir: Path) -> Postgres:
    if spec != "auto":
        return Postgres(spec)
    # Its own directory (the server may run as another user than this run's work dir's).
    directory = Path(tempfile.mkdtemp(prefix="cccd-bench-pg-"))
    result = subprocess.run(
        [str(ROOT / "scripts" / "start-postgres"), "--private", str(directory)],
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"scripts/start-postgres --private failed: {result.stderr.strip()}")
    return Postgres(result.stdout.strip().splitlines()[-1], directory)


def fresh_database(url: str, name: str) -> str:
    """A new, empty database on the server at ``url`` (one per run)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


# -- the client -----------------------------------------------------------------------------


@dataclass
class Recorder:
    started: float
    measure_from: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    e2e: list[float] = field(default_factory=list)
    card_read: list[float] = field(default_factory=list)
    events: int = 0
    cross_found: int = 0

    def measuring(self, t0: float) -> bool:
        return t0 >= self.measure_from

    def ok(self, endpoint: str, t0: float, t1: float) -> None:
        if self.measuring(t0):
            self.latencies[endpoint].append((t1 - t0) * 1000)

    def fail(self, endpoint: str, t0: float, what: str) -> None:
        if self.measuring(t0):
            self.errors[endpoint] += 1
            if len(self.samples) < 8:
                self.samples.append(f"{endpoint}: {what}")


class Desk:
    def __init__(self, i: int, base: str, lookup: str, client: httpx.AsyncClient) -> None:
        self.i = i
        self.base = base
        self.lookup = lookup
        self.client = client
        self.headers = {"Authorization": f"Bearer {desk_key(i)}"}
        self.reader = reader_name(i)
        self.citizen = CITIZENS[i % len(CITIZENS)]

    async def call(
        self, rec: Recorder, endpoint: str, method: str, url: str, *, expect: int = 200, **kw: Any
    ) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            response = await self.client.request(method, url, headers=self.headers, **kw)
        except httpx.HTTPError as exc:
            rec.fail(endpoint, t0, type(exc).__name__)
            return None
        t1 = time.perf_counter()
        if response.status_code != expect:
            rec.fail(endpoint, t0, f"HTTP {response.status_code} {response.text[:160]}")
            return None
        rec.ok(endpoint, t0, t1)
        return response

    async def cycle(self, rec: Recorder, stop_at: float) -> None:
        base, cid = self.base, self.citizen
        card = {"id_number": cid}
        if (
            await self.call(
                rec, "put_card", "PUT", f"{base}/api/v1/demo/readers/{self.reader}/card", json=card
            )
            is None
        ):
            await asyncio.sleep(0.5)
            return
        t0 = time.perf_counter()
        created = await self.call(
            rec,
            "create_scan",
            "POST",
            f"{base}/api/v1/scans",
            expect=202,
            json={"reader": self.reader, "id_number": cid},
        )
        if created is None:
            await asyncio.sleep(0.5)
            return
        scan_id = created.json()["id"]
        body: dict[str, Any] = created.json()
        while body.get("state") not in ("done", "failed"):
            if time.perf_counter() > stop_at + 60:
                rec.fail("wait_scan", t0, "scan did not finish")
                return
            answer = await self.call(
                rec, "wait_scan", "GET", f"{base}/api/v1/scans/{scan_id}", params={"wait": 25}
            )
            if answer is None:
                return
            body = answer.json()
        t_done = time.perf_counter()
        result = body.get("result") or {}
        if body["state"] != "done" or (result and not result.get("accepted", True)):
            rec.fail(
                "wait_scan",
                t0,
                f"scan {body['state']}: {body.get('problem') or result.get('reason')}",
            )
            return
        if rec.measuring(t0):
            rec.e2e.append((t_done - t0) * 1000)
            rec.card_read.append(float(result.get("timings", {}).get("read_seconds", 0)) * 1000)
        # The lookup goes to the next instance (with one instance, to this one).
        found = await self.call(rec, "citizen", "GET", f"{self.lookup}/api/v1/citizens/{cid}")
        if found is not None and self.lookup != base and rec.measuring(t0):
            rec.cross_found += 1
        await self.call(rec, "photo", "GET", f"{base}/api/v1/citizens/{cid}/photo")
        await self.call(rec, "insurance", "GET", f"{self.lookup}/api/v1/citizens/{cid}/insurance")
        await self.call(rec, "list_scans", "GET", f"{base}/api/v1/scans")

    async def run(self, rec: Recorder, stop_at: float) -> None:
        while time.perf_counter() < stop_at:
            await self.cycle(rec, stop_at)

    async def events(self, rec: Recorder) -> None:
        url = f"{self.base}/api/v1/events"
        with contextlib.suppress(httpx.HTTPError):
            async with self.client.stream("GET", url, headers=self.headers, timeout=None) as r:
                async for line in r.aiter_lines():
                    if line.startswith("event:") and time.perf_counter() >= rec.measure_from:
                        rec.events += 1


async def drive(bases: list[str], desks: list[int], seconds: float, warmup: float) -> Recorder:
    # Idle connections are dropped before the server's 5 s keep-alive timeout would close
    # them under a request (a race no browser reports as an error: it retries).
    limits = httpx.Limits(
        max_connections=None, max_keepalive_connections=None, keepalive_expiry=3.0
    )
    timeout = httpx.Timeout(60.0, connect=10.0)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        now = time.perf_counter()
        rec = Recorder(started=now, measure_from=now + warmup)
        stop_at = rec.measure_from + seconds
        k = len(bases)
        crew = [Desk(i, bases[i % k], bases[(i + 1) % k], client) for i in desks]
        streams = [asyncio.create_task(d.events(rec)) for d in crew]
        await asyncio.sleep(0.2)
        await asyncio.gather(*(d.run(rec, stop_at) for d in crew))
        rec.measured = time.perf_counter() - rec.measure_from  # type: ignore[attr-defined]
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    return rec


def drive_shard(
    bases: list[str], desks: list[int], seconds: float, warmup: float
) -> dict[str, Any]:
    """One client process of ``--client-processes N``: its share of the desks, its
    recordings and its own CPU over the measured window."""

    async def run() -> tuple[Recorder, float]:
        task = asyncio.create_task(drive(bases, desks, seconds, warmup))
        await asyncio.sleep(warmup)
        cpu0 = time.process_time()
        rec = await task
        return rec, time.process_time() - cpu0

    rec, cpu = asyncio.run(run())
    return {
        "latencies": dict(rec.latencies),
        "errors": dict(rec.errors),
        "samples": rec.samples,
        "e2e": rec.e2e,
        "card_read": rec.card_read,
        "events": rec.events,
        "cross_found": rec.cross_found,
        "measured": rec.measured,  # type: ignore[attr-defined]
        "cpu": cpu,
    }


async def drive_processes(
    bases: list[str], desks: int, seconds: float, warmup: float, processes: int
) -> tuple[Recorder, float]:
    """The desks dealt over ``processes`` client processes (so that one client's event
    loop is not what limits the run); their recordings merged, their CPU summed."""
    import concurrent.futures
    import multiprocessing

    shards = [[i for i in range(desks) if i % processes == j] for j in range(processes)]
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=context) as pool:
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(pool, drive_shard, bases, shard, seconds, warmup)
                for shard in shards
                if shard
            )
        )
    now = time.perf_counter()
    rec = Recorder(started=now, measure_from=float("-inf"))
    for part in parts:
        for name, values in part["latencies"].items():
            rec.latencies[name].extend(values)
        for name, count in part["errors"].items():
            rec.errors[name] += count
        rec.samples.extend(part["samples"][: 8 - len(rec.samples)])
        rec.e2e.extend(part["e2e"])
        rec.card_read.extend(part["card_read"])
        rec.events += part["events"]
        rec.cross_found += part["cross_found"]
    rec.measured = max(p["measured"] for p in parts)  # type: ignore[attr-defined]
    return rec, sum(p["cpu"] for p in parts)


# -- measuring the servers ------------------------------------------------------------------


class Sampler:
    """CPU seconds and RSS of the server processes, RSS sampled once a second; the CPU of
    their children (the simulated cards' host process) apart."""

    def __init__(self, servers: list[Server]) -> None:
        import psutil

        self.procs = [psutil.Process(s.process.pid) for s in servers]
        self.children = [c for p in self.procs for c in p.children(recursive=True)]
        self.rss: list[tuple[float, int]] = []
        self._task: asyncio.Task[None] | None = None

    def cpu(self) -> float:
        return sum(p.cpu_times().user + p.cpu_times().system for p in self.procs)

    def cards_cpu(self) -> float:
        return sum(p.cpu_times().user + p.cpu_times().system for p in self.children)

    def rss_now(self) -> int:
        return sum(p.memory_info().rss for p in self.procs)

    async def sample(self) -> None:
        while True:
            self.rss.append((time.perf_counter(), self.rss_now()))
            await asyncio.sleep(1.0)


def scan_cpu(servers: list[Server]) -> float:
    """The simulated cards' and readers' CPU the service reports (0 for hello-world)."""
    total = 0.0
    for server in servers:
        try:
            text = httpx.get(f"{server.url}/metrics", timeout=10).text
        except httpx.HTTPError:
            continue
        for match in re.finditer(r"^cccd_scan_cpu_seconds_total (\S+)$", text, re.M):
            total += float(match.group(1))
    return total


def minute_samples(
    samples: list[tuple[float, int]], start: float, seconds: float
) -> list[tuple[float, int]]:
    """The first RSS sample at or after each whole minute of the measured window."""
    picked: list[tuple[float, int]] = []
    for minute in range(int(seconds // 60) + 1):
        at = start + 60 * minute
        later = [(t, r) for t, r in samples if t >= at]
        if later:
            picked.append(later[0])
    return picked


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def measure(
    servers: list[Server], desks: int, seconds: float, warmup: float, client_processes: int = 1
) -> dict[str, Any]:
    sampler = Sampler(servers)
    rss_task = asyncio.create_task(sampler.sample())
    bases = [s.url for s in servers]
    if client_processes > 1:
        shards_task = asyncio.create_task(
            drive_processes(bases, desks, seconds, warmup, client_processes)
        )
    else:
        drive_task = asyncio.create_task(drive(bases, list(range(desks)), seconds, warmup))
    await asyncio.sleep(warmup)
    cpu0, card0 = sampler.cpu(), await asyncio.to_thread(scan_cpu, servers)
    host0 = sampler.cards_cpu()
    client0 = time.process_time()
    if client_processes > 1:
        rec, client = await shards_task
    else:
        rec = await drive_task
        client = time.process_time() - client0
    cpu1, card1 = sampler.cpu(), await asyncio.to_thread(scan_cpu, servers)
    host = sampler.cards_cpu() - host0
    rss_task.cancel()
    measured: float = rec.measured  # type: ignore[attr-defined]
    endpoints: dict[str, Any] = {}
    for name in ENDPOINTS:
        values = rec.latencies.get(name, [])
        endpoints[name] = {
            "count": len(values),
            "rps": len(values) / measured,
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "p99": percentile(values, 99),
            "errors": rec.errors.get(name, 0),
        }
    short = [v for name in SHORT for v in rec.latencies.get(name, [])]
    short_count = len(short)
    in_window = [r for t, r in sampler.rss if t >= rec.measure_from]
    overhead = [e - c for e, c in zip(rec.e2e, rec.card_read, strict=True)]
    cpu, card = cpu1 - cpu0, card1 - card0
    return {
        "seconds": measured,
        "endpoints": endpoints,
        "short": {
            "count": short_count,
            "rps": short_count / measured,
            "p50": percentile(short, 50),
            "p95": percentile(short, 95),
            "p99": percentile(short, 99),
            "errors": sum(rec.errors.get(n, 0) for n in SHORT),
        },
        "errors": sum(rec.errors.values()),
        "error_samples": rec.samples,
        "server_cpu_seconds": cpu,
        "scan_cpu_seconds": card,
        "cpu_ms_per_request": cpu / max(1, short_count) * 1000,
        "cpu_ms_per_request_without_cards": (cpu - card) / max(1, short_count) * 1000,
        "read_cpu_ms_per_scan": card / max(1, len(rec.e2e)) * 1000,
        "cards_process_cpu_utilisation": host / measured,
        "cpu_utilisation": cpu / measured,
        "client_cpu_utilisation": client / measured,
        "rss_mb": {
            "start": (in_window[0] if in_window else 0) / 2**20,
            "end": (in_window[-1] if in_window else 0) / 2**20,
            "max": (max(in_window) if in_window else 0) / 2**20,
            # one sample a minute into the measured window (a soak's flatness)
            "by_minute": [
                r / 2**20 for t, r in minute_samples(sampler.rss, rec.measure_from, measured)
            ],
        },
        "scans": {
            "count": len(rec.e2e),
            "per_second": len(rec.e2e) / measured,
            "e2e_p50": percentile(rec.e2e, 50),
            "e2e_p99": percentile(rec.e2e, 99),
            "card_read_p50": percentile(rec.card_read, 50),
            "card_read_p99": percentile(rec.card_read, 99),
            "overhead_p50": percentile(overhead, 50),
            "overhead_p99": percentile(overhead, 99),
        },
        "events_per_second": rec.events / measured,
        "cross_instance_lookups": rec.cross_found,
    }


# -- one run, many runs ---------------------------------------------------------------------


def run_pair(args: argparse.Namespace, workdir: Path, run: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    k = args.instances
    for target in args.targets:
        servers: list[Server] = []
        try:
            if target == "hello":
                servers = [start_hello(workdir, j) for j in range(k)]
            else:
                database = None
                if args.postgres_url:
                    database = fresh_database(args.postgres_url, f"cccd_bench_{os.getpid()}_{run}")
                for j in range(k):
                    desks = [i for i in range(args.desks) if i % k == j]
                    servers.append(
                        start_cccd(
                            workdir / f"run{run}",
                            desks,
                            args.desks,
                            database_url=database,
                            index=j,
                            cards_in_process=args.cards_in_process,
                        )
                    )
            print(
                f"run {run + 1}: {target} x{k}, {args.desks} desks, {args.seconds:.0f} s",
                file=sys.stderr,
            )
            profiler = _profile(args, servers, target, run)
            results[target] = asyncio.run(
                measure(servers, args.desks, args.seconds, args.warmup, args.client_processes)
            )
            if profiler is not None:
                profiler.wait(60)
        finally:
            for server in servers:
                server.stop()
    if "cccd" in results and "hello" in results:
        hello_p99 = max(results["hello"]["short"]["p99"], 1e-9)
        results["p99_ratio"] = results["cccd"]["short"]["p99"] / hello_p99
    return results


def _profile(
    args: argparse.Namespace, servers: list[Server], target: str, run: int
) -> subprocess.Popen[bytes] | None:
    """``--profile DIR``: py-spy samples the first server for the measured time (collapsed
    stacks, one file per app and run, for flame graphs or grep)."""
    if args.profile is None or target != "cccd":
        return None
    args.profile.mkdir(parents=True, exist_ok=True)
    out = args.profile / f"{target}-run{run + 1}.txt"
    command = [
        "py-spy",
        "record",
        "--pid",
        str(servers[0].process.pid),
        "--format",
        "raw",
        "--rate",
        "100",
        "--duration",
        str(int(args.warmup + args.seconds)),
        "--output",
        str(out),
        "--nonblocking",
    ]
    if args.profile_threads:
        command.append("--threads")
    if not args.profile_waits:
        command.append("--gil")  # where the interpreter's time goes, not who waits
    py_spy = Path(sys.executable).with_name("py-spy")
    command[0] = str(py_spy) if py_spy.exists() else "py-spy"
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Field by field median of several runs' results (lists: the first run's)."""
    first = runs[0]
    if isinstance(first, dict):
        return {key: median_of([r[key] for r in runs]) for key in first}
    if isinstance(first, bool) or not isinstance(first, int | float):
        return first
    return statistics.median(runs)


def _ms(value: float) -> str:
    return "-" if value != value else f"{value:,.0f}"


def markdown(result: dict[str, Any], args: argparse.Namespace) -> str:
    targets = [t for t in args.targets if t in result]
    head = (
        "| | "
        + " | ".join(f"{t} req/s | {t} p50 / p95 / p99 ms | {t} errors" for t in targets)
        + " |"
    )
    lines = [head, "|---|" + "---:|---:|---:|" * len(targets)]

    def row(label: str, key: str | None) -> None:
        cells = []
        for t in targets:
            stats = result[t]["short"] if key is None else result[t]["endpoints"][key]
            cells.append(
                f"{stats['rps']:,.1f} | {_ms(stats['p50'])} / {_ms(stats['p95'])} / "
                f"{_ms(stats['p99'])} | {stats['errors']:.0f}"
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("**short requests, all**", None)
    for name in ENDPOINTS:
        row(name if name in SHORT else f"{name} (long poll)", name)
    lines.append("")
    lines.append("| | " + " | ".join(targets) + " |")
    lines.append("|---|" + "---:|" * len(targets))

    def line(label: str, fmt: Any) -> None:
        lines.append(f"| {label} | " + " | ".join(fmt(result[t]) for t in targets) + " |")

    line("server CPU per short request (ms)", lambda r: f"{r['cpu_ms_per_request']:.2f}")
    line(
        "  card reads and verification apart (ms)",
        lambda r: f"{r['cpu_ms_per_request_without_cards']:.2f}",
    )
    line(
        "reader's side of a read + verification, CPU per scan (ms)",
        lambda r: f"{r.get('read_cpu_ms_per_scan', 0):.1f}",
    )
    line("server CPU used (cores)", lambda r: f"{r['cpu_utilisation']:.2f}")
    line(
        "simulated cards' process CPU used (cores)",
        lambda r: f"{r.get('cards_process_cpu_utilisation', 0):.2f}",
    )
    line("client CPU used (cores)", lambda r: f"{r['client_cpu_utilisation']:.2f}")
    line(
        "RSS start / end / max (MB)",
        lambda r: (
            f"{r['rss_mb']['start']:.0f} / {r['rss_mb']['end']:.0f} / {r['rss_mb']['max']:.0f}"
        ),
    )
    if args.seconds >= 120:
        line(
            "RSS each minute (MB)",
            lambda r: " / ".join(f"{v:.0f}" for v in r["rss_mb"].get("by_minute", [])),
        )
    line("scans per second", lambda r: f"{r['scans']['per_second']:.1f}")
    line(
        "scan end-to-end p50 / p99 (ms)",
        lambda r: f"{_ms(r['scans']['e2e_p50'])} / {_ms(r['scans']['e2e_p99'])}",
    )
    line(
        "card's own read time p50 / p99 (ms)",
        lambda r: f"{_ms(r['scans']['card_read_p50'])} / {_ms(r['scans']['card_read_p99'])}",
    )
    line(
        "end-to-end minus read time p50 / p99 (ms)",
        lambda r: f"{_ms(r['scans']['overhead_p50'])} / {_ms(r['scans']['overhead_p99'])}",
    )
    line("events delivered per second", lambda r: f"{r['events_per_second']:.0f}")
    if args.instances > 1:
        line("lookups found on another instance", lambda r: f"{r['cross_instance_lookups']:.0f}")
    if "p99_ratio" in result:
        lines.append("")
        lines.append(
            f"short-request p99 ratio cccd / hello-world (same run"
            f"{'; median over runs' if args.runs > 1 else ''}): **{result['p99_ratio']:.2f}x**"
        )
    return "\n".join(lines)


def machine() -> str:
    import psutil

    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for text_line in Path("/proc/cpuinfo").read_text().splitlines():
            if text_line.startswith("model name"):
                cpu = text_line.split(":", 1)[1].strip()
                break
    return (
        f"{psutil.cpu_count()} CPUs ({cpu}), {psutil.virtual_memory().total / 2**30:.1f} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"load average before the run {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--desks", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=180.0, help="measured time per app")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds not measured first")
    parser.add_argument("--runs", type=int, default=1, help="repeat and print medians")
    parser.add_argument("--instances", type=int, default=1, help="service instances (K)")
    parser.add_argument("--postgres", help="database URL for the instances, or 'auto'")
    parser.add_argument("--only", choices=("cccd", "hello"), help="drive one app only")
    parser.add_argument("--profile", type=Path, help="py-spy the service into this directory")
    parser.add_argument("--profile-threads", action="store_true", help="stacks per thread")
    parser.add_argument(
        "--profile-waits",
        action="store_true",
        help="sample every thread, waiting or not (default: only the one holding the GIL)",
    )
    parser.add_argument(
        "--cards-in-process",
        action="store_true",
        help="the simulated chips inside the service's process (default: a process of their own)",
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=1,
        help="deal the desks over this many client processes (default: one)",
    )
    parser.add_argument("--json", type=Path, help="write the results here as JSON")
    parser.add_argument("--fail-on-error", action="store_true", help="exit 1 on any error")
    args = parser.parse_args(argv)
    if args.instances > 1 and not args.postgres:
        parser.error("--instances above 1 needs --postgres URL (or --postgres auto)")
    args.targets = [args.only] if args.only else ["hello", "cccd"]
    about = machine()
    print(about, file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="cccd-bench-") as tmp:
        workdir = Path(tmp)
        postgres = start_postgres(args.postgres, workdir) if args.postgres else None
        args.postgres_url = postgres.url if postgres else None
        try:
            runs = [run_pair(args, workdir, run) for run in range(args.runs)]
        except BaseException:
            for log in sorted(workdir.glob("**/*.log")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}", file=sys.stderr)
            raise
        finally:
            if postgres is not None:
                postgres.stop()
    result = median_of(runs) if len(runs) > 1 else runs[0]
    print(
        f"\n{args.desks} desks, {args.instances} instance(s), {args.seconds:.0f} s measured "
        f"per app, {'median of ' + str(len(runs)) + ' runs' if len(runs) > 1 else 'one run'}"
    )
    print(f"machine: {about}\n")
    print(markdown(result, args))
    apps = [t for t in args.targets]
    errors = sum(r[t]["errors"] for r in runs for t in apps)
    for r in runs:
        for t in apps:
            for sample in r[t]["error_samples"]:
                print(f"error ({t}): {sample}", file=sys.stderr)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": about,
                    "args": {k: v for k, v in vars(args).items() if k not in ("json",)},
                    "runs": runs,
                    "median": result,
                },
                indent=1,
                default=str,
            )
        )
    return 1 if args.fail_on_error and errors else 0


if __name__ == "__main__":
    sys.exit(main())
