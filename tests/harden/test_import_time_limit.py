"""Issue 11 item 4 (console part): a file whose key derivation asks for millions of iterations is
read in a child process with a hard time limit, so the console stays live — ctrl+l locks while
the child still computes, and the lock kills it. Real files made at test time."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea
from ui_helpers import app_for, make_ca, make_leaf, unlock, wait_for

from knoxtui.pki import pbe
from knoxtui.ui import bundle_process
from knoxtui.ui.screens.importing import ImportScreen
from knoxtui.ui.screens.unlock import UnlockScreen

# Under the parser's 10,000,000 cap, so only the time limit can stop it: ~3 s of PBKDF2-SHA256.
SLOW_ITERATIONS = 9_000_000


def _slow_key_pem() -> bytes:
    """An EncryptedPrivateKeyInfo (PBES2/PBKDF2) asking for SLOW_ITERATIONS, built by hand: making
    it costs nothing, reading it costs the whole derivation (then fails: the content is noise)."""
    salt, iv = os.urandom(16), os.urandom(16)
    kdf = pbe.seq(
        pbe.oid(pbe.OID_PBKDF2),
        pbe.seq(
            pbe.octets(salt),
            pbe.integer(SLOW_ITERATIONS),
            pbe.seq(pbe.oid(pbe.OID_HMAC_SHA256), b"\x05\x00"),
        ),
    )
    algorithm = pbe.seq(
        pbe.oid(pbe.OID_PBES2), pbe.seq(kdf, pbe.seq(pbe.oid(pbe.OID_AES256_CBC), pbe.octets(iv)))
    )
    der = pbe.seq(algorithm, pbe.octets(os.urandom(64)))
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        + "\n".join(lines)
        + "\n-----END ENCRYPTED PRIVATE KEY-----\n"
    ).encode()


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization

    cert, _key = make_leaf(make_ca("Slow CA"), "slow.client.test")
    cert_path = tmp_path / "slow.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = tmp_path / "slow.key"
    key_path.write_bytes(_slow_key_pem())
    return cert_path, key_path


async def _start_check(pilot, files: tuple[Path, Path]) -> ImportScreen:
    app = pilot.app
    app.open_import()
    await wait_for(
        pilot, lambda: isinstance(app.screen, ImportScreen) and app.screen.query("#name")
    )
    screen = app.screen
    screen.query_one("#pem", TextArea).text = ""
    screen.query_one("#file", Input).value = str(files[0])
    screen.query_one("#key-file", Input).value = str(files[1])
    screen.query_one("#key-passphrase", Input).value = "any passphrase"
    await pilot.pause()
    screen.validate_now()
    return screen


async def test_a_slow_key_derivation_is_stopped_at_the_time_limit(
    demo_vault: Path, files, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle_process, "TIME_LIMIT_SECONDS", 1.0)
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        screen = await _start_check(pilot, files)
        await wait_for(
            pilot,
            lambda: screen.result is not None and screen.result.generation == screen.generation,
            seconds=20,
        )
        details = " ".join(line.detail or "" for line in screen.result.lines)
        assert "took longer than 1 s and was stopped" in details
        assert not screen.result.ok
    assert bundle_process.running() == 0


async def test_ctrl_l_locks_while_the_child_computes_and_kills_it(
    demo_vault: Path, files, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle_process, "TIME_LIMIT_SECONDS", 60.0)
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        await _start_check(pilot, files)
        await wait_for(pilot, lambda: bundle_process.running() >= 1)
        await pilot.press("ctrl+l")
        # Locked, and the reader that held the key is gone: the UI was never blocked on it.
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
        await wait_for(pilot, lambda: bundle_process.running() == 0)
        assert app.vault is None


async def test_a_good_pkcs12_read_in_the_child_imports(demo_vault: Path, tmp_path: Path) -> None:
    """The success twin: a real PKCS#12 goes through the child (pickled back with its key)."""
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    cert, key = make_leaf(make_ca("P12 CA"), "p12.client.test")
    p12 = pkcs12.serialize_key_and_certificates(
        b"p12", key, cert, None, BestAvailableEncryption(b"pw-p12")
    )
    path = tmp_path / "good.p12"
    path.write_bytes(p12)
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        app.open_import()
        await wait_for(pilot, lambda: isinstance(app.screen, ImportScreen))
        screen = app.screen
        await pilot.pause()
        screen.query_one("#file", Input).value = str(path)
        screen.query_one("#key-passphrase", Input).value = "pw-p12"
        await pilot.pause()
        screen.validate_now()
        await wait_for(
            pilot,
            lambda: screen.result is not None and screen.result.generation == screen.generation,
            seconds=20,
        )
        bundle = screen.result.bundle
        assert bundle is not None and bundle.format == "pkcs12"
        assert bundle.private_key is not None and bundle.key_matches
        assert bundle.leaf.subject_cn == "p12.client.test"
