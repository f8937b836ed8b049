"""Lifecycle: the `check` expiry report over 2,000 certificate values and 300 routes against the
plain metadata listing it is built on (same vault, same run); the inventory report rendered as
CSV; PKCS#12 export against `openssl pkcs12 -export` with the same algorithms; a CSR with a new
RSA-2048 key against `openssl req -newkey rsa:2048`.

Goals: the expiry report <= 3x the listing (it adds the routes and the judging); export and
CSR within 1.5x of the openssl tool (its numbers include process start-up: below 1 is expected).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.harness import median_seconds, row

VALUES = 2_000
ROUTES = 300
CHEAP_KDF = 64
PASSPHRASE = "bench lifecycle passphrase"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _fill(vault: object) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from knoxtui.pki import load_bundle

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench Lifecycle CA")])
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    environments = ("production", "sandbox")
    with vault.batch():  # type: ignore[attr-defined]
        for index in range(VALUES):
            cert = (
                x509.CertificateBuilder()
                .subject_name(
                    x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"c{index}.bench")])
                )
                .issuer_name(ca_name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(NOW - timedelta(days=30))
                .not_valid_after(NOW + timedelta(days=index % 400 - 10))
                .sign(ca_key, hashes.SHA256())
            )
            bundle = load_bundle(
                cert.public_bytes(serialization.Encoding.PEM), key_data=key_pem, now=NOW
            )
            vault.add_certificate(  # type: ignore[attr-defined]
                f"cert-{index // 2:04d}",
                bundle,
                environment=environments[index % 2],
                allow_expired=True,
            )
        for index in range(ROUTES):
            vault.save_route(  # type: ignore[attr-defined]
                f"route-{index:03d}",
                {
                    "target_url": f"https://api{index}.bench.example/",
                    "certificate_secret_id": f"cert-{index % (VALUES // 2):04d}",
                },
            )


def _bench_reports(folder: Path) -> None:
    from knoxtui import clock
    from knoxtui.lifecycle.expiry import expiry_report
    from knoxtui.lifecycle.inventory import inventory_report, render_csv
    from knoxtui.pki import ExpiryThresholds
    from knoxtui.vault import Vault

    with Vault.create(folder / "life.db", PASSPHRASE, kdf_iter=CHEAP_KDF) as vault:
        _fill(vault)
        limits = ExpiryThresholds()
        with clock.frozen(NOW):
            listing = median_seconds(vault.list_secrets, repeat=5)
            report = median_seconds(lambda: expiry_report(vault, thresholds=limits), repeat=5)
            inventory = median_seconds(
                lambda: render_csv(inventory_report(vault, thresholds=limits)), repeat=3
            )
    print(row(f"list_secrets ({VALUES} values, reference)", listing))
    print(row(f"expiry report (check) + {ROUTES} routes", report, listing, "goal <= 3x"))
    print(row("inventory report as CSV", inventory, listing))


def _bench_export(folder: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    from knoxtui.pki.csr import build_signing_request, generate_private_key
    from knoxtui.pki.export import export_pkcs12

    key = generate_private_key("ec-p256")
    request = build_signing_request(subject="CN=bench", key=key, passphrase="bench-passphrase")
    # a self-signed stand-in is enough to time the container
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    csr = x509.load_pem_x509_csr(request.csr_pem)
    cert = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(csr.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    chain = cert.public_bytes(serialization.Encoding.PEM)
    ours = median_seconds(lambda: export_pkcs12(chain, key, "bench-export"), repeat=7)
    ours_csr = median_seconds(
        lambda: build_signing_request(subject="CN=bench", key_type="rsa-2048"), repeat=5
    )
    openssl = shutil.which("openssl")
    if openssl is None:
        print(row("PKCS#12 export (AES-256, 100k PBKDF2 rounds)", ours))
        print(row("CSR with a new RSA-2048 key", ours_csr))
        print("  (openssl not installed: no reference)")
        return
    (folder / "c.pem").write_bytes(chain)
    (folder / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    export_cmd = [
        openssl, "pkcs12", "-export", "-in", str(folder / "c.pem"), "-inkey", str(folder / "k.pem"),
        "-out", str(folder / "o.p12"), "-passout", "pass:bench-export",
        "-keypbe", "AES-256-CBC", "-certpbe", "AES-256-CBC", "-iter", "100000",
        "-macalg", "sha256",
    ]  # fmt: skip
    reference = median_seconds(
        lambda: subprocess.run(export_cmd, check=True, capture_output=True), repeat=7
    )
    req_cmd = [
        openssl, "req", "-new", "-newkey", "rsa:2048", "-subj", "/CN=bench",
        "-keyout", str(folder / "r.key"), "-passout", "pass:bench-passphrase",
        "-out", str(folder / "r.csr"),
    ]  # fmt: skip
    reference_csr = median_seconds(
        lambda: subprocess.run(req_cmd, check=True, capture_output=True), repeat=5
    )
    print(row("openssl pkcs12 -export, same algorithms (reference)", reference))
    print(row("PKCS#12 export (AES-256, 100k PBKDF2 rounds)", ours, reference, "goal <= 1.5x"))
    print(row("openssl req -newkey rsa:2048 (reference)", reference_csr))
    print(row("CSR with a new RSA-2048 key, encrypted", ours_csr, reference_csr, "goal <= 1.5x"))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="knoxtui-bench-life-") as name:
        folder = Path(name)
        _bench_reports(folder)
        _bench_export(folder)


if __name__ == "__main__":
    main()
