"""One certificate, described: the fields a user checks before trusting it for mTLS."""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from knoxtui.pki import der
from knoxtui.pki.expiry import (
    DEFAULT_THRESHOLDS,
    ExpiryStatus,
    ExpiryThresholds,
    days_remaining,
    expiry_status,
)
from knoxtui.pki.names import OID_NAMES
from knoxtui.safetext import visible

# ETSI EN 319 412-5 / TS 119 495 object identifiers.
OID_QC_STATEMENTS = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.3")
QC_COMPLIANCE = "0.4.0.1862.1.1"
QC_TYPE = "0.4.0.1862.1.6"
QC_TYPE_NAMES = {
    "0.4.0.1862.1.6.1": "esign",
    "0.4.0.1862.1.6.2": "eseal",
    "0.4.0.1862.1.6.3": "web",
}
PSD2_STATEMENT = "0.4.0.19495.2"
PSD2_ROLES = {
    "0.4.0.19495.1.1": "PSP_AS",
    "0.4.0.19495.1.2": "PSP_PI",
    "0.4.0.19495.1.3": "PSP_AI",
    "0.4.0.19495.1.4": "PSP_IC",
}

# Names as openssl and RFC 5280 spell them; others appear as dotted OIDs.
EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
    ExtendedKeyUsageOID.SMARTCARD_LOGON: "msSmartcardLogin",
    ExtendedKeyUsageOID.IPSEC_IKE: "ipsecIKE",
}
KEY_USAGE_FLAGS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
)
KEY_USAGE_NAMES = {
    "digital_signature": "digitalSignature",
    "content_commitment": "nonRepudiation",
    "key_encipherment": "keyEncipherment",
    "data_encipherment": "dataEncipherment",
    "key_agreement": "keyAgreement",
    "key_cert_sign": "keyCertSign",
    "crl_sign": "cRLSign",
}
# Non-positive serials (seen in the wild, shown as openssl shows them) and names with attributes
# of the wrong length (a 3-letter country) must not print a Python warning with a source path on
# the user's terminal: serials are read from the DER here (certificate_serial), names warn once
# cryptography parses them. What they say becomes a `non_strict_encoding` finding instead.
warnings.filterwarnings(
    "ignore", message="Parsed a serial number", category=CryptographyDeprecationWarning
)
warnings.filterwarnings("ignore", message="Attribute's length must be", category=UserWarning)

# rfc4514_string() prints 2.5.4.97, emailAddress, ... as dotted OIDs; these are openssl's names.
NAME_OVERRIDES = OID_NAMES


@dataclass(frozen=True)
class Psd2Info:
    """The eIDAS/PSD2 qcStatements of a qualified certificate (QWAC / QSealC)."""

    qc_compliance: bool
    qc_types: tuple[str, ...]
    roles: tuple[str, ...]
    nca_name: str | None
    nca_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "qc_compliance": self.qc_compliance,
            "qc_types": list(self.qc_types),
            "roles": list(self.roles),
            "nca_name": self.nca_name,
            "nca_id": self.nca_id,
        }


