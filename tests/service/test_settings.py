"""Settings sources (docs/operations.md "Settings"): the precedence defaults < config file <
environment < explicit values, a table replaced whole by a higher source, the exact variable
names, errors that name where the bad value came from, and secrets never shown."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from service.cli.main import main
from service.settings import Settings, SettingsError, hash_key

FILE_KEY = "file-desk-secret-key-1"
ENV_KEY = "env-desk-secret-key-22"


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cccd.toml"
    path.write_text(text, "utf-8")
    return path


def test_each_source_overrides_the_one_below(tmp_path: Path) -> None:
    config = _config(tmp_path, 'port = 9001\nreaders = ["FILE"]\nretention_hours = 3\n')
    assert Settings.load(environ={}).port == 8080  # the default
    from_file = Settings.load(environ={}, config_file=config)
    assert (from_file.port, from_file.readers, from_file.retention_hours) == (9001, ("FILE",), 3)
    env = {"CCCD_PORT": "9002", "CCCD_READERS": "ENV-1, ENV-2"}
    from_env = Settings.load(environ=env, config_file=config)
    assert (from_env.port, from_env.readers) == (9002, ("ENV-1", "ENV-2"))
    assert from_env.retention_hours == 3  # what the environment does not set stays the file's
    explicit = Settings.load(environ=env, config_file=config, port=9003, readers=None)
    assert explicit.port == 9003  # an explicit value wins ...
    assert explicit.readers == ("ENV-1", "ENV-2")  # ... and None means "not given"


def test_the_config_file_named_by_the_environment(tmp_path: Path) -> None:
    config = _config(tmp_path, "[cccd]\nport = 9011\n")  # keys may sit under [cccd]
    assert Settings.load(environ={"CCCD_CONFIG": str(config)}).port == 9011
    other = tmp_path / "other.toml"
    other.write_text("port = 9012\n", "utf-8")
    assert Settings.load(environ={"CCCD_CONFIG": str(config)}, config_file=other).port == 9012


def test_a_table_is_replaced_whole_not_merged(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        f'[api_keys]\nfile-desk = "{FILE_KEY}"\n'
        '[his_profiles.benhvien]\nSoCCCD = "SO_CCCD"\n'
        '[bhxh.officers]\ncb01 = { name = "Nguyễn Thị A", cccd = "001190000001" }\n',
    )
    env = {
        "CCCD_API_KEYS": f"env-desk={ENV_KEY}",
        "CCCD_HIS_PROFILES": '{"khac": {"HoTen": "HO_TEN"}}',
        "CCCD_BHXH_OFFICERS": "cb02=Trần Văn B|001190000002",
    }
    settings = Settings.load(environ=env, config_file=config)
    assert settings.api_keys == {"env-desk": hash_key(ENV_KEY)}
    assert [d.name for d in settings.desks] == ["env-desk"]
    assert settings.his_profiles == {"khac": {"HoTen": "HO_TEN"}}
    assert list(settings.bhxh_officers) == ["cb02"]
    explicit = Settings.load(
        environ={}, config_file=config, his_profiles={"x": {"HoTen": "HO_TEN"}}, api_keys={"x": "y"}
    )
    assert explicit.his_profiles == {"x": {"HoTen": "HO_TEN"}} and explicit.api_keys == {"x": "y"}


def test_variables_are_the_documented_names(tmp_path: Path) -> None:
    assert Settings.load(environ={"CCCD_RATE_LIMIT": "61"}).rate_limit_per_minute == 61
    config = _config(tmp_path, "rate_limit_per_minute = 62\n")
    assert Settings.load(environ={}, config_file=config).rate_limit_per_minute == 62
    ignored = {
        "cccd_port": "9100",  # names are upper case, as documented
        "CCCD_RATE_LIMIT_PER_MINUTE": "5",  # the field name is not a variable
        "CCCD_SCAN_HISTORY": "3",  # no variable for these
        "CCCD_DEMO_KEY": "a-demo-key-from-outside",
        "PORT": "9200",  # no prefix, no setting
    }
    settings = Settings.load(environ=ignored)
    assert settings.port == 8080 and settings.rate_limit_per_minute == 600
    assert settings.scan_history == 500 and settings.demo_key is None
    for key in ("scan_history = 3", "demo_key = 'x'", "CCCD_PORT = 1", "colour = 'red'"):
        with pytest.raises(SettingsError, match="unknown setting"):
            Settings.load(environ={}, config_file=_config(tmp_path, key + "\n"))


def test_env_formats_and_typed_values(tmp_path: Path) -> None:
    env = {
        "CCCD_STORE_PHOTOS": "On",
        "CCCD_SIMULATED_LINK": "",  # empty is false, as before
        "CCCD_REQUIRE_ANCHOR": "auto",
        "CCCD_STORED_FIELDS": "religion, father_name,",
        "CCCD_DESK_READERS": "a=R1|R2,b=R3",
        "CCCD_KEY_ROLES": "b=lookup",
        "CCCD_DATA_DIR": "~/cccd-data",
        "CCCD_RETENTION_HOURS": "1.5",
    }
    settings = Settings.load(environ=env)
    assert settings.store_photos is True and settings.simulated_link is False
    assert settings.require_anchor is None
    assert settings.stored_fields == frozenset({"religion", "father_name"})
    assert settings.desk_readers == {"a": ("R1", "R2"), "b": ("R3",)}
    assert settings.key_roles == {"b": "lookup"}
    assert settings.data_dir == Path("~/cccd-data").expanduser() and settings.data_dir.is_absolute()
    assert settings.retention_hours == 1.5
    config = _config(tmp_path, "[bhxh]\npassword = 12345678\nhistory = false\n")
    from_file = Settings.load(environ={}, config_file=config)
    assert from_file.bhxh_password == "12345678" and from_file.bhxh_history is False


def test_code_built_settings_read_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CCCD_PORT", "9300")
    monkeypatch.setenv("CCCD_CONFIG", str(_config(tmp_path, "retention_hours = 4\n")))
    assert Settings().port == 8080 and Settings(port=9400).port == 9400
    assert Settings().retention_hours == 12
    loaded = Settings.load()  # os.environ, and the file it names
    assert loaded.port == 9300 and loaded.retention_hours == 4
    assert os.environ["CCCD_PORT"] == "9300"


@pytest.mark.parametrize(
    ("where", "expected"),
    [("env", "CCCD_RATE_LIMIT:"), ("file", "cccd.toml:rate_limit_per_minute:"), ("flag", "port:")],
)
def test_errors_name_where_the_bad_value_came_from(
    tmp_path: Path, where: str, expected: str
) -> None:
    bad = "hunter2-not-a-number"
    with pytest.raises(SettingsError) as error:
        if where == "env":
            Settings.load(environ={"CCCD_RATE_LIMIT": bad})
        elif where == "file":
            config = _config(tmp_path, f'rate_limit_per_minute = "{bad}"\n')
            Settings.load(environ={"CCCD_RATE_LIMIT_BURST": "5"}, config_file=config)
        else:
            Settings.load(environ={}, port=bad)
    message = str(error.value)
    assert expected in message and "integer" in message
    assert bad not in message  # a bad value may be a secret: never echoed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port = [\n", "config file"),
        ('[desks.x]\nkeys = ["short"]\n', "at least 16"),
        ("[desks]\nx = 1\n", "has no key"),
        ('api_keys = "desk-1"\n', "desk=SECRET"),
        ('[bhxh.officers]\ncb01 = "Nguyễn"\n', "needs name and cccd"),
    ],
)
def test_bad_config_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as error:
        Settings.load(environ={}, config_file=_config(tmp_path, text))
    assert '"short"' not in str(error.value)


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read config file"):
        Settings.load(environ={}, config_file=tmp_path / "missing.toml")
    with pytest.raises(SettingsError, match="cannot read config file"):
        Settings.load(environ={"CCCD_CONFIG": str(tmp_path / "missing.toml")})


def test_secrets_are_masked_in_repr_and_str(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        f'[desks.quay-1]\nkeys = ["{FILE_KEY}"]\n'
        '[bhxh]\npassword = "bhxh-password-value"\nofficer_name = "Lê Thị C"\n'
        'officer_id = "001190000003"\n'
        '[bhxh.officers]\ncb01 = { name = "Nguyễn Thị A", cccd = "001190000001" }\n'
        '[webhook]\nurl = "https://his.example/cccd"\nsecret = "webhook-secret-value-1"\n',
    )
    env = {
        "CCCD_AUDIT_KEY": "audit-key-value-0123456789",
        "CCCD_DATABASE_URL": "postgresql+psycopg://cccd:db-password-value@db/cccd",
    }
    settings = Settings.load(environ=env, config_file=config)
    secrets = (
        FILE_KEY,
        hash_key(FILE_KEY),
        "bhxh-password-value",
        "001190000003",
        "001190000001",
        "webhook-secret-value-1",
        "audit-key-value-0123456789",
        "db-password-value",
    )
    for shown in (repr(settings), str(settings), f"{settings!r}"):
        assert not [s for s in secrets if s in shown]
        assert "bhxh_password='***'" in shown and "webhook_secret='***'" in shown
        assert "audit_key='***'" in shown and "'quay-1:desk'" in shown
        assert "postgresql+psycopg://cccd:***@db/cccd" in shown
    assert settings.bhxh_password == "bhxh-password-value"  # the value itself is kept
    demo = Settings.load(environ={}).with_demo_key()
    assert demo.demo_key and demo.demo_key not in repr(demo) and "demo_key='***'" in repr(demo)


def test_the_cli_reports_a_bad_setting_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no per-user config file
    monkeypatch.delenv("CCCD_CONFIG", raising=False)
    monkeypatch.setenv("CCCD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CCCD_PORT", "eighty")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cccd serve: CCCD_PORT: ") and "Traceback" not in err
    monkeypatch.setenv("CCCD_PORT", "8080")
    monkeypatch.setenv("CCCD_CONFIG", str(_config(tmp_path, "[desks]\nx = 1\n")))
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "cccd serve:" in err and "cccd.toml" in err and "Traceback" not in err


def _documented_variables() -> list[str]:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text("utf-8")
    section = doc.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `CCCD_")]
    return sorted({name for cell in rows for name in re.findall(r"CCCD_[A-Z_]*[A-Z]", cell)})


def test_every_documented_variable_is_read() -> None:
    documented = _documented_variables()
    assert len(documented) == 58 and "CCCD_RATE_LIMIT" in documented
    defaults = Settings.load(environ={})
    for variable in documented:
        try:
            changed = Settings.load(environ={variable: "x=1"}) != defaults
        except SettingsError:
            changed = True  # read, and refused
        assert changed, f"{variable} is documented but not read"
