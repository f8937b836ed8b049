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
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from knoxtui.pki import certificate, der, keystore, pbe, pem, pfx
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

# PEM blocks that are not certificates or keys: what each is, for the sentence saying so.
_PEM_NOTES = {
    "CERTIFICATE REQUEST": "csr",
    "NEW CERTIFICATE REQUEST": "csr",
    "PUBLIC KEY": "public_key",
    "RSA PUBLIC KEY": "public_key",
    "OPENSSH PRIVATE KEY": "openssh",
    "X509 CRL": "crl",
    "CRL": "crl",
    "DH PARAMETERS": "parameters",
    "X9.42 DH PARAMETERS": "parameters",
    "DSA PARAMETERS": "parameters",
    "EC PARAMETERS": "parameters",
    "ATTRIBUTE CERTIFICATE": "attribute_certificate",
    "SSH2 PUBLIC KEY": "openssh_public_key",
}
_OPENSSH_LINE = re.compile(
    rb"^\s*(?:[a-z0-9@.-]+\s+)?((?:ssh|ecdsa|sk)-[a-z0-9@.-]+)\s+AAAA[A-Za-z0-9+/=]+", re.M
)
_PKCS7_PREFIX = "1.2.840.113549.1.7."
_CMS_PREFIX = "1.2.840.113549.1.9.16.1."

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
    crls: int = 0  # certificate revocation lists seen (next to certificates: mentioned)
    key_aliases: list[str] = field(default_factory=list)  # a Java keystore's private-key entries


def read(
    data: bytes,
    passphrase: str | bytes | None,
    *,
    what: str = "file",
    alias: str | None = None,
    entry_passphrase: str | bytes | None = None,
) -> Material:
    """Read one input. `what` names it in messages ("file", "key file"); `alias` and
    `entry_passphrase` choose and open a Java keystore's private-key entry."""
    found = Material()
    if keystore.is_keystore(data):
        keystore.read_keystore(
            data, passphrase, found, what, alias=alias, entry_passphrase=entry_passphrase
        )
        return found
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
    elif (ssh := _OPENSSH_LINE.search(text[:4096])) is not None:
        kind = ssh.group(1)
        found.format = "openssh"
        found.notes.add("openssh_certificate" if b"-cert-v01@" in kind else "openssh_public_key")
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
            ".p12/.pfx, PKCS#7 .p7b, Java keystore .jks/.jceks).",
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
        elif label in pem.CMS_LABELS:
            try:
                _read_pkcs7(block.der, found, what)
            except ValueError as exc:
                _corrupt_certificate(found, what, f"the CMS block: {exc}")
        elif label in _PEM_NOTES:
            found.notes.add(_PEM_NOTES[label])
            if label in ("X509 CRL", "CRL"):
                found.crls += 1
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


_SIGNED_DATA = "1.2.840.113549.1.7.2"
_ENVELOPED = {
    "1.2.840.113549.1.7.3",  # envelopedData
    "1.2.840.113549.1.7.4",  # signedAndEnvelopedData
    "1.2.840.113549.1.7.6",  # encryptedData
    "1.2.840.113549.1.9.16.1.23",  # authEnvelopedData
}


def _read_pkcs7(data: bytes, found: Material, what: str) -> None:
    """A PKCS#7 / CMS ContentInfo (DER or BER): the certificates of a SignedData, walked here so
    BER bundles, CRLs next to the certificates and other content types are seen."""
    try:
        info = der.children(der.read_tlv(der.to_der(data)).value)
        kind = der.decode_oid(info[0].value)
        if kind != _SIGNED_DATA:
            found.notes.add("cms_enveloped" if kind in _ENVELOPED else "cms")
            return
        signed = der.children(der.read_tlv(info[1].value).value)
    except (der.DerError, IndexError):
        found.findings.append(
            finding(
                "corrupt",
                f"The PKCS#7 (.p7b) certificate bundle in the {what} is damaged.",
                "Download the .p7b again, or export the chain as PEM.",
            )
        )
        return
    certificates: list[bytes] = []
    others = 0
    for item in signed[1:]:
        try:
            if item.tag == 0xA0:  # [0] IMPLICIT certificates
                for choice in der.children(item.value):
                    if choice.tag == der.SEQUENCE:
                        certificates.append(der.encode(choice.tag, choice.value))
                    else:
                        others += 1  # attribute certificates, other formats
            elif item.tag == 0xA1:  # [1] IMPLICIT crls
                found.crls += len(der.children(item.value))
        except der.DerError:
            _corrupt_certificate(found, what, "the PKCS#7 certificate list is damaged")
    for raw in certificates:
        try:
            found.certificates.append(certificate_from_der(raw))
        except ValueError:
            _corrupt_certificate(found, what, "a certificate in the PKCS#7 cannot be decoded")
    if not certificates:
        if found.crls:
            found.notes.add("crl_only_pkcs7")
        elif others:
            found.notes.add("attribute_certificate")
        else:
            found.notes.add("empty_pkcs7")


