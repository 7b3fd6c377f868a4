"""The named curves of the code base, once: name, OID, ICAO standardized domain parameter id
(ICAO 9303-11 §9.5.1), field size, and the two libraries' curve objects (the ``ecdsa``
package's, which every curve has, and pyca/cryptography's, where it has the curve).

Everything that needs a curve takes it from here: the PACE and Chip Authentication groups
(``reader.protocol.groups``), the SubjectPublicKeyInfo loader (``reader.lds.public_key``), signature
verification (``verify.signatures``) and the test doubles (``fixtures``). See
``docs/architecture.md`` "One place per concern".

The OIDs are those of RFC 5639 §4.1 (brainpool), SEC 2 §A.2 / RFC 5480 §2.1.1.1 (secp) and
RFC 3279 §3 (secp192r1 and secp256r1 as prime192v1 / prime256v1); a unit test checks each
against the ``ecdsa`` package's own table.
"""

from __future__ import annotations

from dataclasses import dataclass

import ecdsa
from cryptography.hazmat.primitives.asymmetric import ec
from ecdsa import ellipticcurve
from ecdsa.curves import Curve


@dataclass(frozen=True, slots=True)
class NamedCurve:
    """One named prime-field curve.

    ``name`` is the spelling of the standards ("brainpoolP256r1"); lookups by name ignore
    case (asn1crypto and our PKI profiles write "brainpoolp256r1"). ``parameter_id`` is the
    9303-11 §9.5.1 standardized domain parameter id, None for curves outside that table.
    ``pyca`` is None where pyca/cryptography lacks the curve (or cannot verify on it).
    """

    name: str
    ecdsa: Curve
    pyca: type[ec.EllipticCurve] | None
    parameter_id: int | None
    oid: str

    @property
    def field_bits(self) -> int:
        """Bit length of the field prime p (9303-11 §9.5.1 lists curves by it)."""
        return int(self.fp.p()).bit_length()

    @property
    def order(self) -> int:
        return int(self.ecdsa.order)

    @property
    def fp(self) -> ellipticcurve.CurveFp:
        curve = self.ecdsa.curve
        assert isinstance(curve, ellipticcurve.CurveFp)
        return curve

    def has_domain(self, p: int, a: int, b: int, order: int) -> bool:
        """Whether explicit parameters (p, a, b, n) are this curve's (a and b taken mod p)."""
        fp = self.fp
        mine = int(fp.p())
        if p != mine or order != self.order:
            return False
        return (a % p, b % p) == (int(fp.a()) % mine, int(fp.b()) % mine)


# name, ecdsa curve, pyca/cryptography curve, §9.5.1 parameter id, OID
_TABLE: tuple[
    tuple[str, Curve, type[ec.EllipticCurve] | None, int | None, str], ...
] = (
    ("secp192r1", ecdsa.NIST192p, None, 8, "1.2.840.10045.3.1.1"),
    ("brainpoolP192r1", ecdsa.BRAINPOOLP192r1, None, 9, "1.3.36.3.3.2.8.1.1.3"),
    ("secp224r1", ecdsa.NIST224p, ec.SECP224R1, 10, "1.3.132.0.33"),
    ("brainpoolP224r1", ecdsa.BRAINPOOLP224r1, None, 11, "1.3.36.3.3.2.8.1.1.5"),
    ("secp256r1", ecdsa.NIST256p, ec.SECP256R1, 12, "1.2.840.10045.3.1.7"),
    ("brainpoolP256r1", ecdsa.BRAINPOOLP256r1, ec.BrainpoolP256R1, 13, "1.3.36.3.3.2.8.1.1.7"),
    ("brainpoolP320r1", ecdsa.BRAINPOOLP320r1, None, 14, "1.3.36.3.3.2.8.1.1.9"),
    ("secp384r1", ecdsa.NIST384p, ec.SECP384R1, 15, "1.3.132.0.34"),
    ("brainpoolP384r1", ecdsa.BRAINPOOLP384r1, ec.BrainpoolP384R1, 16, "1.3.36.3.3.2.8.1.1.11"),
    ("brainpoolP512r1", ecdsa.BRAINPOOLP512r1, ec.BrainpoolP512R1, 17, "1.3.36.3.3.2.8.1.1.13"),
    ("secp521r1", ecdsa.NIST521p, ec.SECP521R1, 18, "1.3.132.0.35"),
    # Outside 9303-11 §9.5.1, met in CSCA and document signer keys:
    ("brainpoolP160r1", ecdsa.BRAINPOOLP160r1, None, None, "1.3.36.3.3.2.8.1.1.1"),
    ("secp256k1", ecdsa.SECP256k1, ec.SECP256K1, None, "1.3.132.0.10"),
)  # fmt: skip

CURVES: tuple[NamedCurve, ...] = tuple(NamedCurve(*row) for row in _TABLE)
BY_OID: dict[str, NamedCurve] = {curve.oid: curve for curve in CURVES}
BY_PARAMETER_ID: dict[int, NamedCurve] = {
    curve.parameter_id: curve for curve in CURVES if curve.parameter_id is not None
}
_BY_NAME: dict[str, NamedCurve] = {curve.name.lower(): curve for curve in CURVES}


def by_name(name: str) -> NamedCurve | None:
    """The curve called ``name`` (any case: "brainpoolP256r1", "brainpoolp256r1"), or None."""
    return _BY_NAME.get(name.lower())


def named(name: str) -> NamedCurve:
    """The curve called ``name``; KeyError naming it when the registry has no such curve."""
    curve = by_name(name)
    if curve is None:
        raise KeyError(f"no named curve {name!r} in reader.curves")
    return curve


def by_oid(oid: str) -> NamedCurve | None:
    return BY_OID.get(oid)


def by_parameter_id(parameter_id: int) -> NamedCurve | None:
    return BY_PARAMETER_ID.get(parameter_id)


def matching(p: int, a: int, b: int, order: int) -> NamedCurve | None:
    """The named curve whose explicit parameters these are, or None."""
    return next((curve for curve in CURVES if curve.has_domain(p, a, b, order)), None)


__all__ = [
    "BY_OID",
    "BY_PARAMETER_ID",
    "CURVES",
    "NamedCurve",
    "by_name",
    "by_oid",
    "by_parameter_id",
    "matching",
    "named",
]
