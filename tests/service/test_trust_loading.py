"""Which CSCA trust store the service uses: the configured one, else the directory
``cccd trust`` manages, else none (the service takes the same store as the CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures import pki
from service.app import _load_trust
from service.cli.main import main
from service.settings import Settings


def test_service_uses_the_directory_cccd_trust_manages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings = Settings(api_keys={"d": "x"}, simulated=False)
    assert _load_trust(settings) is None  # nothing installed yet
    csca = tmp_path / "csca.der"
    csca.write_bytes(pki.csca("brainpool512").der)
    assert main(["trust", "add", str(csca)]) == 0
    capsys.readouterr()
    store = _load_trust(settings)
    assert store is not None
    assert [a.der for a in store.anchors] == [pki.csca("brainpool512").der]


def test_configured_directory_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "elsewhere"))
    configured = tmp_path / "trust"
    configured.mkdir()
    (configured / "csca.der").write_bytes(pki.csca("p256").der)
    store = _load_trust(Settings(api_keys={"d": "x"}, trust_store=configured))
    assert [a.der for a in store.anchors] == [pki.csca("p256").der]
