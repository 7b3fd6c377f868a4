"""Small bounded DER readers over ``reader.tlv`` elements (X.690 §8.3 INTEGER, §8.19 OBJECT
IDENTIFIER, §8.9 SEQUENCE), for the SecurityInfos of EF.CardAccess and DG14 and the OIDs of
DG13. Every read checks the tag and the length before use and raises ``ParseError`` naming
the file and the offset.

Structures with a published ASN.1 module (SubjectPublicKeyInfo, CMS, X.509) are read with
asn1crypto instead (``reader.lds.public_key``, ``reader.lds.sod``).
"""

from __future__ import annotations

from reader import tlv
from reader.errors import ParseError

MAX_INT_BYTES = 1100  # an 8192-bit modulus plus slack
MAX_OID_BYTES = 64


def decode_oid(data: bytes, offset: int = 0, file: str | None = None) -> str:
    """The dotted form of an OBJECT IDENTIFIER value (X.690 §8.19)."""
    if not data or len(data) > MAX_OID_BYTES:
        raise ParseError(f"OID of {len(data)} bytes", offset=offset, file=file)
    if data[-1] & 0x80:
        raise ParseError("OID cut short", offset=offset, file=file)
    arcs: list[int] = []
    value = 0
    for byte in data:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])


def encode_oid(dotted: str) -> bytes:
    """The value bytes of an OBJECT IDENTIFIER (no tag and length)."""
    arcs = [int(part) for part in dotted.split(".")]
    numbers = [arcs[0] * 40 + arcs[1], *arcs[2:]]
    out = bytearray()
    for number in numbers:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def read_int(element: tlv.TLV, file: str | None) -> int:
    """An INTEGER element's value (two's complement, X.690 §8.3.3)."""
    if element.tag != 0x02:
        raise ParseError(
            f"INTEGER expected, found tag {element.tag:X}", offset=element.offset, file=file
        )
    if not element.value or len(element.value) > MAX_INT_BYTES:
        raise ParseError(f"INTEGER of {len(element.value)} bytes", offset=element.offset, file=file)
    return int.from_bytes(element.value, "big", signed=True)


def read_oid(element: tlv.TLV, file: str | None) -> str:
    """An OBJECT IDENTIFIER element's dotted form."""
    if element.tag != 0x06:
        raise ParseError(
            f"OID expected, found tag {element.tag:X}", offset=element.offset, file=file
        )
    return decode_oid(element.value, element.offset, file)


def expect_sequence(element: tlv.TLV, file: str | None, what: str) -> tlv.TLV:
    """``element`` itself, when it is a SEQUENCE; ``what`` names it in the error."""
    if element.tag != 0x30:
        raise ParseError(
            f"{what}: SEQUENCE expected, found tag {element.tag:X}",
            offset=element.offset,
            file=file,
        )
    return element


__all__ = [
    "MAX_INT_BYTES",
    "MAX_OID_BYTES",
    "decode_oid",
    "encode_oid",
    "expect_sequence",
    "read_int",
    "read_oid",
]
