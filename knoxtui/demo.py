"""The demo vault behind `knoxtui demo` (headless: no Textual, reusable by tests and screenshots).

Certificates in every expiry state, an encrypted key, a PSD2-style QWAC, an OAuth2 secret, two
environments, and routes against the local mTLS lab (knoxtui.lab) when one is running. Everything
outside the lab is deterministic for a given `now`: keys derive from fixed numbers and the demo CA
signs with Ed25519 (deterministic signatures), so screenshots and snapshots do not drift.
All of it is demo material, made at run time; nothing here protects anything real.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from knoxtui import clock, paths

DEMO_PASSPHRASE = "demo"
DEMO_KEY_PASSPHRASE = "demo-key-passphrase"  # protects the demo's one encrypted private key
DEMO_API_KEY = "demo-api-key-0000-not-a-real-key"
DEMO_CLIENT_SECRET = "demo-client-secret-not-real"
VAULT_NAME = "demo.knox"

# -- a tiny DER writer, only for the PSD2 qcStatements extension ----------------------------------


def _tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


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


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def _utf8(text: str) -> bytes:
    return _tlv(0x0C, text.encode("utf-8"))


def psd2_qc_statements(roles: tuple[str, ...], nca_name: str, nca_id: str) -> bytes:
    """ETSI TS 119 495 qcStatements: QcCompliance, QcType web, PSD2 roles and the NCA."""
    role_oids = {"PSP_AS": "1", "PSP_PI": "2", "PSP_AI": "3", "PSP_IC": "4"}
    role_items = [_seq(_oid(f"0.4.0.19495.1.{role_oids[r]}"), _utf8(r)) for r in roles]
    return _seq(
        _seq(_oid("0.4.0.1862.1.1")),
        _seq(_oid("0.4.0.1862.1.6"), _seq(_oid("0.4.0.1862.1.6.3"))),
        _seq(_oid("0.4.0.19495.2"), _seq(_seq(*role_items), _utf8(nca_name), _utf8(nca_id))),
    )


# -- deterministic demo PKI ------------------------------------------------------------------------


def _seed(label: str) -> bytes:
    return hashlib.sha256(f"knoxtui demo {label}".encode()).digest()


def _ec_key(label: str) -> ec.EllipticCurvePrivateKey:
    number = int.from_bytes(_seed(label), "big") % (2**255)
    return ec.derive_private_key(number or 1, ec.SECP256R1())


def _name(
    cn: str, org: str = "Knox Demo Ltd", extra: list[x509.NameAttribute] | None = None
) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        *(extra or []),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ]
    return x509.Name(attrs)


@dataclass
class DemoCA:
    name: x509.Name
    key: ed25519.Ed25519PrivateKey = field(repr=False)
    certificate: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def _ca(cn: str, now: datetime, serial: int, parent: DemoCA | None = None) -> DemoCA:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(_seed(cn))
    name = _name(cn, "Knox Demo Trust Services")
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(parent.name if parent else name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - timedelta(days=800))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    )
    signer = parent.key if parent else key
    return DemoCA(name, key, builder.sign(signer, None))


@dataclass(frozen=True)
class DemoCertificate:
    name: str
    chain_pem: bytes
    key_pem: bytes = field(repr=False)


def _leaf(
    issuer: DemoCA,
    cn: str,
    *,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    org: str = "Knox Demo Ltd",
    client_auth: bool = True,
    extra_name: list[x509.NameAttribute] | None = None,
    qc: bytes | None = None,
    key_passphrase: str | None = None,
) -> DemoCertificate:
    key = _ec_key(cn)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, org, extra_name))
        .issuer_name(issuer.name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH]
                if client_auth
                else [ExtendedKeyUsageOID.SERVER_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"{cn}")]), critical=False)
    )
    if qc is not None:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3"), qc),
            critical=False,
        )
    certificate = builder.sign(issuer.key, None)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(key_passphrase.encode())
        if key_passphrase
        else serialization.NoEncryption()
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    chain = certificate.public_bytes(serialization.Encoding.PEM) + issuer.pem
    return DemoCertificate(cn, chain, key_pem)


@dataclass(frozen=True)
class DemoSpec:
    """One demo certificate secret value."""

    secret: str
    environment: str
    certificate: DemoCertificate
    description: str
    key_passphrase: str | None = field(default=None, repr=False)
    allow_expired: bool = False


def demo_certificates(now: datetime) -> tuple[DemoCA, list[DemoSpec]]:
    """Every demo certificate, dated from `now` (deterministic for a given `now`)."""
    day = timedelta(days=1)
    root = _ca("Knox Demo Root CA", now, 1)
    issuing = _ca("Knox Demo Issuing CA 1", now, 2, root)

    def leaf(cn: str, serial: int, start: int, end: int, **kw: Any) -> DemoCertificate:
        return _leaf(
            issuing,
            cn,
            serial=serial,
            not_before=now + start * day,
            not_after=now + end * day,
            **kw,
        )

    qc = psd2_qc_statements(("PSP_AI", "PSP_PI"), "Financial Conduct Authority", "GB-FCA")
    psd2_name = [x509.NameAttribute(x509.ObjectIdentifier("2.5.4.97"), "PSDGB-FCA-123456")]
    specs = [
        DemoSpec(
            "bank-client",
            "production",
            leaf("client.prod.knox-demo.example", 101, -200, 400),
            "Open Banking client certificate",
        ),
        DemoSpec(
            "bank-client",
            "sandbox",
            leaf("client.sandbox.knox-demo.example", 102, -30, 335),
            "Open Banking client certificate",
        ),
        DemoSpec(
            "hmrc-mtd",
            "production",
            leaf("mtd.knox-demo.example", 103, -300, 64, key_passphrase=DEMO_KEY_PASSPHRASE),
            "HMRC Making Tax Digital (encrypted key)",
            key_passphrase=DEMO_KEY_PASSPHRASE,
        ),
        DemoSpec(
            "payments-gateway",
            "production",
            leaf("gw.payments.knox-demo.example", 104, -350, 12),
            "Card processor mTLS, renewal due",
        ),
        DemoSpec(
            "legacy-partner",
            "default",
            leaf("legacy.partner.knox-demo.example", 105, -400, -9),
            "Expired B2B partner certificate",
            allow_expired=True,
        ),
        DemoSpec(
            "mesh-next",
            "default",
            leaf("next.mesh.knox-demo.example", 106, 20, 385),
            "Service mesh certificate, valid from next month",
            allow_expired=True,
        ),
        DemoSpec(
            "psd2-qwac",
            "production",
            leaf(
                "tpp.knox-demo.example",
                107,
                -100,
                630,
                qc=qc,
                extra_name=psd2_name,
                org="Knox Demo Payments Ltd",
            ),
            "PSD2 QWAC (AISP + PISP roles)",
        ),
    ]
    return root, specs


# -- building --------------------------------------------------------------------------------------


@dataclass
class DemoSession:
    """A built demo: its vault file and, when started, the lab server (stop with `close`)."""

    folder: Path
    vault_path: Path
    labs: dict[str, Any] = field(default_factory=dict)
    routes: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        labs, self.labs = self.labs, {}
        for lab in labs.values():
            with contextlib.suppress(Exception):  # stopping must not hide the app's own exit
                lab.stop()


def build_demo_vault(
    path: Path,
    *,
    now: datetime | None = None,
    kdf_iter: int | None = None,
    lab: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Create the demo vault at `path` (replacing one there); `lab` maps lab behaviours to running
    `knoxtui.lab.LabServer`s. Returns route name -> what it shows."""
    from knoxtui.pki import load_bundle
    from knoxtui.vault import OAuth2Config, Vault

    moment = now or clock.now()
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    root, specs = demo_certificates(moment)
    routes: dict[str, str] = {}
    vault = Vault.create(path, DEMO_PASSPHRASE, kdf_iter=kdf_iter)
    try:
        for spec in specs:
            bundle = load_bundle(
                spec.certificate.chain_pem,
                key_data=spec.certificate.key_pem,
                passphrase=spec.key_passphrase,
                source=f"demo:{spec.secret}",
                now=moment,
            )
            vault.add_certificate(
                spec.secret,
                bundle,
                environment=spec.environment,
                description=spec.description,
                key_passphrase=spec.key_passphrase,
                allow_expired=spec.allow_expired,
            )
        vault.add_string("demo-root-ca", root.pem.decode(), description="Knox Demo Root CA (PEM)")
        vault.add_string(
            "bank-api-key",
            DEMO_API_KEY,
            environment="production",
            description="x-api-key header for the bank",
        )
        vault.add_string(
            "bank-api-key",
            DEMO_API_KEY.replace("0000", "1111"),
            environment="sandbox",
            description="x-api-key header for the bank",
        )
        vault.add_oauth2(
            "bank-oauth",
            OAuth2Config.from_dict(
                {
                    "token_url": "https://auth.knox-demo.example/oauth2/token",
                    "client_id": "knox-demo-tpp",
                    "client_secret": DEMO_CLIENT_SECRET,
                    "scope": "accounts payments",
                    "auth_method": "client_secret_basic",
                }
            ),
            description="Client credentials for the bank's token endpoint",
        )
        vault.save_route(
            "bank-accounts",
            {
                "target_url": "https://api.knox-demo.example/open-banking/v3.1/aisp/accounts",
                "certificate_secret_id": "bank-client",
                "headers": {"x-api-key": "{{secret:bank-api-key}}"},
                "tls_min_version": "1.2",
            },
        )
        routes["bank-accounts"] = "an offline example (the host does not exist): DNS failure"
        if lab:
            routes.update(_lab_routes(vault, lab, moment))
    finally:
        vault.close()
    return routes


