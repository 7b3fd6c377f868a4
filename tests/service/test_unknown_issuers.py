"""The record of unanchored document-signer issuers stays small, private and robust."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service.scan import unknown_issuers as U


def test_counts_are_kept_per_issuer_and_key(tmp_path: Path) -> None:
    store = U.UnknownIssuers(tmp_path)
    store.record("C=VN, CN=CSCA A", "aa")
    store.record("C=VN, CN=CSCA A", "aa")
    store.record("C=VN, CN=CSCA A", "bb")
    store.record("C=VN, CN=CSCA B", None)
    listed = store.list()
    assert [(u.issuer, u.authority_key_identifier, u.count) for u in listed] == [
        ("C=VN, CN=CSCA A", "aa", 2),
        ("C=VN, CN=CSCA A", "bb", 1),
        ("C=VN, CN=CSCA B", None, 1),
    ]
    assert stat.S_IMODE((tmp_path / U.FILE_NAME).stat().st_mode) == 0o600


def test_the_file_is_bounded_and_least_recent_issuers_drop_out(tmp_path: Path) -> None:
    store = U.UnknownIssuers(tmp_path)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for index in range(U.MAX_ENTRIES + 5):
        store.record(f"CN=issuer {index}", None, now=start + timedelta(minutes=index))
    listed = store.list()
    assert len(listed) == U.MAX_ENTRIES
    assert "CN=issuer 0" not in {u.issuer for u in listed}
    store.record("x" * 5000, "y" * 5000)
    assert max(len(u.issuer) for u in store.list()) <= 512


def test_a_damaged_file_is_replaced_not_trusted(tmp_path: Path) -> None:
    (tmp_path / U.FILE_NAME).write_text("{not json", "utf-8")
    store = U.UnknownIssuers(tmp_path)
    assert store.list() == []
    (tmp_path / U.FILE_NAME).write_text('{"issuers": [{"issuer": 3}, "junk"]}', "utf-8")
    assert store.list() == []
    store.record("CN=A", None)
    assert [u.count for u in store.list()] == [1]
