"""CSR and key generation (knoxtui.pki.csr), DN and SAN parsing (knoxtui.pki.names)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from life_helpers import IssuingCA, new_key

from knoxtui.errors import ValidationError
from knoxtui.pki.csr import (
    KEY_TYPES,
    build_signing_request,
    certificate_signed_by,
    load_signing_request,
    public_key_sha256,
)
from knoxtui.pki.names import format_name, names_equal, parse_name, parse_san


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CN=api.bank.example,O=Bank,C=GB", "CN=api.bank.example,O=Bank,C=GB"),
        ("/C=GB/O=Bank/CN=api.bank.example", "CN=api.bank.example,O=Bank,C=GB"),
        ("C = GB, O = Bank, CN = api.bank.example", "CN=api.bank.example,O=Bank,C=GB"),
        ("/C=GB/O=A\\/B Ltd/CN=x", "CN=x,O=A/B Ltd,C=GB"),
        ("CN=x,O=Bank\\, Ltd,C=GB", "CN=x,O=Bank\\, Ltd,C=GB"),
        (
            "cn=x+serialNumber=42,organizationIdentifier=PSDGB-FCA-123456,c=GB",
            "CN=x+serialNumber=42,organizationIdentifier=PSDGB-FCA-123456,C=GB",
        ),
        ("/CN=Caf\\C3\\A9", "CN=Café"),
        ("/emailAddress=ops@bank.example/CN=x", "CN=x,emailAddress=ops@bank.example"),
    ],
)
def test_life_parse_name_both_syntaxes(text: str, expected: str) -> None:
    assert format_name(parse_name(text)) == expected


def test_life_slash_and_rfc4514_give_the_same_name() -> None:
    assert parse_name("/C=GB/O=Bank/CN=x") == parse_name("CN=x,O=Bank,C=GB")
    assert parse_name("/C=GB/O=Bank/CN=x").get_attributes_for_oid(NameOID.COUNTRY_NAME)


@pytest.mark.parametrize(
    "text", ["", "   ", "CN", "/CN", "XX=1", "C=GBR", "CN=a,,O=b", "CN=#0403616263"]
)
def test_life_parse_name_failures_are_invalid_subject(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_name(text)
    assert info.value.code == "invalid_subject"
    assert info.value.hint


def test_life_names_equal_ignores_case_spacing_and_attribute_order() -> None:
    assert names_equal("CN=Knox Root,O=Knox Test,C=GB", "cn=knox  root, o=KNOX test, c=gb")
    assert names_equal("CN=x+serialNumber=1,C=GB", "serialNumber=1+CN=x,C=GB")
    assert not names_equal("CN=Knox Root,O=Knox Test,C=GB", "CN=Other Root,O=Knox Test,C=GB")
    assert not names_equal("CN=a,O=b", "O=b,CN=a")  # RDN order matters


def test_life_parse_san_kinds_and_bare_values() -> None:
    names = parse_san(
        ["api.bank.example", "IP:127.0.0.1", "ops@bank.example,URI:https://x.example"]
    )
    assert names == [
        x509.DNSName("api.bank.example"),
        x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1")),
        x509.RFC822Name("ops@bank.example"),
        x509.UniformResourceIdentifier("https://x.example"),
    ]
    assert parse_san(["DNS:a.example", "dns:a.example"]) == [x509.DNSName("a.example")]


@pytest.mark.parametrize("value", ["DNS:not a host", "IP:999.1.1.1", "DNS:-bad-"])
def test_life_parse_san_failure_twin(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_san([value])
    assert info.value.code == "invalid_san"


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_life_csr_parses_back_with_cryptography(key_type: str) -> None:
    request = build_signing_request(
        subject="/C=GB/O=Bank/CN=client.bank.example",
        san=["client.bank.example"],
        key_type=key_type,
    )
    csr = load_signing_request(request.csr_pem)
    assert csr.is_signature_valid
    assert csr.subject.rfc4514_string() == "CN=client.bank.example,O=Bank,C=GB"
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert list(san) == [x509.DNSName("client.bank.example")]
    eku = csr.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in eku
    assert request.key_type == key_type
    assert request.passphrase_generated and len(request.key_passphrase) >= 24
    assert b"ENCRYPTED PRIVATE KEY" in request.key_pem
    key = load_pem_private_key(request.key_pem, request.key_passphrase.encode())
    kind = rsa.RSAPrivateKey if key_type.startswith("rsa") else ec.EllipticCurvePrivateKey
    assert isinstance(key, kind)
    assert (
        public_key_sha256(key) == public_key_sha256(csr.public_key()) == request.public_key_sha256
    )


def test_life_csr_key_needs_its_passphrase() -> None:
    request = build_signing_request(subject="CN=x", key_type="ec-p256", passphrase="correct horse")
    assert not request.passphrase_generated
    with pytest.raises(TypeError):
        load_pem_private_key(request.key_pem, None)
    with pytest.raises(ValueError):
        load_pem_private_key(request.key_pem, b"wrong horse")
    load_pem_private_key(request.key_pem, b"correct horse")


def test_life_csr_repr_and_dict_hold_no_key_material() -> None:
    request = build_signing_request(subject="CN=x", key_type="ec-p256", passphrase="correct horse")
    text = repr(request) + repr(request.to_dict())
    assert "correct horse" not in text and "PRIVATE KEY" not in text


def test_life_csr_like_copies_subject_and_san_then_adds() -> None:
    ca = IssuingCA()
    old = ca.issue(
        new_key().public_key(),
        subject=parse_name("/C=GB/O=Bank/organizationIdentifier=PSDGB-FCA-1/CN=tpp.example"),
        san=[x509.DNSName("tpp.example")],
    )
    request = build_signing_request(like=old, san=["IP:10.0.0.1"], key_type="ec-p256")
    csr = load_signing_request(request.csr_pem)
    assert csr.subject == old.subject
    assert request.san == ("DNS:tpp.example", "IP:10.0.0.1")
    assert request.subject == "CN=tpp.example,organizationIdentifier=PSDGB-FCA-1,O=Bank,C=GB"
    # an explicit subject wins over the renewed certificate's
    edited = build_signing_request(like=old, subject="CN=tpp2.example", key_type="ec-p256")
    assert edited.subject == "CN=tpp2.example" and edited.san == ("DNS:tpp.example",)


def test_life_csr_failures() -> None:
    with pytest.raises(ValidationError) as info:
        build_signing_request(key_type="ec-p256")
    assert info.value.code == "invalid_subject"
    with pytest.raises(ValidationError) as info:
        build_signing_request(subject="CN=x", key_type="rsa-1024")
    assert info.value.code == "invalid_key_type"
    with pytest.raises(ValidationError) as info:
        build_signing_request(subject="CN=x", key_type="ec-p256", passphrase="short")
    assert info.value.code == "weak_passphrase"
    with pytest.raises(ValidationError) as info:
        load_signing_request(
            b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
        )
    assert info.value.code == "corrupt"


def test_life_csr_signed_by_test_ca() -> None:
    ca, other = IssuingCA(), IssuingCA(name="Other CA")
    request = build_signing_request(subject="CN=client.example", key_type="ec-p256")
    certificate = ca.sign_csr(load_signing_request(request.csr_pem))
    assert public_key_sha256(certificate) == request.public_key_sha256
    assert certificate_signed_by(certificate, ca.certificate)
    assert not certificate_signed_by(certificate, other.certificate)


@pytest.mark.openssl
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl tool not installed")
@pytest.mark.parametrize("key_type", ["rsa-2048", "ec-p384"])
def test_life_csr_verifies_with_openssl(tmp_path: Path, key_type: str) -> None:
    request = build_signing_request(
        subject="/C=GB/O=Bank/CN=client.bank.example",
        san=["client.bank.example"],
        key_type=key_type,
    )
    path = tmp_path / "client.csr"
    path.write_bytes(request.csr_pem)
    result = subprocess.run(
        ["openssl", "req", "-in", str(path), "-verify", "-noout", "-subject"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "verify OK" in (result.stdout + result.stderr)
    assert "CN = client.bank.example" in result.stdout or "CN=client.bank.example" in result.stdout
    # the key opens with openssl and the same passphrase
    key_path = tmp_path / "client.key"
    key_path.write_bytes(request.key_pem)
    opened = subprocess.run(
        ["openssl", "pkey", "-in", str(key_path), "-passin", "stdin", "-noout"],
        input=request.key_passphrase + "\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert opened.returncode == 0, opened.stderr
    refused = subprocess.run(
        ["openssl", "pkey", "-in", str(key_path), "-passin", "pass:wrong-pass", "-noout"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode != 0


_VALUE = st.text(
    alphabet=st.sampled_from(list('abcXYZ019 ,+=\\"#<>;/.-_é€')), min_size=1, max_size=20
).filter(lambda v: v.strip() == v or v.strip())  # not only spaces


@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    NameOID.COMMON_NAME,
                    NameOID.ORGANIZATION_NAME,
                    NameOID.ORGANIZATIONAL_UNIT_NAME,
                    NameOID.LOCALITY_NAME,
                    NameOID.ORGANIZATION_IDENTIFIER,
                    NameOID.EMAIL_ADDRESS,
                ]
            ),
            _VALUE,
        ),
        min_size=1,
        max_size=4,
    )
)
@settings(max_examples=100, deadline=None)
def test_life_parse_name_round_trips_rfc4514(attributes: list) -> None:
    name = x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])
    assert parse_name(format_name(name)) == name
    assert parse_name(name.rfc4514_string()) == name
