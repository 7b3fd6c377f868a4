"""``cccd read --simulated``, ``--dump``, ``cccd verify`` and ``cccd inspect`` end to end
(the identity with diacritics, the verdict, the saved dump)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from service.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_read_simulated_json_has_every_dg13_field_with_diacritics(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _run(capsys, "read", "--simulated", "001185483324", "--json")
    assert code == 0
    data = json.loads(out)
    identity = data["identity"]
    assert identity["full_name"] == "NGUYỄN THỊ HƯƠNG"
    assert unicodedata.is_normalized("NFC", identity["full_name"])
    assert identity["search_key"] == "nguyen thi huong"
    assert identity["place_of_residence"].startswith("Số 25, Ngõ 68, Phố Đội Cấn")
    for field in (
        "sex",
        "nationality",
        "ethnicity",
        "religion",
        "place_of_origin",
        "identifying_marks",
        "date_of_issue",
        "date_of_expiry",
        "father_name",
        "mother_name",
        "spouse_name",
    ):
        assert identity[field], field
    assert identity["card_status"] in ("expired", "expiring", "valid")
    assert identity["his"]["SO_CCCD"] == "001185483324"
    assert identity["his"]["NGAY_SINH"] == "198503140000"
    assert data["status"] == "verified"
    assert data["read"]["files"]["DG13"]["bytes"] > 200


def test_forged_card_is_invalid_and_exit_code_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "read", "--simulated", "017072769692", "--faults", "tampered")
    assert code == 1
    assert "NOT GENUINE" in out


def test_dump_then_verify_and_inspect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dump = tmp_path / "card"
    code, _ = _run(capsys, "read", "--simulated", "017072769692", "--dump", str(dump), "--json")
    assert code == 0
    assert (dump / "SOD.bin").is_file() and (dump / "DG13.bin").is_file()
    # Without a trust store: intact and signed, but not anchored.
    (tmp_path / "empty").mkdir()
    code, out = _run(capsys, "verify", str(dump), "--trust", str(tmp_path / "empty"), "--json")
    assert json.loads(out)["status"] == "signer_not_trusted"
    assert code == 0
    (dump / "DG1.bin").write_bytes((dump / "DG1.bin").read_bytes()[:-1] + b"X")
    code, out = _run(capsys, "verify", str(dump), "--trust", str(tmp_path / "empty"))
    assert code == 1 and "NOT GENUINE" in out
    code, out = _run(capsys, "inspect", str(dump))
    assert code == 0 and "DG2" in out and "face" in out


def test_missing_dump_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path / "nothing")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_missing_trust_directory_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["read", "--simulated", "017072769692", "--trust", str(tmp_path / "none")])
    assert code == 2
    assert "trust directory does not exist" in capsys.readouterr().err


def test_read_resumes_after_the_card_left_for_a_moment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["read", "--simulated", "001185483324", "--faults", "lost_at=12:300", "--json"])
    captured = capsys.readouterr()
    assert code == 0
    assert "hold it still on the reader (waiting up to 10 s)" in captured.err
    assert "reading on" in captured.err
    assert json.loads(captured.out)["identity"]["id_number"] == "001185483324"


def test_read_gives_up_after_the_resume_wait(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "read",
            "--simulated",
            "001185483324",
            "--faults",
            "lost_at=12:60000",
            "--resume-wait",
            "0.3",
        ]
    )
    assert code == 2
    assert "did not come back within 0.3 s" in capsys.readouterr().err


def test_read_through_a_t0_reader_with_extended_apdu_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["read", "--simulated", "--faults", "t0", "extended_apdu_error", "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["identity"]["id_number"] == "017072769692"
