"""The desk service for a test, two ways behind one interface (CONTRIBUTING.md "Running
each suite").

``start_app`` builds the app in this process with ``service.create_app(settings, store=,
registry=, trust=, bhyt_transport=)``: its lifespan runs once, on one event loop in a thread
(an anyio blocking portal), and every client it hands out sends its requests through httpx's
ASGI transport onto that loop, so all of them reach the same running app. Anything the
factory takes can be injected (a trust store, a gateway transport, a store, readers).

``start_server`` runs ``cccd serve --simulated`` as a process on a free port, for what needs a
socket: server-sent events and WebSockets, uvicorn's own settings, killing the process, the
browser, the CLI's start-up.

Both answer ``server.client(desk)``, ``server.url``, ``server.data_dir``, ``server.env`` (the
environment the CLI commands are run with against the same data) and ``server.log_text()``;
``stop_server`` stops either. Settings are given as the environment's ``CCCD_*`` names, the
same for both, read from that mapping only (``Settings.load(environ=...)``, never this
process's environment).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from service.app import create_app
from service.context import Context
from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "desk-1": "desk-one-secret-key",
    "desk-2": "desk-two-secret-key",
    "desk-flood": "desk-flood-secret-key",
}
READER_1 = "Simulated reader 1"
READER_2 = "Simulated reader 2"
READER_3 = "Simulated reader 3"
# desk-1 and desk-2 share readers 1 and 2 (a queue between two desks); desk-flood has its own
DESK_READERS = f"desk-1={READER_1}|{READER_2},desk-2={READER_1}|{READER_2},desk-flood={READER_3}"
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"  # as `cccd serve` logs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """The settings every test server starts from, then the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCCD_")}
    env.update(
        {
            "CCCD_DATA_DIR": str(data_dir),
            "CCCD_PORT": str(port),
            "CCCD_API_KEYS": ",".join(f"{d}={k}" for d, k in KEYS.items()),
            "CCCD_DESK_READERS": DESK_READERS,
            "CCCD_CARD_WAIT_SECONDS": "3",
            "CCCD_RESUME_WAIT_SECONDS": "2",
            "CCCD_RATE_LIMIT": "600",
            "CCCD_RATE_LIMIT_BURST": "100",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


class Server(Protocol):
    """What a test sees of a running service, in process or not."""

    url: str
    data_dir: Path
    env: dict[str, str]

    def client(self, desk: str | None = "desk-1", key: str | None = None) -> httpx.Client: ...

    def log_text(self) -> str: ...

    def stop(self) -> None: ...


def _auth(desk: str | None, key: str | None) -> dict[str, str]:
    if desk is None and key is None:
        return {}
    return {"Authorization": f"Bearer {key or KEYS[desk or 'desk-1']}"}


# -- in process ---------------------------------------------------------------------------------


ACCESS_LOG = logging.getLogger("uvicorn.access")
ERROR_LOG = logging.getLogger("uvicorn.error")
PEER = ("127.0.0.1", 50000)


class _PortalTransport(httpx.BaseTransport):
    """A synchronous httpx transport onto an ASGI app running on a portal's event loop: each
    request goes through ``httpx.ASGITransport`` there, from the peer ``127.0.0.1``, and its
    whole answer is read before it is handed back (so no endless event stream). Each answer
    is logged as uvicorn's access log writes it, so a test of what reaches the log sees the
    request lines (with their paths and query strings) as a real server's log holds them."""

    def __init__(self, app: Any, portal: BlockingPortal) -> None:
        self._asgi = httpx.ASGITransport(app=app, client=PEER)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # a sync body, read here; the loop then sees bytes
        status, headers, body = self._portal.call(self._send, request)
        query = request.url.query.decode("ascii")
        path = unquote(request.url.path) + (f"?{query}" if query else "")
        ACCESS_LOG.info('%s:%d - "%s %s HTTP/1.1" %d', *PEER, request.method, path, status)
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))

    async def _send(self, request: httpx.Request) -> tuple[int, httpx.Headers, bytes]:
        try:
            response = await self._asgi.handle_async_request(request)
        except Exception:  # as uvicorn does: logged, and a bare 500
            ERROR_LOG.exception("Exception in ASGI application")
            return 500, httpx.Headers({"content-type": "text/plain"}), b"Internal Server Error"
        body = b"".join([part async for part in response.stream])  # type: ignore[union-attr]
        return response.status_code, response.headers, body


