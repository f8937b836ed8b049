"""`knoxtui remote add|list|rm|status`, `knoxtui push` and `knoxtui pull` (issue 13).

Credentials are read from files (or BAO_TOKEN / VAULT_TOKEN at use) and stored encrypted in the
vault; no token, secret-id or value is ever printed. Names from the server pass `visible()`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knoxtui.cli import add_vault_options

if TYPE_CHECKING:
    from knoxtui.remote.sync import Outcome
    from knoxtui.vault import Vault
    from knoxtui.vault.remotes import RemoteRecord


def register(sub: argparse._SubParsersAction) -> None:
    remote = sub.add_parser(
        "remote", help="OpenBao / HashiCorp Vault servers the team shares secrets through"
    )
    actions = remote.add_subparsers(dest="remote_command", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="add a remote (credentials are stored encrypted in the vault)",
        description="Add a remote. --url defaults to BAO_ADDR / VAULT_ADDR; with token auth and "
        "no --token-file, BAO_TOKEN / VAULT_TOKEN is read at each use and never stored.",
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--url", metavar="URL", help="server address (default: $BAO_ADDR/$VAULT_ADDR)")
    add.add_argument("--kv-mount", default="secret", metavar="MOUNT", help="KV v2 mount (secret)")
    add.add_argument("--prefix", default="knoxtui", metavar="P", help="path prefix (knoxtui)")
    add.add_argument("--namespace", metavar="NS", help="Vault Enterprise / OpenBao namespace")
    add.add_argument("--auth", choices=("token", "approle", "cert"), default="token")
    add.add_argument("--token-file", type=Path, metavar="F", help="read the token from F")
    add.add_argument("--role-id", metavar="ID", help="AppRole role-id")
    add.add_argument("--secret-id-file", type=Path, metavar="F", help="AppRole secret-id from F")
    add.add_argument(
        "--cert-secret", metavar="SECRET", help="certificate secret for --auth cert (mTLS)"
    )
    add.add_argument(
        "--ca-bundle-secret", metavar="SECRET", help="string secret with the server's CA (PEM)"
    )
    add.add_argument("--pki-mount", default="pki", metavar="MOUNT", help="PKI mount (pki)")
    add.add_argument(
        "--auth-mount", metavar="MOUNT", help="auth mount path (default: approle or cert)"
    )
    add.add_argument(
        "--allow-plaintext",
        action="store_true",
        help="allow an http:// server that is not on this machine (tokens travel unencrypted)",
    )
    add.add_argument("--replace", action="store_true", help="replace a remote of that name")
    add_vault_options(add)
    add.set_defaults(handler=run_add)

    listing = actions.add_parser("list", help="list remotes")
    listing.add_argument("--json", action="store_true")
    add_vault_options(listing)
    listing.set_defaults(handler=run_list)

    remove = actions.add_parser("rm", help="remove a remote, its credentials and sync marks")
    remove.add_argument("name", metavar="NAME")
    add_vault_options(remove)
    remove.set_defaults(handler=run_rm)

    state = actions.add_parser(
        "status",
        help="per item: in_sync, local_ahead, upstream_ahead, conflict, local_only, upstream_only",
        description="Compare the vault with a remote. Exit 2 when the remote is unreachable.",
    )
    state.add_argument("name", metavar="NAME", nargs="?", help="remote (default: the only one)")
    state.add_argument("--json", action="store_true")
    add_vault_options(state)
    state.set_defaults(handler=run_status)

    for verb, text in (
        ("push", "write items to the remote with check-and-set"),
        ("pull", "read items from the remote, validated like an import"),
    ):
        parser = sub.add_parser(verb, help=text)
        parser.add_argument("items", metavar="ITEM", nargs="*", help="secret or route names")
        parser.add_argument(
            "--all",
            action="store_true",
            help="every item that changed"
            + (" here" if verb == "push" else " upstream")
            + " since the last sync",
        )
        parser.add_argument("--remote", metavar="NAME", help="remote (default: the only one)")
        if verb == "pull":
            parser.add_argument(
                "--theirs", action="store_true", help="in a conflict, keep the remote's copy"
            )
        else:
            parser.add_argument(
                "--ours",
                action="store_true",
                help="in a conflict, write your copy over the remote's current version "
                "(named items only; a write by someone else meanwhile is still refused)",
            )
        parser.add_argument("--json", action="store_true")
        add_vault_options(parser)
        parser.set_defaults(handler=run_push if verb == "push" else run_pull)


# ---------------------------------------------------------------------- remotes


def run_add(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import open_vault, read_secret_file
    from knoxtui.errors import UsageError, ValidationError
    from knoxtui.remote.client import check_path_part, check_url
    from knoxtui.remote.session import NAMESPACE_VARIABLES, default_url, env_first
    from knoxtui.safetext import visible
    from knoxtui.vault.models import check_name
    from knoxtui.vault.remotes import RemoteCredentials, RemoteRecord

    check_name(args.name, "remote")
    url = args.url or default_url()
    if not url:
        raise UsageError(
            "The address of the secrets server is needed.",
            hint="Give --url https://bao.example:8200, or set BAO_ADDR / VAULT_ADDR.",
        )
    url = check_url(url)
    if not args.allow_plaintext and not _local_or_tls(url):
        raise UsageError(
            f"The remote URL {visible(url)} is plain http to another machine: the token and every "
            "secret would travel unencrypted; nothing was stored.",
            hint="Use the server's https:// address, or --allow-plaintext if you must.",
        )
    token = role_id = secret_id = None
    if args.auth == "token":
        _refuse(args, ("role_id", "secret_id_file"), "--auth token")
        if args.token_file:
            token = read_secret_file(args.token_file, "token file")
            if not token:
                raise UsageError(f"The token file '{args.token_file}' is empty.")
    elif args.auth == "approle":
        _refuse(args, ("token_file",), "--auth approle")
        if not args.role_id or not args.secret_id_file:
            raise UsageError(
                "AppRole needs --role-id ID and --secret-id-file F.",
                hint="The secret-id is read from the file and stored encrypted in the vault.",
            )
        role_id = args.role_id
        secret_id = read_secret_file(args.secret_id_file, "secret-id file")
        if not secret_id:
            raise UsageError(f"The secret-id file '{args.secret_id_file}' is empty.")
    else:
        _refuse(args, ("token_file", "role_id", "secret_id_file"), "--auth cert")
        if not args.cert_secret:
            raise UsageError(
                "--auth cert logs in with a certificate secret of the vault: give --cert-secret.",
            )
    if args.cert_secret and urlsplit_scheme(url) != "https":
        raise UsageError("A client certificate needs an https:// server URL.")
    record = RemoteRecord(
        name=args.name,
        url=url,
        kv_mount=check_path_part(args.kv_mount, "KV mount"),
        prefix=check_path_part(args.prefix, "prefix"),
        namespace=args.namespace or env_first(NAMESPACE_VARIABLES),
        auth=args.auth,
        cert_secret=args.cert_secret,
        ca_bundle_secret=args.ca_bundle_secret,
        pki_mount=check_path_part(args.pki_mount, "PKI mount"),
        auth_mount=check_path_part(args.auth_mount, "auth mount") if args.auth_mount else None,
    )
    with open_vault(args, create=True) as vault:
        for name, kind in ((args.cert_secret, "certificate"), (args.ca_bundle_secret, "string")):
            if name and vault.get_secret(name).secret_type != kind:
                raise ValidationError(
                    f"'{name}' must be a {kind} secret for this remote.", code="wrong_secret_type"
                )
        vault.remotes.add(
            record,
            RemoteCredentials(token=token, role_id=role_id, secret_id=secret_id),
            replace=args.replace,
        )
    source = ""
    if args.auth == "token" and not token:
        source = " (token: BAO_TOKEN / VAULT_TOKEN at each use)"
    print(f"Added remote '{args.name}' at {visible(url)}, auth {args.auth}{source}.")
    return 0


def _local_or_tls(url: str) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def urlsplit_scheme(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).scheme


def _refuse(args: argparse.Namespace, names: tuple[str, ...], where: str) -> None:
    from knoxtui.errors import UsageError

    given = ["--" + n.replace("_", "-") for n in names if getattr(args, n, None)]
    if given:
        raise UsageError(f"{', '.join(given)} does not go with {where}.")


def run_list(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import emit_json, open_vault
    from knoxtui.safetext import visible

    with open_vault(args) as vault:
        remotes = vault.remotes.all()
    if args.json:
        emit_json([r.to_dict() for r in remotes])
        return 0
    if not remotes:
        print("No remotes. Add one: knoxtui remote add NAME --url URL", file=sys.stderr)
    for r in remotes:
        print(
            f"{r.name}  {visible(r.url)}  {r.kv_mount}/{r.prefix}  auth {r.auth}"
            + (f"  namespace {visible(r.namespace)}" if r.namespace else "")
        )
    return 0


def run_rm(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import open_vault

    with open_vault(args) as vault:
        vault.remotes.remove(args.name)
    print(f"Removed remote '{args.name}' (the server was not touched).")
    return 0


def pick_remote(vault: Vault, name: str | None) -> RemoteRecord:
    from knoxtui.errors import UsageError

    if name:
        return vault.remotes.get(name)
    remotes = vault.remotes.all()
    if len(remotes) == 1:
        return remotes[0]
    if not remotes:
        raise UsageError(
            "This vault has no remote.", hint="Add one: knoxtui remote add NAME --url URL"
        )
    raise UsageError(
        "This vault has several remotes: " + ", ".join(r.name for r in remotes) + ".",
        hint="Choose one with --remote NAME.",
    )


def run_status(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import emit_json, open_vault
    from knoxtui.remote import session, sync
    from knoxtui.remote.errors import RemoteUnreachable

    with open_vault(args) as vault:
        remote = pick_remote(vault, args.name)
        try:
            with session.connect(vault, remote) as client:
                items = sync.status(vault, remote, client)
        except RemoteUnreachable as exc:
            exc.message = f"{exc.message} Status unknown: remote '{remote.name}' is unreachable."
            raise
    if args.json:
        emit_json([item.to_dict() for item in items])
        return 0
    if not items:
        print(f"Nothing here or on remote '{remote.name}' yet.", file=sys.stderr)
    width = max((len(i.name) for i in items), default=4)
    for item in items:
        versions = f"local v{item.local_version or '-'}  upstream v{item.upstream_version or '-'}"
        print(f"{item.kind:<6}  {_shown(item.name).ljust(width)}  {item.state:<14}  {versions}")
    return 0


def _shown(name: str) -> str:
    from knoxtui.safetext import visible

    return visible(name)


# ---------------------------------------------------------------------- push / pull


def _items(args: argparse.Namespace) -> list[str] | None:
    from knoxtui.errors import UsageError

    if args.all and args.items:
        raise UsageError("Give item names or --all, not both.")
    if not args.all and not args.items:
        raise UsageError(
            f"Name the secrets and routes to {args.command}, or give --all.",
            hint=f"knoxtui {args.command} NAME ... | knoxtui {args.command} --all",
        )
    return None if args.all else list(dict.fromkeys(args.items))


def run_push(args: argparse.Namespace) -> int:
    return _sync(args, "push")


def run_pull(args: argparse.Namespace) -> int:
    return _sync(args, "pull")


def _sync(args: argparse.Namespace, verb: str) -> int:
    from knoxtui.commands.common import emit_json, open_vault
    from knoxtui.errors import UsageError
    from knoxtui.remote import session, sync

    items = _items(args)
    ours = verb == "push" and args.ours
    if ours and items is None:
        raise UsageError(
            "--ours overwrites the remote's copy: name the items, not --all.",
            hint="knoxtui remote status shows which items are in conflict.",
        )
    with open_vault(args) as vault:
        remote = pick_remote(vault, args.remote)
        with session.connect(vault, remote) as client:
            if verb == "push":
                outcomes = sync.push(vault, remote, client, items, ours=ours)
            else:
                outcomes = sync.pull(vault, remote, client, items, theirs=args.theirs)
    refused = [o for o in outcomes if o.refused]
    if args.json:
        emit_json([o.to_dict() for o in outcomes])
    else:
        _print_outcomes(outcomes, remote.name, verb)
    for outcome in refused:
        print(f"knoxtui: {_text(outcome.message)}", file=sys.stderr)
        if outcome.hint:
            print(f"  hint: {_text(outcome.hint)}", file=sys.stderr)
    return 1 if refused else 0


def _text(value: Any) -> str:
    from knoxtui.safetext import visible

    return visible(value or "")


def _print_outcomes(outcomes: list[Outcome], remote: str, verb: str) -> None:
    done = [o for o in outcomes if o.action in ("pushed", "pulled")]
    for o in outcomes:
        if o.action in ("pushed", "pulled", "unchanged"):
            print(f"{o.action:<9}  {o.kind:<6}  {_shown(o.name)}  v{o.version}")
    if not outcomes:
        print(f"Nothing to {verb}: remote '{remote}' and this vault agree.", file=sys.stderr)
    elif done and len(done) > 20:
        print(f"{len(done)} item(s) {done[0].action}.", file=sys.stderr)


# ---------------------------------------------------------------------- PKI


def csr_sign(args: argparse.Namespace) -> Any:
    """`knoxtui csr sign NAME --remote R --role ROLE`: the AttachResult of the signed cert."""
    from knoxtui.commands.common import open_vault
    from knoxtui.remote import pki

    with open_vault(args) as vault:
        remote = pick_remote(vault, args.remote)
        result, signed = pki.sign_and_attach(
            vault,
            remote,
            args.name,
            args.role,
            args.ttl,
            secret_name=args.secret,
            environment=args.env,
        )
    print(
        f"Signed by remote '{remote.name}' ({remote.pki_mount}, role {_shown(args.role)}), "
        f"serial {signed.serial}.",
        file=sys.stderr,
    )
    return result


def revoke_issued(vault: Vault, name: str) -> None:
    """`retire NAME --revoke`: revoke every remotely signed certificate of NAME on its remote;
    any failure stops before the secret is removed."""
    from knoxtui.remote import pki, session

    records = pki.issued_records(vault, name)
    for remote_name in dict.fromkeys(r.remote_name for r in records):
        remote = vault.remotes.get(remote_name)
        with session.connect(vault, remote) as client:
            for record in (r for r in records if r.remote_name == remote_name):
                pki.revoke(client, record)
                vault.remotes.mark_revoked(remote.name, record.serial, name)
                print(
                    f"Revoked serial {record.serial} on remote '{remote.name}' "
                    f"({record.pki_mount}).",
                    file=sys.stderr,
                )
