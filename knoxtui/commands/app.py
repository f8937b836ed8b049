"""`knoxtui` (no subcommand) and `knoxtui demo`: open the TUI. Textual is imported only here."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="open the TUI on a demo vault, with a local mTLS lab")
    demo.set_defaults(handler=open_demo)


def open_tui(args: argparse.Namespace) -> int:
    from knoxtui.commands.common import vault_path
    from knoxtui.ui.app import make_app

    make_app(vault_path=vault_path(args)).run()
    return 0


def open_demo(args: argparse.Namespace) -> int:
    from knoxtui.ui.app import make_demo_app

    make_demo_app().run()
    return 0
