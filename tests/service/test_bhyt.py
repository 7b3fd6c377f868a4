"""The BHXH gateway client against the local stand-in (in-process over httpx.ASGITransport):
every result code in both body encodings, the maThe and birth-date forms, tokens (cache,
refresh, single flight), the no-retry etiquette, the visit history and the stand-in's own
latency, rate limit and fault switches."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from fixtures import bhxh_gateway as standin
from fixtures.citizens import citizen
from service.integrations.bhyt import (
    RESULT_CODES,
    BhytClient,
    birth_date_form,
    card_code_form,
    compare,
)
from service.integrations.bhyt import codes as messages
from service.integrations.bhyt.client import _lifetime_seconds
from service.integrations.bhyt.officers import make_officer

SPEC_CODES = {
    "000",
    "001",
    "002",
    "003",
    "004",
    "010",
    "050",
    "051",
    "052",
    "053",
    "054",
    "055",
    "060",
    "061",
    "070",
    "100",
    "101",
    "110",
    "120",
    "121",
    "122",
    "123",
    "124",
    "130",
    "205",
    "401",
    "500",
}
USABLE = {"000", "001", "002", "003", "004"}
CHILD_NUMBER = "0123456789"  # the fictional child under 6 with only a BHYT number


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(
    gateway: Any = None,
    *,
    clock: Clock | None = None,
    officer: tuple[str, str] = (standin.DEMO_OFFICER_NAME, standin.DEMO_OFFICER_ID),
    transport: httpx.AsyncBaseTransport | None = None,
    username: str = standin.DEMO_USERNAME,
    password: str = standin.DEMO_PASSWORD,
    **options: Any,
) -> tuple[BhytClient, Any]:
    app = gateway or standin.create_gateway_app(clock=clock or Clock())
    client = BhytClient(
        base_url="http://standin.test",
        username=username,
        password=password,
        officer_name=officer[0],
        officer_id=officer[1],
        transport=transport or httpx.ASGITransport(app=app),
        clock=clock or Clock(),
        **options,
    )
    return client, app


def state(app: Any) -> standin.GatewayState:
    gateway: standin.GatewayState = app.state.gateway
    return gateway


def dob(id_number: str) -> str:
    return citizen(id_number).date_of_birth.strftime("%d/%m/%Y")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def check_citizen(client: BhytClient, id_number: str, *, with_sex: bool = False) -> Any:
    """The desk's lookup for a fictional citizen, keyed on the CCCD number."""
    person = citizen(id_number)
    return await client.check(
        card_code=person.id_number,
        full_name=person.full_name,
        date_of_birth=dob(person.id_number),
        **({"sex": person.sex} if with_sex else {}),
    )


async def check_card(client: BhytClient, card: dict[str, Any]) -> Any:
    """A card of the data file: by CCCD number for a citizen, by BHYT number for the child."""
    if card["id_number"] is None:
        return await client.check(
            card_code=card["maSoBHXH"], full_name=card["hoTen"], date_of_birth=card["ngaySinh"]
        )
    return await check_citizen(client, card["id_number"], with_sex=True)


def test_result_table_covers_the_spec() -> None:
    assert set(RESULT_CODES) == SPEC_CODES
    for code, result in RESULT_CODES.items():
        assert result.message_vi and result.meaning
        assert result.usable_for_checkin == (code in USABLE)


def test_data_file_covers_every_code() -> None:
    assert {card["scenario"] for card in standin.load_cards()} == SPEC_CODES


