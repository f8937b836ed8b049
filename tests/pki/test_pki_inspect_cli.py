"""`knoxtui inspect`: exit codes 0/1/2, the JSON of DESIGN.md §4, the human view."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pki_factory as f
import pytest

from knoxtui.cli import main

pytestmark = pytest.mark.usefixtures("frozen_now")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    _root, inter, leaf = f.pki()
    expired = f.make_cert(
        "old.knox.test", issuer=inter, not_before=f.NOW - timedelta(days=400), days=380
    )
    paths = {
        "good": leaf.cert_pem + inter.cert_pem,
        "key": leaf.key_pem(),
        "locked_key": leaf.key_pem(f.PASSPHRASE),
        "p12": leaf.pkcs12(),
        "expired": expired.cert_pem,
        "other_key": inter.key_pem(),
        "junk": b"this is not a certificate\n",
        "pass": (f.PASSPHRASE + "\n").encode(),
    }
    out = {}
    for name, data in paths.items():
        out[name] = tmp_path / name
        out[name].write_bytes(data)
    return out


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["inspect", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_of_a_good_pair(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(files["good"]), "--key", str(files["key"]), "--json")
    assert code == 0
    data = json.loads(out)
    for key in f.DESIGN_FIELDS:
        assert key in data
    assert data["valid"] is True and data["status"] == "valid"
    assert data["subject_cn"] == "client.knox.test" and data["key_matches"] is True
    assert [c["subject"].split(",")[0] for c in data["chain"]] == [
        "CN=client.knox.test",
        "CN=Knox Test Issuing CA",
    ]
    assert data["findings"][0]["code"] == "unencrypted_key"


def test_exit_1_on_error_findings(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, str(files["good"]), "--key", str(files["other_key"]), "--json")
    assert code == 1 and json.loads(out)["findings"][0]["code"] == "key_mismatch"
    code, out, _ = run(capsys, str(files["expired"]), "--json")
    assert code == 1 and json.loads(out)["status"] == "expired"
    code, out, _ = run(capsys, str(files["junk"]), "--json")
    assert code == 1 and json.loads(out)["findings"][0]["code"] == "unsupported_format"


def test_passphrase_file(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(files["p12"]), "--json")
    assert code == 1 and json.loads(out)["findings"][0]["code"] == "passphrase_required"
    code, out, _ = run(
        capsys, str(files["p12"]), "--key-passphrase-file", str(files["pass"]), "--json"
    )
    data = json.loads(out)
    assert code == 0 and data["format"] == "pkcs12" and data["encrypted_key"] is True
    assert f.PASSPHRASE not in out


def test_key_file_without_a_key(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(files["good"]), "--key", str(files["expired"]), "--json")
    assert code == 1 and json.loads(out)["findings"][0]["code"] == "missing_private_key"
    code, out, _ = run(capsys, str(files["good"]))
    assert code == 0 and "not present (mTLS needs one" in out


def test_several_files_give_a_list(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, str(files["good"]), str(files["expired"]), "--json")
    data = json.loads(out)
    assert isinstance(data, list) and [d["valid"] for d in data] == [True, False]
    assert code == 1


def test_exit_2_for_a_missing_file(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, str(files["good"]), str(files["good"].parent / "nope.pem"))
    assert code == 2 and out == "" and "does not exist" in err
    code, _, err = run(capsys, str(files["good"]), "--key", "/nonexistent/key.pem")
    assert code == 2 and "key file" in err


def test_exit_2_for_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["inspect"])
    assert caught.value.code == 2


def test_thresholds_from_options(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, str(files["good"]), "--warning-days", "400", "--urgent-days", "10", "--json"
    )
    assert code == 0 and json.loads(out)["status"] == "warning"
    code, _, err = run(capsys, str(files["good"]), "--warning-days", "5", "--urgent-days", "10")
    assert code == 2 and "urgent" in err


def test_human_view(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        str(files["good"]),
        "--key",
        str(files["locked_key"]),
        "--key-passphrase-file",
        str(files["pass"]),
    )
    assert code == 0
    for label in (
        "Subject",
        "Issuer",
        "Valid from",
        "Expires",
        "Days remaining",
        "Status",
        "Private key",
        "Passphrase",
    ):
        assert label in out
    assert "matches the certificate (EC P-256 …" in out
    assert "protected (encrypted key)" in out
    assert "\033[" not in out  # not a terminal: no colour
    code, out, _ = run(capsys, str(files["expired"]))
    assert code == 1 and "✗ error expired" in out and "fix: Renew" in out


def test_human_view_colours_only_on_a_terminal(files: dict[str, Path]) -> None:
    from knoxtui.commands.inspect import render
    from knoxtui.pki import load_bundle

    bundle = load_bundle(files["expired"].read_bytes())
    assert "\033[31m" in render(bundle, colour=True)
    assert "\033[" not in render(bundle, colour=False)


def test_through_a_subprocess(files: dict[str, Path]) -> None:
    env = dict(os.environ, KNOXTUI_NOW="2026-06-01T12:00:00Z")
    base = [sys.executable, "-m", "knoxtui", "inspect"]
    ok = subprocess.run(
        [*base, str(files["good"]), "--json"], capture_output=True, text=True, env=env, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["days_remaining"] == 335
    bad = subprocess.run(
        [*base, str(files["expired"]), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 1 and json.loads(bad.stdout)["findings"][0]["code"] == "expired"
    missing = subprocess.run(
        [*base, str(files["good"].parent / "missing.pem")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr + bad.stderr
