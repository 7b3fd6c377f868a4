"""Every ``cccd`` command given bad input ends with one plain line and an exit code, never
a traceback (service/cli/main.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from service.cli.main import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
VALID = "017072769692"


def bad_inputs(tmp: Path) -> list[list[str]]:
    junk = tmp / "junk.bin"
    junk.write_bytes(b"not a certificate")
    missing = str(tmp / "missing")
    trust = ["--trust", str(tmp / "trust")]
    return [
        ["nosuch"],
        ["--bogus"],
        ["read", "--simulated", "123"],
        ["read", "--simulated", VALID, "--faults", "nonsense"],
        ["read", "--simulated", VALID, "--at", "yesterday"],
        ["read", "--simulated", VALID, "--trust", missing],
        ["read", "--simulated", VALID, "--dump", str(junk)],
        ["read", "--simulated", VALID, "--id-number", "12"],
        ["verify", missing],
        ["verify", str(tmp)],
        ["inspect", missing],
        ["readers", "--bogus"],
        ["qr", "abc"],
        ["qr"],
        ["text", "repair"],
        ["text", "nosuch"],
        ["trust", *trust, "add", str(junk)],
        ["trust", *trust, "add", missing],
        ["trust", *trust, "import-master-list", str(junk)],
        ["trust", *trust, "import-crl", str(junk)],
        ["trust", "nosuch"],
        ["watch"],
        ["watch", "--reader", "x", "--count", "many"],
        ["audit", "export", "--since", "not-a-date"],
        ["audit", "nosuch"],
        ["audit", "verify", "--config", missing],
        ["erase"],
        ["erase", "--id-number", "12"],
        ["key", "nosuch"],
        ["doctor", "--bogus"],
        ["key", "new", "--bogus"],
        ["simulate", "--citizen", "000000000000", "--vpcd", "--port", "1"],
        ["simulate", "--link", "999"],
        ["serve", "--port", "99999"],
        ["serve", "--config", str(junk)],
        ["serve", "--config", missing],
    ]


def test_every_command_is_walked(tmp_path: Path) -> None:
    walked = {args[0] for args in bad_inputs(tmp_path) if not args[0].startswith("-")}
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert commands <= walked, commands - walked


def test_bad_input_is_one_plain_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("CCCD_DATA_DIR", str(tmp_path / "data"))
    for args in bad_inputs(tmp_path):
        try:
            code = main(args)
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        lines = [line for line in (out + err).splitlines() if line.strip()]
        assert code in (1, 2), (args, code, out, err)
        assert len(lines) == 1, (args, lines)
        assert "Traceback" not in err and "Error:" not in lines[0].split(":", 1)[0], (args, err)
        assert lines[0].startswith(("cccd", "refused", "master list", "CRL")), (args, lines)


def test_the_reported_case_has_no_traceback() -> None:
    """``cccd read --simulated 123`` as a separate process, as the clerk's IT would run it."""
    result = subprocess.run(
        [sys.executable, "-m", "service.cli.main", "read", "--simulated", "123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == ["cccd: no fictional citizen with that ID number"]