def iso_z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    subject_cn: str | None
    issuer: str
    issuer_cn: str | None
    serial: str
    valid_from: datetime
    valid_until: datetime
    fingerprint_sha256: str
    key_type: str
    key_size: int | None
    curve: str | None
    san: tuple[str, ...]
    key_usage: tuple[str, ...]
    extended_key_usage: tuple[str, ...]
    client_auth_eku: bool
    is_ca: bool
    self_signed: bool
    signature_algorithm: str
    organization_identifier: str | None
    psd2: Psd2Info | None
    pem: bytes = field(repr=False)
    certificate: x509.Certificate = field(repr=False, compare=False)
    subject_key_id: str | None = None  # hex, as in the SubjectKeyIdentifier extension
    authority_key_id: str | None = None  # hex key id of the issuer, from AuthorityKeyIdentifier
    spki: bytes = field(default=b"", repr=False, compare=False)  # SubjectPublicKeyInfo DER
    # parts that do not decode or break the rules, shown as they are (non_strict_encoding)
    problems: tuple[str, ...] = ()

    def issued(self, child: CertificateInfo) -> bool:
        """Whether `child` names this certificate as its issuer (names, and key ids if both
        are present)."""
        if child is self or child.issuer != self.subject:
            return False
        return (
            child.authority_key_id is None
            or self.subject_key_id is None
            or child.authority_key_id == self.subject_key_id
        )

    def days_remaining(self, now: datetime) -> int:
        return days_remaining(self.valid_until, now)

    def status(
        self, now: datetime, thresholds: ExpiryThresholds = DEFAULT_THRESHOLDS
    ) -> ExpiryStatus:
        return expiry_status(self.valid_from, self.valid_until, now, thresholds)

    @property
    def label(self) -> str:
        """How messages name this certificate: its CN, else its whole subject, with control
        characters made visible (messages are shown as text by the CLI and the console)."""
        name = self.subject_cn or self.subject or "(empty subject)"
        return f"'{visible(name)}'"

    def chain_entry(self) -> dict[str, Any]:
        """The `chain` entry shape of `inspect --json` (DESIGN.md §4)."""
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "valid_until": iso_z(self.valid_until),
            "fingerprint_sha256": self.fingerprint_sha256,
        }

    def to_dict(
        self, now: datetime, thresholds: ExpiryThresholds = DEFAULT_THRESHOLDS
    ) -> dict[str, Any]:
        out = self.chain_entry()
        out.update(
            {
                "subject_cn": self.subject_cn,
                "issuer_cn": self.issuer_cn,
                "serial": self.serial,
                "valid_from": iso_z(self.valid_from),
                "days_remaining": self.days_remaining(now),
                "status": str(self.status(now, thresholds)),
                "key_type": self.key_type,
                "key_size": self.key_size,
                "curve": self.curve,
                "san": list(self.san),
                "key_usage": list(self.key_usage),
                "extended_key_usage": list(self.extended_key_usage),
                "client_auth_eku": self.client_auth_eku,
                "is_ca": self.is_ca,
                "self_signed": self.self_signed,
                "signature_algorithm": self.signature_algorithm,
                "organization_identifier": self.organization_identifier,
                "psd2": self.psd2.to_dict() if self.psd2 else None,
                "pem": self.pem.decode("ascii"),
            }
        )
        return out


def serial_hex(serial: int) -> str:
    """Uppercase hex in whole bytes, as `openssl x509 -serial` prints it."""
    digits = format(abs(serial), "X")
    if len(digits) % 2:
        digits = "0" + digits
    return ("-" if serial < 0 else "") + digits


def colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02X}" for b in digest)


def _common_name(name: x509.Name) -> str | None:
    try:
        values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        return None
    return str(values[0].value) if values else None


def _rfc4514(name: x509.Name) -> str:
    try:
        return name.rfc4514_string(NAME_OVERRIDES)
    except ValueError:
        return "(unreadable name)"


# the sizes openssl reports (`Public-Key: (256 bit)`): the encoded public key's length, RFC 8032
_ED25519_BITS = 256
_ED448_BITS = 456


def public_key_shape(key: Any) -> tuple[str, int | None, str | None]:
    """(key_type, size in bits, curve) of a public or private key."""
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "rsa", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return "ec", key.curve.key_size, key.curve.name
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "ed25519", _ED25519_BITS, None
    if isinstance(key, ed448.Ed448PublicKey | ed448.Ed448PrivateKey):
        return "ed448", _ED448_BITS, None
    if isinstance(key, dsa.DSAPublicKey | dsa.DSAPrivateKey):
        return "dsa", key.key_size, None
    return (
        type(key).__name__.lower().removesuffix("publickey").removesuffix("privatekey"),
        None,
        None,
    )


