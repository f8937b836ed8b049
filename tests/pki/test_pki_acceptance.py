"""Acceptance: material made by the openssl command-line tool in every format issue 2 lists, run
through `knoxtui inspect --json`, every field compared with what `openssl x509` says of the same
certificate and every finding code checked. Certificates carry fixed dates around the suite's
frozen now (2026-06-01), signed with `openssl ca -startdate/-enddate`."""

from __future__ import annotations

import base64
import functools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from knoxtui import clock
from knoxtui.cli import main

pytestmark = [
    pytest.mark.openssl,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed"),
]

NOW = datetime.fromisoformat("2026-06-01T12:00:00+00:00")
PASS = "acc3ptance pass"
# leaf name -> (key algorithm options, subject, start, end, extension section)
LEAVES: dict[str, tuple[list[str], str, str, str, str]] = {
    "rsa": (
        ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "/C=FR/L=Paris/O=Société QA, SA/OU=Paiements+OU=Ops/CN=client-rsa.qa.example"
        "/emailAddress=ops@qa.example",
        "20260101000000Z",
        "20270701000000Z",
        "leaf",
    ),
    "p256": (
        ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "/CN=p256",
        "20260101000000Z",
        "20260801120000Z",
        "leaf",
    ),
    "p384": (
        ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "/CN=p384",
        "20260101000000Z",
        "20260621120000Z",
        "leaf",
    ),
    "p521": (
        ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
        "/CN=p521",
        "20260101000000Z",
        "20280101000000Z",
        "leaf",
    ),
    "ed25519": (
        ["-algorithm", "ED25519"],
        "/CN=ed25519",
        "20260101000000Z",
        "20280101000000Z",
        "leaf",
    ),
    "ed448": (["-algorithm", "ED448"], "/CN=ed448", "20260101000000Z", "20280101000000Z", "leaf"),
    "noeku": (
        ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "/CN=server only",
        "20260101000000Z",
        "20280101000000Z",
        "server",
    ),
    "weak": (
        ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        "/CN=weak",
        "20260101000000Z",
        "20280101000000Z",
        "leaf",
    ),
    "expired": (
        ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "/CN=expired",
        "20240101000000Z",
        "20260415000000Z",
        "leaf",
    ),
    "future": (
        ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "/CN=future",
        "20260901000000Z",
        "20280101000000Z",
        "leaf",
    ),
    "psd2": (
        ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "/C=DE/O=QA Bank AG/organizationIdentifier=PSDDE-BAFIN-123456/CN=qa-bank.example",
        "20260101000000Z",
        "20280101000000Z",
        "psd2",
    ),
}


def _tlv(tag: int, body: bytes) -> bytes:
    size = len(body)
    length = bytes([size]) if size < 128 else bytes([0x81, size])
    return bytes([tag]) + length + body


def _oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for value in parts[2:]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.insert(0, (value & 0x7F) | 0x80)
            value >>= 7
        out += bytes(chunk)
    return _tlv(6, out)


def _seq(*items: bytes) -> bytes:
    return _tlv(0x30, b"".join(items))


def _qc_statements() -> str:
    """QcCompliance, QcType eseal and the PSD2 statement (PSP_PI, PSP_AI; BaFin), DER in hex."""
    utf8 = lambda text: _tlv(0x0C, text.encode())  # noqa: E731
    roles = _seq(
        _seq(_oid("0.4.0.19495.1.2"), utf8("PSP_PI")), _seq(_oid("0.4.0.19495.1.3"), utf8("PSP_AI"))
    )
    psd2 = _seq(_oid("0.4.0.19495.2"), _seq(roles, utf8("BaFin"), utf8("DE-BAFIN")))
    qc_type = _seq(_oid("0.4.0.1862.1.6"), _seq(_oid("0.4.0.1862.1.6.2")))
    return _seq(_seq(_oid("0.4.0.1862.1.1")), qc_type, psd2).hex().upper()


def openssl(d: Path, *args: str) -> str:
    result = subprocess.run(["openssl", *args], cwd=d, capture_output=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:3])}: {result.stderr.decode()[-400:]}")
    return result.stdout.decode("utf-8", "replace")


