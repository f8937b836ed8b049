"""Test material for the UI tests, made at test time with cryptography: certificates and keys that
trigger every finding code (test material, fixed dates from the suite's frozen clock)."""

from __future__ import annotations

import base64
import functools
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from textual.app import App
    from textual.pilot import Pilot

    from knoxtui.ui.app import KnoxApp

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
KEY_PASSPHRASE = "correct horse"
# Cheap key derivation for test vaults (the product uses SQLCipher's default).
KDF_ITER = 1000


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class CA:
    cn: str
    key: ec.EllipticCurvePrivateKey = field(repr=False)
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def make_ca(cn: str, parent: CA | None = None) -> CA:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(parent.cert.subject if parent else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1000))
        .not_valid_after(NOW + timedelta(days=3000))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(parent.key if parent else key, hashes.SHA256())
    )
    return CA(cn, key, cert)


def make_leaf(
    issuer: CA,
    cn: str = "client.test",
    *,
    days_from: int = -10,
    days_to: int = 365,
    key: object | None = None,
    client_auth: bool = True,
    digest: hashes.HashAlgorithm | None = None,
) -> tuple[x509.Certificate, object]:
    key = key or ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + timedelta(days=days_from))
        .not_valid_after(NOW + timedelta(days=days_to))
        .add_extension(
            x509.ExtendedKeyUsage(
                [
                    ExtendedKeyUsageOID.CLIENT_AUTH
                    if client_auth
                    else ExtendedKeyUsageOID.SERVER_AUTH
                ]
            ),
            critical=False,
        )
        .sign(issuer.key, digest or hashes.SHA256())
    )
    return cert, key


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: object, passphrase: str | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


@dataclass(frozen=True)
class Case:
    """One import input: what is pasted, an optional key file text and key passphrase."""

    pem: str
    key: str | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)


@functools.cache
def finding_cases() -> dict[str, Case]:
    """An input per finding code (DESIGN.md §3) that the import screen must show."""
    root = make_ca("UI Test Root CA")
    inter = make_ca("UI Test Issuing CA", root)
    good, good_key = make_leaf(inter)
    chain = cert_pem(good) + inter.pem
    plain_key = key_pem(good_key).decode()
    enc_key = key_pem(good_key, KEY_PASSPHRASE).decode()

    def with_key(cert: x509.Certificate, key: object) -> str:
        return (cert_pem(cert) + inter.pem).decode() + key_pem(key).decode()

    other_key = ec.generate_private_key(ec.SECP256R1())
    weak_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    cases = {
        "unsupported_format": Case("this is not a certificate, just words\n"),
        "corrupt": Case(
            "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
        ),
        "no_certificate": Case(plain_key),
        "missing_private_key": Case(chain.decode()),
        "key_mismatch": Case(chain.decode() + key_pem(other_key).decode()),
        "passphrase_required": Case(chain.decode() + enc_key),
        "wrong_passphrase": Case(chain.decode() + enc_key, passphrase="not the passphrase"),
        "unsupported_key_encryption": Case(
            chain.decode(), key=unsupported_encrypted_key(), passphrase="anything"
        ),
        "expired": Case(with_key(*make_leaf(inter, days_from=-400, days_to=-3))),
        "not_yet_valid": Case(with_key(*make_leaf(inter, days_from=5, days_to=400))),
        "expiry_warning": Case(with_key(*make_leaf(inter, days_to=60))),
        "expiry_urgent": Case(with_key(*make_leaf(inter, days_to=10))),
        "no_client_auth_eku": Case(with_key(*make_leaf(inter, client_auth=False))),
        "chain_incomplete": Case((cert_pem(good) + root.pem).decode() + plain_key),
        "chain_order": Case((inter.pem + cert_pem(good) + root.pem).decode() + plain_key),
        "unencrypted_key": Case(chain.decode() + plain_key),
        "weak_key": Case(with_key(*make_leaf(inter, key=weak_rsa))),
    }
    sha1 = sha1_signed_pem()
    if sha1 is not None:
        cases["weak_signature"] = Case(sha1)
    return cases


def _tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    return bytes([tag, 0x81, size]) + content


def _oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body.extend(reversed(chunk))
    return _tlv(0x06, bytes(body))


