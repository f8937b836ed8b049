"""Vault: open + list 10,000 certificate secrets (metadata only) and bulk-import 1,000, against
plain sqlite3 running the very same Vault code on the same schema and pragmas in the same run,
and against re-parsing the 10,000 certificates (what an inventory without stored metadata costs).

The list and import comparisons use a cheap SQLCipher KDF (kdf_iter=64) so that they measure
page encryption, not key derivation; SQLCipher's default KDF (256,000 PBKDF2-HMAC-SHA512
iterations, what every real open pays) is measured on its own line.
Goals: listing <= 3x plain sqlite3 and <= 0.2x re-parsing.
"""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.harness import median_seconds, row

COUNT = 10_000
IMPORT = 1_000
CHEAP_KDF = 64
PASSPHRASE = "bench vault passphrase"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _certificates(count: int) -> tuple[list[bytes], bytes]:
    """`count` distinct client certificates (one shared key: signing is the cost that matters)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench CA")])
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    pems = []
    for index in range(count):
        cn = f"client-{index:05d}.bench.example"
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bench Bank plc"),
                        x509.NameAttribute(NameOID.COMMON_NAME, cn),
                    ]
                )
            )
            .issuer_name(ca_name)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - timedelta(days=30))
            .not_valid_after(NOW + timedelta(days=30 + index % 700))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        pems.append(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = leaf_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pems, key_pem


def _plain_vault(path: Path) -> Any:
    """The Vault class on a plain sqlite3 connection: same schema, same pragmas, same code."""
    from knoxtui.vault import Vault, schema

    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in (
        "journal_mode = DELETE",
        "synchronous = FULL",
        "secure_delete = ON",
        "temp_store = MEMORY",
        "foreign_keys = ON",
    ):
        conn.execute(f"PRAGMA {pragma}")
    if schema.user_version(conn) == 0:
        conn.execute("BEGIN IMMEDIATE")
        schema.apply(conn, 0, schema.CURRENT_VERSION)
        conn.execute("COMMIT")
    return Vault(path, conn)


def _fill(vault: Any, bundles: list[Any], prefix: str, batch: int = 1_000) -> None:
    for start in range(0, len(bundles), batch):
        with vault.batch():
            for index in range(start, min(start + batch, len(bundles))):
                vault.add_certificate(f"{prefix}-{index:05d}", bundles[index])


def main() -> None:
    from cryptography import x509

    from knoxtui import clock
    from knoxtui.pki import ExpiryThresholds, certificate, describe_certificate, load_bundle
    from knoxtui.vault import Vault, changes
    from knoxtui.vault.columns import list_secrets_on

    print(f"  making {COUNT:,} certificates ...", flush=True)
    pems, key_pem = _certificates(COUNT)
    bundles = [load_bundle(pem, key_data=key_pem, now=NOW, require_key=True) for pem in pems]
    thresholds = ExpiryThresholds()

    with tempfile.TemporaryDirectory(prefix="knoxtui-bench-") as scratch, clock.frozen(NOW):
        folder = Path(scratch)
        cipher_path, plain_path = folder / "cipher.knox", folder / "plain.db"
        vault = Vault.create(cipher_path, PASSPHRASE, kdf_iter=CHEAP_KDF)
        plain = _plain_vault(plain_path)
        print(f"  filling both with {COUNT:,} certificate secrets ...", flush=True)
        _fill(vault, bundles, "bank")
        _fill(plain, bundles, "bank")
        vault.close()
        plain.close()
        size_c, size_p = cipher_path.stat().st_size, plain_path.stat().st_size
        print(f"  files: SQLCipher {size_c / 1e6:.1f} MB, sqlite3 {size_p / 1e6:.1f} MB")

        def list_cipher() -> None:
            with Vault.open(cipher_path, PASSPHRASE, kdf_iter=CHEAP_KDF) as opened:
                infos = opened.list_secrets()
            assert len(infos) == COUNT

        def list_plain() -> None:
            conn = sqlite3.connect(plain_path, isolation_level=None)
            infos = list_secrets_on(conn)
            conn.close()
            assert len(infos) == COUNT

        def reparse() -> None:
            certificate._cache.clear()
            for pem in pems:
                info = describe_certificate(x509.load_pem_x509_certificate(pem))
                info.days_remaining(NOW)
                info.status(NOW, thresholds)

        t_plain = median_seconds(list_plain, repeat=5)
        t_cipher = median_seconds(list_cipher, repeat=5)
        t_parse = median_seconds(reparse, repeat=3)

        import_bundles = bundles[:IMPORT]
        rounds = iter(range(100))

        def import_cipher() -> None:
            with Vault.open(cipher_path, PASSPHRASE, kdf_iter=CHEAP_KDF) as opened:
                _fill(opened, import_bundles, f"imp{next(rounds)}")

        def import_plain() -> None:
            opened = _plain_vault(plain_path)
            _fill(opened, import_bundles, f"imp{next(rounds)}")
            opened.close()

        i_plain = median_seconds(import_plain, repeat=3)
        i_cipher = median_seconds(import_cipher, repeat=3)

        # Item digests (what changed since): read from the column vs recomputed from every value,
        # and the share of an import that computing them at write time costs.
        digest_vault = Vault.open(cipher_path, PASSPHRASE, kdf_iter=CHEAP_KDF)

        def stored_digests() -> None:
            assert len(digest_vault.secrets.digests()) >= COUNT

        def recomputed_digests(limit: int | None = None) -> None:
            with digest_vault.reading() as conn:
                ids = [row[0] for row in conn.execute("SELECT id FROM secrets").fetchall()]
                for secret_id in ids[:limit]:
                    changes.secret_digest(conn, secret_id)

        d_stored = median_seconds(stored_digests, repeat=5)
        d_all = median_seconds(recomputed_digests, repeat=3)
        d_import = median_seconds(lambda: recomputed_digests(IMPORT), repeat=3)
        digest_count = len(digest_vault.secrets.digests())
        digest_vault.close()

        kdf_path = folder / "kdf.knox"
        Vault.create(kdf_path, PASSPHRASE).close()

        def open_default_kdf() -> None:
            Vault.open(kdf_path, PASSPHRASE).close()

        def open_cheap() -> None:
            Vault.open(cipher_path, PASSPHRASE, kdf_iter=CHEAP_KDF).close()

        t_kdf = median_seconds(open_default_kdf, repeat=5)
        t_open_cheap = median_seconds(open_cheap, repeat=5)

    print(f"open + list {COUNT:,} certificate secrets (metadata only, kdf_iter={CHEAP_KDF}):")
    print(row("plain sqlite3, same Vault listing code and schema", t_plain))
    print(row("SQLCipher vault", t_cipher, t_plain, "goal <= 3x plain sqlite3"))
    print(row(f"re-parsing the {COUNT:,} certificates (cryptography + pki)", t_parse))
    print(row("SQLCipher vault vs re-parsing", t_cipher, t_parse, "goal <= 0.2x re-parsing"))
    print(f"bulk import of {IMPORT:,} certificate secrets (one transaction per 1,000):")
    print(row("plain sqlite3, same Vault code", i_plain))
    print(row("SQLCipher vault", i_cipher, i_plain))
    print(row("per secret, SQLCipher", i_cipher / IMPORT))
    print(f"item digests ({digest_count:,} secrets, what changed since / team sync):")
    print(row("recomputed from every value (blobs read)", d_all))
    print(row("stored with each write, read from the column", d_stored, d_all))
    print(row(f"computing {IMPORT:,} at write time vs the import", d_import, i_cipher))
    print("key derivation (its own line):")
    print(row("open with SQLCipher's default KDF (256,000 iterations)", t_kdf))
    print(row(f"open with kdf_iter={CHEAP_KDF} (tests and list figures above)", t_open_cheap))
    print(row("  => KDF cost of a real open", max(t_kdf - t_open_cheap, 0.0)))


if __name__ == "__main__":
    main()
