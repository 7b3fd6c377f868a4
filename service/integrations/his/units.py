"""Administrative-unit codes of a residence, old and new (``docs/his-fields.md`` "Unit codes").

A card issued before 1 July 2025 prints the residence on the old three levels (xã/phường/thị
trấn, huyện/quận/thị xã/thành phố, tỉnh/thành phố: 63 provinces); since then Việt Nam has 34
provinces and no district level. The HIS wants MATINH_CU_TRU / MAXA_CU_TRU (and, on the old
structure, MAHUYEN_CU_TRU) as codes of the official list (danh mục đơn vị hành chính).

The lists and the 2025 old-to-new mapping come from the ``vietnamadminunits`` package (MIT):
its SQLite dataset (the 63-province and 34-province lists with GSO codes) and its conversion
table (which old commune went into which new one; an old commune divided between several new
ones lists them all). We read only its data files, never its address converter: that one picks
a "default" new commune for a divided old one and may geocode over the network, and here
nothing is guessed. A divided commune, an unknown name or several units of the same name come
back as such, with the candidates.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from verify.vntext import normalize, search_key

__all__ = ["Unit", "UnitTables", "Units", "UnitsError", "resolve_residence", "tables"]

Status = Literal["resolved", "ambiguous", "unknown", "no_address"]
MAX_ADDRESS = 1024  # DIA_CHI's limit: a longer text is cut before parsing
MAX_SEGMENTS = 12

# Type words a segment starts with, folded; the longest first.
_PROVINCE_TYPES = ("thanh pho", "tinh", "tp")
_DISTRICT_TYPES = ("thanh pho", "thi xa", "huyen", "quan", "tp", "tx", "q", "h")
_WARD_TYPES = ("thi tran", "dac khu", "phuong", "xa", "tt", "p", "x")
_TYPE_NAMES = {
    "tp": "thanh pho",
    "tx": "thi xa",
    "q": "quan",
    "h": "huyen",
    "tt": "thi tran",
    "p": "phuong",
    "x": "xa",
}


# Old communes the official conversion table ("Bảng chuyển đổi đơn vị hành chính mới - cũ",
# July 2025) divides between more new communes than the package lists (checked over all 10,033
# old communes; docs/his-fields.md): old code -> every new code the official table names.
OFFICIAL_DIVISIONS: dict[str, tuple[str, ...]] = {
    # Xã Văn Khê, Huyện Mê Linh, Hà Nội: part of its area went to Xã Ô Diên (09817) too
    "09013": ("08980", "08995", "09022", "09817"),
}


class UnitsError(RuntimeError):
    """The unit lists could not be loaded (package missing or its files unreadable)."""


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name: str  # with its type word: "Xã Tú Lý", "Huyện Đà Bắc", "Tỉnh Hòa Bình"

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name}


@dataclass(frozen=True, slots=True)
class _Entry:
    unit: Unit
    type_key: str  # folded type word: "xa", "phuong", "huyen", "tinh", ...
    name_key: str  # folded name without the type: "tu ly"
    nfc: str  # the name without the type, NFC lower case (to tell "Hòa" from "Hoà" apart)
    aliases: tuple[str, ...] = ()  # former names' keys


@dataclass(slots=True)
class UnitTables:
    """The lists, indexed. Built once from the package's files (``tables()``)."""

    source: str
    old_provinces: dict[str, _Entry] = field(default_factory=dict)  # code -> entry
    old_districts: dict[str, list[_Entry]] = field(default_factory=dict)  # province code -> ...
    old_wards: dict[str, list[_Entry]] = field(default_factory=dict)  # district code -> ...
    old_district_province: dict[str, str] = field(default_factory=dict)
    ward_district: dict[str, str] = field(default_factory=dict)  # old ward code -> district
    new_provinces: dict[str, _Entry] = field(default_factory=dict)
    new_wards: dict[str, list[_Entry]] = field(default_factory=dict)  # province code -> ...
    new_ward_province: dict[str, str] = field(default_factory=dict)
    old_to_new: dict[str, tuple[str, ...]] = field(default_factory=dict)  # old ward -> new wards
    old_province_to_new: dict[str, str] = field(default_factory=dict)
    new_ward_units: dict[str, Unit] = field(default_factory=dict)
    old_ward_units: dict[str, Unit] = field(default_factory=dict)


def _key(text: str) -> str:
    return search_key(text)


def _split_type(text: str, types: Iterable[str]) -> tuple[str | None, str]:
    """("xa", "tu ly") from "Xã Tú Lý"; (None, key) when no type word leads."""
    key = _key(text)
    for word in types:
        if key == word:
            return None, key
        if key.startswith(word + " "):
            return _TYPE_NAMES.get(word, word), key[len(word) + 1 :]
    return None, key


