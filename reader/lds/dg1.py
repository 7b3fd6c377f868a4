"""DG1, the machine readable zone (ICAO 9303-10 §4.7.1; MRZ layouts 9303-5 §4.2 (TD1),
9303-6 §4.2 (TD2), 9303-4 §4.2 (TD3); check digits 9303-3 §4.9).

A wrong check digit is reported on its field, never raised: the desk still wants the data, and
``verify`` decides what a failed check means. For the CCCD (``docs/spec/cccd-chip.md``, "DG1")
the optional data of line 1 holds the 12-digit ID number.
"""

from __future__ import annotations

from dataclasses import dataclass

from reader.errors import ParseError
from reader.keys import InvalidKeyError, check_digit
from reader.lds.outer import open_file

_FILE = "DG1"
_FORMATS = {90: "TD1", 72: "TD2", 88: "TD3"}


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """One check digit: what the MRZ says and what its field computes to."""

    field: str  # "document_number", "date_of_birth", "date_of_expiry", "optional_data", "composite"
    found: str
    expected: str | None  # None when the field holds characters outside the MRZ alphabet

    @property
    def ok(self) -> bool:
        return self.expected is not None and self.found == self.expected


@dataclass(frozen=True, slots=True, kw_only=True)
class DG1:
    """The parsed MRZ; ``raw`` is the whole DG1 file."""

    raw: bytes
    mrz: str
    format: str  # "TD1", "TD2" or "TD3"
    document_code: str
    issuing_state: str
    document_number: str
    optional_data: str  # TD1 line 1 / TD2 / TD3 personal number, trailing fillers removed
    optional_data_2: str  # TD1 line 2 only
    date_of_birth: str  # YYMMDD as written (may hold '<' for unknown parts)
    sex: str  # "M", "F" or "<" (unspecified)
    date_of_expiry: str
    nationality: str
    primary_identifier: str
    secondary_identifier: str
    checks: tuple[CheckResult, ...]

    @property
    def lines(self) -> tuple[str, ...]:
        width = 30 if self.format == "TD1" else 36 if self.format == "TD2" else 44
        return tuple(self.mrz[i : i + width] for i in range(0, len(self.mrz), width))

    @property
    def checks_ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed_checks(self) -> tuple[str, ...]:
        return tuple(check.field for check in self.checks if not check.ok)

    @property
    def id_number(self) -> str | None:
        """The CCCD's 12-digit ID number from the optional data, when it is there."""
        head = self.optional_data[:12]
        if len(head) == 12 and head.isdigit() and self.optional_data[12:13] in ("", "<"):
            return head
        return None

    @property
    def name(self) -> str:
        return f"{self.primary_identifier} {self.secondary_identifier}".strip()

    def __repr__(self) -> str:  # no personal data in logs
        return f"DG1(format={self.format!r}, checks_ok={self.checks_ok})"


def _check(field: str, value: str, found: str) -> CheckResult:
    try:
        expected: str | None = check_digit(value)
    except InvalidKeyError:
        expected = None
    return CheckResult(field=field, found=found, expected=expected)


def _names(field: str) -> tuple[str, str]:
    primary, _, secondary = field.partition("<<")
    return primary.replace("<", " ").strip(), secondary.replace("<", " ").strip()


def _overflow(number: str, check: str, optional: str) -> tuple[str, str, str]:
    """(document number, its check digit, the rest of the optional data) for TD1 and TD2.

    Overflow (9303-5 §4.2.2 note j, 9303-6 §4.2.2): a filler where the check digit goes means
    the number continues in the optional data up to the first filler; the character before
    that filler is the number's check digit.
    """
    if check != "<":
        return number, check, optional
    end = optional.find("<")
    end = len(optional) if end < 0 else end
    if end < 1:
        return number, check, optional
    return number + optional[: end - 1], optional[end - 1], optional[end:]