def unsupported_encrypted_key() -> str:
    """An encrypted PKCS#8 key whose PBES2 cipher OID no library knows."""
    seq = functools.partial(_tlv, 0x30)
    kdf = seq(
        _oid("1.2.840.113549.1.5.12") + seq(_tlv(0x04, b"\x02" * 8) + _tlv(0x02, b"\x08\x00"))
    )
    cipher = seq(_oid("1.2.3.4.5.6") + _tlv(0x04, b"\x00" * 16))
    der = seq(seq(_oid("1.2.840.113549.1.5.13") + seq(kdf + cipher)) + _tlv(0x04, b"\x00" * 64))
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{body}-----END ENCRYPTED PRIVATE KEY-----\n"


def sha1_signed_pem() -> str | None:
    """A SHA-1 signed certificate with its key (cryptography no longer signs SHA-1: openssl does).
    None when the openssl command is not installed."""
    if shutil.which("openssl") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        run = functools.partial(
            subprocess.run, cwd=folder, check=True, capture_output=True, timeout=30
        )
        run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-subj",
                "/CN=UI SHA1 CA",
                "-days",
                "3650",
            ]
        )
        run(
            [
                "openssl",
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
                "-subj",
                "/CN=sha1.client.test",
            ]
        )
        run(
            [
                "openssl",
                "x509",
                "-req",
                "-sha1",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "leaf.pem",
                "-days",
                "365",
            ]
        )
        files = [Path(folder, name).read_text() for name in ("leaf.pem", "ca.pem", "leaf.key")]
    return "".join(files)


def good_case() -> Case:
    """A clean import: chain and encrypted key, with the right passphrase."""
    root = make_ca("UI Good Root CA")
    inter = make_ca("UI Good Issuing CA", root)
    cert, key = make_leaf(inter, "good.client.test")
    return Case(
        (cert_pem(cert) + inter.pem).decode() + key_pem(key, KEY_PASSPHRASE).decode(),
        passphrase=KEY_PASSPHRASE,
    )


# -- app fixtures and pilot helpers ------------------------------------------------------------


def app_for(path: Path, **kwargs: object) -> KnoxApp:
    from knoxtui.config import Config
    from knoxtui.ui.app import make_app

    kwargs.setdefault("remember_theme", False)
    kwargs.setdefault("config", Config())
    kwargs.setdefault("clock", NOW)
    return make_app(path, kdf_iter=KDF_ITER, **kwargs)  # type: ignore[arg-type]


async def wait_for(pilot: Pilot, condition: Callable[[], bool], *, seconds: float = 10.0) -> None:
    """Let the app run until `condition()` holds (bounded; fails the test if it never does)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("the app never reached the expected state")


async def unlock(pilot: Pilot, passphrase: str = "demo", *, typed: bool = False) -> None:
    """Unlock the app's vault: typed on the unlock screen, or (faster, for tests about what comes
    after) opened directly and handed to the app exactly as the unlock worker does."""
    from knoxtui.ui.screens.inventory import InventoryScreen
    from knoxtui.vault import Vault

    app = pilot.app
    if typed:
        await pilot.press(*passphrase, "enter")
    else:
        await wait_for(pilot, lambda: app.screen.query("#passphrase"))
        app.vault_opened(Vault.open(app.vault_path, passphrase, kdf_iter=app.kdf_iter))
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, InventoryScreen) and bool(app.screen.query("#summary")),
    )
    await pilot.pause()


def steady(app: App) -> None:
    """No blinking cursors (deterministic snapshots)."""
    from textual.widgets import Input, TextArea

    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    for area in app.screen.query(TextArea):
        area.cursor_blink = False


def secret_strings() -> list[str]:
    """Values that must never appear in a snapshot or screenshot."""
    from knoxtui.demo import (
        DEMO_API_KEY,
        DEMO_CLIENT_SECRET,
        DEMO_KEY_PASSPHRASE,
        DEMO_PASSPHRASE,
        demo_certificates,
    )

    values = [
        DEMO_API_KEY,
        DEMO_API_KEY.replace("0000", "1111"),
        DEMO_CLIENT_SECRET,
        DEMO_KEY_PASSPHRASE,
        "PRIVATE KEY",
        KEY_PASSPHRASE,
    ]
    _root, specs = demo_certificates(NOW)
    for spec in specs:
        lines = spec.certificate.key_pem.decode().splitlines()
        values.extend(line for line in lines[1:-1] if len(line) > 20)
    assert DEMO_PASSPHRASE == "demo"  # shown on purpose on the demo unlock screen
    return values


def screen_text(app: App) -> str:
    """The visible screen as text (from the SVG export: what a user or a screenshot sees)."""
    import html

    return html.unescape(app.export_screenshot()).replace("\xa0", " ")
