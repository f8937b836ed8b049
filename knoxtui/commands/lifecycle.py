"""Certificate lifecycle commands: check, csr, rotate, retire, report and `secret export`.

Handlers import the vault and the lifecycle domain lazily, so building the parser stays cheap.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knoxtui.cli import add_vault_options
from knoxtui.errors import KnoxError, UsageError
from knoxtui.safetext import visible

if TYPE_CHECKING:
    from knoxtui.lifecycle.expiry import ExpiryReport

KEY_TYPES = ("rsa-2048", "rsa-3072", "rsa-4096", "ec-p256", "ec-p384")
DEFAULT_GRACE_DAYS = 30


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    check = sub.add_parser(
        "check",
        help="expiry report of every certificate; exit 1 when one is urgent or expired",
        description="Every certificate value with days remaining, status and the routes and "
        "environments that break when it expires. Exit 1 when anything has expired, is urgent "
        "(config: urgent_days, default 30) or, with --days N, expires within N days.",
    )
    check.add_argument("--days", type=_non_negative, metavar="N", help="also fail within N days")
    check.add_argument("--json", action="store_true", help="print JSON")
    add_vault_options(check)
    check.set_defaults(handler=_check)

    csr = sub.add_parser("csr", help="new key pairs and certificate signing requests")
    csr_sub = csr.add_subparsers(dest="csr_command", metavar="ACTION", required=True)
    new = csr_sub.add_parser(
        "new",
        help="make a key pair in the vault and write its CSR",
        description="Generate a key pair kept (encrypted) in the vault as pending key NAME and "
        "write a CSR for it. Subject and SANs come from --like SECRET (the certificate being "
        "renewed) or --subject DN; --san adds names.",
    )
    new.add_argument(
        "name", metavar="NAME", help="pending key name (the certificate's future name)"
    )
    source = new.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--like", metavar="SECRET", help="copy subject and SANs of this certificate"
    )
    source.add_argument(
        "--subject",
        metavar="DN",
        help='subject, "CN=api.example,O=Org,C=GB" or "/C=GB/O=Org/CN=api.example"',
    )
    new.add_argument(
        "--subject-override",
        metavar="DN",
        dest="subject_override",
        help="with --like: replace the copied subject",
    )
    new.add_argument(
        "--san",
        action="append",
        default=[],
        metavar="NAME",
        help="extra subject alternative name: DNS:x, IP:1.2.3.4, email:x, URI:x "
        "(repeatable, comma-separated allowed)",
    )
    new.add_argument("--env", metavar="E", help="with --like: which environment value to copy")
    new.add_argument(
        "--key-type",
        choices=KEY_TYPES,
        default=None,
        help="default: that of the --like certificate, else rsa-2048",
    )
    new.add_argument(
        "--key-passphrase-file",
        type=Path,
        metavar="F",
        help="protect the key with this passphrase (default: generate one and store it)",
    )
    new.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="F.csr",
        help="where to write the CSR ('-' for stdout)",
    )
    new.add_argument("--force", action="store_true", help="replace --out if it exists")
    new.add_argument("--json", action="store_true", help="print JSON")
    add_vault_options(new)
    new.set_defaults(handler=_csr_new)

    attach = csr_sub.add_parser(
        "attach",
        help="attach the certificate the CA returned to pending key NAME",
        description="Check that the certificate pairs with pending key NAME and that its chain "
        "links, then store it as certificate secret NAME (or --as SECRET) in environment --env.",
    )
    attach.add_argument("name", metavar="NAME")
    attach.add_argument(
        "--cert",
        type=Path,
        required=True,
        metavar="F",
        help="certificate from the CA (PEM/DER/PKCS#7, chain allowed)",
    )
    attach.add_argument("--chain", type=Path, metavar="F", help="intermediate CA certificates")
    attach.add_argument("--as", dest="secret", metavar="SECRET", help="secret name (default: NAME)")
    attach.add_argument("--env", metavar="E", help="environment (default: default)")
    attach.add_argument("--description", metavar="D")
    attach.add_argument("--allow-expired", action="store_true")
    attach.add_argument("--json", action="store_true", help="print JSON")
    add_vault_options(attach)
    attach.set_defaults(handler=_csr_attach)

    sign = csr_sub.add_parser(
        "sign",
        help="have a remote's PKI sign pending key NAME's CSR, and attach the certificate",
        description="Send the CSR of pending key NAME to <pki-mount>/sign/ROLE on the remote; the "
        "key stays in the vault. The certificate and chain are attached like csr attach.",
    )
    sign.add_argument("name", metavar="NAME")
    sign.add_argument("--remote", metavar="NAME", help="remote (default: the only one)")
    sign.add_argument("--role", required=True, metavar="ROLE", help="PKI role on the remote")
    sign.add_argument("--ttl", metavar="T", help="requested lifetime, e.g. 720h")
    sign.add_argument("--as", dest="secret", metavar="SECRET", help="secret name (default: NAME)")
    sign.add_argument("--env", metavar="E", help="environment (default: default)")
    sign.add_argument("--json", action="store_true", help="print JSON")
    add_vault_options(sign)
    sign.set_defaults(handler=_csr_sign)

    listing = csr_sub.add_parser("list", help="pending keys waiting for a certificate")
    listing.add_argument("--json", action="store_true", help="print JSON")
    add_vault_options(listing)
    listing.set_defaults(handler=_csr_list)

    show = csr_sub.add_parser("show", help="print (or write) the CSR of pending key NAME")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--out", type=Path, metavar="F.csr")
    show.add_argument("--force", action="store_true", help="replace --out if it exists")
    add_vault_options(show)
    show.set_defaults(handler=_csr_show)

    remove = csr_sub.add_parser("rm", help="discard pending key NAME (its CSR becomes useless)")
    remove.add_argument("name", metavar="NAME")
    add_vault_options(remove)
    remove.set_defaults(handler=_csr_rm)

    rotate = sub.add_parser(
        "rotate",
        help="repoint routes from secret OLD to NEW in one transaction",
        description="Repoint every route (or the --route ones) from OLD to NEW in one "
        "transaction, audited; OLD is marked retiring with a grace-period date. --dry-run shows "
        "the plan; --rehearse ENV runs each route with both certificates first.",
    )
    rotate.add_argument("old", metavar="OLD")
    rotate.add_argument("new", metavar="NEW")
    rotate.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="R",
        dest="routes",
        help="only this route (repeatable)",
    )
    rotate.add_argument(
        "--grace-days",
        type=_non_negative,
        default=DEFAULT_GRACE_DAYS,
        metavar="N",
        help=f"keep OLD for N days (default {DEFAULT_GRACE_DAYS})",
    )
    rotate.add_argument("--dry-run", action="store_true", help="show what would change")
    rotate.add_argument(
        "--rehearse",
        metavar="ENV",
        help="run each route's request with OLD and with NEW in ENV; change nothing. Exit 0 "
        "when NEW works on every route; 1 on a regression (NEW fails where OLD passed) or when "
        "both fail (inconclusive)",
    )
    rotate.add_argument("--json", action="store_true", help="print JSON")
    add_vault_options(rotate)
    rotate.set_defaults(handler=_rotate)

    retire = sub.add_parser(
        "retire",
        help="remove a retiring secret once its grace period is over",
        description="Remove secret OLD, marked retiring by `knoxtui rotate`. Refused while a "
        "route still uses it; before the grace-period date only with --force.",
    )
    retire.add_argument("old", metavar="OLD")
    retire.add_argument("--force", action="store_true", help="remove before the grace date")
    retire.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    retire.add_argument(
        "--revoke", action="store_true", help="revoke it on the remote PKI that signed it first"
    )
    add_vault_options(retire)
    retire.set_defaults(handler=_retire)

    report = sub.add_parser(
        "report",
        help="certificate inventory for auditors (metadata only)",
        description="All certificate metadata (never values) with expiry status, routes and "
        "change dates, as CSV, JSON or Markdown.",
    )
    report.add_argument(
        "--format", choices=("csv", "json", "md"), default="md", dest="report_format"
    )
    report.add_argument("--out", type=Path, metavar="F", help="write to F instead of stdout")
    report.add_argument("--force", action="store_true", help="replace --out if it exists")
    add_vault_options(report)
    report.set_defaults(handler=_report)

    _register_secret_export(sub)


def _secret_subparsers(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The `secret` command's own subcommands (made by commands.secret), or a new `secret`."""
    parser = sub.choices.get("secret")
    if parser is None:
        parser = sub.add_parser("secret", help="manage secrets")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="secret_command", metavar="ACTION", required=True)


