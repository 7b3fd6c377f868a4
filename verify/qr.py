"""The QR code printed on the CCCD (2021, front) and the thẻ căn cước (2024, back).

``docs/spec/cccd-chip.md`` "The QR code printed on the card". The payload is
UTF-8, pipe-separated: ``id|old id|full name|ddmmyyyy birth|Nam/Nữ|residence|ddmmyyyy issue``
(7 fields, 2021) or the same 7 then more (10 or more, 2024). Keyboard-mode scanners mangle it
(UTF-8 read as CP1252, Big5 / Shift-JIS decoders): ``verify.vntext.repair`` runs first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from reader.keys import AccessKey, CANKey, keys_for_id_number
from reader.lds import vocabulary
from verify.vntext import Repaired, fold, normalize, repair, repair_bytes

__all__ = ["QRError", "QRIdentity", "expected_expiry", "parse_qr"]

MAX_PAYLOAD = 4096  # a QR code holds at most ~3 KB of bytes; anything longer is not one
MAX_FIELDS = 40
_FIELDS = vocabulary.QR_NAMES  # the payload's first 7 fields, in order
Generation = Literal["cccd_2021", "can_cuoc_2024"]


class QRError(ValueError):
    """A QR payload that is not a CCCD one; ``field`` names the field that is wrong.

    The message names the field and the rule, never the value (it is personal data).
    """

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True, kw_only=True)
class QRIdentity:
    """The fields of a card's QR code, named as DG13's (``reader.lds.vocabulary.QR_NAMES``,
    spelled out here for the type checker; a unit test holds the two together), text in NFC."""

    id_number: str
    old_id_number: str | None
    full_name: str
    date_of_birth: date
    sex: Literal["Nam", "Nữ"]
    place_of_residence: str
    date_of_issue: date | None
    generation: Generation
    extra_fields: tuple[str, ...] = ()
    repair: Repaired | None = field(default=None, compare=False)
    field_repairs: tuple[tuple[str, str], ...] = ()

    @property
    def repaired(self) -> bool:
        """True when the payload, or one of its fields, had to be repaired."""
        return bool(self.field_repairs) or (self.repair is not None and self.repair.changed)

    @property
    def can(self) -> CANKey:
        """The card access number: the last 6 digits of the ID number."""
        return CANKey(self.id_number[-6:])

    @property
    def expected_expiry(self) -> date | None:
        """The expiry the issue rules give (None: no expiry, or no issue date)."""
        return expected_expiry(
            self.date_of_birth, self.date_of_issue, law_2023=self.generation == "can_cuoc_2024"
        )

    def access_keys(self) -> list[AccessKey]:
        """Keys to open the chip, best first: the CAN, BAC with the expected expiry, then BAC
        with each other milestone expiry (when the issue date is missing or the rule is off)."""
        keys: list[AccessKey] = []
        predicted = self.expected_expiry
        if predicted is not None:
            keys += keys_for_id_number(self.id_number, self.date_of_birth, predicted)
        keys += keys_for_id_number(self.id_number, self.date_of_birth)
        return list(dict.fromkeys(keys))

    def fields(self) -> dict[str, str | None]:
        """The record in the shared vocabulary, dates as dd/mm/yyyy (as DG13 writes them)."""
        out: dict[str, str | None] = {}
        for name in _FIELDS:
            value = getattr(self, name)
            out[name] = value.strftime("%d/%m/%Y") if isinstance(value, date) else value
        return out

    def __repr__(self) -> str:  # no personal data in logs
        return f"QRIdentity(<redacted>, generation={self.generation!r})"


def _birthday(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February
        return born.replace(year=born.year + years, day=28)


def expected_expiry(
    date_of_birth: date, date_of_issue: date | None, *, law_2023: bool = False
) -> date | None:
    """The card's expiry by the issue rules (spec "Access control"): the 25th, 40th or 60th
    birthday (also the 14th under the 2023 Law on Identification); a card issued within two
    years before a milestone runs to the next; none left means no expiry."""
    if date_of_issue is None:
        return None
    for years in (14, 25, 40, 60) if law_2023 else (25, 40, 60):
        milestone = _birthday(date_of_birth, years)
        if date_of_issue < _birthday(milestone, -2):
            return milestone
    return None


def _ascii_digits(text: str) -> bool:
    # str.isdigit() also takes "²" and Arabic-Indic digits, which no card prints
    return text.isascii() and text.isdigit()


def _date(text: str, name: str, *, optional: bool = False) -> date | None:
    digits = "".join(text.split()).replace("/", "").replace("-", "").replace(".", "")
    if not digits and optional:
        return None
    if len(digits) != 8 or not _ascii_digits(digits):
        raise QRError(f"{name} must be a date ddmmyyyy (8 digits)", field=name)
    try:
        return date(int(digits[4:]), int(digits[2:4]), int(digits[:2]))
    except ValueError:
        raise QRError(f"{name} is not a calendar date (ddmmyyyy)", field=name) from None


def parse_qr(payload: str | bytes) -> QRIdentity:
    """Parse a CCCD / thẻ căn cước QR payload; mangled scans are repaired first.

    Raises ``QRError`` (a ``ValueError``) naming the field that is wrong.
    """
    if isinstance(payload, bytes):
        if len(payload) > MAX_PAYLOAD:
            raise QRError(f"payload longer than {MAX_PAYLOAD} bytes", field="payload")
        repaired = repair_bytes(payload.removeprefix(b"\xef\xbb\xbf"))
    else:
        if len(payload) > MAX_PAYLOAD:
            raise QRError(f"payload longer than {MAX_PAYLOAD} characters", field="payload")
        repaired = repair(payload.removeprefix("\ufeff"))
    text = repaired.text.strip("\r\n\t ")
    parts = text.split("|")
    if len(parts) < len(_FIELDS):
        raise QRError(
            f"payload has {len(parts)} field(s); a CCCD QR has {len(_FIELDS)} (2021) "
            "or 10 or more (2024)",
            field="payload",
        )
    if len(parts) > MAX_FIELDS:
        raise QRError(f"payload has more than {MAX_FIELDS} fields", field="payload")
    # each field too: a payload may be mangled in one field only
    field_repairs: list[tuple[str, str]] = []
    for index, part in enumerate(parts):
        fixed = repair(part)
        if fixed.changed or fixed.source_encoding == "lossy":
            name = _FIELDS[index] if index < len(_FIELDS) else f"extra_{index - len(_FIELDS) + 1}"
            field_repairs.append((name, fixed.source_encoding))
        parts[index] = normalize(fixed.text)
    named = dict(zip(_FIELDS, parts, strict=False))
    id_number = named["id_number"].replace(" ", "")
    if len(id_number) != 12 or not _ascii_digits(id_number):
        raise QRError("id_number must be 12 digits", field="id_number")
    old = named["old_id_number"].replace(" ", "")
    if old and not (_ascii_digits(old) and len(old) in (9, 12)):
        raise QRError("old_id_number must be 9 digits (CMND) or empty", field="old_id_number")
    if not named["full_name"]:
        raise QRError("full_name is empty", field="full_name")
    born = _date(named["date_of_birth"], "date_of_birth")
    assert born is not None
    sex_key = fold(named["sex"])
    if sex_key not in ("nam", "nu"):
        raise QRError('sex must be "Nam" or "Nữ"', field="sex")
    issued = _date(named["date_of_issue"], "date_of_issue", optional=True)
    if issued is not None and issued < born:
        raise QRError("date_of_issue is before date_of_birth", field="date_of_issue")
    return QRIdentity(
        id_number=id_number,
        old_id_number=old or None,
        full_name=named["full_name"],
        date_of_birth=born,
        sex="Nam" if sex_key == "nam" else "Nữ",
        place_of_residence=named["place_of_residence"],
        date_of_issue=issued,
        generation="cccd_2021" if len(parts) == len(_FIELDS) else "can_cuoc_2024",
        extra_fields=tuple(parts[len(_FIELDS) :]),
        repair=repaired,
        field_repairs=tuple(field_repairs),
    )