CA_CONFIG = """[ca]
default_ca = qa
[qa]
dir = .
database = index.txt
new_certs_dir = issued
serial = serial
default_md = sha256
policy = anything
unique_subject = no
preserve = yes
utf8 = yes
[anything]
countryName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
organizationIdentifier = optional
emailAddress = optional
commonName = supplied
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
subjectAltName = DNS:client.qa.example, DNS:*.qa.example, IP:10.1.2.3, email:ops@qa.example
[server]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth, codeSigning
[psd2]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
1.3.6.1.5.5.7.1.3 = DER:{qc}
[intermediate]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("acceptance")
    (d / "issued").mkdir()
    (d / "index.txt").write_text("")
    (d / "serial").write_text("0FF0\n")
    (d / "ca.cnf").write_text(CA_CONFIG.replace("{qc}", _qc_statements()))
    (d / "pass.txt").write_text(PASS + "\n")
    (d / "wrong.txt").write_text("not it\n")
    run = lambda *a: openssl(d, *a)  # noqa: E731
    run("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-out", "root.csr",
        "-subj", "/C=DE/O=QA Root Org/CN=QA Root CA")  # fmt: skip
    run("ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", "root.key", "-in", "root.csr",
        "-out", "root.pem", "-notext", "-startdate", "20250101000000Z", "-enddate",
        "20450101000000Z", "-extensions", "intermediate")  # fmt: skip
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "int.key")

    def sign(name: str, issuer: str, start: str, end: str, section: str, *extra: str) -> None:
        run("ca", "-batch", "-config", "ca.cnf", "-cert", f"{issuer}.pem", "-keyfile",
            f"{issuer}.key", "-in", f"{name}.csr", "-out", f"{name}.pem", "-notext",
            "-startdate", start, "-enddate", end, "-extensions", section, *extra)  # fmt: skip

    run("req", "-new", "-key", "int.key", "-subj", "/C=DE/O=QA/CN=QA Issuing CA", "-out", "int.csr")
    sign("int", "root", "20250101000000Z", "20350101000000Z", "intermediate")
    for name, (algorithm, subject, start, end, section) in LEAVES.items():
        run("genpkey", *algorithm, "-out", f"{name}.key")
        run("req", "-new", "-utf8", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr")
        sign(name, "int", start, end, section)
    run("req", "-new", "-key", "p256.key", "-subj", "/CN=sha1 signed", "-out", "sha1.csr")
    sign("sha1", "int", "20260101000000Z", "20280101000000Z", "leaf", "-md", "sha1")

    cat = lambda out, *names: (d / out).write_bytes(b"".join((d / n).read_bytes() for n in names))  # noqa: E731
    cat("full.pem", "rsa.pem", "int.pem", "root.pem")
    cat("scrambled.pem", "root.pem", "rsa.pem", "int.pem")
    cat("missing_int.pem", "rsa.pem", "root.pem")
    cat("key_first.pem", "rsa.key", "int.pem", "rsa.pem")
    cat("cachain.pem", "int.pem", "root.pem")
    crlf = (
        (d / "rsa.pem").read_bytes() + (d / "int.pem").read_bytes() + (d / "rsa.key").read_bytes()
    )
    (d / "crlf.pem").write_bytes(b"\xef\xbb\xbf\r\n  " + crlf.replace(b"\n", b"\r\n") + b"\r\n\r\n")
    pw = ["-passout", "file:pass.txt"]
    run("pkcs8", "-topk8", "-nocrypt", "-in", "rsa.key", "-out", "rsa_p8.key")
    run("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "rsa.key", *pw, "-out", "rsa_aes.key")
    run("pkcs8", "-topk8", "-v2", "des3", "-in", "rsa.key", *pw, "-out", "rsa_des3.key")
    run("pkcs8", "-topk8", "-scrypt", "-in", "p256.key", *pw, "-out", "p256_scrypt.key")
    run("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "ed25519.key", *pw, "-out", "ed_enc.key")
    run("rsa", "-in", "rsa.key", "-traditional", "-out", "rsa_trad.key")
    run("rsa", "-in", "rsa.key", "-traditional", "-aes256", *pw, "-out", "rsa_trad_aes.key")
    run("rsa", "-in", "rsa.key", "-traditional", "-des3", *pw, "-out", "rsa_trad_des3.key")
    run("ec", "-in", "p256.key", "-out", "p256_trad.key")
    run("ec", "-in", "p384.key", "-aes256", *pw, "-out", "p384_trad_aes.key")
    run("ec", "-in", "p521.key", "-des3", *pw, "-out", "p521_trad_des3.key")
    run("rsa", "-in", "rsa.key", "-traditional", "-camellia256", *pw, "-out", "rsa_cam.key")
    run("pkcs8", "-topk8", "-v2", "camellia256", "-in", "rsa.key", *pw, "-out", "rsa_p8_cam.key")
    run("pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", "rsa.key", *pw, "-out", "rsa_v1.key")
    run("pkcs8", "-topk8", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA512", "-in", "rsa.key",
        *pw, "-out", "rsa_sha512.key")  # fmt: skip
    run("rsa", "-in", "rsa.key", "-traditional", "-outform", "DER", "-out", "rsa_pkcs1.der")
    (d / "crlf_pass.txt").write_bytes(PASS.encode() + b"\r\n")
    (d / "utf8_pass.txt").write_text("pässwörd ключ\n", encoding="utf-8")
    run("x509", "-in", "rsa.pem", "-outform", "DER", "-out", "rsa.der")
    run("pkey", "-in", "rsa.key", "-outform", "DER", "-out", "rsa_key.der")
    p12 = ["pkcs12", "-export", "-in", "rsa.pem", "-inkey", "rsa.key", "-certfile", "cachain.pem"]
    run(*p12, *pw, "-out", "modern.p12")
    run(*p12, "-legacy", *pw, "-out", "legacy.p12")
    run(*p12, "-passout", "pass:", "-out", "empty.p12")
    run(*p12, "-legacy", "-passout", "pass:", "-out", "empty_legacy.p12")
    run("pkcs12", "-export", "-in", "ed448.pem", "-inkey", "ed448.key", "-keypbe", "NONE",
        "-certpbe", "NONE", "-nomac", "-passout", "pass:", "-out", "none.p12")  # fmt: skip
    run("pkcs12", "-in", "modern.p12", "-passin", "file:pass.txt", "-nodes", "-out", "nodes.pem")
    single = ["pkcs12", "-export", "-in", "rsa.pem", "-inkey", "rsa.key"]
    run(*single, "-passout", "file:utf8_pass.txt", "-out", "utf8.p12")
    run(*single, *pw, "-nomac", "-out", "nomac.p12")
    run(
        *single, *pw, "-macalg", "sha512", "-keypbe", "AES-128-CBC", "-iter", "1", "-out", "odd.p12"
    )
    run("pkcs12", "-export", "-nokeys", "-in", "full.pem", *pw, "-out", "certs_only.p12")
    run("crl2pkcs7", "-nocrl", "-certfile", "scrambled.pem", "-out", "bundle.p7b")
    run("crl2pkcs7", "-nocrl", "-certfile", "full.pem", "-outform", "DER", "-out", "bundle_der.p7b")
    run("x509", "-req", "-in", "p256.csr", "-CA", "int.pem", "-CAkey", "int.key", "-set_serial",
        "-5", "-days", "30", "-out", "negative.pem")  # fmt: skip
    pfx = (d / "modern.p12").read_bytes()
    (d / "mojibake.pfx").write_bytes(pfx.decode("latin-1").encode("utf-8"))
    (d / "pasted.txt").write_bytes(base64.encodebytes(pfx))
    return d


@pytest.fixture
def inspect_json(made: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    def run(*args: str) -> tuple[int, dict[str, Any]]:
        capsys.readouterr()
        with clock.frozen(NOW):
            code = main(["inspect", "--json", *(str(made / a) if "." in a else a for a in args)])
        return code, json.loads(capsys.readouterr().out)

    yield run


_EKU = {
    "TLS Web Client Authentication": "clientAuth",
    "TLS Web Server Authentication": "serverAuth",
    "Code Signing": "codeSigning",
}
_KEY_TYPES = {
    "rsaEncryption": "rsa",
    "id-ecPublicKey": "ec",
    "ED25519": "ed25519",
    "ED448": "ed448",
}


def _atoms(dn: str) -> list[tuple[str, str]]:
    """An RFC 4514/2253 string as sorted (type, value) atoms: order and RDN grouping aside."""
    atoms, current, i = [], "", 0
    while i < len(dn):
        if dn[i] == "\\":
            current += dn[i : i + 2]
            i += 2
            continue
        if dn[i] in ",+":
            atoms.append(current)
            current = ""
        else:
            current += dn[i]
        i += 1
    atoms.append(current)
    return sorted(tuple(a.split("=", 1)) for a in atoms)  # type: ignore[misc]


@functools.cache
def openssl_facts(made: Path, pem: str) -> dict[str, Any]:
    """What `openssl x509` says of a certificate, in inspect --json's words."""
    ask = lambda *a: openssl(made, "x509", "-in", pem, "-noout", *a)  # noqa: E731
    name = lambda which: ask(which, "-nameopt", "RFC2253,-esc_msb").split("=", 1)[1].strip()  # noqa: E731
    dates = dict(line.split("=", 1) for line in ask("-dates").splitlines())
    when = lambda text: datetime.strptime(" ".join(text.split()), "%b %d %H:%M:%S %Y GMT")  # noqa: E731
    lines = ask("-ext", "subjectAltName,extendedKeyUsage").splitlines()
    san: list[str] = []
    eku: list[str] = []
    for i, line in enumerate(lines):
        items = [x.strip() for x in lines[i + 1].split(",")] if i + 1 < len(lines) else []
        if "Subject Alternative Name" in line:
            san = [x.replace("IP Address:", "IP:") for x in items]
        if "Extended Key Usage" in line:
            eku = [_EKU.get(x, x) for x in items]
    text = ask("-text")
    algorithm = re.search(r"Public Key Algorithm: (\S+)", text)
    bits = re.search(r"Public-Key: \((\d+) bit\)", text)
    key_type = _KEY_TYPES[algorithm.group(1)] if algorithm else None
    return {
        "subject": _atoms(name("-subject")),
        "issuer": _atoms(name("-issuer")),
        "serial": ask("-serial").split("=", 1)[1].strip(),
        "valid_from": when(dates["notBefore"]).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "valid_until": when(dates["notAfter"]).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fingerprint_sha256": ask("-fingerprint", "-sha256").split("=", 1)[1].strip(),
        "key_type": key_type,
        # openssl prints no "(N bit)" for EdDSA keys; their sizes are RFC 8032's
        "key_size": int(bits.group(1)) if bits else {"ed25519": 256, "ed448": 456}[key_type or ""],
        "san": san,
        "extended_key_usage": eku,
    }


