"""What only an app built in process can be handed (``service.create_app``'s ``trust=`` and
``bhyt_transport=``): a trust store object with nothing in it, and a BHXH gateway that cannot
be reached or answers with a server error. Each answer is checked as a desk sees it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.harness import (
    READER_1,
    finished,
    healthz,
    put_card,
    scan,
    start_app,
    stop_server,
)
from verify.trust import TrustStore

PERSON = "017072769692"  # a 000 card on the BHXH stand-in


def _read(server: Any, person: str = PERSON) -> dict[str, Any]:
    with server.client() as desk:
        put_card(desk, READER_1, person)
        body = finished(desk, scan(desk, READER_1, person))
    assert body["state"] == "done", body
    result = body["result"]
    assert isinstance(result, dict)
    return result


def test_an_empty_trust_store_object_serves_reads_as_issuer_not_checked(tmp_path: Path) -> None:
    empty = TrustStore()
    server = start_app(tmp_path, trust=empty, CCCD_SIMULATED_LINK="0")
    try:
        assert server.ctx.trust is empty  # the object given, not one loaded from disk
        assert healthz(server)["trust"] == {"cscas": 0, "vietnamese_cscas": 0}
        result = _read(server)
        assert (result["acceptance"], result["acceptance_reason"]) == (
            "issuer_not_checked",
            "no_trust_store",
        )
        assert result["accepted"] is True and result["genuine"] is False
        assert "chưa kiểm tra cơ quan cấp" in result["clerk_message"]
    finally:
        stop_server(server)


class FailingGateway(httpx.AsyncBaseTransport):
    """The BHXH gateway as the desk service's client meets it on a bad day."""

    def __init__(self, how: str) -> None:
        self.how = how
        self.requests: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        if self.how == "unreachable":
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(503, text="Service Unavailable", request=request)


@pytest.mark.parametrize("how", ["unreachable", "503"])
def test_a_failing_gateway_leaves_insurance_unavailable_and_the_identity_served(
    tmp_path: Path, how: str
) -> None:
    gateway = FailingGateway(how)
    server = start_app(tmp_path, bhyt_transport=gateway, CCCD_SIMULATED_LINK="0")
    try:
        assert _read(server)["accepted"] is True
        with server.client() as desk:
            insurance = desk.get(f"/api/v1/citizens/{PERSON}/insurance")
            assert insurance.status_code == 200
            body = insurance.json()
            assert body["status"] == "unavailable" and body["usable_for_checkin"] is False
            assert "BHXH" in body["message_vi"]
            assert desk.get(f"/api/v1/citizens/{PERSON}").status_code == 200
            asked = len(gateway.requests)
            assert asked >= 1  # the answer came from this transport
            again = desk.get(f"/api/v1/citizens/{PERSON}/insurance").json()
            assert again["status"] == "unavailable" and again["cached"] is False
            assert len(gateway.requests) > asked  # an outage is never cached: asked again
    finally:
        stop_server(server)
