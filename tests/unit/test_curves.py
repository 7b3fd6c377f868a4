"""The curve registry (reader.curves) against two independent tables: the ``ecdsa`` package's
curves (OIDs and parameters) and asn1crypto's named-curve OIDs; the parameter ids against the
list of ICAO 9303-11 §9.5.1."""

from __future__ import annotations

import pytest
from asn1crypto import keys

from reader import curves

# 9303-11 §9.5.1, standardized domain parameters 8-18 (ids 0-2 are the RFC 5114 MODP groups).
ICAO_9_5_1 = {
    8: ("secp192r1", 192),
    9: ("brainpoolP192r1", 192),
    10: ("secp224r1", 224),
    11: ("brainpoolP224r1", 224),
    12: ("secp256r1", 256),
    13: ("brainpoolP256r1", 256),
    14: ("brainpoolP320r1", 320),
    15: ("secp384r1", 384),
    16: ("brainpoolP384r1", 384),
    17: ("brainpoolP512r1", 512),
    18: ("secp521r1", 521),
}


@pytest.mark.parametrize("curve", curves.CURVES, ids=lambda c: c.name)
def test_each_oid_is_the_ecdsa_packages_and_asn1cryptos(curve: curves.NamedCurve) -> None:
    assert ".".join(str(arc) for arc in curve.ecdsa.oid) == curve.oid
    asn1_name = keys.NamedCurve.map(curve.oid)
    assert asn1_name.lower() == curve.name.lower()


@pytest.mark.parametrize("curve", curves.CURVES, ids=lambda c: c.name)
def test_the_pyca_curve_is_the_same_curve(curve: curves.NamedCurve) -> None:
    if curve.pyca is None:
        return
    pyca = curve.pyca()
    assert pyca.name.lower() == curve.name.lower()
    assert pyca.key_size == curve.field_bits


def test_parameter_ids_are_those_of_icao_9303_11() -> None:
    table = {c.parameter_id: (c.name, c.field_bits) for c in curves.CURVES if c.parameter_id}
    assert table == ICAO_9_5_1


def test_lookups_by_name_oid_id_and_parameters() -> None:
    p256 = curves.named("SECP256R1")
    assert curves.by_name("secp256r1") is p256
    assert curves.by_oid("1.2.840.10045.3.1.7") is p256
    assert curves.by_parameter_id(12) is p256
    fp = p256.fp
    assert curves.matching(int(fp.p()), int(fp.a()), int(fp.b()), p256.order) is p256
    assert curves.matching(int(fp.p()), int(fp.a()), int(fp.b()) + 1, p256.order) is None
    assert curves.by_name("brainpoolP256t1") is None and curves.by_oid("1.2.3") is None
    with pytest.raises(KeyError, match="brainpoolP256t1"):
        curves.named("brainpoolP256t1")
