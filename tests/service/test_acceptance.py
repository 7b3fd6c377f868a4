"""The acceptance contract in service answers: ``genuine`` | ``issuer_not_checked`` |
``not_genuine`` with a machine reason and a clerk message; ``require_anchor`` off while no
CSCA is installed and on as soon as one is; unanchored document-signer issuers recorded (no
personal data) and listed by ``cccd trust unknown-issuers``; ``/healthz`` trust counts."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from fixtures import pki
from fixtures.citizens import load_citizens
from service.cli.main import main
from service.scan.unknown_issuers import FILE_NAME, UnknownIssuers
from tests.service.conftest import (
    READER_1,
    finished,
    healthz,
    put_card,
    scan,
    start_app,
    stop_server,
)

PERSON = "017072769692"


def _scan(server: Any) -> dict[str, Any]:
    with server.client() as desk:
        put_card(desk, READER_1, PERSON)
        body = finished(desk, scan(desk, READER_1, PERSON))
        assert body["state"] == "done", body
        result = dict(body["result"])  # type: ignore[arg-type]
        result["_citizen"] = desk.get(f"/api/v1/citizens/{PERSON}")
        return result


def test_without_any_csca_reads_are_served_as_issuer_not_checked(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path_factory.mktemp("no-csca")
    empty = data / "trust"
    empty.mkdir()
    server = start_app(data, CCCD_TRUST_STORE=str(empty), CCCD_SIMULATED_LINK="0")
    try:
        health = healthz(server)
        assert health["trust"] == {"cscas": 0, "vietnamese_cscas": 0}
        result = _scan(server)
        assert result["acceptance"] == "issuer_not_checked"
        assert result["acceptance_reason"] == "no_trust_store"
        assert result["accepted"] is True and result["genuine"] is False
        assert "verified" not in result["reason"]
        assert "chưa kiểm tra cơ quan cấp" in result["clerk_message"]
        citizen = result["_citizen"]
        assert citizen.status_code == 200
        assert citizen.json()["verification"]["acceptance"] == "issuer_not_checked"
    finally:
        stop_server(server)
    recorded = data / FILE_NAME
    assert stat.S_IMODE(recorded.stat().st_mode) == 0o600
    [entry] = UnknownIssuers(data).list()
    assert entry.count == 1 and "CSCA Test brainpool512" in entry.issuer
    assert entry.authority_key_identifier == pki.csca().key_identifier.hex()
    text = recorded.read_text("utf-8")
    person = next(c for c in load_citizens() if c.id_number == PERSON)
    assert PERSON not in text and person.full_name not in text
    assert main(["trust", "unknown-issuers", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "CSCA Test brainpool512" in out and "     1" in out
    assert main(["trust", "unknown-issuers", "--data-dir", str(data), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["count"] == 1


def test_a_foreign_csca_installed_makes_anchoring_required(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data = tmp_path_factory.mktemp("foreign")
    trust = data / "trust"
    trust.mkdir()
    (trust / "fr.der").write_bytes(pki.foreign_csca("FR").der)
    server = start_app(data, CCCD_TRUST_STORE=str(trust), CCCD_SIMULATED_LINK="0")
    try:
        assert healthz(server)["trust"] == {
            "cscas": 1,
            "vietnamese_cscas": 0,
        }
        result = _scan(server)
        assert result["acceptance"] == "issuer_not_checked"
        assert result["acceptance_reason"] == "signer_not_in_store"
        assert result["accepted"] is False and result["_citizen"].status_code == 404
        assert "không xác thực" in result["clerk_message"]
    finally:
        stop_server(server)


def test_the_test_pki_installed_makes_the_card_genuine(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    exported = tmp_path / "exported"
    assert main(["simulate", "--export-trust", str(exported)]) == 0
    data = tmp_path_factory.mktemp("genuine")
    server = start_app(
        data, CCCD_TRUST_STORE=str(exported), CCCD_REQUIRE_ANCHOR="auto", CCCD_SIMULATED_LINK="0"
    )
    try:
        assert healthz(server)["trust"] == {
            "cscas": 1,
            "vietnamese_cscas": 1,
        }
        result = _scan(server)
        assert (result["acceptance"], result["acceptance_reason"]) == ("genuine", "anchored")
        assert result["accepted"] is True
    finally:
        stop_server(server)
    assert UnknownIssuers(data).list() == []
