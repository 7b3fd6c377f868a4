"""Key-agreement groups of PACE and Chip Authentication: elliptic-curve groups over GF(p) and
prime-order subgroups of GF(p)* (ICAO 9303-11 §9.5.1 standardized domain parameters, ids 0-2
from RFC 5114 and 8-18 named curves; §9.6 key agreement; §9.4 public key encoding; point
encoding of the Integrated Mapping, Appendix B). Pure arithmetic: the groups of DG14 keys are
built from their parsed records in :mod:`reader.protocol.chip_auth`.

Every public key received from the other side goes through :meth:`Group.decode`, which
validates it: an EC point must be uncompressed and on the curve, a DH value in 2..p-2 and in
the prime-order subgroup. Elliptic-curve arithmetic is the maintained ``ecdsa`` package's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecdsa import ellipticcurve

from reader import curves
from reader.errors import ProtocolError, UnsupportedError

RandomFn = Callable[[int], bytes]

MAX_DRAWS = 10_000  # P-521: a 66-byte draw is below the order 1 time in 128


class Group:
    """A cyclic group of prime order: the elements are ecdsa points or ints (DH)."""

    kind: str
    name: str
    order: int
    element_length: int  # bytes of an encoded coordinate / DH value

    @property
    def order_length(self) -> int:
        return (self.order.bit_length() + 7) // 8

    @property
    def modulus(self) -> int:
        raise NotImplementedError

    def public(self, private: int) -> Any:
        raise NotImplementedError

    def encoded_public(self, private: int) -> bytes:
        """The public key of ``private``, encoded as it goes on the wire (§9.4)."""
        return self.encode(self.public(private))

    def multiply(self, element: Any, scalar: int) -> Any:
        raise NotImplementedError

    def encode(self, element: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        """Parse and validate a public key received from the other side."""
        raise NotImplementedError

    def is_identity(self, element: Any) -> bool:
        raise NotImplementedError

    def shared_secret(self, private: int, public: Any) -> bytes:
        raise NotImplementedError

    def map_generic(self, nonce: int, h: Any) -> Group:
        raise NotImplementedError

    def map_integrated(self, value: int) -> Group:
        raise NotImplementedError

    def equal(self, a: Any, b: Any) -> bool:
        return self.encode(a) == self.encode(b)


class ECGroup(Group):
    """A prime-order subgroup of an elliptic curve over GF(p) (cofactor 1 for all of §9.5.1)."""

    kind = "ECDH"

    def __init__(self, name: str, curve: Any, generator: Any, order: int) -> None:
        self.name = name
        self.curve = curve  # ecdsa.ellipticcurve.CurveFp
        self.generator = generator  # PointJacobi
        self.order = order
        self.element_length = (int(curve.p()).bit_length() + 7) // 8

    @classmethod
    def named(cls, name: str, ecdsa_curve: Any) -> ECGroup:
        return cls(name, ecdsa_curve.curve, ecdsa_curve.generator, int(ecdsa_curve.order))

    @property
    def modulus(self) -> int:
        return int(self.curve.p())

    def public(self, private: int) -> Any:
        return self.generator * private

    def multiply(self, element: Any, scalar: int) -> Any:
        return element * scalar

    def encode(self, element: Any) -> bytes:
        if self.is_identity(element):
            raise ProtocolError("the point at infinity has no uncompressed encoding")
        affine = element.to_affine()
        x, y = affine.x(), affine.y()
        size = self.element_length
        return b"\x04" + int(x).to_bytes(size, "big") + int(y).to_bytes(size, "big")

    def decode(self, data: bytes) -> Any:
        size = self.element_length
        if len(data) != 1 + 2 * size or data[0] != 0x04:
            raise ProtocolError(
                f"public key is not an uncompressed {self.name} point ({len(data)} bytes)"
            )
        x = int.from_bytes(data[1 : 1 + size], "big")
        y = int.from_bytes(data[1 + size :], "big")
        p = self.modulus
        if x >= p or y >= p or not self.curve.contains_point(x, y):
            raise ProtocolError(f"public key is not a point on {self.name}")
        return ellipticcurve.PointJacobi(self.curve, x, y, 1, self.order)

    def is_identity(self, element: Any) -> bool:
        return bool(element == ellipticcurve.INFINITY)

    def shared_point(self, private: int, public: Any) -> Any:
        point = public * private
        if self.is_identity(point):
            raise ProtocolError("key agreement gave the point at infinity")
        return point

    def shared_secret(self, private: int, public: Any) -> bytes:
        x = self.shared_point(private, public).to_affine().x()
        return int(x).to_bytes(self.element_length, "big")

    def map_generic(self, nonce: int, h: Any) -> ECGroup:
        mapped = self.generator * nonce + h
        if self.is_identity(mapped):
            raise ProtocolError("generic mapping gave the point at infinity")
        return ECGroup(self.name, self.curve, mapped, self.order)

    def map_integrated(self, value: int) -> ECGroup:
        x, y = point_encode(value, self.modulus, int(self.curve.a()), int(self.curve.b()))
        point = ellipticcurve.PointJacobi(self.curve, x, y, 1, self.order)
        if not self.curve.contains_point(x, y) or self.is_identity(point):
            raise ProtocolError("integrated mapping gave no valid point")
        return ECGroup(self.name, self.curve, point, self.order)


class DHGroup(Group):
    """A prime-order subgroup of GF(p)* (RFC 5114 groups, 9303-11 §9.5.1)."""

    kind = "DH"

    def __init__(self, name: str, p: int, g: int, q: int) -> None:
        self.name = name
        self.p = p
        self.g = g
        self.order = q
        self.element_length = (p.bit_length() + 7) // 8

    @property
    def modulus(self) -> int:
        return self.p

    def public(self, private: int) -> int:
        return pow(self.g, private, self.p)

    def multiply(self, element: Any, scalar: int) -> int:
        return pow(int(element), scalar, self.p)

    def encode(self, element: Any) -> bytes:
        return int(element).to_bytes(self.element_length, "big")

    def decode(self, data: bytes) -> int:
        if not data or len(data) > self.element_length:
            raise ProtocolError(f"DH public value of {len(data)} bytes")
        value = int.from_bytes(data, "big")
        if not 2 <= value <= self.p - 2:
            raise ProtocolError("DH public value out of range (must be 2..p-2)")
        if pow(value, self.order, self.p) != 1:  # RFC 2631 §2.1.5: not in the subgroup
            raise ProtocolError("DH public value is not in the prime-order subgroup")
        return value

    def is_identity(self, element: Any) -> bool:
        return int(element) == 1

    def shared_secret(self, private: int, public: Any) -> bytes:
        value = pow(int(public), private, self.p)
        if value in (0, 1):
            raise ProtocolError("DH key agreement gave a trivial value")
        return value.to_bytes(self.element_length, "big")

    def map_generic(self, nonce: int, h: Any) -> DHGroup:
        if int(h) in (0, 1):
            raise ProtocolError("generic mapping: h is trivial")
        generator = pow(self.g, nonce, self.p) * int(h) % self.p
        if generator in (0, 1):
            raise ProtocolError("generic mapping gave a trivial generator")
        return DHGroup(self.name, self.p, generator, self.order)

    def map_integrated(self, value: int) -> DHGroup:
        generator = pow(value, (self.p - 1) // self.order, self.p)
        if generator in (0, 1):
            raise ProtocolError("integrated mapping gave a trivial generator")
        return DHGroup(self.name, self.p, generator, self.order)


def point_encode(t: int, p: int, a: int, b: int) -> tuple[int, int]:
    """f_G of 9303-11 Appendix B.2 (simplified SWU, Brier et al.): a field element to a point.
    Needs p = 3 mod 4 (the square root is a single exponentiation)."""
    if p % 4 != 3:
        raise UnsupportedError("the Integrated Mapping point encoding needs p = 3 mod 4")
    alpha = -(t * t) % p
    s = (alpha + alpha * alpha) % p
    x2 = (-b * (1 + s) * pow(a * s % p, p - 2, p)) % p
    x3 = alpha * x2 % p
    h2 = (pow(x2, 3, p) + a * x2 + b) % p
    u = pow(t, 3, p) * h2 % p
    big_a = pow(h2, p - 1 - (p + 1) // 4, p)
    if big_a * big_a * h2 % p == 1:
        return x2, big_a * h2 % p
    return x3, big_a * u % p


_RFC5114 = {
    0: (
        "modp1024-160",
        "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B616073E28675A23D189838EF1E"
        "2EE652C013ECB4AEA906112324975C3CD49B83BFACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738"
        "FAA31A4FF55BCCC0A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371",
        "A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31266FEA1E5C41564B777E690F"
        "5504F213160217B4B01B886A5E91547F9E2749F4D7FBD7D3B9A92EE1909D0D2263F80A76A6A24C087A091F53"
        "1DBF0A0169B6A28AD662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24855E6EEB22B3B2E5",
        "F518AA8781A8DF278ABA4E7D64B7CB9D49462353",
    ),
    1: (
        "modp2048-224",
        "AD107E1E9123A9D0D660FAA79559C51FA20D64E5683B9FD1B54B1597B61D0A75E6FA141DF95A56DBAF9A3C40"
        "7BA1DF15EB3D688A309C180E1DE6B85A1274A0A66D3F8152AD6AC2129037C9EDEFDA4DF8D91E8FEF55B7394B"
        "7AD5B7D0B6C12207C9F98D11ED34DBF6C6BA0B2C8BBC27BE6A00E0A0B9C49708B3BF8A317091883681286130"
        "BC8985DB1602E714415D9330278273C7DE31EFDC7310F7121FD5A07415987D9ADC0A486DCDF93ACC44328387"
        "315D75E198C641A480CD86A1B9E587E8BE60E69CC928B2B9C52172E413042E9B23F10B0E16E79763C9B53DCF"
        "4BA80A29E3FB73C16B8E75B97EF363E2FFA31F71CF9DE5384E71B81C0AC4DFFE0C10E64F",
        "AC4032EF4F2D9AE39DF30B5C8FFDAC506CDEBE7B89998CAF74866A08CFE4FFE3A6824A4E10B9A6F0DD921F01"
        "A70C4AFAAB739D7700C29F52C57DB17C620A8652BE5E9001A8D66AD7C17669101999024AF4D027275AC1348B"
        "B8A762D0521BC98AE247150422EA1ED409939D54DA7460CDB5F6C6B250717CBEF180EB34118E98D119529A45"
        "D6F834566E3025E316A330EFBB77A86F0C1AB15B051AE3D428C8F8ACB70A8137150B8EEB10E183EDD19963DD"
        "D9E263E4770589EF6AA21E7F5F2FF381B539CCE3409D13CD566AFBB48D6C019181E1BCFE94B30269EDFE72FE"
        "9B6AA4BD7B5A0F1C71CFFF4C19C418E1F6EC017981BC087F2A7065B384B890D3191F2BFA",
        "801C0D34C58D93FE997177101F80535A4738CEBCBF389A99B36371EB",
    ),
    2: (
        "modp2048-256",
        "87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00E00DF8F1D61957D4FAF7DF45"
        "61B2AA3016C3D91134096FAA3BF4296D830E9A7C209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C0"
        "22E0B1EF4275BF7B6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76B63ACAE1"
        "CAA6B7902D52526735488A0EF13C6D9A51BFA4AB3AD8347796524D8EF6A167B5A41825D967E144E514056425"
        "1CCACB83E6B486F6B3CA3F7971506026C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375"
        "D7014103A4B54330C198AF126116D2276E11715F693877FAD7EF09CADB094AE91E1A1597",
        "3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA12510DBC15077BE463FFF4FED4A"
        "AC0BB555BE3A6C1B0C6B47B1BC3773BF7E8C6F62901228F8C28CBB18A55AE31341000A650196F931C77A57F2"
        "DDF463E5E9EC144B777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC831D14348F6F2F9193B5045AF2"
        "767164E1DFC967C1FB3F2E55A4BD1BFFE83B9C80D052B985D182EA0ADB2A3B7313D3FE14C8484B1E052588B9"
        "B7D2BBD2DF016199ECD06E1557CD0915B3353BBB64E0EC377FD028370DF92B52C7891428CDC67EB6184B523D"
        "1DB246C32F63078490F00EF8D647D148D47954515E2327CFEF98C582664B4C0F6CC41659",
        "8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3",
    ),
}

# parameter id: (name, ecdsa curve), the named curves of 9303-11 §9.5.1 (from reader.curves)
NAMED_CURVES: dict[int, tuple[str, Any]] = {
    pid: (curve.name, curve.ecdsa) for pid, curve in curves.BY_PARAMETER_ID.items()
}

STANDARD_PARAMETER_IDS = tuple(sorted([*_RFC5114, *NAMED_CURVES]))


def standard_group(parameter_id: int) -> Group:
    """The group of a standardized domain parameter id (9303-11 §9.5.1)."""
    if parameter_id in NAMED_CURVES:
        name, curve = NAMED_CURVES[parameter_id]
        return ECGroup.named(name, curve)
    if parameter_id in _RFC5114:
        name, p, g, q = _RFC5114[parameter_id]
        return DHGroup(name, int(p, 16), int(g, 16), int(q, 16))
    raise UnsupportedError(f"PACE domain parameter id {parameter_id} is not standardized")


def group_for_curve_oid(curve_oid: str) -> ECGroup | None:
    """The named curve group for a curve OID (used by Chip Authentication with DG14 keys)."""
    curve = curves.by_oid(curve_oid)
    return ECGroup.named(curve.name, curve.ecdsa) if curve is not None else None


def draw_scalar(random: RandomFn, order: int) -> int:
    """A private key in 1..order-1 from ``random(L)`` big-endian, drawn again when out of range."""
    length = (order.bit_length() + 7) // 8
    for _ in range(MAX_DRAWS):
        raw = random(length)
        if len(raw) != length:
            raise ValueError(f"random({length}) returned {len(raw)} bytes")
        value = int.from_bytes(raw, "big")
        if 0 < value < order:
            return value
    raise ValueError("the random source keeps returning values out of range")


__all__ = [
    "NAMED_CURVES",
    "STANDARD_PARAMETER_IDS",
    "DHGroup",
    "ECGroup",
    "Group",
    "draw_scalar",
    "group_for_curve_oid",
    "point_encode",
    "standard_group",
]
