"""Every malformed gateway answer, from a real misbehaving HTTP server on 127.0.0.1, through
the desk service (uvicorn on 127.0.0.1): the insurance answer is ``unavailable`` or
``config_error`` with a Vietnamese clerk message -- never a 500 --, the gateway is called once
(a second time only after a token refresh on 401), and the identity is still served."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.service.insurance_app import desk_service, headers, save_read
from tests.service.misbehaving_gateway import (
    GOOD_CHECK,
    HANG,
    STREAM_FOREVER,
    MisbehavingGateway,
    http,
    misbehaving_gateway,
)

PERSON = "017072769692"
TOKEN = "/api/token/take"
CHECK = "/api/egw/KQNhanLichSuKCB2024"
HISTORY = "/api/egw/Lskcb2025"
PAGE = "<!DOCTYPE html><html><body>Hệ thống đang bảo trì</body></html>".encode()

MALFORMED: dict[str, tuple[bytes, str]] = {
    "html_page": (http(200, PAGE, content_type="text/html; charset=utf-8"), "unavailable"),
    "html_502": (http(502, PAGE, content_type="text/html"), "unavailable"),
    "json_array": (http(200, b'[{"maKetQua":"000"}]'), "unavailable"),
    "json_string": (http(200, b'"000"'), "unavailable"),
    "json_null": (http(200, b"null"), "unavailable"),
    "deeply_nested": (http(200, b"[" * 100_000 + b"]" * 100_000), "unavailable"),
    "redirect": (
        http(302, content_type=None, headers={"Location": "https://sso.example/login?t=SECRET"}),
        "config_error",
    ),
    "empty_404": (http(404, content_type=None), "config_error"),
    "empty_200": (http(200), "unavailable"),
    "text_plain": (http(200, GOOD_CHECK, content_type="text/plain"), "unavailable"),
    "xml": (http(200, b"<Error>denied</Error>", content_type="application/xml"), "unavailable"),
    "no_content_type": (http(200, GOOD_CHECK, content_type=None), "unavailable"),
    "truncated_json": (http(200, GOOD_CHECK[:40]), "unavailable"),
    "body_shorter_than_length": (
        http(200, GOOD_CHECK[:40], length=len(GOOD_CHECK)),
        "unavailable",
    ),
    "absurd_length": (http(200, b"{}", length=10**12), "unavailable"),
    "endless_stream": (STREAM_FOREVER, "unavailable"),
    "not_utf8": (http(200, b'{"maKetQua":"\xff\xfe"}'), "unavailable"),
    "garbage": (b"this is not HTTP\r\n\r\n", "unavailable"),
    "rate_limited": (http(429, b"{}", headers={"Retry-After": "120"}), "unavailable"),
    "server_error": (http(500, b'{"message":"An error has occurred."}'), "unavailable"),
    "bad_request": (http(400, b'{"message":"bad"}'), "config_error"),
    "hang": (HANG, "unavailable"),
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, MisbehavingGateway]]:
    with (
        misbehaving_gateway() as gateway,
        desk_service(
            tmp_path_factory.mktemp("misbehaving"),
            bhxh_url=gateway.url,
            bhxh_timeout_seconds=2.0,
            bhxh_token_timeout_seconds=2.0,
            bhxh_connect_timeout_seconds=2.0,
        ) as (client, store),
    ):
        save_read(store, PERSON)
        yield client, gateway


def ask(client: Any) -> Any:
    return client.get(f"/api/v1/citizens/{PERSON}/insurance?refresh=true", headers=headers())


def assert_served(client: Any, answer: Any, expected: str) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["status"] == expected, body["meaning"]
    assert body["usable_for_checkin"] is False
    assert body["message_vi"] and any(ch in body["message_vi"] for ch in "ấạảđưồờộ")
    assert "SECRET" not in answer.text and "t0k3n" not in answer.text
    identity = client.get(f"/api/v1/citizens/{PERSON}", headers=headers())
    assert identity.status_code == 200 and identity.json()["identity"]["id_number"] == PERSON
    return body


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_card_answer(service: tuple[Any, MisbehavingGateway], case: str) -> None:
    client, gateway = service
    raw, expected = MALFORMED[case]
    gateway.script = {CHECK: raw}
    gateway.calls.clear()
    body = assert_served(client, ask(client), expected)
    assert gateway.calls.count(CHECK) == 1  # never sent twice
    assert HISTORY not in gateway.calls
    if case == "rate_limited":
        assert body["retry_after"] == 120


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_token_answer(service: tuple[Any, MisbehavingGateway], case: str) -> None:
    client, gateway = service
    raw, expected = MALFORMED[case]
    gateway.script = {TOKEN: raw}
    gateway.calls.clear()
    client.app.state.ctx.bhyt._token = None  # force a token call
    assert_served(client, ask(client), expected)
    assert gateway.calls == [TOKEN]  # no card call without a token, no second token call


def test_token_refused_is_an_account_error(service: tuple[Any, MisbehavingGateway]) -> None:
    client, gateway = service
    gateway.script = {TOKEN: http(200, b'{"maKetQua":"401","APIKey":null}')}
    client.app.state.ctx.bhyt._token = None
    body = assert_served(client, ask(client), "auth_error")
    assert "đăng nhập" in body["message_vi"]


@pytest.mark.parametrize("status", [401, 403])
def test_lookup_refused_after_login(service: tuple[Any, MisbehavingGateway], status: int) -> None:
    client, gateway = service
    gateway.script = {CHECK: http(status, b'{"Message":"Authorization has been denied"}')}
    gateway.calls.clear()
    body = assert_served(client, ask(client), "config_error")
    assert "quyền tra cứu" in body["message_vi"] and str(status) in body["message_vi"]
    if status == 401:  # one token refresh, one more call, then the configuration error
        assert gateway.calls[-3:] == [CHECK, TOKEN, CHECK] and gateway.calls.count(CHECK) == 2
    else:
        assert gateway.calls.count(CHECK) == 1 and gateway.calls[-1] == CHECK


HISTORY_FAILURES = {
    **{case: MALFORMED[case][0] for case in ("html_502", "json_array", "hang", "redirect")},
    "garbage": MALFORMED["garbage"][0],
    "not_000": http(200, '{"maKetQua":"500","ghiChu":"Lỗi hệ thống"}'.encode()),
    "history_not_a_list": http(200, b'{"maKetQua":"000","dsLichSuKCB2025":"none"}'),
    "json_body_refused": http(415, b'{"message":"Unsupported Media Type"}'),
}


@pytest.mark.parametrize("case", sorted(HISTORY_FAILURES))
def test_malformed_history_keeps_the_card_answer(
    service: tuple[Any, MisbehavingGateway], case: str
) -> None:
    client, gateway = service
    gateway.script = {HISTORY: HISTORY_FAILURES[case]}
    answer = ask(client)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["code"], body["history_status"]) in (
        ("usable", "000", "failed"),
        ("usable", "000", "skipped"),  # the hang used up the check's time
    )


def test_typed_check_against_a_broken_gateway(service: tuple[Any, MisbehavingGateway]) -> None:
    client, gateway = service
    gateway.script = {CHECK: MALFORMED["html_page"][0]}
    started = client.post(
        "/api/v1/insurance/checks",
        json={"card_code": "0123456789", "full_name": "Nguyễn Minh An", "date_of_birth": "2023"},
        headers=headers(),
    )
    assert started.status_code == 202
    done = client.get(f"{started.json()['href']}?wait=10", headers=headers()).json()
    assert done["state"] == "done" and done["result"]["status"] == "unavailable"


def test_working_gateway_answers(service: tuple[Any, MisbehavingGateway]) -> None:
    """The same server, behaving: the client's side of the exchange is right."""
    client, gateway = service
    gateway.script = {}
    body = ask(client).json()
    assert (body["status"], body["code"], body["history_status"]) == ("usable", "000", "empty")
