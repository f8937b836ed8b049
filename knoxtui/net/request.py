"""One request, executed: httpx on a cached SSLContext, timings from httpx's trace hooks, the
handshake report read from the same connection (a diagnostic probe only when it failed), and the
diagnosis. `execute` never raises for network or TLS problems: they are its result."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

from knoxtui import clock
from knoxtui.errors import KnoxError
from knoxtui.limits import parse_json
from knoxtui.net import context as tls_context
from knoxtui.net import handshake, proxy
from knoxtui.net.cancel import Cancellation, SocketGuard, after
from knoxtui.net.diagnosis import NGINX_PLAIN_TO_TLS, Diagnosis, diagnose, error_text
from knoxtui.net.handshake import Alert, HandshakeReport, decode_name
from knoxtui.net.oauth2 import OAuth2Step, obtain_token
from knoxtui.net.plan import RequestPlan
from knoxtui.net.proxy import ProxyChoice
from knoxtui.safetext import visible

tls_context.set_message_observer(handshake.observe)

BODY_JSON_LIMIT = 64 * 1024
_ENCODING_DER = 2  # _ssl.ENCODING_DER, for the private chain accessors of Python < 3.13
MAX_REDIRECTS = 5
PLAINTEXT_WARNING = (
    "plaintext: the target is http://, nothing of this exchange is encrypted or authenticated "
    "(the route allows it with allow_plaintext)."
)
UNVERIFIED_WARNING = (
    "TLS verification is OFF for this route (tls_reject_unauthorized: false): the server is not "
    "authenticated and anyone on the path could read and change this exchange."
)


def unverified_token_warning(token_url: str) -> str:
    """Verification off reaches the token endpoint too (issue 11 item 11): say that the OAuth2
    client secret goes to a server nobody checked."""
    return (
        "The OAuth2 client secret is sent to the token endpoint "
        f"{visible(_without_query(token_url))} without verifying that server either: anyone on "
        "the path could take it. Turn verification back on, or rotate the client secret if this "
        "network is not yours."
    )


def _without_query(url: str) -> str:
    """Scheme, host and path only: user-info and query strings may carry credentials."""
    bare = url.split("?", 1)[0].split("#", 1)[0]
    scheme, sep, rest = bare.partition("//")
    if not sep:
        return bare
    netloc, slash, path = rest.partition("/")
    return f"{scheme}//{netloc.rpartition('@')[2]}{slash}{path}"


@dataclass(frozen=True)
class Timings:
    connect_ms: float | None = None
    tls_ms: float | None = None
    ttfb_ms: float | None = None
    total_ms: float | None = None
    oauth2_ms: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {
            "connect_ms": self.connect_ms,
            "tls_handshake_ms": self.tls_ms,
            "ttfb_ms": self.ttfb_ms,
            "total_ms": self.total_ms,
            "oauth2_ms": self.oauth2_ms,
        }


@dataclass(frozen=True)
class RequestResult:
    method: str
    url: str  # with {{secret:NAME}} references left unresolved
    status_code: int | None
    reason: str | None
    headers: tuple[tuple[str, str], ...]
    body: bytes = field(repr=False)
    size: int
    timings: Timings
    report: HandshakeReport
    diagnosis: Diagnosis
    oauth2_step: OAuth2Step | None = None
    warnings: tuple[str, ...] = ()
    http_version: str | None = None
    route_name: str | None = None
    environment: str | None = None
    certificate_secret: str | None = None
    proxy: ProxyChoice | None = None  # None: direct
    final_url: str | None = None  # after same-origin redirects

    @property
    def ok(self) -> bool:
        return self.diagnosis.ok

    @property
    def certificate_fingerprint(self) -> str | None:
        return self.report.client_cert_fingerprint

    def body_text(self) -> str:
        """The body for display: pretty JSON when it is JSON, else text."""
        text = self.body.decode("utf-8", "replace")
        content_type = dict((k.lower(), v) for k, v in self.headers).get("content-type", "")
        if "json" in content_type or text.lstrip().startswith(("{", "[")):
            try:
                # Depth-limited: a server's deeply nested JSON is shown as text, no RecursionError.
                return json.dumps(parse_json(text), indent=2, ensure_ascii=False)
            except ValueError:
                pass
        return text

    def to_dict(self) -> dict[str, Any]:
        """The `knoxtui test --json` object."""
        report = self.report
        text = self.body_text()
        return {
            "route": self.route_name,
            "environment": self.environment,
            "method": self.method,
            "url": self.url,
            "diagnosis": self.diagnosis.to_dict(),
            "status_code": self.status_code,
            "reason": self.reason,
            "tls": {
                "version": report.tls_version,
                "cipher": report.cipher,
                "alpn": report.alpn,
                "servername": report.servername,
                "verify": report.verify_enabled,
                "server_verified": report.server_verified,
                "verify_error": report.verify_error,
                "handshake_completed": report.handshake_completed,
                "probed": report.probed,
                "server_version": report.server_tls_version,
            },
            "server_chain": report.chain_dicts(),
            "client_certificate": {
                "requested": report.client_cert_requested,
                "sent": report.client_cert_sent,
                "secret": self.certificate_secret,
                "fingerprint_sha256": report.client_cert_fingerprint,
                "issuer_accepted": report.client_issuer_accepted,
            },
            "acceptable_client_cas": list(report.acceptable_client_cas),
            "alert": report.alert.to_dict() if report.alert else None,
            "error": report.error,
            "timings": self.timings.to_dict(),
            "oauth2": self.oauth2_step.to_dict() if self.oauth2_step else None,
            "proxy": self.proxy.to_dict() if self.proxy else None,
            "plaintext": self.url.startswith("http://"),
            "final_url": self.final_url,
            "warnings": list(self.warnings),
            "response": {
                "http_version": self.http_version,
                "headers": [list(pair) for pair in self.headers],
                "size": self.size,
                "body": text[:BODY_JSON_LIMIT],
                "body_truncated": len(text) > BODY_JSON_LIMIT,
            },
        }


@lru_cache(maxsize=256)
def _describe_der(der: bytes) -> Any:
    from cryptography import x509

    from knoxtui.pki import describe_certificate

    return describe_certificate(x509.load_der_x509_certificate(der))


@dataclass
class _Attempt:
    status_code: int | None = None
    reason: str | None = None
    http_version: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = field(default=b"", repr=False)
    error: BaseException | None = None
    timed_out: bool = False
    marks: dict[str, float] = field(default_factory=dict)
    tls: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0
    cancelled: bool = False
    proxy: ProxyChoice = field(default_factory=ProxyChoice)


def _capture_tls(stream: Any, into: dict[str, Any]) -> None:
    ssl_object = stream.get_extra_info("ssl_object")
    if ssl_object is None:
        return
    into["version"] = ssl_object.version()
    cipher = ssl_object.cipher()
    into["cipher"] = cipher[0] if cipher else None
    into["alpn"] = ssl_object.selected_alpn_protocol()
    inner = getattr(ssl_object, "_sslobj", ssl_object)
    chain_method = getattr(inner, "get_unverified_chain", None)
    if chain_method is not None:
        into["chain_der"] = tuple(c.public_bytes(_ENCODING_DER) for c in chain_method() or ())
    else:
        leaf = ssl_object.getpeercert(binary_form=True)
        into["chain_der"] = (leaf,) if leaf else ()


def _send(
    plan: RequestPlan,
    extra_headers: dict[str, str] | None = None,
    cancel: Cancellation | None = None,
) -> _Attempt:
    import httpx

    attempt = _Attempt()
    marks = attempt.marks
    guard = SocketGuard()

    in_connect = [False]  # between the CONNECT's request and the TLS inside the tunnel

    def trace(name: str, info: dict[str, Any]) -> None:
        request = info.get("request")
        if name == "http11.send_request_headers.started":
            in_connect[0] = getattr(request, "method", None) == b"CONNECT"
        if name.startswith("http11.") and in_connect[0]:
            name = "tunnel." + name  # the proxy's answer to CONNECT, not the server's
        elif name.startswith("proxy.start_tls"):
            in_connect[0] = False
            name = "connection" + name[len("proxy") :]  # TLS to the server inside the tunnel
        marks[name] = time.perf_counter()
        if name == "connection.connect_tcp.complete":
            with contextlib.suppress(AttributeError, KeyError):
                guard.attach(info["return_value"].get_extra_info("socket"))
        if name == "connection.start_tls.complete":
            # Should this fail, the report lacks the chain; the request itself goes on.
            with contextlib.suppress(AttributeError, ValueError, ssl.SSLError):
                _capture_tls(info["return_value"], attempt.tls)

    context = tls_context.build_context(
        identity=plan.identity if plan.is_tls else None,
        ca_bundle_pem=plan.ca_bundle_pem,
        verify=plan.verify,
        min_version=plan.min_version,
        max_version=plan.max_version,
        alpn=("h2", "http/1.1") if plan.http2 else ("http/1.1",),
    )
    transport, attempt.proxy = proxy.transport_for(
        plan.url,
        plan.proxy,
        ssl_context=context,
        http2=plan.http2,
        servername=plan.servername if plan.is_tls else None,
    )
    extensions: dict[str, Any] = {"trace": trace}
    if plan.servername and plan.is_tls:
        extensions["sni_hostname"] = plan.servername
    headers = dict(plan.headers)
    headers.update(extra_headers or {})
    if plan.servername and plan.is_tls and not any(k.lower() == "host" for k in headers):
        # Virtual hosts pick their server block by Host too (nginx): name the same one as SNI,
        # as curl --connect-to in the reproduction does.
        headers["Host"] = host_header(plan.servername, plan.port)
    timeout = httpx.Timeout(plan.timeout, connect=min(plan.connect_timeout, plan.timeout))
    # The whole request is bounded (httpx's timeouts are per read): past the deadline, or on
    # cancel, the sockets are shut down and the blocking call returns at once.
    call_off = after(plan.timeout, guard.expire)
    if cancel is not None:
        cancel.on_cancel(guard.stop)
    attempt.started = time.perf_counter()
    try:
        if cancel is not None and cancel.cancelled:
            raise _Cancelled()
        with httpx.Client(
            transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
        ) as client:
            request = client.build_request(
                plan.method, plan.url, headers=headers, content=plan.body, extensions=extensions
            )
            response = client.send(request, stream=True)
            try:
                attempt.status_code = response.status_code
                attempt.reason = response.reason_phrase
                attempt.http_version = response.http_version
                attempt.headers = tuple(response.headers.multi_items())
                attempt.body = response.read()
            finally:
                response.close()
    except _Cancelled:
        attempt.cancelled = True
    except httpx.TimeoutException as exc:
        attempt.error, attempt.timed_out = exc, True
    except (httpx.HTTPError, OSError, ssl.SSLError, ValueError) as exc:
        attempt.error = exc
    finally:
        call_off()
        if cancel is not None:
            cancel.forget(guard.stop)
        guard.close()
        attempt.finished = time.perf_counter()
    if cancel is not None and cancel.cancelled and attempt.status_code is None:
        attempt.cancelled = True
    elif guard.deadline_passed and attempt.error is not None:
        attempt.timed_out = True
    return attempt


class _Cancelled(Exception):
    pass


def host_header(name: str, port: int) -> str:
    host = name.encode("idna").decode("ascii") if not name.isascii() else name
    return host if port == 443 else f"{host}:{port}"


def _ms(marks: dict[str, float], start: str, end: str) -> float | None:
    if start in marks and end in marks:
        return round((marks[end] - marks[start]) * 1000, 3)
    return None


def _timings(attempt: _Attempt, oauth2_ms: float | None = None) -> Timings:
    marks = attempt.marks
    http = "http2" if "http2.send_request_headers.started" in marks else "http11"
    return Timings(
        connect_ms=_ms(marks, "connection.connect_tcp.started", "connection.connect_tcp.complete"),
        tls_ms=_ms(marks, "connection.start_tls.started", "connection.start_tls.complete"),
        ttfb_ms=_ms(
            marks,
            f"{http}.send_request_headers.started",
            f"{http}.receive_response_headers.complete",
        ),
        total_ms=round((attempt.finished - attempt.started) * 1000, 3),
        oauth2_ms=oauth2_ms,
    )


def _plain_http_answer(host: str, port: int, timeout: float) -> bool:
    """Does the port answer plain HTTP? (Only asked after a TLS attempt failed oddly.)"""
    try:
        with socket.create_connection((host, port), timeout=min(timeout, 3.0)) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\nHost: " + host.encode("idna") + b"\r\n\r\n")
            answer = b""
            while len(answer) < 2048:
                try:
                    chunk = sock.recv(2048 - len(answer))
                except TimeoutError:
                    break  # a server that keeps the connection open: judge what came
                if not chunk:
                    break
                answer += chunk
                if not answer.startswith(b"HTTP/"[: len(answer)]):
                    break
    except OSError:
        return False
    # nginx answers plain HTTP on its TLS ports too, only to say that it wants TLS there.
    return answer.startswith(b"HTTP/") and NGINX_PLAIN_TO_TLS.encode() not in answer


def _report(
    plan: RequestPlan, attempt: _Attempt, recorder: handshake.MessageRecorder
) -> HandshakeReport:
    tls = attempt.tls
    completed = "connection.start_tls.complete" in attempt.marks
    chain_der: tuple[bytes, ...] = tls.get("chain_der", ())
    cas_der = list(recorder.acceptable_cas_der)
    requested = recorder.cert_requested
    version, cipher = tls.get("version"), tls.get("cipher")
    probed = plain_http = False
    error = attempt.error
    alert = recorder.received_alert or recorder.sent_alert
    verify_error = next(
        (e.verify_message for e in _chain(error) if isinstance(e, ssl.SSLCertVerificationError)),
        None,
    )
    connected = "connection.connect_tcp.complete" in attempt.marks
    via = attempt.proxy if attempt.proxy.used else None
    tunnel = via is None or "tunnel.http11.receive_response_headers.complete" in attempt.marks
    tunnel = tunnel and not any(isinstance(e, httpx_proxy_error()) for e in _chain(error))
    opener = _tunnel_opener(via, plan) if via is not None else None
    server_version = None
    if plan.is_tls and error is not None and connected and tunnel and not attempt.timed_out:
        if not recorder.server_hello and via is None:
            plain_http = _plain_http_answer(plan.host, plan.port, plan.timeout)
        if not recorder.server_hello and not plain_http and (plan.min_version or plan.max_version):
            # No version in common: which one does the server speak when offered both?
            from knoxtui.net.probe import probe

            server_version = probe(
                plan.host,
                plan.port,
                servername=_sni(plan),
                timeout=min(plan.timeout, 5.0),
                opener=opener,
            ).tls_version
        if recorder.server_hello and (not chain_der or not requested):
            from knoxtui.net.probe import probe

            found = probe(
                plan.host,
                plan.port,
                servername=_sni(plan),
                min_version=plan.min_version,
                max_version=plan.max_version,
                timeout=min(plan.timeout, 5.0),
                opener=opener,
            )
            probed = True
            chain_der = chain_der or found.server_chain_der
            if not requested and found.cert_requested:
                requested, cas_der = True, list(found.acceptable_cas_der)
            version = version or found.tls_version
            cipher = cipher or found.cipher
    identity = plan.identity
    sent = bool(recorder.client_cert_sent) if identity else False
    accepted: bool | None = None
    if identity and cas_der:
        issuers = set(identity.chain_issuers_der or (identity.issuer_der,))
        accepted = bool(issuers & set(cas_der))
    if alert is None and error is not None:
        from knoxtui.net.diagnosis import alert_in_text

        name = alert_in_text(error_text(error))
        if name:
            alert = Alert(name, None, True, "received")
    server_chain = tuple(_describe_der(der) for der in chain_der)
    return HandshakeReport(
        tls_version=version,
        cipher=cipher,
        alpn=tls.get("alpn"),
        servername=_sni(plan) if plan.is_tls else None,
        server_chain=server_chain,
        server_verified=bool(completed and plan.verify and plan.is_tls),
        verify_enabled=plan.verify,
        verify_error=verify_error,
        client_cert_requested=requested,
        acceptable_client_cas=tuple(decode_name(der) for der in cas_der),
        client_cert_sent=sent,
        client_cert_fingerprint=identity.fingerprint_sha256 if identity and sent else None,
        client_issuer_accepted=accepted,
        alert=alert,
        connected=connected,
        handshake_completed=completed,
        server_hello_seen=recorder.server_hello,
        plain_http_answer=plain_http,
        probed=probed,
        server_tls_version=server_version,
        error=error_text(error),
    )


def _sni(plan: RequestPlan) -> str | None:
    """The name sent as SNI: none for an IP literal (TLS carries host names only)."""
    from knoxtui.net.diagnosis import _is_ip

    if plan.servername:
        return plan.servername
    return None if _is_ip(plan.host) else plan.host


def httpx_proxy_error() -> type[BaseException]:
    import httpx

    return httpx.ProxyError


def _tunnel_opener(via: ProxyChoice, plan: RequestPlan) -> Any:
    """For a diagnostic probe through the same proxy: a socket tunnelled to the server."""

    def opener(timeout: float) -> socket.socket:
        sock, answer = proxy.ask_connect(via, plan.host, plan.port, timeout=timeout)
        if sock is None:
            raise OSError(answer.error or f"the proxy answered {answer.status} {answer.reason}")
        return sock

    return opener


def _chain(exc: BaseException | None) -> list[BaseException]:
    from knoxtui.net.diagnosis import exception_chain

    return list(exception_chain(exc))


def _perform(
    plan: RequestPlan,
    extra_headers: dict[str, str] | None = None,
    oauth2_ms: float | None = None,
    cancel: Cancellation | None = None,
) -> tuple[_Attempt, HandshakeReport, Diagnosis]:
    recorder = handshake.start_recording()
    try:
        attempt = _send(plan, extra_headers, cancel)
    finally:
        handshake.stop_recording()
    if attempt.cancelled:
        report = HandshakeReport(verify_enabled=plan.verify)
        return attempt, report, cancelled_diagnosis(attempt.finished - attempt.started)
    report = _report(plan, attempt, recorder)
    via = attempt.proxy if attempt.proxy.used else None
    asked = None
    if via is not None and any(
        isinstance(e, httpx_proxy_error()) and str(e).startswith(("407", "401"))
        for e in _chain(attempt.error)
    ):
        # httpx keeps no headers of a refused CONNECT: ask once more, without credentials, to
        # name the scheme the proxy wants (its Proxy-Authenticate header).
        _, answer = proxy.ask_connect(
            via, plan.host, plan.port, timeout=min(plan.timeout, 5.0), credentials=False
        )
        asked = answer.header("Proxy-Authenticate")
    elif via is not None and attempt.status_code == 407:
        asked = next((v for k, v in attempt.headers if k.lower() == "proxy-authenticate"), None)
    diagnosis = diagnose(
        plan,
        report,
        error=attempt.error,
        status_code=attempt.status_code if attempt.error is None else None,
        body=attempt.body,
        now=clock.now(),
        timed_out=attempt.timed_out,
        via=via,
        tunnel_open=via is None
        or not plan.is_tls
        or "tunnel.http11.receive_response_headers.complete" in attempt.marks,
        proxy_authenticate=asked,
    )
    return attempt, report, diagnosis


def cancelled_diagnosis(seconds: float) -> Diagnosis:
    return Diagnosis(
        "cancelled",
        "none",
        f"The request was cancelled after {seconds:.1f} s; nothing was received.",
        None,
    )


def _transport(
    plan: RequestPlan, cancel: Cancellation | None = None
) -> tuple[int | None, bytes, float | None, Diagnosis, HandshakeReport | None]:
    try:
        attempt, report, diagnosis = _perform(plan, cancel=cancel)
    except KnoxError as exc:
        return None, b"", None, Diagnosis(exc.code, "config", exc.message, exc.hint), None
    total = round((attempt.finished - attempt.started) * 1000, 3)
    status = attempt.status_code if attempt.error is None else None
    return status, attempt.body, total, diagnosis, report


def failed_before_connecting(
    plan: RequestPlan | None, diagnosis: Diagnosis, **names: Any
) -> RequestResult:
    """A result for a request that never opened a connection (config problems)."""
    return RequestResult(
        method=plan.method if plan else names.get("method", "GET"),
        url=plan.display_url if plan else names.get("url", ""),
        status_code=None,
        reason=None,
        headers=(),
        body=b"",
        size=0,
        timings=Timings(),
        report=HandshakeReport(verify_enabled=plan.verify if plan else True),
        diagnosis=diagnosis,
        route_name=plan.route_name if plan else names.get("route_name"),
        environment=plan.environment if plan else names.get("environment"),
        certificate_secret=plan.certificate_secret if plan else names.get("certificate_secret"),
    )


def forget_secrets() -> None:
    """Drop what this process holds in memory: cached TLS contexts (with their keys) and OAuth2
    tokens. For the TUI's lock."""
    from knoxtui.net import oauth2

    tls_context.clear_cache()
    oauth2.clear_cache()


