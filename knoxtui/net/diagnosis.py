"""One code, the side that failed, a sentence and a fix: the handshake report and the error of an
attempt turned into words a user can act on."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from knoxtui.net.handshake import ALERT_TEXTS, HandshakeReport
from knoxtui.net.plan import RequestPlan
from knoxtui.net.proxy import ProxyChoice

CODES = (
    "ok",
    "client_cert_rejected_unknown_ca",
    "client_cert_required",
    "client_cert_expired",
    "client_cert_rejected",
    "server_cert_untrusted",
    "server_cert_expired",
    "hostname_mismatch",
    "key_passphrase_wrong",
    "client_key_unusable",
    "key_mismatch",
    "ca_bundle_unusable",
    "environment_missing",
    "protocol_mismatch",
    "not_tls",
    "connection_refused",
    "dns_failure",
    "timeout",
    "http_error",
    "oauth2_token_failed",
    "tls_error",
    "connection_failed",
    "invalid_route",
    "proxy_unreachable",
    "proxy_auth_required",
    "proxy_refused",
    "tls_intercepted",
    "redirect_not_followed",
    "cancelled",
)
SIDES = ("client", "server", "network", "config", "none")

NGINX_NO_CERT = "No required SSL certificate was sent"
NGINX_CERT_ERROR = "The SSL certificate error"
NGINX_PLAIN_TO_TLS = "The plain HTTP request was sent to HTTPS port"

_X509_EXPIRED, _X509_NOT_YET_VALID = 10, 9
_X509_NAME_MISMATCH = (62, 63, 64)  # host name, e-mail, IP address
_CLIENT_REJECTIONS = {
    "bad_certificate",
    "certificate_unknown",
    "unsupported_certificate",
    "certificate_revoked",
    "access_denied",
    "decrypt_error",
    "handshake_failure",
}
_NOT_TLS_REASONS = (
    "WRONG_VERSION_NUMBER",
    "PACKET_LENGTH_TOO_LONG",
    "HTTP_REQUEST",
    "RECORD_LAYER",
)
_PROTOCOL_REASONS = (
    "UNSUPPORTED_PROTOCOL",
    "NO_PROTOCOLS_AVAILABLE",
    "VERSION_TOO_LOW",
    "VERSION_TOO_HIGH",
    "WRONG_SSL_VERSION",
    "NO_SHARED_CIPHER",
    "NO_CIPHERS_AVAILABLE",
)


@dataclass(frozen=True)
class Diagnosis:
    code: str
    side: str  # "client" | "server" | "network" | "config" | "none"
    summary: str
    fix: str | None = None

    @property
    def ok(self) -> bool:
        return self.code == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "side": self.side, "summary": self.summary, "fix": self.fix}


def exception_chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def error_text(exc: BaseException | None) -> str | None:
    """The most specific message in the chain (the ssl/socket one), without secrets: these
    messages come from OpenSSL and the socket layer and carry no request data."""
    if exc is None:
        return None
    texts = [str(e) for e in exception_chain(exc) if str(e)]
    for e in exception_chain(exc):
        if isinstance(e, ssl.SSLError | OSError) and str(e):
            return str(e)
    return texts[-1] if texts else type(exc).__name__


def alert_in_text(text: str | None) -> str | None:
    if not text:
        return None
    lowered = text.lower()
    for words, name in sorted(ALERT_TEXTS.items(), key=lambda item: -len(item[0])):
        if f"alert {words}" in lowered:
            return name
    return None


def _accepted_list(report: HandshakeReport) -> str:
    if not report.acceptable_client_cas:
        return "the server did not name the CAs it accepts"
    return "it accepts certificates issued by: " + "; ".join(report.acceptable_client_cas)


def _client_cert_problem(
    plan: RequestPlan, report: HandshakeReport, now: datetime, detail: str
) -> Diagnosis:
    """The server refused our certificate (alert or nginx page): find the most likely reason."""
    identity = plan.identity
    if identity is None or (not report.client_cert_sent and report.client_cert_requested):
        if identity is None:
            why = "the route has no certificate_secret_id"
            fix = "Set certificate_secret_id on the route to a certificate secret."
        else:
            why = f"the certificate '{identity.secret_name or identity.subject}' was not sent"
            fix = "Check that the certificate secret holds a certificate and its private key."
        return Diagnosis(
            "client_cert_required",
            "client",
            f"The server refused us because it requires a client certificate and none was sent: "
            f"{why} ({detail}).",
            fix,
        )
    if identity.valid_until is not None and identity.valid_until <= now:
        return Diagnosis(
            "client_cert_expired",
            "client",
            f"The server rejected our client certificate: it expired on "
            f"{identity.valid_until:%Y-%m-%d %H:%M} UTC ({detail}).",
            f"Renew the certificate '{identity.secret_name or identity.subject}' and import the "
            "new one.",
        )
    if report.acceptable_client_cas and report.client_issuer_accepted is False:
        return _unknown_ca(plan, report, detail)
    if identity.valid_from is not None and identity.valid_from > now:
        return Diagnosis(
            "client_cert_rejected",
            "client",
            f"The server rejected our client certificate: it is not valid before "
            f"{identity.valid_from:%Y-%m-%d %H:%M} UTC ({detail}).",
            "Wait until then, or check the clocks of this machine and of the issuing CA.",
        )
    among = (
        ", although its issuer is among the CAs the server accepts"
        if report.client_issuer_accepted
        else ""
    )
    return Diagnosis(
        "client_cert_rejected",
        "client",
        f"The server rejected our client certificate {identity.subject}{among} ({detail}).",
        "Ask the API provider why, giving the fingerprint "
        + identity.fingerprint_sha256
        + ": the certificate may be revoked, not registered for your account, or its chain "
        "may not verify on their side.",
    )


def _unknown_ca(plan: RequestPlan, report: HandshakeReport, detail: str) -> Diagnosis:
    identity = plan.identity
    issuer = identity.issuer if identity else "?"
    fix = (
        "Use a certificate issued by one of the accepted CAs, or ask the API provider to trust "
        f"'{issuer}'."
    )
    if (
        identity is not None
        and len(identity.chain_issuers_der) == 1
        and report.acceptable_client_cas
    ):
        # A leaf sent without its intermediate cannot be chained to an accepted root.
        fix = (
            f"We sent the certificate alone: if '{issuer}' is an intermediate CA under one of the "
            "accepted CAs, import the certificate together with its intermediate chain. "
            "Otherwise " + fix[0].lower() + fix[1:]
        )
    if report.client_issuer_accepted:
        # Same name, other key: a look-alike CA (a lab's fresh CA, a re-keyed or test CA).
        return Diagnosis(
            "client_cert_rejected_unknown_ca",
            "client",
            f"The server rejected our client certificate: its issuer is named {issuer}, as a CA "
            f"the server accepts, but it is a different CA with the same name ({detail}).",
            "Use a certificate issued by the CA the server actually trusts (compare the issuer's "
            "key identifier with the provider's CA), or re-import the certificate the current "
            "CA issued.",
        )
    return Diagnosis(
        "client_cert_rejected_unknown_ca",
        "client",
        f"The server rejected our client certificate: it does not trust its issuer ({issuer}); "
        f"{_accepted_list(report)} ({detail}).",
        fix,
    )


def diagnose(
    plan: RequestPlan,
    report: HandshakeReport,
    *,
    error: BaseException | None,
    status_code: int | None,
    body: bytes = b"",
    now: datetime,
    timed_out: bool = False,
    via: ProxyChoice | None = None,
    tunnel_open: bool = True,
    proxy_authenticate: str | None = None,
) -> Diagnosis:
    if via is not None and status_code == 407 and error is None:
        return _proxy_auth(via, proxy_authenticate)
    if error is None and status_code is not None:
        return _diagnose_http(plan, report, status_code, body, now)
    chain = list(exception_chain(error))
    text = error_text(error) or ""
    if timed_out or any(isinstance(e, TimeoutError | socket.timeout) for e in chain):
        if via is not None and not report.connected:
            return Diagnosis(
                "timeout",
                "network",
                f"No answer from the proxy {via.shown_url} within {plan.connect_timeout:g} s "
                f"(phase: proxy connect; {via.reason}).",
                "Check the proxy address (the route's proxy key, --proxy, or HTTPS_PROXY) and "
                "that it is reachable from here; --no-proxy goes direct.",
            )
        if via is not None and not tunnel_open:
            return Diagnosis(
                "timeout",
                "network",
                f"The proxy {via.shown_url} did not open the tunnel to {plan.host}:{plan.port} "
                f"within {plan.timeout:g} s (phase: proxy CONNECT).",
                "The proxy cannot reach the server in time: ask the proxy's administrators, or "
                "go direct where a direct path exists (NO_PROXY, --no-proxy).",
            )
        if not report.connected:
            phase = "TCP connect"
        elif plan.is_tls and not report.handshake_completed:
            phase = "TLS handshake"
        else:
            return Diagnosis(
                "timeout",
                "server",
                f"No response from {plan.host}:{plan.port} within {plan.timeout:g} s (phase: "
                "waiting for the response): the connection"
                + (" and the TLS handshake" if plan.is_tls else "")
                + " succeeded and the request was sent, but the server did not answer in time.",
                "The service (or what it forwards to) is slow or stuck: retry with a longer "
                "--timeout, and tell the API provider if it persists.",
            )
        limit = plan.connect_timeout if phase == "TCP connect" else plan.timeout
        return Diagnosis(
            "timeout",
            "network",
            f"No answer from {plan.host}:{plan.port} within {min(limit, plan.timeout):g} s "
            f"(phase: {phase}).",
            "Check that the service is up and reachable from here (VPN, firewall allow-list); "
            "raise timeout_seconds / connect_timeout_seconds (or --timeout) for a slow link.",
        )
    if via is not None:
        found = _diagnose_proxy(plan, report, via, chain, text, tunnel_open, proxy_authenticate)
        if found is not None:
            return found
    if any(isinstance(e, socket.gaierror) for e in chain):
        return Diagnosis(
            "dns_failure",
            "network",
            f"The host name '{plan.host}' could not be resolved ({text}).",
            "Check the spelling of target_url's host, and your DNS or VPN.",
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return Diagnosis(
            "connection_refused",
            "network",
            f"{plan.host}:{plan.port} refused the connection: nothing listens there.",
            "Check the port in target_url and that the service is running.",
        )
    verify = next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None)
    if verify is not None:
        return _diagnose_verify(plan, report, verify, now)
    alert = report.alert.name if report.alert and report.alert.direction == "received" else None
    alert = alert or (alert_in_text(text) if report.alert is None else None)
    if alert:
        return _diagnose_alert(plan, report, alert, now)
    reason = next((e.reason or "" for e in chain if isinstance(e, ssl.SSLError)), "")
    upper = (reason + " " + text).upper().replace(" ", "_")
    if not report.handshake_completed and any(r in upper for r in _PROTOCOL_REASONS):
        return _protocol(plan, text, report)
    if any(r in upper for r in _NOT_TLS_REASONS) or (
        plan.is_tls and not report.server_hello_seen and _closed(chain)
    ):
        return Diagnosis(
            "not_tls",
            "server",
            f"{plan.host}:{plan.port} does not speak TLS"
            + (" (it answers plain HTTP)" if report.plain_http_answer else "")
            + f": {text}.",
            "Use http:// if this port is plain HTTP, or the TLS port of the service (often 443).",
        )
    if report.handshake_completed and report.client_cert_requested and _closed(chain):
        # TLS 1.3 servers reject a client certificate after the handshake, often by just closing.
        return _client_cert_problem(plan, report, now, "the server closed the connection")
    return Diagnosis(
        "tls_error" if plan.is_tls else "connection_failed",
        "network" if not report.handshake_completed else "server",
        f"The request to {plan.host}:{plan.port} failed: {text}.",
        "Run the openssl s_client reproduction below for the raw exchange.",
    )


def _proxy_auth(via: ProxyChoice, asked: str | None) -> Diagnosis:
    scheme = (asked or "").split(" ", 1)[0] or "an unnamed scheme"
    if via.has_credentials:
        summary = (
            f"The proxy {via.shown_url} refused our credentials (it asks for {scheme}"
            f" authentication; {via.reason})."
        )
        fix = "Check the proxy user name and password in the proxy URL."
    else:
        summary = (
            f"The proxy {via.shown_url} requires authentication (HTTP 407; it asks for {scheme}"
            f"; {via.reason})."
        )
        fix = (
            "Put the credentials in the proxy URL: http://user:{{secret:proxy_pass}}@host:port "
            "(the route's proxy key) or in HTTPS_PROXY."
        )
    if scheme.lower() not in ("basic", "an unnamed scheme"):
        fix += f" knoxtui speaks Basic proxy authentication only; {scheme} is not supported."
    return Diagnosis("proxy_auth_required", "config", summary, fix)


def _diagnose_proxy(
    plan: RequestPlan,
    report: HandshakeReport,
    via: ProxyChoice,
    chain: list[BaseException],
    text: str,
    tunnel_open: bool,
    asked: str | None,
) -> Diagnosis | None:
    if not report.connected:
        return Diagnosis(
            "proxy_unreachable",
            "network",
            f"Nothing answers at the proxy {via.shown_url} ({text}; {via.reason}).",
            "Check the proxy address and port (the route's proxy key, --proxy, HTTPS_PROXY), or "
            'go direct where a direct path exists (proxy "none", --no-proxy, NO_PROXY).',
        )
    refused = next((e for e in chain if type(e).__name__ == "ProxyError"), None)
    if refused is not None:
        answer = str(refused).strip()
        if answer.startswith(("407", "401")):  # tinyproxy answers wrong credentials with 401
            return _proxy_auth(via, asked)
        return Diagnosis(
            "proxy_refused",
            "network",
            f"The proxy {via.shown_url} refused to open a tunnel to {plan.host}:{plan.port}: it "
            f'answered "{answer}" ({via.reason}).',
            "A 403 is the proxy's policy (allowed hosts or ports: ask its administrators to allow "
            "this host and port); a 502/503/504 means the proxy cannot reach the server.",
        )
    verify = next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None)
    # An issuer we do not trust is the inspecting proxy's mark; a wrong name or date is not.
    dated_or_named = (*_X509_NAME_MISMATCH, _X509_EXPIRED, _X509_NOT_YET_VALID)
    if verify is not None and plan.is_tls and verify.verify_code not in dated_or_named:
        leaf = report.server_chain[0] if report.server_chain else None
        issuer = leaf.issuer if leaf else "an unknown issuer"
        trust = "the route's CA bundle" if plan.ca_bundle_pem else "the system trust store"
        return Diagnosis(
            "tls_intercepted",
            "network",
            f"A TLS-inspecting proxy answered in the server's place: through {via.shown_url}, "
            f"the certificate for {plan.host} was issued by {issuer}, which {trust} does not "
            f"trust ({verify.verify_message or text}). Mutual TLS cannot pass through "
            "inspection: the proxy cannot present our client certificate to the server.",
            f"Ask the proxy's administrators to put {plan.host} on the inspection bypass list, "
            'or go direct where a direct path exists (NO_PROXY, proxy "none", --no-proxy).',
        )
    return None


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _closed(chain: list[BaseException]) -> bool:
    names = {type(e).__name__ for e in chain}
    text = " ".join(str(e) for e in chain).lower()
    return bool(
        names & {"RemoteProtocolError", "ConnectionResetError", "BrokenPipeError", "SSLEOFError"}
        or "eof" in text
        or "disconnected" in text
        or "connection reset" in text
    )


def _offered(plan: RequestPlan) -> str:
    low, high = plan.min_version or "1.2", plan.max_version or "1.3"
    if not (plan.min_version or plan.max_version):
        return "TLS 1.2 and 1.3"
    return f"TLS {low} only" if low == high else f"TLS {low} to {high}"


def _protocol(plan: RequestPlan, detail: str, report: HandshakeReport | None = None) -> Diagnosis:
    bounded = bool(plan.min_version or plan.max_version)
    speaks = report.server_tls_version if report else None
    heard = f" and the server speaks {speaks.replace('TLSv', 'TLS ')}" if speaks else ""
    if speaks and bounded:
        version = speaks.replace("TLSv", "")
        too_high = plan.max_version is not None and version > plan.max_version
        setting = "tls_max_version" if too_high else "tls_min_version"
        fix = (
            f'Set {setting} on the route to "{version}" (or remove it): the server accepts '
            f"TLS {version}."
        )
    else:
        fix = (
            "Adjust tls_min_version / tls_max_version on the route to what the server supports "
            "(the openssl s_client reproduction shows what it speaks)."
        )
    return Diagnosis(
        "protocol_mismatch",
        "config" if bounded else "server",
        f"The server refused the handshake, no TLS version {'' if speaks else 'or cipher '}"
        "in common: we offered "
        f"{_offered(plan)}{heard} ({detail}).",
        fix,
    )


def _diagnose_alert(
    plan: RequestPlan, report: HandshakeReport, alert: str, now: datetime
) -> Diagnosis:
    detail = f"TLS alert {alert}"
    if alert in ("protocol_version", "insufficient_security"):
        return _protocol(plan, detail, report)
    if alert == "unrecognized_name":
        if plan.servername is None and _is_ip(plan.host):
            asked = (
                f"no server name was sent (SNI), because the URL's host {plan.host} is an IP "
                "address, and it serves only the names it knows"
            )
        else:
            asked = f"it does not serve the name '{plan.servername or plan.host}' sent as SNI"
        return Diagnosis(
            "hostname_mismatch",
            "config",
            f"The server refused the handshake: {asked} ({detail}).",
            "Set tls_servername on the route to the API's host name (the connection still goes "
            f"to {plan.host}).",
        )
    if alert == "certificate_required" or (
        alert == "handshake_failure"
        and report.client_cert_requested
        and not report.client_cert_sent
    ):
        unsent = replace(report, client_cert_sent=False, client_cert_requested=True)
        return _client_cert_problem(plan, unsent, now, detail)
    if alert == "unknown_ca":
        if plan.identity is None or not report.client_cert_sent:
            return _client_cert_problem(plan, report, now, detail)
        return _unknown_ca(plan, report, detail)
    if alert == "certificate_expired":
        identity = plan.identity
        until = (
            f" (valid until {identity.valid_until:%Y-%m-%d})"
            if identity and identity.valid_until
            else ""
        )
        return Diagnosis(
            "client_cert_expired",
            "client",
            f"The server says our client certificate has expired{until} ({detail}).",
            "Renew the certificate and import the new one; check this machine's clock too.",
        )
    if alert in _CLIENT_REJECTIONS and (report.client_cert_requested or plan.identity):
        return _client_cert_problem(plan, report, now, detail)
    if alert == "handshake_failure":
        return _protocol(plan, detail, report)
    return Diagnosis(
        "tls_error",
        "server",
        f"The server ended the handshake with {detail}.",
        "Run the openssl s_client reproduction below and show its output to the API provider.",
    )


def _expired_bundle_ca(plan: RequestPlan, report: HandshakeReport, now: datetime) -> Any:
    """The expired CA certificate of the route's bundle that the server's chain leads to (or
    None): OpenSSL says 'certificate has expired' for any certificate of the path."""
    if not plan.ca_bundle_pem:
        return None
    from cryptography import x509

    try:
        cas = x509.load_pem_x509_certificates(plan.ca_bundle_pem)
    except ValueError:
        return None
    issuers = {c.certificate.issuer for c in report.server_chain}
    expired = [ca for ca in cas if ca.not_valid_after_utc <= now]
    return next((ca for ca in expired if ca.subject in issuers), None)


def _bundle_namesake(plan: RequestPlan, top: Any) -> Any:
    """A CA of the route's bundle named as the top of the server's chain's issuer that did not
    sign it (another key), or None."""
    if not plan.ca_bundle_pem:
        return None
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    try:
        cas = x509.load_pem_x509_certificates(plan.ca_bundle_pem)
    except ValueError:
        return None
    for ca in cas:
        if ca.subject != top.certificate.issuer:
            continue
        try:
            top.certificate.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            return ca  # named so, but it did not sign the chain
    return None


def _diagnose_verify(
    plan: RequestPlan, report: HandshakeReport, error: ssl.SSLCertVerificationError, now: datetime
) -> Diagnosis:
    leaf = report.server_chain[0] if report.server_chain else None
    message = error.verify_message or str(error)
    if error.verify_code in _X509_NAME_MISMATCH:
        names = [n.split(":", 1)[-1] for n in leaf.san] if leaf else []
        dns_names = [n.split(":", 1)[-1] for n in leaf.san if n.startswith("DNS:")] if leaf else []
        asked = plan.servername or plan.host
        held = ", ".join(names) if names else (leaf.subject if leaf else "unknown names")
        default = (
            " (perhaps its default certificate: a server with several virtual hosts sends that "
            "one for a name it does not serve)"
            if plan.servername
            else ""
        )
        return Diagnosis(
            "hostname_mismatch",
            "server",
            f"We rejected the server's certificate: it is not valid for '{asked}', it holds "
            f"{held}{default}.",
            f"Set tls_servername on the route to one of: {', '.join(dns_names)} (the connection "
            f"still goes to {plan.host}), or use that name in target_url."
            if dns_names
            else "Set tls_servername on the route to the name in the server's certificate.",
        )
    if error.verify_code == _X509_EXPIRED and (leaf is None or leaf.valid_until > now):
        sent = next((c for c in report.server_chain[1:] if c.valid_until <= now), None)
        if sent is not None:
            return Diagnosis(
                "server_cert_expired",
                "server",
                f"We rejected the server's chain: the CA certificate it sends ({sent.subject}) "
                f"expired on {sent.valid_until:%Y-%m-%d}; its own certificate is valid.",
                "Tell the API provider: their server must send the CA's current certificate.",
            )
        ours = _expired_bundle_ca(plan, report, now)
        if ours is not None:
            return Diagnosis(
                "ca_bundle_unusable",
                "config",
                f"The route's CA bundle holds the CA certificate {ours.subject.rfc4514_string()} "
                f"that expired on {ours.not_valid_after_utc:%Y-%m-%d}; the server's certificate "
                "is valid.",
                "Replace the CA bundle secret's value (ca_bundle_secret_id) with the CA's current "
                "certificate (from the API provider, or the chain the openssl s_client "
                "reproduction prints).",
            )
    if error.verify_code == _X509_EXPIRED:
        until = f" on {leaf.valid_until:%Y-%m-%d}" if leaf else ""
        subject = leaf.subject if leaf else "the server"
        return Diagnosis(
            "server_cert_expired",
            "server",
            f"We rejected the server's certificate ({subject}): it expired{until}.",
            "Tell the API provider; their certificate must be renewed. Check this machine's clock.",
        )
    top = report.server_chain[-1] if report.server_chain else None
    missing = top.issuer if top else "its issuer"
    trust = "the route's CA bundle" if plan.ca_bundle_pem else "the system trust store"
    store = (
        f"Add the CA certificate of '{missing}' to the route's CA bundle secret "
        "(ca_bundle_secret_id)."
        if plan.ca_bundle_pem
        else f"Store the CA certificate of '{missing}' as a string secret and set "
        "ca_bundle_secret_id on the route."
    )
    if error.verify_code == _X509_NOT_YET_VALID:
        summary = f"We rejected the server's certificate: it is not valid yet ({message})."
        fix = "Check this machine's clock; otherwise tell the API provider."
    elif top is not None and top.subject == top.issuer and len(report.server_chain) == 1:
        summary = (
            f"We rejected the server's certificate: it is self-signed ({top.subject}) and not in "
            f"{trust} ({message})."
        )
        fix = (
            "Only if the API provider confirms its fingerprint: store that certificate itself "
            "(the openssl s_client reproduction prints it) as the route's CA bundle."
        )
    elif top is not None and _bundle_namesake(plan, top) is not None:
        summary = (
            f"We rejected the server's certificate: the route's CA bundle holds a CA named "
            f"{missing}, but with another key than the one that signed the server's chain (a "
            f"re-issued CA?) ({message})."
        )
        fix = (
            f"Replace the bundle's certificate of '{missing}' with the CA's current one (from "
            "the API provider) in the CA bundle secret (ca_bundle_secret_id)."
        )
    else:
        summary = (
            f"We rejected the server's certificate: its issuer {missing} is not in {trust} "
            f"({message})."
        )
        fix = store
        if len(report.server_chain) == 1:
            # A lone leaf: its issuer may be a root we lack, or an intermediate the server omits.
            fix += (
                " If that issuer is an intermediate CA, the server should send it too: ask the "
                "API provider to serve its full chain."
            )
    return Diagnosis("server_cert_untrusted", "server", summary, fix)


def _diagnose_http(
    plan: RequestPlan, report: HandshakeReport, status: int, body: bytes, now: datetime
) -> Diagnosis:
    if status < 400:
        return Diagnosis("ok", "none", f"HTTP {status}.", None)
    text = body[:4096].decode("utf-8", "replace")
    if status == 496 or NGINX_NO_CERT in text:
        return _client_cert_problem(
            plan,
            replace(report, client_cert_sent=False, client_cert_requested=True),
            now,
            f'HTTP {status} "{NGINX_NO_CERT}" — nginx-style page',
        )
    if status == 495 or NGINX_CERT_ERROR in text:
        return _client_cert_problem(
            plan, report, now, f'HTTP {status} "{NGINX_CERT_ERROR}" — nginx-style page'
        )
    if status in (401, 403) and report.client_cert_requested and not report.client_cert_sent:
        # e.g. nginx `ssl_verify_client optional` + `if ($ssl_client_verify != SUCCESS)`
        return _client_cert_problem(
            plan,
            report,
            now,
            f"it asked for one in the handshake and answered HTTP {status}",
        )
    if NGINX_PLAIN_TO_TLS in text:
        return Diagnosis(
            "protocol_mismatch",
            "config",
            f"The URL uses http:// but the server expects HTTPS on port {plan.port}.",
            "Change target_url to https://.",
        )
    side = "client" if status in (401, 403) else "server"
    return Diagnosis(
        "http_error",
        side,
        f"TLS was fine, but the server answered HTTP {status}.",
        "Check the credentials and headers of the route."
        if status in (401, 403)
        else "Check the path, method and body; the response body may say more.",
    )
