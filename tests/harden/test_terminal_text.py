"""Issue 11 item 1: nothing from a certificate, a file or the user reaches the terminal raw.
A hostile certificate (OSC 52, OSC 0, CR, CSI 2J, C1 CSI in its names) and a hostile description
go through every text view of the command line, the reports (stdout and --out files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile import HOSTILE_CN, HOSTILE_TEXT, hostile_client, raw_controls

from knoxtui.cli import main
from knoxtui.vault import connection as vault_connection

PASSPHRASE = "vault-pass-Ibis-9"


@pytest.fixture
def knox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr(vault_connection, "DEFAULT_KDF_ITER", 64)
    monkeypatch.setenv("KNOXTUI_NOW", "2026-06-01T12:00:00Z")
    monkeypatch.setenv("KNOXTUI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NO_COLOR", "1")
    pass_file = tmp_path / "pass.txt"
    pass_file.write_text(PASSPHRASE + "\n")
    vault = tmp_path / "v" / "h.knox"

    def run(*argv: str) -> tuple[int, str, str]:
        extra = ["--vault", str(vault), "--vault-passphrase-file", str(pass_file)]
        code = main([*argv, *([] if argv[0] == "inspect" else extra)])
        out, err = capsys.readouterr()
        return code, out, err

    material = hostile_client()
    (tmp_path / "h.pem").write_bytes(material.cert_pem + material.ca_pem)
    (tmp_path / "h.key").write_bytes(material.key_pem)
    (tmp_path / "desc.txt").write_text("x")
    code, out, err = run(
        "secret",
        "add",
        "hostile",
        "--type",
        "certificate",
        "--file",
        str(tmp_path / "h.pem"),
        "--key",
        str(tmp_path / "h.key"),
        "--description",
        HOSTILE_TEXT,
    )
    assert code == 0, err
    assert raw_controls(out + err) == []
    run.dir = tmp_path  # type: ignore[attr-defined]
    return run


@pytest.mark.parametrize(
    ("argv", "shows_names"),
    [
        (("secret", "list"), True),
        (("secret", "show", "hostile"), True),
        (("check",), False),
        (("audit",), False),
        (("audit", "--sql", "SELECT name, description FROM secrets"), True),
        (("report", "--format", "md"), True),
        (("report", "--format", "csv"), True),
    ],
)
def test_text_output_shows_controls_escaped(knox, argv: tuple[str, ...], shows_names) -> None:
    code, out, err = knox(*argv)
    assert code in (0, 1), err
    assert raw_controls(out + err) == [], (out + err)[:400]
    assert ("\\x1b" in out) is shows_names


def test_inspect_text_escapes_and_json_keeps_the_exact_name(knox) -> None:
    pem = str(knox.dir / "h.pem")
    _code, out, err = knox("inspect", pem)
    assert raw_controls(out + err) == [], out
    assert "\\x1b]52;" in out
    _code, out, err = knox("inspect", pem, "--json")
    assert raw_controls(out) == []  # JSON escapes them, and keeps the exact string
    data = json.loads(out)
    data = data[0] if isinstance(data, list) else data
    assert data["subject_cn"] == HOSTILE_CN


@pytest.mark.parametrize("fmt", ["md", "csv"])
def test_report_files_escape_controls(knox, fmt: str) -> None:
    target = knox.dir / f"report.{fmt}"
    code, _out, err = knox("report", "--format", fmt, "--out", str(target))
    assert code == 0, err
    text = target.read_text()
    assert raw_controls(text) == []
    assert "\\x1b" in text


def test_json_keeps_exact_strings(knox) -> None:
    code, out, _err = knox("secret", "show", "hostile", "--json")
    assert code == 0
    assert raw_controls(out) == []
    data = json.loads(out)
    assert data["description"] == HOSTILE_TEXT
