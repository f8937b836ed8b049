"""One certificate, described: the fields a user checks before trusting it for mTLS."""

from __future__ import annotations

import base64
import hashlib
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
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
from knoxtui.pki.lazy import lazy
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


# Tag bytes of string types cryptography decodes only when a name is read (T61String,
# VideotexString, GraphicString, VisibleString, GeneralString, UniversalString, BMPString).
_LAZY_STRING_TAGS = frozenset(b"\x14\x15\x19\x1a\x1b\x1c\x1e")


_STRING_TAGS = frozenset(b"\x0c\x12\x13\x14\x15\x16\x19\x1a\x1b\x1c\x1e")


class CertificateInfo:
    """One certificate, described lazily: a field is computed (and kept) when first read, so a
    certificate seen for the first time costs little more than cryptography loading it; live
    validation reads the leaf's names, a chain's key ids, and rarely the rest.

    A part that does not decode (a name with bad string types, a duplicate or unreadable
    extension, a date Python cannot hold, non-strict DER OpenSSL accepts) is shown as far as it
    can be read and listed in `problems` (a `non_strict_encoding` warning), never an exception.
    `der` is the certificate as given: fingerprint and PEM are of those bytes."""

    __slots__ = ("__dict__", "_lenient", "certificate", "der", "digest")

    def __init__(
        self, certificate: x509.Certificate, der_bytes: bytes, digest: bytes, lenient: str = ""
    ) -> None:
        self.certificate = certificate
        self.der = der_bytes
        self.digest = digest  # SHA-256 of `der`
        self._lenient = lenient  # what was patched for cryptography to read it, if anything

    @lazy
    def fingerprint_sha256(self) -> str:
        return colon_hex(self.digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CertificateInfo) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return f"CertificateInfo({self.fingerprint_sha256[:23]}…)"

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        # pickled as its DER (the console validates in a child process): the fields computed so
        # far hold objects that do not pickle, and are cheap to compute again
        return certificate_from_der, (self.der,)

    # --- names -------------------------------------------------------------------------------

    @lazy
    def _names(self) -> tuple[x509.Name | None, x509.Name | None]:
        return _name_or_none(self.certificate, "subject"), _name_or_none(self.certificate, "issuer")

    @lazy
    def _head(self) -> tuple[int | None, bytes, bytes, bytes]:
        """(serial, subject DER, issuer DER, SPKI DER), read in one walk of the DER."""
        return der.certificate_head(self.der) or (None, b"", b"", b"")

    @property
    def _raw_names(self) -> tuple[bytes, bytes]:
        """(subject, issuer) as DER, for comparing names without decoding them."""
        return self._head[1], self._head[2]

    @lazy
    def _names_readable(self) -> bool:
        """Whether both names decode, parsing them only when their DER holds a byte that could
        be a string type cryptography decodes on access (T61String and kin): names are checked
        on every first sight, and parsing them costs more than loading the certificate."""
        subject, issuer = self._raw_names
        try:
            if _LAZY_STRING_TAGS.isdisjoint(
                der.name_string_tags(subject) | der.name_string_tags(issuer)
            ):
                return True
        except (der.DerError, IndexError):
            pass
        return None not in self._names

    @lazy
    def subject(self) -> str:
        name = self._names[0]
        return _rfc4514(name) if name is not None else "(unreadable name)"

    @lazy
    def issuer(self) -> str:
        name = self._names[1]
        return _rfc4514(name) if name is not None else "(unreadable name)"

    @lazy
    def subject_cn(self) -> str | None:
        return _common_name(self._names[0])

    @lazy
    def issuer_cn(self) -> str | None:
        return _common_name(self._names[1])

    @lazy
    def organization_identifier(self) -> str | None:
        name = self._names[0]
        if name is None:
            return None
        values = name.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
        return str(values[0].value) if values else None

    def _same_name(self, mine: int, other: CertificateInfo, theirs: int) -> bool:
        """Whether two names are equal: the same DER, or (PrintableString vs UTF8String of the
        same text, same length) the same RFC 4514 text."""
        left, right = self._raw_names[mine], other._raw_names[theirs]
        if left and left == right:
            return True
        if left and right:
            if len(left) != len(right):
                return False
            # the same text in another string type differs only in tag bytes; any other
            # difference (a value) settles it without decoding either name
            for a, b in zip(left, right, strict=True):
                if a != b:
                    if not (a in _STRING_TAGS and b in _STRING_TAGS):
                        return False
                    break
        mine_name, their_name = self._names[mine], other._names[theirs]
        if mine_name is not None and their_name is not None:
            return bool(mine_name == their_name)  # values compared, string types aside
        return (self.subject, self.issuer)[mine] == (other.subject, other.issuer)[theirs]

    # --- serial, dates, keys -------------------------------------------------------------------

    @lazy
    def serial(self) -> str:
        return serial_hex(self._serial)

    @lazy
    def _serial(self) -> int:
        value = self._head[0]
        return value if value is not None else self.certificate.serial_number

    @lazy
    def _validity(self) -> tuple[datetime, datetime, tuple[str, ...]]:
        problems: list[str] = []
        try:
            start = self.certificate.not_valid_before_utc
        except ValueError:
            start = datetime.min.replace(tzinfo=UTC)
            problems.append("its start date cannot be held (year 0000?); shown as 0001-01-01")
        try:
            end = self.certificate.not_valid_after_utc
        except ValueError:
            end = datetime.max.replace(tzinfo=UTC)
            problems.append("its end date cannot be held; shown as 9999-12-31")
        return start, end, tuple(problems)

    @property
    def valid_from(self) -> datetime:
        return self._validity[0]

    @property
    def valid_until(self) -> datetime:
        return self._validity[1]

    @lazy
    def _key(self) -> tuple[str, int | None, str | None, bytes]:
        try:
            public_key = self.certificate.public_key()
            key_type, key_size, curve = public_key_shape(public_key)
            spki = public_key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        except (ValueError, TypeError, NotImplementedError, UnsupportedAlgorithm):
            # cryptography refuses the key (an RSA exponent it rejects, an unknown curve); say
            # what it is from its structure, as openssl does
            raw_spki = der.certificate_spki(self.der)
            shape = der.spki_shape(raw_spki) if raw_spki else ("unknown", None, None)
            key_type, key_size, curve = shape
            spki = raw_spki or b""
        return key_type, key_size, curve, spki

    @property
    def key_type(self) -> str:
        return self._key[0]

    @property
    def key_size(self) -> int | None:
        return self._key[1]

    @property
    def curve(self) -> str | None:
        return self._key[2]

    @property
    def spki(self) -> bytes:
        """SubjectPublicKeyInfo DER, as cryptography writes it for a key (pairing compares)."""
        return self._key[3]

    @lazy
    def signature_algorithm(self) -> str:
        try:
            return str(self.certificate.signature_algorithm_oid._name)
        except ValueError:
            return "unknown"

    @lazy
    def pem(self) -> bytes:
        body = base64.encodebytes(self.der).replace(b"\n", b"")
        lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        return b"-----BEGIN CERTIFICATE-----\n" + lines + b"\n-----END CERTIFICATE-----\n"

    # --- extensions ----------------------------------------------------------------------------

    @lazy
    def _extensions(self) -> tuple[dict[x509.ObjectIdentifier, Any], tuple[str, ...]]:
        return _read_extensions(self.certificate, self.der)

    @lazy
    def san(self) -> tuple[str, ...]:
        value = self._extensions[0].get(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        if value is None:
            return ()
        if isinstance(value, tuple):  # read by hand: already text
            return value
        return tuple(_general_name(n) for n in value)

    @lazy
    def key_usage(self) -> tuple[str, ...]:
        return _key_usage(self._extensions[0])

    @lazy
    def extended_key_usage(self) -> tuple[str, ...]:
        value = self._extensions[0].get(ExtensionOID.EXTENDED_KEY_USAGE)
        return tuple(EKU_NAMES.get(oid, oid.dotted_string) for oid in value) if value else ()

    @lazy
    def client_auth_eku(self) -> bool:
        value = self._extensions[0].get(ExtensionOID.EXTENDED_KEY_USAGE)
        return value is None or bool(
            {"clientAuth", "anyExtendedKeyUsage"} & set(self.extended_key_usage)
        )

    @lazy
    def is_ca(self) -> bool:
        constraints = self._extensions[0].get(ExtensionOID.BASIC_CONSTRAINTS)
        return bool(constraints and constraints.ca)

    @lazy
    def subject_key_id(self) -> str | None:
        """Hex, as in the SubjectKeyIdentifier extension."""
        return _key_identifiers(self._extensions[0])[0]

    @lazy
    def authority_key_id(self) -> str | None:
        """Hex key id of the issuer, from AuthorityKeyIdentifier."""
        return _key_identifiers(self._extensions[0])[1]

    @lazy
    def psd2(self) -> Psd2Info | None:
        qc = self._extensions[0].get(OID_QC_STATEMENTS)
        return parse_qc_statements(qc.value) if isinstance(qc, x509.UnrecognizedExtension) else None

    @lazy
    def self_signed(self) -> bool:
        return self._same_name(0, self, 1) and (
            self.subject_key_id is None or self.authority_key_id in (None, self.subject_key_id)
        )

    @lazy
    def problems(self) -> tuple[str, ...]:
        """Parts that do not decode or break the rules, in words (non_strict_encoding)."""
        found: list[str] = []
        if self._lenient:
            found.append(f"it is not strict DER ({self._lenient})")
        if not self._names_readable:
            subject, issuer = self._names
            if subject is None:
                found.append("its subject is an unreadable name")
            if issuer is None:
                found.append("its issuer is an unreadable name")
        if self._serial <= 0:
            found.append("its serial number is not positive (RFC 5280 forbids it)")
        found.extend(self._validity[2])
        found.extend(self._extensions[1])
        return tuple(found)

    # --- judging -------------------------------------------------------------------------------

    def issued(self, child: CertificateInfo) -> bool:
        """Whether `child` names this certificate as its issuer (names, and key ids if both
        are present)."""
        if child is self or not child._same_name(1, self, 0):
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
                "problems": list(self.problems),
            }
        )
        return out


