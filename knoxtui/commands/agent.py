"""`knoxtui agent start|status|stop` and `knoxtui lock`: unlock once per session.

The agent keeps only the vault's raw SQLCipher key, in memory, behind a 0600 Unix socket in a
0700 folder of the state directory, checked by peer uid; commands ask it before the passphrase.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

DEFAULT_IDLE_MINUTES = 15.0
MAX_IDLE_MINUTES = 24 * 60.0


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of minutes") from None
    if not 0 < value <= MAX_IDLE_MINUTES:
        raise argparse.ArgumentTypeError(
            f"idle minutes must be above 0 and at most {MAX_IDLE_MINUTES:.0f}"
        )
    return value


def register(sub: Any) -> None:
    from knoxtui.cli import add_vault_options

    agent = sub.add_parser(
        "agent",
        help="hold the vault key for this session (unlock once)",
        description="The agent derives the vault key once and hands it to later commands of "
        "the same user over a private Unix socket, so they skip the key derivation.",
    )
    actions = agent.add_subparsers(dest="agent_command", metavar="ACTION", required=True)
    start = actions.add_parser("start", help="unlock the vault once and keep its key in memory")
    start.add_argument(
        "--idle-minutes",
        type=_minutes,
        default=DEFAULT_IDLE_MINUTES,
        metavar="N",
        help=f"lock after N minutes without a command (default {DEFAULT_IDLE_MINUTES:.0f})",
    )
    start.add_argument("--json", action="store_true", help="print the agent's status as JSON")
    add_vault_options(start)
    start.set_defaults(handler=run_start)

    status = actions.add_parser("status", help="is an agent holding this vault's key?")
    status.add_argument("--json", action="store_true")
    add_vault_options(status)
    status.set_defaults(handler=run_status)

    stop = actions.add_parser("stop", help="wipe the key and stop this vault's agent")
    add_vault_options(stop)
    stop.set_defaults(handler=run_stop)

    lock = sub.add_parser("lock", help="lock the vault's agent (it forgets the key)")
    lock.add_argument("--all", action="store_true", help="lock the agents of every vault")
    add_vault_options(lock)
    lock.set_defaults(handler=run_lock)


def run_start(args: argparse.Namespace) -> int:
    from knoxtui.agent import client
    from knoxtui.agent.memory import disable_core_dumps
    from knoxtui.commands.common import emit_json, vault_passphrase, vault_path
    from knoxtui.errors import UsageError

    disable_core_dumps()  # before the passphrase is read: nothing of it in a core file
    path = vault_path(args)
    if not path.is_file():
        raise UsageError(
            f"There is no vault at '{_shown(path)}'.",
            hint="Create one first (knoxtui secret add ...), or pass --vault PATH.",
        )
    try:
        running = client.status(path)
    except client.AgentSocketRefused as exc:
        print(f"knoxtui: {_shown(exc.message)} A new agent replaces it.", file=sys.stderr)
        running = None
    if running is not None:
        if args.json:
            emit_json({"running": True, "started": False, **_public(running)})
        else:
            print(
                f"An agent already holds the key of '{_shown(running['vault'])}' "
                f"(pid {running['pid']}); nothing to do.",
                file=sys.stderr,
            )
        return 0
    from knoxtui.agent import server
    from knoxtui.vault import connection

    passphrase = vault_passphrase(args)
    key = connection.derive_raw_key(path, passphrase, None)
    del passphrase
    try:
        # A wrong passphrase is an error here, not a useless agent.
        connection.check_key(path, connection.RawKey(key))
    except BaseException:
        key[:] = bytes(len(key))
        raise
    pid = server.spawn(path, key, args.idle_minutes * 60.0)
    if args.json:
        emit_json({"running": True, "started": True, **_public(client.status(path) or {})})
    else:
        print(
            f"Agent started (pid {pid}) for '{_shown(path)}'. It locks after "
            f"{_fmt(args.idle_minutes)} idle minutes, on `knoxtui lock` and on `knoxtui passwd`.",
            file=sys.stderr,
        )
    return 0


def _shown(text: object) -> str:
    """Paths are user input: their control characters are shown, not sent to the terminal."""
    from knoxtui.safetext import visible

    return visible(str(text))


def _fmt(minutes: float) -> str:
    return f"{minutes:g}"


def _public(status: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in status.items() if key not in ("ok", "key")}


def run_status(args: argparse.Namespace) -> int:
    from knoxtui.agent import client
    from knoxtui.commands.common import emit_json, vault_path

    path = vault_path(args)
    found = client.status(path)
    if found is None:
        stale = client.stale_socket(path)
        if args.json:
            emit_json({"running": False, "vault": str(path), "stale_socket": stale})
        else:
            extra = " (a stale socket was left by an agent that died)" if stale else ""
            print(f"No agent holds the key of '{_shown(path)}'{extra}.", file=sys.stderr)
            print("  hint: knoxtui agent start", file=sys.stderr)
        return 1
    if args.json:
        emit_json({"running": True, **_public(found)})
        return 0
    print(f"Agent running (pid {found['pid']}) for '{_shown(found['vault'])}'")
    print(f"  started        {found['started_at']}")
    print(f"  keys served    {found['keys_served']} (key derivations skipped)")
    print(
        f"  locks in       {found['locks_in_seconds']:.0f} s idle "
        f"(after {_fmt(found['idle_minutes'])} idle minutes)"
    )
    print(f"  refused peers  {found['refused_peers']}")
    print(f"  locked memory  {'yes' if found['key_in_locked_memory'] else 'no (mlock refused)'}")
    print(f"  core dumps     {'disabled' if found['core_dumps_disabled'] else 'allowed'}")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    from knoxtui.agent import client
    from knoxtui.commands.common import vault_path

    path = vault_path(args)
    if client.lock(path, "stop"):
        print(f"The agent for '{_shown(path)}' wiped its key and stopped.", file=sys.stderr)
    else:
        print(f"No agent holds the key of '{_shown(path)}'.", file=sys.stderr)
    return 0


def run_lock(args: argparse.Namespace) -> int:
    from knoxtui.agent import client
    from knoxtui.commands.common import vault_path

    if args.all:
        count = sum(client.lock_socket(sock) for sock in client.all_sockets())
        print(f"Locked {count} agent{'s' if count != 1 else ''}.", file=sys.stderr)
        return 0
    path = vault_path(args)
    if client.lock(path):
        print(f"Locked: the agent for '{_shown(path)}' wiped its key.", file=sys.stderr)
    else:
        print(f"No agent holds the key of '{_shown(path)}'; nothing to lock.", file=sys.stderr)
    return 0
