"""CA bundles in the console: the detail view lists each CA with its validity and status colour
(no Python repr), the inventory gives the bundle a status, the expiry panel lists it with the
routes that trust it, and the import checklist says "CA bundle: N certificates" while an API key
pasted as a string value is drawn masked."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from textual.widgets import Button, Input, Select, TextArea, Tree
from ui_helpers import KDF_ITER, NOW, app_for, screen_text, unlock, wait_for

from knoxtui.ui.screens.detail import DetailScreen
from knoxtui.ui.screens.expiry import ExpiryScreen
from knoxtui.ui.screens.importing import ImportScreen
from knoxtui.ui.screens.inventory import InventoryScreen
from knoxtui.ui.widgets.checklist import Checklist
from knoxtui.ui.widgets.masked_text_area import MaskedTextArea
from knoxtui.vault import Vault

PASSPHRASE = "ca bundle ui test"
API_KEY = "sk_live_Zq8RrT1pW4xY7uV2"


def ca_pem(cn: str, *, days_left: int) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=365))
        .not_valid_after(NOW + timedelta(days=days_left))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _vault(tmp_path: Path) -> Path:
    path = tmp_path / "ca.knox"
    with Vault.create(path, PASSPHRASE, kdf_iter=KDF_ITER) as vault:
        bundle = ca_pem("Bank Root CA", days_left=3000) + ca_pem("Bank Issuing CA", days_left=12)
        vault.add_string("bank-ca", bundle)
        vault.add_string("bank-key", API_KEY)
        vault.save_route(
            "payments",
            {"target_url": "https://api.bank.example/v1", "ca_bundle_secret_id": "bank-ca"},
        )
    return path


def _tree_text(screen: object) -> str:
    lines: list[str] = []

    def walk(node: object) -> None:
        lines.append(str(node.label))  # type: ignore[attr-defined]
        for child in node.children:  # type: ignore[attr-defined]
            walk(child)

    for tree in screen.query(Tree):  # type: ignore[attr-defined]
        walk(tree.root)
    return "\n".join(lines)


async def test_inventory_and_detail_show_the_bundle(tmp_path: Path, frozen_now: object) -> None:
    app = app_for(_vault(tmp_path))
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot, PASSPHRASE)
        screen = app.screen
        assert isinstance(screen, InventoryScreen)
        rows = {r.key[0]: r for r in screen.table.all_records}
        bundle = rows["bank-ca"]
        assert bundle.tone == "urgent"
        assert bundle.cells[3] == "Bank Issuing CA +1"
        assert bundle.cells[5:8] == ("2026-06-13", "12", "urgent")
        assert rows["bank-key"].tone == "plain"  # an API key has no expiry
        # The start-up warning counts the bundle like a certificate.
        assert "bank-ca" in str(screen.query_one("#expiry-warning").render())

        app.open_secret("bank-ca")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.pause()
        text = _tree_text(app.screen)
        assert "CA bundle: 2 certificates" in text
        assert "status: urgent" in text and "Bank Issuing CA: 12 days left" in text
        assert "1. Bank Root CA  valid" in text and "2. Bank Issuing CA  urgent" in text
        assert "{'subject'" not in text and "[{" not in text  # no Python repr
        assert "payments" in str(app.screen.query_one("#routes-using").render())
        # The status line is drawn in the theme's urgent colour.
        tree = app.screen.query_one(Tree)
        summary = tree.root.children[1].label
        assert app.status_colour("urgent") in str(summary.style) + "".join(
            str(span.style) for span in summary.spans
        )


async def test_expiry_panel_lists_the_bundle(tmp_path: Path, frozen_now: object) -> None:
    app = app_for(_vault(tmp_path))
    async with app.run_test(size=(160, 40)) as pilot:
        await unlock(pilot, PASSPHRASE)
        app.open_expiry()
        await wait_for(pilot, lambda: isinstance(app.screen, ExpiryScreen))
        await pilot.pause()
        screen = app.screen
        text = _tree_text(screen)
        assert "urgent  (1)" in text
        line = next(row for row in text.splitlines() if row.startswith("bank-ca"))
        assert "12 days left" in line and "trusted by: payments" in line
        assert "breaks" not in line and "routes:" not in line  # which CA serves it is unknown
        assert "CA bundle: Bank Issuing CA +1" in line
        assert "0 certificate values, 1 CA bundle" in str(screen.query_one("#expiry-head").render())
        # Renew is for client certificates: on a bundle the panel says what to do instead.
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ExpiryScreen)
        assert any("is a CA bundle" in n.message for n in app._notifications)


async def _string_import(pilot, text: str) -> ImportScreen:
    app = pilot.app
    app.open_import()
    await wait_for(
        pilot, lambda: isinstance(app.screen, ImportScreen) and bool(app.screen.query("#name"))
    )
    screen = app.screen
    screen.query_one("#type", Select).value = "string"
    await pilot.pause()
    screen.query_one("#pem", TextArea).text = text
    await pilot.pause()
    screen.validate_now()
    await wait_for(
        pilot, lambda: screen.result is not None and screen.result.generation == screen.generation
    )
    await pilot.pause()
    return screen


async def test_import_checklist_counts_a_pasted_bundle(tmp_path: Path, frozen_now: object) -> None:
    app = app_for(_vault(tmp_path))
    async with app.run_test(size=(140, 42)) as pilot:
        await unlock(pilot, PASSPHRASE)
        pasted = ca_pem("Partner Root CA", days_left=2000) + ca_pem("Partner Sub CA", days_left=60)
        screen = await _string_import(pilot, pasted)
        checklist = screen.query_one(Checklist)
        lines = {line.topic: line for line in checklist.lines}
        assert lines["ca_bundle"].state == "ok"
        assert lines["ca_bundle"].detail.startswith("2 certificates: Partner Root CA, Partner Sub")
        assert lines["expiry"].state == "warning" and "Partner Sub CA: 60 days left" in (
            lines["expiry"].detail
        )
        assert "CA bundle" in screen_text(app) and "2 certificates" in screen_text(app)
        assert not screen.query_one("#pem", MaskedTextArea).masked  # certificates are public
        screen.query_one("#name", Input).value = "partner-ca"
        await pilot.pause()
        assert not screen.query_one("#create", Button).disabled
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ImportScreen))
        meta = app.vault.get_secret("partner-ca").values[0].ca_bundle
        assert meta is not None and meta.count == 2

        broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
        screen = await _string_import(pilot, broken)
        assert screen.query_one(Checklist).state_of("ca_bundle") == "error"
        assert screen.query_one("#create", Button).disabled


async def test_an_api_key_pasted_as_a_string_is_masked(tmp_path: Path, frozen_now: object) -> None:
    app = app_for(_vault(tmp_path))
    async with app.run_test(size=(140, 42)) as pilot:
        await unlock(pilot, PASSPHRASE)
        pasted = "sk_live_Pasted9Key0Value1"
        screen = await _string_import(pilot, pasted)
        area = screen.query_one("#pem", MaskedTextArea)
        assert area.masked
        shown = screen_text(app)
        assert pasted not in shown and "Pasted9Key" not in shown
        assert area.get_line(0).plain == "•" * len(pasted)
        assert shown.count("•") >= len(pasted)
        value_line = next(line for line in screen.query_one(Checklist).lines)
        assert value_line.detail.startswith(f"{len(pasted)} characters, masked on screen")
        assert area.text == pasted  # only the drawing changes
        # Switching to certificate shows the text again (PEM is what that type takes).
        screen.query_one("#type", Select).value = "certificate"
        await pilot.pause()
        assert not area.masked
        screen.query_one("#type", Select).value = "string"
        await pilot.pause()
        assert area.masked
        screen.query_one("#name", Input).value = "pasted-key"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, ImportScreen))
        assert app.vault.resolve("pasted-key", "default") == pasted


async def test_copy_pem_of_a_bundle_copies_certificates_only(
    tmp_path: Path, frozen_now: object, monkeypatch
) -> None:
    from knoxtui.ui import clipboard

    monkeypatch.setattr(clipboard.Clipboard, "_system_copy", lambda self, text: False)
    path = _vault(tmp_path)
    key = ec.generate_private_key(ec.SECP256R1())
    key_text = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with Vault.open(path, PASSPHRASE, kdf_iter=KDF_ITER) as vault:
        # Someone kept a key in the same string value: the PEM copy must leave it out.
        vault.add_string("odd-ca", ca_pem("Odd CA", days_left=500) + key_text)
    app = app_for(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await unlock(pilot, PASSPHRASE)
        for name, count in (("bank-ca", 2), ("odd-ca", 1)):
            app.open_secret(name)
            await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
            await pilot.pause()
            await pilot.press("p")
            await wait_for(pilot, lambda: "BEGIN CERTIFICATE" in (app.clipboard or ""))
            assert app.clipboard.count("-----BEGIN CERTIFICATE-----") == count
            assert "PRIVATE KEY" not in app.clipboard
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, InventoryScreen))
            app.copy_to_clipboard("")


async def test_control_characters_in_a_ca_name_are_shown_escaped(
    tmp_path: Path, frozen_now: object
) -> None:
    path = _vault(tmp_path)
    with Vault.open(path, PASSPHRASE, kdf_iter=KDF_ITER) as vault:
        vault.add_string("evil-ca", ca_pem("Evil\x1b]52;c;QUJD\x07 CA", days_left=5))
    app = app_for(path)
    async with app.run_test(size=(160, 40)) as pilot:
        await unlock(pilot, PASSPHRASE)
        app.open_secret("evil-ca")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.pause()
        text = _tree_text(app.screen)
        assert "\x1b" not in text and "Evil\\x1b]52;c;QUJD\\x07 CA" in text
        await pilot.press("escape")
        app.open_expiry()
        await wait_for(pilot, lambda: isinstance(app.screen, ExpiryScreen))
        await pilot.pause()
        text = _tree_text(app.screen)
        assert "\x1b" not in text and "Evil\\x1b]52" in text
