"""Property-based run of the running app's OpenAPI schema with schemathesis: no request,
however odd, makes the service answer 500 (bounded example count; /events streams forever and
is left out).

Operations are driven through hypothesis directly (schemathesis' strategies) rather than its
pytest plugin, which keeps the run independent of the plugin's pytest-version coupling. Each
case is prepared as schemathesis would send it over the network (a ``requests`` request:
method, URL, headers, cookies and the body's bytes) and sent to the app in process.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.service.conftest import KEYS, AppServer

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES_PER_OPERATION = 40


def _send(client: Any, case: Any, base_url: str, headers: dict[str, str]) -> Any:
    """The case's request, byte for byte as ``case.call`` would put it on the wire."""
    import requests

    prepared = requests.Request(**case.as_transport_kwargs(base_url, headers)).prepare()
    return client.request(
        prepared.method, prepared.url, headers=dict(prepared.headers), content=prepared.body
    )


def test_no_server_errors_anywhere(app: AppServer) -> None:
    headers = {"Authorization": f"Bearer {KEYS['desk-2']}"}
    with app.client(desk="desk-2") as desk:
        schema = schemathesis.openapi.from_dict(desk.get("/openapi.json").json())
    schema = schema.exclude(path="/api/v1/events")
    checked = []
    failures: list[str] = []
    client = app.client(desk=None, timeout=20)
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            response = _send(client, case, app.url, headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
            elif response.status_code >= 400:
                kind = response.headers.get("content-type", "")
                kind = kind[0] if isinstance(kind, list) else kind
                assert kind.startswith("application/problem+json"), (case.path, kind)

        run()
        assert not failures, failures
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /api/v1/scans" in checked and "GET /api/v1/citizens/{id_number}" in checked