def execute(plan: RequestPlan, cancel: Cancellation | None = None) -> RequestResult:
    """Run the plan: the OAuth2 token first when the route has one, then the request (and its
    same-origin redirects when the route follows them). `cancel` stops it from another thread."""
    warnings: list[str] = []
    if not plan.verify and plan.is_tls:
        warnings.append(UNVERIFIED_WARNING)
        if plan.oauth2 is not None and plan.oauth2.auth_method != "tls_client_auth":
            warnings.append(unverified_token_warning(plan.oauth2.token_url))
    if not plan.is_tls:
        warnings.append(PLAINTEXT_WARNING)
    extra: dict[str, str] = {}
    step: OAuth2Step | None = None
    if plan.oauth2 is not None:

        def transport(token_plan: RequestPlan) -> Any:
            return _transport(token_plan, cancel)

        token, step = obtain_token(plan.oauth2, plan, transport)
        if token is None:
            assert step.diagnosis is not None
            result = failed_before_connecting(plan, step.diagnosis)
            # The token exchange's handshake is the one worth showing (e.g. its accepted CAs).
            report = step.report or result.report
            return _with(result, oauth2_step=step, warnings=tuple(warnings), report=report)
        extra["Authorization"] = f"Bearer {token}"
    current = plan
    for _hop in range(MAX_REDIRECTS + 1):
        try:
            attempt, report, diagnosis = _perform(
                current, extra, step.duration_ms if step else None, cancel
            )
        except KnoxError as exc:
            diagnosis = Diagnosis(exc.code, "config", exc.message, exc.hint)
            return _with(
                failed_before_connecting(plan, diagnosis),
                oauth2_step=step,
                warnings=tuple(warnings),
            )
        location = _location(attempt)
        if location is None or not diagnosis.ok:
            break
        target = urljoin(current.url, location)
        if not plan.follow_redirects:
            diagnosis = replace(
                diagnosis,
                summary=f"HTTP {attempt.status_code}: a redirect to {visible(location)} (not "
                "followed: the route's follow_redirects is false).",
            )
            break
        nxt = replace(current, url=target, display_url=target)
        if nxt.origin != current.origin:
            origin = "{}://{}:{}".format(*nxt.origin)
            diagnosis = Diagnosis(
                "redirect_not_followed",
                "server",
                f"Stopped at HTTP {attempt.status_code}: the server redirects to another origin, "
                f"{visible(origin)}. The client certificate, the Authorization header and "
                "secret values only ever go to the route's own origin, so it was not followed.",
                "If that origin is the API's real address, put it in target_url.",
            )
            break
        if attempt.status_code == 303 or (
            attempt.status_code in (301, 302) and current.method == "POST"
        ):
            nxt = replace(nxt, method="GET", body=None, display_body=None)
        current = nxt
    return RequestResult(
        method=plan.method,
        url=plan.display_url,
        status_code=attempt.status_code,
        reason=attempt.reason,
        headers=attempt.headers,
        body=attempt.body,
        size=len(attempt.body),
        timings=_timings(attempt, step.duration_ms if step else None),
        report=report,
        diagnosis=diagnosis,
        oauth2_step=step,
        warnings=tuple(warnings),
        http_version=attempt.http_version,
        route_name=plan.route_name,
        environment=plan.environment,
        certificate_secret=plan.certificate_secret,
        proxy=attempt.proxy if attempt.proxy.used else None,
        final_url=current.display_url if current is not plan else None,
    )


def _location(attempt: _Attempt) -> str | None:
    if attempt.status_code is None or not 300 <= attempt.status_code < 400:
        return None
    return next((v for k, v in attempt.headers if k.lower() == "location"), None)


def _with(result: RequestResult, **changes: Any) -> RequestResult:
    return replace(result, **changes)
