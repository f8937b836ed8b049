"""Format sniffing: turn the bytes of one file into certificates and keys, whatever the file is.

Reads PEM (with any text around the blocks), DER certificates (also several concatenated), DER
keys, PKCS#12 (modern and legacy; password, empty password or none), PKCS#7 (PEM or DER), and
base64 text of any of these. Problems become findings; nothing here raises for bad input.
"""

from __future__ import annotations

import binascii
import re
import warnings
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from knoxtui.pki import certificate, der, pem
from knoxtui.pki.certificate import CertificateInfo, certificate_from_der, describe_certificate
from knoxtui.pki.finding import Finding, PkiError, finding
from knoxtui.pki.key import LoadedKey, open_block, open_der, passphrase_bytes, spki_bytes

_BASE64_TEXT = re.compile(rb"^[A-Za-z0-9+/=\s]+$")
# What a binary file looks like after a round trip through a text editor or clipboard: bytes
# >= 0x80 turned into U+FFFD, or into their Latin-1 / Windows-1252 UTF-8 spellings.
_MANGLED_PREFIXES = (
    b"0\xef\xbf\xbd",
    b"0\xc2\x82",
    b"0\xc2\x80",
    b"0\xc2\x81",
    b"0\xc2\x83",
    b"0\xe2\x80\x9a",
    b"0\xe2\x80\x9e",
    b"0\xc6\x92",
)

PFX_AS_TEXT_HINT = (
    "Import the original .pfx/.p12 file itself (knoxtui reads PKCS#12 directly), or convert it "
    "first: openssl pkcs12 -in file.pfx -out file.pem -nodes"
)


@dataclass
class Material:
    """What one file holds. `ordered` says whether certificate order in the file means anything
    (PEM and concatenated DER do; a PKCS#7 SET or PKCS#12 bag list does not)."""

    format: str = "unknown"
    certificates: list[CertificateInfo] = field(default_factory=list)
    keys: list[LoadedKey] = field(default_factory=list, repr=False)
    key_found: int = 0
    key_encrypted: bool = False
    key_errors: list[PkiError] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    ordered: bool = True
    leaf: CertificateInfo | None = None
    notes: set[str] = field(default_factory=set)


def read(data: bytes, passphrase: str | bytes | None, *, what: str = "file") -> Material:
    """Read one input. `what` names it in messages ("file", "key file")."""
    found = Material()
    if not data.strip():
        found.findings.append(
            finding(
                "unsupported_format",
                f"The {what} is empty.",
                "Give the certificate file (PEM, DER, .p12/.pfx or .p7b).",
            )
        )
        return found
    text = pem.normalise_text(data)
    if pem.looks_like_pem(text):
        _read_pem(text, passphrase, found, what)
    elif _looks_mangled(data):
        found.format = "pkcs12"
        found.findings.append(
            finding(
                "corrupt",
                f"The {what} looks like a binary .pfx/.p12 (or DER) file that was pasted or saved "
                "as text, which destroys it.",
                PFX_AS_TEXT_HINT,
            )
        )
    elif data[:1] == b"\x30" and not _is_text(data):
        _read_der(data, passphrase, found, what)
    elif _BASE64_TEXT.match(data.strip()) and len(data.strip()) >= 32:
        decoded = _base64(data)
        if decoded is not None and decoded[:1] == b"\x30":
            _read_der(decoded, passphrase, found, what)
        else:
            _unsupported(found, what)
    else:
        _unsupported(found, what)
    return found


def _unsupported(found: Material, what: str) -> None:
    found.findings.append(
        finding(
            "unsupported_format",
            f"The {what} is not a certificate or key format knoxtui knows (PEM, DER, PKCS#12 "
            ".p12/.pfx, PKCS#7 .p7b).",
            "Export the certificate from its source as PEM or .p12/.pfx; check the right file "
            "was chosen.",
        )
    )


def _is_text(data: bytes) -> bool:
    """Printable text (a '0' starts many a text file; DER has control bytes early on)."""
    head = data[:256]
    return head.isascii() and all(32 <= b < 127 or b in b"\t\r\n" for b in head)


def _looks_mangled(data: bytes) -> bool:
    return data.startswith(_MANGLED_PREFIXES) or data[:64].count(b"\xef\xbf\xbd") >= 2