def _describe_all(certificates: list[x509.Certificate], found: Material, what: str) -> None:
    for cert in certificates:
        try:
            found.certificates.append(describe_certificate(cert))
        except ValueError:
            _corrupt_certificate(found, what, "a field of it cannot be decoded")


def _read_der(data: bytes, passphrase: str | bytes | None, found: Material, what: str) -> None:
    original = data
    try:
        try:
            top = der.read_tlv(data)
        except der.DerError:
            # BER (indefinite lengths, chunked strings), as NSS and Windows write PKCS#12 and
            # PKCS#7: read as OpenSSL reads it, re-encoded as DER.
            data = der.to_der(data)
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
    first_oid = _oid_or_none(parts[0]) if parts and tags[0] == der.OID else None
    if len(parts) >= 2 and tags[0] == der.INTEGER and parts[0].value == b"\x03":
        found.format = "pkcs12"
        found.ordered = False
        _read_pkcs12(original, passphrase, found, what)
    elif first_oid is not None and first_oid.startswith((_PKCS7_PREFIX, _CMS_PREFIX)):
        found.format = "pkcs7"
        found.ordered = False
        _read_pkcs7(data[: top.end], found, what)
    elif len(parts) == 3 and tags[:2] == [der.SEQUENCE, der.SEQUENCE] and tags[2] == 0x03:
        found.format = "der"
        kind = _signed_kind(parts[0])
        if kind == "certificate":
            _read_der_certificates(data, found, what)
        else:
            found.notes.add(kind)
            if kind == "crl":
                found.crls += 1
    elif tags == [der.SEQUENCE, 0x03]:
        found.format = "der"
        found.notes.add("public_key")  # SubjectPublicKeyInfo
    elif tags and all(t == der.INTEGER for t in tags) and len(tags) in (2, 3):
        found.format = "der"
        # two INTEGERs: PKCS#1 RSAPublicKey (n, e) or DH parameters (p, g); three: DSA (p, q, g)
        # or DH (p, g, length). A private key has more.
        small = int.from_bytes(parts[1].value, "big")
        found.notes.add(
            "public_key" if len(tags) == 2 and small > 2 and small % 2 else "parameters"
        )
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


def _oid_or_none(item: der.Tlv) -> str | None:
    try:
        return der.decode_oid(item.value)
    except der.DerError:
        return None


def _signed_kind(tbs: der.Tlv) -> str:
    """What a SEQUENCE {to-be-signed, algorithm, signature} is, from the shape of its first part:
    a certificate's TBS starts [0] version or serial, algorithm, issuer, validity; a CRL's
    [version,] algorithm, issuer, thisUpdate (a time); a CSR's version, subject, SPKI [, [0]]."""
    try:
        inner = der.children(tbs.value)
    except der.DerError:
        return "certificate"
    tags = [i.tag for i in inner]
    if tags[:1] == [der.CONTEXT_0]:
        return "certificate"
    rest = tags[1:] if tags[:1] == [der.INTEGER] else tags
    if len(rest) >= 3 and rest[:2] == [der.SEQUENCE, der.SEQUENCE] and rest[2] in (0x17, 0x18):
        return "crl"
    if (
        tags[:3] == [der.INTEGER, der.SEQUENCE, der.SEQUENCE]
        and len(tags) <= 4
        and (len(tags) == 3 or tags[3] == der.CONTEXT_0)
    ):
        return "csr"
    return "certificate"


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


def _excessive(found: Material, what: str, cost: str) -> None:
    found.key_encrypted = True
    found.findings.append(
        finding(
            "unsupported_key_encryption",
            f"The PKCS#12 {what} asks for {cost}, which would take far too long to check; "
            "the file is damaged or hostile.",
            "Export the .p12/.pfx again from its source.",
        )
    )


