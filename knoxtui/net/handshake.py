"""What happened in the TLS handshake: the messages of our own connection (seen through the
context's message callback), decoded into a `HandshakeReport`."""

from __future__ import annotations

import contextlib
import functools
import threading
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

ALERTS = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    22: "record_overflow",
    40: "handshake_failure",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    109: "missing_extension",
    110: "unsupported_extension",
    112: "unrecognized_name",
    113: "bad_certificate_status_response",
    115: "unknown_psk_identity",
    116: "certificate_required",
    120: "no_application_protocol",
}

# OpenSSL's error-text spelling of each alert ("sslv3 alert bad certificate", "tlsv13 alert
# certificate required"), for when only the exception text is left.
ALERT_TEXTS = {name.replace("_", " "): name for name in ALERTS.values()}
ALERT_TEXTS["unknown ca"] = "unknown_ca"

_HANDSHAKE, _ALERT = 22, 21
_SERVER_HELLO, _CERTIFICATE, _CERTIFICATE_REQUEST = 2, 11, 13
_TLS13 = 0x0304
_CA_EXTENSION = 47


@dataclass(frozen=True)
class Alert:
    name: str
    code: int | None
    fatal: bool
    direction: str  # "received" (the server sent it) | "sent" (we did)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "code": self.code,
            "fatal": self.fatal,
            "direction": self.direction,
        }


class MessageRecorder:
    """Collects one connection's TLS messages; fed by the context's message callback."""

    def __init__(self) -> None:
        self.server_hello = False
        self.cert_requested = False
        self.acceptable_cas_der: list[bytes] = []
        self.client_cert_sent: bool | None = None
        self.alerts: list[Alert] = []
        self.version: int | None = None

    def feed(self, direction: str, version: int, content_type: int, data: bytes) -> None:
        if content_type == _ALERT and len(data) >= 2:
            self.alerts.append(
                Alert(
                    ALERTS.get(data[1], f"alert_{data[1]}"),
                    data[1],
                    data[0] == 2,
                    "received" if direction == "read" else "sent",
                )
            )
            return
        if content_type != _HANDSHAKE or not data:
            return
        kind = data[0]
        if direction == "read" and kind == _SERVER_HELLO:
            self.server_hello = True
        elif direction == "read" and kind == _CERTIFICATE_REQUEST:
            self.cert_requested = True
            self.acceptable_cas_der = parse_certificate_request(data, tls13=version == _TLS13)
        elif direction == "write" and kind == _CERTIFICATE:
            self.client_cert_sent = _certificate_list_length(data, tls13=version == _TLS13) > 0

    @property
    def received_alert(self) -> Alert | None:
        fatal = [a for a in self.alerts if a.direction == "received" and a.name != "close_notify"]
        return fatal[0] if fatal else None

    @property
    def sent_alert(self) -> Alert | None:
        sent = [a for a in self.alerts if a.direction == "sent" and a.name != "close_notify"]
        return sent[0] if sent else None


_current = threading.local()


def observe(
    conn: Any, direction: str, version: int, content_type: int, msg_type: int, data: bytes
) -> None:
    """The SSLContext message callback: route the message to this thread's active recorder."""
    recorder = getattr(_current, "recorder", None)
    if recorder is not None:
        # A malformed message must never break the connection.
        with contextlib.suppress(Exception):
            recorder.feed(direction, int(version), int(content_type), bytes(data))


def start_recording() -> MessageRecorder:
    recorder = MessageRecorder()
    _current.recorder = recorder
    return recorder


def stop_recording() -> None:
    _current.recorder = None


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 2], "big")


def _u24(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 3], "big")


def _dn_list(data: bytes) -> list[bytes]:
    names, at = [], 0
    while at + 2 <= len(data):
        size = _u16(data, at)
        names.append(data[at + 2 : at + 2 + size])
        at += 2 + size
    return names