def _base64(data: bytes) -> bytes | None:
    try:
        return binascii.a2b_base64(re.sub(rb"\s+", b"", data), strict_mode=True)
    except (binascii.Error, ValueError):
        return None


def _corrupt_certificate(found: Material, what: str, where: str) -> None:
    found.findings.append(
        finding(
            "corrupt",
            f"A certificate in the {what} is damaged ({where}).",
            "Copy or download the certificate again from its source; do not edit it by hand.",
        )
    )


def _read_pem(text: bytes, passphrase: str | bytes | None, found: Material, what: str) -> None:
    found.format = "pem"
    blocks, broken = pem.find_blocks(text)
    pkcs7_only = True
    for block in blocks:
        label = block.label
        if label in pem.CERTIFICATE_LABELS:
            pkcs7_only = False
            _read_pem_certificate(block, found, what)
        elif label in pem.KEY_LABELS:
            pkcs7_only = False
            found.key_found += 1
            found.key_encrypted = found.key_encrypted or block.encrypted
            try:
                found.keys.append(open_block(block, passphrase))
            except PkiError as exc:
                found.key_errors.append(exc)
        elif label in pem.PKCS7_LABELS:
            try:
                _read_pkcs7(block.der, found, what)
            except ValueError as exc:
                _corrupt_certificate(found, what, f"the PKCS#7 block: {exc}")
        elif label in ("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"):
            found.notes.add("csr")
        elif label in ("PUBLIC KEY", "RSA PUBLIC KEY"):
            found.notes.add("public_key")
        elif label == "OPENSSH PRIVATE KEY":
            found.notes.add("openssh")
    if blocks and pkcs7_only and any(b.label in pem.PKCS7_LABELS for b in blocks):
        found.format = "pkcs7"
        found.ordered = False
    for damaged in broken:
        kind = "private key" if damaged.label in pem.KEY_LABELS else f"'{damaged.label}' block"
        found.findings.append(
            finding(
                "corrupt",
                f"The {kind} in the {what} is damaged: {damaged.reason}.",
                "Copy it again from the original file, including the BEGIN and END lines.",
            )
        )
        if damaged.label in pem.KEY_LABELS:
            found.key_found += 1


def _read_pem_certificate(block: pem.PemBlock, found: Material, what: str) -> None:
    # Cached by the block's text, so re-validating the same input skips even base64 decoding.
    cache_key = b"pem:" + block.digest
    info = certificate.cached(cache_key)
    if info is None:
        try:
            payload = block.der
        except ValueError as exc:
            _corrupt_certificate(found, what, str(exc))
            return
        if block.label == "TRUSTED CERTIFICATE":
            # OpenSSL's trusted form appends trust settings after the certificate.
            length = der.outer_length(payload)
            payload = payload[:length] if length else payload
        try:
            info = certificate.remember(cache_key, certificate_from_der(payload))
        except ValueError:
            _corrupt_certificate(found, what, "its content is not a valid X.509 structure")
            return
    found.certificates.append(info)


def _read_pkcs7(data: bytes, found: Material, what: str) -> None:
    try:
        with warnings.catch_warnings():
            # openssl crl2pkcs7 writes the certificate SET unsorted (BER, not DER); that is fine.
            warnings.simplefilter("ignore", UserWarning)
            certificates = pkcs7.load_der_pkcs7_certificates(data)
    except (ValueError, UnsupportedAlgorithm):
        found.findings.append(
            finding(
                "corrupt",
                f"The PKCS#7 (.p7b) certificate bundle in the {what} is damaged or holds no "
                "certificates.",
                "Download the .p7b again, or export the chain as PEM.",
            )
        )
        return
    _describe_all(certificates, found, what)


def _describe_all(certificates: list[x509.Certificate], found: Material, what: str) -> None:
    for cert in certificates:
        try:
            found.certificates.append(describe_certificate(cert))
        except ValueError:
            _corrupt_certificate(found, what, "a field of it cannot be decoded")


