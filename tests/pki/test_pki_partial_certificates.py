"""Issue 10 class 2: a certificate with one part that does not decode is shown with what can be
read, the part named, and a `non_strict_encoding` warning, as OpenSSL shows it; never a whole
rejection, never a Python exception name. Certificates are hand-edited DER, re-signed."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pki_factory as f
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from knoxtui.pki import der, load_bundle
from knoxtui.pki.certificate import colon_hex
from knoxtui.pki.pbe import oid, seq, tlv

pytestmark = pytest.mark.usefixtures("frozen_now")
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl CLI")


def _variant(index: int | str, new: bytes) -> bytes:
    """The leaf with TBS field `index` (0 = serial, 5 = SPKI; 'ext' = the extensions) replaced,
    re-signed by its issuer."""
    _root, inter, leaf = f.pki()
    fields = der.children(der.read_tlv(leaf.cert.tbs_certificate_bytes).value)
    items = [der.encode(x.tag, x.value) for x in fields]
    position = len(items) - 1 if index == "ext" else int(index) + 1  # after [0] version
    items[position] = new
    tbs = seq(*items)
    signature = inter.key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    return seq(tbs, seq(oid("1.2.840.10045.4.3.2")), tlv(0x03, b"\x00" + signature))


def _extensions(extra: list[bytes], *, drop_last: bool = False) -> bytes:
    _root, _inter, leaf = f.pki()
    fields = der.children(der.read_tlv(leaf.cert.tbs_certificate_bytes).value)
    items = der.children(der.read_tlv(fields[-1].value).value)
    kept = [der.encode(e.tag, e.value) for e in items]
    if drop_last:
        kept = kept[:-1]
    return tlv(0xA3, seq(*kept, *extra))


def _cn(string_tag: int, value: bytes) -> bytes:
    return seq(tlv(0x31, seq(oid("2.5.4.3"), tlv(string_tag, value))))


SAN_OID = "2.5.29.17"


def cases() -> dict[str, tuple[bytes, str]]:
    _root, _inter, leaf = f.pki()
    san = der.certificate_extensions(leaf.cert_der)
    san_value = next(v for o, v in san if o == SAN_OID)
    x400 = seq(oid(SAN_OID), tlv(0x04, seq(tlv(0xA3, seq(seq())), tlv(0x82, b"ok.knox.test"))))
    bool01 = seq(oid("2.5.29.19"), tlv(0x01, b"\x01"), tlv(0x04, seq(tlv(0x01, b"\x01"))))
    crit_false = seq(oid("2.5.29.15"), tlv(0x01, b"\x00"), tlv(0x04, tlv(0x03, b"\x07\x80")))
    nonminimal = b"\x30\x81" + bytes([len(_cn(0x0C, b"x")) - 2]) + _cn(0x0C, b"x")[2:]
    return {
        "printable_utf8": (_variant(4, _cn(0x13, "café".encode())), "PrintableString"),
        "printable_latin1": (_variant(4, _cn(0x13, b"caf\xe9")), "PrintableString"),
        "t61": (_variant(4, _cn(0x14, b"caf\xe9")), "subject is an unreadable name"),
        "year0": (
            _variant(3, seq(tlv(0x18, b"00000101000000Z"), tlv(0x18, b"20300101000000Z"))),
            "start date",
        ),
        "duplicate": (
            _variant("ext", _extensions([seq(oid(SAN_OID), tlv(0x04, san_value))])),
            "duplicate extension",
        ),
        "x400_san": (_variant("ext", _extensions([x400], drop_last=True)), "X400Name"),
        "bool01": (_variant("ext", _extensions([bool01])), "BOOLEAN"),
        "critical_false": (_variant("ext", _extensions([crit_false])), "critical FALSE"),
        "nonminimal_length": (_variant(4, nonminimal), "length encodings"),
    }


@needs_openssl
@pytest.mark.parametrize("name", list(cases()))
def test_pki_partly_unreadable_certificate_is_shown_with_the_part_named(
    name: str, tmp_path: Path
) -> None:
    data, named = cases()[name]
    path = tmp_path / f"{name}.der"
    path.write_bytes(data)
    result = subprocess.run(
        [
            "openssl",
            "x509",
            "-inform",
            "DER",
            "-in",
            str(path),
            "-noout",
            "-fingerprint",
            "-sha256",
        ],
        capture_output=True,
        timeout=30,
        check=False,
    )
    openssl_reads = result.returncode == 0
    bundle = load_bundle(data)
    text = " ".join(f"{x.code} {x.message} {x.hint}" for x in bundle.findings)
    # no Python exception name ("could not be read (DuplicateExtension)")
    assert not re.search(r"\b[A-Z][a-z]+[A-Z][A-Za-z]*(Error|Exception|Extension|Type)\b", text)
    assert "Traceback" not in text
    leaf = bundle.leaf
    assert leaf is not None, text  # shown, not rejected whole
    assert leaf.fingerprint_sha256 == colon_hex(hashlib.sha256(data).digest())
    if openssl_reads:  # the same fingerprint as OpenSSL's
        assert leaf.fingerprint_sha256 == result.stdout.decode().strip().split("=", 1)[1]
    warning = [x for x in bundle.findings if x.code == "non_strict_encoding"]
    assert warning, text
    shown = warning[0].message + " ".join(leaf.san)
    assert named in shown, shown
    assert leaf.subject_cn in ("client.knox.test", "café", "x", None)
    assert leaf.key_type == "ec" and leaf.spki  # the rest still read


def test_pki_duplicate_extension_keeps_the_first_and_judges_eku() -> None:
    data, _ = cases()["duplicate"]
    leaf = load_bundle(data).leaf
    assert leaf is not None
    assert leaf.san == ("DNS:client.knox.test",)
    assert leaf.client_auth_eku is True and leaf.extended_key_usage == ("clientAuth",)


def test_pki_unreadable_name_is_marked_in_text_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from knoxtui.cli import main

    data, _ = cases()["t61"]
    path = tmp_path / "t61.der"
    path.write_bytes(data)
    main(["inspect", str(path)])
    out = capsys.readouterr().out
    assert "(unreadable name)" in out and "non_strict_encoding" in out


def test_pki_certificate_info_pickles_after_its_fields_were_read() -> None:
    """The console validates in a child process and pickles the bundle back."""
    import pickle

    _root, _inter, leaf = f.pki()
    info = load_bundle(leaf.cert_pem + leaf.chain_pem).leaf
    assert info is not None and info.san and info.is_ca is False and info.subject
    again = pickle.loads(pickle.dumps(info, protocol=pickle.HIGHEST_PROTOCOL))
    assert again == info and again.subject == info.subject and again.san == info.san
