"""`knoxtui secret add|list|show|rm|import-json` and `knoxtui passwd` (DESIGN.md §4).

Values never reach stdout or stderr: only names, types, environments and certificate metadata.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knoxtui.cli import add_vault_options
from knoxtui.safetext import visible

if TYPE_CHECKING:
    from knoxtui.pki import ExpiryThresholds
    from knoxtui.vault import SecretInfo


def register(sub: argparse._SubParsersAction) -> None:
    secret = sub.add_parser("secret", help="add, list, show and remove vault secrets")
    actions = secret.add_subparsers(dest="secret_command", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="add a secret (creates the vault when missing)",
        description="Store a certificate (+key), a string or an oauth2 client in the vault. "
        "Every certificate is checked first; an error finding refuses it (exit 1).",
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--type", required=True, choices=("certificate", "string", "oauth2"))
    add.add_argument("--file", type=Path, metavar="F", help="certificate (PEM, DER, .p12/.pfx)")
    add.add_argument("--key", type=Path, metavar="F", help="private key file, if separate")
    add.add_argument(
        "--key-passphrase-file",
        type=Path,
        metavar="F",
        help="key/.p12 passphrase: first line of F, - for stdin (else asked on a terminal)",
    )
    add.add_argument(
        "--alias", metavar="ALIAS", help="the private-key entry of a Java keystore (.jks/.jceks)"
    )
    add.add_argument(
        "--entry-passphrase-file",
        type=Path,
        metavar="F",
        help="a Java keystore key entry's own password, when it differs from the store password",
    )
    add.add_argument("--value-file", type=Path, metavar="F", help="string value (whole file)")
    add.add_argument("--config", type=Path, metavar="F.json", help="oauth2 client config")
    add.add_argument("--env", default=None, metavar="E", help="environment (default: default)")
    add.add_argument("--description", default=None, metavar="D")
    add.add_argument(
        "--allow-expired",
        action="store_true",
        help="store an expired or not-yet-valid certificate (inventory), marked as such",
    )
    add.add_argument("--replace", action="store_true", help="replace this environment's value")
    add.add_argument("--json", action="store_true", help="print the stored secret as JSON")
    add_vault_options(add)
    add.set_defaults(handler=run_add)

    listing = actions.add_parser("list", help="list secrets (metadata only)")
    listing.add_argument("--json", action="store_true")
    add_vault_options(listing)
    listing.set_defaults(handler=run_list)

    show = actions.add_parser("show", help="show one secret's metadata")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true", help="KnoxCall GET /admin/secrets/{id} shape")
    add_vault_options(show)
    show.set_defaults(handler=run_show)

    remove = actions.add_parser("rm", help="remove a secret (or one --env value)")
    remove.add_argument("name", metavar="NAME")
    remove.add_argument("--env", default=None, metavar="E", help="remove only this environment")
    remove.add_argument("--force", action="store_true", help="remove even when routes still use it")
    remove.add_argument("--json", action="store_true")
    add_vault_options(remove)
    remove.set_defaults(handler=run_rm)

    importer = actions.add_parser(
        "import-json",
        help="import KnoxCall POST /admin/secrets bodies (one or a list)",
        description="Import the body of KnoxCall's POST /admin/secrets (name, secret_type, "
        "certificate_pem, private_key_pem, passphrase), a list of them, or an environment PUT "
        "body (with --env, and --name when the body has none). All or nothing.",
    )
    importer.add_argument("file", type=Path, metavar="F.json")
    importer.add_argument("--env", default=None, metavar="E")
    importer.add_argument("--name", default=None, metavar="NAME", help="for a PUT body")
    importer.add_argument("--allow-expired", action="store_true")
    importer.add_argument("--replace", action="store_true")
    importer.add_argument("--json", action="store_true")
    add_vault_options(importer)
    importer.set_defaults(handler=run_import)

    passwd = sub.add_parser(
        "passwd",
        help="change the vault passphrase",
        description="Re-encrypt the vault under a new passphrase (PRAGMA rekey, atomic). "
        "Without --new-passphrase-file it asks twice.",
    )
    passwd.add_argument("--new-passphrase-file", type=Path, metavar="F")
    add_vault_options(passwd)
    passwd.set_defaults(handler=run_passwd)


def _thresholds() -> ExpiryThresholds:
    from knoxtui.vault.models import default_thresholds

    return default_thresholds()


def _environment(args: argparse.Namespace) -> str:
    from knoxtui.vault import DEFAULT_ENV

    return args.env or DEFAULT_ENV


def _require(args: argparse.Namespace, option: str, secret_type: str) -> Path:
    value = getattr(args, option.lstrip("-").replace("-", "_"))
    if value is None:
        from knoxtui.errors import UsageError

        raise UsageError(f"--type {secret_type} needs {option} F.")
    return Path(value)


def _refuse_extra(args: argparse.Namespace, allowed: set[str]) -> None:
    from knoxtui.errors import UsageError

    given = {
        "--file": args.file,
        "--key": args.key,
        "--key-passphrase-file": args.key_passphrase_file,
        "--alias": args.alias,
        "--entry-passphrase-file": args.entry_passphrase_file,
        "--value-file": args.value_file,
        "--config": args.config,
    }
    extra = [name for name, value in given.items() if value is not None and name not in allowed]
    if extra:
        raise UsageError(f"--type {args.type} does not take {', '.join(extra)}.")


def _only_ca_certificates(bundle: Any) -> bool:
    return bool(bundle.certificates) and all(c.is_ca for c in bundle.certificates)


def _binary_ca_bundle(raw: bytes, path: Path) -> str:
    """A string value file that is not text: CA certificates in a binary container (a Java
    truststore, DER, PKCS#7) are stored as the PEM CA bundle a string value holds; anything else
    is refused with what to give instead."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from knoxtui.errors import InputFileError
    from knoxtui.pki import load_bundle

    bundle = load_bundle(raw, source=str(path))
    shown = visible(str(path))
    if bundle.has_private_key:
        raise InputFileError(
            f"The value file '{shown}' holds a private key ({bundle.format}); a string value "
            "is text.",
            hint="Store a client certificate and its key with --type certificate --file F.",
        )
    if not bundle.certificates or bundle.errors:
        raise InputFileError(
            f"The value file '{shown}' is not UTF-8 text.",
            hint="A string value is text (an API key, or PEM certificates for a CA bundle).",
        )
    print(
        f"knoxtui: '{shown}' is a {bundle.format.upper()} file of {len(bundle.certificates)} "
        "certificate(s); stored as their PEM CA bundle.",
        file=sys.stderr,
    )
    return "".join(c.certificate.public_bytes(Encoding.PEM).decode() for c in bundle.certificates)


def run_add(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import (
        load_asking_passphrase,
        open_vault,
        parse_json,
        read_input_file,
        read_secret_file,
    )
    from knoxtui.errors import ValidationError
    from knoxtui.safetext import visible
    from knoxtui.vault import OAuth2Config
    from knoxtui.vault.models import check_name

    check_name(args.name)
    env = _environment(args)
    check_name(env, "environment")
    # Read and check the input before the vault is opened (or created).
    if args.type == "certificate":
        _refuse_extra(
            args,
            {"--file", "--key", "--key-passphrase-file", "--alias", "--entry-passphrase-file"},
        )
        from knoxtui.pki import load_bundle

        path = _require(args, "--file", "certificate")
        data = read_input_file(path, "certificate file")
        key_data = read_input_file(args.key, "key file") if args.key else None
        passphrase = (
            read_secret_file(args.key_passphrase_file, "key passphrase file")
            if args.key_passphrase_file
            else None
        )
        thresholds = _thresholds()
        entry_passphrase = (
            read_secret_file(args.entry_passphrase_file, "entry passphrase file")
            if args.entry_passphrase_file
            else None
        )
        # Without --key-passphrase-file, an encrypted key or .p12 asks for it on a terminal.
        bundle, passphrase = load_asking_passphrase(
            lambda given: load_bundle(
                data,
                key_data=key_data,
                passphrase=given,
                source=str(path),
                thresholds=thresholds,
                require_key=True,
                alias=args.alias,
                entry_passphrase=entry_passphrase,
            ),
            passphrase,
            f"Passphrase for {visible(str(args.key or path))}",
        )
        # Refuse before creating a vault; the vault repeats the same check on the way in.
        allowed = {"expired", "not_yet_valid"} if args.allow_expired else set()
        blocking = [f for f in bundle.errors if f.code not in allowed]
        if blocking:
            hint = blocking[0].hint
            if blocking[0].code == "missing_private_key" and _only_ca_certificates(bundle):
                hint = (
                    "It holds only CA certificates: to trust them for a route's server, store "
                    f"them as a CA bundle: knoxtui secret add {args.name} --type string "
                    f"--value-file {visible(str(path))}"
                )
            raise ValidationError(blocking[0].message, hint=hint, code=blocking[0].code)
        with open_vault(args, create=True) as vault:
            info = vault.add_certificate(
                args.name,
                bundle,
                environment=env,
                description=args.description,
                key_passphrase=passphrase,
                allow_expired=args.allow_expired,
                replace=args.replace,
            )
        for finding in bundle.warnings:
            print(f"knoxtui: warning {finding.code}: {visible(finding.message)}", file=sys.stderr)
        if info.value(env) and info.value(env).certificate.allowed_expired:  # type: ignore[union-attr]
            print(
                "knoxtui: stored with --allow-expired; it will not work for mTLS.", file=sys.stderr
            )
    elif args.type == "string":
        _refuse_extra(args, {"--value-file"})
        raw = read_input_file(_require(args, "--value-file", "string"), "value file")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = _binary_ca_bundle(raw, Path(args.value_file))
        # A trailing newline is how editors end files, never part of an API key.
        value = text[:-1] if text.endswith("\n") and "-----BEGIN" not in text else text
        value = value[:-1] if value.endswith("\r") and "-----BEGIN" not in value else value
        with open_vault(args, create=True) as vault:
            info = vault.add_string(
                args.name,
                value,
                environment=env,
                description=args.description,
                replace=args.replace,
            )
    else:
        _refuse_extra(args, {"--config"})
        path = _require(args, "--config", "oauth2")
        raw = read_input_file(path, "oauth2 config file")
        try:
            data = parse_json(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValidationError(
                f"The oauth2 config '{path}' is not valid JSON ({_json_problem(exc)}).",
                code="invalid_oauth2",
            ) from None
        config = OAuth2Config.from_dict(data)
        with open_vault(args, create=True) as vault:
            info = vault.add_oauth2(
                args.name,
                config,
                environment=env,
                description=args.description,
                replace=args.replace,
            )
    return _report_stored([info], args, env)


def _json_problem(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    return "not UTF-8"


def _report_stored(infos: list[SecretInfo], args: argparse.Namespace, env: str | None) -> int:
    from knoxtui import clock
    from knoxtui.commands.common import emit_json

    now, thresholds = clock.now(), _thresholds()
    if args.json:
        shown = [info.to_dict(now, thresholds) for info in infos]
        emit_json(shown[0] if len(shown) == 1 and args.secret_command == "add" else shown)
        return 0
    for info in infos:
        envs = [env] if env else list(info.environments)
        for name in envs:
            value = info.value(name)
            line = f"Stored {info.secret_type} secret '{info.name}' (environment {name})"
            if value is not None and value.certificate is not None:
                cert = value.certificate
                line += (
                    f": {visible(cert.subject_cn or cert.subject)}, valid until "
                    f"{cert.valid_until:%Y-%m-%d} ({cert.days_remaining(now)} days, "
                    f"{cert.status(now, thresholds)})"
                )
            elif value is not None and value.ca_bundle is not None:
                bundle = value.ca_bundle
                first = bundle.earliest
                line += (
                    f": CA bundle of {bundle.count} certificate{'' if bundle.count == 1 else 's'}"
                    f", first to expire {visible(first.label)} on {first.valid_until:%Y-%m-%d} "
                    f"({first.days_remaining(now)} days, {first.status(now, thresholds)})"
                )
            print(line)
    return 0


def _status_cell(info: SecretInfo, now: Any, thresholds: Any) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for value in info.values or ():
        cert = value.certificate
        if cert is not None:
            status = str(cert.status(now, thresholds))
            if cert.allowed_expired:
                status += " (allowed)"
            rows.append(
                (
                    info.name,
                    info.secret_type,
                    value.environment,
                    status,
                    str(cert.days_remaining(now)),
                    f"{cert.valid_until:%Y-%m-%d}",
                    cert.subject_cn or cert.subject,
                )
            )
        elif value.ca_bundle is not None:
            # A CA bundle: the status of its worst CA (the first to expire), like a certificate.
            bundle = value.ca_bundle
            worst = bundle.worst(now, thresholds)
            more = f" +{bundle.count - 1}" if bundle.count > 1 else ""
            rows.append(
                (
                    info.name,
                    info.secret_type,
                    value.environment,
                    str(worst.status(now, thresholds)),
                    str(worst.days_remaining(now)),
                    f"{worst.valid_until:%Y-%m-%d}",
                    f"CA bundle: {worst.label}{more}",
                )
            )
        else:
            what = value.details.get("token_url", "") if info.secret_type == "oauth2" else ""
            rows.append((info.name, info.secret_type, value.environment, "-", "", "", what))
    if not rows:
        rows.append((info.name, info.secret_type, "-", "-", "", "", ""))
    return rows


def run_list(args: argparse.Namespace) -> int:
    from knoxtui import clock
    from knoxtui.commands.common import emit_json, open_vault

    with open_vault(args) as vault:
        secrets = vault.list_secrets()
    now, thresholds = clock.now(), _thresholds()
    if args.json:
        emit_json([info.to_dict(now, thresholds) for info in secrets])
        return 0
    if not secrets:
        print(
            "The vault holds no secrets yet (knoxtui secret add NAME --type ...).", file=sys.stderr
        )
        return 0
    header = ("NAME", "TYPE", "ENV", "STATUS", "DAYS", "EXPIRES", "SUBJECT / DETAIL")
    rows: list[tuple[str, ...]] = [header]
    for info in secrets:
        rows.extend(_status_cell(info, now, thresholds))
    rows = [tuple(visible(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        print("  ".join([*cells, row[-1]]).rstrip())
    return 0


def run_show(args: argparse.Namespace) -> int:
    from knoxtui import clock
    from knoxtui.commands.common import emit_json, open_vault

    with open_vault(args) as vault:
        info = vault.get_secret(args.name)
        routes = vault.routes_using(args.name)
    now, thresholds = clock.now(), _thresholds()
    if args.json:
        emit_json(info.to_dict(now, thresholds))
        return 0
    print(f"{info.name}  ({info.secret_type})")
    print(f"  id           {info.id}")
    if info.description:
        print(f"  description  {visible(info.description)}")
    if info.status:
        print(f"  status       {info.status}")
    print(f"  created      {info.created_at:%Y-%m-%d %H:%M:%S} UTC")
    print(f"  used by      {', '.join(routes) if routes else '(no route)'}")
    for value in info.values:
        print(f"  environment {value.environment}:")
        bundle = value.ca_bundle
        for key, item in value.to_metadata_dict(now, thresholds).items():
            if item in (None, [], "") or (
                bundle is not None and key in ("certificates", "ca_bundle")
            ):
                continue
            shown = ", ".join(map(str, item)) if isinstance(item, list) else item
            print(f"    {key.ljust(24)} {visible(shown)}")
        if bundle is not None:
            for index, cert in enumerate(bundle.certificates, 1):
                print(
                    f"    CA {index}: {visible(cert.subject)}, valid until "
                    f"{cert.valid_until:%Y-%m-%d} ({cert.days_remaining(now)} days, "
                    f"{cert.status(now, thresholds)})"
                )
    return 0


def run_rm(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import emit_json, open_vault

    with open_vault(args) as vault:
        if args.env:
            vault.remove_value(args.name, args.env, force=args.force)
            message = f"Removed the '{args.env}' value of secret '{args.name}'."
        else:
            vault.remove_secret(args.name, force=args.force)
            message = f"Removed secret '{args.name}'."
    if args.json:
        emit_json({"removed": args.name, "environment": args.env})
    else:
        print(message)
    return 0


def run_import(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import open_vault, parse_json, read_input_file
    from knoxtui.errors import ValidationError
    from knoxtui.vault.knoxcall import import_items, parse_bodies

    raw = read_input_file(args.file, "JSON file")
    try:
        data = parse_json(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(
            f"'{args.file}' is not valid JSON ({_json_problem(exc)}).", code="invalid_import"
        ) from None
    items = parse_bodies(data, environment=args.env, name=args.name)
    with open_vault(args, create=True) as vault:
        stored = import_items(vault, items, allow_expired=args.allow_expired, replace=args.replace)
    if args.json:
        return _report_stored(stored, args, None)
    for item, info in zip(items, stored, strict=True):
        print(f"Imported {info.secret_type} secret '{info.name}' (environment {item.environment})")
    return 0


def run_passwd(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import open_vault, prompt_new_passphrase, read_secret_file
    from knoxtui.errors import UsageError

    if args.new_passphrase_file is not None:
        new = read_secret_file(args.new_passphrase_file, "new passphrase file")
        if not new:
            raise UsageError("The new passphrase file is empty; nothing was changed.")
    else:
        new = None
    # The old passphrase itself, not the agent's key: changing it needs knowing it.
    with open_vault(args, use_agent=False) as vault:
        if new is None:
            new = prompt_new_passphrase("New vault passphrase")
        vault.change_passphrase(new)
    from knoxtui.agent import client

    locked = client.lock(vault.path, "passwd")  # its key is the old one now
    print("The vault passphrase was changed.", file=sys.stderr)
    if locked:
        print(
            "The vault's agent was locked (start it again with the new passphrase).",
            file=sys.stderr,
        )
    return 0