def _general_name(name: x509.GeneralName) -> str:
    if isinstance(name, x509.DNSName):
        return f"DNS:{name.value}"
    if isinstance(name, x509.IPAddress):
        return f"IP:{name.value}"
    if isinstance(name, x509.RFC822Name):
        return f"email:{name.value}"
    if isinstance(name, x509.UniformResourceIdentifier):
        return f"URI:{name.value}"
    if isinstance(name, x509.DirectoryName):
        return f"DirName:{_rfc4514(name.value)}"
    if isinstance(name, x509.RegisteredID):
        return f"RID:{name.value.dotted_string}"
    if isinstance(name, x509.OtherName):
        return f"othername:{name.type_id.dotted_string}"
    return str(name)


def _extensions(cert: x509.Certificate) -> dict[x509.ObjectIdentifier, Any]:
    """Extension values by OID, read in one pass; none when they cannot be parsed (we describe,
    not judge, here: a broken extension list leaves those fields empty)."""
    try:
        return {ext.oid: ext.value for ext in cert.extensions}
    except ValueError:
        return {}


def _key_usage(extensions: dict[x509.ObjectIdentifier, Any]) -> tuple[str, ...]:
    usage = extensions.get(ExtensionOID.KEY_USAGE)
    if usage is None:
        return ()
    names = [KEY_USAGE_NAMES[flag] for flag in KEY_USAGE_FLAGS if getattr(usage, flag)]
    if usage.key_agreement:
        if usage.encipher_only:
            names.append("encipherOnly")
        if usage.decipher_only:
            names.append("decipherOnly")
    return tuple(names)


def parse_qc_statements(raw: bytes) -> Psd2Info | None:
    """Decode a qcStatements extension value; None when it is not well-formed."""
    compliance = False
    qc_types: list[str] = []
    roles: list[str] = []
    nca_name: str | None = None
    nca_id: str | None = None
    try:
        top = der.read_tlv(raw)
        if top.tag != der.SEQUENCE:
            return None
        for statement in der.children(top.value):
            parts = der.children(statement.value)
            if not parts or parts[0].tag != der.OID:
                continue
            statement_id = der.decode_oid(parts[0].value)
            info = parts[1] if len(parts) > 1 else None
            if statement_id == QC_COMPLIANCE:
                compliance = True
            elif statement_id == QC_TYPE and info is not None:
                for item in der.children(info.value):
                    oid = der.decode_oid(item.value)
                    qc_types.append(QC_TYPE_NAMES.get(oid, oid))
            elif statement_id == PSD2_STATEMENT and info is not None:
                fields = der.children(info.value)
                if fields:
                    for role in der.children(fields[0].value):
                        pieces = der.children(role.value)
                        if pieces and pieces[0].tag == der.OID:
                            oid = der.decode_oid(pieces[0].value)
                            name = der.decode_string(pieces[1]) if len(pieces) > 1 else oid
                            roles.append(PSD2_ROLES.get(oid, name))
                if len(fields) > 1:
                    nca_name = der.decode_string(fields[1])
                if len(fields) > 2:
                    nca_id = der.decode_string(fields[2])
    except der.DerError:
        return None
    return Psd2Info(compliance, tuple(qc_types), tuple(roles), nca_name, nca_id)


_CACHE_SIZE = 256
_cache: OrderedDict[bytes, CertificateInfo] = OrderedDict()
_cache_lock = threading.Lock()


def cached(digest: bytes) -> CertificateInfo | None:
    with _cache_lock:
        hit = _cache.get(digest)
        if hit is not None:
            _cache.move_to_end(digest)
        return hit


def remember(digest: bytes, info: CertificateInfo) -> CertificateInfo:
    with _cache_lock:
        _cache[digest] = info
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return info


def certificate_from_der(data: bytes) -> CertificateInfo:
    """Parse and describe a DER certificate. Descriptions are immutable and cached by the
    SHA-256 of the DER, so re-validating the same input does no parsing. Raises ValueError."""
    digest = hashlib.sha256(data).digest()
    hit = cached(digest)
    if hit is not None:
        return hit
    cert = x509.load_der_x509_certificate(data)
    return remember(digest, _describe(cert, data, digest))


