"""PACE, Password Authenticated Connection Establishment (ICAO 9303-11 §4.4; domain parameters
§9.5.1; key agreement §9.6; key derivation §9.7.1/§9.7.3; public key data objects §9.4;
point encoding for the Integrated Mapping, Appendix B; BSI TR-03110-2/3 for the PACE parts).

Sans-I/O (ARCHITECTURE.md, h11 style): :class:`PaceTerminal` builds the commands and checks the
answers, :class:`PaceChip` is the card side the simulated chip drives, and :func:`perform_pace`
is the small driver ``reader.session.open_session`` calls with a ``send`` function.

Supported: passwords MRZ (``BACKey``) and CAN (``CANKey``); Generic Mapping over ECDH
(standardized parameter ids 8-18) and DH (ids 0-2, RFC 5114), Integrated Mapping over both
(ECDH needs p = 3 mod 4, which every standardized curve but NIST P-224 has), Chip
Authentication Mapping (ECDH, AES); 3DES and AES-128/192/256.

Randomness (ARCHITECTURE.md): the terminal draws its mapping private key (Integrated Mapping:
its nonce t), then its ephemeral private key, each ``random(L)`` with L the byte length of the
group order, big-endian, drawn again when 0 or not below the order. Nothing else draws.
Elliptic-curve arithmetic is the maintained ``ecdsa`` package's (fast with gmpy2).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecdsa import curves as ecdsa_curves
from ecdsa import ellipticcurve

from reader import tlv
from reader.apdu import Command, Response, status_error
from reader.crypto import (
    KDF_ENC,
    KDF_MAC,
    KDF_PACE,
    Cipher,
    aes_cbc_decrypt,
    aes_cbc_encrypt,
    aes_cmac,
    aes_ecb_encrypt,
    derive_key,
    pad,
    retail_mac,
    tdes_cbc_decrypt,
    tdes_cbc_encrypt,
    unpad,
)
from reader.errors import (
    AccessDeniedError,
    ParseError,
    ProtocolError,
    SecureMessagingError,
    UnsupportedError,
)
from reader.keys import AccessKey, BACKey, CANKey
from reader.lds.security_infos import (
    PACE_PROTOCOLS,
    PACEInfo,
    PACEProtocol,
    SecurityInfos,
    encode_oid,
    parse_card_access,
)
from reader.sm import SecureMessaging

RandomFn = Callable[[int], bytes]
SendFn = Callable[[Command], Response]

PASSWORD_MRZ = 0x01
PASSWORD_CAN = 0x02
MAX_DRAWS = 10_000  # P-521: a 66-byte draw is below the order 1 time in 128
CAM_IV_INPUT = b"\xff" * 16

# ---------------------------------------------------------------------------------------------
# Groups


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

_CURVES: dict[int, tuple[str, Any]] = {
    8: ("secp192r1", ecdsa_curves.NIST192p),
    9: ("brainpoolP192r1", ecdsa_curves.BRAINPOOLP192r1),
    10: ("secp224r1", ecdsa_curves.NIST224p),
    11: ("brainpoolP224r1", ecdsa_curves.BRAINPOOLP224r1),
    12: ("secp256r1", ecdsa_curves.NIST256p),
    13: ("brainpoolP256r1", ecdsa_curves.BRAINPOOLP256r1),
    14: ("brainpoolP320r1", ecdsa_curves.BRAINPOOLP320r1),
    15: ("secp384r1", ecdsa_curves.NIST384p),
    16: ("brainpoolP384r1", ecdsa_curves.BRAINPOOLP384r1),
    17: ("brainpoolP512r1", ecdsa_curves.BRAINPOOLP512r1),
    18: ("secp521r1", ecdsa_curves.NIST521p),
}

STANDARD_PARAMETER_IDS = tuple(sorted([*_RFC5114, *_CURVES]))


def standard_group(parameter_id: int) -> Group:
    """The group of a standardized domain parameter id (9303-11 §9.5.1)."""
    if parameter_id in _CURVES:
        name, curve = _CURVES[parameter_id]
        return ECGroup.named(name, curve)
    if parameter_id in _RFC5114:
        name, p, g, q = _RFC5114[parameter_id]
        return DHGroup(name, int(p, 16), int(g, 16), int(q, 16))
    raise UnsupportedError(f"PACE domain parameter id {parameter_id} is not standardized")


def group_for_curve_oid(curve_oid: str) -> ECGroup | None:
    """The named curve group for a curve OID (used by Chip Authentication with DG14 keys)."""
    for name, curve in _CURVES.values():
        if ".".join(str(arc) for arc in curve.oid) == curve_oid:
            return ECGroup.named(name, curve)
    return None


# ---------------------------------------------------------------------------------------------
# Symmetric pieces


@dataclass(frozen=True, slots=True, kw_only=True)
class Suite:
    """Cipher and key length of a PACE (or CA) protocol."""

    cipher: Cipher
    key_length: int  # bytes

    @classmethod
    def of(cls, cipher_name: str, key_length: int) -> Suite:
        return cls(
            cipher=Cipher.TDES if cipher_name == "3DES" else Cipher.AES, key_length=key_length
        )

    @property
    def key_bits(self) -> int:
        return self.key_length * 8

    def kdf(self, seed: bytes, counter: int) -> bytes:
        return derive_key(seed, counter, self.cipher, self.key_bits)

    def encrypt(self, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
        if self.cipher is Cipher.TDES:
            return tdes_cbc_encrypt(key, data, iv or bytes(8))
        return aes_cbc_encrypt(key, data, iv or bytes(16))

    def decrypt(self, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
        if not data or len(data) % self.cipher.block_size:
            raise ProtocolError(f"encrypted data of {len(data)} bytes is not whole blocks")
        if self.cipher is Cipher.TDES:
            return tdes_cbc_decrypt(key, data, iv or bytes(8))
        return aes_cbc_decrypt(key, data, iv or bytes(16))

    def mac(self, key: bytes, data: bytes) -> bytes:
        """The authentication token MAC (§4.4.3.4): retail MAC with padding method 2, or
        CMAC (which pads internally) truncated to 8 bytes."""
        if self.cipher is Cipher.TDES:
            return retail_mac(key, pad(data, 8))
        return aes_cmac(key, data)

    def session(self, shared_secret: bytes) -> SecureMessaging:
        return SecureMessaging(
            self.cipher, self.kdf(shared_secret, KDF_ENC), self.kdf(shared_secret, KDF_MAC), 0
        )

    @property
    def nonce_length(self) -> int:
        """Bytes of the nonce s: the smallest whole number of blocks not shorter than the key."""
        block = self.cipher.block_size
        return -(-self.key_length // block) * block


def password_seed(key: AccessKey) -> tuple[int, bytes]:
    """The password reference (MSE:Set AT tag 83) and f(pi) of §9.7.3: SHA-1 of the MRZ
    information, or the CAN as ISO 8859-1 bytes."""
    if isinstance(key, CANKey):
        return PASSWORD_CAN, key.password
    if isinstance(key, BACKey):
        return PASSWORD_MRZ, hashlib.sha1(key.password).digest()
    raise UnsupportedError(f"PACE cannot use a {type(key).__name__}")


def pseudo_random(s: bytes, t: bytes, suite: Suite, modulus: int) -> int:
    """R_p(s, t) of §4.4.3.3.2 (pseudo-random number mapping), reduced mod p."""
    wide = suite.key_length > 16
    c0 = bytes.fromhex(
        "d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676"
        if wide
        else "a668892a7c41e3ca739f40b057d85904"
    )
    c1 = bytes.fromhex(
        "54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517"
        if wide
        else "a4e136ac725f738b01c1f60217c188ad"
    )
    block_bits = len(c0) * 8
    rounds = -(-(modulus.bit_length() + 64) // block_bits)
    key = suite.encrypt(t, s)
    out = b""
    for _ in range(rounds):
        key = key[: suite.key_length]
        out += suite.encrypt(key, c1)
        key = suite.encrypt(key, c0)
    return int.from_bytes(out, "big") % modulus


def public_key_object(oid: str, group: Group, encoded: bytes) -> bytes:
    """The public key data object of §9.4 over which the authentication token is computed:
    7F49 { 06 OID, 86 point (ECDH) | 84 value (DH) }."""
    tag = 0x86 if group.kind == "ECDH" else 0x84
    return tlv.encode(0x7F49, [tlv.encode(0x06, encode_oid(oid)), tlv.encode(tag, encoded)])


def cam_iv(suite: Suite, ks_enc: bytes) -> bytes:
    """IV for the encrypted chip authentication data: E(KS_enc, -1) (§4.4.3.5.4)."""
    return aes_ecb_encrypt(ks_enc, CAM_IV_INPUT)


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


def describe(protocol: PACEProtocol, group: Group) -> str:
    """E.g. "PACE-ECDH-GM-AES-128 brainpoolP256r1"."""
    cipher = "3DES" if protocol.cipher == "3DES" else f"AES-{protocol.key_length * 8}"
    return f"PACE-{protocol.key_agreement}-{protocol.mapping}-{cipher} {group.name}"


def _dynamic_data(data: bytes, step: str) -> dict[int, bytes]:
    """The data objects inside 7C (Dynamic Authentication Data), by tag."""
    try:
        top = tlv.decode_one(data)
    except ParseError as exc:
        raise ProtocolError(f"PACE {step}: answer is not TLV ({exc.reason})") from None
    if top.tag != 0x7C:
        raise ProtocolError(f"PACE {step}: answer tag {top.tag:X}, expected 7C")
    try:
        children = tlv.decode(top.value, max_elements=8) if top.value else []
    except ParseError as exc:
        raise ProtocolError(f"PACE {step}: bad data objects ({exc.reason})") from None
    return {child.tag: child.value for child in children}


def _need(objects: dict[int, bytes], tag: int, step: str) -> bytes:
    if tag not in objects:
        raise ProtocolError(f"PACE {step}: data object {tag:02X} missing")
    return objects[tag]


def general_authenticate(objects: list[bytes], *, last: bool) -> Command:
    """GENERAL AUTHENTICATE with 7C; chaining bit on all but the last (§4.4.4.3)."""
    data = tlv.encode(0x7C, objects)
    extended = len(data) > 255
    return Command(0x00 if last else 0x10, 0x86, 0x00, 0x00, data, 65536 if extended else 256)


# ---------------------------------------------------------------------------------------------
# Terminal


@dataclass(frozen=True, slots=True, kw_only=True)
class ChipAuthenticationData:
    """What PACE-CAM gives for checking against the chip's static key (§4.4.3.5.2) once DG14
    (or EF.CardSecurity) has been read and passive authentication holds."""

    ca_ic: int
    mapping_public_key: bytes  # PK_Map,IC as received
    parameter_id: int


class PaceSecureMessaging(SecureMessaging):
    """The secure messaging PACE established, with its parameters and PACE-CAM data."""

    description: str = ""
    chip_authentication_data: ChipAuthenticationData | None = None


def select_pace(infos: SecurityInfos) -> PACEInfo:
    """The PACEInfo to run: the best one whose parameters we implement."""
    usable = [
        info
        for info in infos.pace_infos
        if info.protocol is not None
        and info.parameter_id in STANDARD_PARAMETER_IDS
        and not (
            info.protocol.mapping == "IM"
            and info.protocol.key_agreement == "ECDH"
            and info.parameter_id == 10
        )
    ]
    if not usable:
        raise UnsupportedError("EF.CardAccess offers no PACE option this reader implements")
    chosen = SecurityInfos(raw=infos.raw, infos=tuple(usable)).best_pace()
    assert chosen is not None
    return chosen


class PaceTerminal:
    """The terminal side of PACE as a state machine over command/response data."""

    def __init__(
        self,
        key: AccessKey,
        card_access: bytes | SecurityInfos,
        random: RandomFn,
        *,
        info: PACEInfo | None = None,
    ) -> None:
        infos = (
            card_access
            if isinstance(card_access, SecurityInfos)
            else parse_card_access(card_access)
        )
        self.info = info or select_pace(infos)
        protocol = self.info.protocol
        if protocol is None or self.info.parameter_id is None:
            raise UnsupportedError("PACEInfo without a known protocol or parameter id")
        self.protocol: PACEProtocol = protocol
        self.parameter_id: int = self.info.parameter_id
        self.ambiguous = len(infos.pace_infos) > 1
        self.key = key
        self.random = random
        self.suite = Suite.of(protocol.cipher, protocol.key_length)
        self.group = standard_group(self.parameter_id)
        self.password_ref, seed = password_seed(key)
        self.k_pi = self.suite.kdf(seed, KDF_PACE)
        self.description = describe(protocol, self.group)
        self.sent_parameter_id = False
        self._nonce = 0
        self._nonce_bytes = b""
        self._map_private = 0
        self._map_public_ic: bytes = b""
        self._mapped: Group = self.group
        self._private = 0
        self._public = b""
        self._public_ic: Any = None
        self._public_ic_bytes = b""
        self._ks_enc = b""
        self._ks_mac = b""
        self._t_nonce = b""

    def mse_set_at(self, *, with_parameter_id: bool | None = None) -> Command:
        """MSE:Set AT (§4.4.4.1): 80 OID, 83 password, 84 parameter id when ambiguous."""
        include = self.ambiguous if with_parameter_id is None else with_parameter_id
        data = tlv.encode(0x80, encode_oid(self.protocol.oid))
        data += tlv.encode(0x83, bytes([self.password_ref]))
        if include:
            data += tlv.encode(0x84, bytes([self.parameter_id]))
        self.sent_parameter_id = include
        return Command(0x00, 0x22, 0xC1, 0xA4, data)

    def nonce_command(self) -> Command:
        return general_authenticate([], last=False)

    def mapping_command(self, answer: bytes) -> Command:
        """Decrypt the nonce s; send the mapping data (GM/CAM: PK_Map,IFD; IM: nonce t)."""
        z = _need(_dynamic_data(answer, "encrypted nonce"), 0x80, "encrypted nonce")
        self._nonce_bytes = self.suite.decrypt(self.k_pi, z)
        self._nonce = int.from_bytes(self._nonce_bytes, "big")
        if self.protocol.mapping == "IM":
            self._t_nonce = self.random(self.suite.key_length)
            return general_authenticate([tlv.encode(0x81, self._t_nonce)], last=False)
        self._map_private = draw_scalar(self.random, self.group.order)
        mapping_public = self.group.encode(self.group.public(self._map_private))
        return general_authenticate([tlv.encode(0x81, mapping_public)], last=False)

    def key_agreement_command(self, answer: bytes) -> Command:
        """Compute the ephemeral generator; send PK_DH,IFD."""
        objects = _dynamic_data(answer, "map nonce")
        if self.protocol.mapping == "IM":
            value = pseudo_random(self._nonce_bytes, self._t_nonce, self.suite, self.group.modulus)
            self._mapped = self.group.map_integrated(value)
        else:
            self._map_public_ic = _need(objects, 0x82, "map nonce")
            chip_map = self.group.decode(self._map_public_ic)
            mine = self.group.encode(self.group.public(self._map_private))
            if self._map_public_ic == mine:
                raise ProtocolError("PACE map nonce: the chip echoed the terminal's key")
            if isinstance(self.group, ECGroup):
                h: Any = self.group.shared_point(self._map_private, chip_map)
            else:
                h = self.group.multiply(chip_map, self._map_private)
            self._mapped = self.group.map_generic(self._nonce, h)
        self._private = draw_scalar(self.random, self._mapped.order)
        self._public = self._mapped.encode(self._mapped.public(self._private))
        return general_authenticate([tlv.encode(0x83, self._public)], last=False)

    def mutual_authentication_command(self, answer: bytes) -> Command:
        """Key agreement, session keys; send the terminal's token T_IFD."""
        objects = _dynamic_data(answer, "key agreement")
        self._public_ic_bytes = _need(objects, 0x84, "key agreement")
        self._public_ic = self._mapped.decode(self._public_ic_bytes)
        if self._public_ic_bytes == self._public:
            raise ProtocolError("PACE key agreement: the chip's public key equals the terminal's")
        secret = self._mapped.shared_secret(self._private, self._public_ic)
        self._ks_enc = self.suite.kdf(secret, KDF_ENC)
        self._ks_mac = self.suite.kdf(secret, KDF_MAC)
        token = self.suite.mac(
            self._ks_mac, public_key_object(self.protocol.oid, self._mapped, self._public_ic_bytes)
        )
        return general_authenticate([tlv.encode(0x85, token)], last=True)

    def finish(self, answer: bytes) -> PaceSecureMessaging:
        """Check the chip's token T_IC (and decrypt its CA data for CAM): the new session."""
        objects = _dynamic_data(answer, "mutual authentication")
        token = _need(objects, 0x86, "mutual authentication")
        expected = self.suite.mac(
            self._ks_mac, public_key_object(self.protocol.oid, self._mapped, self._public)
        )
        if not hmac.compare_digest(token, expected):
            raise SecureMessagingError(
                "PACE: the chip's authentication token does not verify (not the chip that "
                "knows the password, or a corrupted answer)"
            )
        sm = PaceSecureMessaging(self.suite.cipher, self._ks_enc, self._ks_mac, 0)
        sm.description = self.description
        if self.protocol.mapping == "CAM":
            encrypted = _need(objects, 0x8A, "mutual authentication (CAM)")
            plain = unpad(
                self.suite.decrypt(self._ks_enc, encrypted, cam_iv(self.suite, self._ks_enc))
            )
            ca_ic = int.from_bytes(plain, "big")
            if not 0 < ca_ic < self.group.order:
                raise ProtocolError("PACE-CAM: chip authentication data out of range")
            sm.chip_authentication_data = ChipAuthenticationData(
                ca_ic=ca_ic, mapping_public_key=self._map_public_ic, parameter_id=self.parameter_id
            )
        return sm


