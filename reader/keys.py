"""Access keys: BAC/MRZ key (ICAO 9303-11 §4.3.1, 9303-3 §4.9 check digits), CAN (§4.4.1),
and the Vietnamese rules for deriving them from the 12-digit ID number (docs/spec
``cccd-chip.md``, "Access control").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reader.errors import CardError

_WEIGHTS = (7, 3, 1)
_MILESTONES = (14, 25, 40, 60)


class InvalidKeyError(CardError, ValueError):
    """An access key that cannot be right (wrong length, characters or ID rule)."""


def _ascii_digits(text: str) -> bool:
    """Digits 0-9 only (``str.isdigit`` also takes Arabic-Indic and other digits)."""
    return text.isascii() and text.isdigit()


def _char_value(ch: str) -> int:
    if ch.isascii() and ch.isdigit():
        return ord(ch) - 48
    if "A" <= ch <= "Z":
        return ord(ch) - 55
    if ch == "<":
        return 0
    raise InvalidKeyError(f"character {ch!r} is not allowed in an MRZ field")


def check_digit(field: str) -> str:
    """ICAO 9303-3 §4.9: the 7-3-1 weighted check digit of an MRZ field."""
    total = sum(_char_value(ch) * _WEIGHTS[i % 3] for i, ch in enumerate(field))
    return str(total % 10)


def _yymmdd(value: str | date, what: str) -> str:
    if isinstance(value, date):
        return value.strftime("%y%m%d")
    if len(value) != 6 or not _ascii_digits(value):
        raise InvalidKeyError(f"{what} must be YYMMDD (6 digits), got {len(value)} characters")
    return value


@dataclass(frozen=True, slots=True)
class BACKey:
    """The MRZ-derived key: document number, date of birth and date of expiry (YYMMDD).

    For a CCCD the document number is the last 9 digits of the 12-digit ID number.
    """

    document_number: str
    date_of_birth: str
    date_of_expiry: str

    def __post_init__(self) -> None:
        number = self.document_number.strip().upper()
        if len(number) == 12 and _ascii_digits(number):
            raise InvalidKeyError(
                "a 12-digit CCCD ID number is not the document number: the chip's document "
                "number is its last 9 digits (without the 3-digit province code); or use "
                "CANKey / keys_for_id_number"
            )
        if not number or len(number) > 22:
            raise InvalidKeyError("document number must be 1 to 22 characters")
        for ch in number:
            _char_value(ch)
        object.__setattr__(self, "document_number", number)
        object.__setattr__(self, "date_of_birth", _yymmdd(self.date_of_birth, "date of birth"))
        object.__setattr__(self, "date_of_expiry", _yymmdd(self.date_of_expiry, "date of expiry"))

    @property
    def mrz_information(self) -> str:
        """Document number, DOB and DOE each with its check digit (§4.3.1).

        A document number shorter than 9 characters is padded with '<'; one longer than 9
        is used whole (TD1 overflow: the check digit covers all of it, ICAO 9303-5 §4.2.2).
        """
        number = self.document_number.ljust(9, "<")
        return (
            number
            + check_digit(number)
            + self.date_of_birth
            + check_digit(self.date_of_birth)
            + self.date_of_expiry
            + check_digit(self.date_of_expiry)
        )

    @property
    def password(self) -> bytes:
        """The PACE/BAC secret before hashing: the MRZ information as ASCII."""
        return self.mrz_information.encode("ascii")

    def __repr__(self) -> str:  # no personal data in logs
        return "BACKey(<redacted>)"


@dataclass(frozen=True, slots=True)
class CANKey:
    """The Card Access Number; on a CCCD the last 6 digits of the ID number."""

    can: str

    def __post_init__(self) -> None:
        can = self.can.strip()
        if not _ascii_digits(can) or not 1 <= len(can) <= 12:
            raise InvalidKeyError("the CAN is digits only (on a CCCD: the last 6 of the ID number)")
        object.__setattr__(self, "can", can)

    @property
    def password(self) -> bytes:
        return self.can.encode("ascii")

    def __repr__(self) -> str:
        return "CANKey(<redacted>)"


AccessKey = BACKey | CANKey


def validate_id_number(id_number: str) -> str:
    """A 12-digit CCCD number, whitespace removed; ``InvalidKeyError`` otherwise."""
    digits = "".join(id_number.split())
    if len(digits) != 12 or not _ascii_digits(digits):
        raise InvalidKeyError(
            f"a CCCD ID number has exactly 12 digits; got {len(digits)} characters"
        )
    return digits


def _birthday(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February in a non-leap year
        return born.replace(year=born.year + years, day=28)


def candidate_expiry_dates(date_of_birth: date) -> list[date]:
    """The few dates a CCCD can expire on: the 14th, 25th, 40th or 60th birthday."""
    return [_birthday(date_of_birth, years) for years in _MILESTONES]


def keys_for_id_number(
    id_number: str,
    date_of_birth: date | None = None,
    date_of_expiry: date | None = None,
) -> list[AccessKey]:
    """Access keys to try for a CCCD, best first.

    The CAN (last 6 digits) always comes first: PACE with it needs nothing else. With a date
    of birth, BAC keys follow (document number = last 9 digits); with no expiry given, one
    for each milestone birthday.
    """
    digits = validate_id_number(id_number)
    keys: list[AccessKey] = [CANKey(digits[-6:])]
    if date_of_birth is not None:
        expiries = [date_of_expiry] if date_of_expiry else candidate_expiry_dates(date_of_birth)
        for expiry in expiries:
            keys.append(
                BACKey(digits[3:], date_of_birth.strftime("%y%m%d"), expiry.strftime("%y%m%d"))
            )
    return keys
