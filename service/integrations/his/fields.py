"""The HIS object: the identity in the field names and formats of the HIS data standard
(QĐ 4750 / QĐ 130, XML1 and the check-in table; ``docs/his-fields.md``), the residence's unit
codes, the insurance card after a check, and field-name profiles.

``his`` keeps exactly the standard's names (HO_TEN, SO_CCCD, NGAY_SINH ...): every value is a
string, empty when unknown, so an HIS can copy the object into its form without retyping.
Profiles rename and pick fields: ``qd130`` (the default: new 2025 unit codes, MAHUYEN_CU_TRU
the old district when the card printed one), ``qd130-old`` (every unit code on the old
63-province structure, for an HIS not yet migrated) and the operator's own mappings from the
config (``[his_profiles.NAME] SoCCCD = "SO_CCCD"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from service.integrations.his.units import Units, UnitsError, resolve_residence

__all__ = [
    "BUILTIN_PROFILES",
    "IDENTITY_FIELDS",
    "INSURANCE_FIELDS",
    "ProfileError",
    "apply_profile",
    "his_object",
    "insurance_fields",
    "unit_fields",
    "validate_profiles",
]

IDENTITY_FIELDS = (
    "HO_TEN",
    "SO_CCCD",
    "NGAY_SINH",
    "GIOI_TINH",
    "MA_QUOCTICH",
    "MA_DANTOC",
    "DIA_CHI",
    "MATINH_CU_TRU",
    "MAHUYEN_CU_TRU",
    "MAXA_CU_TRU",
)
INSURANCE_FIELDS = ("MA_THE_BHYT", "GT_THE_TU", "GT_THE_DEN", "MA_DKBD", "MA_KHUVUC")
ALL_FIELDS = IDENTITY_FIELDS + INSURANCE_FIELDS
UNIT_FIELDS = ("MATINH_CU_TRU", "MAHUYEN_CU_TRU", "MAXA_CU_TRU")
BUILTIN_PROFILES = ("qd130", "qd130-old")
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
_OUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
_CARD_CODE = re.compile(r"^[A-Z]{2}[1-5]\d{12}$")


class ProfileError(ValueError):
    """An unknown profile name, or a mapping that names a field the HIS object lacks."""


def unit_fields(units: Units, *, old_structure: bool = False) -> dict[str, str]:
    """MATINH/MAHUYEN/MAXA_CU_TRU from a resolved residence; empty where not known for sure."""
    if old_structure:
        return {
            "MATINH_CU_TRU": units.old_province.code if units.old_province else "",
            "MAHUYEN_CU_TRU": units.old_district.code if units.old_district else "",
            "MAXA_CU_TRU": units.old_ward.code if units.old_ward else "",
        }
    return {
        "MATINH_CU_TRU": units.new_province.code if units.new_province else "",
        "MAHUYEN_CU_TRU": units.old_district.code if units.old_district else "",
        "MAXA_CU_TRU": units.new_ward.code if units.new_ward else "",
    }


def _yyyymmdd(value: object) -> str:
    """dd/mm/yyyy (the gateway's form) or yyyy-mm-dd -> yyyymmdd; "" when neither."""
    text = str(value or "").strip()
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if m:
        return f"{m[3]}{int(m[2]):02d}{int(m[1]):02d}"
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if m:
        return f"{m[1]}{m[2]}{m[3]}"
    return ""


def insurance_fields(check: Mapping[str, Any] | None) -> dict[str, str]:
    """MA_THE_BHYT, GT_THE_TU/GT_THE_DEN (yyyymmdd), MA_DKBD, MA_KHUVUC from an insurance
    check. Only a check that found a card fills them; when the gateway says the held card was
    replaced (code 003) the new card's values are the ones to register."""
    empty = dict.fromkeys(INSURANCE_FIELDS, "")
    if not check or not check.get("code"):
        return empty
    card = check.get("card") or {}
    if check.get("code") == "003" and check.get("new_card"):
        card = {**card, **(check.get("new_card") or {})}
    if not isinstance(card, Mapping):
        return empty
    code = str(card.get("card_code") or "").strip().upper()
    if not _CARD_CODE.fullmatch(code):
        return empty
    return {
        "MA_THE_BHYT": code,
        "GT_THE_TU": _yyyymmdd(card.get("valid_from")),
        "GT_THE_DEN": _yyyymmdd(card.get("valid_to")),
        "MA_DKBD": str(card.get("registered_clinic") or "").strip()[:5],
        "MA_KHUVUC": str(card.get("area_code") or "").strip()[:2],
    }


def residence_units(address: str | None) -> Units:
    try:
        return resolve_residence(address)
    except UnitsError:
        return Units(status="unknown", reason="unit_lists_unavailable")


def his_object(
    identity_his: Mapping[str, Any],
    units: Units,
    insurance: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The full object under the standard's names (the ``qd130`` profile)."""
    out = {name: str(identity_his.get(name) or "") for name in IDENTITY_FIELDS}
    out.update(unit_fields(units))
    out.update(insurance_fields(insurance))
    return out


def validate_profiles(profiles: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """Operator mappings ``{profile: {their name: standard name}}``, checked. A mapping may
    start from the old structure with ``_base = "qd130-old"``."""
    checked: dict[str, dict[str, str]] = {}
    for name, mapping in profiles.items():
        if not _PROFILE_NAME.fullmatch(str(name)) or name in BUILTIN_PROFILES:
            raise ProfileError(f"his profile {name!r}: use 1-40 letters, digits, . _ -")
        if not isinstance(mapping, Mapping) or not mapping:
            raise ProfileError(f'his profile {name!r}: a table of  their_name = "FIELD"')
        table: dict[str, str] = {}
        for out, source in mapping.items():
            if out == "_base":
                if source not in BUILTIN_PROFILES:
                    raise ProfileError(f"his profile {name!r}: _base must be qd130 or qd130-old")
                table[out] = str(source)
                continue
            if not _OUT_NAME.fullmatch(str(out)):
                raise ProfileError(f"his profile {name!r}: {out!r} is not a usable field name")
            if source not in ALL_FIELDS:
                known = ", ".join(ALL_FIELDS)
                raise ProfileError(
                    f"his profile {name!r}: {out} = {source!r} is not one of {known}"
                )
            table[str(out)] = str(source)
        checked[str(name)] = table
    return checked


def apply_profile(
    his: Mapping[str, str],
    units: Units | None,
    profile: str,
    operator_profiles: Mapping[str, Mapping[str, str]],
) -> dict[str, str]:
    """The HIS object under a profile's names. Raises ``ProfileError`` for an unknown one."""
    if profile == "qd130":
        return dict(his)
    mapping = operator_profiles.get(profile)
    if profile != "qd130-old" and mapping is None:
        known = ", ".join((*BUILTIN_PROFILES, *sorted(operator_profiles)))
        raise ProfileError(f"unknown profile {profile!r}; known: {known}")
    base = dict(his)
    if profile == "qd130-old" or (mapping or {}).get("_base") == "qd130-old":
        base.update(unit_fields(units or Units(status="unknown"), old_structure=True))
    if mapping is None:
        return base
    return {out: base.get(source, "") for out, source in mapping.items() if out != "_base"}
