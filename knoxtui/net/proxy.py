"""The way to the server: direct, or through an HTTP forward proxy (CONNECT tunnel for https://).

`transport_for` is the one place that decides: the route's `proxy` key (a URL or "none"), else the
command line's `--proxy`/`--no-proxy`, else the environment read as curl reads it (`https_proxy`,
`HTTPS_PROXY`, `all_proxy`, `ALL_PROXY`, `no_proxy`/`NO_PROXY`; `http_proxy` lowercase only). The
TLS context goes to the server through the tunnel; the proxy sees only the CONNECT line, so the
client certificate is never offered to it. Proxy passwords are redacted in every shown form."""

from __future__ import annotations

import base64
import ipaddress
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from knoxtui.errors import KnoxError

SOURCES = ("route", "option", "env")
_MAX_ANSWER = 16 * 1024


class ProxyConfigError(KnoxError):
    """A proxy URL knoxtui cannot use (scheme, port)."""

    code = "invalid_route"


@dataclass(frozen=True)
class ProxySetting:
    """What the route or the command line asks for. mode: "route" | "option" (with a URL),
    "none" (direct, from the route or --no-proxy) or "env" (read the environment)."""

    mode: str = "env"
    url: str | None = field(default=None, repr=False)  # resolved: may hold the password
    # as written ({{secret:NAME}} unresolved; a literal password stays in it: never shown raw)
    display_url: str | None = field(default=None, repr=False)
    why: str = ""  # for mode "none": 'route proxy "none"' or "--no-proxy"


@dataclass(frozen=True)
class ProxyChoice:
    """The proxy one request goes through (url None: direct), where it came from and why."""

    url: str | None = field(default=None, repr=False)
    source: str | None = None  # "route" | "option" | "env" | None (direct)
    reason: str = "no proxy configured"
    display_url: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return (
            f"ProxyChoice(url={self.shown_url!r}, source={self.source!r}, reason={self.reason!r})"
        )

    @property
    def used(self) -> bool:
        return self.url is not None

    @property
    def shown_url(self) -> str | None:
        """The proxy URL with any password replaced by ***."""
        if self.url is None:
            return None
        return redact(self.display_url or self.url)

    @property
    def host(self) -> str:
        return urlsplit(self.url or "").hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.url or "").port or 80

    @property
    def has_credentials(self) -> bool:
        return bool(urlsplit(self.url or "").username)

    def to_dict(self) -> dict[str, Any] | None:
        if self.url is None:
            return None
        return {"url": self.shown_url, "source": self.source, "reason": self.reason}