@pytest.mark.parametrize("encoding", ["form", "json"])
@pytest.mark.parametrize(
    "card",
    standin.load_cards(),
    ids=lambda c: f"{c['scenario']}-{(c.get('maSoBHXH') or c['id_number'])[-4:]}",
)
def test_every_standin_code_maps(card: dict[str, Any], encoding: str) -> None:
    async def go() -> tuple[Any, Any, Any]:
        client, app = make(encoding=encoding)
        try:
            first = await check_card(client, card)
            again = await check_card(client, card)  # the clerk's "Tra cứu lại"
            return first, again, app
        finally:
            await client.aclose()

    check, again, app = run(go())
    gateway = state(app)
    code = card["scenario"]
    # the token and card calls in the configured encoding; the history is form-only
    assert gateway.encodings[0] == encoding
    assert gateway.encodings[1] == encoding
    if code == "100":  # transient: the gateway fails once; nothing retries on its own
        assert (check.code, check.status, check.attempts) == ("100", "retry", 1)
        assert (again.code, again.status) == ("000", "usable")
        return
    assert check.code == code
    expected = RESULT_CODES[code]
    assert check.status == expected.status
    assert check.usable_for_checkin is expected.usable_for_checkin
    assert check.message_vi == expected.message_vi
    if code == "401":  # one refresh, one more call, then the account's configuration
        assert check.attempts == 2 and gateway.check_requests == 4  # 2 checks, 2 calls each
    else:
        assert check.attempts == 1
    if code == "003":  # answered with the new card, never the expired one
        assert check.checkin_card["card_code"] == card["maTheMoi"] != card["maThe"]
        assert check.checkin_card["valid_to"] == card["gtTheDenMoi"]
    if code == "004":
        assert check.new_card["card_code"] == card["maTheMoi"]
        assert check.checkin_card["card_code"] == card["maThe"]
    if code in ("000", "001", "002", "010"):
        assert check.card["card_code"] == card["maThe"]
    if expected.usable_for_checkin:
        assert check.history_status in ("ok", "empty")
        assert check.visits == len(card.get("dsLichSuKCB2025") or [])
    else:
        assert check.history_status == "skipped" and check.checkin_card is None


def test_computed_codes_from_the_request() -> None:
    person = citizen("001185483324")
    card = next(c for c in standin.load_cards() if c["id_number"] == person.id_number)

    async def go() -> dict[str, str | None]:
        client, _ = make()
        bad_officer, _ = make(officer=("Người Lạ", "001190000009"))
        wrong_officer_name, _ = make(officer=("Người Lạ", standin.DEMO_OFFICER_ID))
        code = card["maThe"]
        born = dob(person.id_number)
        name = person.full_name

        async def ask(c: BhytClient = client, **kw: str) -> str | None:
            args = {"card_code": code, "full_name": name, "date_of_birth": born, **kw}
            return (await c.check(**args)).code

        try:
            return {
                "name": await ask(full_name="Trần Văn Bình"),
                "name_first": await ask(full_name="Nguyễn Văn Hùng"),
                "dob": await ask(date_of_birth="01/01/1990"),
                "year_only": await ask(date_of_birth="1985"),
                "month_year": await ask(date_of_birth="03/1985"),
                "wrong_month": await ask(date_of_birth="04/1985"),
                "province": await ask(card_code=code[:3] + "99" + code[5:]),
                "benefit": await ask(
                    card_code=code[:2] + ("5" if code[2] != "5" else "4") + code[3:]
                ),
                "unknown": await ask(card_code="DN4790000000001"),
                "no_card": await ask(card_code="9999999999"),
                "officer": await ask(bad_officer),
                "officer_name": await ask(wrong_officer_name),
            }
        finally:
            for c in (client, bad_officer, wrong_officer_name):
                await c.aclose()

    codes = run(go())
    assert codes == {
        "name": "060",
        "name_first": "061",
        "dob": "070",
        "year_only": "000",
        "month_year": "000",
        "wrong_month": "070",
        "province": "052",
        "benefit": "053",
        "unknown": "051",
        "no_card": "050",
        "officer": "054",
        "officer_name": "055",
    }


def test_every_card_code_form_reaches_the_same_card() -> None:
    card = next(c for c in standin.load_cards() if c["id_number"] == "017072769692")
    forms = {
        "bhyt_number": card["maSoBHXH"],  # 10
        "cccd": card["id_number"],  # 12
        "card_code": card["maThe"],  # 15
        "long_code": card["maThe"] + "01",  # 17
        "typed_loosely": " " + card["maThe"][:5].lower() + " " + card["maThe"][5:],
    }

    async def go() -> dict[str, Any]:
        client, _ = make()
        try:
            out = {}
            for label, code in forms.items():
                check = await client.check(
                    card_code=code, full_name=card["hoTen"], date_of_birth=card["ngaySinh"]
                )
                out[label] = (check.code, check.card.get("card_code"))
            return out
        finally:
            await client.aclose()

    assert run(go()) == {label: ("000", card["maThe"]) for label in forms}


def test_bad_input_is_refused_before_any_call() -> None:
    async def go() -> tuple[list[Any], standin.GatewayState]:
        client, app = make()
        try:
            out = [
                await client.check(card_code="123", full_name="A B", date_of_birth="1990"),
                await client.check(
                    card_code="0123456789", full_name="A B", date_of_birth="31/02/1990"
                ),
                await client.check(card_code="0123456789", full_name=" ", date_of_birth="1990"),
            ]
            nobody, _ = make(app, officer=("", ""))
            out.append(
                await nobody.check(card_code="0123456789", full_name="A B", date_of_birth="1990")
            )
            await nobody.aclose()
            return out, state(app)
        finally:
            await client.aclose()

    checks, gateway = run(go())
    assert [c.status for c in checks] == ["input_error"] * 3 + ["config_error"]
    assert checks[3].message_vi == messages.NO_OFFICER_MESSAGE  # never an empty officer name
    assert gateway.token_requests == 0 and gateway.check_requests == 0