@dataclass
class AppServer:
    """The service built in this process (``start_app``)."""

    app: FastAPI
    url: str
    data_dir: Path
    env: dict[str, str]
    log_path: Path
    _stack: contextlib.ExitStack
    _transport: _PortalTransport
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def ctx(self) -> Context:
        """The running app's shared state (what the routes see)."""
        ctx: Context = self.app.state.ctx
        return ctx

    def client(
        self, desk: str | None = "desk-1", key: str | None = None, timeout: float = 30
    ) -> httpx.Client:
        made = httpx.Client(
            base_url=self.url, headers=_auth(desk, key), timeout=timeout, transport=self._transport
        )
        self._clients.append(made)
        return made

    def log_text(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def stop(self) -> None:
        for made in self._clients:
            made.close()
        self._stack.close()


def start_app(
    tmp: Path,
    *,
    store: Any = None,
    registry: Any = None,
    trust: Any = None,
    bhyt_transport: httpx.AsyncBaseTransport | None = None,
    **extra_env: str,
) -> AppServer:
    """``cccd serve --simulated``'s app in process, from the same settings as
    ``start_server``'s, its lifespan started (``stop_server`` ends it). ``store``,
    ``registry``, ``trust`` and ``bhyt_transport`` go to ``create_app`` as they are."""
    env = service_env(tmp, 8080, **extra_env)
    settings = Settings.load(environ=env, simulated=True).with_demo_key()
    return run_app(
        settings,
        env=env,
        store=store,
        registry=registry,
        trust=trust,
        bhyt_transport=bhyt_transport,
    )


def run_app(
    settings: Settings,
    *,
    env: dict[str, str] | None = None,
    store: Any = None,
    registry: Any = None,
    trust: Any = None,
    bhyt_transport: httpx.AsyncBaseTransport | None = None,
) -> AppServer:
    """``create_app(settings, ...)`` running in process. ``env``: what the CLI commands are
    run with against its data (default: ``CCCD_DATA_DIR`` alone)."""
    data_dir = settings.data_dir
    log_path = data_dir / "server.log"
    with contextlib.ExitStack() as stack:
        stack.enter_context(_log_to(log_path))
        app = create_app(
            settings, store=store, registry=registry, trust=trust, bhyt_transport=bhyt_transport
        )
        portal = stack.enter_context(start_blocking_portal("asyncio"))
        stack.enter_context(portal.wrap_async_context_manager(_lifespan(app)))
        server = AppServer(
            app=app,
            url=f"http://127.0.0.1:{settings.port}",
            data_dir=data_dir,
            env=env if env is not None else {"CCCD_DATA_DIR": str(data_dir)},
            log_path=log_path,
            _stack=stack.pop_all(),
            _transport=_PortalTransport(app, portal),
        )
    return server


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The app's startup and shutdown by the ASGI lifespan protocol, as uvicorn runs them
    (through every middleware). Requests go to the app itself, not to the manager's
    ``.app``: that hands every request the one lifespan-state dict, where uvicorn gives each
    its own copy (and this app's lifespan keeps no state there)."""
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        yield


# The project's loggers and uvicorn's, at INFO while any app runs in process (as `cccd serve`
# logs them); the root logger's level, which every other test sees, is left alone.
LOGGED = ("service", "reader", "verify", "fixtures", "uvicorn")
_running_apps: list[Path] = []
_levels: dict[str, int] = {}


@contextlib.contextmanager
def _log_to(path: Path) -> Iterator[None]:
    """The service's log records at INFO into ``path`` while the app runs, as `cccd serve`
    writes them to its stderr."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.setLevel(logging.INFO)
    if not _running_apps:
        for name in LOGGED:
            _levels[name] = logging.getLogger(name).level
            logging.getLogger(name).setLevel(logging.INFO)
    _running_apps.append(path)
    logging.getLogger().addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
        _running_apps.remove(path)
        if not _running_apps:
            for name, level in _levels.items():
                logging.getLogger(name).setLevel(level)


# -- a real process on a port -------------------------------------------------------------------


@dataclass
class LiveServer:
    """``cccd serve --simulated`` in its own process (``start_server``)."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    data_dir: Path
    env: dict[str, str]
    log_file: Any = None

    def client(self, desk: str | None = "desk-1", key: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=_auth(desk, key), timeout=30)

    def log_text(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.log_file.close()


def start_server(tmp: Path, **extra_env: str) -> LiveServer:
    port = free_port()
    env = service_env(tmp, port, **extra_env)
    log_path = tmp / "server.log"
    out = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli.main", "serve", "--simulated"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out.close()
            raise RuntimeError(f"server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return LiveServer(
                    url=url, process=process, log_path=log_path, data_dir=tmp, env=env, log_file=out
                )
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    process.wait()
    out.close()
    raise RuntimeError("server did not start in 60 s")


def stop_server(server: Server) -> None:
    server.stop()


# -- what the tests do with either ----------------------------------------------------------


def healthz(server: Server) -> dict[str, Any]:
    """``/healthz``, asked with no key."""
    with server.client(desk=None) as anonymous:
        answer: dict[str, Any] = anonymous.get("/healthz").json()
    return answer


def put_card(client: httpx.Client, reader: str, id_number: str, *faults: str) -> None:
    response = client.put(
        f"/api/v1/demo/readers/{reader}/card", json={"id_number": id_number, "faults": list(faults)}
    )
    assert response.status_code == 200, response.text


def scan(client: httpx.Client, reader: str, id_number: str, **extra: object) -> str:
    response = client.post(
        "/api/v1/scans", json={"reader": reader, "id_number": id_number, **extra}
    )
    assert response.status_code == 202, response.text
    assert response.headers["location"].endswith(response.json()["id"])
    return str(response.json()["id"])


def finished(client: httpx.Client, scan_id: str, timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/scans/{scan_id}", params={"wait": 10}).json()
        if body["state"] in ("done", "failed"):
            return dict(body)
    raise AssertionError("scan did not finish")


def audit_rows(server: Server) -> list[dict[str, str]]:
    """The server's whole audit log, as ``cccd audit export`` writes it."""
    import csv
    import io

    export = server.data_dir / "audit-all.csv"
    subprocess.run(
        [sys.executable, "-m", "service.cli.main", "audit", "export", "--output", str(export)],
        cwd=ROOT,
        env=server.env,
        check=True,
        capture_output=True,
    )
    return list(csv.DictReader(io.StringIO(export.read_text("utf-8"))))
