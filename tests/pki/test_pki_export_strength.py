"""Export strength (hardening issue item 7): PKCS#12 key bag *and* MAC, and PEM PKCS#8 keys, use
600,000 PBKDF2-SHA256 iterations, as `openssl pkcs12 -info` / `openssl asn1parse` report them;
`legacy` keeps 3DES/SHA-1 at 2,048 for old Windows and Java."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12
from pki_factory import pki

from knoxtui.pki import load_bundle
from knoxtui.pki.export import export_pem, export_pkcs12
from knoxtui.pki.pbe import EXPORT_ITERATIONS

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")
PASS = "export strength pass"


def _chain_and_key() -> tuple[bytes, object]:
    _root, _inter, leaf = pki()
    return leaf.cert_pem + leaf.chain_pem, leaf.key


def _info(path: Path, *extra: str) -> str:
    result = subprocess.run(
        [
            "openssl",
            "pkcs12",
            "-info",
            "-noout",
            "-in",
            str(path),
            "-passin",
            f"pass:{PASS}",
            *extra,
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    return (result.stdout + result.stderr).decode()


def test_pki_pkcs12_export_mac_and_key_bag_use_600k_pbkdf2_sha256(tmp_path: Path) -> None:
    chain, key = _chain_and_key()
    path = tmp_path / "out.p12"
    path.write_bytes(export_pkcs12(chain, key, PASS, friendly_name="bank"))
    info = _info(path)
    assert re.search(r"MAC: sha256, Iteration 600000", info), info
    assert "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 600000, PRF hmacWithSHA256" in (
        info
    )
    assert "Iteration 2048" not in info
    # still a file cryptography (and so knoxtui) opens, MAC verified
    loaded = pkcs12.load_pkcs12(path.read_bytes(), PASS.encode())
    assert loaded.key is not None and loaded.cert is not None
    assert load_bundle(path.read_bytes(), passphrase=PASS).key_matches is True


def test_pki_pkcs12_export_wrong_password_fails_the_strengthened_mac(tmp_path: Path) -> None:
    chain, key = _chain_and_key()
    data = export_pkcs12(chain, key, PASS)
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(data, b"not the pass")
    bundle = load_bundle(data, passphrase="not the pass")
    assert bundle.has_finding("wrong_passphrase")


def test_pki_pkcs12_legacy_export_is_3des_sha1_2048(tmp_path: Path) -> None:
    chain, key = _chain_and_key()
    path = tmp_path / "legacy.p12"
    path.write_bytes(export_pkcs12(chain, key, PASS, legacy=True))
    info = _info(path, "-legacy")
    assert "MAC: sha1, Iteration 2048" in info
    assert "pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048" in info


def test_pki_pem_export_key_uses_600k_pbkdf2_sha256(tmp_path: Path) -> None:
    chain, key = _chain_and_key()
    data = export_pem(chain, key, PASS)
    key_pem = data[data.index(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") :]
    path = tmp_path / "key.pem"
    path.write_bytes(key_pem)
    parsed = subprocess.run(
        ["openssl", "asn1parse", "-in", str(path)], capture_output=True, timeout=30, check=True
    ).stdout.decode()
    assert ":PBES2" in parsed and ":PBKDF2" in parsed and ":hmacWithSHA256" in parsed
    assert ":aes-256-cbc" in parsed
    iterations = re.findall(r"prim: INTEGER\s+:([0-9A-F]+)", parsed)
    assert [int(i, 16) for i in iterations] == [EXPORT_ITERATIONS] == [600_000]
    # openssl and cryptography both decrypt it
    subprocess.run(
        ["openssl", "pkey", "-in", str(path), "-passin", f"pass:{PASS}", "-noout"],
        check=True,
        timeout=60,
        capture_output=True,
    )
    assert load_pem_private_key(key_pem, PASS.encode()).public_key() == key.public_key()