def test_birth_date_and_card_code_forms() -> None:
    assert birth_date_form("14/03/1985") == "14/03/1985"
    assert birth_date_form("14031985") == "14/03/1985"  # the QR code's form
    assert birth_date_form("1985-03-14") == "14/03/1985"
    assert birth_date_form("1985-03") == "03/1985"
    assert birth_date_form("03/1985") == "03/1985"
    assert birth_date_form("1985") == "1985"
    for bad in ("1985-13", "31/02/1985", "85", "14-03-1985", "1800", ""):
        with pytest.raises(ValueError):
            birth_date_form(bad)
    assert card_code_form("gd 401 0157106125") == "GD4010157106125"
    for good in ("0157106125", "001185483324", "GD4010157106125", "GD401015710612501"):
        assert card_code_form(good) == good
    for bad in ("GD6010157106125", "12345", "GD40101571061"):
        with pytest.raises(ValueError):
            card_code_form(bad)


def test_token_cached_then_renewed_on_expiry() -> None:
    clock = Clock()
    gateway = standin.create_gateway_app(clock=clock, token_seconds=600)
    person = citizen("017072769692")

    async def go() -> list[int]:
        client, _ = make(gateway, clock=clock)
        seen = []
        try:
            for advance in (0, 100, 600):
                clock.now += advance
                check = await check_citizen(client, person.id_number)
                assert check.code == "000"
                seen.append(client.tokens_taken)
        finally:
            await client.aclose()
        return seen

    # the token lives 600 s less a safety margin: reused at +100 s, taken again at +700 s
    assert run(go()) == [1, 1, 2]


def test_token_renewed_on_401_once_for_concurrent_checks() -> None:
    gateway = standin.create_gateway_app()
    person = citizen("017072769692")

    async def go() -> tuple[list[Any], int]:
        client, _ = make(gateway, history=False)
        try:
            await check_citizen(client, person.id_number)
            state(gateway).tokens.clear()  # the gateway forgets every token
            checks = await asyncio.gather(
                *(check_citizen(client, person.id_number) for _ in range(5))
            )
            return list(checks), client.tokens_taken
        finally:
            await client.aclose()

    checks, taken = run(go())
    assert [(c.code, c.attempts) for c in checks] == [("000", 2)] * 5
    assert taken == 2  # one refresh shared by the five, not five
    assert state(gateway).token_requests == 2


@pytest.mark.parametrize("expires_in", [3000, "3000", "epoch", "epoch_ms", "iso", "vn"])
def test_token_lifetime_forms(expires_in: Any) -> None:
    now = time.time()
    value = {
        "epoch": now + 3000,
        "epoch_ms": (now + 3000) * 1000,
        "iso": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3000)),
        "vn": time.strftime("%d/%m/%Y %H:%M:%S", time.gmtime(now + 3000)),
    }.get(expires_in, expires_in)
    assert 2990 <= _lifetime_seconds(value) <= 3001


def test_hung_token_call_five_concurrent_checks_answer_within_the_bounded_wait() -> None:
    gateway = standin.create_gateway_app()
    state(gateway).faults = {"token": "hang"}
    person = citizen("017072769692")

    async def go() -> tuple[list[Any], float, Any]:
        client, _ = make(gateway, token_timeout=1.0, timeout=30.0)
        try:
            started = time.monotonic()
            checks = await asyncio.gather(
                *(check_citizen(client, person.id_number) for _ in range(5))
            )
            elapsed = time.monotonic() - started
            state(gateway).faults = {}  # the gateway recovers: the next check takes a token
            after = await check_citizen(client, person.id_number)
            return list(checks), elapsed, after
        finally:
            await client.aclose()

    checks, elapsed, after = run(go())
    assert [c.status for c in checks] == ["unavailable"] * 5
    assert all("token" in c.meaning and c.attempts == 0 for c in checks)
    # all five share one token call and one bounded wait: not a chain of waits
    assert elapsed < 1.0 * 2.5, elapsed
    assert state(gateway).token_requests == 2  # the hung one, then the recovery's
    assert after.code == "000"