def redact(url: str) -> str:
    """`http://user:***@host:port`: the password never shown, whatever it is."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL (https://[::1): hide any user-info all the same
        return re.sub(r"//[^/]*@", "//***@", url)
    if parts.password is None and "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    netloc = f"{user}:***@{hostport}" if ":" in userinfo else f"{user}@{hostport}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def without_credentials(url: str) -> str:
    parts = urlsplit(url)
    hostport = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, hostport, "", "", ""))


def _env(environ: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return name, value
    return None


def env_proxy(url: str, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(variable name, proxy URL) curl would use for `url`, or None."""
    scheme = urlsplit(url).scheme
    if scheme == "https":
        found = _env(environ, "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
    else:
        # curl ignores HTTP_PROXY in capitals (a CGI program's request header could set it).
        found = _env(environ, "http_proxy", "all_proxy", "ALL_PROXY")
    if found is None:
        return None
    name, value = found
    if "://" not in value:
        value = "http://" + value
    return name, value


def no_proxy_match(host: str, no_proxy: str) -> str | None:
    """The NO_PROXY entry that makes `host` go direct (curl's rules: `*`, a host name and its
    subdomains, an IP address, a CIDR range), or None."""
    host = host.strip("[]").lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for raw in no_proxy.replace(" ", ",").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return entry
        if entry.startswith("[") and "]" in entry:
            name = entry[1 : entry.index("]")]
        else:
            name = entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry
        name = name.lstrip(".").rstrip(".")
        if address is not None:
            try:
                if "/" in name:
                    if address in ipaddress.ip_network(name, strict=False):
                        return raw.strip()
                elif address == ipaddress.ip_address(name):
                    return raw.strip()
            except ValueError:
                continue
        elif host == name or host.endswith("." + name):
            return raw.strip()
    return None


def choose(
    url: str, setting: ProxySetting | None, environ: Mapping[str, str] | None = None
) -> ProxyChoice:
    """Which proxy a request to `url` goes through, and why."""
    setting = setting or ProxySetting()
    if setting.mode == "none":
        return ProxyChoice(reason=setting.why or "proxy set to none")
    if setting.mode in ("route", "option") and setting.url:
        reason = "the route's proxy key" if setting.mode == "route" else "--proxy"
        return _checked(
            ProxyChoice(setting.url, setting.mode, reason, setting.display_url or setting.url)
        )
    env = os.environ if environ is None else environ
    found = env_proxy(url, env)
    if found is None:
        return ProxyChoice(reason="no proxy in the route, the command line or the environment")
    name, value = found
    host = urlsplit(url).hostname or ""
    no_proxy = _env(env, "no_proxy", "NO_PROXY")
    if no_proxy is not None:
        entry = no_proxy_match(host, no_proxy[1])
        if entry is not None:
            return ProxyChoice(reason=f"{no_proxy[0]} has {entry!r} for {host}: direct")
    return _checked(ProxyChoice(value, "env", f"{name} is set", value))


def _checked(choice: ProxyChoice) -> ProxyChoice:
    parts = urlsplit(choice.url or "")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme != "http" or not parts.hostname or port == -1:
        where = {"route": "the route's proxy", "option": "--proxy", "env": choice.reason}
        raise ProxyConfigError(
            f"The proxy {redact(choice.url or '')!r} ({where.get(choice.source or '', '')}) is not "
            "an http://host:port proxy; knoxtui speaks to HTTP forward proxies only.",
            hint='Use http://[user[:password]@]host:port, or go direct (proxy "none" on the '
            "route, --no-proxy on the command line).",
        )
    return choice


def transport_for(
    url: str,
    setting: ProxySetting | None,
    *,
    ssl_context: Any,
    http2: bool = False,
    servername: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Any, ProxyChoice]:
    """The httpx transport for one request to `url`, and the proxy choice it embodies. The
    context (with the client certificate) is used for the server only, inside the tunnel.
    `servername` (the route's tls_servername) is the SNI and certificate name in the tunnel too
    (direct requests carry it in the request's sni_hostname extension)."""
    import httpx

    choice = choose(url, setting, environ)
    proxy = httpx.Proxy(choice.url) if choice.url is not None else None
    transport = httpx.HTTPTransport(verify=ssl_context, http2=http2, proxy=proxy, retries=0)
    host = urlsplit(url).hostname
    if proxy is not None and servername and host and servername != host:
        # httpcore's tunnel takes the server name from the URL; a backend that renames it is
        # the one place to say otherwise.
        transport._pool._network_backend = _ServerNameBackend(host, servername)
    return transport, choice


def _server_name_backend() -> Any:
    import httpcore

    class Stream(httpcore.NetworkStream):
        def __init__(self, inner: Any, host: str, servername: str) -> None:
            self._inner, self._host, self._servername = inner, host, servername

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            data: bytes = self._inner.read(max_bytes, timeout)
            return data

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._inner.write(buffer, timeout)

        def close(self) -> None:
            self._inner.close()

        def start_tls(
            self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
        ) -> Any:
            name = self._servername if server_hostname == self._host else server_hostname
            return self._inner.start_tls(ssl_context, name, timeout)

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

    class Backend(httpcore.SyncBackend):
        def __init__(self, host: str, servername: str) -> None:
            self._host, self._servername = host, servername

        def connect_tcp(self, *args: Any, **kwargs: Any) -> Any:
            inner = super().connect_tcp(*args, **kwargs)
            return Stream(inner, self._host, self._servername)

    return Backend


def _ServerNameBackend(host: str, servername: str) -> Any:
    return _server_name_backend()(host, servername)


@dataclass(frozen=True)
class ConnectAnswer:
    status: int | None
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    error: str | None = None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def _connect_request(choice: ProxyChoice, host: str, port: int, credentials: bool) -> bytes:
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    parts = urlsplit(choice.url or "")
    if credentials and parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        lines.append("Proxy-Authorization: Basic " + base64.b64encode(pair.encode()).decode())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("idna" if not host.isascii() else "ascii")


def _read_answer(sock: socket.socket) -> ConnectAnswer:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < _MAX_ANSWER:
        chunk = sock.recv(1)  # byte by byte: nothing of the tunnel's TLS may be consumed
        if not chunk:
            break
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    words = lines[0].split(" ", 2) if lines and lines[0] else []
    if len(words) < 2 or not words[1].isdigit():
        return ConnectAnswer(None, error="the proxy did not answer with HTTP")
    headers = tuple(
        (k.strip(), v.strip()) for k, sep, v in (line.partition(":") for line in lines[1:]) if sep
    )
    return ConnectAnswer(int(words[1]), words[2] if len(words) > 2 else "", headers)


def ask_connect(
    choice: ProxyChoice, host: str, port: int, *, timeout: float, credentials: bool = True
) -> tuple[socket.socket | None, ConnectAnswer]:
    """Send CONNECT ourselves (for diagnostic probes): the open tunnel on 2xx, else None and
    the proxy's answer (status, reason, Proxy-Authenticate...)."""
    try:
        sock = socket.create_connection((choice.host, choice.port), timeout=timeout)
    except OSError as exc:
        return None, ConnectAnswer(None, error=str(exc))
    try:
        sock.sendall(_connect_request(choice, host, port, credentials))
        answer = _read_answer(sock)
    except OSError as exc:
        sock.close()
        return None, ConnectAnswer(None, error=str(exc))
    if answer.status is not None and 200 <= answer.status < 300:
        return sock, answer
    sock.close()
    return None, answer


def proxy_user_placeholder(choice: ProxyChoice) -> str | None:
    """`user:<proxy-password>` for the curl reproduction, or None without credentials."""
    parts = urlsplit(choice.url or "")
    if parts.username is None:
        return None
    return f"{quote(unquote(parts.username), safe='')}:<proxy-password>"
