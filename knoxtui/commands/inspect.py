"""`knoxtui inspect FILE... [--key F] [--key-passphrase-file F] [--json]`: read certificates and
keys in any format and say whether they will work for mTLS, and if not, why (DESIGN.md §4).

The human view mirrors the KnoxCall verify view. Colour is plain ANSI, only on a terminal and
never with NO_COLOR set: this module must not import rich or textual.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from knoxtui.safetext import visible

if TYPE_CHECKING:
    from collections.abc import Callable

    from knoxtui.pki import CertificateBundle, ExpiryThresholds

_RESET = "\033[0m"
_BOLD = "\033[1m"
_DIM = "\033[2m"
_COLOURS = {
    "valid": "\033[32m",
    "warning": "\033[33m",
    "urgent": "\033[38;5;208m",
    "expired": "\033[31m",
    "not_yet_valid": "\033[34m",
    "error": "\033[31m",
    "info": "\033[36m",
}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "inspect",
        help="read certificates/keys in any format and check them for mTLS",
        description="Read certificates and keys (PEM, DER, .p12/.pfx, .p7b, Java .jks/.jceks) and "
        "say whether they "
        "will work for mutual TLS. Exit 0: no error; 1: an error finding; 2: missing file or "
        "bad usage.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="certificate file(s)")
    parser.add_argument("--key", type=Path, metavar="FILE", help="the private key, if separate")
    parser.add_argument(
        "--key-passphrase-file",
        type=Path,
        metavar="F",
        help="read the key (or .p12/.pfx) passphrase from the first line of F (- for stdin); "
        "without it, a terminal is asked when one is needed",
    )
    parser.add_argument(
        "--alias", metavar="ALIAS", help="the private-key entry of a Java keystore (.jks/.jceks)"
    )
    parser.add_argument(
        "--entry-passphrase-file",
        type=Path,
        metavar="F",
        help="a Java keystore key entry's own password, when it differs from the store password",
    )
    parser.add_argument("--warning-days", type=int, metavar="N", help="warn at N days left")
    parser.add_argument("--urgent-days", type=int, metavar="N", help="urgent at N days left")
    parser.add_argument("--json", action="store_true", help="print JSON (a list for several files)")
    parser.set_defaults(handler=run)


def _thresholds(args: argparse.Namespace) -> ExpiryThresholds:
    from knoxtui import config
    from knoxtui.errors import UsageError
    from knoxtui.pki import ExpiryThresholds

    settings = config.load()
    for problem in settings.problems:
        print(f"knoxtui: {problem}", file=sys.stderr)
    warning = args.warning_days if args.warning_days is not None else settings.warning_days
    urgent = args.urgent_days if args.urgent_days is not None else settings.urgent_days
    if warning < 0 or urgent < 0 or urgent > warning:
        raise UsageError(
            f"Expiry thresholds must be 0 <= urgent ({urgent}) <= warning ({warning}) days.",
            hint="Use e.g. --warning-days 90 --urgent-days 30.",
        )
    return ExpiryThresholds(warning_days=warning, urgent_days=urgent)


def run(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import (
        emit_json,
        load_asking_passphrase,
        read_input_file,
        read_secret_file,
    )
    from knoxtui.pki import load_bundle
    from knoxtui.safetext import visible

    thresholds = _thresholds(args)
    # Read everything first: a missing file is a usage error (exit 2) before any output.
    inputs = [(path, read_input_file(path, "certificate file")) for path in args.files]
    key_data = read_input_file(args.key, "key file") if args.key else None
    passphrase = (
        read_secret_file(args.key_passphrase_file, "key passphrase file")
        if args.key_passphrase_file
        else None
    )

    entry_passphrase = (
        read_secret_file(args.entry_passphrase_file, "entry passphrase file")
        if args.entry_passphrase_file
        else None
    )

    def loader(path: Path, data: bytes) -> Callable[[str | None], CertificateBundle]:
        return lambda given: load_bundle(
            data,
            key_data=key_data,
            passphrase=given,
            source=str(path),
            thresholds=thresholds,
            alias=args.alias,
            entry_passphrase=entry_passphrase,
            # A certificate alone is worth inspecting (has_private_key: false); but a --key
            # file without a key in it is an error.
            require_key=key_data is not None,
        )

    # Without --key-passphrase-file, a file that needs a passphrase asks for it on a terminal.
    bundles = [
        load_asking_passphrase(
            loader(path, data), passphrase, f"Passphrase for {visible(str(args.key or path))}"
        )[0]
        for path, data in inputs
    ]
    if args.json:
        emit_json(bundles[0].to_dict() if len(bundles) == 1 else [b.to_dict() for b in bundles])
    else:
        colour = _use_colour(sys.stdout)
        for index, bundle in enumerate(bundles):
            if index:
                sys.stdout.write("\n")
            sys.stdout.write(render(bundle, colour=colour))
    return 0 if all(b.valid for b in bundles) else 1


def _use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def render(bundle: CertificateBundle, *, colour: bool = False) -> str:
    """The human view of one bundle."""

    def paint(text: str, style: str) -> str:
        code = _COLOURS.get(style, style)
        return f"{code}{text}{_RESET}" if colour and code else text

    lines = [paint(visible(bundle.source), _BOLD) + f"  ({bundle.format.upper()})"]
    rows: list[tuple[str, str]] = []
    leaf = bundle.leaf
    if leaf is not None:
        status = str(bundle.status)
        days = leaf.days_remaining(bundle.now)
        rows += [
            ("Subject", visible(leaf.subject) or "(empty)"),
            ("Issuer", visible(leaf.issuer) or "(empty)"),
            ("Valid from", leaf.valid_from.strftime("%Y-%m-%d %H:%M:%S UTC")),
            ("Expires", leaf.valid_until.strftime("%Y-%m-%d %H:%M:%S UTC")),
            ("Days remaining", paint(str(days), status)),
            ("Status", paint(status.upper().replace("_", " "), status)),
        ]
    rows.append(("Private key", _key_text(bundle, paint)))
    rows.append(("Passphrase", _passphrase_text(bundle)))
    if leaf is not None:
        from knoxtui.pki import public_key_description

        rows += [
            ("Serial", leaf.serial),
            ("SHA-256", leaf.fingerprint_sha256),
            ("Public key", public_key_description(leaf.certificate)),
            ("Signature", leaf.signature_algorithm),
        ]
        if leaf.san:
            rows.append(("SAN", visible(", ".join(leaf.san))))
        if leaf.key_usage:
            rows.append(("Key usage", ", ".join(leaf.key_usage)))
        eku = ", ".join(leaf.extended_key_usage) or "(none: any use)"
        rows.append(("Extended key usage", eku))
        rows.append(("Client auth", "yes" if leaf.client_auth_eku else paint("no", "error")))
        if leaf.organization_identifier:
            rows.append(("Organization ID", visible(leaf.organization_identifier)))
        if leaf.psd2 is not None:
            psd2 = leaf.psd2
            parts = []
            if psd2.qc_compliance:
                parts.append("QcCompliance")
            if psd2.qc_types:
                parts.append("QcType " + "/".join(psd2.qc_types))
            if psd2.roles:
                parts.append("roles " + ", ".join(psd2.roles))
            if psd2.nca_name or psd2.nca_id:
                parts.append(f"NCA {psd2.nca_name or '?'} ({psd2.nca_id or '?'})")
            rows.append(("PSD2/eIDAS", visible("; ".join(parts)) or "qcStatements present"))
    width = max(len(name) for name, _ in rows)
    lines += [f"  {name.ljust(width)}  {value}" for name, value in rows]
    if len(bundle.certificates) > 1:
        lines.append(f"  {'Chain'.ljust(width)}  leaf to root:")
        for number, info in enumerate(bundle.certificates):
            state = str(info.status(bundle.now, bundle.thresholds))
            lines.append(
                f"  {''.ljust(width)}  {number}. {visible(info.subject_cn or info.subject)} "
                f"(until {info.valid_until:%Y-%m-%d}, " + paint(state, state) + ")"
            )
    for item in bundle.findings:
        mark = {"error": "✗", "warning": "!", "info": "i"}[str(item.severity)]
        lines.append(
            paint(f"  {mark} {item.severity} {item.code}: ", str(item.severity))
            + visible(item.message)
        )
        if item.hint:
            lines.append(paint(f"      fix: {visible(item.hint)}", _DIM))
    if not bundle.valid:
        verdict, style = "NOT usable as is", "error"
    elif bundle.private_key is None:
        # a certificate alone is fine to inspect (CA bundles) but cannot authenticate a client
        verdict, style = "Certificate OK; mTLS also needs its private key (--key F)", "warning"
    else:
        verdict, style = "OK for mTLS", "valid"
    lines.append("  " + paint(verdict, style))
    return "\n".join(lines) + "\n"


def _key_text(bundle: CertificateBundle, paint: object) -> str:
    assert callable(paint)
    if bundle.private_key is not None:
        described = bundle.public_key or ""
        if bundle.key_matches is True:
            return f"present, matches the certificate ({described})"
        if bundle.key_matches is False:
            return str(paint(f"present, DOES NOT MATCH the certificate ({described})", "error"))
        return f"present ({described})"
    if bundle.has_private_key:
        return "present, locked (could not be decrypted)"
    if bundle.encrypted_key:
        return "unknown until the file is opened (password-protected)"
    return "not present (mTLS needs one: give it with --key F)"


def _passphrase_text(bundle: CertificateBundle) -> str:
    if not bundle.has_private_key and not bundle.encrypted_key:
        return "-"
    if bundle.encrypted_key:
        return "protected (encrypted key)" if bundle.private_key is not None else "required"
    return "none (unencrypted key)"
