"""``cccd simulate --export-trust`` and ``cccd trust import-master-list``: the simulated
cards' CSCA checked by another X.509 implementation (pyca/cryptography, independent of the
asn1crypto code that verifies cards), then used to verify a simulated card; the real Dutch
master list imported with its Vietnamese CSCA reported; an unsigned list only with --unsigned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from fixtures import pki
from service.cli.main import main
from verify.trust import CscaMasterList

DATA = Path(__file__).parents[1] / "data" / "trust"


def test_export_trust_writes_a_csca_other_tools_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "sim"
    assert main(["simulate", "--export-trust", str(target)]) == 0
    written = sorted(p.name for p in target.iterdir())
    assert written == [
        "simulated-csca-brainpool512.crl",
        "simulated-csca-brainpool512.der",
        "simulated-csca-brainpool512.pem",
    ]
    cert = x509.load_pem_x509_certificate((target / written[2]).read_bytes())
    assert cert == x509.load_der_x509_certificate((target / written[1]).read_bytes())
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(
        cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
    )  # type: ignore[arg-type]
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)[0].value == "VN"
    crl = x509.load_der_x509_crl((target / written[0]).read_bytes())
    assert crl.is_signature_valid(public)
    capsys.readouterr()
    code = main(["read", "--simulated", "017072769692", "--trust", str(target), "--json"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["status"], document["acceptance"]) == ("verified", "genuine")


def test_import_dutch_master_list_reports_vietnamese_cscas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "trust"
    code = main(
        [
            "trust",
            "import-master-list",
            str(DATA / "nl-masterlist-2026-07-22.ml"),
            "--trust",
            str(store),
            "--at",
            "2026-08-01",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Vietnamese CSCAs in the list: 1" in out and "CSCA ePassport Vietnam" in out
    assert len(list(store.iterdir())) > 400


def test_unsigned_master_list_needs_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = CscaMasterList(
        {"version": 0, "cert_list": [asn1_x509.Certificate.load(pki.csca("p256").der)]}
    ).dump()
    path = tmp_path / "bare.ml"
    path.write_bytes(raw)
    store = tmp_path / "trust"
    assert main(["trust", "import-master-list", str(path), "--trust", str(store)]) == 1
    assert "unsigned" in capsys.readouterr().out
    assert not store.exists() or not list(store.iterdir())
    assert (
        main(["trust", "import-master-list", str(path), "--trust", str(store), "--unsigned"]) == 0
    )
    out = capsys.readouterr().out
    assert "warning: unsigned master list" in out and len(list(store.iterdir())) == 1