def test_no_second_call_on_any_failure_but_401() -> None:
    """Each failure is one card call: 100/101/500, HTTP 5xx, timeouts, malformed answers."""
    person = citizen("017072769692")
    outcomes: dict[str, tuple[str, int]] = {}
    for fault in ("html502", "hang", "truncated", "array", "empty"):
        gateway = standin.create_gateway_app()
        state(gateway).faults = {"check": fault}

        async def go(app: Any = gateway) -> Any:
            client, _ = make(app, timeout=1.0)
            try:
                return await check_citizen(client, person.id_number)
            finally:
                await client.aclose()

        check = run(go())
        outcomes[fault] = (check.status, state(gateway).check_requests)
    assert outcomes == {f: ("unavailable", 1) for f in outcomes}

    calls: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        raise httpx.ConnectError("refused", request=request)

    async def down() -> Any:
        client, _ = make(transport=httpx.MockTransport(refuse))
        try:
            return await check_citizen(client, person.id_number)
        finally:
            await client.aclose()

    check = run(down())
    assert check.status == "unavailable" and calls == ["/api/token/take"]
    assert "BHXH" in check.message_vi


def test_lookup_refused_after_login_is_a_configuration_error() -> None:
    person = citizen("017072769692")

    async def go(**kw: Any) -> tuple[Any, standin.GatewayState]:
        gateway = standin.create_gateway_app()
        if "fault" in kw:
            state(gateway).faults = {"check": kw.pop("fault")}
        client, _ = make(gateway, **kw)
        try:
            return await check_citizen(client, person.id_number), state(gateway)
        finally:
            await client.aclose()

    no_right, gateway = run(go(username=standin.NO_RIGHT_USERNAME))
    assert (no_right.status, no_right.attempts, gateway.check_requests) == ("config_error", 2, 2)
    assert "quyền tra cứu" in no_right.message_vi and "401" in no_right.meaning
    forbidden, gateway = run(go(fault="refuse403"))
    assert (forbidden.status, forbidden.attempts, gateway.check_requests) == ("config_error", 1, 1)
    assert "quyền tra cứu" in forbidden.message_vi
    wrong_password, gateway = run(go(password="not-the-password"))
    assert (wrong_password.status, gateway.check_requests) == ("auth_error", 0)
    assert wrong_password.message_vi == messages.LOGIN_REFUSED_MESSAGE


@pytest.mark.parametrize("endpoint", ["token", "check"])
@pytest.mark.parametrize("fault", sorted(standin.FAULTS))
def test_standin_faults_become_unavailable_or_config_error(endpoint: str, fault: str) -> None:
    gateway = standin.create_gateway_app()
    state(gateway).faults = {endpoint: fault}
    person = citizen("017072769692")

    async def go() -> Any:
        client, _ = make(gateway, timeout=1.0, token_timeout=1.0)
        try:
            return await check_citizen(client, person.id_number)
        finally:
            await client.aclose()

    check = run(go())
    expected = {
        "redirect": "config_error",
        "empty404": "config_error",
        "refuse403": "config_error" if endpoint == "check" else "auth_error",
        "refuse401": "config_error" if endpoint == "check" else "auth_error",
    }.get(fault, "unavailable")
    assert check.status == expected, check.meaning
    assert check.usable_for_checkin is False and check.message_vi


def test_history_is_additive() -> None:
    person = citizen("001185483324")  # a card with one visit

    async def go(fault: str | None) -> Any:
        gateway = standin.create_gateway_app()
        if fault:
            state(gateway).faults = {"history": fault}
        client, _ = make(gateway, timeout=2.0)
        try:
            return await check_citizen(client, person.id_number)
        finally:
            await client.aclose()

    ok = run(go(None))
    assert (ok.status, ok.history_status, ok.visits) == ("usable", "ok", 1)
    visit = ok.history[0]
    assert visit["status_text"] == "ra viện" and visit["reason_text"] == "đúng tuyến"
    assert "tenbenh" not in {k.lower() for k in visit} and "diagnosis" not in visit
    for fault in ("html502", "array", "hang", "redirect"):
        failed = run(go(fault))
        assert (failed.status, failed.code, failed.history_status) == ("usable", "000", "failed")
        assert failed.history == [] and failed.usable_for_checkin