def _read_pkcs12(data: bytes, passphrase: str | bytes | None, found: Material, what: str) -> None:
    given = passphrase_bytes(passphrase)
    try:
        parsed = pfx.parse(data)
    except pfx.PfxError:
        found.findings.append(
            finding(
                "corrupt",
                f"The PKCS#12 (.p12/.pfx) {what} is damaged: its structure cannot be read.",
                "Copy or download the file again; binary files break when opened and saved in a "
                "text editor or pasted as text.",
            )
        )
        return
    # Every work factor is checked before any key derivation: the MAC's and each encrypted
    # safe's first, then (after decrypting a safe with its checked parameters) its key bags'.
    if (cost := pfx.outer_cost(parsed)) is not None:
        _excessive(found, what, cost)
        return
    # An "empty" PKCS#12 password is either absent or the empty string; tools differ, try both,
    # before the given one, so a file that needs no password is not reported as encrypted.
    attempts: list[bytes | None] = [None, b""] + ([given] if given else [])
    opened_by: list[tuple[bytes | None, pfx.Opened | None]] = []
    for password in attempts:
        try:
            opened: pfx.Opened | None = pfx.open_safes(parsed, password)
        except pfx.Excessive as exc:
            _excessive(found, what, str(exc))
            return
        except pbe.UnsupportedScheme:
            opened = None  # a scheme we do not decrypt ourselves (RC4): cryptography will
        except pbe.PbeError:
            continue
        except pfx.PfxError:
            _pkcs12_damaged(found, what)
            return
        opened_by.append((password, opened))
    for password, opened in opened_by:
        if parsed.ber:
            if opened is None or (
                parsed.mac is not None and pfx.mac_matches(parsed, password) is False
            ):
                continue
            if _read_opened(opened, password, found, what):
                return
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                loaded = pkcs12.load_pkcs12(data, password)
        except (ValueError, TypeError, UnsupportedAlgorithm):
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
    _pkcs12_failed(parsed, attempts, opened_by, given, found, what)


def _read_opened(opened: pfx.Opened, password: bytes | None, found: Material, what: str) -> bool:
    """A BER PKCS#12 opened here: its certificates and keys. False when a key bag does not
    open with `password` (then the next candidate is tried)."""
    encrypted = password is not None and password != b""
    keys: list[LoadedKey] = []
    for raw in opened.keys:
        try:
            keys.append(open_der(der.to_der(raw), None))
        except (PkiError, der.DerError):
            return False
    for raw in opened.shrouded:
        try:
            private = serialization.load_der_private_key(
                der.to_der(raw), password or b"", unsafe_skip_rsa_key_validation=True
            )
        except (ValueError, TypeError, UnsupportedAlgorithm, der.DerError):
            return False
        keys.append(LoadedKey(private, True, spki_bytes(private)))
    found.key_encrypted = encrypted
    for raw in opened.certificates:
        try:
            found.certificates.append(certificate_from_der(raw))
        except ValueError:
            _corrupt_certificate(found, what, "a certificate in it cannot be decoded")
    for loaded in keys:
        found.key_found += 1
        found.keys.append(LoadedKey(loaded.key, encrypted, loaded.spki))
    return True


def _pkcs12_damaged(found: Material, what: str) -> None:
    found.findings.append(
        finding(
            "corrupt",
            f"The PKCS#12 (.p12/.pfx) {what} opens, but what is inside is damaged.",
            "Export the .p12/.pfx again from its source.",
        )
    )


def _pkcs12_failed(
    parsed: pfx.Pfx,
    attempts: list[bytes | None],
    opened_by: list[tuple[bytes | None, pfx.Opened | None]],
    given: bytes | None,
    found: Material,
    what: str,
) -> None:
    """Why no password opened the file, decided from its structure, not from error texts."""
    if any(safe.kind == "enveloped" for safe in parsed.safes):
        found.findings.append(
            finding(
                "unsupported_key_encryption",
                f"The PKCS#12 {what} is encrypted to a certificate (public-key privacy mode), "
                "not with a password.",
                "Export it again with a password (openssl pkcs12 -export, or the exporting "
                "tool's password option).",
            )
        )
        return
    encrypted_safes = any(safe.kind == "encrypted" for safe in parsed.safes)
    # A password that decrypted every encrypted safe into well-formed contents is the right
    # one; without encrypted safes, the MAC says (when it is cheap enough to check here).
    password_fits = (encrypted_safes and any(o is not None for _, o in opened_by)) or any(
        pfx.mac_matches(parsed, p) is True for p in attempts
    )
    decryptable = pfx.known_schemes(parsed)
    if password_fits and not decryptable:
        found.findings.append(
            finding(
                "unsupported_key_encryption",
                f"The PKCS#12 {what} uses an encryption scheme this system cannot decrypt.",
                "Re-export it with modern encryption (openssl pkcs12 -export with AES, the "
                "OpenSSL 3 default), or as PEM.",
            )
        )
    elif password_fits:
        _pkcs12_damaged(found, what)
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