def _name_or_none(cert: x509.Certificate, which: str) -> x509.Name | None:
    try:
        name: x509.Name = getattr(cert, which)  # decodes every value: bad string types fail here
    except ValueError:
        return None
    return name


def serial_hex(serial: int) -> str:
    """Uppercase hex in whole bytes, as `openssl x509 -serial` prints it."""
    digits = format(abs(serial), "X")
    if len(digits) % 2:
        digits = "0" + digits
    return ("-" if serial < 0 else "") + digits


def colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02X}" for b in digest)


def _common_name(name: x509.Name | None) -> str | None:
    if name is None:
        return None
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


def _read_extensions(
    cert: x509.Certificate, der_bytes: bytes
) -> tuple[dict[x509.ObjectIdentifier, Any], tuple[str, ...]]:
    """Extension values by OID, and what could not be read. When cryptography refuses the list
    (a duplicate extension, an unusual SAN), the common ones are read here from the DER."""
    try:
        return {ext.oid: ext.value for ext in cert.extensions}, ()
    except x509.DuplicateExtension as exc:
        problem = f"it has a duplicate extension ({exc.oid.dotted_string}; the first one is used)"
    except Exception:  # cryptography raises several types (UnsupportedGeneralNameType, ...)
        problem = "an extension cannot be decoded (shown as far as it can be read)"
    values, unread = extensions_by_hand(der_bytes)
    problems = [problem] + [f"its extension {oid} cannot be read" for oid in unread]
    return values, tuple(problems)


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
    """Parse a DER certificate, tolerating what OpenSSL tolerates (non-strict DER is patched
    for cryptography and reported). Descriptions are cached by the SHA-256 of the DER, so
    re-validating the same input does no parsing. Raises ValueError when it is not one."""
    digest = hashlib.sha256(data).digest()
    hit = cached(digest)
    if hit is not None:
        return hit
    lenient = ""
    try:
        cert = x509.load_der_x509_certificate(data)
    except ValueError:
        patched, lenient = der.strict_certificate(data)
        if not lenient:
            raise
        cert = x509.load_der_x509_certificate(patched)
    return remember(digest, CertificateInfo(cert, data, digest, lenient))