def assert_like_openssl(made: Path, got: dict[str, Any], pem: str, chain: list[str]) -> None:
    seen = {key: got[key] for key in openssl_facts(made, pem)}
    seen["subject"] = _atoms(got["subject"])
    seen["issuer"] = _atoms(got["issuer"])
    assert seen == openssl_facts(made, pem)
    fingerprints = [openssl_facts(made, c)["fingerprint_sha256"] for c in chain]
    assert [c["fingerprint_sha256"] for c in got["chain"]] == fingerprints


def pubkey_matches(made: Path, cert: str, key: str, *passin: str) -> bool:
    ours = openssl(made, "pkey", "-in", key, "-pubout", *passin)
    theirs = openssl(made, "x509", "-in", cert, "-noout", "-pubkey")
    return ours == theirs


PW = "--key-passphrase-file pass.txt"
WRONG = "--key-passphrase-file wrong.txt"
FULL = "rsa int root"

# name: (arguments, leaf, chain leaf-to-root, has_private_key encrypted_key key_matches, findings,
# exit code). "-" is null (encrypted_key: not compared). has_private_key is true for a key that is
# there but locked; an empty PKCS#12 password protects nothing, hence unencrypted_key.
# fmt: off
CASES: dict[str, tuple[str, str, str, str, str, int]] = {
    "chain alone": ("full.pem", "rsa", FULL, "F F -", "", 0),
    "chain + key": ("full.pem --key rsa.key", "rsa", FULL, "T F T", "unencrypted_key", 0),
    "scrambled": ("scrambled.pem --key rsa.key", "rsa", FULL, "T F T",
                  "chain_order unencrypted_key", 0),
    "missing intermediate": ("missing_int.pem --key rsa.key", "rsa", "rsa root", "T F T",
                             "chain_incomplete unencrypted_key", 0),
    "key first": ("key_first.pem", "rsa", "rsa int", "T F T", "chain_order unencrypted_key", 0),
    "crlf bom": ("crlf.pem", "rsa", "rsa int", "T F T", "unencrypted_key", 0),
    "pkcs12 -nodes": ("nodes.pem", "rsa", FULL, "T F T", "unencrypted_key", 0),
    "pkcs8": ("rsa.pem --key rsa_p8.key", "rsa", "rsa", "T F T", "unencrypted_key", 0),
    "pkcs8 aes": (f"rsa.pem --key rsa_aes.key {PW}", "rsa", "rsa", "T T T", "", 0),
    "pkcs8 des3": (f"rsa.pem --key rsa_des3.key {PW}", "rsa", "rsa", "T T T", "", 0),
    "pkcs8 no pass": ("rsa.pem --key rsa_aes.key", "rsa", "rsa", "T T -", "passphrase_required", 1),
    "pkcs8 wrong": (f"rsa.pem --key rsa_des3.key {WRONG}", "rsa", "rsa", "T T -",
                    "wrong_passphrase", 1),
    "pkcs8 scrypt": (f"p256.pem --key p256_scrypt.key {PW}", "p256", "p256", "T T T",
                     "expiry_warning", 0),
    "pkcs8 scrypt wrong": (f"p256.pem --key p256_scrypt.key {WRONG}", "p256", "p256", "T T -",
                           "wrong_passphrase expiry_warning", 1),
    "ed25519 encrypted": (f"ed25519.pem --key ed_enc.key {PW}", "ed25519", "ed25519", "T T T",
                          "", 0),
    "ed448": ("ed448.pem --key ed448.key", "ed448", "ed448", "T F T", "unencrypted_key", 0),
    "rsa traditional": ("rsa.pem --key rsa_trad.key", "rsa", "rsa", "T F T", "unencrypted_key", 0),
    "rsa traditional aes": (f"rsa.pem --key rsa_trad_aes.key {PW}", "rsa", "rsa", "T T T", "", 0),
    "rsa traditional des3 wrong": (f"rsa.pem --key rsa_trad_des3.key {WRONG}", "rsa", "rsa",
                                   "T T -", "wrong_passphrase", 1),
    "ec traditional": ("p256.pem --key p256_trad.key", "p256", "p256", "T F T",
                       "unencrypted_key expiry_warning", 0),
    "ec p384 aes": (f"p384.pem --key p384_trad_aes.key {PW}", "p384", "p384", "T T T",
                    "expiry_urgent", 0),
    "ec p521 des3": (f"p521.pem --key p521_trad_des3.key {PW}", "p521", "p521", "T T T", "", 0),
    "der pair": ("rsa.der --key rsa_key.der", "rsa", "rsa", "T F T", "unencrypted_key", 0),
    "pkcs12 modern": (f"modern.p12 {PW}", "rsa", FULL, "T T T", "", 0),
    "pkcs12 modern no pass": ("modern.p12", "", "", "F T -", "passphrase_required", 1),
    "pkcs12 modern wrong": (f"modern.p12 {WRONG}", "", "", "F T -", "wrong_passphrase", 1),
    "pkcs12 legacy": (f"legacy.p12 {PW}", "rsa", FULL, "T T T", "", 0),
    "pkcs12 legacy wrong": (f"legacy.p12 {WRONG}", "", "", "F T -", "wrong_passphrase", 1),
    "pkcs12 empty password": ("empty.p12", "rsa", FULL, "T - T", "unencrypted_key", 0),
    "pkcs12 legacy empty password": ("empty_legacy.p12", "rsa", FULL, "T - T",
                                     "unencrypted_key", 0),
    "pkcs12 no encryption": ("none.p12", "ed448", "ed448", "T F T", "unencrypted_key", 0),
    "pkcs7 pem": ("bundle.p7b --key rsa.key", "rsa", FULL, "T F T", "unencrypted_key", 0),
    "pkcs7 der": ("bundle_der.p7b", "rsa", FULL, "F F -", "", 0),
    "expired": ("expired.pem --key expired.key", "expired", "expired", "T F T",
                "expired unencrypted_key", 1),
    "not yet valid": ("future.pem --key future.key", "future", "future", "T F T",
                      "not_yet_valid unencrypted_key", 1),
    "no clientAuth": ("noeku.pem --key noeku.key", "noeku", "noeku", "T F T",
                      "no_client_auth_eku unencrypted_key", 0),
    "rsa-1024": ("weak.pem --key weak.key", "weak", "weak", "T F T", "weak_key unencrypted_key", 0),
    "sha-1": ("sha1.pem --key p256.key", "sha1", "sha1", "T F T",
              "weak_signature unencrypted_key", 0),
    "mismatch": ("rsa.pem --key psd2.key", "rsa", "rsa", "T F F",
                 "key_mismatch unencrypted_key", 1),
    "mojibake pfx": ("mojibake.pfx", "", "", "F F -", "corrupt", 1),
    "psd2": ("psd2.pem --key psd2.key", "psd2", "psd2", "T F T", "unencrypted_key", 0),
    "traditional camellia": (f"rsa.pem --key rsa_cam.key {PW}", "rsa", "rsa", "T T -",
                             "unsupported_key_encryption", 1),
    "pkcs8 camellia": (f"rsa.pem --key rsa_p8_cam.key {PW}", "rsa", "rsa", "T T -",
                       "unsupported_key_encryption", 1),
    "pkcs8 v1 3des": (f"rsa.pem --key rsa_v1.key {PW}", "rsa", "rsa", "T T T", "", 0),
    "pkcs8 sha512 prf": (f"rsa.pem --key rsa_sha512.key {PW}", "rsa", "rsa", "T T T", "", 0),
    "pkcs1 der": ("rsa.pem --key rsa_pkcs1.der", "rsa", "rsa", "T F T", "unencrypted_key", 0),
    "crlf passphrase file": ("modern.p12 --key-passphrase-file crlf_pass.txt", "rsa", FULL,
                             "T T T", "", 0),
    "utf-8 pkcs12 password": ("utf8.p12 --key-passphrase-file utf8_pass.txt", "rsa", "rsa",
                              "T T T", "", 0),
    "pkcs12 no mac": (f"nomac.p12 {PW}", "rsa", "rsa", "T T T", "", 0),
    "pkcs12 sha512 mac aes-128": (f"odd.p12 {PW}", "rsa", "rsa", "T T T", "", 0),
    "pkcs12 certificates only": (f"certs_only.p12 {PW}", "rsa", FULL, "F - -", "", 0),
}
# fmt: on
_FLAG = {"T": True, "F": False, "-": None}


