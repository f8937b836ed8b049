"""Asking a vault's agent for its key (or its status, or to lock). Standard library only: every
command that opens a vault imports this before anything else.

A socket is trusted only when it is ours: the folder 0700 and the socket 0600, both owned by this
user, and the process listening on it running as this user (SO_PEERCRED). Anything else is
refused with `AgentSocketRefused`, and the caller falls back to the passphrase.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import struct
from pathlib import Path
from typing import Any

from knoxtui.agent import location
from knoxtui.errors import UsageError

TIMEOUT_SECONDS = 3.0  # well above the agent's own per-request limit
MAX_REPLY = 64 * 1024
HAS_PEERCRED = hasattr(socket, "SO_PEERCRED")


class AgentSocketRefused(UsageError):
    """The socket at the agent's address is not one this user's agent made."""

    code = "agent_socket_refused"


class AgentUnavailable(UsageError):
    code = "agent_unavailable"


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a connected Unix socket (Linux)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return int(uid)


def _check_owner(path: Path, what: str, expected_mode: int) -> None:
    info = os.lstat(path)
    uid = os.getuid()
    kind_ok = stat.S_ISSOCK(info.st_mode) if what == "socket" else stat.S_ISDIR(info.st_mode)
    hint = "Stop using it: run `knoxtui agent start` to make a new agent of your own."
    if not kind_ok:
        raise AgentSocketRefused(
            f"The agent {what} '{path}' is not a {what}; it was ignored.", hint=hint
        )
    if info.st_uid != uid:
        raise AgentSocketRefused(
            f"The agent {what} '{path}' belongs to uid {info.st_uid}, not to you (uid {uid}); "
            "it was ignored.",
            hint=hint,
        )
    if stat.S_IMODE(info.st_mode) & ~expected_mode:
        raise AgentSocketRefused(
            f"The agent {what} '{path}' is open to others "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); it was ignored.",
            hint=hint,
        )


def connect(vault_path: Path) -> socket.socket | None:
    """A connection to this vault's agent, checked; None when no agent listens (no socket, or a
    stale one left by an agent that was killed)."""
    return connect_socket(location.socket_path(vault_path))


def connect_socket(path: Path) -> socket.socket | None:
    if not HAS_PEERCRED:
        return None  # without peer credentials we cannot tell our agent from anyone's
    try:
        _check_owner(path.parent, "folder", 0o700)
        _check_owner(path, "socket", 0o600)
    except FileNotFoundError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(TIMEOUT_SECONDS)
        with location.sockaddr(path) as address:
            sock.connect(address)
        uid = peer_uid(sock)
        if uid != os.getuid():
            raise AgentSocketRefused(
                f"The process listening on '{path}' runs as uid {uid}, not as you "
                f"(uid {os.getuid()}); it was ignored.",
                hint="Run `knoxtui agent start` to make a new agent of your own.",
            )
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
            return None  # stale: the agent died without removing its socket
        raise AgentUnavailable(
            f"The agent at '{path}' did not answer ({exc.strerror or exc}).",
            hint="Stop it with `knoxtui agent stop`, or start a new one.",
        ) from None
    except BaseException:
        sock.close()
        raise
    return sock


def ask(vault_path: Path, request: dict[str, Any]) -> dict[str, Any] | None:
    """One request, one reply; None when no agent runs for this vault."""
    return ask_socket(location.socket_path(vault_path), request)


def ask_socket(path: Path, request: dict[str, Any]) -> dict[str, Any] | None:
    sock = connect_socket(path)
    if sock is None:
        return None
    with sock:
        try:
            sock.sendall(json.dumps(request).encode() + b"\n")
            chunks: list[bytes] = []
            size = 0
            while size < MAX_REPLY:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if chunk.endswith(b"\n"):
                    break
        except OSError as exc:
            raise AgentUnavailable(
                f"The agent for this vault did not answer ({exc.strerror or exc}).",
                hint="Stop it with `knoxtui agent stop`, or start a new one.",
            ) from None
    raw = b"".join(chunks)
    if not raw:
        return None  # it locked itself while we asked
    try:
        reply = json.loads(raw)
    except ValueError:
        raise AgentUnavailable("The agent for this vault gave an unreadable answer.") from None
    return reply if isinstance(reply, dict) else None


def fetch_key(vault_path: Path) -> bytearray | None:
    """The vault's raw key from its agent, or None (no agent, locked, another vault's agent)."""
    vault = location.vault_id(vault_path)
    reply = ask(vault_path, {"op": "key", "vault": vault})
    if not reply or not reply.get("ok") or reply.get("vault") != vault:
        return None
    try:
        key = bytearray.fromhex(str(reply.get("key", "")))
    except ValueError:
        return None
    return key if len(key) == 32 else None


def status(vault_path: Path) -> dict[str, Any] | None:
    reply = ask(vault_path, {"op": "status"})
    return reply if reply and reply.get("ok") else None


def lock(vault_path: Path, reason: str = "lock") -> bool:
    """Tell this vault's agent to drop its key and exit; True when one did."""
    return lock_socket(location.socket_path(vault_path), reason)


def lock_socket(path: Path, reason: str = "lock") -> bool:
    try:
        reply = ask_socket(path, {"op": "lock", "reason": reason})
    except (AgentSocketRefused, AgentUnavailable):
        return False
    return bool(reply and reply.get("ok"))


def all_sockets() -> list[Path]:
    folder = location.agent_dir()
    try:
        return sorted(folder.glob("*.sock"))
    except OSError:
        return []


def stale_socket(vault_path: Path) -> bool:
    """A socket is left where no agent listens (the agent was killed)."""
    if not location.socket_path(vault_path).exists():
        return False
    try:
        sock = connect(vault_path)
    except (AgentSocketRefused, AgentUnavailable):
        return False
    if sock is None:
        return True
    sock.close()
    return False