def _nfc_name(text: str, types: Iterable[str]) -> str:
    """The name without its type word, NFC lower case."""
    words = normalize(text).lower().split()
    typed, _ = _split_type(text, types)
    if typed is None:
        return " ".join(words)
    return " ".join(words[len(typed.split()) :]) if len(words) > len(typed.split()) else ""


def _entry(code: str, name: str, types: tuple[str, ...], aliases: Iterable[str] = ()) -> _Entry:
    type_key, name_key = _split_type(name, types)
    return _Entry(
        unit=Unit(code=code, name=normalize(name)),
        type_key=type_key or "",
        name_key=name_key,
        nfc=_nfc_name(name, types),
        aliases=tuple(aliases),
    )


def _package_dir() -> Path:
    """The package's folder, found without importing it (its ``__init__`` loads its address
    parser and geocoding helpers, which we do not use)."""
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise UnitsError("the vietnamadminunits package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _alias_keys(raw: object) -> tuple[str, ...]:
    """The package's former-name keywords ("xahaoly") as folded keys without the type."""
    if not isinstance(raw, str) or not raw:
        return ()
    try:
        values = json.loads(raw)
    except ValueError:
        return ()
    return tuple(str(v) for v in values if isinstance(v, str))


def load_tables(directory: Path | None = None) -> UnitTables:
    base = (directory or _package_dir()) / "data"
    try:
        db = sqlite3.connect(f"file:{base / 'dataset.db'}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        try:
            new_rows = db.execute("SELECT * FROM admin_units").fetchall()
            old_rows = db.execute("SELECT * FROM admin_units_legacy").fetchall()
        finally:
            db.close()
        conversion = json.loads((base / "converter_2025.json").read_text("utf-8"))
    except (OSError, sqlite3.Error, ValueError) as exc:
        raise UnitsError(f"cannot read the unit lists in {base}: {exc}") from None
    t = UnitTables(source="vietnamadminunits")
    new_by_key: dict[tuple[str, str], str] = {}
    new_prov_by_key: dict[str, str] = {}
    for row in new_rows:
        pcode, wcode = row["provinceCode"], row["wardCode"]
        if pcode not in t.new_provinces:
            t.new_provinces[pcode] = _entry(pcode, row["province"], _PROVINCE_TYPES)
            new_prov_by_key[row["provinceKey"]] = pcode
        entry = _entry(wcode, row["ward"], _WARD_TYPES)
        t.new_wards.setdefault(pcode, []).append(entry)
        t.new_ward_province[wcode] = pcode
        t.new_ward_units[wcode] = entry.unit
        new_by_key[(row["provinceKey"], row["wardKey"])] = wcode
    old_by_key: dict[str, str] = {}
    for row in old_rows:
        pcode, dcode, wcode = row["provinceCode"], row["districtCode"], row["wardCode"]
        if pcode not in t.old_provinces:
            t.old_provinces[pcode] = _entry(pcode, row["province"], _PROVINCE_TYPES)
        if dcode not in t.old_district_province:
            t.old_district_province[dcode] = pcode
            t.old_districts.setdefault(pcode, []).append(
                _entry(dcode, row["district"], _DISTRICT_TYPES)
            )
        if wcode and row["ward"]:
            aliases = tuple(
                _split_type(a, _WARD_TYPES)[1]
                for a in _alias_keys(row["wardAlias"])
                if a not in (row["wardKey"], row["wardShortKey"])
            )
            entry = _entry(wcode, row["ward"], _WARD_TYPES, aliases)
            t.old_wards.setdefault(dcode, []).append(entry)
            t.ward_district[wcode] = dcode
            t.old_ward_units[wcode] = entry.unit
            old_by_key[f"{row['provinceKey']}_{row['districtKey']}_{row['wardKey']}"] = wcode
    targets: defaultdict[str, list[str]] = defaultdict(list)
    for new_province, wards in conversion["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward, olds in wards.items():
            code = new_by_key.get((new_province, new_ward))
            for old in olds:
                if code and old in old_by_key:
                    targets[old_by_key[old]].append(code)
    for new_province, olds in conversion["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, news in olds.items():
            for item in news:
                code = new_by_key.get((new_province, item["newWardKey"]))
                if code and old in old_by_key:
                    targets[old_by_key[old]].append(code)
    t.old_to_new = {old: tuple(dict.fromkeys(codes)) for old, codes in targets.items()}
    for old, codes in OFFICIAL_DIVISIONS.items():
        if old in t.old_to_new and all(c in t.new_ward_units for c in codes):
            t.old_to_new[old] = codes
    for new_province, old_keys in conversion["DICT_PROVINCE"].items():
        new_code = new_prov_by_key.get(new_province)
        for old_key in old_keys:
            for row in old_rows:
                if row["provinceKey"] == old_key and new_code:
                    t.old_province_to_new[row["provinceCode"]] = new_code
                    break
    return t


_tables: UnitTables | None = None
_lock = threading.Lock()


def tables() -> UnitTables:
    """The lists, loaded on first use (about half a second) and kept."""
    global _tables
    with _lock:
        if _tables is None:
            _tables = load_tables()
        return _tables


# -- matching -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Segment:
    text: str
    type_key: str | None
    name_key: str
    nfc: str


def _segment(text: str, types: tuple[str, ...]) -> _Segment:
    type_key, name_key = _split_type(text, types)
    return _Segment(text=text, type_key=type_key, name_key=name_key, nfc=_nfc_name(text, types))


def _match(
    segment: str, entries: Iterable[_Entry], types: tuple[str, ...], *, aliases: bool = False
) -> tuple[list[_Entry], str]:
    """Entries whose name matches the segment's: by folded name and, when the segment names a
    type, the same type. Several folded matches are narrowed by the exact (NFC) name.
    Returns the matches and how they matched ("name", "alias" or "")."""
    seg = _segment(segment, types)
    if not seg.name_key:
        return [], ""
    pool = list(entries)
    found = [
        e
        for e in pool
        if e.name_key == seg.name_key and (seg.type_key is None or e.type_key == seg.type_key)
    ]
    if len(found) > 1:
        exact = [e for e in found if e.nfc == seg.nfc]
        if exact:
            found = exact
    if found:
        return found, "name"
    if aliases:
        found = [e for e in pool if seg.name_key in e.aliases]
        if found:
            return found, "alias"
    return [], ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Units:
    """What the residence maps to. ``structure`` says which structure the printed address is
    on; the ``new_*``/``old_*`` units are filled as far as they are known for certain."""

    status: Status
    structure: Literal["old", "new"] | None = None
    reason: str | None = None  # machine code when not resolved
    new_province: Unit | None = None
    new_ward: Unit | None = None
    old_province: Unit | None = None
    old_district: Unit | None = None
    old_ward: Unit | None = None
    matched_by: str | None = None  # "name", or "alias" (a former name of the commune)
    candidates: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        def unit(u: Unit | None) -> dict[str, str] | None:
            return u.to_json() if u else None

        return {
            "status": self.status,
            "structure": self.structure,
            "reason": self.reason,
            "new": {"province": unit(self.new_province), "ward": unit(self.new_ward)},
            "old": {
                "province": unit(self.old_province),
                "district": unit(self.old_district),
                "ward": unit(self.old_ward),
            },
            "matched_by": self.matched_by,
            "candidates": list(self.candidates),
        }


def _segments(address: str) -> list[str]:
    parts = [p.strip() for p in normalize(address[:MAX_ADDRESS]).split(",")]
    return [p for p in parts if p][: MAX_SEGMENTS * 4]


def _province_at(t: UnitTables, parts: list[str]) -> tuple[int, list[_Entry], list[_Entry]]:
    """The rightmost segment naming a province (old and new matches). A segment without a type
    word counts only as the last one (free text after the province is ignored)."""
    for index in range(len(parts) - 1, -1, -1):
        seg = _segment(parts[index], _PROVINCE_TYPES)
        if seg.type_key is None and index != len(parts) - 1:
            continue
        old, _ = _match(parts[index], t.old_provinces.values(), _PROVINCE_TYPES)
        new, _ = _match(parts[index], t.new_provinces.values(), _PROVINCE_TYPES)
        if old or new:
            return index, old, new
    return -1, [], []


def _new_candidates(t: UnitTables, codes: Iterable[str]) -> tuple[dict[str, Any], ...]:
    out = []
    for code in codes:
        province = t.new_provinces[t.new_ward_province[code]].unit
        out.append({"province": province.to_json(), "ward": t.new_ward_units[code].to_json()})
    return tuple(out)


def _old_candidates(t: UnitTables, entries: Iterable[_Entry]) -> tuple[dict[str, Any], ...]:
    out = []
    for e in entries:
        district_code = t.ward_district[e.unit.code]
        province = t.old_provinces[t.old_district_province[district_code]].unit
        district = next(
            d.unit for d in t.old_districts[province.code] if d.unit.code == district_code
        )
        out.append(
            {
                "province": province.to_json(),
                "district": district.to_json(),
                "ward": e.unit.to_json(),
                "new": list(_new_candidates(t, t.old_to_new.get(e.unit.code, ()))),
            }
        )
    return tuple(out)


def _from_old_ward(
    t: UnitTables, province: Unit, district: Unit, ward: _Entry, matched_by: str
) -> Units:
    news = t.old_to_new.get(ward.unit.code, ())
    new_province_code = t.old_province_to_new.get(province.code)
    new_province = t.new_provinces[new_province_code].unit if new_province_code else None
    common = {
        "structure": "old",
        "old_province": province,
        "old_district": district,
        "old_ward": ward.unit,
        "new_province": new_province,
        "matched_by": matched_by,
    }
    if len(news) == 1:
        return Units(status="resolved", new_ward=t.new_ward_units[news[0]], **common)  # type: ignore[arg-type]
    if not news:
        return Units(status="unknown", reason="no_new_unit", **common)  # type: ignore[arg-type]
    return Units(
        status="ambiguous",
        reason="ward_divided",
        candidates=_new_candidates(t, news),
        **common,  # type: ignore[arg-type]
    )


def resolve_residence(address: str | None, t: UnitTables | None = None) -> Units:
    """The unit codes of a printed residence ("..., Xã Tú Lý, Huyện Đà Bắc, Tỉnh Hòa Bình" or
    "..., Xã Đà Bắc, Tỉnh Phú Thọ"). Never a guess: see ``Units.status``."""
    if not address or not address.strip():
        return Units(status="no_address")
    t = t or tables()
    parts = _segments(address)
    at, old_provinces, new_provinces = _province_at(t, parts)
    if at < 0:
        return Units(status="unknown", reason="province_not_found")
    before = parts[:at]
    # Old structure: the segment before the province is one of its districts.
    for old_province in old_provinces:
        if not before:
            break
        districts, _ = _match(before[-1], t.old_districts[old_province.unit.code], _DISTRICT_TYPES)
        if len(districts) != 1:
            continue
        district = districts[0]
        common = {
            "structure": "old",
            "old_province": old_province.unit,
            "old_district": district.unit,
        }
        new_code = t.old_province_to_new.get(old_province.unit.code)
        if new_code:
            common["new_province"] = t.new_provinces[new_code].unit
        if len(before) < 2:
            return Units(status="unknown", reason="ward_missing", **common)  # type: ignore[arg-type]
        wards, how = _match(
            before[-2], t.old_wards.get(district.unit.code, ()), _WARD_TYPES, aliases=True
        )
        if len(wards) == 1:
            return _from_old_ward(t, old_province.unit, district.unit, wards[0], how)
        if not wards:
            return Units(status="unknown", reason="ward_not_found", **common)  # type: ignore[arg-type]
        return Units(
            status="ambiguous",
            reason="several_wards",
            candidates=_old_candidates(t, wards),
            **common,  # type: ignore[arg-type]
        )
    # New structure: the segment before the province is one of its communes.
    for new_province in new_provinces:
        if not before:
            return Units(
                status="unknown",
                structure="new",
                reason="ward_missing",
                new_province=new_province.unit,
            )
        wards, how = _match(before[-1], t.new_wards[new_province.unit.code], _WARD_TYPES)
        if len(wards) == 1:
            return Units(
                status="resolved",
                structure="new",
                new_province=new_province.unit,
                new_ward=wards[0].unit,
                matched_by=how,
            )
        if len(wards) > 1:
            return Units(
                status="ambiguous",
                structure="new",
                reason="several_wards",
                new_province=new_province.unit,
                candidates=_new_candidates(t, (w.unit.code for w in wards)),
            )
    # An old commune written without its district ("Xã Tú Lý, Tỉnh Hòa Bình").
    for old_province in old_provinces:
        if not before:
            break
        pool = [
            w for d in t.old_districts[old_province.unit.code] for w in t.old_wards[d.unit.code]
        ]
        wards, how = _match(before[-1], pool, _WARD_TYPES)
        new_code = t.old_province_to_new.get(old_province.unit.code)
        new_province_unit = t.new_provinces[new_code].unit if new_code else None
        if len(wards) == 1:
            ward = wards[0]
            district_code = t.ward_district[ward.unit.code]
            district = next(
                d.unit
                for d in t.old_districts[old_province.unit.code]
                if d.unit.code == district_code
            )
            return _from_old_ward(t, old_province.unit, district, ward, how)
        if wards:
            return Units(
                status="ambiguous",
                structure="old",
                reason="several_wards",
                old_province=old_province.unit,
                new_province=new_province_unit,
                candidates=_old_candidates(t, wards),
            )
    province = (new_provinces or old_provinces)[0].unit
    is_new = bool(new_provinces)
    if is_new:
        return Units(
            status="unknown", structure="new", reason="ward_not_found", new_province=province
        )
    new_code = t.old_province_to_new.get(province.code)
    return Units(
        status="unknown",
        structure="old",
        reason="district_not_found",
        old_province=province,
        new_province=t.new_provinces[new_code].unit if new_code else None,
    )