def describe_certificate(cert: x509.Certificate) -> CertificateInfo:
    """Every field of DESIGN.md §4 for one certificate (cached by fingerprint)."""
    der_bytes = cert.public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der_bytes).digest()
    hit = cached(digest)
    if hit is not None:
        return hit
    return remember(digest, CertificateInfo(cert, der_bytes, digest))


def _key_identifiers(
    extensions: dict[x509.ObjectIdentifier, Any],
) -> tuple[str | None, str | None]:
    ski = extensions.get(ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    aki = extensions.get(ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    return (
        ski.digest.hex().upper() if ski is not None else None,
        aki.key_identifier.hex().upper() if aki is not None and aki.key_identifier else None,
    )


# --- extensions read by hand, when cryptography refuses the whole list ------------------------

_SAN_CHOICES = {
    0xA0: "othername",
    0x81: "email",
    0x82: "DNS",
    0xA3: "X400Name",
    0xA4: "DirName",
    0xA5: "EdiPartyName",
    0x86: "URI",
    0x87: "IP",
    0x88: "RID",
}


def extensions_by_hand(
    der_bytes: bytes,
) -> tuple[dict[x509.ObjectIdentifier, Any], list[str]]:
    """The extensions OpenSSL would show, read from the DER: basic constraints, key usage, EKU,
    key ids and SANs (every kind, as text); the first of duplicates. Unreadable ones by OID."""
    values: dict[x509.ObjectIdentifier, Any] = {}
    unread: list[str] = []
    for oid_text, value in der.certificate_extensions(der_bytes):
        oid = x509.ObjectIdentifier(oid_text)
        if oid in values:
            continue
        try:
            parsed = _extension_by_hand(oid, value)
        except (der.DerError, IndexError, ValueError):
            unread.append(oid_text)
            continue
        if parsed is not None:
            values[oid] = parsed
    return values, unread


def _extension_by_hand(oid: x509.ObjectIdentifier, value: bytes) -> Any:
    top = der.read_tlv(value)
    if oid == ExtensionOID.BASIC_CONSTRAINTS:
        parts = der.children(top.value)
        ca = bool(parts and parts[0].tag == 0x01 and parts[0].value != b"\x00")
        return x509.BasicConstraints(ca=ca, path_length=None)
    if oid == ExtensionOID.EXTENDED_KEY_USAGE:
        return x509.ExtendedKeyUsage(
            [x509.ObjectIdentifier(der.decode_oid(p.value)) for p in der.children(top.value)]
        )
    if oid == ExtensionOID.SUBJECT_KEY_IDENTIFIER:
        return x509.SubjectKeyIdentifier(top.value)
    if oid == ExtensionOID.AUTHORITY_KEY_IDENTIFIER:
        key_id = next((p.value for p in der.children(top.value) if p.tag == 0x80), None)
        return x509.AuthorityKeyIdentifier(key_id, None, None)
    if oid == ExtensionOID.KEY_USAGE:
        bits = top.value[1:] + b"\0\0"
        flags = [bool(bits[i // 8] & (0x80 >> (i % 8))) for i in range(9)]
        agreement = flags[4]
        return x509.KeyUsage(
            flags[0],
            flags[1],
            flags[2],
            flags[3],
            agreement,
            flags[5],
            flags[6],
            flags[7] if agreement else False,
            flags[8] if agreement else False,
        )
    if oid == ExtensionOID.SUBJECT_ALTERNATIVE_NAME:
        names = []
        for item in der.children(top.value):
            kind = _SAN_CHOICES.get(item.tag, f"[{item.tag & 0x1F}]")
            if kind in ("DNS", "email", "URI"):
                names.append(f"{kind}:{item.value.decode('utf-8', 'replace')}")
            elif kind == "IP":
                import ipaddress

                names.append(f"IP:{ipaddress.ip_address(item.value)}")
            else:
                names.append(f"{kind}:<unsupported>")
        return tuple(names)
    if oid == OID_QC_STATEMENTS:
        return x509.UnrecognizedExtension(oid, value)
    return None
