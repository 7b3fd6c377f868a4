"""The BHXH gateway client against the local stand-in (in-process over httpx.ASGITransport)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from fixtures import bhxh_gateway as standin
from fixtures.citizens import citizen
from service.bhyt import RESULT_CODES, BhytClient, compare

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
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(
    gateway: Any = None,
    *,
    clock: Clock | None = None,
    retries: int = 2,
    officer: tuple[str, str] = (standin.DEMO_OFFICER_NAME, standin.DEMO_OFFICER_ID),
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[BhytClient, Any]:
    app = gateway or standin.create_gateway_app(clock=clock or Clock())
    client = BhytClient(
        base_url="http://standin.test",
        username=standin.DEMO_USERNAME,
        password=standin.DEMO_PASSWORD,
        officer_name=officer[0],
        officer_id=officer[1],
        retries=retries,
        retry_delay=0,
        transport=transport or httpx.ASGITransport(app=app),
        clock=clock or Clock(),
    )
    return client, app


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


def test_result_table_covers_the_spec() -> None:
    assert set(RESULT_CODES) == SPEC_CODES
    for code, result in RESULT_CODES.items():
        assert result.message_vi and result.meaning
        assert result.usable_for_checkin == (code in {"000", "001", "002", "003", "004"})


def test_data_file_covers_every_code() -> None:
    assert {card["scenario"] for card in standin.load_cards()} == SPEC_CODES


@pytest.mark.parametrize("card", standin.load_cards(), ids=lambda c: c["scenario"])
def test_every_standin_code_maps(card: dict[str, Any]) -> None:
    person = citizen(card["id_number"])

    async def go() -> Any:
        client, _ = make()
        try:
            return await check_citizen(client, person.id_number, with_sex=True)
        finally:
            await client.aclose()

    check = run(go())
    code = card["scenario"]
    if code == "100":  # transient: retried, then the real answer
        assert (check.code, check.attempts) == ("000", 2)
        return
    assert check.code == code
    expected = RESULT_CODES[code]
    assert check.status == expected.status
    assert check.usable_for_checkin is expected.usable_for_checkin
    assert check.message_vi == expected.message_vi
    if code == "101":
        assert check.attempts == 3  # 1 + retries, bounded
    if code in ("003", "004"):
        assert check.new_card and check.new_card["card_code"].startswith("DN")
        assert check.usable_for_checkin
    if code in ("000", "001", "002", "010"):
        assert check.card["card_code"] == card["maThe"]


def test_computed_codes_from_the_request() -> None:
    person = citizen("001185483324")
    card = next(c for c in standin.load_cards() if c["id_number"] == person.id_number)

    async def go() -> dict[str, str | None]:
        client, _ = make()
        bad_officer, _ = make(officer=("Người Lạ", "001190000009"))
        wrong_officer_name, _ = make(officer=("Người Lạ", standin.DEMO_OFFICER_ID))
        code = card["maThe"]
        try:
            return {
                "name": (
                    await client.check(
                        card_code=code,
                        full_name="Trần Văn Bình",
                        date_of_birth=dob(person.id_number),
                    )
                ).code,
                "name_first": (
                    await client.check(
                        card_code=code,
                        full_name="Nguyễn Văn Hùng",
                        date_of_birth=dob(person.id_number),
                    )
                ).code,
                "dob": (
                    await client.check(
                        card_code=code, full_name=person.full_name, date_of_birth="01/01/1990"
                    )
                ).code,
                "year_only": (
                    await client.check(
                        card_code=code, full_name=person.full_name, date_of_birth="1985"
                    )
                ).code,
                "province": (
                    await client.check(
                        card_code=code[:3] + "99" + code[5:],
                        full_name=person.full_name,
                        date_of_birth=dob(person.id_number),
                    )
                ).code,
                "benefit": (
                    await client.check(
                        card_code=code[:2] + ("5" if code[2] != "5" else "4") + code[3:],
                        full_name=person.full_name,
                        date_of_birth=dob(person.id_number),
                    )
                ).code,
                "unknown": (
                    await client.check(
                        card_code="DN4790000000001",
                        full_name=person.full_name,
                        date_of_birth=dob(person.id_number),
                    )
                ).code,
                "format": (
                    await client.check(
                        card_code="123", full_name=person.full_name, date_of_birth="14-03-1985"
                    )
                ).code,
                "officer": (
                    await bad_officer.check(
                        card_code=code,
                        full_name=person.full_name,
                        date_of_birth=dob(person.id_number),
                    )
                ).code,
                "officer_name": (
                    await wrong_officer_name.check(
                        card_code=code,
                        full_name=person.full_name,
                        date_of_birth=dob(person.id_number),
                    )
                ).code,
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
        "province": "052",
        "benefit": "053",
        "unknown": "051",
        "format": "205",
        "officer": "054",
        "officer_name": "055",
    }


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


def test_token_renewed_on_401() -> None:
    gateway = standin.create_gateway_app()
    person = citizen("017072769692")

    async def go() -> tuple[str | None, int, int]:
        client, _ = make(gateway)
        try:
            await check_citizen(client, person.id_number)
            gateway.state.gateway.tokens.clear()  # the gateway forgets every token
            check = await check_citizen(client, person.id_number)
            return check.code, client.tokens_taken, check.attempts
        finally:
            await client.aclose()

    assert run(go()) == ("000", 2, 2)


def test_fields_read_case_insensitively() -> None:
    gateway = standin.create_gateway_app()
    gateway.state.gateway.field_case = "pascal"
    person = citizen("001201670839")

    async def go() -> Any:
        client, _ = make(gateway)
        try:
            return await check_citizen(client, person.id_number)
        finally:
            await client.aclose()

    check = run(go())
    assert check.code == "000" and check.card["card_code"] and check.card["valid_to"]


def test_gateway_down_is_unavailable_with_bounded_retries() -> None:
    calls = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        raise httpx.ConnectError("refused", request=request)

    async def go() -> Any:
        client, _ = make(transport=httpx.MockTransport(refuse), retries=2)
        try:
            return await client.check(
                card_code="001185483324", full_name="A B", date_of_birth="01/01/1990"
            )
        finally:
            await client.aclose()

    check = run(go())
    assert check.status == "unavailable" and not check.usable_for_checkin
    assert len(calls) == 3 and "BHXH" in check.message_vi


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
