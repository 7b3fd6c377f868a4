"""Trust store: certificates, link certificates, master lists, CRLs, directories, the CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from asn1crypto import pem, x509

from fixtures import pki
from service.cli import cmd_trust
from verify import trust as trust_module
from verify.trust import TrustStore, TrustStoreError


def _flip_signature(der: bytes) -> bytes:
    cert = x509.Certificate.load(der)
    signature = bytes(cert["signature_value"].native)
    position = der.rindex(signature) + len(signature) // 2
    return der[:position] + bytes([der[position] ^ 0x01]) + der[position + 1 :]


def test_add_der_and_pem_and_look_up() -> None:
    store = TrustStore()
    csca = pki.csca("p256")
    (entry,) = store.add_certificate(csca.der)
    assert entry.self_signed and not entry.is_link
    assert "CSCA Test p256" in entry.subject
    two = pem.armor("CERTIFICATE", pki.csca("brainpool512").der) + pem.armor(
        "CERTIFICATE", pki.csca("explicit").der
    )
    assert len(store.add_certificate(two)) == 2
    assert len(store) == 3
    store.add_certificate(csca.der)  # idempotent
    assert len(store) == 3
    assert store.lookup_by_key_identifier(csca.key_identifier) == [entry]
    assert store.lookup_by_subject(bytes(csca.name.dump())) == [entry]
    dsc = pki.document_signer("p256").certificate
    assert store.find_issuers(dsc) == [entry]


def test_refuses_non_ca_and_bad_self_signature_and_garbage() -> None:
    store = TrustStore()
    with pytest.raises(TrustStoreError, match="not a CA"):
        store.add_certificate(pki.document_signer("p256").der)
    with pytest.raises(TrustStoreError, match="self-signature"):
        store.add_certificate(_flip_signature(pki.csca("p256").der))
    with pytest.raises(TrustStoreError, match="does not parse"):
        store.add_certificate(b"\x30\x03\x02\x01\x00")
    assert len(store) == 0


@pytest.mark.parametrize("profile", pki.PROFILES)
def test_chain_statuses_per_profile(profile: str) -> None:
    store = TrustStore()
    store.add_certificate(pki.csca(profile).der)
    assert store.build_chain(pki.document_signer(profile).certificate).status == "anchored"
    unknown = pki.document_signer(profile, "unknown").certificate
    assert store.build_chain(unknown).status == "no_trust_anchor"
    impostor = pki.document_signer(profile, "impostor").certificate
    assert store.build_chain(impostor).status == "bad_chain_signature"


def test_link_certificate_reaches_the_old_csca() -> None:
    store = TrustStore()
    store.add_certificate(pki.csca("p256").der)
    rollover = pki.document_signer("p256", "rollover").certificate
    # New CSCA key, same name: without the link certificate the old key cannot verify it.
    assert store.build_chain(rollover).status == "bad_chain_signature"
    (link,) = store.add_certificate(pki.link_certificate("p256"))
    assert link.is_link
    chain = store.build_chain(rollover)
    assert chain.status == "anchored"
    assert [c.fingerprint for c in chain.path] == [
        link.fingerprint,
        store.anchors[0].fingerprint,
    ]


def test_master_list_loads_and_reports() -> None:
    store = TrustStore()
    report = store.load_master_list(pki.master_list(("brainpool512", "p256", "explicit")))
    assert report.accepted, report.message
    assert {c.subject.split(",")[0] for c in report.loaded} == {
        "Common Name: CSCA Test brainpool512",
        "Common Name: CSCA Test p256",
        "Common Name: CSCA Test explicit",
    }
    assert report.rejected == () and report.warnings == ()
    assert "Master List Signer" in (report.signer or "")
    again = store.load_master_list(pki.master_list(("brainpool512", "p256", "explicit")))
    assert again.accepted and again.loaded == () and again.already_present == 3
    assert json.dumps(report.to_json())


def test_master_list_with_bad_signature_is_refused() -> None:
    store = TrustStore()
    report = store.load_master_list(pki.master_list(bad_signature=True))
    assert not report.accepted
    assert report.message == (
        "master list refused: the signature of the master-list signer does not verify"
    )
    assert len(store) == 0


def test_master_list_altered_content_is_refused() -> None:
    raw = pki.master_list(("p256",))
    csca_der = pki.csca("p256").der
    at = raw.index(csca_der) + 40
    altered = raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :]
    report = TrustStore().load_master_list(altered)
    assert not report.accepted
    assert "messageDigest" in report.message


def test_master_list_whose_signer_is_not_anchored_is_refused() -> None:
    # The list holds only the p256 CSCA, but the signer was issued by the brainpool CSCA.
    raw = pki.build_master_list(
        [pki.csca("p256").der], pki.master_list_signer("brainpool512"), include_signer_chain=False
    )
    report = TrustStore().load_master_list(raw)
    assert not report.accepted
    assert "does not chain" in report.message
    # ... unless the operator already trusts that CSCA.
    store = TrustStore()
    store.add_certificate(pki.csca("brainpool512").der)
    assert store.load_master_list(raw).accepted


def test_master_list_rejects_bad_entries_one_by_one() -> None:
    certs = [
        pki.csca("p256").der,
        _flip_signature(pki.csca("explicit").der),
        pki.document_signer("p256").der,
        pki.csca("brainpool512").der,
    ]
    raw = pki.build_master_list(certs, pki.master_list_signer("brainpool512"))
    store = TrustStore()
    report = store.load_master_list(raw)
    assert report.accepted
    assert len(report.loaded) == 2
    reasons = " ".join(why for _, why in report.rejected)
    assert "self-signature" in reasons and "not a CA" in reasons


def test_master_list_garbage_is_refused() -> None:
    for junk in (b"", b"\x30\x00", pki.crl("p256")):
        report = TrustStore().load_master_list(junk)
        assert not report.accepted and report.message.startswith("master list refused")


def test_crl_is_checked_against_its_csca() -> None:
    store = TrustStore()
    report = store.load_crl(pki.crl("p256"))
    assert not report.accepted and "not in the trust store" in report.message
    (anchor,) = store.add_certificate(pki.csca("p256").der)
    report = store.load_crl(pki.crl("p256"))
    assert report.accepted and report.revoked_count == 1
    revoked = pki.document_signer("p256", "revoked").certificate.serial_number
    assert store.revocation(anchor, revoked) == pki.REVOCATION_DATE
    assert store.revocation(anchor, pki.document_signer("p256").certificate.serial_number) is None


def test_crl_signed_by_another_key_is_refused() -> None:
    store = TrustStore()
    store.add_certificate(pki.csca("p256").der)
    forged = pki.build_crl(
        pki.csca("p256"), [(0x1001, pki.REVOCATION_DATE)], signing_key=pki.rogue_csca("p256").key
    )
    report = store.load_crl(forged)
    assert not report.accepted and "does not verify" in report.message
    assert store.crls == ()


def test_directory_round_trip(tmp_path: Path) -> None:
    store = TrustStore()
    store.add_certificate(pki.csca("p256").der)
    store.add_certificate(pki.link_certificate("p256"))
    store.load_crl(pki.crl("p256"))
    store.save(tmp_path)
    (tmp_path / "brainpool.pem").write_bytes(pem.armor("CERTIFICATE", pki.csca("brainpool512").der))
    (tmp_path / "list.ml").write_bytes(pki.master_list(("explicit",)))
    (tmp_path / "broken.der").write_bytes(b"not a certificate")
    loaded = TrustStore.from_directory(tmp_path)
    assert len(loaded) == 4  # p256, its link cert, brainpool512 and (from the list) explicit
    subjects = sorted(c.subject.split(",")[0] for c in loaded)
    assert subjects.count("Common Name: CSCA Test p256") == 2  # the CSCA and its link cert
    assert "Common Name: CSCA Test explicit" in subjects
    assert len(loaded.crls) == 1
    assert len(loaded.problems) == 1 and loaded.problems[0].startswith("broken.der")
    with pytest.raises(TrustStoreError):
        TrustStore.from_directory(tmp_path / "missing")


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="cccd")
    cmd_trust.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_cli_add_list_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trust = tmp_path / "trust"
    cert = tmp_path / "csca.der"
    cert.write_bytes(pki.csca("p256").der)
    assert _run(["trust", "add", str(cert), "--trust", str(trust)]) == 0
    assert "trusted CSCA" in capsys.readouterr().out
    bad = tmp_path / "dsc.der"
    bad.write_bytes(pki.document_signer("p256").der)
    assert _run(["trust", "add", str(bad), "--trust", str(trust)]) == 1
    assert "not a CA" in capsys.readouterr().err

    crl_file = tmp_path / "p256.crl"
    crl_file.write_bytes(pki.crl("p256"))
    assert _run(["trust", "import-crl", str(crl_file), "--trust", str(trust)]) == 0

    ml = tmp_path / "good.ml"
    ml.write_bytes(pki.master_list(("brainpool512",)))
    assert _run(["trust", "import-master-list", str(ml), "--trust", str(trust)]) == 0
    assert "master list loaded" in capsys.readouterr().out
    evil = tmp_path / "evil.ml"
    evil.write_bytes(pki.master_list(bad_signature=True))
    assert _run(["trust", "import-master-list", str(evil), "--trust", str(trust)]) == 1
    assert "does not verify" in capsys.readouterr().out

    assert _run(["trust", "list", "--json", "--trust", str(trust)]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert len(listing["certificates"]) == 2
    assert len(listing["crls"]) == 1 and listing["crls"][0]["revoked"] == 1


def test_default_trust_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert cmd_trust.default_trust_dir() == tmp_path / "cccd" / "trust"


def test_remembered_signature_checks_answer_as_fresh_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """A document signer's certificate is checked once per issuer; a certificate that differs
    in one bit (a forgery of it) is a different certificate and is checked on its own."""
    store = TrustStore()
    store.add_certificate(pki.csca("p256").der)
    genuine = pki.document_signer("p256").certificate
    checks: list[str] = []
    real_check = trust_module.verify_certificate_signature

    def counted(cert: x509.Certificate, key: object) -> bool:
        checks.append(cert.subject.human_friendly)
        return real_check(cert, key)

    monkeypatch.setattr(trust_module, "verify_certificate_signature", counted)
    assert store.build_chain(genuine).status == "anchored"
    assert store.build_chain(genuine).status == "anchored"
    assert len(checks) == 1
    forged = x509.Certificate.load(_flip_signature(genuine.dump()))
    assert store.build_chain(forged).status == "bad_chain_signature"
    assert store.build_chain(forged).status == "bad_chain_signature"  # remembered as bad
    assert len(checks) == 2
    monkeypatch.setattr(TrustStore, "SIGNATURE_MEMORY", 1)
    impostor = pki.document_signer("p256", "impostor").certificate
    assert store.build_chain(impostor).status == "bad_chain_signature"
    assert store.build_chain(genuine).status == "anchored"  # pushed out: checked again
    assert len(checks) == 4