def _lab_routes(vault: Any, labs: dict[str, Any], now: datetime) -> dict[str, str]:
    """Secrets and routes that call the running labs: one success and each kind of failure."""
    from knoxtui.pki import load_bundle

    ok = labs["ok"]
    for name, issued, description in (
        ("lab-client", ok.client, "Client certificate from the lab's client CA"),
        ("lab-client-expired", ok.expired_client, "An expired client certificate (lab CA)"),
    ):
        bundle = load_bundle(issued.chain_pem, key_data=issued.key_pem(), source="lab", now=now)
        vault.add_certificate(name, bundle, description=description, allow_expired=True)
    vault.add_string(
        "lab-ca", ok.server_ca.cert_pem.decode(), description="The lab's server CA bundle (PEM)"
    )
    trust = {"ca_bundle_secret_id": "lab-ca"}
    routes: dict[str, tuple[str, dict[str, Any], str]] = {
        "lab-ok": (
            "ok",
            {"certificate_secret_id": "lab-client", **trust},
            "a successful mTLS call",
        ),
        "lab-wrong-ca": (
            "ok",
            {"certificate_secret_id": "bank-client", **trust},
            "our certificate's CA is not one the server accepts",
        ),
        "lab-no-cert": ("ok", dict(trust), "no client certificate sent"),
        "lab-expired-client": (
            "ok",
            {"certificate_secret_id": "lab-client-expired", **trust},
            "the client certificate has expired",
        ),
        "lab-untrusted": (
            "ok",
            {"certificate_secret_id": "lab-client"},
            "the server's CA is not trusted (no CA bundle)",
        ),
        "lab-insecure": (
            "ok",
            {"certificate_secret_id": "lab-client", "tls_reject_unauthorized": False},
            "server verification switched off (red banner)",
        ),
    }
    expired = labs.get("expired_server")
    if expired is not None:
        vault.add_string(
            "lab-ca-2",
            expired.server_ca.cert_pem.decode(),
            description="CA bundle of the second lab server (PEM)",
        )
        bundle = load_bundle(
            expired.client.chain_pem, key_data=expired.client.key_pem(), source="lab", now=now
        )
        vault.add_certificate(
            "lab-client-2", bundle, description="Client certificate for the second lab server"
        )
        routes["lab-expired-server"] = (
            "expired_server",
            {"certificate_secret_id": "lab-client-2", "ca_bundle_secret_id": "lab-ca-2"},
            "the server presents an expired certificate",
        )
    oauth = labs.get("oauth2")
    if oauth is not None:
        from knoxtui.lab import CLIENT_ID
        from knoxtui.vault import OAuth2Config

        vault.add_string(
            "lab-ca-3",
            oauth.server_ca.cert_pem.decode(),
            description="CA bundle of the OAuth2 lab server (PEM)",
        )
        bundle = load_bundle(
            oauth.client.chain_pem, key_data=oauth.client.key_pem(), source="lab", now=now
        )
        vault.add_certificate(
            "lab-client-3", bundle, description="Client certificate for the OAuth2 lab server"
        )
        vault.add_oauth2(
            "lab-oauth",
            OAuth2Config.from_dict(
                {
                    "token_url": oauth.token_url,
                    "client_id": CLIENT_ID,
                    "client_secret": oauth.client_secret,
                    "scope": "accounts",
                    "auth_method": "client_secret_basic",
                    "certificate_secret_id": "lab-client-3",
                    "ca_bundle_secret_id": "lab-ca-3",
                }
            ),
            description="OAuth2 client credentials for the lab's token endpoint (mTLS)",
        )
        routes["lab-oauth2"] = (
            "oauth2",
            {
                "certificate_secret_id": "lab-client-3",
                "ca_bundle_secret_id": "lab-ca-3",
                "oauth2_secret_id": "lab-oauth",
            },
            "an OAuth2 token over mTLS, then the API call with it",
        )
    described = {}
    for name, (which, config, description) in routes.items():
        vault.save_route(name, {"target_url": f"{labs[which].url}/hello", **config})
        described[name] = description
    return described


LAB_BEHAVIOURS = ("ok", "expired_server", "oauth2")


def start_demo(
    folder: Path | None = None,
    *,
    kdf_iter: int | None = None,
    with_lab: bool = True,
    now: datetime | None = None,
) -> DemoSession:
    """A fresh demo folder with its vault, and the lab started in the background when available."""
    target = folder or paths.demo_dir()
    if target.exists():
        shutil.rmtree(target)
    paths.ensure_private_dir(target)
    session = DemoSession(target, target / VAULT_NAME)
    try:
        if with_lab:
            session.labs = start_labs(target / "lab")
        session.routes = build_demo_vault(
            session.vault_path, now=now, kdf_iter=kdf_iter, lab=session.labs
        )
    except BaseException:
        session.close()
        raise
    return session


def start_labs(folder: Path) -> dict[str, Any]:
    """Lab servers on 127.0.0.1 (one per behaviour the demo routes need), started in threads."""
    from knoxtui.lab import LabServer

    labs: dict[str, Any] = {}
    try:
        for behaviour in LAB_BEHAVIOURS:
            labs[behaviour] = LabServer(folder / behaviour, port=0, behaviour=behaviour).start()
    except BaseException:
        for lab in labs.values():
            lab.stop()
        raise
    return labs
