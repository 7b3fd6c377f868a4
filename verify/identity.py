"""One identity record from the chip (DG13, DG1 as fallback) and the QR code, cross-checked.

DG1 vs DG13 vs QR compared field by field (ID number, date of birth,
sex, date of expiry, the folded name against the MRZ name); card status; age; JSON-ready
output and the HIS data standard's identity fields (QĐ 4750 / QĐ 130, docs/spec
``bhyt-gateway.md``). Every text field passes through ``verify.vntext.repair`` and the record
says which fields were repaired. Inputs are plain mappings, so this module does not depend
on the LDS parser classes; time is an explicit argument (``today``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

from reader.lds import vocabulary
from reader.lds.dg13 import parse_date as parse_card_date
from verify.qr import QRIdentity
from verify.vntext import fold, match_level, normalize, repair, search_key, title_case

__all__ = [
    "CardStatus",
    "CrossCheck",
    "FieldRepair",
    "Identity",
    "build_identity",
    "ethnicity_code",
]

EXPIRING_DAYS = 30
NO_EXPIRY = "khong thoi han"  # folded "Không thời hạn"
NATIONALITY_CODES = {"viet nam": "000"}  # see his_fields: override with the hospital's table

Status = Literal["valid", "expiring", "expired", "no_expiry", "unknown"]
Verdict = Literal["match", "mismatch", "missing"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldRepair:
    """A text field that ``repair`` changed (or flagged), and how it had been mangled."""

    field: str
    source_encoding: str
    case_guessed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossCheck:
    """One field compared between two sources ("DG13", "DG1", "QR")."""

    field: str
    sources: tuple[str, str]
    verdict: Verdict
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CardStatus:
    status: Status
    days_left: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """The identity a desk gets: DG13's fields (DG1's when there is no DG13), NFC text.

    The card's fields are those of ``reader.lds.vocabulary``, by its names (spelled out here
    for the type checker; a unit test holds the two together)."""

    source: Literal["DG13", "DG1", "QR"]
    id_number: str | None
    full_name: str | None
    name_ascii_only: bool  # the name came from DG1's MRZ: no diacritics
    date_of_birth: date | None
    sex: Literal["Nam", "Nữ"] | None
    nationality: str | None = None
    ethnicity: str | None = None
    religion: str | None = None
    place_of_origin: str | None = None
    place_of_residence: str | None = None
    identifying_marks: str | None = None
    date_of_issue: date | None = None
    date_of_expiry: date | None = None
    no_expiry: bool = False
    father_name: str | None = None
    mother_name: str | None = None
    spouse_name: str | None = None
    old_id_number: str | None = None
    # a date of birth the card gives only in part ("1950", "03/1950", "00/00/1950"), as
    # yyyymmdd with 00 for the unknown day/month; None when the full date is known or absent
    birth_partial: str | None = None
    extra: dict[int, str] = field(default_factory=dict)  # DG13 fields 16+ and unknown ones
    repairs: tuple[FieldRepair, ...] = ()
    checks: tuple[CrossCheck, ...] = ()

    @property
    def repaired(self) -> bool:
        return bool(self.repairs)

    @property
    def consistent(self) -> bool:
        """No cross-check disagrees (missing values are not disagreements)."""
        return all(c.verdict != "mismatch" for c in self.checks)

    def mismatches(self) -> list[CrossCheck]:
        return [c for c in self.checks if c.verdict == "mismatch"]

    def card_status(self, today: date) -> CardStatus:
        """Expired, expiring within 30 days, valid, no expiry, or unknown (no date)."""
        if self.no_expiry:
            return CardStatus(status="no_expiry", days_left=None)
        if self.date_of_expiry is None:
            return CardStatus(status="unknown", days_left=None)
        left = (self.date_of_expiry - today).days
        if left < 0:
            return CardStatus(status="expired", days_left=left)
        return CardStatus(status="expiring" if left <= EXPIRING_DAYS else "valid", days_left=left)

    def age(self, today: date) -> int | None:
        if self.date_of_birth is None:
            return None
        born = self.date_of_birth
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    def to_json(self, today: date) -> dict[str, object]:
        """JSON-ready data: NFC text, ISO dates, the title-cased name and the folded key."""
        status = self.card_status(today)

        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        derived: dict[str, dict[str, object]] = {  # keys shown after the field they come from
            "full_name": {
                "full_name_title": title_case(self.full_name) if self.full_name else None,
                "name_ascii_only": self.name_ascii_only,
                "search_key": search_key(self.full_name) if self.full_name else None,
            },
            "date_of_birth": {"age": self.age(today)},
            "date_of_expiry": {
                "no_expiry": self.no_expiry,
                "card_status": status.status,
                "days_left": status.days_left,
            },
        }
        card: dict[str, object] = {}
        for spec in vocabulary.FIELDS:
            value = getattr(self, spec.name)
            card[spec.name] = iso(value) if spec.kind == "date" else value
            card.update(derived.get(spec.name, {}))
        return {
            "source": self.source,
            **card,
            "extra": {str(number): text for number, text in sorted(self.extra.items())},
            "repairs": [
                {
                    "field": r.field,
                    "source_encoding": r.source_encoding,
                    "case_guessed": r.case_guessed,
                }
                for r in self.repairs
            ],
            "checks": [
                {
                    "field": c.field,
                    "sources": list(c.sources),
                    "verdict": c.verdict,
                    "detail": c.detail,
                }
                for c in self.checks
            ],
            "consistent": self.consistent,
            "his": self.his_fields(),
        }

    def his_fields(self, nationality_codes: Mapping[str, str] | None = None) -> dict[str, str]:
        """The HIS check-in identity fields (QĐ 4750 / QĐ 130 XML1).

        HO_TEN NFC; SO_CCCD; NGAY_SINH ``yyyymmddHHMM`` (time unknown: ``0000``; a day or
        month the card does not give: ``00`` each, so a year alone is ``yyyy00000000``); GIOI_TINH
        1 Nam, 2 Nữ, 3 unknown; DIA_CHI the residence; MA_DANTOC by QĐ 121-TCTK (empty when
        unknown); MA_QUOCTICH from ``nationality_codes`` (folded name -> code). The default
        table maps only Việt Nam, to "000": check it against the hospital's HIS before use.
        """
        codes = NATIONALITY_CODES if nationality_codes is None else nationality_codes
        born = self.date_of_birth
        values = {  # by our names, in the order of the standard's XML1 table
            "full_name": (self.full_name or "")[:255],
            "id_number": self.id_number or "",
            "date_of_birth": (
                born.strftime("%Y%m%d") + "0000"
                if born
                else (self.birth_partial + "0000" if self.birth_partial else "")
            ),
            "sex": {"Nam": "1", "Nữ": "2"}.get(self.sex or "", "3"),
            "place_of_residence": (self.place_of_residence or "")[:1024],
            "nationality": codes.get(fold(self.nationality), "") if self.nationality else "",
            "ethnicity": ethnicity_code(self.ethnicity) or "" if self.ethnicity else "",
        }
        return {vocabulary.HIS_NAMES[name]: value for name, value in values.items()}


@cache
def _ethnicity_table() -> dict[str, str]:
    path = Path(__file__).with_name("data") / "ethnicity.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for group in data["groups"]:
        for name in (group["name"], *group["aliases"]):
            table[search_key(name).replace(" ", "")] = group["code"]
    return table


def ethnicity_code(name: str) -> str | None:
    """The 2-digit QĐ 121-TCTK code of an ethnic group ("Mường" -> "06"), by folded name."""
    key = search_key(name).replace(" ", "")
    return _ethnicity_table().get(key)


# --- building -------------------------------------------------------------------------------


def _parse_date(value: object) -> date | None:
    """A card date (dd/mm/yyyy, ddmmyyyy ... as DG13's parser reads them), yyyy-mm-dd, or a
    ``date``; None for empty, unreadable or partial (year only) dates."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if len(text) == 10 and text[4] == "-" and text.isascii():
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    return parse_card_date(text).date


def _partial_date(value: object) -> str | None:
    """yyyymmdd with ``00`` for an unknown day or month, for a card date given only in part:
    "1950", "03/1950" or "031950", "00/00/1950", "00/03/1950"; None otherwise."""
    if value is None or isinstance(value, date):
        return None
    text = str(value).strip()
    if not text.isascii():
        return None
    parts = [p for p in text.replace("-", "/").replace(".", "/").split("/") if p]
    if len(parts) == 1 and len(text) == 6 and text.isdigit():
        parts = [text[:2], text[2:]]
    if not parts or not all(p.isdigit() for p in parts) or len(parts[-1]) != 4:
        return None
    year = int(parts[-1])
    month = int(parts[-2]) if len(parts) >= 2 else 0
    day = int(parts[-3]) if len(parts) >= 3 else 0
    if year < 1 or len(parts) > 3 or not 0 <= month <= 12 or not 0 <= day <= 31:
        return None
    if month == 0 and day != 0:
        return None
    if day and month:
        try:
            date(year, month, day)
        except ValueError:
            return None
        return None  # a full date: date_of_birth holds it
    return f"{year:04d}{month:02d}{day:02d}"


def birth_century(id_number: str | None) -> int | None:
    """The century of birth the CCCD number encodes: its 4th digit is sex and century
    (0/1: 1900s, 2/3: 2000s, 4/5: 2100s ...; even male, odd female)."""
    if id_number is None or len(id_number) != 12 or not id_number.isascii():
        return None
    if not id_number.isdigit():
        return None
    return 1900 + int(id_number[3]) // 2 * 100


def _yymmdd(
    value: object,
    *,
    born: date | None = None,
    expiry: bool = False,
    century: int | None = None,
) -> date | None:
    """An MRZ date; the century from the date of birth (DOB), from the ID number's century
    digit, or (last resort) a guess."""
    text = str(value or "").strip()
    if len(text) != 6 or not text.isascii() or not text.isdigit():
        return None
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    if expiry:
        # chip documents exist only since the 2000s; the birth century would make a card of
        # someone born in 1930 that runs to 2035 expire in 1935
        year = 2000 + yy
    elif born is not None:
        year = born.year // 100 * 100 + yy  # compared with DG13's DOB: same century
    elif century is not None:
        year = century + yy
    else:
        year = 1900 + yy if yy > 30 else 2000 + yy
    try:
        return date(year, mm, dd)
    except ValueError:
        return None


def _sex(value: object) -> Literal["Nam", "Nữ"] | None:
    key = fold(str(value)) if value else ""
    if key in ("nam", "m", "male"):
        return "Nam"
    if key in ("nu", "f", "female"):
        return "Nữ"
    return None


def _mrz_name(dg1: Mapping[str, object]) -> str | None:
    primary = dg1.get("primary_identifier", dg1.get("primary"))
    secondary = dg1.get("secondary_identifier", dg1.get("secondary"))
    if primary is None and secondary is None and dg1.get("name"):
        raw = str(dg1["name"])
        primary, _, secondary = raw.partition("<<")
    parts = [str(p) for p in (primary, secondary) if p]
    if not parts:
        return None
    return " ".join(" ".join(p.replace("<", " ").split()) for p in parts)


def _dg1_id(dg1: Mapping[str, object]) -> str | None:
    for key in ("id_number", "optional_data"):
        value = str(dg1.get(key) or "").replace("<", "").strip()
        if len(value) >= 12 and value[:12].isdigit():
            return value[:12]
    return None


class _Builder:
    def __init__(self) -> None:
        self.repairs: list[FieldRepair] = []
        self.checks: list[CrossCheck] = []

    def text(self, name: str, value: object) -> str | None:
        if value is None:
            return None
        result = repair(str(value))
        if result.changed or result.source_encoding == "lossy":
            self.repairs.append(
                FieldRepair(
                    field=name,
                    source_encoding=result.source_encoding,
                    case_guessed=result.case_guessed,
                )
            )
        return normalize(result.text) or None

    def check(
        self, name: str, sources: tuple[str, str], a: object, b: object, detail: str = ""
    ) -> None:
        if a is None or b is None:
            verdict: Verdict = "missing"
        else:
            verdict = "match" if a == b else "mismatch"
        self.checks.append(CrossCheck(field=name, sources=sources, verdict=verdict, detail=detail))


def _name_vs_mrz(name: str, mrz: str) -> tuple[bool, str]:
    """Folded name against the MRZ name; the MRZ line holds 30 characters, so a long name may
    be cut: then the MRZ name must be a prefix of the folded one."""
    folded = search_key(name).upper()
    mrz_key = " ".join(mrz.upper().split())
    if folded == mrz_key:
        return True, "folded name equals the MRZ name"
    if folded.replace(" ", "") == mrz_key.replace(" ", ""):
        # an apostrophe ("H'Mai") is dropped or written as a filler in the MRZ
        return True, "folded name equals the MRZ name but for word breaks"
    if len(mrz_key) >= 26 and folded.startswith(mrz_key.rstrip()):
        return True, "MRZ name is the folded name cut to the MRZ line"
    return False, "folded name differs from the MRZ name"


def build_identity(
    dg13: Mapping[str, object] | None = None,
    dg1: Mapping[str, object] | None = None,
    qr: QRIdentity | None = None,
) -> Identity:
    """One identity from DG13 (our field names -> text or date), DG1 (``document_number``,
    ``optional_data`` or ``id_number``, ``date_of_birth`` and ``date_of_expiry`` YYMMDD,
    ``sex`` M/F, ``primary_identifier``/``secondary_identifier`` or ``name``) and a QR record.

    DG13 is the source when present; DG1 is the fallback (its name marked ASCII-only); QR
    last. Every pair present is cross-checked; disagreements are data, not exceptions.
    """
    if dg13 is None and dg1 is None and qr is None:
        raise ValueError("build_identity needs DG13, DG1 or a QR record")
    b = _Builder()
    values: dict[str, object] = {}
    source: Literal["DG13", "DG1", "QR"]
    no_expiry = False
    if dg13 is not None:
        source = "DG13"
        for name in vocabulary.TEXT_NAMES:
            values[name] = b.text(name, dg13.get(name))
        for name in vocabulary.ID_NAMES:
            values[name] = str(dg13.get(name) or "").strip() or None
        extra = dg13.get("extra")
        if isinstance(extra, Mapping):
            values["extra"] = {
                int(number): b.text(f"extra_{number}", text) or "" for number, text in extra.items()
            }
        values["sex"] = _sex(b.text("sex", dg13.get("sex")))
        for name in vocabulary.DATE_NAMES:
            values[name] = _parse_date(dg13.get(name))
        values["birth_partial"] = _partial_date(dg13.get("date_of_birth"))
        raw_expiry = dg13.get("date_of_expiry")
        no_expiry = bool(dg13.get("no_expiry")) or (
            isinstance(raw_expiry, str) and fold(raw_expiry) == NO_EXPIRY
        )
    elif dg1 is not None:
        source = "DG1"
        dg1_id = _dg1_id(dg1)
        born = _yymmdd(dg1.get("date_of_birth"), century=birth_century(dg1_id))
        values.update(
            id_number=dg1_id,
            full_name=_mrz_name(dg1),
            sex=_sex(dg1.get("sex")),
            date_of_birth=born,
            date_of_expiry=_yymmdd(dg1.get("date_of_expiry"), born=born, expiry=True),
        )
    else:
        assert qr is not None
        source = "QR"
        values.update(
            id_number=qr.id_number,
            full_name=qr.full_name,
            sex=qr.sex,
            date_of_birth=qr.date_of_birth,
            place_of_residence=qr.place_of_residence,
            date_of_issue=qr.date_of_issue,
            old_id_number=qr.old_id_number,
        )
        b.repairs += [FieldRepair(field=f, source_encoding=s) for f, s in qr.field_repairs]
        if qr.repair is not None and qr.repair.changed:
            b.repairs.append(
                FieldRepair(field="qr_payload", source_encoding=qr.repair.source_encoding)
            )

    born_value = values.get("date_of_birth")
    born_main = born_value if isinstance(born_value, date) else None
    if dg13 is not None and dg1 is not None:
        _check_dg1(b, values, dg1, born_main, no_expiry)
    if qr is not None and source != "QR":
        _check_qr(b, values, qr, "DG13" if source == "DG13" else "DG1")
        if dg13 is not None and dg1 is not None:
            dg1_id = _dg1_id(dg1)
            b.check("id_number", ("DG1", "QR"), dg1_id, qr.id_number)

    def text_value(name: str) -> str | None:
        value = values.get(name)
        return value if isinstance(value, str) else None

    def date_value(name: str) -> date | None:
        value = values.get(name)
        return value if isinstance(value, date) else None

    sex = _sex(values.get("sex"))
    extra_value = values.get("extra")
    extra_texts = dict(extra_value) if isinstance(extra_value, dict) else {}
    card: dict[str, object] = {
        spec.name: date_value(spec.name) if spec.kind == "date" else text_value(spec.name)
        for spec in vocabulary.FIELDS
    }
    card["sex"] = sex
    return Identity(
        source=source,
        name_ascii_only=source == "DG1",
        no_expiry=no_expiry,
        birth_partial=None if date_value("date_of_birth") else text_value("birth_partial"),
        extra=extra_texts,
        repairs=tuple(b.repairs),
        checks=tuple(b.checks),
        **card,  # type: ignore[arg-type]
    )


def _check_dg1(
    b: _Builder,
    values: Mapping[str, object],
    dg1: Mapping[str, object],
    born: date | None,
    no_expiry: bool,
) -> None:
    pair = ("DG13", "DG1")
    id_number = values.get("id_number")
    b.check("id_number", pair, id_number, _dg1_id(dg1))
    doc = str(dg1.get("document_number") or "").replace("<", "").strip() or None
    b.check(
        "document_number",
        pair,
        id_number[3:] if isinstance(id_number, str) else None,
        doc,
        "the MRZ document number is the last 9 digits of the ID number",
    )
    dg1_born = _yymmdd(dg1.get("date_of_birth"), born=born)
    b.check("date_of_birth", pair, born, dg1_born)
    b.check("sex", pair, values.get("sex"), _sex(dg1.get("sex")))
    if no_expiry:
        b.checks.append(
            CrossCheck(
                field="date_of_expiry",
                sources=pair,
                verdict="missing",
                detail="no expiry on the card; what the MRZ holds is unconfirmed",
            )
        )
    else:
        expiry = values.get("date_of_expiry")
        b.check(
            "date_of_expiry",
            pair,
            expiry,
            _yymmdd(dg1.get("date_of_expiry"), born=born, expiry=True),
        )
    name, mrz = values.get("full_name"), _mrz_name(dg1)
    if isinstance(name, str) and mrz:
        same, detail = _name_vs_mrz(name, mrz)
        b.checks.append(
            CrossCheck(
                field="full_name",
                sources=pair,
                verdict="match" if same else "mismatch",
                detail=detail,
            )
        )
    else:
        b.check("full_name", pair, name, mrz)


def _check_qr(b: _Builder, values: Mapping[str, object], qr: QRIdentity, main: str) -> None:
    pair = (main, "QR")
    b.check("id_number", pair, values.get("id_number"), qr.id_number)
    b.check("date_of_birth", pair, values.get("date_of_birth"), qr.date_of_birth)
    b.check("sex", pair, values.get("sex"), qr.sex)
    if main == "DG13":
        b.check("old_id_number", pair, values.get("old_id_number") or "", qr.old_id_number or "")
        b.check("date_of_issue", pair, values.get("date_of_issue"), qr.date_of_issue)
        for name, qr_value in (
            ("full_name", qr.full_name),
            ("place_of_residence", qr.place_of_residence),
        ):
            ours = values.get(name)
            if not isinstance(ours, str):
                b.check(name, pair, ours, qr_value)
                continue
            level = match_level(ours, qr_value)
            b.checks.append(
                CrossCheck(
                    field=name,
                    sources=pair,
                    verdict="match" if level else "mismatch",
                    detail=f"agree at level {level}" if level else "differ even when folded",
                )
            )
    else:
        mrz_name = values.get("full_name")
        same = isinstance(mrz_name, str) and _name_vs_mrz(qr.full_name, mrz_name)[0]
        b.checks.append(
            CrossCheck(
                field="full_name",
                sources=pair,
                verdict="match" if same else "mismatch",
                detail="folded QR name against the MRZ name",
            )
        )
