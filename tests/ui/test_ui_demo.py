"""The headless demo module: what the demo vault holds, and that building it needs no Textual."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ui_helpers import KDF_ITER, NOW

from knoxtui.demo import DEMO_PASSPHRASE, demo_certificates
from knoxtui.pki import load_bundle
from knoxtui.vault import Vault


def test_demo_module_is_headless() -> None:
    code = (
        "import json, sys\n"
        "import knoxtui.demo\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert not {"textual", "rich"} & set(json.loads(out))


def test_demo_vault_holds_every_state_and_kind(demo_vault: Path) -> None:
    with Vault.open(demo_vault, DEMO_PASSPHRASE, kdf_iter=KDF_ITER) as vault:
        secrets = {s.name: s for s in vault.list_secrets()}
        statuses = {
            str(v.certificate.status(NOW))
            for s in secrets.values()
            for v in s.values
            if v.certificate is not None
        }
        assert statuses == {"valid", "warning", "urgent", "expired", "not_yet_valid"}
        assert secrets["hmrc-mtd"].value("production").certificate.has_passphrase
        assert secrets["psd2-qwac"].value("production").certificate.psd2_roles == (
            "PSP_AI",
            "PSP_PI",
        )
        assert secrets["bank-oauth"].secret_type == "oauth2"
        assert set(secrets["bank-client"].environments) == {"production", "sandbox"}
        assert vault.verify_audit().ok


def test_demo_certificates_are_deterministic() -> None:
    first = [spec.certificate.chain_pem for spec in demo_certificates(NOW)[1]]
    again = [spec.certificate.chain_pem for spec in demo_certificates(NOW)[1]]
    assert first == again
    bundle = load_bundle(first[0], now=NOW)
    assert bundle.valid and bundle.leaf is not None
