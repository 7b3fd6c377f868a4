"""The benchmark's reference: a FastAPI hello-world with the desk service's URL shapes, served
under exactly the service's uvicorn settings and logging (``cmd_serve.uvicorn_config``), so
``bench.service_load`` can drive both with one client loop and compare them side by side.

Every route answers a small constant at once: no key check, no database, no card. A "scan" is
done when it is created.

Run::

    .venv/bin/python -m bench.hello_app --port 8090
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import StreamingResponse

_ids = itertools.count(1)


def create_hello_app() -> FastAPI:
    app = FastAPI(title="hello-world")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.put("/api/v1/demo/readers/{reader}/card")
    async def put_card(reader: str) -> dict[str, Any]:
        return {"name": reader, "card_present": True}

    @app.post("/api/v1/scans", status_code=202)
    async def create_scan() -> dict[str, Any]:
        return {"id": f"s{next(_ids)}", "state": "done"}

    @app.get("/api/v1/scans/{scan_id}")
    async def get_scan(scan_id: str) -> dict[str, Any]:
        return {"id": scan_id, "state": "done", "result": {"timings": {"read_seconds": 0.0}}}

    @app.get("/api/v1/scans")
    async def list_scans() -> dict[str, Any]:
        return {"scans": []}

    @app.get("/api/v1/citizens/{id_number}")
    async def citizen(id_number: str) -> dict[str, Any]:
        return {"identity": {"id_number": id_number}}

    @app.get("/api/v1/citizens/{id_number}/photo")
    async def photo(id_number: str) -> Response:
        return Response(b"hello", media_type="image/jpeg")

    @app.get("/api/v1/citizens/{id_number}/insurance")
    async def insurance(id_number: str) -> dict[str, Any]:
        return {"id_number": id_number, "status": "ok"}

    @app.get("/api/v1/events")
    async def events() -> StreamingResponse:
        async def stream() -> AsyncIterator[str]:
            yield "retry: 2000\n\n"
            while True:
                await asyncio.sleep(15)
                yield ": keep-alive\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    return app


def main() -> int:
    import uvicorn

    from service.cli.cmd_serve import setup_logging, uvicorn_config

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    setup_logging()
    uvicorn.Server(uvicorn_config(create_hello_app(), args.host, args.port)).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
