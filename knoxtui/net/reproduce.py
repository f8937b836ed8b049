"""The same request as standard `curl` and `openssl s_client` commands, for a support desk. Secret
material appears only as placeholders (<key-file>, <secret:NAME>, <token>)."""

from __future__ import annotations

import shlex
from urllib.parse import unquote

from knoxtui import refs
from knoxtui.net import proxy
from knoxtui.net.plan import RequestPlan
from knoxtui.net.proxy import ProxyChoice


def _placeholders(text: str) -> str:
    return refs.SECRET_REF.sub(lambda m: f"<secret:{m.group(1)}>", text)


def _proxy(plan: RequestPlan) -> ProxyChoice | None:
    try:
        return proxy.choose(plan.url, plan.proxy)
    except proxy.ProxyConfigError:
        return None


def reproduction_commands(plan: RequestPlan) -> dict[str, str]:
    curl = ["curl", "-v", "-X", plan.method]
    via = _proxy(plan)
    if via is not None and via.used:
        curl += ["-x", proxy.without_credentials(via.url or "")]
        user = proxy.proxy_user_placeholder(via)
        if user:
            curl += ["--proxy-user", user]
    elif plan.proxy is not None and plan.proxy.mode == "none":
        curl += ["--noproxy", "*"]
    if plan.http2:
        curl.append("--http2")
    if plan.identity is not None:
        curl += ["--cert", "<cert-file>", "--key", "<key-file>"]
    if not plan.verify:
        curl.append("--insecure")
    elif plan.ca_bundle_pem:
        curl += ["--cacert", "<ca-bundle-file>"]
    if plan.min_version:
        curl.append(f"--tlsv{plan.min_version}")
    if plan.max_version:
        curl += ["--tls-max", plan.max_version]
    url = _placeholders(plan.display_url)
    if plan.servername and plan.servername != plan.host:
        # curl sends SNI from the URL host; --connect-to keeps the name and dials the real host.
        curl += ["--connect-to", f"{plan.servername}:{plan.port}:{plan.host}:{plan.port}"]
        url = url.replace(f"//{plan.host}", f"//{plan.servername}", 1)
    for name, value in plan.display_headers.items():
        curl += ["-H", f"{name}: {_placeholders(value)}"]
    if plan.oauth2 is not None:
        curl += ["-H", "Authorization: Bearer <token>"]
    if plan.display_body is not None:
        curl += ["--data-binary", _placeholders(plan.display_body)]
    curl.append(url)
    s_client = [
        "openssl",
        "s_client",
        "-connect",
        f"{plan.host}:{plan.port}",
        *(["-servername", plan.servername or plan.host] if _sni_name(plan) else ["-noservername"]),
        "-showcerts",
    ]
    if via is not None and via.used:
        s_client += ["-proxy", f"{via.host}:{via.port}"]
        user = proxy.proxy_user_placeholder(via)
        if user:  # user:<proxy-password>, the user as in the URL (percent-encoded)
            name, _, secret = user.rpartition(":")
            s_client += ["-proxy_user", unquote(name), "-proxy_pass", f"pass:{secret}"]
    if plan.identity is not None:
        s_client += ["-cert", "<cert-file>", "-key", "<key-file>"]
    if plan.ca_bundle_pem:
        s_client += ["-CAfile", "<ca-bundle-file>"]
    if plan.min_version == plan.max_version and plan.min_version:
        s_client.append("-tls1_" + plan.min_version.split(".")[1])
    elif plan.max_version == "1.2":
        s_client.append("-no_tls1_3")
    elif plan.min_version == "1.3":
        s_client.append("-no_tls1_2")
    if plan.verify:
        s_client.append("-verify_return_error")
    s_client.append("-state")
    return {"curl": _join(curl), "openssl": _join(s_client)}


def _sni_name(plan: RequestPlan) -> bool:
    import ipaddress

    if plan.servername:
        return True
    try:
        ipaddress.ip_address(plan.host)
    except ValueError:
        return True
    return False


def _join(words: list[str]) -> str:
    # Placeholders stay readable: quote only what needs it, but never the <...> words.
    return " ".join(w if w.startswith("<") and w.endswith(">") else shlex.quote(w) for w in words)
