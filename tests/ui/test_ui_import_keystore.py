"""Import screen: a Java keystore (.jks) made by keytool, read from the File field with the
store password in the Key passphrase field, checked live and stored with its key (issue 10, 8)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from textual.widgets import Input
from ui_helpers import app_for, make_ca, make_leaf, unlock, wait_for

from knoxtui.ui.screens.importing import ImportScreen
from knoxtui.ui.widgets.checklist import Checklist

pytestmark = pytest.mark.skipif(shutil.which("keytool") is None, reason="no keytool (Java)")
STORE = "ui-store-pass"


def _jks(tmp_path: Path) -> Path:
    inter = make_ca("UI JKS Issuing CA", make_ca("UI JKS Root CA"))
    cert, key = make_leaf(inter, "jks.client.test")
    p12 = pkcs12.serialize_key_and_certificates(
        b"client", key, cert, [inter.cert], serialization.BestAvailableEncryption(STORE.encode())
    )
    (tmp_path / "c.p12").write_bytes(p12)
    subprocess.run(
        [
            "keytool",
            "-importkeystore",
            "-noprompt",
            "-srckeystore",
            "c.p12",
            "-srcstoretype",
            "PKCS12",
            "-srcstorepass",
            STORE,
            "-destkeystore",
            "client.jks",
            "-deststoretype",
            "JKS",
            "-deststorepass",
            STORE,
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return tmp_path / "client.jks"


async def test_import_reads_a_java_keystore(demo_vault: Path, tmp_path: Path) -> None:
    path = _jks(tmp_path)
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        app.open_import()
        await wait_for(
            pilot, lambda: isinstance(app.screen, ImportScreen) and bool(app.screen.query("#name"))
        )
        screen = app.screen
        assert isinstance(screen, ImportScreen)

        async def check(passphrase: str) -> Checklist:
            screen.query_one("#file", Input).value = str(path)
            screen.query_one("#key-passphrase", Input).value = passphrase
            await pilot.pause()
            screen.validate_now()
            await wait_for(
                pilot,
                lambda: screen.result is not None and screen.result.generation == screen.generation,
            )
            await pilot.pause()
            return screen.query_one(Checklist)

        assert "passphrase_required" in (await check("")).codes  # failure twin first
        checklist = await check(STORE)
        assert checklist.state_of("match") == "ok", checklist.codes
        assert screen.result is not None and screen.result.ok
        assert screen.query_one("#name", Input).value == "jks.client.test"
        screen.query_one("#name", Input).value = "jks-client"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ImportScreen))
        meta = app.vault.get_secret("jks-client").value("default").certificate
        assert meta.has_private_key and meta.subject_cn == "jks.client.test"


ENTRY = "entry-own-pass"


def _jks_two_entries(tmp_path: Path) -> Path:
    """A JKS with two private-key entries: 'client' (key password = store password) and 'other'
    (its own key password, keytool's -destkeypass)."""
    inter = make_ca("UI JKS2 Issuing CA", make_ca("UI JKS2 Root CA"))
    for alias, cn in (("client", "first.client.test"), ("other", "second.client.test")):
        cert, key = make_leaf(inter, cn)
        p12 = pkcs12.serialize_key_and_certificates(
            alias.encode(), key, cert, [inter.cert], serialization.BestAvailableEncryption(b"src")
        )
        (tmp_path / f"{alias}.p12").write_bytes(p12)
        subprocess.run(
            ["keytool", "-importkeystore", "-noprompt", "-srckeystore", f"{alias}.p12",
             "-srcstoretype", "PKCS12", "-srcstorepass", "src", "-srcalias", alias,
             "-srckeypass", "src", "-destkeystore", "two.jks", "-deststoretype", "JKS",
             "-deststorepass", STORE, "-destalias", alias,
             "-destkeypass", ENTRY if alias == "other" else STORE],
            cwd=tmp_path, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    return tmp_path / "two.jks"


async def test_import_chooses_a_keystore_entry_and_its_own_password(
    demo_vault: Path, tmp_path: Path
) -> None:
    from textual.widgets import Select

    path = _jks_two_entries(tmp_path)
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 60)) as pilot:
        await unlock(pilot)
        app.open_import()
        await wait_for(
            pilot, lambda: isinstance(app.screen, ImportScreen) and bool(app.screen.query("#name"))
        )
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        assert not screen.query_one("#keystore-fields").display  # nothing read yet

        async def checked() -> Checklist:
            await pilot.pause()
            screen.validate_now()
            await wait_for(
                pilot,
                lambda: screen.result is not None and screen.result.generation == screen.generation,
            )
            await pilot.pause()
            return screen.query_one(Checklist)

        screen.query_one("#file", Input).value = str(path)
        screen.query_one("#key-passphrase", Input).value = STORE
        checklist = await checked()
        # several private-key entries: the list of aliases is offered, no --alias on screen
        assert "missing_private_key" in checklist.codes
        assert screen.query_one("#keystore-fields").display
        assert screen.query_one("#keystore-alias-fields").display
        select = screen.query_one("#keystore-alias", Select)
        assert [value for _label, value in select._options if isinstance(value, str)] == [
            "client",
            "other",
        ]
        text = " ".join(f"{line.detail} {line.hint}" for line in checklist.lines)
        assert "--alias" not in text and "Keystore entry list" in text

        select.value = "client"
        checklist = await checked()
        assert checklist.state_of("match") == "ok", checklist.codes
        assert screen.result is not None and screen.result.ok
        assert screen.result.bundle.leaf.subject_cn == "first.client.test"

        # the other entry has its own password: asked for in the Entry password field
        select.value = "other"
        checklist = await checked()
        assert "passphrase_required" in checklist.codes
        text = " ".join(f"{line.detail} {line.hint}" for line in checklist.lines)
        assert "Entry password field" in text and "--entry-passphrase-file" not in text
        screen.query_one("#entry-passphrase", Input).value = "wrong"
        assert "wrong_passphrase" in (await checked()).codes
        screen.query_one("#entry-passphrase", Input).value = ENTRY
        checklist = await checked()
        assert checklist.state_of("match") == "ok", checklist.codes
        assert screen.result is not None and screen.result.ok
        assert screen.query_one("#name", Input).value == "second.client.test"
        screen.query_one("#name", Input).value = "jks-second"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ImportScreen))
        meta = app.vault.get_secret("jks-second").value("default").certificate
        assert meta.has_private_key and meta.subject_cn == "second.client.test"