@pytest.mark.parametrize("case", list(CASES))
def test_inspect_matches_openssl(case: str, made: Path, inspect_json: Any) -> None:
    args, leaf, chain, flags, codes, exit_code = CASES[case]
    has_key, encrypted, matches = (_FLAG[f] for f in flags.split())
    code, got = inspect_json(*args.split())
    assert {f["code"] for f in got["findings"]} == set(codes.split())
    assert code == exit_code
    assert got["has_private_key"] is has_key
    assert got["key_matches"] is matches
    if encrypted is not None:
        assert got["encrypted_key"] is encrypted
    if leaf:
        assert_like_openssl(made, got, f"{leaf}.pem", [f"{c}.pem" for c in chain.split()])
    else:
        assert got["subject"] is None and got["chain"] == []


def test_key_pairing_agrees_with_openssl_pkey(made: Path) -> None:
    assert pubkey_matches(made, "rsa.pem", "rsa_trad_aes.key", "-passin", "file:pass.txt")
    assert pubkey_matches(made, "ed448.pem", "ed448.key")
    assert not pubkey_matches(made, "rsa.pem", "psd2.key")


def test_eddsa_key_sizes_are_openssl_s(inspect_json: Any) -> None:
    # regression: Ed25519/Ed448 certificates reported key_size null
    assert inspect_json("ed25519.pem")[1]["key_size"] == 256
    assert inspect_json("ed448.pem")[1]["key_size"] == 456