def _read_der(data: bytes, passphrase: str | bytes | None, found: Material, what: str) -> None:
    try:
        top = der.read_tlv(data)
        parts = der.children(top.value)
    except der.DerError:
        found.format = "der"
        found.findings.append(
            finding(
                "corrupt",
                f"The {what} is binary (DER, .p12/.pfx or .p7b) but cut short or damaged.",
                "Copy or download the file again; binary files break when opened and saved in a "
                "text editor or pasted as text.",
            )
        )
        return
    tags = [p.tag for p in parts]
    if len(parts) >= 2 and tags[0] == der.INTEGER and parts[0].value == b"\x03":
        found.format = "pkcs12"
        found.ordered = False
        _read_pkcs12(data[: top.end], passphrase, found, what)
    elif tags and tags[0] == der.OID and parts[0].value == der.OID_PKCS7_SIGNED_DATA:
        found.format = "pkcs7"
        found.ordered = False
        _read_pkcs7(data[: top.end], found, what)
    elif len(parts) == 3 and tags[:2] == [der.SEQUENCE, der.SEQUENCE] and tags[2] == 0x03:
        found.format = "der"
        _read_der_certificates(data, found, what)
    elif tags and (tags[0] == der.INTEGER or tags[:2] == [der.SEQUENCE, 0x04]):
        found.format = "der"
        found.key_found += 1
        found.key_encrypted = tags[0] == der.SEQUENCE
        try:
            loaded = open_der(data[: top.end], passphrase)
        except PkiError as exc:
            found.key_errors.append(exc)
        else:
            found.keys.append(loaded)
            found.key_encrypted = loaded.encrypted
    else:
        _unsupported(found, what)


def _read_der_certificates(data: bytes, found: Material, what: str) -> None:
    """One DER certificate, or several written one after another (`cat a.der b.der`)."""
    offset = 0
    while offset < len(data):
        if not data[offset:].strip(b"\x00 \t\r\n"):
            return
        try:
            end = der.read_tlv(data, offset).end
            found.certificates.append(certificate_from_der(data[offset:end]))
        except (der.DerError, ValueError):
            _corrupt_certificate(found, what, "the DER data is not a valid X.509 structure")
            return
        offset = end


def _read_pkcs12(data: bytes, passphrase: str | bytes | None, found: Material, what: str) -> None:
    given = passphrase_bytes(passphrase)
    if (cost := der.excessive_pkcs12(data)) is not None:
        found.key_encrypted = True
        found.findings.append(
            finding(
                "unsupported_key_encryption",
                f"The PKCS#12 {what} asks for {cost}, which would take far too long to check; "
                "the file is damaged or hostile.",
                "Export the .p12/.pfx again from its source.",
            )
        )
        return
    # An "empty" PKCS#12 password is either absent or the empty string; tools differ, try both,
    # before the given one, so a file that needs no password is not reported as encrypted.
    attempts: list[bytes | None] = [None, b""] + ([given] if given else [])
    last_error: Exception | None = None
    for password in attempts:
        try:
            loaded = pkcs12.load_pkcs12(data, password)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            last_error = exc
            continue
        encrypted = password is not None and password != b""
        found.key_encrypted = encrypted
        bags = [loaded.cert] if loaded.cert is not None else []
        _describe_all([c.certificate for c in bags + list(loaded.additional_certs)], found, what)
        if loaded.cert is not None and found.certificates:
            found.leaf = found.certificates[0]
        if loaded.key is not None:
            found.key_found += 1
            found.keys.append(LoadedKey(loaded.key, encrypted, spki_bytes(loaded.key)))
        return
    found.key_encrypted = True
    message = str(last_error).lower()
    if isinstance(last_error, UnsupportedAlgorithm) or "unsupported" in message:
        found.findings.append(
            finding(
                "unsupported_key_encryption",
                f"The PKCS#12 {what} uses an encryption scheme this system cannot decrypt.",
                "Re-export it with modern encryption (openssl pkcs12 -export with AES, the "
                "OpenSSL 3 default), or as PEM.",
            )
        )
    elif given is None:
        found.findings.append(
            finding(
                "passphrase_required",
                f"The PKCS#12 {what} is protected by a password and none was given.",
                "Give the password it was exported with (--key-passphrase-file F, or the "
                "passphrase field).",
            )
        )
    else:
        found.findings.append(
            finding(
                "wrong_passphrase",
                f"The password does not open the PKCS#12 {what} (or the file is damaged).",
                "Check the export password of the .p12/.pfx; watch for a trailing space or "
                "newline. If the password is surely right, download the file again.",
            )
        )
