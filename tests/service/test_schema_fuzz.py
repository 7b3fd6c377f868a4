"""Property-based run of the live OpenAPI schema with schemathesis: no request, however odd,
makes the service answer 500 (bounded example count; /events streams forever and is left out).

Operations are driven through hypothesis directly (schemathesis' strategies) rather than its
pytest plugin, which keeps the run independent of the plugin's pytest-version coupling.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.service.conftest import KEYS, LiveServer

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES_PER_OPERATION = 40


def test_no_server_errors_anywhere(live: LiveServer) -> None:
    headers = {"Authorization": f"Bearer {KEYS['desk-2']}"}
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json", headers=headers)
    schema = schema.exclude(path="/api/v1/events")
    checked = []
    failures: list[str] = []
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
            response = case.call(base_url=live.url, headers=headers, timeout=20)
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