def test_standin_history_takes_form_bodies_only() -> None:
    card = next(c for c in standin.load_cards() if c["id_number"] == "001185483324")
    fields = {
        "maThe": card["maThe"],
        "hoTen": card["hoTen"],
        "ngaySinh": card["ngaySinh"],
        "hoTenCb": standin.DEMO_OFFICER_NAME,
        "cccdCb": standin.DEMO_OFFICER_ID,
    }

    async def go() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        app = standin.create_gateway_app()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://s"
        ) as http:
            login = {"username": standin.DEMO_USERNAME, "password": _md5(standin.DEMO_PASSWORD)}
            token = (await http.post("/api/token/take", data=login)).json()["APIKey"]
            params = {"token": token["access_token"], "id_token": token["id_token"]}
            form = (await http.post("/api/egw/Lskcb2025", params=params, data=fields)).json()
            as_json = (await http.post("/api/egw/Lskcb2025", params=params, json=fields)).json()
            card_check = (
                await http.post("/api/egw/KQNhanLichSuKCB2024", params=params, json=fields)
            ).json()
            return form, as_json, card_check

    form, as_json, card_check = run(go())
    assert form["maKetQua"] == "000" and len(form["dsLichSuKCB2025"]) == 1
    assert as_json["maKetQua"] == "205"  # a JSON body is refused, as on the real gateway
    assert card_check["maKetQua"] == "000" and card_check["dsLichSuKCB2018"] is None


def _md5(text: str) -> str:
    import hashlib

    return hashlib.md5(text.encode()).hexdigest()


def test_standin_rate_limit_refuses_and_the_client_says_so() -> None:
    gateway = standin.create_gateway_app(rate_limit=(3, 60.0))
    person = citizen("017072769692")

    async def go() -> list[Any]:
        client, _ = make(gateway, history=False)
        try:
            return [await check_citizen(client, person.id_number) for _ in range(4)]
        finally:
            await client.aclose()

    checks = run(go())
    assert [c.status for c in checks] == ["usable"] * 3 + ["unavailable"]
    assert checks[3].message_vi == messages.RATE_LIMITED_MESSAGE
    assert checks[3].retry_after is not None and 1 <= checks[3].retry_after <= 60


def test_standin_latency_option() -> None:
    gateway = standin.create_gateway_app(latency=(0.3, 0.3))
    person = citizen("017072769692")

    async def go() -> tuple[Any, float]:
        client, _ = make(gateway, history=False)
        try:
            started = time.monotonic()
            check = await check_citizen(client, person.id_number)
            return check, time.monotonic() - started
        finally:
            await client.aclose()

    check, elapsed = run(go())
    assert check.code == "000" and elapsed >= 0.3


@pytest.mark.parametrize("case", ["pascal", "lower"])
def test_fields_read_case_insensitively(case: str) -> None:
    gateway = standin.create_gateway_app()
    state(gateway).field_case = case
    person = citizen("001201670839")

    async def go() -> Any:
        client, _ = make(gateway)
        try:
            return await check_citizen(client, person.id_number)
        finally:
            await client.aclose()

    check = run(go())
    assert check.code == "000" and check.card["card_code"] and check.card["valid_to"]


def test_differences_between_card_and_gateway_are_flagged() -> None:
    person = citizen("017306240561")  # the stand-in's record has the other sex

    async def go() -> Any:
        client, _ = make()
        try:
            return await check_citizen(client, person.id_number, with_sex=True)
        finally:
            await client.aclose()

    check = run(go())
    assert check.code == "000"
    assert check.differences == [{"field": "sex", "kind": "different"}]
    assert (
        compare(
            full_name="Hoàng Thị Thuỷ",
            date_of_birth="19/01/1960",
            sex="Nữ",
            card={"full_name": "HOÀNG THỊ THỦY", "date_of_birth": "19/01/1960"},
        )
        == []
    )
    assert compare(
        full_name="Hoàng Thị Thuỷ",
        date_of_birth="19/01/1960",
        sex=None,
        card={"full_name": "HOANG THI THUY", "date_of_birth": "1961"},
    ) == [
        {"field": "full_name", "kind": "diacritics"},
        {"field": "date_of_birth", "kind": "different"},
    ]


def test_officer_chosen_per_check_is_the_one_sent() -> None:
    gateway = standin.create_gateway_app()
    name, cccd = standin.DEMO_OFFICERS["cb02"]
    person = citizen("017072769692")

    async def go() -> Any:
        client, _ = make(gateway)
        try:
            return await client.check(
                card_code=person.id_number,
                full_name=person.full_name,
                date_of_birth=dob(person.id_number),
                officer=make_officer("cb02", name, cccd),
            )
        finally:
            await client.aclose()

    assert run(go()).code == "000"
    assert state(gateway).officers_asked == [cccd]
