"""Desk-service fixtures: ``app``, the service built in this process, and ``live``, a real
``cccd serve --simulated`` process on a free port for what needs a socket (the two ways are
in ``tests.service.harness``; its names are importable from here too)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.service.harness import (
    DESK_READERS,
    KEYS,
    READER_1,
    READER_2,
    READER_3,
    ROOT,
    AppServer,
    LiveServer,
    Server,
    audit_rows,
    finished,
    free_port,
    healthz,
    put_card,
    scan,
    start_app,
    start_server,
    stop_server,
)

__all__ = [
    "DESK_READERS",
    "KEYS",
    "READER_1",
    "READER_2",
    "READER_3",
    "ROOT",
    "AppServer",
    "LiveServer",
    "Server",
    "audit_rows",
    "finished",
    "free_port",
    "healthz",
    "put_card",
    "scan",
    "start_app",
    "start_server",
    "stop_server",
]


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The service in this process, one for the whole run (like ``live``)."""
    server = start_app(tmp_path_factory.mktemp("app"))
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real server process, for event streams and what else needs a socket."""
    server = start_server(tmp_path_factory.mktemp("live"))
    yield server
    stop_server(server)
