"""CA bundles in the expiry watch: 1,000 CA-bundle string values (two CAs each) next to 1,000
certificate values, on a SQLCipher vault (kdf_iter=64, so page work is measured, not the KDF).

- the expiry report over the bundles, read from their stored metadata (decoding the facts
  included), against the same report over as many certificates (reference; goal <= 2x per CA
  certificate watched) and against re-parsing the bundles' PEM (what a watch without stored
  metadata costs; goal <= 0.2x);
- the one-time backfill check every open runs, against the open itself (goal <= 0.1x).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.harness import median_seconds, row

BUNDLES = 1_000
CERTIFICATES = 1_000
CHEAP_KDF = 64
PASSPHRASE = "bench ca bundle passphrase"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _ca_pem(cn: str, days_left: int) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

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


def _client_pem(index: int, ca_key: object, key_pem: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = serialization.load_pem_private_key(key_pem, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"c{index}.bench")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench CA")]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=30))
        .not_valid_after(NOW + timedelta(days=index % 400 + 1))
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def main() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from knoxtui import clock
    from knoxtui.lifecycle.expiry import expiry_report
    from knoxtui.pki import ExpiryThresholds, load_bundle
    from knoxtui.vault import Vault, cabundle

    thresholds = ExpiryThresholds()
    print(f"  making {BUNDLES:,} CA bundles and {CERTIFICATES:,} certificates ...", flush=True)
    bundle_texts = [
        _ca_pem(f"Bench Root {i}", 3000) + _ca_pem(f"Bench Issuing {i}", i % 400 + 1)
        for i in range(BUNDLES)
    ]
    ca_key = ec.generate_private_key(ec.SECP256R1())
    key_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with tempfile.TemporaryDirectory(prefix="knoxtui-bench-") as scratch, clock.frozen(NOW):
        path = Path(scratch) / "ca.knox"
        with Vault.create(path, PASSPHRASE, kdf_iter=CHEAP_KDF) as vault, vault.batch():
            for index, text in enumerate(bundle_texts):
                vault.add_string(f"ca-{index:04d}", text)
            for index in range(CERTIFICATES):
                bundle = load_bundle(_client_pem(index, ca_key, key_pem), key_data=key_pem, now=NOW)
                vault.add_certificate(f"cert-{index:04d}", bundle, allow_expired=True)
        with Vault.open(path, PASSPHRASE, kdf_iter=CHEAP_KDF) as vault:
            listing = vault.list_secrets()
            bundles = [s for s in listing if s.secret_type == "string"]
            certificates = [s for s in listing if s.secret_type == "certificate"]

            def report_bundles() -> None:
                # Metadata already decoded once per listing: drop the cached facts to pay for them.
                for secret in bundles:
                    for value in secret.values:
                        value.__dict__.pop("_ca_bundle", None)
                rows = expiry_report(vault, now=NOW, thresholds=thresholds, secrets=bundles).rows
                assert len(rows) == BUNDLES

            def report_certificates() -> None:
                rows = expiry_report(
                    vault, now=NOW, thresholds=thresholds, secrets=certificates
                ).rows
                assert len(rows) == CERTIFICATES

            def reparse_bundles() -> None:
                for text in bundle_texts:
                    cabundle.from_details(cabundle.details_for(text))

            t_certs = median_seconds(report_certificates, repeat=5)
            t_bundles = median_seconds(report_bundles, repeat=5)
            t_reparse = median_seconds(reparse_bundles, repeat=3)

            def backfill_check() -> None:
                assert not cabundle.needs_backfill(vault._conn)

            t_check = median_seconds(backfill_check, repeat=7)

        def open_cheap() -> None:
            Vault.open(path, PASSPHRASE, kdf_iter=CHEAP_KDF).close()

        t_open = median_seconds(open_cheap, repeat=5)

    print(f"expiry report over {BUNDLES:,} CA bundles (2 CAs each), from stored metadata:")
    print(row(f"expiry report over {CERTIFICATES:,} certificates (reference)", t_certs))
    print(row("expiry report over the CA bundles (facts decoded too)", t_bundles, t_certs))
    print(row("  per CA certificate watched", t_bundles / 2, t_certs, "goal <= 2x"))
    print(row("re-parsing the bundles' PEM (no stored metadata)", t_reparse))
    print(row("expiry report vs re-parsing", t_bundles, t_reparse, "goal <= 0.2x"))
    print(f"open ({BUNDLES + CERTIFICATES:,} secrets, kdf_iter={CHEAP_KDF}):")
    print(row("open (reference)", t_open))
    print(row("backfill check run by every open", t_check, t_open, "goal <= 0.1x"))


if __name__ == "__main__":
    main()