def parse_certificate_request(message: bytes, *, tls13: bool) -> list[bytes]:
    """The DER distinguished names a CertificateRequest lists as acceptable client CAs."""
    body = message[4 : 4 + _u24(message, 1)]
    if tls13:
        at = 1 + body[0]  # certificate_request_context
        end = at + 2 + _u16(body, at)
        at += 2
        while at + 4 <= end:
            ext_type, size = _u16(body, at), _u16(body, at + 2)
            if ext_type == _CA_EXTENSION:
                ext = body[at + 4 : at + 4 + size]
                return _dn_list(ext[2 : 2 + _u16(ext, 0)])
            at += 4 + size
        return []
    at = 1 + body[0]  # certificate_types
    at += 2 + _u16(body, at)  # supported_signature_algorithms
    return _dn_list(body[at + 2 : at + 2 + _u16(body, at)])


def _certificate_list_length(message: bytes, *, tls13: bool) -> int:
    body = message[4:]
    at = 1 + body[0] if tls13 else 0
    return _u24(body, at)


# --- distinguished names -------------------------------------------------------------------


def _der_read(data: bytes, at: int) -> tuple[int, bytes, int]:
    tag = data[at]
    length = data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    return tag, data[at : at + length], at + length


def _der_oid(body: bytes) -> str:
    first = body[0]
    parts = [str(min(first // 40, 2)), str(first - 40 * min(first // 40, 2))]
    value = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(str(value))
            value = 0
    return ".".join(parts)


def _der_string(tag: int, body: bytes) -> str:
    if tag == 0x1E:  # BMPString
        return body.decode("utf-16-be", "replace")
    if tag == 0x1C:  # UniversalString
        return body.decode("utf-32-be", "replace")
    return body.decode("utf-8", "replace")


@functools.lru_cache(maxsize=256)
def decode_name(der: bytes) -> str:
    """A DER Name as an RFC 4514 string (like the pki layer prints subjects and issuers)."""
    try:
        tag, rdns, _ = _der_read(der, 0)
        if tag != 0x30:
            raise ValueError
        attributes: list[x509.RelativeDistinguishedName] = []
        at = 0
        while at < len(rdns):
            _, rdn_set, at = _der_read(rdns, at)
            members, inner = [], 0
            while inner < len(rdn_set):
                _, pair, inner = _der_read(rdn_set, inner)
                _, oid, rest = _der_read(pair, 0)
                vtag, value, _ = _der_read(pair, rest)
                members.append(
                    x509.NameAttribute(ObjectIdentifier(_der_oid(oid)), _der_string(vtag, value))
                )
            attributes.append(x509.RelativeDistinguishedName(members))
        return x509.Name(attributes).rfc4514_string()
    except (ValueError, IndexError):
        return "<unreadable name: " + der.hex()[:40] + ">"


# --- the report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HandshakeReport:
    """Everything the TLS layer told us about one attempt, success or failure."""

    tls_version: str | None = None
    cipher: str | None = None
    alpn: str | None = None
    servername: str | None = None
    server_chain: tuple[Any, ...] = ()  # knoxtui.pki.CertificateInfo, leaf first
    server_verified: bool = False
    verify_enabled: bool = True
    verify_error: str | None = None
    client_cert_requested: bool = False
    acceptable_client_cas: tuple[str, ...] = ()
    client_cert_sent: bool = False
    client_cert_fingerprint: str | None = None
    client_issuer_accepted: bool | None = None
    alert: Alert | None = None
    connected: bool = False  # the TCP connection was established
    handshake_completed: bool = False
    server_hello_seen: bool = False
    plain_http_answer: bool = False
    probed: bool = False  # details came from a second, diagnostic handshake (failure paths only)
    server_tls_version: str | None = None  # what the server chose when offered every version
    error: str | None = field(default=None)

    def chain_dicts(self) -> list[dict[str, Any]]:
        out = []
        for info in self.server_chain:
            out.append(
                {
                    "subject": info.subject,
                    "issuer": info.issuer,
                    "valid_from": _iso(info.valid_from),
                    "valid_until": _iso(info.valid_until),
                    "fingerprint_sha256": info.fingerprint_sha256,
                    "san": list(info.san),
                }
            )
        return out


def _iso(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")