def verify_cam(data: ChipAuthenticationData, chip_public_key: bytes) -> bool:
    """§4.4.3.5.2: PK_Map,IC == KA(CA_IC, PK_IC) for the chip's static key from DG14."""
    group = standard_group(data.parameter_id)
    try:
        static = group.decode(chip_public_key)
        mapping = group.decode(data.mapping_public_key)
    except ProtocolError:
        return False
    return bool(group.equal(group.multiply(static, data.ca_ic), mapping))


def _wrong_password(key: AccessKey, sw: int, step: str) -> AccessDeniedError:
    if isinstance(key, CANKey):
        hint = "the CAN is wrong: on a CCCD the CAN is the last 6 digits of the 12-digit ID number"
    else:
        hint = (
            "the MRZ password is wrong: check the document number (last 9 digits of the "
            "ID number), date of birth and date of expiry"
        )
    return AccessDeniedError(sw, f"PACE refused at {step} (card answered {sw:04X}): {hint}")


def perform_pace(
    send: SendFn, key: AccessKey, card_access: bytes, random: RandomFn
) -> tuple[PaceSecureMessaging, str]:
    """Run PACE over ``send`` (plain commands, answers not raised on SW); the new secure
    messaging and a description such as "PACE-ECDH-GM-AES-128 brainpoolP256r1"."""
    terminal = PaceTerminal(key, card_access, random)
    answer = send(terminal.mse_set_at())
    if answer.sw == 0x6A88 and not terminal.sent_parameter_id:
        # Some chips want the parameter id even when EF.CardAccess names just one set.
        answer = send(terminal.mse_set_at(with_parameter_id=True))
    if answer.sw != 0x9000:
        raise status_error(answer.sw, "PACE MSE:Set AT")

    def exchange(command: Command, step: str) -> bytes:
        response = send(command)
        if response.sw == 0x6300 or response.sw & 0xFFF0 == 0x63C0:
            raise _wrong_password(key, response.sw, step)
        if response.sw != 0x9000:
            raise status_error(response.sw, f"PACE General Authenticate ({step})")
        return response.data

    data = exchange(terminal.nonce_command(), "encrypted nonce")
    data = exchange(terminal.mapping_command(data), "map nonce")
    data = exchange(terminal.key_agreement_command(data), "key agreement")
    data = exchange(terminal.mutual_authentication_command(data), "mutual authentication")
    sm = terminal.finish(data)
    return sm, terminal.description


