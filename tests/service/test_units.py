"""Settings, desk keys, rate limit, log redaction, photo TTL and the CardError mapping."""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path

import pytest

from reader.drivers.card import CardRead, IncompleteReadError, ReadStats
from reader.errors import (
    AccessDeniedError,
    CardRemovedError,
    ParseError,
    StatusWordError,
    TransportTimeoutError,
)
from service.api.auth import KeyRing, RateLimiter, bearer_token
from service.api.problems import problem_for_card_error
from service.redact import RedactingFilter, SensitiveValues, redact
from service.scan.pipeline import KeyRequestError, access_request, root_cause
from service.settings import Settings, SettingsError, hash_key, parse_api_keys
from service.storage.photos import PhotoCache


def test_settings_defaults_bind_loopback() -> None:
    settings = Settings.load(environ={})
    assert settings.host == "127.0.0.1" and settings.loopback_only
    assert settings.cors_origins == () and settings.audit_subject == "hash"
    assert settings.effective_database_url.startswith("sqlite:///")


def test_settings_from_env_and_file(tmp_path: Path) -> None:
    config = tmp_path / "cccd.toml"
    config.write_text(
        'port = 9000\nretention_hours = 2\nreaders = ["ACS"]\n'
        '[api_keys]\ndesk-9 = "file-secret-key-123"\n'
        '[bhxh]\nurl = "https://egw.example"\nofficer_id = "001190000001"\n',
        "utf-8",
    )
    settings = Settings.load(
        environ={"CCCD_PORT": "9100", "CCCD_STORE_PHOTOS": "yes"}, config_file=config
    )
    assert settings.port == 9100  # the environment wins over the file
    assert settings.retention_hours == 2 and settings.store_photos is True
    assert settings.readers == ("ACS",) and settings.bhxh_url == "https://egw.example"
    assert settings.api_keys == {"desk-9": hash_key("file-secret-key-123")}
    assert Settings.load(environ={"CCCD_PORT": "9100"}, port=9200).port == 9200
    assert "file-secret-key-123" not in repr(settings)