def _register_secret_export(sub: argparse._SubParsersAction) -> None:
    actions = _secret_subparsers(sub)
    if "export" in actions.choices:
        return
    export = actions.add_parser(
        "export",
        help="write a certificate and its key to a PKCS#12 or PEM file (audited)",
        description="Export certificate secret NAME as PKCS#12 (AES-256/PBKDF2; --legacy for "
        "3DES/SHA-1) or PEM with an encrypted key. The file is created with mode 0600. Without "
        "--export-passphrase-file the passphrase is asked twice. An unencrypted key is written "
        "only with --insecure-plaintext-key.",
    )
    export.add_argument("name", metavar="NAME")
    export.add_argument("--env", metavar="E", help="environment value (needed when several)")
    export.add_argument("--format", choices=("pkcs12", "pem"), required=True, dest="export_format")
    export.add_argument("--out", type=Path, required=True, metavar="F")
    export.add_argument("--export-passphrase-file", type=Path, metavar="P")
    export.add_argument(
        "--legacy",
        action="store_true",
        help="PKCS#12 with 3DES/SHA-1 for old Java keystores and Windows",
    )
    export.add_argument(
        "--insecure-plaintext-key",
        action="store_true",
        help="write the private key unencrypted (dangerous)",
    )
    export.add_argument("--force", action="store_true", help="replace --out if it exists")
    export.add_argument("--json", action="store_true", help="print JSON")
    add_vault_options(export)
    export.set_defaults(handler=secret_export)


