"""Where a vault's agent listens: one socket per vault, named from a hash of its resolved path,
in a 0700 folder under the state directory."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from knoxtui import paths

# sockaddr_un holds 108 bytes on Linux; longer paths are reached through the folder's descriptor.
MAX_SOCKET_PATH = 100


def vault_id(vault_path: Path) -> str:
    """The vault as the agent knows it: its absolute, resolved path."""
    return str(Path(vault_path).expanduser().resolve())


def agent_dir() -> Path:
    return paths.state_dir() / "agent"


def socket_path(vault_path: Path) -> Path:
    digest = hashlib.sha256(vault_id(vault_path).encode("utf-8", "surrogateescape")).hexdigest()
    return agent_dir() / f"{digest[:24]}.sock"


@contextlib.contextmanager
def sockaddr(path: Path) -> Iterator[str]:
    """An address for bind/connect: the path itself, or /proc/self/fd/N/NAME when it is too long
    for a Unix socket address."""
    text = str(path)
    if len(text.encode("utf-8", "surrogateescape")) <= MAX_SOCKET_PATH:
        yield text
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)
