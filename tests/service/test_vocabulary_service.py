"""The service's use of the DG13 field vocabulary (``reader.lds.vocabulary``): what a desk is
shown and what is stored (minimisation), which names the log redactor learns, the HIS
object's card fields, and the database columns that hold card fields. Columns are frozen in
numbered migration steps, so they are checked against a migrated database, not derived: a
renamed field must come with a migration step."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from inspect import signature as inspect_signature
from pathlib import Path

import pytest
from sqlalchemy import inspect

from reader.lds import vocabulary
from service.desks import CHECKIN_FIELDS, OPTIONAL_FIELDS, minimise
from service.integrations.his.fields import IDENTITY_FIELDS, UNIT_FIELDS, his_object
from service.integrations.his.outbox import metadata as outbox_metadata
from service.integrations.his.units import Units
from service.scan.results import SENSITIVE_NAMES
from service.storage.audit_key import AuditKeys
from service.storage.store import Store
from service.storage.store import metadata as store_metadata
from verify.identity import build_identity

ROOT = Path(__file__).resolve().parents[2]
DG13 = {
    "id_number": "001185483324",
    "full_name": "NGUYỄN THỊ HƯƠNG",
    "date_of_birth": "14/03/1985",
    "sex": "Nữ",
    "nationality": "Việt Nam",
    "ethnicity": "Kinh",
    "religion": "Không",
    "place_of_origin": "Xã Phú Hữu, Huyện Châu Thành, Tỉnh Hậu Giang",
    "place_of_residence": "Số 25, Phố Đội Cấn, Quận Ba Đình, Thành phố Hà Nội",
    "identifying_marks": "Nốt ruồi C:1cm trên mép trái",
    "date_of_issue": "23/08/2021",
    "date_of_expiry": "14/03/2025",
    "father_name": "NGUYỄN VĂN BÌNH",
    "mother_name": "LÊ THỊ LAN",
    "spouse_name": "NGUYỄN VĂN HẢI",
    "old_id_number": "115371813",
    "extra": {16: "ABCDEF0123456789"},
}


def _shown() -> dict[str, object]:
    return build_identity(dg13=DG13).to_json(date(2024, 1, 1))


def test_every_identity_key_is_either_for_checkin_or_optional() -> None:
    """``minimise`` keeps only keys it knows: a new key in neither set would vanish."""
    keys = set(_shown())
    assert keys == CHECKIN_FIELDS | OPTIONAL_FIELDS
    assert not CHECKIN_FIELDS & OPTIONAL_FIELDS


def test_minimisation_follows_the_sensitive_flag() -> None:
    assert CHECKIN_FIELDS & set(vocabulary.NAMES) == vocabulary.CHECKIN_NAMES
    assert OPTIONAL_FIELDS & set(vocabulary.NAMES) == vocabulary.SENSITIVE_NAMES
    shown = minimise(_shown(), frozenset())
    assert shown is not None
    for spec in vocabulary.FIELDS:
        assert (spec.name in shown) is not spec.sensitive, spec.name
    every = minimise(_shown(), OPTIONAL_FIELDS)
    assert every is not None
    assert set(vocabulary.NAMES) <= set(every)


def test_the_redactor_learns_every_person_name() -> None:
    assert set(SENSITIVE_NAMES) == {f.name for f in vocabulary.FIELDS if f.person_name}
    assert "full_name" in SENSITIVE_NAMES


def test_his_card_fields_are_the_vocabulary_his_names() -> None:
    card_part = [name for name in IDENTITY_FIELDS if name not in UNIT_FIELDS]
    assert set(card_part) == set(vocabulary.HIS_NAMES.values())
    assert len(card_part) == len(vocabulary.HIS_NAMES)
    his = his_object(build_identity(dg13=DG13).his_fields(), Units(status="unknown"))
    assert his[vocabulary.HIS_NAMES["id_number"]] == DG13["id_number"]
    assert his[vocabulary.HIS_NAMES["sex"]] == "2"


@pytest.fixture
def migrated(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'cccd.sqlite3'}", audit_keys=AuditKeys.for_tests())
    store.migrate()
    yield store
    store.close()


def test_card_field_columns_exist_in_the_migrated_database(migrated: Store) -> None:
    columns = {c["name"] for c in inspect(migrated.engine).get_columns("card_reads")}
    assert set(vocabulary.COLUMN_NAMES) <= columns
    assert columns & set(vocabulary.NAMES) == set(vocabulary.COLUMN_NAMES)


def test_no_table_names_a_card_field_the_vocabulary_does_not_store() -> None:
    """Every column (of the store and of the HIS outbox) named like a card field is one the
    vocabulary marks as a column; and the current tables say what the migrations made."""
    for metadata in (store_metadata, outbox_metadata):
        for table in metadata.tables.values():
            named = {c.name for c in table.columns} & set(vocabulary.NAMES)
            assert named <= set(vocabulary.COLUMN_NAMES), table.name
    card_reads = store_metadata.tables["card_reads"]
    assert set(vocabulary.COLUMN_NAMES) <= {c.name for c in card_reads.columns}


def test_the_store_writes_the_card_field_columns_by_their_names() -> None:
    params = set(inspect_signature(Store.save_read).parameters)
    assert params & set(vocabulary.NAMES) == set(vocabulary.COLUMN_NAMES)


def test_current_tables_match_the_migrated_columns(migrated: Store) -> None:
    found = inspect(migrated.engine)
    for name, table in store_metadata.tables.items():
        assert {c["name"] for c in found.get_columns(name)} == {c.name for c in table.columns}


def test_the_desk_page_labels_every_field_in_both_languages() -> None:
    """The desk page's texts (``T.vi`` and ``T.en`` in texts.js) have an ``f_<name>`` label
    for each card field, so a field added to the vocabulary shows up labelled."""
    texts = (ROOT / "service" / "static" / "js" / "texts.js").read_text(encoding="utf-8")
    table = texts[texts.index("export const T = {") : texts.index("export const PROBLEMS")]
    vi, en = table[: table.index("\n  en: {")], table[table.index("\n  en: {") :]
    for language in (vi, en):
        labels = set(re.findall(r"^ {4}f_(\w+):", language, flags=re.MULTILINE))
        assert set(vocabulary.NAMES) <= labels
