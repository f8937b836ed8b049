"""Passphrases on the command line: a `.p12` or encrypted key that needs one is asked for it on a
terminal, without echo (proved on a real pseudo-terminal: the typed passphrase never comes back),
and `-` reads a passphrase file option from stdin. Without a terminal nothing waits for input."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

P12_PASSPHRASE = "pty-passphrase-7f3a"
VAULT_PASSPHRASE = "vault passphrase for the pty test"
DEADLINE_S = 60.0  # a bound on a stuck child, not a timing assertion


def _p12(path: Path, passphrase: str) -> Path:
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pty-client.knox.test")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"client",
            key,
            cert,
            None,
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
    )
    return path


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KNOXTUI_")}
    env["KNOXTUI_HOME"] = str(home)
    env["NO_COLOR"] = "1"
    env["TERM"] = "dumb"
    return env


def _on_pty(argv: list[str], env: dict[str, str], answers: list[str]) -> tuple[int, str]:
    """Run `python -m knoxtui ARGV` on a new pseudo-terminal; each time a prompt ending in ': '
    appears, type the next answer. Returns (exit code, everything the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal and stdin/stdout/stderr
        os.execve(sys.executable, [sys.executable, "-m", "knoxtui", *argv], env)
    shown = b""
    pending = list(answers)
    prompts_seen = 0
    end = time.monotonic() + DEADLINE_S
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if pending and shown.count(b": ") > prompts_seen and shown.rstrip(b" ").endswith(b":"):
                prompts_seen = shown.count(b": ")
                os.write(fd, pending.pop(0).encode() + b"\n")
        else:
            os.kill(pid, 9)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode("utf-8", "replace")


def test_inspect_asks_for_the_p12_passphrase_without_echo(tmp_path: Path) -> None:
    p12 = _p12(tmp_path / "client.p12", P12_PASSPHRASE)
    code, shown = _on_pty(["inspect", str(p12)], _env(tmp_path / "home"), [P12_PASSPHRASE])
    assert f"Passphrase for {p12}:" in shown
    assert "pty-client.knox.test" in shown  # it opened
    assert P12_PASSPHRASE not in shown  # not echoed, never printed
    assert code == 0, shown


def test_a_wrong_answer_is_asked_again_then_reported(tmp_path: Path) -> None:
    p12 = _p12(tmp_path / "client.p12", P12_PASSPHRASE)
    answers = ["wrong-1", "wrong-2", "wrong-3"]
    code, shown = _on_pty(["inspect", str(p12)], _env(tmp_path / "home"), answers)
    assert shown.count("Passphrase for") == 3
    assert shown.count("does not open it; try again") == 2
    assert "wrong_passphrase" in shown or "passphrase" in shown.lower()
    assert not any(answer in shown for answer in answers)
    assert code == 1


def test_secret_add_asks_and_stores_the_typed_passphrase(tmp_path: Path) -> None:
    p12 = _p12(tmp_path / "client.p12", P12_PASSPHRASE)
    home = tmp_path / "home"
    vault = tmp_path / "v.knox"
    passfile = tmp_path / "vault.pass"
    passfile.write_text(VAULT_PASSPHRASE + "\n")
    argv = ["--vault", str(vault), "--vault-passphrase-file", str(passfile)]
    add = [*argv, "secret", "add", "bank", "--type", "certificate", "--file", str(p12)]
    code, shown = _on_pty(add, _env(home), [P12_PASSPHRASE])
    assert code == 0, shown
    assert P12_PASSPHRASE not in shown
    from knoxtui.vault import Vault

    with Vault.open(vault, VAULT_PASSPHRASE) as opened:
        stored = opened.resolve("bank", "default")
    assert getattr(stored, "key_passphrase", None) == P12_PASSPHRASE


def test_key_passphrase_file_dash_reads_stdin(tmp_path: Path) -> None:
    p12 = _p12(tmp_path / "client.p12", P12_PASSPHRASE)
    run = subprocess.run(
        [sys.executable, "-m", "knoxtui", "inspect", str(p12), "--key-passphrase-file", "-"],
        input=P12_PASSPHRASE + "\n",
        capture_output=True,
        text=True,
        env=_env(tmp_path / "home"),
        timeout=DEADLINE_S,
    )
    assert run.returncode == 0, run.stderr
    assert "pty-client.knox.test" in run.stdout
    assert "does not exist" not in run.stderr
    assert P12_PASSPHRASE not in run.stdout + run.stderr


def test_without_a_terminal_nothing_waits(tmp_path: Path) -> None:
    p12 = _p12(tmp_path / "client.p12", P12_PASSPHRASE)
    run = subprocess.run(
        [sys.executable, "-m", "knoxtui", "inspect", str(p12), "--json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=_env(tmp_path / "home"),
        timeout=DEADLINE_S,
    )
    assert run.returncode == 1
    assert '"passphrase_required"' in run.stdout
    assert "Passphrase for" not in run.stderr


def test_two_options_cannot_both_read_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from knoxtui import cli

    p12 = _p12(tmp_path / "client.p12", P12_PASSPHRASE)
    argv = ["--vault", str(tmp_path / "v.knox"), "--vault-passphrase-file", "-"]
    add = ["secret", "add", "x", "--type", "certificate", "--file", str(p12)]
    assert cli.main([*argv, *add, "--key-passphrase-file", "-"]) == 2
    err = capsys.readouterr().err
    assert "Only one option can read stdin" in err
    assert "--key-passphrase-file" in err and "--vault-passphrase-file" in err


def test_vault_passphrase_file_dash_reads_stdin(tmp_path: Path) -> None:
    p12 = _p12(tmp_path / "client.p12", P12_PASSPHRASE)
    keyfile = tmp_path / "p12.pass"
    keyfile.write_text(P12_PASSPHRASE + "\n")
    vault = tmp_path / "v.knox"
    env = _env(tmp_path / "home")
    base = [sys.executable, "-m", "knoxtui", "--vault", str(vault), "--vault-passphrase-file", "-"]
    add = ["secret", "add", "bank", "--type", "certificate", "--file", str(p12)]
    for argv in ([*add, "--key-passphrase-file", str(keyfile)], ["secret", "list", "--json"]):
        run = subprocess.run(
            [*base, *argv],
            input=VAULT_PASSPHRASE + "\n",
            capture_output=True,
            text=True,
            env=env,
            timeout=DEADLINE_S,
        )
        assert run.returncode == 0, run.stderr
    assert '"bank"' in run.stdout


def test_dash_on_a_terminal_asks_without_echo(tmp_path: Path) -> None:
    """`-` with a terminal for stdin: a typed line would be echoed, so it is asked for instead."""
    p12 = _p12(tmp_path / "client.p12", P12_PASSPHRASE)
    argv = ["inspect", str(p12), "--key-passphrase-file", "-"]
    code, shown = _on_pty(argv, _env(tmp_path / "home"), [P12_PASSPHRASE])
    assert "Key passphrase:" in shown
    assert P12_PASSPHRASE not in shown
    assert "pty-client.knox.test" in shown
    assert code == 0, shown
