"""Every code path the desk service runs stays OS-neutral (desk PCs are mostly Windows): no
POSIX-only module or call in ``service/``, ``reader/`` or ``verify/``, and the data and
config folders come from ``platformdirs``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSIX_MODULES = {"fcntl", "pwd", "grp", "termios", "tty", "pty", "resource", "posix", "syslog"}
POSIX_CALLS = {
    ("os", "fork"),
    ("os", "forkpty"),
    ("os", "getuid"),
    ("os", "geteuid"),
    ("os", "getgid"),
    ("os", "setsid"),
    ("os", "killpg"),
    ("os", "getpgid"),
    ("os", "mkfifo"),
    ("signal", "SIGHUP"),
    ("signal", "SIGKILL"),
    ("signal", "SIGUSR1"),
    ("signal", "SIGUSR2"),
    ("signal", "SIGALRM"),
    ("signal", "alarm"),
    ("socket", "AF_UNIX"),
}
POSIX_PATHS = ("/tmp/", "/var/", "/etc/", "/dev/", "/run/", "~/.local", "~/.config")


def _sources() -> list[Path]:
    return sorted(p for d in ("service", "reader", "verify") for p in (ROOT / d).rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_posix_only_calls(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in POSIX_MODULES]
        elif (
            isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in POSIX_MODULES
        ):
            found.append(node.module or "")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if (node.value.id, node.attr) in POSIX_CALLS:
                found.append(f"{node.value.id}.{node.attr}")
            if node.attr == "add_signal_handler":  # not on Windows' event loops
                found.append("loop.add_signal_handler")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith(POSIX_PATHS)
        ):
            found.append(repr(node.value))
    assert not found, f"POSIX-only code in {path.relative_to(ROOT)}: {found}"


def test_folders_come_from_platformdirs(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    from service import settings

    monkeypatch.setattr(
        platformdirs, "user_data_dir", lambda *a, **k: r"C:\Users\quay\AppData\Local\cccd"
    )
    monkeypatch.setattr(
        platformdirs, "user_config_dir", lambda *a, **k: r"C:\Users\quay\AppData\Local\cccd"
    )
    assert str(settings.default_trust_dir()).endswith("trust")
    assert str(settings.default_trust_dir()).startswith(r"C:\Users\quay")
    assert str(settings.user_config_file()).endswith("cccd.toml")
    assert str(settings.Settings().data_dir) == r"C:\Users\quay\AppData\Local\cccd"
