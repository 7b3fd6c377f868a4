"""The BHXH officers as configured: environment and TOML forms, each desk's default, the
hospital-wide fallback, and settings that cannot be used named clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import Settings, SettingsError

ENV_OFFICERS = "cb01=Nguyễn Thị A|001190000001; cb02 = Trần Văn B | 001190000002"


def test_officers_from_the_environment() -> None:
    settings = Settings.load(
        environ={"CCCD_BHXH_OFFICERS": ENV_OFFICERS, "CCCD_BHXH_DESK_OFFICERS": "desk-1=cb02"}
    )
    book = settings.officer_book()
    assert book.listing() == [
        {"id": "cb01", "name": "Nguyễn Thị A"},
        {"id": "cb02", "name": "Trần Văn B"},
    ]
    desk_one = book.desk_default("desk-1")
    assert desk_one is not None and desk_one.cccd == "001190000002"
    assert book.desk_default("desk-9") is None  # no fallback configured
    assert "001190000001" not in repr(settings) and "001190000001" not in repr(desk_one)


def test_officers_from_toml_and_the_legacy_fallback(tmp_path: Path) -> None:
    config = tmp_path / "cccd.toml"
    config.write_text(
        '[bhxh]\nurl = "https://egw.example"\nofficer_name = "Lê Thị C"\n'
        'officer_id = "001190000003"\n'
        '[bhxh.officers]\ncb01 = { name = "Nguyễn Thị A", cccd = "001190000001" }\n'
        '[bhxh.desk_officers]\ndesk-1 = "cb01"\n',
        "utf-8",
    )
    book = Settings.load(environ={}, config_file=config).officer_book()
    assert {o["id"] for o in book.listing()} == {"cb01", "default"}
    assert book.desk_default("desk-1").id == "cb01"  # type: ignore[union-attr]
    assert book.desk_default("desk-2").id == "default"  # type: ignore[union-attr]
    # a principal that carries its own officer wins over the mapping
    assert book.desk_default("desk-1", "default").id == "default"  # type: ignore[union-attr]


def test_simulated_defaults_only_when_nothing_is_configured() -> None:
    demo = {"cb01": ("Nguyễn Thị Tiếp Đón", "001190000001")}
    assert Settings.load(environ={}).officer_book(demo).desk_default("x").id == "cb01"  # type: ignore[union-attr]
    configured = Settings.load(environ={"CCCD_BHXH_OFFICERS": ENV_OFFICERS})
    assert configured.officer_book(demo).desk_default("x") is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CCCD_BHXH_OFFICERS": "cb01=Nguyễn Thị A|12345"}, "12 digits"),
        ({"CCCD_BHXH_OFFICERS": "cb01=Nguyễn Thị A"}, "id=Full Name|CCCD"),
        ({"CCCD_BHXH_OFFICERS": "c b=Nguyễn Thị A|001190000001"}, "officer id"),
        ({"CCCD_BHXH_OFFICERS": "cb01=|001190000001"}, "name"),
        (
            {"CCCD_BHXH_OFFICERS": ENV_OFFICERS, "CCCD_BHXH_DESK_OFFICERS": "desk-1=cb09"},
            "not in the list",
        ),
        ({"CCCD_BHXH_DESK_OFFICERS": "desk-1"}, "desk=officer-id"),
        ({"CCCD_BHXH_ENCODING": "xml"}, "form or json"),
        ({"CCCD_BHXH_TOKEN_TIMEOUT_SECONDS": "0"}, "positive"),
    ],
)
def test_unusable_officer_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.load(environ=env)


def test_a_desk_tables_own_officer(tmp_path: Path) -> None:
    config = tmp_path / "cccd.toml"
    config.write_text(
        '[bhxh.officers]\ncb01 = { name = "Nguyễn Thị A", cccd = "001190000001" }\n'
        'cb02 = { name = "Trần Văn B", cccd = "001190000002" }\n'
        '[desks.quay-1]\nkeys = ["sha256:' + "a" * 64 + '"]\nreaders = ["R1"]\n'
        'officer = "cb02"\n'
        '[desks.quay-2]\nkeys = ["sha256:' + "b" * 64 + '"]\nreaders = ["R2"]\n',
        "utf-8",
    )
    book = Settings.load(environ={}, config_file=config).officer_book()
    assert book.desk_default("quay-1").id == "cb02"  # type: ignore[union-attr]
    assert book.desk_default("quay-2") is None
    config.write_text(config.read_text("utf-8").replace('officer = "cb02"', 'officer = "cb07"'))
    with pytest.raises(SettingsError, match="not in the list"):
        Settings.load(environ={}, config_file=config)
