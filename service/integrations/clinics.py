"""The clinic list (danh mục cơ sở khám chữa bệnh) an operator loads from a CSV file, so the
desk page shows a registered clinic's name next to its MaCSKCB code (the ``maDKBD`` of the
BHXH gateway's answer, spec ``bhyt-gateway.md``).

The file (``CCCD_CLINIC_LIST``) is UTF-8 (a BOM is fine, as Excel writes it), comma- or
semicolon-separated, with a header row. Columns, matched case-insensitively:

- ``ma_cskcb`` (also ``MaCSKCB``, ``code``): the 5-character code, e.g. ``01001``; required.
- ``ten_cskcb`` (also ``TenCSKCB``, ``name``): the clinic's name; required.
- ``dia_chi`` (also ``DiaChi``, ``address``): optional.

Other columns are ignored. Reading is bounded (size, rows, field length); a file that breaks a
rule is refused as a whole with the line named, never loaded half.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from verify import vntext

MAX_BYTES = 8 * 1024 * 1024
MAX_ROWS = 100_000
MAX_FIELD = 300
CODE = re.compile(r"[0-9A-Z]{5}")

_COLUMNS = {
    "code": ("ma_cskcb", "macskcb", "ma", "code"),
    "name": ("ten_cskcb", "tencskcb", "ten", "name"),
    "address": ("dia_chi", "diachi", "address"),
}


class ClinicListError(ValueError):
    """A clinic list that cannot be used, naming the file and the line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Clinic:
    code: str
    name: str
    address: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"code": self.code, "name": self.name, "address": self.address}


@dataclass(frozen=True, slots=True)
class ClinicList:
    clinics: dict[str, Clinic] = field(default_factory=dict)
    source: str = ""

    def get(self, code: str) -> Clinic | None:
        return self.clinics.get(code.strip().upper())

    def __len__(self) -> int:
        return len(self.clinics)


def load_clinics(path: Path) -> ClinicList:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ClinicListError(f"clinic list {path.name}: larger than {MAX_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise ClinicListError(f"cannot read clinic list {path}: {exc.strerror}") from None
    return parse_clinics(raw, source=path.name)


def parse_clinics(raw: bytes, *, source: str = "clinic list") -> ClinicList:
    if len(raw) > MAX_BYTES:
        raise ClinicListError(f"{source}: larger than {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ClinicListError(
            f"{source} line {line}: not UTF-8 (save the file as UTF-8 CSV)"
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ClinicListError(f"{source}: empty file") from None
    except csv.Error as exc:
        raise ClinicListError(f"{source} line 1: {exc}") from None
    names = [h.strip().lower() for h in header]
    where: dict[str, int] = {}
    for key, aliases in _COLUMNS.items():
        for alias in aliases:
            if alias in names:
                where[key] = names.index(alias)
                break
    for key in ("code", "name"):
        if key not in where:
            raise ClinicListError(
                f"{source} line 1: no {_COLUMNS[key][0]} column "
                "(header: ma_cskcb,ten_cskcb,dia_chi)"
            )
    clinics: dict[str, Clinic] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(clinics) >= MAX_ROWS:
                raise ClinicListError(f"{source}: more than {MAX_ROWS} clinics")
            cells = {k: (row[i].strip() if i < len(row) else "") for k, i in where.items()}
            if any(len(v) > MAX_FIELD for v in cells.values()):
                raise ClinicListError(f"{source} line {line}: a field is longer than {MAX_FIELD}")
            code = cells["code"].upper()
            if not CODE.fullmatch(code):
                raise ClinicListError(
                    f"{source} line {line}: ma_cskcb must be 5 letters or digits, e.g. 01001"
                )
            if not cells["name"]:
                raise ClinicListError(f"{source} line {line}: ten_cskcb is empty")
            if code in clinics:
                raise ClinicListError(f"{source} line {line}: code {code} is listed twice")
            address = cells.get("address") or None
            clinics[code] = Clinic(
                code=code,
                name=vntext.normalize(cells["name"]),
                address=vntext.normalize(address) if address else None,
            )
    except csv.Error as exc:
        raise ClinicListError(f"{source} line {reader.line_num}: {exc}") from None
    return ClinicList(clinics, source)
