"""`knoxtui route add NAME --config F.json [--replace] | list | show NAME | rm NAME`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from knoxtui.cli import add_vault_options


def register(sub: argparse._SubParsersAction) -> None:
    route = sub.add_parser("route", help="add, list, show and remove saved routes")
    actions = route.add_subparsers(dest="route_command", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="save a route from a JSON config",
        description="Save a route. Every {{secret:NAME}} and *_secret_id must name a secret "
        "in the vault; unknown names are listed and nothing is saved (exit 1).",
        epilog=KEYS_EPILOG,
        formatter_class=_KeysHelpFormatter,
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--config", type=Path, required=True, metavar="F.json")
    add.add_argument(
        "--target-url",
        metavar="URL",
        help="the route's target_url, for configs that leave it out (the guide's examples "
        "show only the advanced configuration); replaces one the config has",
    )
    add.add_argument("--replace", action="store_true", help="overwrite an existing route")
    add.add_argument("--json", action="store_true")
    add_vault_options(add)
    add.set_defaults(handler=run_add)

    listing = actions.add_parser("list", help="list routes")
    listing.add_argument("--json", action="store_true")
    add_vault_options(listing)
    listing.set_defaults(handler=run_list)

    show = actions.add_parser("show", help="show one route")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true")
    add_vault_options(show)
    show.set_defaults(handler=run_show)

    remove = actions.add_parser("rm", help="remove a route")
    remove.add_argument("name", metavar="NAME")
    remove.add_argument("--json", action="store_true")
    add_vault_options(remove)
    remove.set_defaults(handler=run_rm)


# The keys' help lives with the route model (knoxtui.routes, which loads the net layer): it is
# built only when `route add --help` is shown, never for parsing.
KEYS_EPILOG = "(route config keys)"


class _KeysHelpFormatter(argparse.RawDescriptionHelpFormatter):
    def add_text(self, text: str | None) -> None:
        super().add_text(_keys_epilog() if text is KEYS_EPILOG else text)


def _keys_epilog() -> str:
    from knoxtui.routes.route import KEY_HELP

    width = max(len(key) for key in KEY_HELP)
    lines = ["route config keys (a JSON object):"]
    lines += [f"  {key.ljust(width)}  {text}" for key, text in KEY_HELP.items()]
    lines.append(
        '\nexample: {"target_url": "https://api.bankxyz.com", "certificate_secret_id": '
        '"{{secret:bankxyz_client_cert}}", "headers": {"API-Key": "{{secret:bankxyz_api_key}}"}}'
    )
    return "\n".join(lines)


def run_add(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import emit_json, open_vault, parse_json, read_input_file
    from knoxtui.errors import ValidationError
    from knoxtui.vault.models import check_name

    check_name(args.name, "route")
    raw = read_input_file(args.config, "route config file")
    try:
        config = parse_json(raw)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"The route config '{args.config}' is not valid JSON ({exc.msg} at line "
            f"{exc.lineno}, column {exc.colno}).",
            code="invalid_route",
        ) from None
    except UnicodeDecodeError:
        raise ValidationError(f"The route config '{args.config}' is not UTF-8.") from None
    from knoxtui.routes.route import Route

    if args.target_url is not None and isinstance(config, dict):
        config["target_url"] = args.target_url
    # the route model's checks (unknown keys, secret fields) before the vault's reference checks
    Route.from_config(args.name, config)
    with open_vault(args) as vault:
        record = vault.save_route(args.name, config, replace=args.replace)
    if args.json:
        emit_json(_shown(record.to_dict()))
    else:
        refs = ", ".join(record.references) or "none"
        print(f"Saved route '{record.name}' (secrets used: {refs}).")
    _warn_insecure(record.config)
    return 0


def _warn_insecure(config: object) -> None:
    import sys

    if isinstance(config, dict) and config.get("tls_reject_unauthorized") is False:
        print(
            "knoxtui: warning: tls_reject_unauthorized is false: the server certificate is "
            "NOT verified on this route.",
            file=sys.stderr,
        )
    if _literal_proxy_password(config):
        print(
            "knoxtui: warning: the proxy password is written in the route (shown as ***); store "
            "it as a string secret and write http://user:{{secret:NAME}}@host:port instead.",
            file=sys.stderr,
        )
    if isinstance(config, dict) and _plaintext(config):
        print(
            "knoxtui: warning: the target is plain http://: nothing on this route is encrypted.",
            file=sys.stderr,
        )


def _literal_proxy_password(config: object) -> bool:
    from urllib.parse import urlsplit

    from knoxtui import refs

    proxy = config.get("proxy") if isinstance(config, dict) else None
    if not isinstance(proxy, str):
        return False
    password = urlsplit(proxy).password
    return bool(password) and refs.SECRET_REF.search(proxy.rpartition("@")[0]) is None


def _shown(config: dict[str, object]) -> dict[str, object]:
    """The config as shown: a proxy password written literally appears as *** (the user's
    {{secret:NAME}} form is shown as written)."""
    if not _literal_proxy_password(config):
        return config
    from knoxtui.net.proxy import redact

    return {**config, "proxy": redact(str(config["proxy"]))}


def _plaintext(config: object) -> bool:
    from knoxtui.routes.route import plaintext_config

    return plaintext_config(config)


def run_list(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import emit_json, open_vault

    with open_vault(args) as vault:
        routes = vault.list_routes()
    if args.json:
        emit_json([_shown(record.to_dict()) for record in routes])
        return 0
    if not routes:
        import sys

        print("No routes yet (knoxtui route add NAME --config F.json).", file=sys.stderr)
        return 0
    rows = [("NAME", "TARGET", "SECRETS")]
    for record in routes:
        from knoxtui.safetext import visible

        target = visible(record.config.get("target_url", "(per environment)"))
        flag = (
            "  [TLS NOT VERIFIED]" if record.config.get("tls_reject_unauthorized") is False else ""
        ) + ("  [PLAINTEXT]" if _plaintext(record.config) else "")
        rows.append((record.name, target + flag, ", ".join(record.references)))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        print(f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2]}".rstrip())
    return 0


def run_show(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import emit_json, open_vault

    with open_vault(args) as vault:
        record = vault.get_route(args.name)
    if args.json:
        emit_json(_shown(record.to_dict()))
        return 0
    print(f"{record.name}  (id {record.id})")
    print(json.dumps(_shown(dict(record.config)), indent=2, sort_keys=True))
    _warn_insecure(record.config)
    return 0


def run_rm(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import emit_json, open_vault

    with open_vault(args) as vault:
        vault.remove_route(args.name)
    if args.json:
        emit_json({"removed": args.name})
    else:
        print(f"Removed route '{args.name}'.")
    return 0