def test_email_and_organization_identifier_by_name(inspect_json: Any) -> None:
    # regression: emailAddress came out as the dotted OID 1.2.840.113549.1.9.1
    subject = inspect_json("rsa.pem")[1]["subject"]
    assert "emailAddress=ops@qa.example" in subject and "1.2.840.113549" not in subject
    assert "O=Société QA\\, SA" in subject
    psd2 = inspect_json("psd2.pem")[1]
    assert "organizationIdentifier=PSDDE-BAFIN-123456" in psd2["subject"]
    assert psd2["organization_identifier"] == "PSDDE-BAFIN-123456"
    assert psd2["psd2"] == {
        "qc_compliance": True,
        "qc_types": ["eseal"],
        "roles": ["PSP_PI", "PSP_AI"],
        "nca_name": "BaFin",
        "nca_id": "DE-BAFIN",
    }


def test_expiry_numbers(inspect_json: Any) -> None:
    expired = inspect_json("expired.pem")[1]
    assert (expired["status"], expired["days_remaining"]) == ("expired", -48)
    assert "expired on 2026-04-15" in expired["findings"][0]["message"]
    assert inspect_json("p384.pem")[1]["status"] == "urgent"
    assert inspect_json("p256.pem")[1]["status"] == "warning"
    assert inspect_json("future.pem")[1]["status"] == "not_yet_valid"


