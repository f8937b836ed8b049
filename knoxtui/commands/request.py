"""`knoxtui test` (a real request on a saved route, with the handshake report and diagnosis) and
`knoxtui lab` (a local mTLS server to practise on)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from knoxtui.errors import NotFound, UsageError

DEFAULT_ENV = "default"  # the vault's DEFAULT_ENV, without importing the vault to parse


def register(sub: Any) -> None:
    from knoxtui.cli import add_vault_options

    test = sub.add_parser(
        "test",
        help="send a real request on a saved route and diagnose the handshake",
        description="Send a request on ROUTE and report the response, the TLS handshake and a "
        "diagnosis. Exit 0 when the diagnosis is ok, 1 otherwise, 2 for usage errors.",
    )
    test.add_argument("route", metavar="ROUTE", help="the saved route's name")
    test.add_argument(
        "--env", default=DEFAULT_ENV, metavar="E", help="environment (default: default)"
    )
    test.add_argument("--method", metavar="M", help="HTTP method (default: the route's, else GET)")
    test.add_argument("--path", metavar="P", help="path (and query) appended to the route's URL")
    test.add_argument(
        "--header", action="append", default=[], metavar="K:V", help="extra header (repeatable)"
    )
    test.add_argument("--data", metavar="D", help="request body; @FILE reads it from FILE")
    test.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="S",
        help="whole request, in seconds (default: the route's timeout_seconds, else 30)",
    )
    way = test.add_mutually_exclusive_group()
    way.add_argument(
        "--proxy",
        metavar="URL",
        help="go through this HTTP proxy (http://[user[:password]@]host:port), whatever the "
        "route or the environment say",
    )
    way.add_argument(
        "--no-proxy",
        action="store_true",
        help="go direct, ignoring the route's proxy and HTTPS_PROXY/ALL_PROXY",
    )
    test.add_argument("--json", action="store_true", help="print the result as JSON")
    add_vault_options(test)
    test.set_defaults(handler=run_test)

    lab = sub.add_parser(
        "lab",
        help="run a local mTLS server with its own throwaway CA, for practice",
        description="Serve on 127.0.0.1 until Ctrl-C, with a throwaway CA; writes a client "
        "certificate bundle to use against it.",
    )
    lab.add_argument(
        "--port", type=int, default=8443, metavar="N", help="port (default 8443; 0 = any)"
    )
    lab.add_argument("--behaviour", default="ok", metavar="B", help="how to behave (see --list)")
    lab.add_argument(
        "--dir", type=Path, metavar="D", help="where to write the CA and client bundle"
    )
    lab.add_argument("--list", action="store_true", help="list the behaviours and exit")
    lab.set_defaults(handler=run_lab)


def _headers(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition(":")
        if not sep or not name.strip() or any(c in name.strip() for c in " \t"):
            raise UsageError(
                f"--header '{item.split(':')[0]}…' is not NAME:VALUE.",
                hint='Example: --header "Accept: application/json"',
            )
        out[name.strip()] = value.strip()
    return out


def _check_proxy_option(url: str) -> None:
    from urllib.parse import urlsplit

    from knoxtui.net.proxy import redact

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # https://[::1 (an unclosed IPv6 bracket) or a bad port
        parts, port = urlsplit(""), None
    if parts.scheme != "http" or not parts.hostname or port is None:
        raise UsageError(
            f"--proxy {redact(url)!r} is not http://[user[:password]@]host:port.",
            hint="Example: --proxy http://proxy.corp:8080",
        )


def _body(data: str | None) -> str | None:
    if data is None or not data.startswith("@"):
        return data
    from knoxtui.commands.common import read_input_file

    raw = read_input_file(Path(data[1:]), "request body file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"The request body file '{data[1:]}' is not UTF-8 text.") from None


def run_test(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import emit_json, open_vault
    from knoxtui.net import reproduction_commands
    from knoxtui.routes import Route
    from knoxtui.routes.runner import run_saved_route

    headers = _headers(args.header)
    body = _body(args.data)
    if args.timeout is not None and not 0 < args.timeout <= 3600:
        raise UsageError("--timeout must be a number of seconds above 0 and at most 3600.")
    if args.proxy is not None:
        _check_proxy_option(args.proxy)
    with open_vault(args) as vault:
        try:
            record = vault.get_route(args.route)
        except NotFound as exc:
            # Naming a route that does not exist is a usage error (exit 2), not a diagnosis.
            raise UsageError(exc.message, hint="See the saved routes: knoxtui route list") from None
        route = Route.from_config(record.name, dict(record.config))
        plan, result = run_saved_route(
            vault,
            route,
            args.env,
            method=args.method,
            path=args.path,
            headers=headers,
            body=body,
            timeout=args.timeout,
            proxy=args.proxy,
            no_proxy=args.no_proxy,
        )
        fits = _fitting(vault, result)
    commands = reproduction_commands(plan) if plan is not None else None
    if args.json:
        data = result.to_dict()
        data["reproduce"] = commands
        data["fitting_certificates"] = [f.to_dict() for f in fits]
        emit_json(data)
    else:
        sys.stdout.write(render_text(result, commands, fits))
    return 0 if result.ok else 1


def _fitting(vault: Any, result: Any) -> list[Any]:
    """The stored certificates whose chain leads to a CA the server named (the console's list:
    whenever the server named its CAs), each with its expiry status. Metadata only."""
    if not result.report.acceptable_client_cas:
        return []
    from dataclasses import dataclass

    from knoxtui import clock
    from knoxtui.lifecycle.fit import fitting_stored_certificates

    now = clock.now()
    statuses = {
        (secret.name, value.environment): str(value.certificate.status(now))
        for secret in vault.list_secrets()
        if secret.secret_type == "certificate"
        for value in secret.values
        if value.certificate is not None
    }

    @dataclass(frozen=True)
    class Fit:
        secret: str
        environment: str
        matched_ca: str
        direct: bool
        status: str

        @property
        def usable(self) -> bool:
            return self.status not in ("expired", "not_yet_valid")

        def to_dict(self) -> dict[str, Any]:
            return {
                "secret": self.secret,
                "environment": self.environment,
                "matched_ca": self.matched_ca,
                "direct": self.direct,
                "status": self.status,
                "usable": self.usable,
            }

    return [
        Fit(f.secret, f.environment, f.matched_ca, f.direct, statuses.get(key, "valid"))
        for f in fitting_stored_certificates(vault, result.report.acceptable_client_cas)
        for key in [(f.secret, f.environment)]
    ]


def _yes(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def render_text(result: Any, commands: dict[str, str] | None, fits: Sequence[Any] = ()) -> str:
    """The human report of `knoxtui test`. Everything that came from the server, a file or the
    user goes through safetext: no control character reaches the terminal raw."""
    from knoxtui.safetext import body_text, visible

    report, diagnosis = result.report, result.diagnosis
    lines = [
        f"{visible(result.method)} {visible(result.url)}  "
        f"(route {visible(result.route_name)}, environment {visible(result.environment)})"
    ]
    mark = "OK" if diagnosis.ok else "FAIL"
    lines.append(f"{mark}  {diagnosis.code}  [{diagnosis.side}]  {visible(diagnosis.summary)}")
    if diagnosis.fix:
        lines.append(f"      fix: {visible(diagnosis.fix)}")
    for warning in result.warnings:
        lines.append(f"WARNING  {visible(warning)}")
    if getattr(result, "final_url", None):
        lines.append(f"Redirected to {visible(result.final_url)} (same origin)")
    via = getattr(result, "proxy", None)
    if via is not None:
        lines.append(f"Proxy    {visible(via.shown_url)} ({via.source}: {visible(via.reason)})")
    step = result.oauth2_step
    if step is not None:
        state = "cached" if step.cached else f"HTTP {step.status_code}"
        took = f" in {step.duration_ms:.1f} ms" if step.duration_ms is not None else ""
        lines.append(
            f"\nOAuth2   {step.auth_method} at {visible(step.token_url)}: {state}{took}"
            + (f", token {step.token_preview}" if step.token_preview else "")
            + (
                f" — {visible(step.error)}"
                if step.error and step.error != diagnosis.summary
                else (" — failed (see above)" if step.error else "")
            )
        )
    lines.append("\nTLS")
    if report.tls_version or report.handshake_completed:
        lines.append(
            f"  {report.tls_version or '?'}  {report.cipher or '?'}  ALPN {report.alpn or '-'}"
            f"  SNI {visible(report.servername) if report.servername else '- (none: IP address)'}"
        )
    reached = report.server_hello_seen or report.probed or report.handshake_completed
    plain = result.url.startswith("http://")
    if plain:
        lines.append("  none: the URL is plain http://")
    elif not report.connected and result.status_code is None:
        lines.append("  no connection was made")
    elif not reached and result.status_code is None:
        lines.append(
            "  the handshake ended before the server sent its certificate"
            if report.alert
            else "  the server did not answer with a TLS handshake"
        )
    reached = reached and not plain
    verified = "OFF (not checked)" if not report.verify_enabled else _yes(report.server_verified)
    if reached or (result.status_code is not None and not plain):
        lines.append(
            f"  server verified: {verified}"
            + (f" ({visible(report.verify_error)})" if report.verify_error else "")
        )
    for index, info in enumerate(report.server_chain):
        lines.append(
            f"  server[{index}] {visible(info.subject)}\n            issuer "
            f"{visible(info.issuer)}, valid until {info.valid_until:%Y-%m-%d}"
        )
    if reached:
        lines.append(
            f"  client certificate requested: {_yes(report.client_cert_requested)}, "
            f"sent: {_yes(report.client_cert_sent)}"
            + (f" ({report.client_cert_fingerprint})" if report.client_cert_fingerprint else "")
        )
    if report.acceptable_client_cas:
        lines.append("  acceptable client CAs:")
        lines += [f"    - {visible(name)}" for name in report.acceptable_client_cas]
        lines.append(f"  our issuer among them: {_yes(report.client_issuer_accepted)}")
    if report.acceptable_client_cas and not diagnosis.ok and diagnosis.side == "client":
        usable = [f for f in fits if getattr(f, "usable", True)]
        unusable = [f for f in fits if not getattr(f, "usable", True)]
        if usable:
            lines.append("  stored certificates that fit:")
            lines += [
                f"    - {visible(f.secret)} ({visible(f.environment)}) via {visible(f.matched_ca)}"
                for f in usable
            ]
        else:
            lines.append("  stored certificates that fit: none")
        if unusable:
            lines.append("  chaining to an accepted CA but not usable now:")
            lines += [
                f"    - {visible(f.secret)} ({visible(f.environment)}): "
                + ("expired" if f.status == "expired" else "not yet valid")
                for f in unusable
            ]
    if report.alert:
        lines.append(f"  alert: {report.alert.name} ({report.alert.direction})")
    if report.probed:
        lines.append("  (details from a second, diagnostic handshake)")
    t = result.timings
    parts = [
        f"{label} {value:.1f} ms"
        for label, value in (
            ("connect", t.connect_ms),
            ("TLS", t.tls_ms),
            ("TTFB", t.ttfb_ms),
            ("total", t.total_ms),
        )
        if value is not None
    ]
    if parts:
        lines.append("Timings  " + " · ".join(parts))
    if result.status_code is not None:
        lines.append(
            f"\n{result.http_version or 'HTTP'} {result.status_code} "
            f"{visible(result.reason or '')}".rstrip()
        )
        lines += [f"{visible(name)}: {visible(value)}" for name, value in result.headers]
        _, binary = body_text(result.body)
        if binary:
            lines += ["", f"(binary, {result.size} bytes)"]
        else:
            text = visible(result.body_text(), multiline=True)
            if text:
                lines.append("")
                lines.append(
                    text if len(text) <= 8000 else text[:8000] + f"\n… ({result.size} bytes)"
                )
    if commands:
        lines.append("\nReproduce (replace the <placeholders>):")
        lines.append(f"  {visible(commands['curl'])}")
        lines.append(f"  {visible(commands['openssl'])}")
    return "\n".join(lines) + "\n"


def run_lab(args: argparse.Namespace) -> int:
    from knoxtui.lab import BEHAVIOURS, CLIENT_ID, SERVER_NAME, LabServer

    if args.list:
        width = max(len(name) for name in BEHAVIOURS)
        for name, text in BEHAVIOURS.items():
            print(f"{name.ljust(width)}  {text}")
        return 0
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a TCP port (0-65535).")
    if args.dir is None:
        from knoxtui import paths

        folder = paths.lab_dir()
    else:
        folder = args.dir
    try:
        lab = LabServer(folder, port=args.port, behaviour=args.behaviour)
    except OSError as exc:
        raise UsageError(
            f"Cannot listen on 127.0.0.1:{args.port}: {exc.strerror}.",
            hint="Pick another port with --port N (0 picks a free one).",
        ) from None
    files = lab.files
    with lab:
        err = sys.stderr
        print(f"knoxtui lab ({args.behaviour}: {BEHAVIOURS[args.behaviour]})", file=err)
        print(f"  listening on   {lab.url}   (server name {SERVER_NAME})", file=err)
        print(f"  CA bundle      {files.ca_bundle}", file=err)
        print(f"  client cert    {files.client_cert}", file=err)
        print(f"  client key     {files.client_key}", file=err)
        print(
            f"  other CA cert  {files.other_ca_client_cert} (+ .key)\n"
            f"  expired cert   {files.expired_client_cert} (+ .key)",
            file=err,
        )
        if args.behaviour == "oauth2":
            print(
                f"  token URL      {lab.token_url}  client_id {CLIENT_ID}, "
                f"secret in {files.client_secret}",
                file=err,
            )
        print(
            "  try: knoxtui secret add lab-cert --type certificate "
            f"--file {files.client_cert} --key {files.client_key}",
            file=err,
        )
        print("Ctrl-C stops the lab.", file=err)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("\nlab stopped.", file=err)
    return 0
