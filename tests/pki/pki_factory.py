"""Test material for the PKI tests, made at test time with cryptography: keys, CAs, leaves,
PSD2 qcStatements. Dates are relative to the suite's frozen clock (tests/conftest.py TEST_NOW).
TEST MATERIAL ONLY: none of these keys protect anything."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
PASSPHRASE = "correct horse battery staple"


@functools.cache
def make_key(kind: str = "ec", size: int = 256, index: int = 0) -> Any:
    """Keys are cached per (kind, size, index): RSA generation is slow and tests share them."""
    del index
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=size)
    if kind == "ec":
        curve = {256: ec.SECP256R1(), 384: ec.SECP384R1(), 521: ec.SECP521R1(), 192: ec.SECP192R1()}
        return ec.generate_private_key(curve[size])
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ed448":
        return ed448.Ed448PrivateKey.generate()
    raise ValueError(kind)


def name(cn: str, org: str = "Knox Test", org_id: str | None = None) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
    ]
    if org_id:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, org_id))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


# --- a tiny DER writer for the qcStatements extension -------------------------------------


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray([parts[0] * 40 + parts[1]])
    for value in parts[2:]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        out += bytes(reversed(chunk))
    return _tlv(0x06, bytes(out))


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def _utf8(text: str) -> bytes:
    return _tlv(0x0C, text.encode())


ROLE_OIDS = {"PSP_AS": "1", "PSP_PI": "2", "PSP_AI": "3", "PSP_IC": "4"}
QC_TYPE_OIDS = {"esign": "1", "eseal": "2", "web": "3"}


def qc_statements(
    roles: tuple[str, ...] = ("PSP_AI", "PSP_PI"),
    qc_types: tuple[str, ...] = ("web",),
    nca_name: str = "Financial Conduct Authority",
    nca_id: str = "GB-FCA",
) -> x509.UnrecognizedExtension:
    statements = [
        _seq(_oid("0.4.0.1862.1.1")),
        _seq(
            _oid("0.4.0.1862.1.6"),
            _seq(*(_oid("0.4.0.1862.1.6." + QC_TYPE_OIDS[t]) for t in qc_types)),
        ),
        _seq(
            _oid("0.4.0.19495.2"),
            _seq(
                _seq(*(_seq(_oid("0.4.0.19495.1." + ROLE_OIDS[r]), _utf8(r)) for r in roles)),
                _utf8(nca_name),
                _utf8(nca_id),
            ),
        ),
    ]
    return x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3"), _seq(*statements))


# --- certificates ---------------------------------------------------------------------------


@dataclass
class Issued:
    """A certificate with its key and the chain above it (leaf first, root last)."""

    cert: x509.Certificate
    key: Any = field(repr=False)
    chain: list[x509.Certificate] = field(default_factory=list)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def key_pem(self, passphrase: str | None = None, fmt: str = "pkcs8") -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase.encode())
            if passphrase
            else serialization.NoEncryption()
        )
        private_format = {
            "pkcs8": serialization.PrivateFormat.PKCS8,
            "traditional": serialization.PrivateFormat.TraditionalOpenSSL,
        }[fmt]
        return self.key.private_bytes(serialization.Encoding.PEM, private_format, encryption)

    def key_der(self, passphrase: str | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase.encode())
            if passphrase
            else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, encryption
        )

    def pkcs12(self, passphrase: str | None = PASSPHRASE, *, legacy: bool = False) -> bytes:
        if passphrase is None:
            encryption: serialization.KeySerializationEncryption = serialization.NoEncryption()
        elif legacy:
            encryption = (
                serialization.PrivateFormat.PKCS12.encryption_builder()
                .kdf_rounds(2048)
                .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
                .hmac_hash(hashes.SHA1())
                .build(passphrase.encode())
            )
        else:
            encryption = serialization.BestAvailableEncryption(passphrase.encode())
        return pkcs12.serialize_key_and_certificates(
            b"test", self.key, self.cert, self.chain or None, encryption
        )

    def pkcs7(self, der: bool = False) -> bytes:
        encoding = serialization.Encoding.DER if der else serialization.Encoding.PEM
        return pkcs7.serialize_certificates([self.cert, *self.chain], encoding)


def make_cert(
    cn: str,
    *,
    key: Any = None,
    issuer: Issued | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int = 365,
    ca: bool = False,
    eku: tuple[x509.ObjectIdentifier, ...] | None = (ExtendedKeyUsageOID.CLIENT_AUTH,),
    san: tuple[x509.GeneralName, ...] = (),
    hash_alg: hashes.HashAlgorithm | None = None,
    serial: int | None = None,
    org_id: str | None = None,
    psd2: x509.UnrecognizedExtension | None = None,
    key_ids: bool = True,
) -> Issued:
    key = key if key is not None else make_key("ec", 256)
    start = not_before or NOW - timedelta(days=30)
    end = not_after or start + timedelta(days=days)
    subject = name(cn, org_id=org_id)
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if key_ids:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
            critical=False,
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(san)), critical=False)
    if psd2 is not None:
        builder = builder.add_extension(psd2, critical=False)
    if hash_alg is None and isinstance(
        signer_key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
    ):
        algorithm = None
    else:
        algorithm = hash_alg or hashes.SHA256()
    cert = builder.sign(signer_key, algorithm)
    chain = [issuer.cert, *issuer.chain] if issuer else []
    return Issued(cert, key, chain)


@functools.cache
def pki() -> tuple[Issued, Issued, Issued]:
    """root CA -> intermediate CA -> client leaf (EC P-256), valid around NOW."""
    root = make_cert(
        "Knox Test Root CA",
        key=make_key("ec", 384),
        ca=True,
        days=3650,
        not_before=NOW - timedelta(days=1000),
    )
    inter = make_cert(
        "Knox Test Issuing CA",
        key=make_key("ec", 256, 1),
        issuer=root,
        ca=True,
        days=1825,
        not_before=NOW - timedelta(days=500),
    )
    leaf = make_cert(
        "client.knox.test",
        key=make_key("ec", 256, 2),
        issuer=inter,
        san=(x509.DNSName("client.knox.test"),),
    )
    return root, inter, leaf


@functools.cache
def rsa_pki() -> tuple[Issued, Issued]:
    """intermediate + RSA-2048 client leaf (the 'typical bundle')."""
    _root, inter, _ = pki()
    leaf = make_cert("rsa-client.knox.test", key=make_key("rsa", 2048), issuer=inter)
    return inter, leaf


_RSA_SIGNATURE_OIDS = {
    "sha256": "1.2.840.113549.1.1.11",
    "sha1": "1.2.840.113549.1.1.5",
    "md5": "1.2.840.113549.1.1.4",
}


def resign_rsa(issued: Issued, issuer_key: rsa.RSAPrivateKey, digest: str) -> Issued:
    """The same certificate signed with `digest` ("sha1", "md5"), which cryptography no longer
    signs with: swap the equally long algorithm OID in the TBS bytes, sign them by hand."""
    from cryptography.hazmat.primitives.asymmetric import padding

    old = _oid(_RSA_SIGNATURE_OIDS["sha256"])
    new = _oid(_RSA_SIGNATURE_OIDS[digest])
    tbs = issued.cert.tbs_certificate_bytes
    assert tbs.count(old) == 1 and len(old) == len(new)
    tbs = tbs.replace(old, new)
    hash_alg = {"sha1": hashes.SHA1(), "md5": hashes.MD5()}[digest]
    signature = issuer_key.sign(tbs, padding.PKCS1v15(), hash_alg)
    algorithm = _seq(new, b"\x05\x00")
    der = _seq(tbs, algorithm, _tlv(0x03, b"\x00" + signature))
    return Issued(x509.load_der_x509_certificate(der), issued.key, issued.chain)


@functools.cache
def rsa_ca() -> Issued:
    return make_cert(
        "Knox RSA CA",
        key=make_key("rsa", 2048, 1),
        ca=True,
        days=3650,
        not_before=NOW - timedelta(days=1000),
    )


# The `inspect --json` fields of DESIGN.md §4, in order.
DESIGN_FIELDS = [
    "source",
    "format",
    "valid",
    "status",
    "subject",
    "subject_cn",
    "issuer",
    "issuer_cn",
    "serial",
    "valid_from",
    "valid_until",
    "days_remaining",
    "fingerprint_sha256",
    "key_type",
    "key_size",
    "san",
    "extended_key_usage",
    "client_auth_eku",
    "chain",
    "has_private_key",
    "encrypted_key",
    "key_matches",
    "findings",
]
