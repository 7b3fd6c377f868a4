"""DG15, the Active Authentication public key (ICAO 9303-10 §4.7.15, 9303-11 §6.1):
tag 6F wrapping a SubjectPublicKeyInfo, RSA or EC (named or explicit parameters), read by
``reader.lds.public_key``. An RSASSA-PSS key is refused: active authentication signs with
ISO/IEC 9796-2, which needs an rsaEncryption key.
"""

from __future__ import annotations

from dataclasses import dataclass

from reader.errors import ParseError
from reader.lds.outer import open_file
from reader.lds.public_key import PublicKeyInfo, parse_public_key_info
from reader.oids import ID_RSASSA_PSS

_FILE = "DG15"


@dataclass(frozen=True, slots=True, kw_only=True)
class DG15:
    raw: bytes
    public_key: PublicKeyInfo

    @property
    def spki(self) -> bytes:
        """The SubjectPublicKeyInfo DER exactly as stored."""
        return self.public_key.der

    @property
    def key_type(self) -> str:
        return self.public_key.key_type


def parse_dg15(raw: bytes) -> DG15:
    raw = bytes(raw)
    top = open_file(raw, 0x6F, _FILE)
    if len(top.children) != 1:
        raise ParseError("DG15 must hold exactly one SubjectPublicKeyInfo", offset=0, file=_FILE)
    header = len(top.raw) - len(top.value)
    key = parse_public_key_info(top.children[0].raw, file=_FILE, offset=header)
    if key.key_type not in ("RSA", "EC") or key.algorithm_oid == ID_RSASSA_PSS:
        raise ParseError(
            f"DG15 key algorithm {key.algorithm_oid} is neither RSA nor EC",
            offset=header,
            file=_FILE,
        )
    return DG15(raw=raw, public_key=key)
