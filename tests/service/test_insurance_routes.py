"""The desk's insurance routes in process (TestClient, real SQLite, the BHXH stand-in served
over httpx.ASGITransport): officers per desk and chosen at sign-in, a missing officer blocking
the check, checks by typed BHYT number or card code with no chip read, a check in progress
visible, joined instead of sent twice, abandoned, and the last good answer kept with its time.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fixtures import bhxh_gateway as standin
from fixtures.citizens import citizen
from tests.service.insurance_app import desk_service, headers, save_read

PERSON = "017072769692"  # a valid card
CHILD = {"card_code": "0123456789", "full_name": "Nguyễn Minh An", "date_of_birth": "2023-09-09"}


def gateway_state(app: Any) -> standin.GatewayState:
    state: standin.GatewayState = app.state.gateway
    return state


def finished(client: Any, check: dict[str, Any], desk: str = "desk-1") -> dict[str, Any]:
    answer = client.get(f"{check['href']}?wait=30", headers=headers(desk))
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    assert body["state"] != "running"
    return body


def test_officers_listed_without_their_cccd(tmp_path: Path) -> None:
    with desk_service(tmp_path, gateway=standin.create_gateway_app()) as (client, _):
        one = client.get("/api/v1/officers", headers=headers("desk-1"))
        assert one.status_code == 200
        body = one.json()
        assert {o["id"] for o in body["officers"]} == {"cb01", "cb02"}
        assert all(set(o) == {"id", "name"} for o in body["officers"])
        assert body["desk_default"] == "cb01"
        for _, cccd in standin.DEMO_OFFICERS.values():
            assert cccd not in one.text
        assert (
            client.get("/api/v1/officers", headers=headers("desk-2")).json()["desk_default"] is None
        )
        assert client.get("/api/v1/officers").status_code == 401


def test_each_desk_sends_its_own_officer(tmp_path: Path) -> None:
    gateway = standin.create_gateway_app()
    with desk_service(tmp_path, gateway=gateway) as (client, store):
        save_read(store, PERSON)
        for desk in ("desk-1", "desk-3"):
            answer = client.get(
                f"/api/v1/citizens/{PERSON}/insurance?refresh=true", headers=headers(desk)
            )
            assert answer.status_code == 200 and answer.json()["code"] == "000"
        # desk-2 has no default: the officer chosen at sign-in is sent
        chosen = client.post(
            "/api/v1/insurance/checks",
            json={"id_number": PERSON, "officer_id": "cb02", "refresh": True},
            headers=headers("desk-2"),
        )
        assert chosen.status_code == 202 and chosen.json()["officer"] == {
            "id": "cb02",
            "name": standin.DEMO_OFFICERS["cb02"][0],
        }
        assert finished(client, chosen.json(), "desk-2")["result"]["code"] == "000"
    cb01, cb02 = standin.DEMO_OFFICERS["cb01"][1], standin.DEMO_OFFICERS["cb02"][1]
    assert gateway_state(gateway).officers_asked == [cb01, cb02, cb02]


def test_missing_or_unknown_officer_blocks_the_check(tmp_path: Path) -> None:
    gateway = standin.create_gateway_app()
    with desk_service(tmp_path, gateway=gateway) as (client, store):
        save_read(store, PERSON)
        missing = client.get(f"/api/v1/citizens/{PERSON}/insurance", headers=headers("desk-2"))
        assert missing.status_code == 422
        problem = missing.json()
        assert problem["type"].endswith("/officer-required")
        assert problem["clerk_message"].startswith("Chưa chọn cán bộ tra cứu")
        typed = client.post("/api/v1/insurance/checks", json=CHILD, headers=headers("desk-2"))
        assert typed.status_code == 422 and typed.json()["type"].endswith("/officer-required")
        unknown = client.post(
            "/api/v1/insurance/checks",
            json={"id_number": PERSON, "officer_id": "cb99"},
            headers=headers("desk-1"),
        )
        assert unknown.status_code == 422 and unknown.json()["type"].endswith("/unknown-officer")
        # the identity is still served
        assert (
            client.get(f"/api/v1/citizens/{PERSON}", headers=headers("desk-2")).status_code == 200
        )
    assert gateway_state(gateway).check_requests == 0  # nothing was sent with an empty officer


def test_no_officers_configured_blocks_with_a_clear_detail(tmp_path: Path) -> None:
    with desk_service(
        tmp_path, gateway=standin.create_gateway_app(), bhxh_officers={}, desk_officers={}
    ) as (client, _):
        answer = client.post("/api/v1/insurance/checks", json=CHILD, headers=headers("desk-1"))
        assert answer.status_code == 422
        assert "no BHXH officers are configured" in answer.json()["detail"]
        assert client.get("/api/v1/officers", headers=headers()).json() == {
            "officers": [],
            "desk_default": None,
        }


def test_check_by_bhyt_number_with_no_chip_read(tmp_path: Path) -> None:
    gateway = standin.create_gateway_app()
    with desk_service(tmp_path, gateway=gateway) as (client, store):
        started = client.post("/api/v1/insurance/checks", json=CHILD, headers=headers())
        assert started.status_code == 202
        check = started.json()
        assert check["kind"] == "typed" and check["id_number"] is None
        assert check["card_code"] == CHILD["card_code"] and check["officer"]["id"] == "cb01"
        done = finished(client, check)
        result = done["result"]
        assert (result["status"], result["code"]) == ("usable", "000")
        assert result["checkin_card"]["card_code"] == "TE1010123456789"
        assert result["history_status"] == "ok" and result["visits"] == 1
        assert result["differences"] == []  # the typed name folds to the card's
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("select count(*) from card_reads").scalar() == 0
        # the 15-character card code, and a partial birth date (month and year)
        by_code = client.post(
            "/api/v1/insurance/checks",
            json={**CHILD, "card_code": "te1 01 0123456789", "date_of_birth": "2023-09"},
            headers=headers(),
        )
        assert by_code.status_code == 202
        assert finished(client, by_code.json())["result"]["code"] == "000"
        # a wrong birth date is the gateway's 070, not a service error
        wrong = client.post(
            "/api/v1/insurance/checks",
            json={**CHILD, "date_of_birth": "2022-01-01"},
            headers=headers(),
        )
        assert finished(client, wrong.json())["result"]["code"] == "070"
        actions = [r.action for r in store.audit_records()]
        assert actions.count("insurance") == 3


def test_typed_check_input_is_validated(tmp_path: Path) -> None:
    with desk_service(tmp_path, gateway=standin.create_gateway_app()) as (client, _):
        cases = {
            "card_code": {**CHILD, "card_code": "12345678901"},
            "full_name": {**CHILD, "full_name": "   "},
            "date_of_birth": {**CHILD, "date_of_birth": "09/09/2023x"},
        }
        for field, body in cases.items():
            answer = client.post("/api/v1/insurance/checks", json=body, headers=headers())
            assert answer.status_code == 422, field
            assert answer.json().get("field", field) == field
        both = client.post(
            "/api/v1/insurance/checks", json={**CHILD, "id_number": PERSON}, headers=headers()
        )
        assert both.status_code == 422
        no_read = client.post(
            "/api/v1/insurance/checks", json={"id_number": PERSON}, headers=headers()
        )
        assert no_read.status_code == 404


def test_check_in_progress_is_visible_joined_and_abandoned(tmp_path: Path) -> None:
    gateway = standin.create_gateway_app(latency=(3.0, 3.0))
    with desk_service(tmp_path, gateway=gateway) as (client, store):
        save_read(store, PERSON)
        first = client.post(
            "/api/v1/insurance/checks", json={"id_number": PERSON}, headers=headers()
        )
        assert first.status_code == 202
        check = first.json()
        assert check["state"] == "running" and check["result"] is None
        assert check["deadline"] > check["started_at"]
        again = client.post(
            "/api/v1/insurance/checks", json={"id_number": PERSON}, headers=headers()
        )
        assert again.status_code == 200
        assert again.json()["id"] == check["id"] and again.json()["joined"] is True
        listed = client.get("/api/v1/insurance/checks", headers=headers()).json()["checks"]
        assert [c["id"] for c in listed if c["state"] == "running"] == [check["id"]]
        # another desk neither sees it nor can abandon it
        assert client.get(check["href"], headers=headers("desk-2")).status_code == 404
        assert client.delete(check["href"], headers=headers("desk-2")).status_code == 404
        abandoned = client.delete(check["href"], headers=headers())
        assert abandoned.status_code == 200 and abandoned.json()["state"] == "abandoned"
        assert client.get(check["href"], headers=headers()).json()["state"] == "abandoned"
        assert client.delete(check["href"], headers=headers()).json()["state"] == "abandoned"
        assert gateway_state(gateway).check_requests == 1  # one call, however often asked
        # after abandoning, asking again starts a new check
        fresh = client.post(
            "/api/v1/insurance/checks", json={"id_number": PERSON}, headers=headers()
        )
        assert fresh.status_code == 202 and fresh.json()["id"] != check["id"]
        assert finished(client, fresh.json())["result"]["code"] == "000"
        actions = [(r.action, r.outcome) for r in store.audit_records()]
        assert ("insurance", "abandoned") in actions


def test_the_same_person_at_two_desks_is_two_checks(tmp_path: Path) -> None:
    gateway = standin.create_gateway_app(latency=(1.0, 1.0))
    with desk_service(tmp_path, gateway=gateway) as (client, store):
        save_read(store, PERSON)
        one = client.post("/api/v1/insurance/checks", json={"id_number": PERSON}, headers=headers())
        two = client.post(
            "/api/v1/insurance/checks",
            json={"id_number": PERSON},
            headers=headers("desk-3"),
        )
        assert one.status_code == two.status_code == 202
        assert one.json()["id"] != two.json()["id"]
        finished(client, one.json())
        finished(client, two.json(), "desk-3")


def test_last_good_answer_kept_with_its_time(tmp_path: Path) -> None:
    gateway = standin.create_gateway_app()
    with desk_service(tmp_path, gateway=gateway) as (client, store):
        save_read(store, PERSON)
        url = f"/api/v1/citizens/{PERSON}/insurance"
        first = client.get(url, headers=headers()).json()
        assert (first["status"], first["cached"], first["last_good"]) == ("usable", False, None)
        time.sleep(1.1)
        kept = client.get(url, headers=headers()).json()
        assert kept["cached"] is True and kept["checked_at"] == first["checked_at"]
        assert gateway_state(gateway).check_requests == 1
        via_post = client.post(
            "/api/v1/insurance/checks", json={"id_number": PERSON}, headers=headers()
        )
        assert via_post.status_code == 200 and via_post.json()["cached"] is True
        assert via_post.json()["result"]["checked_at"] == first["checked_at"]
        # the gateway goes down: a fresh check fails, the last good answer is shown with it
        gateway_state(gateway).down = True
        down = client.get(f"{url}?refresh=true", headers=headers()).json()
        assert down["status"] == "unavailable" and down["cached"] is False
        assert down["last_good"]["status"] == "usable"
        assert down["last_good"]["checked_at"] == first["checked_at"]
        # the outage was not kept: the good answer still is
        assert client.get(url, headers=headers()).json()["checked_at"] == first["checked_at"]


def test_card_code_override_for_a_chip_read(tmp_path: Path) -> None:
    person = citizen("001305978488")  # 003: the held card expired, a new card exists
    with desk_service(tmp_path, gateway=standin.create_gateway_app()) as (client, store):
        save_read(store, person.id_number)
        body = client.get(
            f"/api/v1/citizens/{person.id_number}/insurance", headers=headers()
        ).json()
        assert body["status"] == "use_new_card" and body["usable_for_checkin"] is True
        assert body["checkin_card"]["card_code"] == body["new_card"]["card_code"]
        assert body["checkin_card"]["card_code"] != body["card"]["card_code"]
        bad = client.get(
            f"/api/v1/citizens/{person.id_number}/insurance?card_code=XX", headers=headers()
        )
        assert bad.status_code == 422


def test_insurance_events_carry_no_personal_data(tmp_path: Path) -> None:
    with desk_service(tmp_path, gateway=standin.create_gateway_app()) as (client, _):
        app = client.app
        seen: list[tuple[str, dict[str, Any]]] = []
        bus = app.state.ctx.bus
        original = bus.publish

        def spy(kind: str, data: dict[str, Any], *, to: Any) -> None:
            seen.append((kind, {**data, "to": tuple(to)}))
            original(kind, data, to=to)

        bus.publish = spy
        check = client.post("/api/v1/insurance/checks", json=CHILD, headers=headers()).json()
        finished(client, check)
        events = [data for kind, data in seen if kind == "insurance"]
        assert [e["state"] for e in events] == ["running", "done"]
        assert all(set(e) == {"id", "desk", "state", "to"} for e in events)
        assert all(e["to"] == ("desk-1",) for e in events)  # only the desk that asked


def test_check_from_the_cccd_cards_own_qr_with_no_chip_read(tmp_path: Path) -> None:
    person = citizen(PERSON)
    payload = (
        f"{person.id_number}|115371813|{person.full_name}|"
        f"{person.date_of_birth.strftime('%d%m%Y')}|{person.sex}|Xóm Đầm Củ|15072021"
    )
    gateway = standin.create_gateway_app()
    with desk_service(tmp_path, gateway=gateway) as (client, _):
        started = client.post("/api/v1/insurance/checks", json={"qr": payload}, headers=headers())
        assert started.status_code == 202
        check = started.json()
        assert (check["kind"], check["card_code"], check["id_number"]) == ("qr", PERSON, None)
        assert finished(client, check)["result"]["code"] == "000"
        bad = client.post("/api/v1/insurance/checks", json={"qr": "not a qr"}, headers=headers())
        assert bad.status_code == 422 and bad.json()["type"].endswith("/invalid-qr")
        both = client.post(
            "/api/v1/insurance/checks", json={"qr": payload, **CHILD}, headers=headers()
        )
        assert both.status_code == 422


def test_simulated_mode_tunes_its_in_process_standin(tmp_path: Path) -> None:
    with desk_service(tmp_path, bhxh_url=None, simulated=True) as (client, _):
        tune = "/api/v1/demo/bhxh"
        slow = client.put(tune, json={"latency": [2, 2]}, headers=headers())
        assert slow.status_code == 200 and slow.json()["latency"] == [2, 2]
        started = client.post("/api/v1/insurance/checks", json=CHILD, headers=headers())
        assert started.status_code == 202 and started.json()["state"] == "running"
        assert started.json()["officer"]["id"] == "cb01"  # the desk's configured default
        assert client.delete(started.json()["href"], headers=headers()).json()["state"] == (
            "abandoned"
        )
        broken = client.put(
            tune, json={"latency": [0, 0], "faults": {"check": "html"}}, headers=headers()
        )
        assert broken.status_code == 200
        check = client.post("/api/v1/insurance/checks", json=CHILD, headers=headers()).json()
        assert finished(client, check)["result"]["status"] == "unavailable"
        client.put(tune, json={"faults": {}, "down": True}, headers=headers())
        check = client.post("/api/v1/insurance/checks", json=CHILD, headers=headers()).json()
        assert finished(client, check)["result"]["status"] == "unavailable"
        client.put(tune, json={"down": False}, headers=headers())
        check = client.post("/api/v1/insurance/checks", json=CHILD, headers=headers()).json()
        assert finished(client, check)["result"]["status"] == "usable"
        bad = client.put(tune, json={"faults": {"check": "nonsense"}}, headers=headers())
        assert bad.status_code == 422
