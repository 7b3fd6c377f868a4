"""The DG13 field vocabulary: every personal-data field of the card once, with its DG13 field
number and what each layer needs to know about it (``docs/spec/cccd-chip.md``, "DG13" and
"The QR code printed on the card"; the names are the ones ``docs/architecture.md`` gives the
records).

The DG13 parser (``reader.lds.dg13``), the identity record and its JSON and HIS fields
(``verify.identity``, ``verify.check``), the QR record (``verify.qr``), the service's
minimisation, log redaction and HIS object, and the database columns all take their names from
here. Where a record spells its fields out for the type checker (the DG13, ``Identity`` and
``QRIdentity`` dataclasses), a unit test holds it to this table.

Adding a field: one line in ``FIELDS``; then the typed records gain the attribute the test asks
for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CHECKIN_NAMES",
    "COLUMN_NAMES",
    "DATE_NAMES",
    "FIELDS",
    "HIS_NAMES",
    "ID_NAMES",
    "NAMES",
    "NUMBERS",
    "PERSON_NAMES",
    "QR_NAMES",
    "SENSITIVE_NAMES",
    "SHARED_NUMBERS",
    "TEXT_NAMES",
    "CardField",
    "Kind",
    "by_name",
    "fields_numbered",
]

# text: free text in Vietnamese (repaired and NFC-normalised by verify); date: as the card
# writes it (dd/mm/yyyy, a year alone, "Không thời hạn"); sex: "Nam" / "Nữ"; id_number: digits
Kind = Literal["text", "date", "sex", "id_number"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CardField:
    """One field of the card's personal data."""

    name: str  # the record's name, everywhere (parser, identity, QR, JSON, database)
    number: int  # the DG13 field number
    kind: Kind
    # which value of the DG13 field holds it, for a field holding several people (13: father
    # first, mother second); None: the field's first value
    slot: int | None = None
    # an empty slot means there is no such person (None), not a field printed empty ("")
    none_when_empty: bool = False
    # shown to a principal, and stored, only where the configuration names it (Decree
    # 13/2023/NĐ-CP: minimisation); the others are what check-in needs
    sensitive: bool = False
    # a person's name: once a card has shown it, the log redactor masks it
    person_name: bool = False
    qr: int | None = None  # its position in the QR code's pipe-separated payload
    his: str | None = None  # its name in the HIS data standard (QĐ 4750 / QĐ 130, XML1)
    column: bool = False  # also a column of the stored reads (besides the identity JSON)


FIELDS: tuple[CardField, ...] = (
    CardField(name="id_number", number=1, kind="id_number", qr=0, his="SO_CCCD", column=True),
    CardField(name="full_name", number=2, kind="text", person_name=True, qr=2, his="HO_TEN"),
    CardField(name="date_of_birth", number=3, kind="date", qr=3, his="NGAY_SINH", column=True),
    CardField(name="sex", number=4, kind="sex", qr=4, his="GIOI_TINH"),
    CardField(name="nationality", number=5, kind="text", his="MA_QUOCTICH"),
    CardField(name="ethnicity", number=6, kind="text", his="MA_DANTOC"),
    CardField(name="religion", number=7, kind="text", sensitive=True),
    CardField(name="place_of_origin", number=8, kind="text", sensitive=True),
    CardField(name="place_of_residence", number=9, kind="text", qr=5, his="DIA_CHI"),
    CardField(name="identifying_marks", number=10, kind="text", sensitive=True),
    CardField(name="date_of_issue", number=11, kind="date", qr=6),
    CardField(name="date_of_expiry", number=12, kind="date"),
    CardField(
        name="father_name",
        number=13,
        kind="text",
        slot=0,
        none_when_empty=True,
        sensitive=True,
        person_name=True,
    ),
    CardField(
        name="mother_name",
        number=13,
        kind="text",
        slot=1,
        none_when_empty=True,
        sensitive=True,
        person_name=True,
    ),
    CardField(
        name="spouse_name",
        number=14,
        kind="text",
        none_when_empty=True,
        sensitive=True,
        person_name=True,
    ),
    CardField(name="old_id_number", number=15, kind="id_number", sensitive=True, qr=1),
)

_BY_NAME = {f.name: f for f in FIELDS}

NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)  # in DG13 order
NUMBERS: frozenset[int] = frozenset(f.number for f in FIELDS)  # DG13 fields with a name
# DG13 fields holding more than one of ours (13: both parents)
SHARED_NUMBERS: frozenset[int] = frozenset(
    n for n in NUMBERS if sum(f.number == n for f in FIELDS) > 1
)
TEXT_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind == "text")
DATE_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind == "date")
ID_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind == "id_number")
SENSITIVE_NAMES: frozenset[str] = frozenset(f.name for f in FIELDS if f.sensitive)
CHECKIN_NAMES: frozenset[str] = frozenset(f.name for f in FIELDS if not f.sensitive)
PERSON_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS if f.person_name)
# the QR payload's fields, in payload order
QR_NAMES: tuple[str, ...] = tuple(
    f.name for f in sorted((f for f in FIELDS if f.qr is not None), key=lambda f: f.qr or 0)
)
HIS_NAMES: dict[str, str] = {f.name: f.his for f in FIELDS if f.his is not None}
COLUMN_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS if f.column)


def by_name(name: str) -> CardField:
    """The field called ``name``; ``KeyError`` for a name that is not ours."""
    return _BY_NAME[name]


def fields_numbered(number: int) -> tuple[CardField, ...]:
    """Our fields held in DG13 field ``number`` (none for an unnamed one, two for 13)."""
    return tuple(f for f in FIELDS if f.number == number)
