"""Distinguished names and subject alternative names from text, and comparing names.

Users type subjects two ways: RFC 4514 (`CN=api.bank.example,O=Bank,C=GB`, last RDN first) and the
openssl style (`/C=GB/O=Bank/CN=api.bank.example`, first RDN first). Handshake reports and stored
metadata carry RFC 4514 strings from different emitters, so names are compared in a canonical form.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from cryptography import x509
from cryptography.x509.oid import NameOID, ObjectIdentifier

from knoxtui.errors import ValidationError

# Attribute names accepted in either syntax (case-insensitive), beyond cryptography's defaults.
ATTRIBUTE_OIDS: dict[str, ObjectIdentifier] = {
    "CN": NameOID.COMMON_NAME,
    "C": NameOID.COUNTRY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "S": NameOID.STATE_OR_PROVINCE_NAME,
    "L": NameOID.LOCALITY_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "STREET": NameOID.STREET_ADDRESS,
    "DC": NameOID.DOMAIN_COMPONENT,
    "UID": NameOID.USER_ID,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
    "E": NameOID.EMAIL_ADDRESS,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER,
    "ORGANIZATIONIDENTIFIER": NameOID.ORGANIZATION_IDENTIFIER,
    "GN": NameOID.GIVEN_NAME,
    "GIVENNAME": NameOID.GIVEN_NAME,
    "SN": NameOID.SURNAME,
    "SURNAME": NameOID.SURNAME,
    "TITLE": NameOID.TITLE,
    "POSTALCODE": NameOID.POSTAL_CODE,
    "BUSINESSCATEGORY": NameOID.BUSINESS_CATEGORY,
    "JURISDICTIONC": NameOID.JURISDICTION_COUNTRY_NAME,
    "JURISDICTIONCOUNTRYNAME": NameOID.JURISDICTION_COUNTRY_NAME,
    "JURISDICTIONST": NameOID.JURISDICTION_STATE_OR_PROVINCE_NAME,
    "JURISDICTIONL": NameOID.JURISDICTION_LOCALITY_NAME,
}

# Names used when writing RFC 4514 strings, so PSD2/eIDAS subjects read well (not dotted OIDs).
OID_NAMES: dict[ObjectIdentifier, str] = {
    NameOID.EMAIL_ADDRESS: "emailAddress",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
    NameOID.GIVEN_NAME: "GN",
    NameOID.SURNAME: "SN",
    NameOID.TITLE: "title",
    NameOID.POSTAL_CODE: "postalCode",
    NameOID.BUSINESS_CATEGORY: "businessCategory",
    NameOID.JURISDICTION_COUNTRY_NAME: "jurisdictionC",
    NameOID.JURISDICTION_STATE_OR_PROVINCE_NAME: "jurisdictionST",
    NameOID.JURISDICTION_LOCALITY_NAME: "jurisdictionL",
}

_ONELINE = re.compile(r"^[A-Za-z0-9.]+ = ")
_DOTTED = re.compile(r"\d+(\.\d+)+")
_SAN_KINDS = {"DNS", "IP", "EMAIL", "URI"}

_SUBJECT_HINT = (
    'Write it as "CN=api.example.com,O=Example Ltd,C=GB" '
    'or "/C=GB/O=Example Ltd/CN=api.example.com".'
)


def _oid_for(attribute: str) -> ObjectIdentifier:
    key = attribute.strip()
    if _DOTTED.fullmatch(key):
        return ObjectIdentifier(key)
    oid = ATTRIBUTE_OIDS.get(key.upper())
    if oid is None:
        known = ", ".join(sorted({"CN", "O", "OU", "C", "ST", "L", "emailAddress", "serialNumber"}))
        raise ValidationError(
            f"Unknown attribute '{key}' in the subject.",
            hint=f"Use one of {known}, organizationIdentifier, DC, UID or a dotted OID.",
            code="invalid_subject",
        )
    return oid


def _attribute(oid: ObjectIdentifier, value: str) -> x509.NameAttribute:
    try:
        return x509.NameAttribute(oid, value)
    except ValueError as exc:
        # cryptography names the rule (e.g. country names must be 2 characters); no secrets here.
        raise ValidationError(
            f"Invalid subject attribute value '{value}': {exc}.",
            hint=_SUBJECT_HINT,
            code="invalid_subject",
        ) from None


def _split_unescaped(text: str, separator: str) -> list[str]:
    """Split on `separator` where it is not escaped with a backslash (escapes are kept)."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def _unescape(value: str) -> str:
    """Backslash escapes: "\\," (any character) and "\\C3\\A9" (UTF-8 bytes as hex pairs)."""
    out = bytearray()
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            pair = value[index + 1 : index + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                out.append(int(pair, 16))
                index += 3
                continue
            out.extend(value[index + 1].encode("utf-8"))
            index += 2
            continue
        out.extend(char.encode("utf-8"))
        index += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(
            "The subject has escaped bytes that are not UTF-8 text.",
            hint=_SUBJECT_HINT,
            code="invalid_subject",
        ) from None


def _strip_value(text: str) -> str:
    """Spaces around a value are separators' padding, except an escaped trailing space ("\\ ")."""
    left = text.lstrip()
    right = left.rstrip()
    backslashes = len(right) - len(right.rstrip("\\"))
    if len(right) < len(left) and backslashes % 2 == 1:
        right += " "
    return right


def _parse_rdns(chunks: list[str], *, skip_empty: bool) -> x509.Name:
    rdns: list[x509.RelativeDistinguishedName] = []
    for chunk in chunks:
        if not chunk.strip():
            if skip_empty:
                continue
            raise ValidationError(
                "The subject has an empty part (two separators in a row).",
                hint=_SUBJECT_HINT,
                code="invalid_subject",
            )
        attributes = []
        for part in _split_unescaped(chunk, "+"):
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise ValidationError(
                    f"Subject part '{part.strip()}' is not ATTRIBUTE=value.",
                    hint=_SUBJECT_HINT,
                    code="invalid_subject",
                )
            text = _strip_value(value)
            if text.startswith("#"):
                raise ValidationError(
                    "Hex-encoded (#...) subject values are not supported.",
                    hint="Write the value as text.",
                    code="invalid_subject",
                )
            attributes.append(_attribute(_oid_for(key), _unescape(text)))
        rdns.append(x509.RelativeDistinguishedName(attributes))
    return x509.Name(rdns)


def parse_name(text: str) -> x509.Name:
    """A distinguished name from RFC 4514 text ("CN=x,O=y,C=GB", most specific first) or openssl
    text ("/C=GB/O=y/CN=x" or "C = GB, O = y, CN = x", in order). ValidationError when bad."""
    stripped = _strip_value(text)
    if not stripped:
        raise ValidationError("The subject is empty.", hint=_SUBJECT_HINT, code="invalid_subject")
    if stripped.startswith("/"):
        name = _parse_rdns(_split_unescaped(stripped[1:], "/"), skip_empty=True)
    elif _ONELINE.search(stripped):
        # `openssl x509 -subject` prints "C = GB, O = y, CN = x": first RDN first, unlike RFC 4514.
        name = _parse_rdns(_split_unescaped(stripped, ","), skip_empty=False)
    else:
        # RFC 4514 writes the last RDN first; certificates store them first to last.
        name = _parse_rdns(list(reversed(_split_unescaped(stripped, ","))), skip_empty=False)
    if not list(name):
        raise ValidationError(
            "The subject has no attributes.", hint=_SUBJECT_HINT, code="invalid_subject"
        )
    return name


def format_name(name: x509.Name) -> str:
    """RFC 4514 text, with readable names for PSD2/eIDAS attributes."""
    return name.rfc4514_string(OID_NAMES)


def parse_san(values: Iterable[str]) -> list[x509.GeneralName]:
    """SAN entries from "DNS:x", "IP:1.2.3.4", "email:a@b", "URI:https://..", or a bare host/IP."""
    names: list[x509.GeneralName] = []
    seen: set[str] = set()
    for raw in values:
        for item in raw.split(","):
            entry = item.strip()
            if not entry:
                continue
            kind, _, value = entry.partition(":")
            if value and kind.upper() in _SAN_KINDS:
                kind = kind.upper()
            else:
                kind, value = "", entry
            value = value.strip()
            if not kind:
                try:
                    ipaddress.ip_address(value)
                    kind = "IP"
                except ValueError:
                    kind = "EMAIL" if "@" in value else "DNS"
            general = _general_name(kind, value)
            key = f"{kind}:{value.lower()}"
            if key not in seen:
                seen.add(key)
                names.append(general)
    return names


def _general_name(kind: str, value: str) -> x509.GeneralName:
    try:
        if kind == "IP":
            return x509.IPAddress(ipaddress.ip_address(value))
        if kind == "EMAIL":
            return x509.RFC822Name(value)
        if kind == "URI":
            return x509.UniformResourceIdentifier(value)
        if not re.fullmatch(r"(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?", value):
            raise ValueError("not a host name")
        return x509.DNSName(value)
    except ValueError:
        raise ValidationError(
            f"'{kind}:{value}' is not a valid subject alternative name.",
            hint="Use DNS:host.example, IP:192.0.2.1, email:ops@example.com or URI:https://...",
            code="invalid_san",
        ) from None


def san_strings(names: Iterable[x509.GeneralName]) -> tuple[str, ...]:
    """SAN entries as the "DNS:x" strings used across knoxtui (CertificateInfo.san)."""
    out: list[str] = []
    for general in names:
        if isinstance(general, x509.DNSName):
            out.append(f"DNS:{general.value}")
        elif isinstance(general, x509.IPAddress):
            out.append(f"IP:{general.value}")
        elif isinstance(general, x509.RFC822Name):
            out.append(f"email:{general.value}")
        elif isinstance(general, x509.UniformResourceIdentifier):
            out.append(f"URI:{general.value}")
    return tuple(out)


def _canonical_value(value: str) -> str:
    return " ".join(value.split()).casefold()


def canonical_name(text: str) -> tuple[frozenset[tuple[str, str]], ...] | str:
    """A comparable form of an RFC 4514 / openssl name: attribute order inside an RDN, case and
    spacing do not matter; RDN order does. Text that does not parse compares by normalised text."""
    try:
        name = parse_name(text)
    except ValidationError:
        return _canonical_value(text)
    return tuple(
        frozenset((a.oid.dotted_string, _canonical_value(str(a.value))) for a in rdn)
        for rdn in name.rdns
    )


def names_equal(left: str, right: str) -> bool:
    return canonical_name(left) == canonical_name(right)
