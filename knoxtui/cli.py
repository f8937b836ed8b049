"""The command line (DESIGN.md §4). Parsing is cheap: each area's module registers its
subcommands, and heavy imports (Textual, the vault driver, httpx) happen inside the handlers."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from knoxtui import __version__
from knoxtui.errors import KnoxError

# Each module has `register(subparsers)`; handlers are set with `parser.set_defaults(handler=...)`
# and take the parsed `argparse.Namespace`, returning an exit code.
COMMAND_MODULES = (
    "knoxtui.commands.inspect",
    "knoxtui.commands.secret",
    "knoxtui.commands.route",
    "knoxtui.commands.audit",
    "knoxtui.commands.request",
    "knoxtui.commands.lifecycle",
    "knoxtui.commands.agent",
    "knoxtui.commands.remote",
    "knoxtui.commands.app",
)


# The commands each module registers, so that a command line builds only its own module's parser
# (importing and building all of them costs more than some commands take). A test checks this
# table against what the modules really register.
COMMANDS_BY_MODULE = {
    "knoxtui.commands.inspect": ("inspect",),
    "knoxtui.commands.secret": ("passwd", "secret"),
    "knoxtui.commands.route": ("route",),
    "knoxtui.commands.audit": ("audit",),
    "knoxtui.commands.request": ("lab", "test"),
    "knoxtui.commands.lifecycle": ("check", "csr", "report", "retire", "rotate", "secret"),
    "knoxtui.commands.agent": ("agent", "lock"),
    "knoxtui.commands.remote": ("pull", "push", "remote"),
    "knoxtui.commands.app": ("demo",),
}
_GLOBAL_WITH_VALUE = ("--vault", "--vault-passphrase-file")


def command_modules(argv: Sequence[str] | None) -> tuple[str, ...]:
    """The modules to register for this command line: the named command's, or all of them
    (no command, help before it, or a name no table entry knows)."""
    words = list(sys.argv[1:] if argv is None else argv)
    index = 0
    while index < len(words):
        word = words[index]
        if word in _GLOBAL_WITH_VALUE:
            index += 2
            continue
        if word.startswith("--vault"):
            index += 1
            continue
        if word.startswith("-"):
            break  # --help, --version, or a mistake: the full parser answers
        wanted = tuple(m for m, names in COMMANDS_BY_MODULE.items() if word in names)
        if word == "locate" or wanted:
            return wanted
        break
    return COMMAND_MODULES


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep its message short and on stderr."""


def build_parser(modules: Sequence[str] = COMMAND_MODULES) -> argparse.ArgumentParser:
    import importlib

    parser = _Parser(
        prog="knoxtui",
        description="A keyboard-driven console for mutual-TLS APIs. No subcommand opens the TUI.",
    )
    parser.add_argument("--version", action="version", version=f"knoxtui {__version__}")
    add_vault_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    locate = sub.add_parser("locate", help="print every path knoxtui uses")
    locate.add_argument("--json", action="store_true", help="print JSON")
    locate.set_defaults(handler=_locate)
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def add_vault_options(parser: argparse.ArgumentParser) -> None:
    """Vault options, accepted before or after the subcommand."""
    parser.add_argument(
        "--vault",
        type=Path,
        default=argparse.SUPPRESS,
        help="vault file (default: $KNOXTUI_VAULT, else the platform data dir)",
    )
    parser.add_argument(
        "--vault-passphrase-file",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="F",
        help="read the vault passphrase from F, - for stdin (else a prompt, else "
        "$KNOXTUI_VAULT_PASSPHRASE)",
    )


# Domain hints name both ways ("--key F on the command line, or open the secret and press R in
# the console"); the command line says only its own.
_CONSOLE_PARTS = (
    (re.compile(r" on the command line, (?:or )?[^.;()]*? in the console"), ""),
    (re.compile(r", or the (?:passphrase|key file) field\)"), ")"),
    (re.compile(r", or paste both\)"), ")"),
)


def command_line_hint(hint: str) -> str:
    for pattern, replacement in _CONSOLE_PARTS:
        hint = pattern.sub(replacement, hint)
    return hint


def _locate(args: argparse.Namespace) -> int:
    from knoxtui import paths
    from knoxtui.commands.common import emit_json

    found = paths.locations(getattr(args, "vault", None))
    if args.json:
        emit_json({key: str(value) for key, value in found.items()})
    else:
        width = max(len(key) for key in found)
        for key, value in found.items():
            print(f"{key.ljust(width)}  {value}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    from knoxtui.process import disable_core_dumps

    # Before any secret is read: a crash must not write decrypted values to a core file.
    disable_core_dumps()
    parser = build_parser(command_modules(argv))
    args = parser.parse_args(argv)
    for name in ("vault", "vault_passphrase_file"):
        if not hasattr(args, name):
            setattr(args, name, None)
    anchor = sys.modules.get("knoxtui.vault.anchor")
    if anchor is not None:
        anchor.forget_written()  # in-process runs (tests): this command's writes only
    handler = getattr(args, "handler", None)
    if handler is None:
        from knoxtui.commands.app import open_tui

        handler = open_tui
    try:
        from knoxtui.commands.common import check_stdin_options

        check_stdin_options(args)
        return int(handler(args))
    except KnoxError as exc:
        from knoxtui.safetext import visible

        # Messages name files, subjects and user input: shown with their controls made visible.
        print(f"knoxtui: {visible(exc.message, multiline=True)}", file=sys.stderr)
        if exc.hint:
            hint = command_line_hint(exc.hint)
            print(f"  hint: {visible(hint, multiline=True)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("knoxtui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if os.environ.get("KNOXTUI_DEBUG"):
            raise
        # The message of an unexpected exception may carry data we must not print; name the type.
        print(
            f"knoxtui: internal error ({type(exc).__name__}). This is a bug; "
            "run again with KNOXTUI_DEBUG=1 for the traceback and report it.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