@pytest.mark.parametrize(
    "env",
    [
        {"CCCD_PORT": "x"},
        {"CCCD_PORT": "70000"},
        {"CCCD_API_KEYS": "desk-1"},
        {"CCCD_API_KEYS": "d=short"},
        {"CCCD_AUDIT_SUBJECT": "plain"},
        {"CCCD_BHXH_OFFICER_ID": "123"},
    ],
)
def test_bad_settings_are_named(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.load(environ=env)
    assert "CCCD_" in str(error.value) or "desk" in str(error.value)


def test_keys_are_stored_hashed_and_checked() -> None:
    stored = parse_api_keys("desk-1=first-secret-key, desk-2=second-secret-key")
    assert all(v.startswith("sha256:") and "secret" not in v for v in stored.values())
    ring = KeyRing(stored)
    found = ring.desk_for("second-secret-key")
    assert found is not None and found.name == "desk-2"
    assert ring.desk_for("second-secret-kez") is None
    assert bearer_token("Bearer abc") == "abc" and bearer_token("Basic abc") is None
    assert bearer_token(None) is None and bearer_token("Bearer ") is None
    demo = Settings.load(environ={}).with_demo_key()
    assert demo.demo_key and KeyRing(demo.api_keys).desk_for(demo.demo_key) is not None


def test_rate_limiter_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(60, 3, clock=lambda: now[0])
    assert [limiter.take("d") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("d") >= 1 and limiter.take("other") == 0
    now[0] += 1.0
    assert limiter.take("d") == 0


def test_log_redaction_filter() -> None:
    sensitive = SensitiveValues()
    sensitive.add("NGUYỄN THỊ HƯƠNG")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(sensitive))
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("read %s for %s (old %s)", "001185483324", "Nguyễn Thị Hương", "115371813")
        logger.warning('"GET /api/v1/citizens?q=nguyen+thi&date_of_birth=1985-03-14 HTTP/1.1"')
        logger.warning('"GET /api/v1/citizens/[x]/insurance?card_code=GD4010157106125 HTTP/1.1"')
        logger.warning("folded nguyen thi huong, 4-digit 2024 and 10 digits 0157106125 stay")
        try:
            raise ValueError("bad 001185483324")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "001185483324" not in text and "115371813" not in text
    assert "Hương" not in text and "nguyen thi huong" not in text
    assert "q=[redacted]" in text and "1985-03-14" not in text
    assert "card_code=[redacted]" in text and "GD4010157106125" not in text
    assert "2024" in text and "0157106125" in text and "ValueError" in text
    assert redact(
        "token=abc&password=def"
    ) == "token=abc&password=[redacted]" or "def" not in redact("?token=abc&password=def")


def test_photo_cache_expires() -> None:
    now = [0.0]
    cache = PhotoCache(10, limit=2, clock=lambda: now[0])
    cache.put("a", b"1")
    cache.put("b", b"2")
    cache.put("c", b"3")
    assert cache.get("a") is None and cache.get("b") == b"2"  # bounded
    now[0] = 11
    assert cache.get("c") is None and cache.purge() == 1


def test_card_errors_map_to_clerk_messages() -> None:
    wrong = problem_for_card_error(AccessDeniedError(0x6300, "refused"))
    assert (wrong.status, wrong.clerk_message) == (422, "Sai số CCCD: kiểm tra lại 12 số")
    removed = problem_for_card_error(CardRemovedError("gone"))
    assert removed.clerk_message == "Thẻ bị rút ra khi đang đọc: đặt lại thẻ"
    assert problem_for_card_error(TransportTimeoutError("slow")).slug == "card-timeout"
    assert (
        problem_for_card_error(ParseError("bad", offset=3, file="DG13")).slug
        == "card-data-malformed"
    )
    assert problem_for_card_error(StatusWordError(0x6A82, "no")).extra["sw"] == "6A82"
    partial = CardRead(
        files={},
        parsed={},
        parse_errors={},
        missing={},
        access_protocol="BAC",
        stats=ReadStats(apdus=1, bytes_sent=1, bytes_received=1, seconds=0.1),
    )
    try:
        try:
            raise CardRemovedError("gone")
        except CardRemovedError as exc:
            raise IncompleteReadError("cut", partial) from exc
    except IncompleteReadError as incomplete:
        assert isinstance(root_cause(incomplete), CardRemovedError)


def test_access_request_needs_exactly_one_key() -> None:
    assert len(access_request(id_number="001185483324").keys) == 1
    with pytest.raises(KeyRequestError):
        access_request()
    with pytest.raises(KeyRequestError):
        access_request(id_number="001185483324", can="483324")
    with pytest.raises(KeyRequestError):
        access_request(document_number="185483324")


def test_without_a_trust_store_the_read_says_so() -> None:
    """No CSCA trust store: a sound card is served flagged ``trust_store: not_configured`` (the
    desk page's "Trust store not configured" badge); a forged one is still refused."""
    from fixtures.cards import chip_for_citizen, trust_store_for_tests
    from service.scan.pipeline import read, verify_read

    person = "017072769692"
    keys = access_request(id_number=person).keys
    sound = verify_read(read(chip_for_citizen(person), keys), None)
    assert sound.status == "signer_not_trusted" and not sound.genuine
    assert sound.accepted and sound.report["trust_store"] == "not_configured"
    assert (sound.acceptance, sound.acceptance_reason) == ("issuer_not_checked", "no_trust_store")
    assert "issuer not checked" in sound.reason and "verified" not in sound.reason
    assert sound.signer_issuer is not None and sound.signer_authority_key_id
    trusted = verify_read(read(chip_for_citizen(person), keys), trust_store_for_tests())
    assert trusted.genuine and trusted.report["trust_store"] == "configured"
    assert trusted.acceptance == "genuine" and trusted.signer_issuer is None
    forged = verify_read(read(chip_for_citizen(person, faults=["tampered"]), keys), None)
    assert not forged.accepted and forged.status == "invalid"
    assert (forged.acceptance, forged.acceptance_reason) == ("not_genuine", "forged")


def test_require_anchor_is_off_without_a_csca_and_on_with_one() -> None:
    """The acceptance policy: by default anchoring is required as soon as the store holds a
    CSCA (here only another state's); the operator may say otherwise either way."""
    from fixtures import pki
    from fixtures.cards import chip_for_citizen
    from service.scan.pipeline import anchor_required, read, verify_read
    from verify.trust import TrustStore

    person = "017072769692"
    keys = access_request(id_number=person).keys
    foreign = TrustStore()
    foreign.add_certificate(pki.foreign_csca("FR").der)
    assert not anchor_required(None, None) and not anchor_required(None, TrustStore())
    assert anchor_required(None, foreign) and anchor_required(True, None)
    assert not anchor_required(False, foreign)

    auto = verify_read(read(chip_for_citizen(person), keys), foreign)
    assert (
        auto.acceptance == "issuer_not_checked" and auto.acceptance_reason == "signer_not_in_store"
    )
    assert not auto.accepted and auto.anchor_required
    required = verify_read(read(chip_for_citizen(person), keys), None, require_anchor=True)
    assert not required.accepted and required.acceptance == "issuer_not_checked"
    allowed = verify_read(read(chip_for_citizen(person), keys), foreign, require_anchor=False)
    assert allowed.accepted and allowed.acceptance == "issuer_not_checked"
    assert allowed.report["anchor_required"] is False


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CCCD_API_KEYS": "d=aaaaaaaaaaaaaaaaaaaaaaaa"}, "random characters"),
        ({"CCCD_API_KEYS": "d=fifteen-chars!"}, "at least 16"),
        ({"CCCD_API_KEYS": "d=sha256:" + hashlib.sha256(b"test").hexdigest()}, "weak secret"),
        ({"CCCD_API_KEYS": "a=first-secret-key-123,b=second-secret-key-45"}, "names none"),
        ({"CCCD_API_KEYS": "a=first-secret-key-123", "CCCD_KEY_ROLES": "a=boss"}, "role"),
        ({"CCCD_API_KEYS": "a=first-secret-key-123,b=first-secret-key-123"}, "share a key"),
        ({"CCCD_API_KEYS": "a=first-secret-key-123", "CCCD_STORED_FIELDS": "photo"}, "optional"),
    ],
)
def test_desk_and_key_rules(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.load(environ=environ)


def test_desks_from_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "cccd.toml"
    config.write_text(
        '[desks.quay-1]\nkeys = ["quay-one-secret-key-1"]\nreaders = ["ACS ACR1252 1S"]\n'
        'officer = "cb01"\n'
        '[desks.his]\nkey = "his-backend-secret-key"\nrole = "lookup"\n'
        '[desks.it]\nkeys = ["it-admin-secret-key-12"]\nrole = "admin"\n',
        "utf-8",
    )
    settings = Settings.load(environ={"CCCD_CONFIG": str(config)})
    by_name = {d.name: d for d in settings.desks}
    assert by_name["quay-1"].role == "desk" and by_name["quay-1"].officer == "cb01"
    assert by_name["quay-1"].owns_reader("ACS ACR1252 1S CL Reader PICC 0")
    assert not by_name["quay-1"].owns_reader("Virtual PCD 00 00")
    assert by_name["his"].role == "lookup" and not by_name["his"].owns_reader("ACS ACR1252 1S")
    ring = KeyRing(settings.desks)
    found = ring.desk_for("it-admin-secret-key-12")
    assert found is not None and found.role == "admin"
    assert "quay-one-secret-key-1" not in repr(settings)
    bad = tmp_path / "bad.toml"
    bad.write_text('[desks.x]\nkeys = ["x-secret-key-1234567"]\ncolour = "red"\n', "utf-8")
    with pytest.raises(SettingsError, match="unknown desk setting"):
        Settings.load(environ={"CCCD_CONFIG": str(bad)})
    lookup_readers = tmp_path / "lookup.toml"
    lookup_readers.write_text(
        '[desks.x]\nkeys = ["x-secret-key-1234567"]\nrole = "lookup"\nreaders = ["A"]\n', "utf-8"
    )
    with pytest.raises(SettingsError, match="only a desk owns readers"):
        Settings.load(environ={"CCCD_CONFIG": str(lookup_readers)})


def test_minimise_keeps_check_in_fields_only() -> None:
    from service.desks import minimise

    identity = {
        "id_number": "017072769692",
        "full_name": "Trần Văn Đức",
        "religion": "Phật giáo",
        "father_name": "TRẦN VĂN TOÀN",
        "identifying_marks": "Nốt ruồi",
        "repairs": [{"field": "father_name"}, {"field": "full_name"}],
        "place_of_residence": "Hòa Bình",
    }
    shown = minimise(identity, frozenset())
    assert shown is not None
    assert set(shown) == {"id_number", "full_name", "place_of_residence", "repairs"}
    assert shown["repairs"] == [{"field": "full_name"}]
    with_religion = minimise(identity, frozenset({"religion"}))
    assert with_religion is not None and with_religion["religion"] == "Phật giáo"


def test_bounded_text_cannot_forge_or_flood_a_record() -> None:
    from service.api.request_text import bounded

    text = bounded("GET /x\r\nforged: yes" + "é" * 400, 60)
    assert len(text) == 60 and "\r" not in text and "\n" not in text and text.isascii()