def _td1(mrz: str, raw: bytes) -> DG1:
    l1, l2, l3 = mrz[0:30], mrz[30:60], mrz[60:90]
    checked_number, number_check, optional = _overflow(l1[5:14], l1[14], l1[15:30])
    checks = (
        _check("document_number", checked_number, number_check),
        _check("date_of_birth", l2[0:6], l2[6]),
        _check("date_of_expiry", l2[8:14], l2[14]),
        _check("composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29]),
    )
    primary, secondary = _names(l3)
    return DG1(
        raw=raw,
        mrz=mrz,
        format="TD1",
        document_code=l1[0:2],
        issuing_state=l1[2:5],
        document_number=checked_number.rstrip("<"),
        optional_data=optional.lstrip("<").rstrip("<") if number_check != "<" else "",
        optional_data_2=l2[18:29].rstrip("<"),
        date_of_birth=l2[0:6],
        sex=l2[7],
        date_of_expiry=l2[8:14],
        nationality=l2[15:18],
        primary_identifier=primary,
        secondary_identifier=secondary,
        checks=checks,
    )


def _td2_td3(mrz: str, width: int, raw: bytes) -> DG1:
    l1, l2 = mrz[:width], mrz[width:]
    primary, secondary = _names(l1[5:width])
    number, number_check = l2[0:9], l2[9]
    checks: list[CheckResult] = []
    if width == 36:  # TD2
        number, number_check, optional = _overflow(number, number_check, l2[28:35])
        composite_src = l2[0:10] + l2[13:20] + l2[21:35]
        composite = l2[35]
    else:  # TD3
        optional = l2[28:42]
        composite_src = l2[0:10] + l2[13:20] + l2[21:43]
        composite = l2[43]
    checks.append(_check("document_number", number, number_check))
    checks.append(_check("date_of_birth", l2[13:19], l2[19]))
    checks.append(_check("date_of_expiry", l2[21:27], l2[27]))
    if width == 44 and (optional.strip("<") or l2[42] != "<"):
        checks.append(_check("optional_data", optional, l2[42]))
    checks.append(_check("composite", composite_src, composite))
    return DG1(
        raw=raw,
        mrz=mrz,
        format="TD2" if width == 36 else "TD3",
        document_code=l1[0:2],
        issuing_state=l1[2:5],
        document_number=number.rstrip("<"),
        optional_data=optional.strip("<"),
        optional_data_2="",
        date_of_birth=l2[13:19],
        sex=l2[20],
        date_of_expiry=l2[21:27],
        nationality=l2[10:13],
        primary_identifier=primary,
        secondary_identifier=secondary,
        checks=tuple(checks),
    )


def parse_mrz(mrz: str, *, raw: bytes = b"") -> DG1:
    """Parse an MRZ string (lines concatenated, no newlines) of any of the three formats."""
    fmt = _FORMATS.get(len(mrz))
    if fmt is None:
        raise ParseError(f"MRZ of {len(mrz)} characters is not TD1, TD2 or TD3", file=_FILE)
    if fmt == "TD1":
        return _td1(mrz, raw)
    return _td2_td3(mrz, 36 if fmt == "TD2" else 44, raw)


def parse_dg1(raw: bytes) -> DG1:
    """Parse DG1 (``61 L 5F1F L <MRZ>``)."""
    raw = bytes(raw)
    top = open_file(raw, 0x61, _FILE)
    element = top.require(0x5F1F, _FILE)
    try:
        mrz = element.value.decode("ascii")
    except UnicodeDecodeError as exc:
        offset = element.offset + exc.start
        raise ParseError("MRZ is not ASCII", offset=offset, file=_FILE) from None
    # Characters outside the MRZ alphabet only fail the checks of their field (flagged, kept);
    # line breaks would shift every field after them, so those are refused.
    if any(ch in "\r\n" for ch in mrz):
        raise ParseError("MRZ holds line breaks", offset=element.offset, file=_FILE)
    return parse_mrz(mrz, raw=raw)