def test_base64_pfx_without_armour_is_read(inspect_json: Any) -> None:
    code, got = inspect_json("pasted.txt", *PW.split())
    assert (code, got["format"]) == (0, "pkcs12")
    assert got["has_private_key"] and got["key_matches"] is True
    code, got = inspect_json("pasted.txt")
    assert code == 1 and [f["code"] for f in got["findings"]] == ["passphrase_required"]


def test_certificate_without_key_is_not_called_ok_for_mtls(
    made: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # regression: the human view ended "OK for mTLS" for a certificate with no private key
    with clock.frozen(NOW):
        assert main(["inspect", str(made / "full.pem")]) == 0
        alone = capsys.readouterr().out
        assert main(["inspect", str(made / "full.pem"), "--key", str(made / "rsa.key")]) == 0
        paired = capsys.readouterr().out
    assert "OK for mTLS" not in alone and "needs its private key" in alone
    assert paired.rstrip().endswith("OK for mTLS")


def test_negative_serial_as_openssl_prints_it_without_a_warning(made: Path) -> None:
    # regression: cryptography's deprecation warning (with a source path) reached the terminal
    done = subprocess.run(
        [sys.executable, "-m", "knoxtui", "inspect", "--json", str(made / "negative.pem")],
        capture_output=True,
        timeout=60,
    )
    assert done.stderr == b""
    assert (
        json.loads(done.stdout)["serial"] == openssl_facts(made, "negative.pem")["serial"] == "-05"
    )


KEYS_ALONE = [("rsa_trad.key", "rsa"), ("p521.key", "ec"), ("ed448.key", "ed448")]


@pytest.mark.parametrize(("key", "kind"), KEYS_ALONE)
def test_key_alone_has_openssl_s_type_and_size(
    key: str, kind: str, made: Path, inspect_json: Any
) -> None:
    # regression: a key without its certificate gave key_type and key_size null
    code, got = inspect_json(key)
    bits = re.search(r"(\d+) bit", openssl(made, "pkey", "-in", key, "-noout", "-text"))
    assert code == 1 and [f["code"] for f in got["findings"]] == [
        "no_certificate",
        "unencrypted_key",
    ]
    assert (got["key_type"], got["key_size"]) == (kind, int(bits.group(1)) if bits else 456)
