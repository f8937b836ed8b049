"""Each command imports only what it uses (issue 12): checked in a fresh interpreter per command,
on a real vault, `sys.modules` inspected after the command ran (as test_architecture does for
the layers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from knoxtui.lab import LabServer

PASSPHRASE = "imports passphrase"
KDF = 64
RUN = (
    "import json, sys\n"
    "from knoxtui.vault import connection\n"
    f"connection.DEFAULT_KDF_ITER = {KDF}\n"
    "from knoxtui.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stdout.flush()\n"
    "loaded = sorted(sys.modules)\n"
    "sys.stderr.write('\\nMODULES ' + json.dumps({'code': code, 'loaded': loaded}) + '\\n')\n"
)
NETWORK = {"httpx", "httpcore", "h2", "h11", "anyio", "ssl", "OpenSSL"}
UI = {"textual", "rich"}


def _loaded(vault: Path, *args: str) -> tuple[int, set[str], set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", RUN, "--vault", str(vault), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**_env(), "KNOXTUI_VAULT_PASSPHRASE": PASSPHRASE},
        stdin=subprocess.DEVNULL,
    )
    line = done.stderr.rsplit("MODULES ", 1)[-1]
    data: dict[str, Any] = json.loads(line)
    modules = set(data["loaded"])
    return data["code"], {m.split(".")[0] for m in modules}, modules


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "KNOXTUI_VAULT_PASSPHRASE"}


@pytest.fixture(scope="module")
def lab_vault(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from knoxtui.pki import load_bundle
    from knoxtui.vault import Vault

    folder = tmp_path_factory.mktemp("imports")
    with LabServer(folder / "lab", behaviour="ok") as lab:
        files = lab.files
        path = folder / "vault.knox"
        with Vault.create(path, PASSPHRASE, kdf_iter=KDF) as vault:
            bundle = load_bundle(
                files.client_cert.read_bytes(), key_data=files.client_key.read_bytes()
            )
            vault.add_certificate("lab-cert", bundle)
            vault.add_string("lab-ca", files.ca_bundle.read_text())
            vault.save_route(
                "lab",
                {
                    "target_url": lab.url + "/accounts",
                    "certificate_secret_id": "lab-cert",
                    "ca_bundle_secret_id": "lab-ca",
                },
            )
        yield path


@pytest.mark.parametrize(
    "command",
    [
        ["secret", "list", "--json"],
        ["secret", "list"],
        ["check", "--json"],
        ["route", "list", "--json"],
        ["audit", "--json"],
    ],
    ids=lambda c: " ".join(c),
)
def test_listing_commands_load_no_network_and_no_ui(lab_vault: Path, command: list[str]) -> None:
    code, tops, modules = _loaded(lab_vault, *command)
    assert code in (0, 1)  # check exits 1 when something is expiring
    assert not tops & (NETWORK | UI), tops & (NETWORK | UI)
    assert not {m for m in modules if m.startswith(("knoxtui.net", "knoxtui.ui"))}


@pytest.mark.parametrize("command", [["secret", "list", "--json"], ["check", "--json"]])
def test_listing_does_not_parse_certificates(lab_vault: Path, command: list[str]) -> None:
    """Listing and the expiry report read the stored metadata columns; no certificate is parsed
    again (cryptography is not even imported)."""
    _, tops, modules = _loaded(lab_vault, *command)
    assert "cryptography" not in tops
    assert not {m for m in modules if m.startswith("knoxtui.pki.") and m != "knoxtui.pki.expiry"}


def test_test_command_loads_no_ui_and_no_pyopenssl_when_it_succeeds(lab_vault: Path) -> None:
    code, tops, _ = _loaded(lab_vault, "test", "lab", "--json")
    assert code == 0
    assert "httpx" in tops  # it did send the request
    assert not tops & UI
    assert "OpenSSL" not in tops  # the pyOpenSSL probe is for failures only


def test_parsing_alone_loads_no_layer(tmp_path: Path) -> None:
    """Building every subcommand's parser (what `knoxtui --help` does) loads no layer below."""
    code = (
        "import json, sys\n"
        "from knoxtui.cli import build_parser\n"
        "build_parser()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    ours = {m for m in json.loads(out) if m.startswith("knoxtui.")}
    layers = ("knoxtui.net", "knoxtui.vault", "knoxtui.pki", "knoxtui.routes", "knoxtui.ui")
    assert not {m for m in ours if m.startswith(layers)}, ours


def _registered(modules: tuple[str, ...]) -> dict[str, Any]:
    from knoxtui.cli import build_parser

    parser = build_parser(modules)
    action = next(a for a in parser._actions if a.dest == "command")
    return dict(action.choices)  # type: ignore[arg-type]


def test_the_command_table_matches_what_modules_register() -> None:
    """cli.COMMANDS_BY_MODULE lets a command line build only its module's parser; a module that
    registers a new command must be entered there (this test says which)."""
    from knoxtui.cli import COMMAND_MODULES, COMMANDS_BY_MODULE

    assert set(COMMANDS_BY_MODULE) == set(COMMAND_MODULES)
    for module in COMMAND_MODULES:
        names = set(_registered((module,))) - {"locate"}
        assert names == set(COMMANDS_BY_MODULE[module]), module


def test_a_command_line_parses_the_same_with_only_its_module() -> None:
    from knoxtui.cli import COMMAND_MODULES, command_modules

    full = _registered(COMMAND_MODULES)
    for name, parser in full.items():
        modules = command_modules(["--vault", "v.knox", name, "--json"])
        assert modules != COMMAND_MODULES or name == "locate", name
        alone = _registered(modules)
        assert alone[name].format_help() == parser.format_help(), name
        sub = [a for a in parser._actions if a.dest and a.dest.endswith("_command")]
        if sub:
            assert sorted(sub[0].choices) == sorted(  # type: ignore[arg-type]
                next(a for a in alone[name]._actions if a.dest == sub[0].dest).choices
            ), name
    assert command_modules(["--help"]) == COMMAND_MODULES
    assert command_modules(["no-such-command"]) == COMMAND_MODULES
    assert command_modules([]) == COMMAND_MODULES
