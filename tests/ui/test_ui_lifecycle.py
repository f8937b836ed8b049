"""Certificate lifecycle in the TUI (issue 6): start-up warning, expiry panel, renew (CSR), attach,
rotate, retire, export and the inventory report — each with its failure twin."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import pkcs12
from textual.widgets import Button, Input, Label, Select, Static, Tree
from ui_helpers import NOW, app_for, make_ca, screen_text, secret_strings, unlock, wait_for

from knoxtui.ui.screens.detail import DetailScreen
from knoxtui.ui.screens.dialogs import ConfirmModal
from knoxtui.ui.screens.expiry import ExpiryScreen
from knoxtui.ui.screens.lifecycle import (
    AttachModal,
    ExportModal,
    RenewModal,
    ReportModal,
    RotateModal,
)
from knoxtui.vault import Vault

PASSPHRASE = "demo"
EXPORT_PASSPHRASE = "export-Passphrase-7"


def _text(widget: Static) -> str:
    return str(widget.render())


async def _detail(pilot, name: str, environment: str | None = None) -> DetailScreen:
    pilot.app.open_secret(name, environment)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, DetailScreen))
    await pilot.pause()
    return pilot.app.screen


async def _modal(pilot, kind: type) -> object:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, kind))
    await pilot.pause()
    return pilot.app.screen


def _screen_text(app) -> str:
    return screen_text(app)


# ---- start-up warning and expiry panel ---------------------------------------------------------


async def test_startup_warning_and_expiry_panel_groups(demo_vault: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        warning = app.screen.query_one("#expiry-warning", Static)
        assert warning.display and warning.has_class("expiry-expired")
        line = _text(warning)
        assert "1 expired" in line and "1 urgent (30 days or fewer left)" in line
        assert "legacy-partner (default)" in line and "Press e" in line
        from knoxtui.lifecycle.expiry import expiry_report

        full = expiry_report(app.vault, now=NOW, thresholds=app.thresholds).warning_line()
        assert line == "⚠ " + full.replace(
            "Run `knoxtui check` for details.", "Press e for the expiry panel."
        )
        await pilot.press("e")
        screen = await _modal(pilot, ExpiryScreen)
        tree = screen.query_one("#expiry-tree", Tree)
        groups = [str(node.label) for node in tree.root.children]
        assert [g.split("(")[0].strip("● ").strip() for g in groups] == [
            "expired",
            "urgent",
            "expiring",
            "not yet valid",
            "valid",
        ]
        urgent = "\n".join(str(n.label) for n in tree.root.children[1].children)
        assert "payments-gateway · production" in urgent
        assert "12 days left (until 2026-06-13)" in urgent
        expired = str(tree.root.children[0].children[0].label)
        assert "expired 9 days ago" in expired and "breaks:" not in expired  # no route uses it
        bank = [
            n
            for g in tree.root.children
            for n in g.children
            if n.data == ("bank-client", "production")
        ]
        assert "routes: bank-accounts" in str(bank[0].label)
        # valid for 400 days: "used in", not "breaks"
        assert "used in: production" in str(bank[0].label) and "breaks" not in str(bank[0].label)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.secret_name == "legacy-partner"


async def test_no_warning_line_when_nothing_is_due(demo_vault: Path) -> None:
    with Vault.open(demo_vault, PASSPHRASE, kdf_iter=1000) as vault:
        vault.remove_secret("legacy-partner")
        vault.remove_secret("payments-gateway")
    app = app_for(demo_vault)
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        assert not app.screen.query_one("#expiry-warning", Static).display
        await pilot.press("e")
        screen = await _modal(pilot, ExpiryScreen)
        tree = screen.query_one("#expiry-tree", Tree)
        labels = [str(n.label) for n in tree.root.children]
        assert not any("expired" in label or "urgent" in label for label in labels)
        # A key on a status line says what to do instead of doing nothing.
        tree.move_cursor(tree.root.children[0])
        await pilot.press("c")
        await pilot.pause()
        assert app.screen is screen
        assert any("certificate line" in n.message for n in app._notifications)


# ---- renew: CSR made in the UI ----------------------------------------------------------------


async def test_renew_makes_a_csr_saved_to_a_file(demo_vault: Path, tmp_path: Path) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        await _detail(pilot, "payments-gateway", "production")
        await pilot.press("c")
        modal = await _modal(pilot, RenewModal)
        subject = modal.query_one("#csr-subject", Input)
        assert "CN=gw.payments.knox-demo.example" in subject.value
        subject.value = "CN=gw2.payments.knox-demo.example,O=Knox Demo"
        modal.query_one("#csr-san", Input).value = "DNS:gw2.payments.knox-demo.example"
        modal.query_one("#csr-key-type", Select).value = "ec-p256"
        modal.query_one("#csr-name", Input).value = "payments-gateway-2027"
        # By keyboard: Enter in a field presses the main button (Generate, then Save).
        modal.query_one("#csr-passphrase", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: modal.query_one("#csr-result").display)
        target = tmp_path / "gw.csr"
        modal.query_one("#csr-path", Input).value = str(target)
        modal.query_one("#csr-path", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, target.exists)
        csr = x509.load_pem_x509_csr(target.read_bytes())
        assert csr.is_signature_valid
        assert csr.subject.rfc4514_string() == "CN=gw2.payments.knox-demo.example,O=Knox Demo"
        sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert "gw2.payments.knox-demo.example" in sans.get_values_for_type(x509.DNSName)
        assert "gw.payments.knox-demo.example" in sans.get_values_for_type(x509.DNSName)
        assert app.vault.get_pending_key("payments-gateway-2027").like_secret == "payments-gateway"
        assert "PRIVATE KEY" not in _screen_text(app)
        # failure twin: the same pending key name again is refused, nothing replaced
        modal.query_one("#csr-save", Button).press()
        await pilot.pause()
        assert "already exists" in _text(modal.query_one(".lc-status", Static))
        modal.query_one("#csr-close", Button).press()
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.press("c")
        modal = await _modal(pilot, RenewModal)
        modal.query_one("#csr-name", Input).value = "payments-gateway-2027"
        modal.query_one("#csr-key-type", Select).value = "ec-p256"
        modal.query_one("#generate", Button).press()
        await wait_for(
            pilot, lambda: "already exists" in _text(modal.query_one(".lc-status", Static))
        )
        assert not modal.query_one("#csr-result").display


# ---- attach, rotate, retire -------------------------------------------------------------------


def _sign(csr_pem: bytes, days: int = 400) -> bytes:
    from cryptography.hazmat.primitives import serialization

    ca = make_ca("Test Renewal CA")
    csr = x509.load_pem_x509_csr(csr_pem)
    cert = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.cert.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=days))
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ca.key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM) + ca.pem


async def test_attach_then_rotate_repoints_routes(demo_vault: Path, tmp_path: Path) -> None:
    from knoxtui import clock
    from knoxtui.lifecycle.renewal import new_signing_request

    with Vault.open(demo_vault, PASSPHRASE, kdf_iter=1000) as vault:
        vault.save_route(
            "payments",
            {
                "target_url": "https://gw.knox-demo.example/pay",
                "certificate_secret_id": "payments-gateway",
            },
        )
        with clock.frozen(NOW):
            pending = new_signing_request(
                vault, "payments-gateway-2027", like="payments-gateway", key_type="ec-p256"
            )
            other = new_signing_request(vault, "unrelated", subject="CN=other", key_type="ec-p256")
    good = tmp_path / "issued.pem"
    good.write_bytes(_sign(pending.csr_pem))
    wrong = tmp_path / "wrong.pem"
    wrong.write_bytes(_sign(other.csr_pem))
    app = app_for(demo_vault)
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        app.open_attach()
        modal = await _modal(pilot, AttachModal)
        modal.query_one("#attach-pending", Select).value = "payments-gateway-2027"
        await pilot.pause()
        # failure twin: a certificate for another key is refused
        modal.query_one("#attach-cert", Input).value = str(wrong)
        modal.query_one("#attach", Button).press()
        await pilot.pause()
        assert "key_mismatch" in _text(modal.query_one(".lc-status", Static))
        assert not modal.query_one("#attach-rotate", Button).display
        modal.query_one("#attach-cert", Input).value = str(good)
        modal.query_one("#attach-env", Input).value = "production"
        modal.query_one("#attach", Button).press()
        await pilot.pause()
        status = _text(modal.query_one(".lc-status", Static))
        assert "Attached: secret 'payments-gateway-2027' (production)" in status
        assert "renews 'payments-gateway'" in status
        modal.query_one("#attach-rotate", Button).press()
        rotate = await _modal(pilot, RotateModal)
        assert rotate.query_one("#rotate-new", Select).value == "payments-gateway-2027"
        plan = _text(rotate.query_one("#rotate-plan", Static))
        assert "payments: certificate_secret_id" in plan
        rotate.query_one("#rotate-grace", Input).value = "10"
        rotate.query_one("#rotate", Button).press()
        confirm = await _modal(pilot, ConfirmModal)
        assert "'payments-gateway' stays, marked retiring for 10 days" in confirm.message
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(app.screen, RotateModal | ConfirmModal))
        config = app.vault.get_route("payments").config
        assert config["certificate_secret_id"] == "payments-gateway-2027"
        details = [
            e.detail or "" for e in app.vault.audit_entries() if e.secret_name == "payments-gateway"
        ]
        assert any("rotated to 'payments-gateway-2027': routes payments" in d for d in details)
        assert app.vault.get_secret("payments-gateway").status == "retiring"
        # retire is refused within the grace period (nothing removed, no confirmation asked)
        app.open_retire("payments-gateway")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal)
        assert app.vault.get_secret("payments-gateway").status == "retiring"


async def test_retire_after_the_grace_period(demo_vault: Path) -> None:
    from knoxtui import clock
    from knoxtui.lifecycle.rotation import rotate

    with Vault.open(demo_vault, PASSPHRASE, kdf_iter=1000) as vault, clock.frozen(NOW):
        vault.save_route(
            "payments",
            {
                "target_url": "https://gw.knox-demo.example/pay",
                "certificate_secret_id": "payments-gateway",
            },
        )
        rotate(vault, "payments-gateway", "psd2-qwac", grace_days=0)
    app = app_for(demo_vault)
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        await _detail(pilot, "payments-gateway")
        await pilot.press("r")
        await _modal(pilot, ConfirmModal)
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(app.screen, DetailScreen))
        assert "payments-gateway" not in [s.name for s in app.vault.list_secrets()]


# ---- export and report ------------------------------------------------------------------------


async def test_export_pkcs12_is_0600_and_readable(demo_vault: Path, tmp_path: Path) -> None:
    app = app_for(demo_vault)
    target = tmp_path / "bank.p12"
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        await _detail(pilot, "bank-client", "production")
        await pilot.press("e")
        modal = await _modal(pilot, ExportModal)
        assert modal.query_one("#export-passphrases").display
        modal.query_one("#export-path", Input).value = str(target)
        modal.query_one("#export-pass1", Input).value = EXPORT_PASSPHRASE
        modal.query_one("#export-pass2", Input).value = EXPORT_PASSPHRASE + "x"
        modal.query_one("#export", Button).press()
        await pilot.pause()
        assert "differ" in _text(modal.query_one(".lc-status", Static))
        assert not target.exists()
        modal.query_one("#export-pass1", Input).value = EXPORT_PASSPHRASE
        modal.query_one("#export-pass2", Input).value = EXPORT_PASSPHRASE
        text = _screen_text(app)
        assert EXPORT_PASSPHRASE not in text
        assert not any(value in text for value in secret_strings())
        modal.query_one("#export", Button).press()
        await wait_for(pilot, target.exists)
        assert os.stat(target).st_mode & 0o777 == 0o600
        key, cert, _extra = pkcs12.load_key_and_certificates(
            target.read_bytes(), EXPORT_PASSPHRASE.encode()
        )
        assert key is not None and cert is not None
        assert "client.prod.knox-demo.example" in cert.subject.rfc4514_string()
        assert any(entry.operation == "export" for entry in app.vault.audit_entries())


async def test_inventory_report_written(demo_vault: Path, tmp_path: Path) -> None:
    app = app_for(demo_vault)
    target = tmp_path / "inventory.md"
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        app.open_report()
        modal = await _modal(pilot, ReportModal)
        modal.query_one("#report-format", Select).value = "md"
        await pilot.pause()
        modal.query_one("#report-path", Input).value = str(target)
        modal.query_one("#report-write", Button).press()
        await wait_for(pilot, target.exists)
        assert "payments-gateway" in target.read_text()
        assert os.stat(target).st_mode & 0o777 == 0o600
        # failure twin: an existing file is left alone
        app.open_report()
        modal = await _modal(pilot, ReportModal)
        modal.query_one("#report-path", Input).value = str(target)
        modal.query_one("#report-path", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "already exists" in _text(modal.query_one(".lc-status", Static))


# ---- help and palette list the lifecycle actions ----------------------------------------------


async def test_help_and_palette_list_the_lifecycle_actions(demo_vault: Path) -> None:
    from knoxtui.ui.palette import ActionCommands
    from knoxtui.ui.screens.help import HelpScreen

    app = app_for(demo_vault)
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert ("e", "Expiry") in app.screen.rows
        await pilot.press("escape")
        await _detail(pilot, "payments-gateway")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        rows = set(app.screen.rows)
        for row in (
            ("c", "Renew"),
            ("A", "Attach"),
            ("o", "Rotate"),
            ("e", "Export"),
            ("r", "Retire"),
        ):
            assert row in rows
        # Short footer labels are spelt out here, and the way out is said.
        assert "copy the SHA-256 fingerprint" in app.screen.texts["f"]
        help_text = screen_text(app)
        assert "close this help" in help_text and "Detail" in help_text
        await pilot.press("escape")
        # the provider's entries read only `self.app`
        entries = ActionCommands._entries(SimpleNamespace(app=app))  # type: ignore[arg-type]
        titles = [title for title, _help, _action in entries]
        for title in (
            "Check expiry",
            "Renew certificate (new CSR)",
            "Attach certificate",
            "Rotate routes",
            "Retire secret",
            "Export certificate",
            "Inventory report",
        ):
            assert title in titles
        # a palette action on the secret being viewed: Export opens for payments-gateway
        app.open_export()
        modal = await _modal(pilot, ExportModal)
        assert modal.secret == "payments-gateway"


# ---- modals: their own keys in the footer, none of the screen's underneath ---------------------


def _footer_keys(app) -> list[str]:
    from textual.widgets._footer import FooterKey

    return [key.key for key in app.screen.query(FooterKey)]


async def test_modal_footer_shows_the_modal_keys_and_the_screen_below_stays_quiet(
    demo_vault: Path,
) -> None:
    app = app_for(demo_vault)
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        await _detail(pilot, "payments-gateway", "production")
        assert "c" in _footer_keys(app) and "v" in _footer_keys(app)
        await pilot.press("d")  # delete: in `?`, not in the footer (100 columns)
        modal = await _modal(pilot, ConfirmModal)
        keys = _footer_keys(app)
        assert "escape" in keys and "c" not in keys and "v" not in keys
        # failure twin: the detail screen's keys do nothing while the dialog is open
        await pilot.press("c")
        await pilot.pause()
        assert app.screen is modal
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.press("c")
        await _modal(pilot, RenewModal)
        keys = _footer_keys(app)
        assert "escape" in keys and "c" not in keys and "o" not in keys


async def test_rotate_offers_old_environments_and_attach_names_them(
    demo_vault: Path, tmp_path: Path
) -> None:
    """The renewal landed in `default` (csr attach's default) while OLD has values only in
    production and sandbox: rehearse offers OLD's environments; one NEW lacks is labelled."""
    from knoxtui import clock
    from knoxtui.lifecycle.renewal import new_signing_request

    with Vault.open(demo_vault, PASSPHRASE, kdf_iter=1000) as vault:
        assert set(vault.get_secret("bank-client").environments) == {"production", "sandbox"}
        with clock.frozen(NOW):
            pending = new_signing_request(
                vault,
                "bank-client-2027",
                like="bank-client",
                like_environment="production",
                key_type="ec-p256",
            )
    issued = tmp_path / "issued.pem"
    issued.write_bytes(_sign(pending.csr_pem))
    app = app_for(demo_vault)
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        app.open_attach()
        modal = await _modal(pilot, AttachModal)
        modal.query_one("#attach-pending", Select).value = "bank-client-2027"
        await pilot.pause()
        label = str(modal.query_one("#attach-env-label", Label).render())
        assert "'bank-client' has production, sandbox" in label
        modal.query_one("#attach-cert", Input).value = str(issued)
        modal.query_one("#attach", Button).press()  # env left empty: default
        await pilot.pause()
        assert "(default)" in _text(modal.query_one(".lc-status", Static))
        modal.query_one("#attach-rotate", Button).press()
        rotate = await _modal(pilot, RotateModal)
        envs = rotate.query_one("#rotate-env", Select)
        offered = [value for _label, value in envs._options if isinstance(value, str)]
        assert offered == ["production", "sandbox"]
        assert envs.value == "production"
    # NEW with a production value only: the plan says NEW lacks sandbox
    from ui_helpers import cert_pem, key_pem, make_leaf

    from knoxtui.pki import load_bundle

    cert, key = make_leaf(make_ca("Renewal CA"), "bank-client-2027")
    with Vault.open(demo_vault, PASSPHRASE, kdf_iter=1000) as vault, clock.frozen(NOW):
        vault.remove_secret("bank-client-2027", force=True)
        bundle = load_bundle(cert_pem(cert), key_data=key_pem(key))
        vault.add_certificate("bank-client-2027", bundle, environment="production")
    app = app_for(demo_vault)
    async with app.run_test(size=(150, 45)) as pilot:
        await unlock(pilot)
        app.open_rotate("bank-client", "bank-client-2027")
        rotate = await _modal(pilot, RotateModal)
        plan = _text(rotate.query_one("#rotate-plan", Static))
        assert "'bank-client-2027' has no value for environment 'sandbox'" in plan