def describe_certificate(cert: x509.Certificate) -> CertificateInfo:
    """Every field of DESIGN.md §4 for one certificate (cached by fingerprint)."""
    der_bytes = cert.public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der_bytes).digest()
    hit = cached(digest)
    if hit is not None:
        return hit
    return remember(digest, _describe(cert, der_bytes, digest))


def _key_identifiers(
    extensions: dict[x509.ObjectIdentifier, Any],
) -> tuple[str | None, str | None]:
    ski = extensions.get(ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    aki = extensions.get(ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    return (
        ski.digest.hex().upper() if ski is not None else None,
        aki.key_identifier.hex().upper() if aki is not None and aki.key_identifier else None,
    )


def _describe(cert: x509.Certificate, der_bytes: bytes, digest: bytes) -> CertificateInfo:
    spki = b""
    try:
        public_key = cert.public_key()
        key_type, key_size, curve = public_key_shape(public_key)
        spki = public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (ValueError, TypeError, NotImplementedError, UnsupportedAlgorithm):
        # cryptography refuses the key (an RSA exponent it rejects, an unknown curve); say what
        # it is from its structure, as openssl does
        raw_spki = der.certificate_spki(der_bytes)
        shape = der.spki_shape(raw_spki) if raw_spki else ("unknown", None, None)
        key_type, key_size, curve = shape
        spki = raw_spki or b""
    extensions = _extensions(cert)
    subject_key_id, authority_key_id = _key_identifiers(extensions)
    subject = _rfc4514(cert.subject)
    issuer = _rfc4514(cert.issuer)

    san_value = extensions.get(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    san = tuple(_general_name(n) for n in san_value) if san_value is not None else ()

    eku_value = extensions.get(ExtensionOID.EXTENDED_KEY_USAGE)
    eku = tuple(EKU_NAMES.get(oid, oid.dotted_string) for oid in eku_value) if eku_value else ()
    client_auth = eku_value is None or bool({"clientAuth", "anyExtendedKeyUsage"} & set(eku))

    constraints = extensions.get(ExtensionOID.BASIC_CONSTRAINTS)
    is_ca = bool(constraints and constraints.ca)

    org_ids = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    qc = extensions.get(OID_QC_STATEMENTS)
    psd2 = parse_qc_statements(qc.value) if isinstance(qc, x509.UnrecognizedExtension) else None

    try:
        signature = cert.signature_algorithm_oid._name
    except ValueError:
        signature = "unknown"
    problems: list[str] = []
    serial = der.certificate_serial(der_bytes)
    if serial is None:
        serial = cert.serial_number
    if serial <= 0:
        problems.append("serial number not positive (RFC 5280 forbids it; OpenSSL accepts it)")

    return CertificateInfo(
        subject=subject,
        subject_cn=_common_name(cert.subject),
        issuer=issuer,
        issuer_cn=_common_name(cert.issuer),
        serial=serial_hex(serial),
        valid_from=cert.not_valid_before_utc,
        valid_until=cert.not_valid_after_utc,
        fingerprint_sha256=colon_hex(digest),
        key_type=key_type,
        key_size=key_size,
        curve=curve,
        san=san,
        key_usage=_key_usage(extensions),
        extended_key_usage=eku,
        client_auth_eku=client_auth,
        is_ca=is_ca,
        self_signed=subject == issuer
        and (subject_key_id is None or authority_key_id in (None, subject_key_id)),
        signature_algorithm=signature,
        organization_identifier=str(org_ids[0].value) if org_ids else None,
        psd2=psd2,
        pem=cert.public_bytes(serialization.Encoding.PEM),
        certificate=cert,
        subject_key_id=subject_key_id,
        authority_key_id=authority_key_id,
        spki=spki,
        problems=tuple(problems),
    )
