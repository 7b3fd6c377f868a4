"""The standardized domain parameter ids of PACE and Chip Authentication (ICAO 9303-11 §9.5.1):
ids 0-2 are the MODP groups of RFC 5114 §2.1-2.3, ids 8-18 the named curves of
``reader.curves``. ``reader.protocol.groups`` turns an id into the group the protocols compute in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reader import curves


@dataclass(frozen=True, slots=True, kw_only=True)
class StandardDomainParameters:
    """A standardized domain parameter id (9303-11 §9.5.1, table of §9.5.1)."""

    parameter_id: int
    name: str
    kind: Literal["GFP", "ECP"]
    bits: int  # modulus / field size
    curve_oid: str | None = None  # for ECP
    subgroup_bits: int | None = None  # for GFP (RFC 5114)


def _standard_params() -> dict[int, StandardDomainParameters]:
    gfp = (
        (0, "1024-bit MODP Group with 160-bit Prime Order Subgroup", 1024, 160),
        (1, "2048-bit MODP Group with 224-bit Prime Order Subgroup", 2048, 224),
        (2, "2048-bit MODP Group with 256-bit Prime Order Subgroup", 2048, 256),
    )
    table = {
        pid: StandardDomainParameters(
            parameter_id=pid, name=name, kind="GFP", bits=bits, subgroup_bits=sub
        )
        for pid, name, bits, sub in gfp
    }
    for pid, curve in curves.BY_PARAMETER_ID.items():
        table[pid] = StandardDomainParameters(
            parameter_id=pid,
            name=curve.name,
            kind="ECP",
            bits=curve.field_bits,
            curve_oid=curve.oid,
        )
    return dict(sorted(table.items()))


STANDARD_DOMAIN_PARAMETERS: dict[int, StandardDomainParameters] = _standard_params()
CURVE_NAMES: dict[str, str] = {curve.oid: curve.name for curve in curves.CURVES}

__all__ = ["CURVE_NAMES", "STANDARD_DOMAIN_PARAMETERS", "StandardDomainParameters"]