# ---- handlers -------------------------------------------------------------------------------


def _print_check(report: ExpiryReport, width: int | None = None) -> None:
    """The expiry table, fitted to the terminal (100 columns when not one): the route and
    environment lists shrink to `a, b, +3` before anything else does."""
    rows = report.rows
    if not rows:
        print("No certificates or CA bundles in the vault.", file=sys.stderr)
        return
    from knoxtui.lifecycle.expiry import elide_names, status_word

    if width is None:
        width = shutil.get_terminal_size((100, 24)).columns
    width = max(width, 60)
    header = ("STATUS", "DAYS", "SECRET", "ENV", "EXPIRES", "ROUTES", "USED IN")
    fixed = []
    for row in rows:
        status = status_word(row.status)
        status += " (retiring)" if row.secret_status == "retiring" else ""
        fixed.append(
            (
                ("! " if row.due else "  ") + status,
                str(row.days_remaining),
                visible(row.label),
                visible(row.environment),
                row.valid_until.strftime("%Y-%m-%d"),
            )
        )
    widths = [max(len(line[i]) for line in [header[:5], *fixed]) for i in range(5)]
    # what is left for the two lists, shared in proportion to what they would like
    left = width - sum(widths) - 2 * 6
    want_routes = max(len(header[5]), *(len(", ".join(r.routes)) for r in rows))
    want_envs = max(len(header[6]), *(len(", ".join(r.breaks_environments)) for r in rows))
    if want_routes + want_envs <= left:
        route_width, env_width = want_routes, want_envs
    else:
        env_width = max(len(header[6]), min(want_envs, left // 2))
        route_width = max(len(header[5]), left - env_width)
    table = [header]
    for row, cells in zip(rows, fixed, strict=True):
        table.append(
            (
                *cells,
                elide_names(row.routes, route_width),
                elide_names(row.breaks_environments, env_width),
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())


def _check(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import emit_json, open_vault
    from knoxtui.lifecycle.expiry import expiry_report, status_word

    with open_vault(args) as vault:
        report = expiry_report(vault, within_days=args.days)
    if args.json:
        emit_json(report.to_dict())
    else:
        _print_check(report)
        counts = report.counts()
        summary = ", ".join(f"{n} {status_word(s)}" for s, n in counts.items() if n)
        limit = f"; failing within {args.days} days" if args.days is not None else ""
        bundles = sum(1 for row in report.rows if row.kind == "ca_bundle")
        what = f"{len(report.rows) - bundles} certificate value(s)" + (
            f" and {bundles} CA bundle(s)" if bundles else ""
        )
        print(f"{what}: {summary or 'none'}{limit}.", file=sys.stderr)
        if report.due:
            print(f"{len(report.due)} need(s) renewal now (marked !).", file=sys.stderr)
        for row in report.due:
            if row.remotes:
                print(
                    f"'{visible(row.secret)}' ({visible(row.environment)}) is also used by "
                    f"remote(s) {', '.join(visible(r) for r in row.remotes)}: push and pull "
                    "fail with it.",
                    file=sys.stderr,
                )
            if row.kind == "ca_bundle" and row.routes:
                # A CA bundle is renewed by its issuer's new CA certificate, not by a CSR.
                print(
                    f"CA bundle '{visible(row.secret)}' ({visible(row.environment)}): "
                    f"'{visible(row.subject_cn or row.subject)}' "
                    f"{'expired' if row.days_remaining < 0 else 'expires'} "
                    f"{row.valid_until:%Y-%m-%d}; routes that trust it (they break if this CA is "
                    f"the one their server's chain needs): {', '.join(row.routes)}. "
                    "Get the new CA certificate from the server's operator and replace the value "
                    f"(knoxtui secret add {row.secret} --type string --value-file F --replace).",
                    file=sys.stderr,
                )
    return 0 if report.ok else 1


def _read_passphrase_file(path: Path | None, what: str) -> str | None:
    if path is None:
        return None
    from knoxtui.commands.common import read_secret_file

    value = read_secret_file(path, what)
    if not value:
        raise UsageError(f"The {what} '{path}' is empty.")
    return value


def _csr_new(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import emit_json, open_vault
    from knoxtui.lifecycle.renewal import new_signing_request, write_public_file

    if args.subject_override and not args.like:
        raise UsageError("--subject-override goes with --like; use --subject alone otherwise.")
    passphrase = _read_passphrase_file(args.key_passphrase_file, "key passphrase file")
    to_stdout = str(args.out) == "-"
    if not to_stdout:
        from knoxtui.lifecycle.export import check_target

        check_target(args.out, overwrite=args.force)
    with open_vault(args, create=args.subject is not None) as vault:
        pending = new_signing_request(
            vault,
            args.name,
            subject=args.subject_override or args.subject,
            like=args.like,
            like_environment=args.env,
            san=args.san,
            key_type=args.key_type,
            key_passphrase=passphrase,
        )
        # the renewal belongs where the old certificate is used: say so in the next step
        like_envs = (
            [e for e in vault.get_secret(args.like).environments if e != "default"]
            if args.like
            else []
        )
    if to_stdout:
        sys.stdout.write(pending.csr_pem.decode("ascii"))
    else:
        try:
            write_public_file(args.out, pending.csr_pem, overwrite=args.force)
        except KnoxError as exc:
            raise type(exc)(
                exc.message + f" The pending key '{pending.name}' was stored.",
                hint=f"Write its CSR again with: knoxtui csr show {pending.name} --out F",
                code=exc.code,
            ) from None
    if args.json and not to_stdout:
        emit_json({**pending.to_dict(), "csr_file": str(args.out)})
    elif not args.json:
        where = "stdout" if to_stdout else f"'{args.out}'"
        kept = "generated and stored" if pending.passphrase_generated else "yours, stored"
        print(
            f"Pending key '{pending.name}' ({pending.key_type}) stored in the vault; CSR written "
            f"to {where}.\n  subject: {pending.subject}\n  san: {', '.join(pending.san) or '-'}\n"
            f"  key passphrase: {kept}"
            f"\nSend the CSR to your CA, then: knoxtui csr attach {pending.name} --cert F"
            + (
                f" --env E (where '{args.like}' has values: {', '.join(like_envs)})"
                if like_envs
                else ""
            ),
            file=sys.stderr,
        )
    return 0


def _csr_attach(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import open_vault, read_input_file
    from knoxtui.lifecycle.renewal import attach_certificate

    cert_data = read_input_file(args.cert, "certificate file")
    chain_data = read_input_file(args.chain, "chain file") if args.chain else None
    with open_vault(args) as vault:
        result = attach_certificate(
            vault,
            args.name,
            cert_data,
            chain_data=chain_data,
            secret_name=args.secret,
            environment=args.env,
            description=args.description,
            allow_expired=args.allow_expired,
        )
    _print_attached(result, as_json=args.json)
    return 0


def _csr_sign(args: argparse.Namespace) -> int:
    from knoxtui.commands.remote import csr_sign

    _print_attached(csr_sign(args), as_json=args.json)
    return 0


def _print_attached(result: Any, *, as_json: bool) -> None:
    from knoxtui.commands.common import emit_json

    if as_json:
        emit_json(result.to_dict())
    else:
        print(
            f"Certificate attached: secret '{result.secret}' ({result.environment}), "
            f"{result.subject}, valid until {result.valid_until:%Y-%m-%d}.",
            file=sys.stderr,
        )
        for finding in result.warnings:
            print(f"  warning {finding.code}: {visible(finding.message)}", file=sys.stderr)
            if finding.hint:
                print(f"    hint: {visible(finding.hint)}", file=sys.stderr)
        if result.replaces:
            print(
                f"Next: knoxtui rotate {result.replaces} {result.secret} --rehearse ENV, "
                f"then knoxtui rotate {result.replaces} {result.secret}",
                file=sys.stderr,
            )


def _csr_list(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import emit_json, open_vault

    with open_vault(args) as vault:
        pending = vault.list_pending_keys()
    if args.json:
        emit_json([item.to_dict() for item in pending])
        return 0
    if not pending:
        print("No pending keys.", file=sys.stderr)
    for item in pending:
        print(f"{item.name}  {item.key_type}  {item.created_at:%Y-%m-%d}  {visible(item.subject)}")
    return 0


def _csr_show(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import open_vault
    from knoxtui.lifecycle.renewal import write_public_file

    with open_vault(args) as vault:
        pending = vault.get_pending_key(args.name)
    if args.out is None or str(args.out) == "-":
        sys.stdout.write(pending.csr_pem.decode("ascii"))
    else:
        write_public_file(args.out, pending.csr_pem, overwrite=args.force)
        print(f"CSR of '{pending.name}' written to '{args.out}'.", file=sys.stderr)
    return 0


def _csr_rm(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import open_vault

    with open_vault(args) as vault:
        vault.remove_pending_key(args.name)
    print(f"Pending key '{args.name}' removed.", file=sys.stderr)
    return 0


def _rehearsal_progress(done: int, total: int) -> None:
    sys.stderr.write(
        f"\rrehearsing: {done}/{total} requests done" + ("\n" if done == total else "")
    )
    sys.stderr.flush()


def _rotate(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import emit_json, open_vault
    from knoxtui.lifecycle import rotation

    with open_vault(args) as vault:
        if args.rehearse:
            rehearsal = rotation.rehearse(
                vault,
                args.old,
                args.new,
                args.rehearse,
                routes=args.routes,
                progress=_rehearsal_progress if sys.stderr.isatty() else None,
            )
            if args.json:
                emit_json(rehearsal.to_dict())
            else:
                _print_rehearsal(rehearsal)
            return 0 if rehearsal.ok else 1
        plan = rotation.plan_rotation(vault, args.old, args.new, routes=args.routes)
        if args.dry_run:
            if args.json:
                emit_json(plan.to_dict())
            else:
                _print_plan(plan, dry_run=True)
            return 0
        result = rotation.rotate(
            vault, args.old, args.new, routes=args.routes, grace_days=args.grace_days
        )
    if args.json:
        emit_json(result.to_dict())
    else:
        _print_plan(result.plan, dry_run=False)
        grace = f"{result.grace_until:%Y-%m-%d}" if result.grace_until else "-"
        print(
            f"'{args.old}' is now retiring until {grace}. Remove it afterwards with: "
            f"knoxtui retire {args.old}",
            file=sys.stderr,
        )
    return 0


def _print_plan(plan: Any, *, dry_run: bool) -> None:
    verb = "would repoint" if dry_run else "repointed"
    if not plan.changes and not plan.oauth2_changes:
        print(f"No route uses '{plan.old}'; nothing to repoint.", file=sys.stderr)
    for change in plan.changes:
        print(
            f"{verb} route '{change.route}': {', '.join(change.fields)}  {plan.old} -> {plan.new}"
        )
    # oauth2 clients presenting OLD at their token endpoint move with the routes
    for name in plan.oauth2_changes:
        print(f"{verb} oauth2 secret '{name}': certificate_secret_id  {plan.old} -> {plan.new}")
    for note in plan.notes:
        print(f"note: {note}", file=sys.stderr)
    for name in plan.untouched:
        print(f"left alone: route '{name}' (still uses {plan.old})")


def _print_rehearsal(rehearsal: Any) -> None:
    for pair in rehearsal.runs:
        print(f"route '{pair.route}' in {rehearsal.environment}:")
        for label, run in (("old", pair.old), ("new", pair.new)):
            print(f"  {label} {run.secret}: {run.summary}")
    print(rehearsal.verdict_sentence, file=sys.stderr)


def _retire(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import open_vault, stdin_is_interactive
    from knoxtui.lifecycle import rotation

    with open_vault(args) as vault:
        rotation.check_retire(vault, args.old, force=args.force)
        if not args.yes:
            if not stdin_is_interactive():
                raise UsageError(
                    f"Removing '{args.old}' needs confirmation.", hint="Add --yes to confirm."
                )
            answer = input(f"Remove secret '{args.old}' and all its values? Type its name: ")
            if answer.strip() != args.old:
                print("Not removed.", file=sys.stderr)
                return 1
        if args.revoke:
            from knoxtui.commands.remote import revoke_issued

            revoke_issued(vault, args.old)
        rotation.retire(vault, args.old, force=args.force)
    print(f"Secret '{args.old}' removed.", file=sys.stderr)
    return 0


def _report(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import open_vault
    from knoxtui.lifecycle.export import write_private_file
    from knoxtui.lifecycle.inventory import inventory_report, render

    with open_vault(args) as vault:
        text = render(inventory_report(vault), args.report_format)
    if args.out is None:
        sys.stdout.write(text)
    else:
        # names of every certificate, route and the vault path: for the auditor, not the world
        write_private_file(args.out, text.encode("utf-8"), overwrite=args.force)
        print(f"Report written to '{args.out}'.", file=sys.stderr)
    return 0


def secret_export(args: argparse.Namespace) -> int:
    """`knoxtui secret export` (registered under the vault helper's `secret` command)."""
    from knoxtui.commands.common import emit_json, open_vault, prompt_new_passphrase
    from knoxtui.lifecycle.export import check_target, export_secret, plan_export

    check_target(args.out, overwrite=args.force)
    passphrase = _read_passphrase_file(args.export_passphrase_file, "export passphrase file")
    with open_vault(args) as vault:
        plan = plan_export(
            vault,
            args.name,
            args.out,
            export_format=args.export_format,
            environment=args.env,
            legacy=args.legacy,
            overwrite=args.force,
        )
        if passphrase is None and plan.has_private_key and not args.insecure_plaintext_key:
            passphrase = prompt_new_passphrase("Export passphrase")
        result = export_secret(
            vault,
            args.name,
            args.out,
            export_format=args.export_format,
            passphrase=passphrase,
            environment=plan.environment,
            legacy=args.legacy,
            allow_plaintext_key=args.insecure_plaintext_key,
            overwrite=args.force,
        )
    if args.json:
        emit_json(result.to_dict())
    else:
        protection = (
            "no private key"
            if not result.has_private_key
            else ("key encrypted" if result.key_encrypted else "KEY UNENCRYPTED")
        )
        kind = {"pkcs12": "PKCS#12", "pem": "PEM"}[result.export_format]
        if result.legacy:
            kind += " (legacy 3DES/SHA-1)"
        print(
            f"Exported '{result.secret}' ({result.environment}) as {kind} to '{result.path}' "
            f"(mode 0600, {protection}).",
            file=sys.stderr,
        )
    return 0
