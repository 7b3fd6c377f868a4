"""The OID registry (reader.oids) against asn1crypto's own OID tables, an independent
implementation: hash and signature algorithm OIDs, and the registry's consumers agree."""

from __future__ import annotations

import pytest
from asn1crypto import algos, cms

from reader import oids
from verify import signatures

ASN1_SIGNATURE_NAMES = {
    "rsaEncryption": "rsassa_pkcs1v15",
    "sha1WithRSAEncryption": "sha1_rsa",
    "sha224WithRSAEncryption": "sha224_rsa",
    "sha256WithRSAEncryption": "sha256_rsa",
    "sha384WithRSAEncryption": "sha384_rsa",
    "sha512WithRSAEncryption": "sha512_rsa",
    "id-RSASSA-PSS": "rsassa_pss",
    "ecdsa-with-SHA1": "sha1_ecdsa",
    "ecdsa-with-SHA224": "sha224_ecdsa",
    "ecdsa-with-SHA256": "sha256_ecdsa",
    "ecdsa-with-SHA384": "sha384_ecdsa",
    "ecdsa-with-SHA512": "sha512_ecdsa",
}


@pytest.mark.parametrize(("oid", "name"), sorted(oids.HASH_NAMES.items()))
def test_hash_oids_are_asn1cryptos(oid: str, name: str) -> None:
    assert algos.DigestAlgorithmId.map(oid) == name


@pytest.mark.parametrize("scheme", oids.SIGNATURE_SCHEMES.values(), ids=lambda s: s.name)
def test_signature_oids_are_asn1cryptos(scheme: oids.SignatureScheme) -> None:
    if scheme.name.startswith("ecdsa-plain-"):
        # BSI TR-03111 §5.2.1: bsi-de(0.4.0.127.0.7) algorithms(1) id-ecc(1) signatures(4)
        # ecdsa-plain-signatures(1), then SHA-1, -224, -256, -384, -512 as arcs 1 to 5.
        arc = ("SHA1", "SHA224", "SHA256", "SHA384", "SHA512").index(scheme.name[12:]) + 1
        assert scheme.oid == f"0.4.0.127.0.7.1.1.4.1.{arc}" and scheme.plain
    elif scheme.name == "id-ecPublicKey":
        assert scheme.oid == oids.ID_EC_PUBLIC_KEY and scheme.hash_name is None
    else:
        assert algos.SignedDigestAlgorithmId.map(scheme.oid) == ASN1_SIGNATURE_NAMES[scheme.name]
    if scheme.hash_name is not None:
        assert scheme.hash_name in oids.HASH_OIDS


def test_cms_oids_are_asn1cryptos() -> None:
    assert cms.ContentType.map(oids.ID_SIGNED_DATA) == "signed_data"
    assert cms.ContentType.map(oids.ID_DATA) == "data"
    assert cms.CMSAttributeType.map(oids.ID_MESSAGE_DIGEST) == "message_digest"
    assert cms.CMSAttributeType.map(oids.ID_CONTENT_TYPE) == "content_type"
    assert cms.CMSAttributeType.map(oids.ID_SIGNING_TIME) == "signing_time"


def test_the_active_authentication_names_and_the_verifier_read_the_same_table() -> None:
    for oid, name in oids.SIGNATURE_ALGORITHMS.items():
        assert oids.SIGNATURE_OIDS[name] == oid
        resolved = signatures.signature_algorithm(oid)
        assert resolved.kind == "ecdsa" and resolved.hash_name == oids.ecdsa_hash(oid)
        assert resolved.plain is name.startswith("ecdsa-plain-")
    assert oids.ecdsa_hash(oids.ID_RSA_ENCRYPTION) is None
    assert oids.ecdsa_hash(oids.ID_EC_PUBLIC_KEY) is None
    assert oids.ecdsa_hash("1.2.3") is None
