"""Shared fixtures: every test runs with its own KNOXTUI_HOME and no vault passphrase from the
caller's environment; the clock is frozen where a test asks for `frozen_now`."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from knoxtui import clock

# The fixed "now" of the test suite: certificates in tests/data and snapshots are dated from it.
TEST_NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    home = tmp_path_factory.mktemp("knoxhome")
    monkeypatch.setenv("KNOXTUI_HOME", str(home))
    for name in ("KNOXTUI_VAULT", "KNOXTUI_VAULT_PASSPHRASE", "KNOXTUI_NOW", "KNOXTUI_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def frozen_now() -> Iterator[datetime]:
    with clock.frozen(TEST_NOW) as moment:
        yield moment


_real_getaddrinfo = socket.getaddrinfo
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _is_loopback(host: Any) -> bool:
    if host is None:
        return True
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    name = name.strip("[]").lower()
    if name in ("", "0.0.0.0", "::") or name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def _loopback_only_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _is_loopback(host):
        # Answered here, so no query ever leaves the machine (the resolver is not on loopback).
        raise socket.gaierror(socket.EAI_NONAME, f"tests resolve loopback names only, not {host}")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every in-process connection of the suite goes to 127.0.0.1 / ::1: a name or address
    outside loopback fails as an unknown host instead of reaching the network."""
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only_getaddrinfo)


_PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
)


@pytest.fixture(autouse=True)
def no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests read HTTPS_PROXY/ALL_PROXY/NO_PROXY as curl does: a proxy set on the machine
    running the suite must not reroute the tests' loopback requests (proxy tests set their own)."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
