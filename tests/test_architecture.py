"""DESIGN.md §1: the layers' import rules, checked in a fresh interpreter."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN_EVERYWHERE = {"textual", "rich"}


def _loaded_after_import(module: str) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out))


def _exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


HEADLESS = [
    "knoxtui.pki",
    "knoxtui.vault",
    "knoxtui.vault.cabundle",
    "knoxtui.net",
    "knoxtui.net.proxy",
    "knoxtui.net.cancel",
    "knoxtui.routes",
    "knoxtui.remote",
    "knoxtui.cli",
    "knoxtui.agent.client",
    "knoxtui.agent.server",
    "knoxtui.agent.warm",
    "knoxtui.agent.worker",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_layers_load_no_ui(module: str) -> None:
    if not _exists(module):
        pytest.skip(f"{module} is not built yet")
    loaded = _loaded_after_import(module)
    assert not (loaded & FORBIDDEN_EVERYWHERE), f"{module} pulls in {loaded & FORBIDDEN_EVERYWHERE}"


@pytest.mark.parametrize(
    "module", ["knoxtui.pki", "knoxtui.vault", "knoxtui.routes", "knoxtui.remote", "knoxtui.cli"]
)
def test_pyopenssl_only_where_needed(module: str) -> None:
    if not _exists(module):
        pytest.skip(f"{module} is not built yet")
    assert "OpenSSL" not in _loaded_after_import(module)


@pytest.mark.parametrize(
    "module",
    ["knoxtui.pki", "knoxtui.net", "knoxtui.routes", "knoxtui.agent.server", "knoxtui.agent.warm"],
)
def test_only_vault_touches_sqlcipher(module: str) -> None:
    if not _exists(module):
        pytest.skip(f"{module} is not built yet")
    assert "sqlcipher3" not in _loaded_after_import(module)


def test_net_never_imports_vault() -> None:
    if not _exists("knoxtui.net"):
        pytest.skip("knoxtui.net is not built yet")
    code = (
        "import importlib, sys\n"
        "importlib.import_module('knoxtui.net')\n"
        "print(sorted(m for m in sys.modules if m.startswith(('knoxtui.vault', 'knoxtui.ui'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"


def test_vault_never_imports_remote() -> None:
    """DESIGN §1: remote hands validated items to the vault; the sync state is plain columns."""
    code = (
        "import importlib, sys\n"
        "importlib.import_module('knoxtui.vault')\n"
        "print(sorted(m for m in sys.modules if m.startswith('knoxtui.remote')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"


def test_pki_imports_only_stdlib_cryptography_and_leaves() -> None:
    if not _exists("knoxtui.pki"):
        pytest.skip("knoxtui.pki is not built yet")
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import knoxtui.pki\n"
        "new = {m for m in set(sys.modules) - before}\n"
        "ours = sorted(m for m in new"
        " if m.startswith('knoxtui') and not m.startswith('knoxtui.pki'))\n"
        "third = sorted({m.split('.')[0] for m in new} - set(sys.stdlib_module_names)"
        " - {'knoxtui', 'cryptography', '_cffi_backend', 'cffi', '_openssl'})\n"
        "print(ours); print(third)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    allowed = {
        "knoxtui",
        "knoxtui.errors",
        "knoxtui.clock",
        "knoxtui.config",
        "knoxtui.paths",
        "knoxtui.refs",
        "knoxtui.safetext",
        "knoxtui.lazy",
    }
    assert set(eval(out[0])) <= allowed
    assert eval(out[1]) == []


def test_cli_parser_is_cheap() -> None:
    """Building the parser (every subcommand) must not import Textual, httpx or the vault driver."""
    code = (
        "import json, sys\n"
        "from knoxtui.cli import build_parser\n"
        "build_parser()\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert not set(json.loads(out)) & {"textual", "rich", "httpx", "sqlcipher3", "OpenSSL"}


@pytest.mark.parametrize("module", ["knoxtui.agent.client", "knoxtui.agent.warm"])
def test_agent_client_is_standard_library_only(module: str) -> None:
    """Every command imports the agent client before opening a vault, and the `knoxtui` entry
    (the warm worker's thin client) before deciding where to run: they must cost nothing."""
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        f"import {module}\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(new - set(sys.stdlib_module_names) - {'knoxtui'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "[]"


# The vault is a façade (vault.py) over parts that each own their rows; a part reaches another
# only through the façade (`self._vault.routes...`), never by importing it.
VAULT_PARTS = ("secrets", "routes", "pending", "audit", "requests", "remotes")
PACKAGE = Path(__file__).resolve().parents[1] / "knoxtui"


def _runtime_imports(path: Path) -> set[str]:
    """Modules a file imports when it runs (anything under `if TYPE_CHECKING:` left out)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) == "TYPE_CHECKING":
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                found.add(child.module)
                found.update(f"{child.module}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("part", VAULT_PARTS)
def test_vault_parts_meet_only_through_the_facade(part: str) -> None:
    imported = _runtime_imports(PACKAGE / "vault" / f"{part}.py")
    others = {f"knoxtui.vault.{p}" for p in (*VAULT_PARTS, "vault") if p != part}
    assert not imported & others, f"vault/{part}.py imports {sorted(imported & others)}"


@pytest.mark.parametrize("helper", ["columns", "changes"])
def test_vault_helpers_import_no_part(helper: str) -> None:
    """The parts share helpers (row layout, item digests); a helper never reaches back."""
    imported = _runtime_imports(PACKAGE / "vault" / f"{helper}.py")
    parts = {f"knoxtui.vault.{p}" for p in (*VAULT_PARTS, "vault")}
    assert not imported & parts, f"vault/{helper}.py imports {sorted(imported & parts)}"


def test_vault_facade_hands_out_every_part() -> None:
    imported = _runtime_imports(PACKAGE / "vault" / "vault.py")
    assert {f"knoxtui.vault.{p}" for p in VAULT_PARTS} <= imported


def test_one_lifecycle_dialog_per_module() -> None:
    """ui/screens/lifecycle/: the shared modal in base.py, then one dialog per module."""
    folder = PACKAGE / "ui" / "screens" / "lifecycle"
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modals = [
            node.name
            for node in tree.body
            if isinstance(node, ast.ClassDef)
            and any("Modal" in ast.unparse(base) for base in node.bases)
        ]
        assert len(modals) <= 1, f"{path.name} holds {modals}"
    assert not (PACKAGE / "ui" / "commands.py").exists()  # the palette lives in ui/palette.py
