"""The command-line contract's frame: help, version, locate, usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from knoxtui.cli import main


def test_locate_json_uses_knoxtui_home(
    isolated_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["locate", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["vault"].startswith(str(isolated_home))
    assert found["config"].startswith(str(isolated_home))
    assert Path(found["themes_builtin"]).is_dir()


def test_locate_honours_vault_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KNOXTUI_VAULT", str(tmp_path / "v.knox"))
    assert main(["locate"]) == 0
    assert str(tmp_path / "v.knox") in capsys.readouterr().out


def test_unknown_command_is_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "knoxtui", "no-such-command"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
    assert "Traceback" not in result.stderr


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "knoxtui", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("knoxtui ")


def test_suite_resolves_only_loopback() -> None:
    """The guard in conftest.py: outside names fail locally, loopback still resolves."""
    import socket

    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("10.255.255.53", 53)
    assert socket.getaddrinfo("127.0.0.1", 443)
    assert socket.getaddrinfo("localhost", 443)
