"""describe_certificate: the fields of one certificate, PSD2 qcStatements included."""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import timedelta

import pki_factory as f
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from knoxtui.pki import ExpiryThresholds, describe_certificate
from knoxtui.pki.certificate import parse_qc_statements, serial_hex


def test_fields_of_a_client_certificate() -> None:
    _, inter, _ = f.pki()
    leaf = f.make_cert(
        "api-client.knox.test",
        issuer=inter,
        serial=0x0ABC,
        san=(
            x509.DNSName("api.knox.test"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.RFC822Name("ops@knox.test"),
            x509.UniformResourceIdentifier("spiffe://knox.test/client"),
        ),
        eku=(
            ExtendedKeyUsageOID.CLIENT_AUTH,
            ExtendedKeyUsageOID.SERVER_AUTH,
            x509.ObjectIdentifier("1.2.3.4"),
        ),
    )
    info = describe_certificate(leaf.cert)
    assert info.subject == "CN=api-client.knox.test,O=Knox Test,C=GB"
    assert info.subject_cn == "api-client.knox.test"
    assert info.issuer == "CN=Knox Test Issuing CA,O=Knox Test,C=GB"
    assert info.issuer_cn == "Knox Test Issuing CA"
    assert info.serial == "0ABC"
    assert info.valid_from == f.NOW - timedelta(days=30)
    assert info.valid_from.tzinfo is not None
    expected = hashlib.sha256(leaf.cert_der).hexdigest().upper()
    assert info.fingerprint_sha256.replace(":", "") == expected
    assert len(info.fingerprint_sha256.split(":")) == 32
    assert (info.key_type, info.key_size, info.curve) == ("ec", 256, "secp256r1")
    assert info.san == (
        "DNS:api.knox.test",
        "IP:127.0.0.1",
        "email:ops@knox.test",
        "URI:spiffe://knox.test/client",
    )
    assert info.key_usage == ("digitalSignature", "keyEncipherment")
    assert info.extended_key_usage == ("clientAuth", "serverAuth", "1.2.3.4")
    assert info.client_auth_eku and not info.is_ca and not info.self_signed
    assert info.signature_algorithm == "ecdsa-with-SHA256"
    assert info.psd2 is None and info.organization_identifier is None
    assert info.pem == leaf.cert.public_bytes(Encoding.PEM)
    assert info.subject_key_id is not None and info.authority_key_id is not None


def test_rsa_ed25519_and_root_fields() -> None:
    root, inter, _ = f.pki()
    _, rsa_leaf = f.rsa_pki()
    info = describe_certificate(rsa_leaf.cert)
    assert (info.key_type, info.key_size, info.curve) == ("rsa", 2048, None)
    ed = describe_certificate(f.make_cert("ed", key=f.make_key("ed25519")).cert)
    assert (ed.key_type, ed.key_size, ed.signature_algorithm) == ("ed25519", 256, "ed25519")
    root_info = describe_certificate(root.cert)
    assert root_info.is_ca and root_info.self_signed
    assert "keyCertSign" in root_info.key_usage
    assert not describe_certificate(inter.cert).self_signed


def test_serial_like_openssl() -> None:
    assert serial_hex(1) == "01"
    assert serial_hex(0) == "00"
    assert serial_hex(0x1234567) == "01234567"
    assert serial_hex(-5) == "-05"


def test_psd2_qwac() -> None:
    cert = f.make_cert(
        "tpp.knox.test",
        org_id="PSDGB-FCA-123456",
        psd2=f.qc_statements(roles=("PSP_AS", "PSP_PI", "PSP_AI", "PSP_IC"), qc_types=("web",)),
    )
    info = describe_certificate(cert.cert)
    assert info.organization_identifier == "PSDGB-FCA-123456"
    assert "organizationIdentifier=PSDGB-FCA-123456" in info.subject
    assert info.psd2 is not None
    assert info.psd2.qc_compliance
    assert info.psd2.qc_types == ("web",)
    assert info.psd2.roles == ("PSP_AS", "PSP_PI", "PSP_AI", "PSP_IC")
    assert info.psd2.nca_name == "Financial Conduct Authority"
    assert info.psd2.nca_id == "GB-FCA"
    assert info.to_dict(f.NOW)["psd2"]["roles"] == ["PSP_AS", "PSP_PI", "PSP_AI", "PSP_IC"]


def test_qseal_and_broken_qc_statements_twin() -> None:
    seal = describe_certificate(
        f.make_cert("seal", psd2=f.qc_statements(roles=("PSP_AI",), qc_types=("eseal",))).cert
    )
    assert seal.psd2 is not None and seal.psd2.qc_types == ("eseal",)
    assert parse_qc_statements(b"\x30\x05\x06\x03") is None
    assert parse_qc_statements(b"\x04\x00") is None


def test_to_dict_carries_the_chain_entry_and_status() -> None:
    _, _, leaf = f.pki()
    info = describe_certificate(leaf.cert)
    data = info.to_dict(f.NOW, ExpiryThresholds())
    assert {"subject", "issuer", "valid_until", "fingerprint_sha256"} <= set(data)
    assert data["valid_until"].endswith("Z")
    assert data["status"] == "valid" and data["days_remaining"] == 335
    assert info.days_remaining(f.NOW) == 335


def test_repr_hides_the_pem() -> None:
    _, _, leaf = f.pki()
    text = repr(describe_certificate(leaf.cert))
    assert "BEGIN CERTIFICATE" not in text and "certificate=" not in text