def _truststore(tmp_path: Path) -> Path:
    """A JKS of two trusted-certificate entries (a root and its issuing CA), no private key:
    what Java clients are handed to trust a server."""
    root = make_ca("UI Trust Root CA")
    inter = make_ca("UI Trust Issuing CA", root)
    for alias, ca in (("root", root), ("issuing", inter)):
        (tmp_path / f"{alias}.pem").write_bytes(ca.pem)
        subprocess.run(
            ["keytool", "-importcert", "-noprompt", "-file", f"{alias}.pem", "-alias", alias,
             "-keystore", "trust.jks", "-storetype", "JKS", "-storepass", STORE],
            cwd=tmp_path, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    return tmp_path / "trust.jks"


async def test_import_stores_a_truststore_as_a_ca_bundle(demo_vault: Path, tmp_path: Path) -> None:
    """A truststore chosen as a certificate file is no client certificate missing its key: the
    checklist says it is stored as a CA bundle, and Create stores its PEM certificates as a
    string secret (as `secret add --type string --value-file` does)."""
    path = _truststore(tmp_path)
    app = app_for(demo_vault)
    async with app.run_test(size=(140, 45)) as pilot:
        await unlock(pilot)
        app.open_import()
        await wait_for(
            pilot, lambda: isinstance(app.screen, ImportScreen) and bool(app.screen.query("#name"))
        )
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        screen.query_one("#file", Input).value = str(path)
        await pilot.pause()
        screen.validate_now()
        await wait_for(
            pilot,
            lambda: screen.result is not None and screen.result.generation == screen.generation,
        )
        await pilot.pause()
        checklist = screen.query_one(Checklist)
        assert checklist.state_of("truststore") == "ok", checklist.codes
        lines = {line.topic: line for line in checklist.lines}
        assert lines["truststore"].detail == (
            "2 CA certificates — stored as a CA bundle (string secret)"
        )
        assert checklist.state_of("ca_bundle") == "ok"
        assert "missing_private_key" not in checklist.codes
        text = " ".join(f"{line.detail} {line.hint}" for line in checklist.lines)
        assert "key" not in text.lower()  # no "give the key" hint for a truststore
        assert not screen.query_one("#keystore-fields").display  # no entry to choose
        screen.query_one("#name", Input).value = "bank-trust"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ImportScreen))
        secret = app.vault.get_secret("bank-trust")
        assert secret.secret_type == "string"
        meta = secret.values[0].ca_bundle
        assert meta is not None and meta.count == 2
        assert set(meta.subjects) == {"CN=UI Trust Root CA", "CN=UI Trust Issuing CA"}
        value = app.vault.resolve("bank-trust", "default", purpose="reveal")
        assert str(value).count("-----BEGIN CERTIFICATE-----") == 2
