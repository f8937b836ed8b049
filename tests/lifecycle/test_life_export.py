"""PKCS#12 and PEM export (knoxtui.pki.export), read back by cryptography and the openssl tool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12
from life_helpers import IssuingCA, new_key, pem

from knoxtui.errors import ValidationError
from knoxtui.pki.csr import public_key_sha256
from knoxtui.pki.export import (
    export_certificate,
    export_pem,
    export_pkcs12,
    exported_key_is_encrypted,
)

PASS = "export-pass-1"
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl tool")


@pytest.fixture(scope="module")
def material() -> tuple[bytes, object, object]:
    ca = IssuingCA()
    key = new_key()
    leaf = ca.issue(key.public_key(), cn="client.knox.test")
    return pem(leaf) + ca.pem, key, ca


@pytest.mark.parametrize("legacy", [False, True])
def test_life_pkcs12_reads_back_with_cryptography(material, legacy: bool) -> None:
    chain, key, ca = material
    data = export_pkcs12(chain, key, PASS, friendly_name="bank_api", legacy=legacy)
    loaded = pkcs12.load_pkcs12(data, PASS.encode())
    assert loaded.cert is not None and loaded.key is not None
    assert public_key_sha256(loaded.key) == public_key_sha256(key)
    assert loaded.cert.friendly_name == b"bank_api"
    assert [c.certificate for c in loaded.additional_certs] == [ca.certificate]
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(data, b"wrong")


@pytest.mark.openssl
@needs_openssl
@pytest.mark.parametrize("legacy", [False, True])
def test_life_pkcs12_reads_back_with_openssl(material, tmp_path: Path, legacy: bool) -> None:
    chain, key, _ = material
    path = tmp_path / "out.p12"
    path.write_bytes(export_pkcs12(chain, key, PASS, legacy=legacy))
    command = ["openssl", "pkcs12", "-info", "-noout", "-in", str(path), "-passin", f"pass:{PASS}"]
    if legacy:
        command.append("-legacy")
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    algorithms = result.stderr + result.stdout
    if legacy:
        assert "pbeWithSHA1And3-KeyTripleDES-CBC" in algorithms
    else:
        assert "AES-256-CBC" in algorithms and "PBKDF2" in algorithms
    wrong = subprocess.run(
        [part if part != f"pass:{PASS}" else "pass:wrong" for part in command],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert wrong.returncode != 0


def test_life_pem_export_encrypts_the_key(material) -> None:
    chain, key, _ = material
    data = export_pem(chain, key, PASS)
    assert data.count(b"BEGIN CERTIFICATE") == 2
    assert exported_key_is_encrypted(data) is True
    assert b"BEGIN PRIVATE KEY" not in data
    start = data.index(b"-----BEGIN ENCRYPTED PRIVATE KEY")
    loaded = load_pem_private_key(data[start:], PASS.encode())
    assert public_key_sha256(loaded) == public_key_sha256(key)


def test_life_plaintext_key_refused_unless_asked(material) -> None:
    chain, key, _ = material
    for format_ in ("pem", "pkcs12"):
        with pytest.raises(ValidationError) as info:
            export_certificate(format_, chain, key, None)
        assert info.value.code == "plaintext_key_refused"
        assert "--insecure-plaintext-key" in (info.value.hint or "")
    plain = export_pem(chain, key, None, allow_plaintext_key=True)
    assert exported_key_is_encrypted(plain) is False
    p12 = export_pkcs12(chain, key, None, allow_plaintext_key=True)
    assert pkcs12.load_pkcs12(p12, None).key is not None


def test_life_certificate_only_export_needs_no_passphrase(material) -> None:
    chain, _, _ = material
    data = export_pem(chain, None, None)
    assert exported_key_is_encrypted(data) is None and data.count(b"BEGIN CERTIFICATE") == 2


def test_life_export_failures(material) -> None:
    chain, key, _ = material
    with pytest.raises(ValidationError) as info:
        export_pkcs12(chain, new_key(), PASS)
    assert info.value.code == "key_mismatch"
    with pytest.raises(ValidationError) as info:
        export_pem(b"not a certificate", key, PASS)
    assert info.value.code == "no_certificate"
    with pytest.raises(ValidationError) as info:
        export_certificate("jks", chain, key, PASS)
    assert info.value.code == "unsupported_format"
    with pytest.raises(ValidationError):
        export_certificate("pem", chain, key, PASS, legacy=True)
