"""``cccd serve``: run the desk service (docs/operations.md). ``--simulated`` starts it with
simulated readers, fictional cards and the local BHXH gateway stand-in, and prints a demo desk
key when none is configured."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "serve",
        help="run the desk HTTP service",
        description="Run the desk service. Settings come from CCCD_* environment variables "
        "and an optional TOML file; see docs/operations.md.",
    )
    parser.add_argument(
        "--simulated",
        action="store_true",
        default=None,
        help="simulated readers with fictional cards and a local BHXH stand-in",
    )
    parser.add_argument("--host", help="bind address (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, help="port (default 8080)")
    parser.add_argument("--config", help="TOML config file (or CCCD_CONFIG)")
    parser.add_argument(
        "--trust",
        metavar="DIR",
        help="CSCA trust-store directory (or CCCD_TRUST_STORE; default: the one `cccd trust` "
        "manages, when it exists)",
    )
    parser.set_defaults(func=serve)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service import create_app
    from service.redact import install
    from service.settings import Settings, SettingsError
    from service.storage.private_files import restrict_umask

    try:
        settings = Settings.load(
            config_file=args.config,
            host=args.host,
            port=args.port,
            simulated=args.simulated,
            trust_store=Path(args.trust) if args.trust else None,
        )
    except SettingsError as exc:
        print(f"cccd serve: {exc}", file=sys.stderr)
        return 2
    if settings.simulated:
        settings = settings.with_demo_key()
    if not settings.desks:
        print(
            "cccd serve: no desk keys: set CCCD_API_KEYS=desk-1=SECRET,... or [desks.NAME] "
            "in the config file (see docs/operations.md; `cccd key new` makes a key)",
            file=sys.stderr,
        )
        return 2
    if not settings.loopback_only:
        if not settings.tls and not settings.allow_insecure_network:
            print(
                f"cccd serve: refusing to listen on {settings.host} without TLS: desk keys and "
                "personal data would cross the network in clear. Set CCCD_TLS_CERT and "
                "CCCD_TLS_KEY, or bind to 127.0.0.1 (CCCD_ALLOW_INSECURE_NETWORK=true "
                "overrides, not advised)",
                file=sys.stderr,
            )
            return 2
        print(
            f"cccd serve: WARNING: listening on {settings.host}, reachable from the network"
            + ("" if settings.tls else " WITHOUT TLS"),
            file=sys.stderr,
        )
    if settings.demo_key:
        print(
            f"Demo desk key (desk 'demo'): {settings.demo_key}\n"
            f"  curl -H 'Authorization: Bearer {settings.demo_key}' "
            f"http://{_url_host(settings.host)}:{settings.port}/api/v1/readers",
            flush=True,
        )
    setup_logging()
    install()
    restrict_umask()  # the database, its WAL and every file the service writes: 0600
    try:
        app = create_app(settings)
    except SettingsError as exc:
        print(f"cccd serve: {exc}", file=sys.stderr)
        return 2
    scheme = "https" if settings.tls else "http"
    print(f"Desk page (bàn tiếp đón): {desk_url(settings.host, settings.port, scheme)}", flush=True)
    config = uvicorn_config(
        app,
        settings.host,
        settings.port,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        # /api/v1/ws: the websockets library through uvicorn's sans-I/O protocol (fails
        # loudly at start when it is missing, instead of refusing every upgrade)
        ws="websockets-sansio",
        ws_max_size=64 * 1024,  # a page sends only its hello message
    )
    server = uvicorn.Server(config)
    server.run()
    return 0


def setup_logging() -> None:
    """INFO to stderr unless the embedding program configured logging already."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    elif logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)


def uvicorn_config(app: Any, host: str, port: int, **extra: Any) -> Any:
    """The one place the server's uvicorn settings live (the benchmark's reference app runs
    under exactly these)."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        timeout_graceful_shutdown=3,
        server_header=False,
        proxy_headers=False,  # X-Forwarded-For is ours to trust or not (CCCD_TRUSTED_PROXIES)
        **extra,  # TLS and the WebSocket settings the service adds
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def desk_url(host: str, port: int, scheme: str = "http") -> str:
    """Where a browser on this machine opens the desk page (a wildcard bind is reached on
    loopback)."""
    local = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"{scheme}://{_url_host(local)}:{port}/desk"