# ---------------------------------------------------------------------------------------------
# Chip


TamperFn = Callable[[str, bytes], bytes]


class PaceChip:
    """The card side of PACE (used by ``fixtures.chip_pace``): MSE:Set AT and the four
    GENERAL AUTHENTICATE steps. Answers are (data, SW); the finished session is
    :attr:`result` once the last step succeeds. ``tamper(step, encoded_public_key)`` lets
    tests send invalid public keys ("mapping" or "ephemeral")."""

    def __init__(
        self,
        *,
        offers: list[tuple[str, int]],
        mrz: BACKey | None,
        can: str | None,
        random: RandomFn,
        ca_private_key: int | None = None,
        require_parameter_id: bool = False,
        tamper: TamperFn | None = None,
    ) -> None:
        self.offers = offers
        self.passwords: dict[int, bytes] = {}
        if mrz is not None:
            self.passwords[PASSWORD_MRZ] = password_seed(mrz)[1]
        if can is not None:
            self.passwords[PASSWORD_CAN] = password_seed(CANKey(can))[1]
        self.random = random
        self.ca_private_key = ca_private_key
        self.require_parameter_id = require_parameter_id
        self.tamper = tamper
        self.result: SecureMessaging | None = None
        self.reset()

    def reset(self) -> None:
        self.step = 0
        self.protocol: PACEProtocol | None = None
        self.group: Group | None = None
        self.parameter_id = 0
        self.suite: Suite | None = None
        self.k_pi = b""
        self.result = None

    @property
    def active(self) -> bool:
        return self.protocol is not None

    def set_at(self, data: bytes) -> int:
        self.reset()
        try:
            objects = {o.tag: o.value for o in tlv.decode(data, max_elements=8)}
        except ParseError:
            return 0x6A80
        oid_value = objects.get(0x80)
        protocol = next(
            (
                p
                for p in PACE_PROTOCOLS.values()
                if oid_value is not None and encode_oid(p.oid) == oid_value
            ),
            None,
        )
        if protocol is None:
            return 0x6A80
        matching = [pid for oid, pid in self.offers if oid == protocol.oid]
        if 0x84 in objects:
            wanted = int.from_bytes(objects[0x84], "big")
            if wanted not in matching:
                return 0x6A88
        elif len(matching) == 1 and not self.require_parameter_id:
            wanted = matching[0]
        else:
            return 0x6A88
        password_ref = objects.get(0x83, b"")
        if len(password_ref) != 1 or password_ref[0] not in self.passwords:
            return 0x6A88
        self.protocol = protocol
        self.parameter_id = wanted
        self.group = standard_group(wanted)
        self.suite = Suite.of(protocol.cipher, protocol.key_length)
        self.k_pi = self.suite.kdf(self.passwords[password_ref[0]], KDF_PACE)
        return 0x9000

    def general_authenticate(self, data: bytes) -> tuple[bytes, int]:
        if self.protocol is None or self.group is None or self.suite is None:
            return b"", 0x6985
        try:
            objects = _dynamic_data(data, "command")
            return self._step(objects)
        except (ProtocolError, UnsupportedError):
            self.reset()
            return b"", 0x6A80

    def _out(self, step: str, encoded: bytes) -> bytes:
        return self.tamper(step, encoded) if self.tamper is not None else encoded

    def _step(self, objects: dict[int, bytes]) -> tuple[bytes, int]:
        assert self.protocol is not None and self.group is not None and self.suite is not None
        group, suite, protocol = self.group, self.suite, self.protocol
        self.step += 1
        if self.step == 1:
            self.nonce_bytes = self.random(suite.nonce_length)
            z = suite.encrypt(self.k_pi, self.nonce_bytes)
            return tlv.encode(0x7C, [tlv.encode(0x80, z)]), 0x9000
        if self.step == 2:
            mapping = _need(objects, 0x81, "map nonce")
            nonce = int.from_bytes(self.nonce_bytes, "big")
            if protocol.mapping == "IM":
                if len(mapping) != suite.key_length:
                    raise ProtocolError("nonce t of the wrong length")
                self.mapped = group.map_integrated(
                    pseudo_random(self.nonce_bytes, mapping, suite, group.modulus)
                )
                return tlv.encode(0x7C, [tlv.encode(0x82, b"")]), 0x9000
            terminal_map = group.decode(mapping)
            self.map_private = draw_scalar(self.random, group.order)
            mine = group.encode(group.public(self.map_private))
            h = (
                group.shared_point(self.map_private, terminal_map)
                if isinstance(group, ECGroup)
                else group.multiply(terminal_map, self.map_private)
            )
            self.mapped = group.map_generic(nonce, h)
            return tlv.encode(0x7C, [tlv.encode(0x82, self._out("mapping", mine))]), 0x9000
        if self.step == 3:
            self.terminal_public = _need(objects, 0x83, "key agreement")
            terminal_key = self.mapped.decode(self.terminal_public)
            self.private = draw_scalar(self.random, self.mapped.order)
            self.public = self.mapped.encode(self.mapped.public(self.private))
            if self.public == self.terminal_public:
                raise ProtocolError("equal ephemeral keys")
            secret = self.mapped.shared_secret(self.private, terminal_key)
            self.ks_enc = suite.kdf(secret, KDF_ENC)
            self.ks_mac = suite.kdf(secret, KDF_MAC)
            public = self._out("ephemeral", self.public)
            return tlv.encode(0x7C, [tlv.encode(0x84, public)]), 0x9000
        if self.step == 4:
            token = _need(objects, 0x85, "mutual authentication")
            expected = suite.mac(
                self.ks_mac, public_key_object(protocol.oid, self.mapped, self.public)
            )
            if not hmac.compare_digest(token, expected):
                self.reset()
                return b"", 0x6300
            answer = [
                tlv.encode(
                    0x86,
                    suite.mac(
                        self.ks_mac,
                        public_key_object(protocol.oid, self.mapped, self.terminal_public),
                    ),
                )
            ]
            if protocol.mapping == "CAM":
                if self.ca_private_key is None:
                    self.reset()
                    return b"", 0x6A88
                ca_ic = pow(self.ca_private_key, -1, group.order) * self.map_private % group.order
                plain = pad(ca_ic.to_bytes(group.order_length, "big"), 16)
                answer.append(
                    tlv.encode(0x8A, suite.encrypt(self.ks_enc, plain, cam_iv(suite, self.ks_enc)))
                )
            sm = SecureMessaging(suite.cipher, self.ks_enc, self.ks_mac, 0)
            self.reset()
            self.result = sm
            return tlv.encode(0x7C, answer), 0x9000
        self.reset()
        return b"", 0x6985


__all__ = [
    "ChipAuthenticationData",
    "DHGroup",
    "ECGroup",
    "Group",
    "PaceChip",
    "PaceSecureMessaging",
    "PaceTerminal",
    "Suite",
    "describe",
    "draw_scalar",
    "group_for_curve_oid",
    "password_seed",
    "perform_pace",
    "point_encode",
    "pseudo_random",
    "select_pace",
    "standard_group",
    "verify_cam",
]
