"""Issue 10 classes 6 and 7: control characters in names, SANs, extension text and file names
never reach the terminal raw through `inspect` (JSON keeps the exact string); Python warnings
(non-positive serials) never reach stderr, they become findings."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pki_factory as f
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from knoxtui.cli import main
from knoxtui.pki import load_bundle

pytestmark = pytest.mark.usefixtures("frozen_now")

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"


def _hostile(tmp_path: Path) -> Path:
    _root, inter, _leaf = f.pki()
    key = f.make_key("ec", 256, 7)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "\x1b$@Bank"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"client{OSC52}\r\x1b[2J"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(inter.cert.subject)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(f.NOW)
        .not_valid_after(f.NOW.replace(year=f.NOW.year + 1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("api\x1b[31m.bank.test"), x509.RFC822Name("a\x07@b.test")]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(inter.key, hashes.SHA256())
    )
    path = tmp_path / "evil\x1b[2J\r.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + inter.cert_pem)
    return path


def test_pki_inspect_text_shows_no_control_character(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _hostile(tmp_path)
    main(["inspect", str(path)])
    out = capsys.readouterr().out
    assert not [c for c in out if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F], repr(out)
    assert "\\x1b$@Bank" in out  # made visible, not dropped
    assert "\\x1b]52;c;" in out and "\\x07" in out and "\\r" in out
    assert "api\\x1b[31m.bank.test" in out
    assert "evil\\x1b[2J\\r.pem" in out


def test_pki_inspect_json_keeps_the_exact_strings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _hostile(tmp_path)
    main(["inspect", str(path), "--json"])
    raw = capsys.readouterr().out
    assert "\x1b" not in raw  # escaped by the JSON encoder
    data = json.loads(raw)
    assert data["subject_cn"] == f"client{OSC52}\r\x1b[2J"
    assert "DNS:api\x1b[31m.bank.test" in data["san"]
    assert data["source"] == str(path)


def test_pki_finding_messages_quote_names_visibly(tmp_path: Path) -> None:
    bundle = load_bundle(_hostile(tmp_path).read_bytes())  # no key: messages name the leaf
    text = " ".join(f.message for f in bundle.findings) + " ".join(
        c.label for c in bundle.certificates
    )
    assert "\x1b" not in text and "\r" not in text


def _negative_serial_pem() -> bytes:
    """A certificate with serial -5 (cryptography refuses to build one: patch the TBS, re-sign)."""
    _root, inter, _leaf = f.pki()
    issued = f.make_cert("neg.knox.test", issuer=inter, serial=0x0505)
    tbs = issued.cert.tbs_certificate_bytes
    assert tbs.count(b"\x02\x02\x05\x05") == 1
    tbs = tbs.replace(b"\x02\x02\x05\x05", b"\x02\x02\xfa\xfb")
    signature = inter.key.sign(
        tbs, __import__("cryptography").hazmat.primitives.asymmetric.ec.ECDSA(hashes.SHA256())
    )
    algorithm = f._seq(f._oid("1.2.840.10045.4.3.2"))
    der = f._seq(tbs, algorithm, f._tlv(0x03, b"\x00" + signature))
    # written as PEM by hand: loading it here would print cryptography's warning in the test
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n".encode()


def test_pki_negative_serial_is_a_finding_not_a_python_warning(tmp_path: Path) -> None:
    path = tmp_path / "neg.pem"
    path.write_bytes(_negative_serial_pem())
    result = subprocess.run(
        [sys.executable, "-W", "always", "-m", "knoxtui", "inspect", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "always", "NO_COLOR": "1"},
        check=False,
    )
    assert result.stderr == "", result.stderr
    data = json.loads(result.stdout)
    assert data["serial"] == "-0505"  # as `openssl x509 -serial` shows it
    assert "non_strict_encoding" in [x["code"] for x in data["findings"]]
